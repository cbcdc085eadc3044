"""Queue surges: one alert for a week whose whole queue (or a product's, when themes form per product)
spiked, telling the theme spikes that merely rose with it instead of paging each (core/anomalies.py).

A surge is the scope's tickets spiking against its usual weeks by the spike test (`queue_surges`). When
the scope less the themes explained on their own (a spike beyond the queue, a new pattern, a theme too
young for a baseline) no longer spikes, the surge was those themes': they page, and so does every spike
of that scope, as in a week without a surge (PowerToys 2024-09-02 and 09-09: 102 and 92 titles against
39.5 a week, 43 of the first the new Workspaces module, paged as a new pattern, and many of the next).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from ticket_intel.core.anomalies import (
    NEW_PATTERN,
    QUEUE_SURGE,
    SPIKE,
    AlertSettings,
    SpikeTest,
    queue_surges,
    queue_test,
    surge_key,
    theme_scope,
)
from ticket_intel.core.context import WeekContext
from ticket_intel.core.counts import scope_of


def with_surges(ctx: WeekContext, alerts: Sequence[Mapping[str, Any]], settings: AlertSettings,
                surged: Mapping[str, tuple[SpikeTest, date | None]] | None = None) -> list[dict[str, Any]]:
    """The week's alerts headed by one `queue_surge` per scope whose queue surged (`surged`, the week's
    `queue_surges` when the caller has them), each naming the spikes that rose with it (`with_queue`);
    where the surge was the paged alerts' own, none, and those spikes page."""
    out = [dict(a) for a in alerts]
    surges = []
    for scope, (test, since) in (queue_surges(ctx, settings) if surged is None else surged).items():
        spikes = [a for a in out if a["kind"] == SPIKE and theme_scope(ctx, str(a["theme_id"])) == scope]
        own = _own(ctx, out, spikes, settings)
        if own and not queue_test(ctx, scope, settings, own)[0].is_spike:
            for a in spikes:
                a["with_queue"] = False
            continue
        surges.append(surge_alert(ctx, scope, test, since, [a for a in spikes if a["with_queue"]], settings))
    return surges + out


def _own(ctx: WeekContext, alerts: Sequence[Mapping[str, Any]], spikes: Sequence[Mapping[str, Any]],
         settings: AlertSettings) -> frozenset[str]:
    """The themes whose tickets are explained on their own, not by a surge: spikes beyond the queue (with
    their pieces), new patterns, and themes too young for a baseline, whose volume has no usual yet."""
    paged = {str(t) for a in spikes if not a["with_queue"] for t in [a["theme_id"], *a["related_theme_ids"]]}
    new = {str(a["theme_id"]) for a in alerts if a["kind"] == NEW_PATTERN}
    young = {t for t in ctx.births if len(ctx.baseline_weeks(t)) < settings.min_baseline_weeks}
    return frozenset(paged | new | young)


def surge_alert(ctx: WeekContext, scope: str, test: SpikeTest, since: date | None,
                rising: Sequence[Mapping[str, Any]], settings: AlertSettings) -> dict[str, Any]:
    """A scope's surge as an alert row: no theme; its related themes are the spikes that rose with it,
    the largest first, with their tickets; `since`, the week its event began when it continues one.
    Concentrated when the queue less its busiest customer's tickets is under the spike's ratio: TensorFlow's
    2024-06-03 "surge" (31 against 15.5) held 20 fuzzing crashes of one reporter."""
    week = ctx.this_week
    rows = week[scope_of(week, ctx.products_apart) == scope] if ctx.products_apart else week
    per_customer = rows["customer"].value_counts()
    top = int(per_customer.max()) if len(per_customer) else 0
    rising = sorted(rising, key=lambda a: (-int(a["tickets"]), str(a["theme_id"])))
    return {
        "alert_key": surge_key(scope, ctx.week), "week_start": ctx.week, "theme_id": None, "kind": QUEUE_SURGE,
        "label": scope or None, "tickets": test.count, "customers": len(per_customer), "baseline": test.baseline,
        "ratio": test.ratio, "p_value": test.p_value, "customer_baseline": None,
        "top_customer_tickets": top, "concentrated": test.count - top < settings.min_ratio * test.baseline,
        "baseline_weeks": test.weeks, "example_ticket_ids": [], "example_lines": [], "since": since,
        "related_theme_ids": [str(a["theme_id"]) for a in rising], "related_labels": [a.get("label") for a in rising],
        "related_tickets": [int(a["tickets"]) for a in rising], "with_queue": False,
    }
