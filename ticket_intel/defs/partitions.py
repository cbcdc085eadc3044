"""The one weekly partitions definition every time-dependent asset shares (Monday, UTC), and the
decorator that gives each weekly asset the same partitioning, backfill policy and pool."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import dagster as dg
import duckdb

from ticket_intel import settings
from ticket_intel import warehouse as wh

# Both shape the graph (which partitions exist, which upstream weeks a week depends on), so they
# are read when definitions load, through the same settings as everything else.
START = settings.value("TICKET_INTEL_PARTITIONS_START")
WINDOW_WEEKS = settings.number("TICKET_INTEL_WINDOW_WEEKS")

weekly = dg.WeeklyPartitionsDefinition(start_date=START, day_offset=1, timezone="UTC")
POOL = "duckdb"  # every asset that writes the warehouse; dagster.yaml admits one run holding it at a time


def weekly_asset(*, group_name: str, description: str, kinds: set[str] | None = None, **kwargs: Any) -> Callable:
    """A weekly-partitioned asset that writes the warehouse: a range runs as one process (model and
    numba start-up are paid once) and every writer shares the `duckdb` pool (one writer at a time)."""
    return dg.asset(
        partitions_def=weekly,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=POOL,
        group_name=group_name,
        kinds=kinds or {"duckdb", "python"},
        description=description,
        **kwargs,
    )


def weeks_of(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[date]:
    """The Monday of every week in the run's partition range, oldest first."""
    window = context.partition_time_window
    weeks, day = [], window.start.date()
    while day < window.end.date():
        weeks.append(day)
        day += timedelta(weeks=1)
    return weeks


def weeks_with_tickets(context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection, announce: bool = False
                       ) -> list[date]:
    """The run's weeks that hold tickets: a week without any has nothing to cluster, rank or report
    (its neighbours' windows and baselines skip it as a week without data)."""
    weeks = weeks_of(context)
    active = wh.weeks_with_tickets(con, weeks)
    if announce and len(active) < len(weeks):
        context.log.info(f"skipped {len(weeks) - len(active)} of {len(weeks)} weeks: no tickets")
    return active


def week_key(week: date) -> str:
    return week.isoformat()


def week_facts(context: dg.AssetExecutionContext, week: date, facts: dict[str, Any]) -> None:
    """Put `facts` on `week`'s materialization alone. A step over a range of weeks materializes each
    week with the one result it returns, so a week's own counts and preview would otherwise show
    the run's totals or its last week (an alert's link to its week's report opened another week)."""
    context.add_asset_metadata(facts, partition_key=week_key(week))
