"""Keep a theme's id across weekly re-clusterings of overlapping windows.

1. Each run's clusters are matched one-to-one to the previous run's themes by an optimal
   assignment (Hungarian) on a score mixing centroid cosine similarity and ticket overlap
   (Jaccard over tickets present in both windows); a matched cluster inherits the theme id,
   the others get new ids.
2. Re-clustering a window that shares 7 of its 8 weeks with the last one still moves tickets
   between neighbouring clusters, splits a theme one week and re-joins it the next, because
   HDBSCAN's choices on loosely separated data flip on small changes. So membership has
   hysteresis: a ticket that was in theme P last week stays in P, whatever the new clustering
   says, as long as P continues and the ticket still fits P's new cluster, i.e. its similarity
   to that centroid is inside the cluster's Tukey fence (the test that admits noise points,
   see cluster.py), and is no firmer member of the cluster the new fit put it in: nearer that
   cluster's centroid than P's by more than the spread of that cluster's members (their
   interquartile range of similarity to it) is no boundary case, it is a piece the fit cut out (a
   loose match's wide fence admitted every old ticket, and a Swift theme held 85 % of every window
   for three months by hysteresis alone). A homogeneous theme cut in two at random stays whole:
   each ticket is only a little nearer its own half. Tickets that no longer fit, and new tickets,
   follow the new clustering. So do
   the tickets of a theme the new clustering split, keeping less than half of its clustered
   tickets in its match: hysteresis smooths a boundary, it does not hold together a theme the
   data no longer holds together (a first week's coarse theme, whose loose match's fence admits
   all its old tickets, would otherwise never split: twcs leftover tweets on TV, banks and apps
   stayed one theme of 95 for two months).
   A new theme left smaller than the minimum cluster size once its old tickets stayed home is
   not a theme: its tickets join the nearest theme whose fence they are inside, or are outliers.
   Hysteresis only ever holds back tickets of earlier weeks (this week's are all new), so counting
   a theme's earlier weeks by it would compare this week's tickets, placed by the clustering, with
   earlier ones placed by last week's: a piece that splits off collects this week's tickets while
   its older look-alikes stay home, and looks like a spike or a new pattern. Weekly counts
   (trend, alerts) therefore use `series_of`: each ticket where this run's clustering put it
   (or, if that theme was dissolved, where it finally went).
3. Events compare the final ticket sets: a previous theme that still has tickets continued;
   a new id is a split when it is mostly a piece of an old theme: at least half of its tickets
   were in last week's window, and most of those in one continuing theme; otherwise new (24
   PowerToys reports of a new module, two of whose earlier tickets sat in another theme, were a
   "split" and no new pattern); a previous theme with no tickets left merged when most of its tickets
   went to one theme, otherwise faded.
4. An id is issued once, ever. Ids are numbered by week of birth, so when a week is clustered
   again on changed history (an export pruned, then put back) its new themes would take the
   numbers its old themes held, and reviews and tracker links, keyed by id, would follow a number
   to another theme. A week's clusters are therefore matched, in one assignment, to last week's
   themes and to the themes earlier runs of this week or a later one gave ids (`matched`): an id
   goes to the cluster that continues it or is the theme it was given to, and never to one sharing
   no ticket with that theme, so a week run again on a few late tickets gives each half of a split the
   id it had, not the one last week alone suggests. New themes a placed week or the new-group scan
   finds take back such ids the same way (`reissued`), and the others get numbers no run has issued
   (`new_ids`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import count

import numpy as np
from scipy.optimize import linear_sum_assignment

from ticket_intel.core.cluster import (
    OUTLIER,
    backgrounds,
    centroids,
    fence_and_spread,
    member_similarities,
    members,
)

MIN_SCORE = 0.5
OVERLAP_WEIGHT = 0.5
VETO = -2.0  # below any score: the pair is never matched


@dataclass(frozen=True)
class Theme:
    theme_id: str
    centroid: np.ndarray
    ticket_ids: frozenset[str]


@dataclass
class Tracked:
    theme_of: list[str | None]  # theme id per ticket, None for outliers
    kept: np.ndarray  # True where hysteresis kept the ticket in last week's theme
    events: list[dict[str, object]]
    series_of: list[str | None]  # theme id per ticket by this run's clustering alone, for weekly counts


def new_theme_id(week: date, k: int) -> str:
    """An id says the week the theme was born and its order among that week's new themes."""
    return f"T{week:%Y%m%d}-{k:02d}"


