"""Keep a theme's id across weekly re-clusterings of overlapping windows.

Each run's clusters are matched one-to-one to the previous run's themes by an optimal
assignment (Hungarian) on a score mixing centroid cosine similarity and ticket overlap
(Jaccard over tickets present in both windows). Unmatched clusters become new themes, or
splits when most of their shared tickets came from a theme that continued elsewhere;
unmatched old themes are merged (their tickets went to one continuing theme) or faded.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass(frozen=True)
class Theme:
    theme_id: str
    centroid: np.ndarray
    ticket_ids: frozenset[str]


@dataclass
class Matching:
    theme_ids: dict[int, str]  # cluster -> theme id
    events: list[dict[str, object]] = field(default_factory=list)


def new_theme_id(week: date, k: int) -> str:
    """Deterministic ids (week of birth + rank) so re-running a week reproduces them."""
    return f"T{week:%Y%m%d}-{k:02d}"


def _score_matrix(
    current: dict[int, Theme], previous: list[Theme], shared: set[str], overlap_weight: float
) -> tuple[np.ndarray, np.ndarray]:
    clusters = list(current)
    cos = np.zeros((len(clusters), len(previous)))
    jac = np.zeros_like(cos)
    for i, c in enumerate(clusters):
        a = current[c].ticket_ids & shared
        for j, p in enumerate(previous):
            cos[i, j] = float(current[c].centroid @ p.centroid)
            b = p.ticket_ids & shared
            union = len(a | b)
            jac[i, j] = len(a & b) / union if union else 0.0
    if not shared:
        return cos, cos
    return (1 - overlap_weight) * cos + overlap_weight * jac, cos


def match(
    week: date,
    current: dict[int, Theme],
    previous: list[Theme],
    min_score: float = 0.5,
    overlap_weight: float = 0.5,
) -> Matching:
    """Assign theme ids to this run's clusters and record what happened to each theme."""
    shared = set().union(*(t.ticket_ids for t in current.values())) & set().union(
        *(t.ticket_ids for t in previous)
    ) if current and previous else set()
    clusters = list(current)
    theme_ids: dict[int, str] = {}
    events: list[dict[str, object]] = []
    matched_prev: dict[int, int] = {}
    if clusters and previous:
        score, cos = _score_matrix(current, previous, shared, overlap_weight)
        rows, cols = linear_sum_assignment(-score)
        for r, c in zip(rows, cols, strict=True):
            if score[r, c] >= min_score:
                matched_prev[c] = r
                theme_ids[clusters[r]] = previous[c].theme_id
                events.append({"theme_id": previous[c].theme_id, "event": "continued",
                               "related_theme_ids": [], "detail": f"score {score[r, c]:.2f}, cosine {cos[r, c]:.2f}"})
    k = 0
    for cluster in clusters:
        if cluster in theme_ids:
            continue
        theme_id = new_theme_id(week, k)
        k += 1
        theme_ids[cluster] = theme_id
        origin = _main_origin(current[cluster].ticket_ids & shared, previous)
        if origin is not None and origin[1] >= 0.5:
            events.append({"theme_id": theme_id, "event": "split", "related_theme_ids": [origin[0]],
                           "detail": f"{origin[1]:.0%} of its earlier tickets were in {origin[0]}"})
        else:
            events.append({"theme_id": theme_id, "event": "new", "related_theme_ids": [], "detail": ""})
    current_by_id = {theme_ids[c]: t for c, t in current.items()}
    for j, prev in enumerate(previous):
        if j in matched_prev:
            continue
        dest = _main_origin(prev.ticket_ids & shared, [
            Theme(tid, t.centroid, t.ticket_ids) for tid, t in current_by_id.items()
        ])
        if dest is not None and dest[1] >= 0.5:
            events.append({"theme_id": prev.theme_id, "event": "merged", "related_theme_ids": [dest[0]],
                           "detail": f"{dest[1]:.0%} of its tickets are now in {dest[0]}"})
        else:
            events.append({"theme_id": prev.theme_id, "event": "faded", "related_theme_ids": [], "detail": ""})
    return Matching(theme_ids=theme_ids, events=events)


def _main_origin(tickets: set[str] | frozenset[str], themes: list[Theme]) -> tuple[str, float] | None:
    """The theme holding most of `tickets`, with the share it holds."""
    if not tickets:
        return None
    counts: Counter[str] = Counter()
    for t in themes:
        counts[t.theme_id] = len(tickets & t.ticket_ids)
    theme_id, n = counts.most_common(1)[0] if counts else (None, 0)
    if not n or theme_id is None:
        return None
    return theme_id, n / len(tickets)
