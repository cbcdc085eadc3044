"""One spike, one alert: themes that split from one series are tested for spikes as one series.

When re-clustering splits a theme (identity event `split`, with the theme it came from in
`related_theme_ids`), one issue's tickets are filed under two ids. A spike of that issue then
falls into both, and each piece alone may alert (two alerts for one spike) or neither (each below
the floor). So the pieces form a **family**: every theme joined to its origin by a split of the
window, transitively (an older split moved none of the tickets counted). A family whose members hold
tickets this week is tested on its combined weekly counts; when that spikes it raises one alert with
the combined count, named after the member with most tickets this week, the others listed in
`related_theme_ids`, and its members' own spike alerts are dropped (issue 11: a spike whose
tickets fall into two themes split from one series is one alert with the combined count).
Otherwise each member is tested alone as before, so a spike in one small piece is not hidden by a
large quiet sibling.

A new group (`new_group`, core/subgroups.py) is not a split: nothing like its tickets was in its
parent before, so it is a different issue and never joins its parent's family. Its new-pattern
alert names its parent in `related_theme_ids`.

Nor, in its first week, is a piece **born apart** (`anomalies.born_apart`): the window's earlier
weeks hold fewer of its tickets than the smallest new pattern, and this week's count is beyond
what their rate predicts. A split says only where most of a piece's earlier tickets were, and one
earlier ticket decides it; a piece made of this week's tickets alone is a new issue beside an old
one, as a brand-new theme is. So it is born this week (`with_born_apart`, which the ranking reads
too): a new pattern naming its family, left out of its family's spike test. (PowerToys' Workspaces
module, 46 issue titles in its first week, split off Awake by three older titles and alerted as a
12.9x spike of Awake's family.) A piece with more earlier tickets than that stays in its family
even if no single week of them was theme-sized: a trickle of 2-4 tickets a week that the
clustering cut from its theme is the old issue, not a new one; so is a piece of six this week
beside four the week before (a young window's broad first fit that lumped an old issue with
another).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date

import pandas as pd

from ticket_intel.core import anomalies, surges
from ticket_intel.core.anomalies import AlertSettings
from ticket_intel.core.context import WeekContext
from ticket_intel.core.counts import theme_week_counts
from ticket_intel.core.subgroups import NEW_GROUP

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
        stored = event.get(RELATED)
        related = [] if stored is None else list(stored)  # type: ignore[call-overload]
        if event.get("event") != SPLIT or not related:
            continue
        a, b = find(str(event["theme_id"])), find(str(related[0]))
        root.setdefault(min(a, b), min(a, b))
        if a != b:
            root[max(a, b)] = min(a, b)
    return {t: find(t) for t in root}


def family_parents(events: pd.DataFrame, window_start: date | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """(theme -> family, new group -> the theme it grew in) from the identity events up to a week, the
    families from the splits of the window that starts at `window_start` (events with `week_start`): an
    older split moved none of the tickets the spike test counts, and chained over all history it joined
    every piece ever cut from a first week's broad theme (PowerToys' FancyZones counted with Keyboard
    manager, PowerRename and Mouse Without Borders in September by splits of March to May)."""
    records = events.to_dict("records") if len(events) else []
    parents = {str(e["theme_id"]): str(next(iter(e[RELATED]))) for e in records
               if e["event"] == NEW_GROUP and e[RELATED] is not None and len(e[RELATED])}
    recent = [e for e in records if window_start is None or pd.Timestamp(e["week_start"]).date() >= window_start]
    return split_families(recent), parents


def with_born_apart(ctx: WeekContext, settings: AlertSettings) -> tuple[WeekContext, dict[str, str]]:
    """The context with this week's pieces born apart (`anomalies.born_apart`) born this week, naming
    their family as where they grew; and those pieces. The ranking reads it too, so such a piece's
    trend is "new" as its alert is."""
    apart = anomalies.born_apart(ctx, settings)
    return replace(ctx, births={**ctx.births, **dict.fromkeys(apart, ctx.week)}, parents={**ctx.parents, **apart}), apart


def _family_theme(members: Sequence[str], ranked: Mapping[str, Mapping[str, object]], this_week: pd.DataFrame
                  ) -> dict[str, object] | None:
    """The family as one ranked theme, named after its ranked member with most tickets this week, with
    each other member's tickets (`related_tickets`)."""
    rows = this_week[this_week["theme_id"].isin(members)]
    sizes = rows["theme_id"].value_counts()
    lead = min((t for t in members if t in ranked), key=lambda t: (-int(sizes.get(t, 0)), t), default=None)
    if lead is None:
        return None
    related = sorted(t for t in members if t != lead and t in set(rows["theme_id"]))
    return {**ranked[lead], "theme_id": lead, "tickets": len(rows), "customers": int(rows["customer"].nunique()),
            RELATED: related, "related_tickets": [int(sizes[t]) for t in related]}


