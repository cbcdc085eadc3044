"""New groups inside old themes: a new issue that the window's clustering absorbed into an old one.

The window is clustered at a resolution of sqrt(n)/2 tickets (core/cluster.py), so a new question
asked a handful of times this week next to an old one ("do you ship to Seattle?" beside "when will
my order arrive?") is absorbed into the old theme, or left among the outliers. One such ticket is
not distinguishable from the old theme's spread; what marks the group is that this week's
tickets of the new issue are one another's nearest neighbours, while the old issue's tickets of
this week mingle with its tickets of earlier weeks.

1. **Graph.** Two of this week's tickets are linked when one is nearer the other than any
   earlier ticket of the window is (cosine): each ticket links to those of its nearest neighbours
   that come before its first earlier one. A new issue's tickets are closer to one another than
   to anything seen before; an old issue's tickets of this week mingle with its earlier tickets,
   so their links stop at once. (Mutual 6-nearest-neighbour links, the rule until 2026-12-03,
   found a quarter of the new groups this one finds at 6 a week, with more false ones:
   docs/alerts.md.) Only the rows the test can draw need neighbours, `search_width` of them:
   this week's tickets, then all tickets of the strata that hold a candidate (step 3), searched
   by the caller's `cluster.Search` (the clustering's own neighbours, or the theme-cell search of
   a placed or sampled window).
2. **Candidates.** The connected groups that this week's tickets form among themselves, with at
   least `min_tickets` tickets from `min_customers` customers (the size of a theme). Each belongs
   to the stratum (theme, or the outliers) holding most of its tickets. Only tickets of at least
   `min_words` words of meaning count toward a group (`evidence`): a one-word title says too little
   to be evidence of a new issue, and such titles ("xx", "Key") sit together far from everything
   (a junk GitHub group of 2024-07-01, docs/alerts.md). A young group (below) holds none: its
   tickets are its own issue's first weeks, whose earlier tickets are too few to judge "nothing
   like it before" by (step 4). React's compiler bugs, a new group of 2024-05-13 from 5 tickets,
   had a "new group" of its own next 11 inside it a week later, and another inside that one the
   week after: three new-pattern alerts for one new issue.
3. **Test.** Under "nothing new", this week's tickets of a theme are a random draw of the
   theme's window tickets, whatever their number (a spike is more of the same). A theme's tickets
   here are those this week's clustering or placement put in it (its series, core/identity.py), not
   those hysteresis held in it by an older fit: tickets of other issues held so dilute the draws,
   which then link less than any ordinary week's tickets do (one adjacent pair's theme held 55
   tickets of 8 other intents from a young warehouse's first, broad fit, and its new intent went
   unfound). So this week's tickets of the candidate's stratum are redrawn at random from all its
   tickets (an exact permutation test, seeded), and p = (1 + #draws whose largest group there is
   as large) / (1 + draws). "As large" is by tickets, and among groups of as many tickets by their
   links (how often its tickets chose one another before any earlier ticket): sizes are small whole
   numbers, so without the links a third to half of the draws tie with a group of 5-7, and p
   counted every tie against it; the links are the same graph's finer count, and the test stays
   exact. A candidate is a new group when p x (themes holding a candidate this week) <=
   `max_p_value` (Bonferroni over themes: a draw's statistic is the largest group of its theme, so
   one test covers all of a theme's candidates, and counting each candidate corrected twice for
   one theme). The draws stop as soon as that can no longer hold (sequential Monte Carlo,
   Besag and Clifford 1991), so ordinary candidates cost a few draws. A theme born this week has
   only this week's tickets, every draw reproduces them, and it is never a new group (it is
   already a new theme).
   `max_p_value` = 0.1 (TICKET_INTEL_NEW_GROUP_MAX_P_VALUE) bounds false groups by one in ten
   weeks in a window, whatever its number of themes: with ten or more ranked themes a week that is
   at most 1 per 100 theme-weeks, half the budget of 2 for new-pattern alerts (new themes have the
   other half). At 0.05, the rule
   until 2026-12-03, B=12 was found in its first week in 72 % of adjacent pairs (docs/alerts.md).
4. **Nothing like it before.** The test asks whether this week's tickets are concentrated, which
   a surge of one issue inside a theme that holds several also is: the sample's planted spike
   (declined card payments, 4x, in a theme shared with failed top-ups) made 14 of its tickets a
   "new group". What tells them apart is the earlier weeks: a candidate is not new when the
   stratum's earlier tickets take one of its tickets as their nearest neighbour `min_tickets`
   times (a theme's worth), or at least half as often as they would if its tickets were like the
   stratum's others (in proportion to its share of the stratum). On banking77's adjacent pairs a
   new issue's first tickets draw about a fifth of that share, a piece of a surge about all of it
   (docs/alerts.md). It stays in its theme, whose series shows the surge as a spike.

5. **Two weeks.** An issue of a handful of tickets a week may link too few of them in its first
   week for a group (on banking77's adjacent pairs a new intent at 6 a week formed a candidate in a
   quarter of its first weeks). So the scan runs again over this week's and last week's tickets
   together, as if they were one week, for the groups that hold at least `fortnight_min` tickets of
   each week: an issue that went on over both. Only those are tested, but the correction (step 3)
   counts the themes of every group the scan found (counting only the tested ones found no more
   new intents among banking77's adjacent pairs, and added false groups: one to the bundled
   sample, one to the Zendesk export, 0.64 -> 0.69 per 100 theme-weeks on the pairs). A group nearly all of one week
   is that week's news, which that week's scan judged (on the bundled sample, a spike's spill-over
   into a neighbouring theme plus two tickets of the week before). Neither a young group nor a
   theme born this week or last holds one: their two weeks are their own issue's first, and a
   theme a refit made holds earlier tickets besides, against which its first weeks look new (a
   PowerToys theme born in the third week of tracking "held" a group of 48 of its tickets). Such a
   group takes both weeks' tickets, and its new-pattern alert counts them (core/anomalies.py
   `started`).

A new group becomes a theme of its own, born this week: event `new_group`, with its parent (the
theme most of its tickets were in) in `related_theme_ids`, none when most were outliers. So the
ranking lists it with its own label and examples, the new-pattern rule alerts on it, and its
tickets no longer inflate the parent, which would otherwise show the new issue weeks later as a
"spike" of the old.

A group is finer than the window's clustering, which will absorb it again next week. So a group
persists by its own rule while its birth week is in the window: its earlier tickets stay in it,
and a ticket of this week joins it when most of its k nearest earlier tickets are in it, beyond the
share of the earlier tickets the group holds (`continue_groups`). Both are
counted in the group's series. Once its birth week has left the window it is a theme like any
other, which the clustering finds again or not: kept by its own rule for good, a group born in a
small, diffuse window drew most of each week's tickets by that vote and became one theme holding
over 90% of every window of prisma's GitHub bug titles for four years.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ticket_intel.core import identity
from ticket_intel.core.cluster import Search, kth_similarity, most_beyond_share, nearest_among
from ticket_intel.core.counts import rows_by_key

NEW_GROUP = "new_group"


@dataclass(frozen=True)
class GroupSettings:
    min_tickets: int = 5  # a group, like a theme, needs this many tickets ...
    min_customers: int = 3  # ... from this many customers
    min_words: int = 2  # words of meaning a ticket needs to count toward a group
    k: int = 6  # earlier tickets whose majority vote lets a ticket join a young group
    search_width: int = 6  # neighbours searched per ticket: links end at the first earlier one, which
    # six reach for all but (this week's share)^6 of tickets, 1 in 260,000 in an 8-week window
    fortnight_min: int = 3  # tickets each week of a two-week group holds: fewer, and the group is one
    # week's news, which that week's scan judged (a spike's spill-over plus two tickets of the week before)
    permutations: int = 199
    max_p_value: float = 0.1  # per week and window: at most one false group in 10 weeks
    seed: int = 42


@dataclass(frozen=True)
class Group:
    theme_id: str
    parent_id: str | None  # the theme most of its tickets were in; None when most were outliers
    rows: np.ndarray  # row indices of its tickets (this week's, and last week's for a group of two weeks)
    p_value: float


@dataclass
class Carved:
    theme_of: list[str | None]
    series_of: list[str | None]
    kept: np.ndarray
    events: list[dict[str, object]]
    groups: list[Group]
    # The rows the group rules gave their theme (a group found this week, a young group's vote): their
    # assignment is `NEW_GROUP`, not the clustering's (an outlier of the fit that a group took in is counted).
    grouped: np.ndarray


def week_links(knn: np.ndarray, member: np.ndarray) -> np.ndarray:
    """(i, j) links of the member rows: j is among i's neighbours before i's first one outside
    `member` (step 1). Self entries, which pad rows short of neighbours, link nothing."""
    rows = np.flatnonzero(member)
    near = knn[rows]
    before = np.logical_and.accumulate(member[near], axis=1)
    src, dst = np.repeat(rows, near.shape[1])[before.ravel()], near[before]
    keep = src != dst
    return np.stack([src[keep], dst[keep]], axis=1)


class Neighbours:
    """The neighbour table of a week's scans, each row searched once, when a scan first needs it (the
    two-week scan reads this week's rows again); a row not searched is its own neighbour: no links."""

    def __init__(self, n: int, search: Search, width: int) -> None:
        self.knn = np.repeat(np.arange(n)[:, None], width, axis=1)
        self._searched = np.zeros(n, dtype=bool)
        self._search = search

    def need(self, rows: np.ndarray) -> np.ndarray:
        """The table, with `rows` searched (up to the search's width)."""
        rows = rows[~self._searched[rows]]
        if len(rows):
            found = self._search(rows)[:, :self.knn.shape[1]]
            self.knn[rows, :found.shape[1]] = found
            self._searched[rows] = True
        return self.knn


