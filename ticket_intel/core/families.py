"""One spike, one alert: themes that split from one series are tested for spikes as one series.

When re-clustering splits a theme (identity event `split`, with the theme it came from in
`related_theme_ids`), one issue's tickets are filed under two ids. A spike of that issue then
falls into both, and each piece alone may alert (two alerts for one spike) or neither (each below
the floor). So the pieces form a **family**: every theme joined to its origin by a split, over all
earlier weeks, transitively. A family whose members hold tickets this week is tested on its
combined weekly counts; when that spikes it raises one alert with the combined count, named after
the member with most tickets this week, the others listed in `related_theme_ids`, and its members'
own spike alerts are dropped. Otherwise each member is tested alone as before, so a spike in one
small piece is not hidden by a large quiet sibling.

A new group (`new_group`, core/subgroups.py) is not a split: nothing like its tickets was in its
parent before, so it is a different issue and never joins its parent's family. Its new-pattern
alert names its parent in `related_theme_ids`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from datetime import date

import pandas as pd

from ticket_intel.core import anomalies
from ticket_intel.core.anomalies import AlertSettings

SPLIT = "split"
RELATED = "related_theme_ids"


def split_families(events: Iterable[Mapping[str, object]]) -> dict[str, str]:
    """Theme id -> its family id (the family's smallest id, i.e. its earliest born), for split themes."""
    root: dict[str, str] = {}

    def find(t: str) -> str:
        while root.get(t, t) != t:
            t = root[t]
        return t

    for event in events:
        related = list(event.get("related_theme_ids") or [])  # type: ignore[call-overload]
        if event.get("event") != SPLIT or not related:
            continue
        a, b = find(str(event["theme_id"])), find(str(related[0]))
        root.setdefault(min(a, b), min(a, b))
        if a != b:
            root[max(a, b)] = min(a, b)
    return {t: find(t) for t in root}


def _family_theme(week: date, members: Sequence[str], ranked: Mapping[str, Mapping[str, object]],
                  this_week: pd.DataFrame) -> dict[str, object] | None:
    """The family as one ranked theme, named after its ranked member with most tickets this week."""
    rows = this_week[this_week["theme_id"].isin(members)]
    sizes = rows["theme_id"].value_counts()
    lead = min((t for t in members if t in ranked), key=lambda t: (-int(sizes.get(t, 0)), t), default=None)
    if lead is None:
        return None
    return {**ranked[lead], "theme_id": lead, "tickets": len(rows), "customers": int(rows["customer"].nunique()),
            RELATED: sorted(t for t in members if t != lead and t in set(rows["theme_id"]))}


def detect(
    week: date, themes: Sequence[Mapping[str, object]], window: pd.DataFrame, births: Mapping[str, date],
    tracking_start: date, ranked_before: Set[str] = frozenset(), settings: AlertSettings | None = None,
    families: Mapping[str, str] | None = None, parents: Mapping[str, str] | None = None,
) -> list[dict[str, object]]:
    """`anomalies.detect`, with split families tested as one series and new groups naming their parent.

    `families`: theme -> family id (`split_families`); `parents`: new group -> the theme it grew in.
    Every alert gets `related_theme_ids`.
    """
    parents, settings = parents or {}, settings or AlertSettings()
    alerts = [{**a, RELATED: [parents[a["theme_id"]]] if a["theme_id"] in parents else []}  # type: ignore[index]
              for a in anomalies.detect(week, themes, window, births, tracking_start, ranked_before, settings)]
    this_week = window[(window["ticket_week"] == week) & window["theme_id"].notna()]
    present = set(this_week["theme_id"])
    ranked = {str(t["theme_id"]): t for t in themes}
    by_family: dict[str, list[str]] = {}
    for theme, family in (families or {}).items():
        if theme in present:
            by_family.setdefault(family, []).append(theme)
    for family, members in sorted(by_family.items()):
        combined = _family_theme(week, sorted(members), ranked, this_week) if len(members) > 1 else None
        if combined is None:
            continue
        lead = str(combined["theme_id"])
        mapped = window.assign(theme_id=window["theme_id"].where(~window["theme_id"].isin(members), lead))
        born = {lead: births[family]} if family in births else {}  # the family began with its first theme
        found = anomalies.detect(week, [combined], mapped, born, tracking_start, {lead}, settings)
        spikes = [{**a, RELATED: combined[RELATED]} for a in found if a["kind"] == anomalies.SPIKE]
        if spikes:
            alerts = [a for a in alerts if not (a["kind"] == anomalies.SPIKE and a["theme_id"] in members)]
            alerts += spikes
    return alerts
