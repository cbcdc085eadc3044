"""The one weekly partitions definition every time-dependent asset shares (Monday, UTC)."""

import os
from datetime import date, timedelta

import dagster as dg

# Early enough for years of history; set TICKET_INTEL_PARTITIONS_START for older exports.
START = os.environ.get("TICKET_INTEL_PARTITIONS_START", "2015-01-05")

# Weeks of history each clustering run sees; it shapes the graph (which upstream partitions a
# week depends on), so it is read when definitions load.
WINDOW_WEEKS = int(os.environ.get("TICKET_INTEL_WINDOW_WEEKS", "8"))

weekly = dg.WeeklyPartitionsDefinition(start_date=START, day_offset=1, timezone="UTC")


def weeks_of(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[date]:
    """The Monday of every week in the run's partition range, oldest first."""
    window = context.partition_time_window
    weeks, day = [], window.start.date()
    while day < window.end.date():
        weeks.append(day)
        day += timedelta(weeks=1)
    return weeks


def week_key(week: date) -> str:
    return week.isoformat()
