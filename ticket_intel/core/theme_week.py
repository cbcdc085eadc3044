"""One week's theme step: cluster the window, carry ids over from last week, describe the themes.

Window in (ticket ids, their weeks, their vectors, last week's themes); clusters, theme records
and identity events out. The Dagster asset, the benchmarks and the tests all call this, so what
they measure is what runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from ticket_intel.core import cluster, identity


@dataclass(frozen=True)
class PreviousTheme:
    """Last week's theme as the next week needs it: identity plus its record."""

    theme: identity.Theme
    first_seen: date
    origin: str


@dataclass
class ThemeWeek:
    clusters: pd.DataFrame  # per window ticket: ticket_id, ticket_week, theme_id, series_theme_id, ...
    themes: pd.DataFrame  # per theme: its record (size, centroid, event, first_seen, origin)
    events: pd.DataFrame  # identity events: continued / new / split / merged / faded
    stats: dict[str, int]

    def as_previous(self) -> list[PreviousTheme]:
        """These themes as next week's step needs them."""
        return previous_from(self.themes, self.clusters)


def previous_from(themes: pd.DataFrame, members: pd.DataFrame) -> list[PreviousTheme]:
    """`themes` (theme_id, centroid, first_seen, origin) with their tickets from `members`
    (theme_id, ticket_id; outliers have none) as the next week's `previous`."""
    themed = members[members["theme_id"].notna()]
    tickets = themed.groupby("theme_id")["ticket_id"].agg(frozenset).to_dict()
    return [PreviousTheme(identity.Theme(r.theme_id, np.asarray(r.centroid, dtype=np.float32),
                                         tickets.get(r.theme_id, frozenset())), r.first_seen, r.origin)
            for r in themes.sort_values("theme_id").itertuples()]


def cluster_window(
    week: date, ticket_ids: Sequence[str], ticket_weeks: Sequence[date], x: np.ndarray,
    previous: Sequence[PreviousTheme], seed: int, hysteresis: bool = True,
) -> ThemeWeek:
    """Themes of the window ending at `week`, deterministic for a given input and seed
    (`hysteresis=False` only for benchmarks that measure what it adds)."""
    ids = list(ticket_ids)
    params = cluster.default_params(len(x), seed)
    result = cluster.cluster(x, params)
    tracked = identity.track(week, x, ids, result.labels, [p.theme for p in previous], params.min_cluster_size,
                             hysteresis)
    themes = identity.themes_of(x, ids, tracked.theme_of)
    theme_of = np.array(tracked.theme_of, dtype=object)
    clusters = _cluster_rows(ids, ticket_weeks, x, themes, theme_of, tracked, result)
    events = pd.DataFrame(tracked.events, columns=["theme_id", "event", "related_theme_ids", "detail"])
    records = _theme_records(week, themes, theme_of, np.asarray(ticket_weeks) == week,
                             dict(zip(events["theme_id"], events["event"], strict=True)), previous)
    stats = {"window_tickets": len(ids), "themes": len(themes),
             "outliers": int(sum(t is None for t in tracked.theme_of)), "kept": int(tracked.kept.sum()),
             **Counter(events["event"])}
    return ThemeWeek(clusters, records, events, stats)


def _cluster_rows(
    ids: list[str], ticket_weeks: Sequence[date], x: np.ndarray, themes: list[identity.Theme],
    theme_of: np.ndarray, tracked: identity.Tracked, result: cluster.ClusterResult,
) -> pd.DataFrame:
    number = {t.theme_id: k for k, t in enumerate(themes)}
    centroid = {t.theme_id: t.centroid for t in themes}
    return pd.DataFrame({
        "ticket_id": ids, "ticket_week": list(ticket_weeks), "theme_id": theme_of,
        "series_theme_id": tracked.series_of,
        "cluster": pd.array([number.get(t) for t in theme_of], dtype="Int64"),
        "probability": np.where(tracked.kept, 0.0, result.probabilities),
        "similarity": [float(x[i] @ centroid[t]) if t else np.nan for i, t in enumerate(theme_of)],
        "assignment": ["kept" if k else a for k, a in zip(tracked.kept, result.assignment, strict=True)],
    })


def _theme_records(
    week: date, themes: list[identity.Theme], theme_of: np.ndarray, this_week: np.ndarray,
    event_of: Mapping[str, str], previous: Sequence[PreviousTheme],
) -> pd.DataFrame:
    """A continuing theme keeps its birth week and origin; a new one is born now, as new or split."""
    before = {p.theme.theme_id: p for p in previous}
    rows = []
    for k, t in enumerate(themes):
        prior = before.get(t.theme_id)
        member = theme_of == t.theme_id
        rows.append({
            "theme_id": t.theme_id, "cluster": k, "size": int(member.sum()),
            "week_tickets": int((member & this_week).sum()), "centroid": t.centroid.astype(np.float32),
            "event": event_of[t.theme_id],
            "first_seen": prior.first_seen if prior else week,
            "origin": prior.origin if prior else event_of[t.theme_id],
        })
    return pd.DataFrame(rows)
