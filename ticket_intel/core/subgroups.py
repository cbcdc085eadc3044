"""New groups inside old themes: a new issue that the window's clustering absorbed into an old one.

The window is clustered at a resolution of sqrt(n)/2 tickets (core/cluster.py), so a new question
asked a handful of times this week, next to an old one ("do you ship to Seattle?" beside "when
will my order arrive?"), is absorbed into the old theme, or left as outliers. What marks it is
not its size but its novelty: its tickets have no close neighbours in the window's earlier weeks,
while they are close to each other.

With k = min_tickets - 1 (a ticket and its k nearest neighbours make a group of theme size):

1. **Typical.** Each earlier ticket's mean cosine similarity to its k nearest earlier tickets
   (itself left out). A theme's floor is the lower Tukey fence of its earlier tickets' values
   (cluster.tukey_floor, the rule that admits noise points to a theme); outliers use the floor of
   all earlier tickets. A theme needs `min_history` earlier tickets for a floor.
2. **Novel.** A ticket of this week is novel when its mean similarity to its k nearest earlier
   tickets (of any theme: a group that another theme already held is not new) is below its
   theme's floor: the earlier weeks hold no group of theme size around it.
3. **Dense.** A novel ticket is a core when its mean similarity to its k nearest novel tickets
   reaches its floor: the new tickets are as close to each other as the theme's tickets usually
   are. Cores link to those of their k nearest novel tickets inside the floor; a connected group
   of at least `min_tickets` tickets from `min_customers` customers is a new group.

A new group becomes a theme of its own, born this week: event `new_group`, with its parent (the
theme most of its tickets were in) in `related_theme_ids`, none when most were outliers. So the ranking lists it
with its own label and examples, the new-pattern rule alerts on it, and its tickets no longer
inflate the parent, which would otherwise show the new issue weeks later as a "spike" of the old.

A group is finer than the window's clustering, which will absorb it again next week. So a group
persists by its own rule: its earlier tickets stay in it, and a ticket of this week joins it when
most of its k nearest earlier tickets are in it. Both are counted in the group's series.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence, Set
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ticket_intel.core import identity
from ticket_intel.core.cluster import tukey_floor

NEW_GROUP = "new_group"


@dataclass(frozen=True)
class GroupSettings:
    min_tickets: int = 5  # a group, like a theme, needs this many tickets ...
    min_customers: int = 3  # ... from this many customers
    min_history: int = 10  # earlier tickets a theme needs before its typical spread is known

    @property
    def k(self) -> int:
        return max(1, self.min_tickets - 1)


@dataclass(frozen=True)
class Group:
    theme_id: str
    parent_id: str | None  # the theme most of its tickets were in; None when most were outliers
    rows: np.ndarray  # row indices of its tickets (all of this week)


@dataclass
class Carved:
    theme_of: list[str | None]
    series_of: list[str | None]
    kept: np.ndarray
    events: list[dict[str, object]]
    groups: list[Group]


def knn_similarity(query: np.ndarray, reference: np.ndarray, k: int, same: bool = False) -> np.ndarray:
    """Mean cosine similarity of each query row to its k most similar reference rows.

    `same`: query and reference are the same rows, so each row leaves itself out.
    """
    if len(query) == 0:
        return np.zeros(0)
    sims = query @ reference.T
    if same:
        np.fill_diagonal(sims, -np.inf)
    k = min(k, reference.shape[0] - int(same))
    if k <= 0:
        return np.full(len(query), -1.0)
    top = -np.partition(-sims, k - 1, axis=1)[:, :k]
    return top.mean(axis=1)


def floors(x: np.ndarray, now: np.ndarray, theme_of: Sequence[str | None],
           settings: GroupSettings) -> dict[str | None, float]:
    """Per theme with enough history (None: the outliers), the floor of typical neighbour similarity."""
    earlier = np.flatnonzero(~now)
    typical = knn_similarity(x[earlier], x[earlier], settings.k, same=True)
    themes = np.array([theme_of[i] for i in earlier], dtype=object)
    out: dict[str | None, float] = {}
    if len(earlier) >= settings.min_history:
        out[None] = tukey_floor(typical)
    for theme in {theme_of[i] for i in np.flatnonzero(now)} - {None}:
        values = typical[themes == theme]
        if len(values) >= settings.min_history:
            out[theme] = tukey_floor(values)
    return out


def novel_rows(x: np.ndarray, now: np.ndarray, theme_of: Sequence[str | None],
               settings: GroupSettings) -> tuple[np.ndarray, np.ndarray]:
    """(rows of this week with no group of theme size around them in earlier weeks, their floors)."""
    floor = floors(x, now, theme_of, settings)
    rows = np.array([i for i in np.flatnonzero(now) if theme_of[i] in floor], dtype=int)
    if not len(rows) or now.all():
        return np.zeros(0, dtype=int), np.zeros(0)
    limit = np.array([floor[theme_of[i]] for i in rows])
    novel = knn_similarity(x[rows], x[~now], settings.k) < limit
    return rows[novel], limit[novel]


def dense_groups(x: np.ndarray, rows: np.ndarray, limit: np.ndarray, customers: Sequence[object],
                 settings: GroupSettings) -> list[np.ndarray]:
    """Connected groups of novel rows that are as close to each other as their themes usually are."""
    k = settings.k
    if len(rows) < settings.min_tickets:
        return []
    sims = x[rows] @ x[rows].T
    np.fill_diagonal(sims, -np.inf)
    nearest = np.argsort(-sims, axis=1)[:, :k]
    core = np.take_along_axis(sims, nearest, axis=1).mean(axis=1) >= limit
    src, dst = [], []
    for i in np.flatnonzero(core):
        for j in nearest[i]:
            if sims[i, j] >= limit[i]:
                src.append(i)
                dst.append(int(j))
    graph = coo_matrix((np.ones(len(src)), (src, dst)), shape=(len(rows), len(rows)))
    _, component = connected_components(graph, directed=False)
    out = []
    for c in sorted(set(component[core].tolist())):
        members = rows[component == c]
        if len(members) >= settings.min_tickets and len({customers[i] for i in members}) >= settings.min_customers:
            out.append(np.sort(members))
    return out


def continue_groups(x: np.ndarray, now: np.ndarray, ticket_ids: Sequence[str], theme_of: list[str | None],
                    previous_groups: Sequence[identity.Theme], settings: GroupSettings) -> tuple[list[str | None], np.ndarray]:
    """(theme per ticket, rows restored to their group): earlier group tickets stay, new ones join by kNN vote."""
    out = list(theme_of)
    restored = np.zeros(len(out), dtype=bool)
    row = {t: i for i, t in enumerate(ticket_ids)}
    for group in previous_groups:
        for ticket in group.ticket_ids:
            i = row.get(ticket)
            if i is not None and not now[i] and out[i] != group.theme_id:
                out[i], restored[i] = group.theme_id, True
    alive = {g.theme_id for g in previous_groups} & {out[i] for i in np.flatnonzero(~now)}
    earlier, current = np.flatnonzero(~now), np.flatnonzero(now)
    if not alive or not len(current):
        return out, restored
    k = min(settings.k, len(earlier))
    nearest = np.argsort(-(x[current] @ x[earlier].T), axis=1)[:, :k]
    for i, near in zip(current, nearest, strict=True):
        votes = Counter(out[earlier[j]] for j in near).most_common(1)[0]
        if votes[0] in alive and 2 * votes[1] > k:
            out[i] = votes[0]
    return out, restored


def _next_ids(week_ids: Set[str], week: object, n: int) -> list[str]:
    """`n` fresh ids of the week's form, numbered after those the week already uses."""
    used = {t for t in week_ids if t.startswith(identity.new_theme_id(week, 0)[:-2])}  # type: ignore[arg-type]
    start = 1 + max((int(t.rsplit("-", 1)[1]) for t in used), default=-1)
    return [identity.new_theme_id(week, start + j) for j in range(n)]  # type: ignore[arg-type]


