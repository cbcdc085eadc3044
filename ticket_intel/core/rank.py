"""Rank a week's themes by impact and list what is too small to count.

impact = sum over the theme's distinct customers of (plan weight) x severity weight, i.e.
distinct customers x mean plan weight x severity weight: fifty customers hitting a P1 beat
one customer filing fifty tickets. Both weight tables are settings; by default each severity
level and each plan tier counts twice the one below it, a scale a reader can check in their
head, and an unknown plan counts like the lowest tier. A theme needs enough tickets from enough customers in the
week to be ranked; smaller groups, reviewer-rejected themes and outliers go to the
not-a-theme list with their ticket ids, so nothing disappears from view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ticket_intel.core.review import ReviewState, canonical_themes

OUTLIER_THEME = "outliers"
# As settings strings (TICKET_INTEL_SEVERITY_WEIGHTS, TICKET_INTEL_PLAN_WEIGHTS): each level or
# tier counts twice the one below it.
DEFAULT_SEVERITY_WEIGHTS = "P0=16,P1=8,P2=4,P3=2,P4=1"
DEFAULT_PLAN_WEIGHTS = "free=1,pro=2,enterprise=4"


@dataclass(frozen=True)
class RankSettings:
    min_tickets: int = 5
    min_customers: int = 3
    min_week_tickets: int = 30
    severity_weights: Mapping[str, float] = field(default_factory=lambda: parse_weights(DEFAULT_SEVERITY_WEIGHTS))
    plan_weights: Mapping[str, float] = field(default_factory=lambda: parse_weights(DEFAULT_PLAN_WEIGHTS))
    paid_plans: tuple[str, ...] = ("pro", "enterprise", "paid", "business", "premium", "team")
    trend_baseline_weeks: int = 4


def parse_weights(spec: str | Mapping[str, float]) -> dict[str, float]:
    """`P0=16,P1=8` (an env var) or a mapping (ticket_intel.yaml) to {key: weight}; keys lower-
    cased except severities, which are upper-cased to match P0..P4."""
    items = spec.items() if isinstance(spec, Mapping) else (
        part.split("=", 1) for part in str(spec).split(",") if part.strip()
    )
    out: dict[str, float] = {}
    for item in items:
        if len(item) != 2:
            raise ValueError(f"weights must look like 'name=number,name=number', not {spec!r}")
        key, value = str(item[0]).strip(), item[1]
        try:
            weight = float(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"weight for {key!r} is not a number: {value!r}") from exc
        if weight < 0:
            raise ValueError(f"weight for {key!r} must not be negative")
        out[key.upper() if key.upper() in {"P0", "P1", "P2", "P3", "P4"} else key.lower()] = weight
    return out


@dataclass
class Ranking:
    ranked: pd.DataFrame
    not_a_theme: pd.DataFrame
    overview: dict[str, object]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def customer_key(frame: pd.DataFrame) -> pd.Series:
    """A ticket without a customer id counts as its own customer."""
    return frame["customer_id"].fillna("ticket:" + frame["ticket_id"])


def weekly_counts(assigned: pd.DataFrame, weeks: list[date]) -> pd.DataFrame:
    """Tickets per theme per week (columns = weeks, zeros filled)."""
    counts = assigned.groupby(["theme_id", "ticket_week"]).size().unstack(fill_value=0)
    return counts.reindex(columns=weeks, fill_value=0)


def trend_label(current: int, history: list[int], is_new: bool) -> str:
    """new / rising / steady / falling against the mean of the previous weeks.

    A move counts only beyond two standard deviations of Poisson noise around that mean
    (sqrt of the mean, at least 1): 8 -> 11 tickets is noise, 8 -> 15 is a rise.
    """
    if is_new or not any(history):
        return "new"
    baseline = float(np.mean(history))
    noise = 2 * np.sqrt(max(baseline, 1.0))
    if current - baseline > noise:
        return "rising"
    if baseline - current > noise:
        return "falling"
    return "steady"


def rank_week(
    week: date,
    assigned: pd.DataFrame,
    summaries: pd.DataFrame,
    review: ReviewState,
    new_theme_ids: set[str],
    settings: RankSettings = RankSettings(),
) -> Ranking:
    """Rank themes for `week`.

    `assigned`: the window's tickets with ticket_id, ticket_week, theme_id (None = outlier),
    optionally series_theme_id (the theme weekly counts use; default theme_id), customer_id, plan,
    monthly_revenue, account_id, similarity (to the theme centroid).
    `summaries`: one row per theme_id with label, severity, signal_type, product_area,
    shared_issue, example_ticket_ids.
    """
    assigned = canonical_themes(assigned, review)
    assigned["customer"] = customer_key(assigned)
    this_week = assigned[assigned["ticket_week"] == week]
    prev_week = week - timedelta(weeks=1)
    weeks = [week - timedelta(weeks=k) for k in range(8, -1, -1)]
    # Earlier weeks are counted where this run's clustering put them (see core/identity.py).
    series = assigned["series_theme_id"] if "series_theme_id" in assigned else assigned["theme_id"]
    themed = assigned.assign(theme_id=series)[series.notna()]
    counts = weekly_counts(themed, weeks) if len(themed) else pd.DataFrame(columns=weeks)
    summ = summaries.set_index("theme_id") if len(summaries) else pd.DataFrame()
    week_total = len(this_week)
    warning = None
    if week_total < settings.min_week_tickets:
        warning = (f"only {week_total} tickets this week (fewer than {settings.min_week_tickets}): "
                   "too few to rank themes")

    unknown_plan_weight = min(settings.plan_weights.values(), default=1.0)
    rows, small = [], []
    for theme_id, group in this_week[this_week["theme_id"].notna()].groupby("theme_id"):
        info = summ.loc[theme_id] if theme_id in summ.index else None
        label = review.labels.get(theme_id) or (info["label"] if info is not None else theme_id)
        n_tickets, n_customers = len(group), group["customer"].nunique()
        ordered = group.sort_values(["similarity", "ticket_id"], ascending=[False, True])
        reason = None
        if theme_id in review.not_a_theme:
            reason = "marked not-a-theme by a reviewer"
        elif warning:
            reason = "week too small to rank"
        elif n_tickets < settings.min_tickets or n_customers < settings.min_customers:
            reason = (f"{_count(n_tickets, 'ticket')} from {_count(n_customers, 'customer')} (a theme needs "
                      f"{settings.min_tickets} tickets from {settings.min_customers} customers)")
        if reason:
            small.append({"theme_id": theme_id, "label": label, "tickets": n_tickets, "customers": n_customers,
                          "ticket_ids": sorted(group["ticket_id"]), "reason": reason})
            continue
        history = [int(counts.at[theme_id, w]) if theme_id in counts.index else 0 for w in weeks[:-1]]
        # The baseline starts when the theme first appeared: weeks before it existed are not "0 tickets".
        born = next((i for i, c in enumerate(history) if c), len(history))
        base_hist = history[born:][-settings.trend_baseline_weeks:]
        prev = history[-1]
        last4, prior4 = n_tickets + sum(history[-3:]), sum(history[-7:-3])
        per_customer = group.drop_duplicates("customer")
        plan = per_customer["plan"].fillna("").str.lower()
        paid = plan[plan != ""].isin(settings.paid_plans)
        plan_weight = plan.map(lambda p: settings.plan_weights.get(p, unknown_plan_weight)).astype(float)
        severity = info["severity"] if info is not None else "P3"
        revenue = group.drop_duplicates("account_id")["monthly_revenue"].dropna()
        examples = [t for t in (info["example_ticket_ids"] if info is not None else []) if t in set(group["ticket_id"])]
        examples = list(dict.fromkeys([*examples, *ordered["ticket_id"]]))[:3]
        rows.append({
            "theme_id": theme_id,
            "label": label,
            "tickets": n_tickets,
            "customers": n_customers,
            "tickets_prev_week": prev,
            "wow_change": (n_tickets - prev) / prev if prev else None,
            "growth_4w": (last4 - prior4) / prior4 if prior4 else None,
            "trend": trend_label(n_tickets, base_hist, theme_id in new_theme_ids),
            "paid_share": float(paid.mean()) if len(paid) else None,
            "revenue": float(revenue.sum()) if len(revenue) else None,
            "severity": severity,
            "signal_type": info["signal_type"] if info is not None else "other",
            "product_area": info["product_area"] if info is not None else None,
            "impact": float(plan_weight.sum() * settings.severity_weights.get(severity, 1.0)),
            "summary": info["shared_issue"] if info is not None else "",
            "example_ticket_ids": examples,
            "review_status": review.status(theme_id),
        })
    outliers = this_week[this_week["theme_id"].isna()]
    if len(outliers):
        small.append({"theme_id": OUTLIER_THEME, "label": "Unclustered tickets", "tickets": len(outliers),
                      "customers": outliers["customer"].nunique(), "ticket_ids": sorted(outliers["ticket_id"]),
                      "reason": "outliers: not close enough to any theme"})
    ranked = pd.DataFrame(rows)
    if len(ranked):
        ranked = ranked.sort_values(["impact", "tickets", "theme_id"], ascending=[False, False, True])
        ranked.insert(0, "rank", range(1, len(ranked) + 1))
    overview = {
        "tickets": week_total,
        "customers": int(this_week["customer"].nunique()),
        "tickets_prev_week": int((assigned["ticket_week"] == prev_week).sum()),
        "themes": len(ranked),
        "outlier_tickets": len(outliers),
        "warning": warning,
    }
    return Ranking(ranked=ranked.reset_index(drop=True), not_a_theme=pd.DataFrame(small), overview=overview)
