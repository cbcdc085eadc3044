"""Volume spikes and new patterns, as plain statistics on weekly theme counts.

A spike needs all of: a count of at least `min_count`, at least `min_ratio` times the mean of
the previous `baseline_weeks` weeks, and a Poisson upper-tail probability of that count under
the baseline below `max_p_value`. Ratio alone alerts on tiny themes (1 -> 3); the p-value
alone alerts on big themes moving by a few percent; together they flag what a person would
call a spike. A new pattern is a theme id born this week (not a split of an older theme)
with enough tickets from enough distinct customers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from scipy.stats import poisson

SPIKE = "volume_spike"
NEW_PATTERN = "new_pattern"


@dataclass(frozen=True)
class AlertSettings:
    min_ratio: float = 2.0
    max_p_value: float = 0.01
    min_count: int = 10
    baseline_weeks: int = 6
    baseline_floor: float = 1.0  # a baseline of 0 tickets is treated as 1 per week
    new_min_tickets: int = 5
    new_min_customers: int = 3


@dataclass(frozen=True)
class SpikeTest:
    count: int
    baseline: float
    ratio: float
    p_value: float
    is_spike: bool


def spike_test(count: int, history: Sequence[int], settings: AlertSettings = AlertSettings()) -> SpikeTest:
    """Test `count` against the mean of the last `baseline_weeks` entries of `history`."""
    window = list(history)[-settings.baseline_weeks:]
    baseline = float(np.mean(window)) if window else 0.0
    lam = max(baseline, settings.baseline_floor)
    p_value = float(poisson.sf(count - 1, lam)) if count > 0 else 1.0
    ratio = count / lam
    is_spike = (
        bool(window)
        and count >= settings.min_count
        and ratio >= settings.min_ratio
        and p_value < settings.max_p_value
    )
    return SpikeTest(count=count, baseline=baseline, ratio=ratio, p_value=p_value, is_spike=is_spike)


def _ids(value: object) -> list[str]:
    return [] if value is None else [str(v) for v in value]  # type: ignore[attr-defined]


def alert_key(theme_id: str, week: date, kind: str) -> str:
    return f"{theme_id}|{week.isoformat()}|{kind}"


def detect(
    week: date,
    themes: Sequence[Mapping[str, object]],
    history: Mapping[str, Sequence[int]],
    new_theme_ids: set[str],
    settings: AlertSettings = AlertSettings(),
) -> list[dict[str, object]]:
    """Alerts for `week`.

    `themes`: rows with theme_id, label, tickets, customers, example_ticket_ids (this week).
    `history`: theme_id -> ticket counts of the weeks before `week`, oldest first; a theme
    with no earlier weeks in the window has no baseline and cannot spike.
    """
    alerts: list[dict[str, object]] = []
    for theme in themes:
        theme_id = str(theme["theme_id"])
        tickets, customers = int(theme["tickets"]), int(theme["customers"])
        base = {
            "week_start": week, "theme_id": theme_id, "label": theme.get("label"), "tickets": tickets,
            "customers": customers, "example_ticket_ids": list(_ids(theme.get("example_ticket_ids")))[:3],
        }
        if theme_id in new_theme_ids:
            if tickets >= settings.new_min_tickets and customers >= settings.new_min_customers:
                alerts.append({**base, "kind": NEW_PATTERN, "alert_key": alert_key(theme_id, week, NEW_PATTERN),
                               "baseline": 0.0, "ratio": None, "p_value": None})
            continue
        test = spike_test(tickets, history.get(theme_id, []), settings)
        if test.is_spike:
            alerts.append({**base, "kind": SPIKE, "alert_key": alert_key(theme_id, week, SPIKE),
                           "baseline": test.baseline, "ratio": test.ratio, "p_value": test.p_value})
    return alerts