def new_ids(week: date, issued: frozenset[str] = frozenset()) -> Iterator[str]:
    """Fresh ids for themes born in `week`, in order, skipping those any run has `issued`; one
    iterator per week keeps them unique when a window is clustered in several parts (products)."""
    return (i for i in (new_theme_id(week, k) for k in count()) if i not in issued)


def match(
    week: date, current: dict[int, Theme], previous: list[Theme],
    min_score: float = MIN_SCORE, overlap_weight: float = OVERLAP_WEIGHT, fresh: Iterator[str] | None = None,
    earlier: Sequence[Theme] = (),
) -> dict[int, str]:
    """Theme id per cluster: the matched previous or `earlier` theme's, or a new one (numbered in cluster order)."""
    ids = matched(current, previous, min_score, overlap_weight, earlier)
    fresh = fresh or new_ids(week)
    for cluster in current:
        if cluster not in ids:
            ids[cluster] = next(fresh)
    return ids


def reissued(fresh: list[Theme], earlier: list[Theme], others: Sequence[Theme] = ()) -> dict[str, str]:
    """Of the themes this run gave new ids (`fresh`), those that are a theme an earlier run of this
    week or a later one issued an id to (`earlier`, no longer held by a theme of this run), with that
    id: the same rule as week to week, so a re-run on unchanged history gives back every id. A theme
    must also hold tickets of the one it takes the id of: by centroid alone (the rule between windows
    that share no ticket) an id would pass to a look-alike. The assignment is over all this run's
    themes (`others`: those holding an id already), and an earlier theme matched to one of those is
    taken back by none: scored among the fresh ones alone, the tickets of an earlier theme that now
    sit in a continuing theme were out of sight, and a fresh theme holding a few of them looked like
    all of it (an 18-ticket mix took the id of a 90-ticket theme whose tickets had stayed in its parent)."""
    themes = dict(enumerate([*fresh, *others]))
    return {fresh[k].theme_id: theme_id for k, theme_id in matched(themes, [], earlier=earlier).items()
            if k < len(fresh)}


def matched(
    current: dict[int, Theme], previous: list[Theme],
    min_score: float = MIN_SCORE, overlap_weight: float = OVERLAP_WEIGHT, earlier: Sequence[Theme] = (),
) -> dict[int, str]:
    """The clusters an optimal one-to-one assignment gives an id scoring at least `min_score`.

    The ids are those of `previous` (last week's themes) and of `earlier` (what runs of this week or a
    later one gave them to, core/identity.py point 4), each scored by the better of its two versions,
    and none goes to a cluster that shares no ticket with its `earlier` theme: when a week runs again,
    the id named that theme in this week, and reviews, tracker links and dashboards were keyed on it.
    The assignment keeps as many of last week's themes as it can (a theme that continues keeps its id:
    a 6-ticket twcs theme put back with its export lost its id to the one the pruned run had given its
    tickets), and of those assignments takes the best scoring.
    Matched to last week alone, which half of a split kept the parent's id flipped with 12 late
    tickets ("Open account · children" became "Delete account"), and a piece that an earlier run split
    off weeks later under an id of its own took the parent's ("Charged fee" took "Cash · ATM"'s).
    """
    clusters = list(current)
    names = list(dict.fromkeys(t.theme_id for t in (*previous, *earlier)))
    if not clusters or not names:
        return {}
    column = {n: j for j, n in enumerate(names)}
    themes = [current[c] for c in clusters]
    score = np.full((len(clusters), len(names)), VETO)
    continues = np.zeros(score.shape, dtype=bool)
    for versions in (previous, earlier):
        for j, s in zip((column[t.theme_id] for t in versions), _scores(themes, versions, overlap_weight).T,
                        strict=True):
            score[:, j] = np.maximum(score[:, j], s)
            continues[:, j] |= (s >= min_score) & (versions is previous)
    for t in earlier:
        shares = np.array([bool(c.ticket_ids & t.ticket_ids) for c in themes])
        score[~shares, column[t.theme_id]] = VETO
        continues[~shares, column[t.theme_id]] = False
    outweigh = (1 - VETO) * min(score.shape) + 1  # more than scores can differ in total: continuations count first
    chosen = linear_sum_assignment(-(score + outweigh * continues))
    return {clusters[r]: names[c] for r, c in zip(*chosen, strict=True) if score[r, c] >= min_score}


def _scores(current: list[Theme], previous: Sequence[Theme], overlap_weight: float) -> np.ndarray:
    """Per (cluster, theme): centroid cosine, mixed with the Jaccard overlap of their tickets present in
    both windows when the windows share any."""
    cos = np.array([[float(c.centroid @ p.centroid) for p in previous] for c in current]).reshape(
        len(current), len(previous))
    shared = set().union(*(t.ticket_ids for t in current)) & set().union(*(t.ticket_ids for t in previous))
    if not shared:
        return cos
    jac = np.zeros_like(cos)
    for i, c in enumerate(current):
        a = c.ticket_ids & shared
        for j, p in enumerate(previous):
            b = p.ticket_ids & shared
            jac[i, j] = len(a & b) / len(a | b) if a | b else 0.0
    return (1 - overlap_weight) * cos + overlap_weight * jac