def find_groups(week: object, x: np.ndarray, now: np.ndarray, theme_of: Sequence[str | None],
                customers: Sequence[object], settings: GroupSettings = GroupSettings()) -> list[Group]:
    """This week's new groups, each with a fresh id and the theme it grew in."""
    rows, limit = novel_rows(x, now, theme_of, settings)
    found = dense_groups(x, rows, limit, customers, settings)
    ids = _next_ids({t for t in theme_of if t}, week, len(found))
    out = []
    for theme_id, members in zip(ids, found, strict=True):
        parent = Counter(theme_of[i] for i in members).most_common(1)[0][0]
        out.append(Group(theme_id, parent, members))
    return out


def carve(week: object, x: np.ndarray, ticket_ids: Sequence[str], now: np.ndarray, customers: Sequence[object],
          tracked: identity.Tracked, previous: Sequence[identity.Theme], group_ids: Set[str],
          settings: GroupSettings = GroupSettings()) -> Carved:
    """Apply groups to a tracked week: continue last week's groups, split off this week's new ones.

    `now`: True for this week's tickets; `group_ids`: ids of the themes that were born as groups.
    """
    previous_groups = [p for p in previous if p.theme_id in group_ids]
    theme_of, restored = continue_groups(x, now, ticket_ids, tracked.theme_of, previous_groups, settings)
    groups = find_groups(week, x, now, theme_of, customers, settings)
    for group in groups:
        for i in group.rows:
            theme_of[i] = group.theme_id
    own = {g.theme_id for g in previous_groups}  # a group's series is its own rule's, not the clustering's
    series_of = [t if now[i] or t in own else s for i, (t, s) in enumerate(zip(theme_of, tracked.series_of, strict=True))]
    events = identity.events(list(previous), list(ticket_ids), theme_of)
    by_id = {g.theme_id: g for g in groups}
    for event in events:
        group = by_id.get(str(event["theme_id"]))
        if group is None:
            continue
        where = f"inside {group.parent_id}" if group.parent_id else "among the outliers"
        event.update(event=NEW_GROUP, related_theme_ids=[group.parent_id] if group.parent_id else [],
                     detail=f"{len(group.rows)} tickets this week, {where}, with no close neighbours in earlier weeks")
    return Carved(theme_of, series_of, tracked.kept | restored, events, groups)