def _groups(knn: np.ndarray, member: np.ndarray, strata: np.ndarray, n_strata: int,
            counted: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(component per row, per component its majority stratum, and per component its links between
    `counted` rows, those that may count toward a group) of the member rows' linked groups.

    A component is named by its lowest row; a row outside every link is its own component. The
    components are scipy's (C, not a Python union-find: the permutation test asks this hundreds of
    times a week, which took two thirds of a 17,000-ticket window's theme step)."""
    n = len(member)
    links = week_links(knn, member)
    graph = coo_matrix((np.ones(len(links), dtype=np.int8), (links[:, 0], links[:, 1])), shape=(n, n))
    labels = connected_components(graph, directed=False)[1]
    lowest = np.full(labels.max(initial=0) + 1, n)
    np.minimum.at(lowest, labels, np.arange(n))
    component = lowest[labels]
    rows = np.flatnonzero(member)
    pairs, counts = np.unique(component[rows] * n_strata + strata[rows], return_counts=True)
    order = np.lexsort((-counts, pairs // n_strata))  # per component, its largest stratum first
    majority = np.zeros(n, dtype=int)
    first = np.unique(pairs[order] // n_strata, return_index=True)[1]
    majority[pairs[order][first] // n_strata] = pairs[order][first] % n_strata
    inner = links[counted[links[:, 0]] & counted[links[:, 1]]]
    return component, majority, np.bincount(component[inner[:, 0]], minlength=n)


def permuted_largest(knn: np.ndarray, now: np.ndarray, strata: np.ndarray, stratum: int,
                     settings: GroupSettings, evidence: np.ndarray | None = None) -> Iterator[tuple[int, int]]:
    """Per permutation, the largest group (in `evidence` rows; all when None) that `stratum` holds
    most of when its tickets of this week are redrawn at random from all its tickets (other themes'
    weeks as they are), as (tickets, links): of groups of equal size, the one with more links."""
    rng = np.random.default_rng(settings.seed)
    pool = np.flatnonzero(strata == stratum)
    fixed = now & (strata != stratum)
    count = int(now[pool].sum())
    n_strata = int(strata.max()) + 1
    for _ in range(settings.permutations):
        member = fixed.copy()
        member[rng.choice(pool, count, replace=False)] = True
        counted = member if evidence is None else member & evidence
        component, majority, links = _groups(knn, member, strata, n_strata, counted)
        sizes = np.bincount(component[counted], minlength=len(majority))
        own = np.flatnonzero((majority == stratum) & (sizes > 0))
        best = own[np.lexsort((links[own], sizes[own]))[-1]] if len(own) else None
        yield (0, 0) if best is None else (int(sizes[best]), int(links[best]))


def p_value(size: tuple[int, int], null: Iterator[tuple[int, int]], settings: GroupSettings,
            tested: int) -> float | None:
    """Monte Carlo p-value of a group this large ((tickets, links), compared in that order), or None
    once it cannot be significant any more (sequential stopping: the permutations that would follow
    cannot change the decision); `tested`: the themes holding a candidate."""
    allowed = settings.max_p_value / tested * (1 + settings.permutations) - 1
    exceed = 0
    for largest in null:
        exceed += largest >= size
        if exceed > allowed:
            return None
    return (1 + exceed) / (1 + settings.permutations)


def scan(now: np.ndarray, theme_of: Sequence[str | None], customers: Sequence[object], table: Neighbours,
         settings: GroupSettings = GroupSettings(), evidence: np.ndarray | None = None,
         young: Set[str] = frozenset(), weeks: Sequence[np.ndarray] = ()
         ) -> list[tuple[np.ndarray, str | None, float]]:
    """(rows, theme most of them were in, p-value) of each group of the `now` tickets that is new;
    `evidence`: the rows that may count toward a group (step 2; all when None); `young`: groups whose
    birth week is in the window, which hold none (step 2); `weeks`: the weeks' rows a group must hold
    `settings.fortnight_min` of each (step 5). The others are not tested but still count in the
    correction: how a group's tickets fall across the weeks is as random as its size."""
    names = sorted({t for t in theme_of if t is not None})
    code = {t: i for i, t in enumerate(names)}
    strata = np.array([code.get(t, len(names)) for t in theme_of])  # outliers: one more stratum
    knn = table.need(np.flatnonzero(now))
    counted_rows = now if evidence is None else now & evidence
    component, majority, links = _groups(knn, now, strata, len(names) + 1, counted_rows)
    candidates, tested_themes = [], set()
    for c, rows in _week_components(component, counted_rows, settings.min_tickets):
        stratum = int(majority[c])
        if len({customers[i] for i in rows}) >= settings.min_customers and (
                stratum == len(names) or names[stratum] not in young):
            tested_themes.add(stratum)
            if all(int(week[rows].sum()) >= settings.fortnight_min for week in weeks):
                candidates.append((rows, stratum, int(links[c])))
    if not candidates:
        return []
    knn = table.need(np.flatnonzero(np.isin(strata, [s for _, s, _ in candidates]) & ~now))
    out = []
    for rows, s, inner in candidates:
        if _attached(knn, now, strata == s, rows, settings.min_tickets):
            continue
        p = p_value((len(rows), inner), permuted_largest(knn, now, strata, s, settings, evidence), settings,
                    len(tested_themes))
        if p is not None:
            out.append((rows, names[s] if s < len(names) else None, p))
    return out


def _attached(knn: np.ndarray, now: np.ndarray, stratum: np.ndarray, rows: np.ndarray, min_tickets: int) -> bool:
    """Whether the stratum's earlier tickets take one of `rows` as their nearest neighbour
    `min_tickets` times, or (some do and) at least half as often as their share of the stratum
    predicts (step 4)."""
    earlier = np.flatnonzero(stratum & ~now)
    taken = int(np.isin(knn[earlier, 0], rows).sum())
    expected = len(earlier) * len(rows) / max(int(stratum.sum()) - 1, 1)
    return taken >= min_tickets or (taken > 0 and 2 * taken >= expected)


def _week_components(component: np.ndarray, now: np.ndarray, min_rows: int) -> list[tuple[int, np.ndarray]]:
    """(component, its rows of this week, ascending) for each component with `min_rows` of them,
    in one pass: a week of a large window has tens of thousands of components, mostly single."""
    rows = np.flatnonzero(now)
    return [(int(c), rows[at]) for c, at in rows_by_key(component[rows]).items() if len(at) >= min_rows]


def young(births: Mapping[str, object], window_start: object) -> set[str]:
    """Of the groups (id -> birth week), those that keep their own rule: born in the window's weeks
    (module docstring)."""
    start = pd.Timestamp(window_start)
    return {group for group, born in births.items() if pd.Timestamp(born) >= start}


def continue_groups(x: np.ndarray, now: np.ndarray, ticket_ids: Sequence[str], theme_of: list[str | None],
                    previous_groups: Sequence[identity.Theme], settings: GroupSettings) -> tuple[list[str | None], np.ndarray]:
    """(theme per ticket, rows restored to their group): earlier group tickets stay, new ones join by kNN
    vote when most of the votes go to the group beyond its share of the earlier tickets
    (`cluster.most_beyond_share`): a group holding most of a diffuse window wins most votes by its
    size alone, and took 27 of a week's 36 prisma bug titles so."""
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
    asked = current[_may_join(x, current, earlier, out, alive, k)]
    nearest = nearest_among(x, asked, earlier, k)  # in blocks: this week x the window is gigabytes at scale
    share = Counter(out[j] for j in earlier)
    for i, near in zip(asked, nearest, strict=True):
        votes = Counter(out[j] for j in near).most_common(1)[0]
        if votes[0] in alive and most_beyond_share(votes[1] / k, share[votes[0]] / len(earlier)):
            out[i] = votes[0]
    return out, restored


def _may_join(x: np.ndarray, current: np.ndarray, earlier: np.ndarray, theme_of: Sequence[str | None],
              alive: Set[str], k: int) -> np.ndarray:
    """Which of this week's tickets (`current`) a group in `alive` could win the vote of, exactly:
    winning takes more than k/2 of its members among the ticket's k nearest earlier tickets, all at
    least as similar as the k-th nearest, which is at least as similar as the k-th nearest among
    the earlier tickets of the ticket's own theme. A ticket whose (k/2 + 1)-th most similar member
    of every group is less similar than that cannot join, and is not searched for over the whole
    window (perf review: the search was a third of a steady week's clustering, for one ticket that
    joined)."""
    need, themes = k // 2 + 1, np.array(theme_of, dtype=object)
    pools = {theme: earlier[rows] for theme, rows in rows_by_key(themes[earlier]).items()}
    best = np.full(len(current), -np.inf)  # per ticket, its best (k/2 + 1)-th similarity to a group's members
    for group in alive & pools.keys():
        best = np.maximum(best, kth_similarity(x, current, pools[group], need))
    bound = np.full(len(current), -np.inf)  # each ticket's k-th nearest among its theme's earlier tickets
    for theme, rows in rows_by_key(themes[current]).items():
        if theme not in alive and theme in pools:
            bound[rows] = kth_similarity(x, current[rows], pools[theme], k)
    return best >= bound - 1e-6  # a product's last bits may differ between block shapes: ties are searched


def _next_ids(week_ids: Set[str], week: object, n: int) -> list[str]:
    """`n` fresh ids of the week's form, numbered after those the week already uses."""
    used = {t for t in week_ids if t.startswith(identity.new_theme_id(week, 0)[:-2])}  # type: ignore[arg-type]
    start = 1 + max((int(t.rsplit("-", 1)[1]) for t in used), default=-1)
    return [identity.new_theme_id(week, start + j) for j in range(n)]  # type: ignore[arg-type]


def find_groups(week: object, now: np.ndarray, theme_of: Sequence[str | None], customers: Sequence[object],
                search: Search, settings: GroupSettings = GroupSettings(),
                fresh: Iterator[str] | None = None, words: Sequence[int] | None = None,
                young: Set[str] = frozenset(), last: np.ndarray | None = None,
                born_recently: Set[str] = frozenset()) -> list[Group]:
    """This week's new groups, each with a fresh id (from `fresh`, the week's id sequence, when the
    window is clustered in parts) and the theme it grew in; `words`: each ticket's words of meaning
    (all count when None); `young`: the groups that hold none (`scan`); `last`: last week's tickets,
    for the groups of two weeks (step 5), which no theme in `born_recently` (this week or last) holds."""
    evidence = None if words is None else np.asarray(words) >= settings.min_words
    table = Neighbours(len(now), search, settings.search_width)
    found = scan(now, theme_of, customers, table, settings, evidence, young)
    if last is not None and last.any():
        # Last week's tickets of a young group were its issue's news then: earlier tickets now.
        fortnight = now | (last & ~np.isin(np.array(theme_of, dtype=object), list(young)))
        for rows, _, _ in found:
            fortnight[rows] = False
        found += [(rows, parent, p) for rows, parent, p in scan(
            fortnight, theme_of, customers, table, settings, evidence, young | born_recently, weeks=(now, last))]
    ids = [next(fresh) for _ in found] if fresh is not None else _next_ids({t for t in theme_of if t}, week, len(found))
    return [Group(theme_id, parent, rows, p) for theme_id, (rows, parent, p) in zip(ids, found, strict=True)]


def carve(week: object, x: np.ndarray, ticket_ids: Sequence[str], now: np.ndarray, customers: Sequence[object],
          tracked: identity.Tracked, previous: Sequence[identity.Theme], group_ids: Set[str], search: Search,
          settings: GroupSettings = GroupSettings(), fresh: Iterator[str] | None = None,
          words: Sequence[int] | None = None, last: np.ndarray | None = None,
          born_last_week: Set[str] = frozenset()) -> Carved:
    """Apply groups to a tracked week: continue last week's groups, split off this week's new ones.

    `now`: True for this week's tickets; `group_ids`: ids of the themes that were born as groups;
    `search`: the window's neighbour search (the clustering's own, or the theme cells'); `words`:
    each ticket's words of meaning (None: unknown, all count); `last`, `born_last_week`: last week's
    tickets and the themes born then, for the groups of two weeks (`find_groups`), which no theme born
    then or this week holds.
    """
    previous_groups = [p for p in previous if p.theme_id in group_ids]
    theme_of, restored = continue_groups(x, now, ticket_ids, tracked.theme_of, previous_groups, settings)
    own = {g.theme_id for g in previous_groups}  # a group's series is its own rule's, not the clustering's
    series_of = [t if now[i] or t in own else s for i, (t, s) in enumerate(zip(theme_of, tracked.series_of, strict=True))]
    born = {t for t in series_of if t is not None} - {p.theme_id for p in previous}  # this week, by the clustering
    groups = find_groups(week, now, series_of, customers, search, settings, fresh, words, young=own, last=last,
                         born_recently=born_last_week | born)
    for group in groups:
        for i in group.rows:
            theme_of[i] = series_of[i] = group.theme_id
    grouped = np.array([a != b for a, b in zip(theme_of, tracked.theme_of, strict=True)], dtype=bool) & ~restored
    events = identity.events(list(previous), list(ticket_ids), theme_of)
    by_id = {g.theme_id: g for g in groups}
    for event in events:
        group = by_id.get(str(event["theme_id"]))
        if group is None:
            continue
        where = f"inside {group.parent_id}" if group.parent_id else "among the outliers"
        event.update(event=NEW_GROUP, related_theme_ids=[group.parent_id] if group.parent_id else [],
                     detail=f"{_tickets_when(group.rows, now)}, {where}, with no close neighbours in earlier weeks")
    return Carved(theme_of, series_of, tracked.kept | restored, events, groups, grouped)


def last_week(week: date, ticket_weeks: Sequence[date], first_seen: Mapping[str, date]) -> tuple[np.ndarray, set[str]]:
    """What the groups of two weeks need (step 5): last week's tickets of the window (a mask over its
    `ticket_weeks`) and the themes first seen then (of `first_seen`, theme -> first week)."""
    before = week - timedelta(weeks=1)
    return (pd.Series(ticket_weeks) == before).to_numpy(), {t for t, w in first_seen.items() if w == before}


def _tickets_when(rows: np.ndarray, now: np.ndarray) -> str:
    """A group's tickets as its event says them: "12 tickets this week", or "4 tickets this week and
    5 last week" for a group of two weeks."""
    this = int(now[rows].sum())
    return f"{this} tickets this week" + (f" and {len(rows) - this} last week" if this < len(rows) else "")