def track(
    week: date,
    x: np.ndarray,
    ticket_ids: list[str],
    labels: np.ndarray,
    previous: list[Theme],
    min_size: int,
    hysteresis: bool = True,
    fresh: Iterator[str] | None = None,
    earlier: Sequence[Theme] = (),
) -> Tracked:
    """Theme id per ticket for this run's clustering, with hysteresis and the events it implies
    (`earlier`: the themes runs of this week or a later one gave ids, see `matched`)."""
    cents = centroids(x, labels)
    ids = np.asarray(ticket_ids, dtype=object)
    current = {c: Theme(str(c), v, frozenset(ids[labels == c].tolist())) for c, v in cents.items()}
    theme_ids = match(week, current, previous, fresh=fresh, earlier=earlier)
    clustered = [theme_ids[int(c)] if c != OUTLIER else None for c in labels]
    theme_of = list(clustered)
    kept = np.zeros(len(labels), dtype=bool)
    if hysteresis and previous:
        sims = member_similarities(x, labels, cents)
        background = backgrounds(x, members(labels, cents), cents)
        fenced = {c: fence_and_spread(v, background[c]) for c, v in sims.items()}
        floor, band = {c: f for c, (f, _) in fenced.items()}, {c: b for c, (_, b) in fenced.items()}
        rows = _rows(ticket_ids, previous)
        cluster_of = {t: c for c, t in theme_ids.items()}
        refs = _references(x, labels, cents, floor, cluster_of, rows, min_size)
        before = {t: p.theme_id for p in previous if p.theme_id in refs for t in p.ticket_ids}
        split = _split(labels, cluster_of, rows)
        for i, ticket in enumerate(ticket_ids):
            old = before.get(ticket)
            if old is not None and old != theme_of[i]:
                centroid, fence = refs[old]
                near = float(x[i] @ centroid)
                if near >= fence and (labels[i] == OUTLIER or (
                        old not in split and float(x[i] @ cents[labels[i]]) - near <= band[labels[i]])):
                    theme_of[i], kept[i] = old, True
        known = {p.theme_id for p in previous}
        theme_of = _dissolve_small(x, theme_of, cents, floor, theme_ids, known, min_size)
    alive = set(theme_of)  # a dissolved new theme's tickets count where they were finally placed
    series_of = [c if k and c in alive else t for t, c, k in zip(theme_of, clustered, kept, strict=True)]
    return Tracked(theme_of, kept, events(previous, ticket_ids, theme_of), series_of)


def _rows(ticket_ids: list[str], previous: list[Theme]) -> dict[str, list[int]]:
    """Per previous theme, the rows of this window that hold its tickets, in row order."""
    row = {t: i for i, t in enumerate(ticket_ids)}
    return {p.theme_id: sorted(row[t] for t in p.ticket_ids if t in row) for p in previous}


def _split(labels: np.ndarray, cluster_of: dict[str, int], rows: dict[str, list[int]]) -> set[str]:
    """The matched previous themes whose clustered tickets the new clustering put mostly (over half)
    in clusters other than their match."""
    out = set()
    for theme_id, c in cluster_of.items():
        got = [int(labels[i]) for i in rows.get(theme_id, []) if labels[i] != OUTLIER]
        if got and 2 * sum(g == c for g in got) < len(got):
            out.add(theme_id)
    return out


def _references(
    x: np.ndarray, labels: np.ndarray, cents: dict[int, np.ndarray], floor: dict[int, float],
    cluster_of: dict[str, int], rows: dict[str, list[int]], min_size: int,
) -> dict[str, tuple[np.ndarray, float]]:
    """Per previous theme that lives on, the (centroid, fence) its old tickets are tested against.

    A matched theme is tested against its new cluster. An unmatched one lives on with its own
    remaining tickets unless the new clustering merged it (a cluster holds at least half of
    them and their centroid lies inside that cluster's fence) or fewer than `min_size` remain.
    """
    refs: dict[str, tuple[np.ndarray, float]] = {}
    for theme_id, held_rows in rows.items():
        if theme_id in cluster_of:
            c = cluster_of[theme_id]
            refs[theme_id] = (cents[c], floor[c])
            continue
        if len(held_rows) < min_size:
            continue
        v = x[held_rows].mean(axis=0)
        v = v / (np.linalg.norm(v) or 1.0)
        held = Counter(int(labels[i]) for i in held_rows if labels[i] != OUTLIER).most_common(1)
        if held and 2 * held[0][1] >= len(held_rows) and float(v @ cents[held[0][0]]) >= floor[held[0][0]]:
            continue
        refs[theme_id] = (v, fence_and_spread(x[held_rows] @ v, backgrounds(x, {0: np.array(held_rows)}, {0: v})[0])[0])
    return refs