def _as_one(ctx: WeekContext, members: Sequence[str], lead: str, family: str) -> WeekContext:
    """The week's context with a family's members counted as its lead theme: the family's rows alone
    (a copy of the whole window per family took half the alerts of a 1M-ticket run), over the
    window's weeks of data, and the queue around the family outside it."""
    rows = (ctx.window["theme_id"].isin(members) | ctx.window["series_theme_id"].isin(members)).to_numpy()
    window = ctx.window[rows].copy()
    for column in ("theme_id", "series_theme_id"):
        window[column] = window[column].where(~window[column].isin(members), lead)
    births = {lead: ctx.births[family]} if family in ctx.births else {}  # the family began with its first theme
    queue = ctx.queue.assign(theme_id=ctx.queue["theme_id"].where(~ctx.queue["theme_id"].isin(members), lead))
    return replace(ctx, window=window, vectors=ctx.vectors[rows], counts=theme_week_counts(window), births=births,
                   ranked_before=frozenset({lead}), queue=queue)


def detect(ctx: WeekContext, themes: Sequence[Mapping[str, object]], settings: AlertSettings | None = None
           ) -> list[dict[str, object]]:
    """`anomalies.detect`, with split families tested as one series, and new groups and pieces born
    apart naming where they grew. Every alert gets `related_theme_ids`. A family is tested first, so
    the members of a family that spikes are tested as new patterns only: their own spikes would be
    dropped for the family's. A member a reviewer marked not a theme is no part of its family: the
    sample's planted spike, dismissed, paged again as "Card payment · didn't work — 37 tickets", a
    sibling holding 10 of them."""
    settings = settings or AlertSettings()
    ctx, apart = with_born_apart(ctx, settings)
    surged = anomalies.queue_surges(ctx, settings)  # once: every test below shares the scopes' totals
    this_week = ctx.this_week[ctx.this_week["theme_id"].notna()]
    present = set(this_week["theme_id"])
    ranked = {str(t["theme_id"]): t for t in themes}
    by_family: dict[str, list[str]] = {}
    for theme, family in ctx.families.items():
        if theme in present and theme not in apart and theme not in ctx.review.not_a_theme:
            by_family.setdefault(family, []).append(theme)
    spikes: list[dict[str, object]] = []
    counted: set[str] = set()
    for family, members in sorted(by_family.items()):
        combined = _family_theme(sorted(members), ranked, this_week) if len(members) > 1 else None
        if combined is None:
            continue
        found = anomalies.detect(_as_one(ctx, members, str(combined["theme_id"]), family), [combined], settings,
                                 surged=surged)
        if any(a["kind"] == anomalies.SPIKE for a in found):
            spikes += [{**a, RELATED: combined[RELATED], "related_tickets": combined["related_tickets"]}
                       for a in found if a["kind"] == anomalies.SPIKE]
            counted.update(members)
    alerts = [{**a, RELATED: [ctx.parents[a["theme_id"]]]  # type: ignore[index]
               if a["kind"] == anomalies.NEW_PATTERN and a["theme_id"] in ctx.parents else []}
              for a in anomalies.detect(ctx, themes, settings, frozenset(counted), surged)]  # a spike: no parent
    return surges.with_surges(ctx, alerts + spikes, settings, surged)