def _dissolve_small(
    x: np.ndarray, theme_of: list[str | None], cents: dict[int, np.ndarray],
    floor: dict[int, float], theme_ids: dict[int, str], known: set[str], min_size: int,
) -> list[str | None]:
    """A new theme smaller than a theme may be gives its tickets to the nearest theme whose floor
    they clear, or to none: a fragment is no theme, and no id should be spent on it."""
    sizes = Counter(t for t in theme_of if t is not None)
    small = {t for t, n in sizes.items() if n < min_size and t not in known}
    if not small:
        return theme_of
    keep = [c for c, t in theme_ids.items() if t not in small and sizes.get(t)]
    out = list(theme_of)
    for i, t in enumerate(theme_of):
        if t in small:
            out[i] = None
            if keep:
                sims = [float(x[i] @ cents[c]) for c in keep]
                best = int(np.argmax(sims))
                if sims[best] >= floor[keep[best]]:
                    out[i] = theme_ids[keep[best]]
    return out


def events(previous: list[Theme], ticket_ids: list[str], theme_of: list[str | None]) -> list[dict[str, object]]:
    """continued / new / split / merged / faded, from the final ticket sets of both runs."""
    now: dict[str, set[str]] = {}
    for ticket, theme in zip(ticket_ids, theme_of, strict=True):
        if theme is not None:
            now.setdefault(theme, set()).add(ticket)
    prev = {p.theme_id: p for p in previous}
    shared = set(ticket_ids) & set().union(*(p.ticket_ids for p in previous)) if previous else set()
    out: list[dict[str, object]] = []
    for theme in sorted(now):
        if theme in prev:
            stayed = len(now[theme] & prev[theme].ticket_ids)
            base = len(prev[theme].ticket_ids & shared) or 1
            out.append({"theme_id": theme, "event": "continued", "related_theme_ids": [],
                        "detail": f"kept {stayed / base:.0%} of its tickets still in the window"})
            continue
        earlier = now[theme] & shared  # its tickets last week's window held
        origin = _main_share(earlier, {t: p.ticket_ids for t, p in prev.items() if t in now})
        if origin is not None and origin[1] >= 0.5 and 2 * len(earlier) >= len(now[theme]):
            out.append({"theme_id": theme, "event": "split", "related_theme_ids": [origin[0]],
                        "detail": f"{origin[1]:.0%} of its earlier tickets were in {origin[0]}"})
        else:
            out.append({"theme_id": theme, "event": "new", "related_theme_ids": [], "detail": ""})
    for theme in sorted(set(prev) - set(now)):
        dest = _main_share(prev[theme].ticket_ids & shared, now)
        if dest is not None and dest[1] >= 0.5:
            out.append({"theme_id": theme, "event": "merged", "related_theme_ids": [dest[0]],
                        "detail": f"{dest[1]:.0%} of its tickets are now in {dest[0]}"})
        else:
            out.append({"theme_id": theme, "event": "faded", "related_theme_ids": [], "detail": ""})
    return out


def _main_share(
    tickets: set[str] | frozenset[str], themes: dict[str, set[str]] | dict[str, frozenset[str]]
) -> tuple[str, float] | None:
    """The theme holding most of `tickets` (ties: smallest id), with the share it holds."""
    if not tickets:
        return None
    best = max(sorted(themes), key=lambda t: len(tickets & themes[t]), default=None)
    if best is None or not tickets & themes[best]:
        return None
    return best, len(tickets & themes[best]) / len(tickets)


def themes_of(x: np.ndarray, ticket_ids: list[str], theme_of: list[str | None]) -> list[Theme]:
    """The themes as they end up after tracking (centroid over final members), sorted by id."""
    members: dict[str, list[int]] = {}
    for i, theme in enumerate(theme_of):
        if theme is not None:
            members.setdefault(theme, []).append(i)
    out = []
    for theme, rows in sorted(members.items()):
        v = x[rows].mean(axis=0)
        out.append(Theme(theme, v / (np.linalg.norm(v) or 1.0), frozenset(ticket_ids[i] for i in rows)))
    return out
