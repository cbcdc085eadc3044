"""A weekly run without a refit: the window's tickets placed into last week's themes.

Re-clustering the whole window every week (UMAP + HDBSCAN on up to 50k tickets) costs several
times the embedding of the week's own tickets, while seven of the window's eight weeks were
clustered last week already. So between full fits a week is placed:

1. Window tickets that were members of one of last week's themes keep it (assignment `kept`).
2. Every other window ticket (this week's, and earlier outliers) joins its nearest theme centroid
   when that theme's fence admits it, the rule `cluster.soft_assign` applies to noise points
   (`placed`); otherwise it goes to the pool (step 3). A theme with no member left fades.
   Every window ticket, this week's and earlier ones alike, is *counted* (its series, which
   weekly counts, trends and spikes read) by that same rule. Counting earlier weeks where the last
   fit's clustering put them and this week by the rule made counts jump in the first placed week:
   HDBSCAN's clusters, drawn on the UMAP layout, are not nearest-centroid cells. On a 100k
   warehouse (bench.pipeline, 10k tickets a week) one theme's weekly counts read
   `[60, 65, 88, 62, 62, 8]` and then 109 with nothing happening, which refit every week on
   growth and would have raised false spikes.
   A ticket the nearest theme rejects does not try the next nearest: a loose theme (the sample
   has one whose fence is at similarity 0.08) then becomes a sink for every rejected ticket
   around it. On the sample, with `window` as the policy, the Enterprise customers' theme so took
   in tickets of ten other issues in placed weeks (6 of 18 one week), and its segment test no
   longer found it "mostly Enterprise".
   A theme's fence is the one drawn around the tickets the fit's clustering put in it (its series
   that week) in the week it was fit or born (`staging.themes.fence`), not one redrawn around the
   tickets it counts now: those include the tickets placed into it, whose lower similarities would
   widen the next week's fence, which would admit lower ones still.
   Centroids come from the tickets each theme counted last week (its series, core/identity.py),
   not those hysteresis kept in it: placing by the kept ones would blur a theme into its
   neighbours. A kept ticket stays a member of its theme whatever it is counted in.
3. The tickets their nearest theme's fence rejects are the pool where new themes are born: when it holds at least
   twice the window's minimum cluster size (the least `cluster.cluster` can split), it is clustered
   alone. A group of at least that size becomes a new theme when its typical ticket (the median
   similarity to its centroid) is as close as the loosest theme's fence admits, which keeps
   scattered outliers from becoming a theme, and its tickets are more similar to each other than
   to the scope's other tickets and than two of them drawn at random (`cluster.cohesive`). HDBSCAN never returns a single cluster, while a pool
   may be one new issue alone: when it finds none, the pool's tickets inside its own Tukey fence
   are the one candidate. The rest stay outliers.

A placement is only as good as the last fit's themes. `RefitPolicy` decides when a scope is fit
again in full (see there); the caller runs the full path then.

New groups inside old themes (`subgroups.carve`) need each ticket's nearest neighbours. Searching
the whole window is the quadratic cost this path avoids, so the themes serve as the cells of an
inverted-file index (`cell_neighbours`). Searching only within each theme was cheaper but not the
same graph: a ticket's neighbour slots then all go to its own theme, the theme's tickets link up
more densely, the permutation test's null grows, and on bench.alerts' adjacent pairs a new intent
inside an old one was found less often (recall 0.17 / 0.58 for B = 6 / 12 against 0.25 / 0.67 with
the window's exact neighbours).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
from scipy.stats import binomtest

from ticket_intel.core import anomalies, cluster, identity

KEPT, PLACED, FIT, OUTLIER = "kept", "placed", "fit", "outlier"
PROBES = 3  # theme cells each ticket's neighbours are searched in; see cell_neighbours
GROWTH = 2.0  # window growth (or shrinkage) factor past which a scope is fit again; see RefitPolicy


@dataclass(frozen=True)
class Fit:
    """A scope's last full fit: its week, its window's tickets and the share it left as outliers."""

    week: date
    tickets: int
    outliers: float


@dataclass(frozen=True)
class RefitPolicy:
    """When a scope is fit in full instead of placed.

    - When it has no previous themes, or their last full fit is unknown.
    - When the window holds more than `GROWTH` times, or less than 1/`GROWTH` of, the tickets the last
      fit's window held: themes are sized for their window (minimum cluster size sqrt(n)/2), and
      the fit's would then be over 40% off; a young warehouse, whose window fills week by week, is
      so fit again whenever its history has doubled (never placing into the coarse themes of a
      first week's handful of tickets).
    - When the last full fit is at least `weeks` old. The default is the window's length: then no
      theme rests on a fit whose tickets have all left the window. 0 or 1: every week.
    - When the week drifts: the share of this week's tickets outside every fence is clearly above
      the share of the window the last fit left as outliers, "clearly" as a spike is clear
      (anomalies: at least `min_ratio` times, and a one-sided binomial test, this week's tickets as
      independent draws, below `max_p_value`). The test alone is not enough: the fit's fences
      were drawn around its own tickets, so tickets it never saw fall outside somewhat more often
      with unchanged themes, and at thousands of tickets a week the test flags that small gap (it
      refit about a quarter of the steady weeks of bench.alerts' adjacent-pair scenarios).
    - When a theme grows half-way to a spike (`grown`): placement keeps the last fit's resolution,
      so an intent lumped into a broad theme can triple while its theme grows too little to alert;
      a refit gives it a cluster of its own, whose series then spikes.
    """

    weeks: int
    max_p_value: float = 0.01
    min_ratio: float = 2.0
    spikes: anomalies.AlertSettings = field(default_factory=anomalies.AlertSettings)

    def due(self, week: date, tickets: int, fit: Fit | None) -> bool:
        """Whether a window of `tickets` ending at `week` is fit in full, given the last fit."""
        return (self.weeks <= 1 or fit is None or (week - fit.week).days // 7 >= self.weeks
                or not fit.tickets / GROWTH <= tickets <= fit.tickets * GROWTH)

    def drifted(self, outside: int, tickets: int, fit_share: float) -> bool:
        if not tickets or outside < self.min_ratio * fit_share * tickets:
            return False
        return binomtest(outside, tickets, fit_share, alternative="greater").pvalue < self.max_p_value

    def grown(self, series_of: Sequence[str | None], ticket_weeks: Sequence[date], week: date) -> bool:
        """Whether a theme's count this week is half-way to a spike: the spike test's count and
        p-value floors with half its ratio over 1 (1.5x for 2x). A sub-intent that is a third of
        its theme shows so when it triples, one that is half of it when it doubles. Each theme's
        baseline is the window's earlier weeks since its first ticket (as anomalies counts births)."""
        halfway = replace(self.spikes, min_ratio=1 + (self.spikes.min_ratio - 1) / 2)
        counts = Counter(zip(series_of, ticket_weeks, strict=True))
        earlier = sorted({w for w in ticket_weeks if w < week})
        for theme in {t for t in series_of if t is not None}:
            history = [counts[theme, w] for w in earlier]
            born = next((i for i, n in enumerate(history) if n), len(history))
            if anomalies.spike_test(counts[theme, week], history[born:], halfway).is_spike:
                return True
        return False

    @classmethod
    def parse(cls, weeks: str, window_weeks: int,
              spikes: anomalies.AlertSettings) -> RefitPolicy:
        """`weeks`: a whole number of weeks, or `window` for the window's length; `spikes`: the spike rule."""
        text = weeks.strip().lower()
        if text == "window":
            return cls(window_weeks, spikes=spikes)
        if not text.isdigit():
            raise ValueError(f"must be a whole number of weeks or `window`, not {weeks!r}")
        return cls(int(text), spikes=spikes)


def outlier_share(outliers: int, tickets: int) -> float:
    """The share of a fit's window left as outliers, by the rule of succession ((k + 1) / (n + 2)),
    so a fit that left none does not make every later outlier a drift."""
    return (outliers + 1) / (tickets + 2)


def fit_outliers(x: np.ndarray, centroids: np.ndarray, floors: np.ndarray) -> float:
    """The share of a fit's window that placement's rule (nearest centroid, inside its fence) would
    leave out: the drift test's baseline. Not the fit's own outliers: its clusters are not the
    nearest-centroid cells (HDBSCAN works on the UMAP layout), so a ticket like one of theme A's can
    lie nearest theme B's centroid and outside B's fence; such tickets are few among the fit's own
    outliers but many among the next week's placements, and every steady week looked drifted."""
    return outlier_share(int((~nearest_inside(x, centroids, floors)[1]).sum()), len(x))


@dataclass
class Placement:
    """A scope's window placed into last week's themes, as the week's step goes on with it."""

    tracked: identity.Tracked
    assignment: list[str]  # kept, placed, core/soft (a new theme from the pool) or outlier
    probabilities: np.ndarray  # HDBSCAN membership for pool clusters, else 0
    outside_now: int  # this week's tickets outside every fence, before the pool is clustered


def place(x: np.ndarray, ticket_ids: Sequence[str], now: np.ndarray,
          previous: Sequence[identity.Theme], series: Sequence[frozenset[str]], fences: Sequence[float | None],
          params: cluster.ClusterParams, fresh: Iterator[str]) -> Placement:
    """Steps 1-3 of the module docstring for one scope's window; `series[i]`: the tickets last week
    counted in `previous[i]` (its series, see core/identity.py); `fences[i]`: its fence, or None to
    draw one around its series."""
    names = [p.theme_id for p in previous]
    was = _labels(ticket_ids, {t: k for k, p in enumerate(previous) for t in p.ticket_ids})
    labels = _labels(ticket_ids, {t: k for k, s in enumerate(series) for t in s})
    floor = {**cluster.fences(x, labels, cluster.centroids(x, labels)),
             **{k: f for k, f in enumerate(fences) if f is not None}}
    counted = recount(x, labels, floor)
    pool = np.flatnonzero(counted == cluster.OUTLIER)
    kept = was != cluster.OUTLIER
    assignment = np.where(kept, KEPT, np.where(counted != cluster.OUTLIER, PLACED, OUTLIER)).astype(object)
    probabilities = np.zeros(len(x))
    if len(pool) >= 2 * params.min_cluster_size:
        loosest = min((floor[c] for c in set(counted.tolist()) - {cluster.OUTLIER}), default=1.0)
        found = born(x[pool], params, loosest)
        for (rows, how, strength), group in zip(found, cluster.cohesive(x, [pool[r] for r, _, _ in found]), strict=True):
            if not group:  # the pool's tickets are outliers: a blob of them is no closer than the scope's others
                continue
            counted[pool[rows]], assignment[pool[rows]], probabilities[pool[rows]] = len(names), how, strength
            names.append(next(fresh))
    theme_of = [names[c] if c != cluster.OUTLIER else None for c in np.where(kept, was, counted)]
    series_of = [names[c] if c != cluster.OUTLIER else None for c in counted]
    tracked = identity.Tracked(theme_of, kept, identity.events(list(previous), list(ticket_ids), theme_of), series_of)
    return Placement(tracked, assignment.tolist(), probabilities, int(now[pool].sum()))


def recount(x: np.ndarray, labels: np.ndarray, floor: dict[int, float] | None = None) -> np.ndarray:
    """Every row's theme by placement's rule: its nearest centroid (of the rows `labels` gives each
    theme) if that theme's fence admits it, else OUTLIER (`floor` per label; default: the lower
    Tukey fence of its rows)."""
    cents = cluster.centroids(x, labels)
    if not cents:
        return labels.copy()
    ids = np.array(list(cents))
    floor = floor if floor is not None else cluster.fences(x, labels, cents)
    best, inside = nearest_inside(x, np.stack([cents[c] for c in ids]), np.array([floor[c] for c in ids]))
    return np.where(inside, ids[best], cluster.OUTLIER)


def nearest_inside(x: np.ndarray, centroids: np.ndarray, floors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of the nearest of `centroids`, whether its floor admits the row) for each row of `x`."""
    best, inside = np.zeros(len(x), dtype=int), np.zeros(len(x), dtype=bool)
    if not len(centroids):
        return best, inside
    for start in range(0, len(x), cluster.BLOCK):
        sims = x[start:start + cluster.BLOCK] @ centroids.T
        best[start:start + cluster.BLOCK] = b = sims.argmax(axis=1)
        inside[start:start + cluster.BLOCK] = sims[np.arange(len(b)), b] >= floors[b]
    return best, inside


def _labels(ticket_ids: Sequence[str], code: dict[str, int]) -> np.ndarray:
    return np.array([code.get(t, cluster.OUTLIER) for t in ticket_ids], dtype=int)


def born(x: np.ndarray, params: cluster.ClusterParams, loosest: float) -> list[tuple[np.ndarray, list[str], np.ndarray]]:
    """The pool's new themes: (rows, assignment, membership strength) of each group of `x` (step 3)."""
    fitted = cluster.cluster(x, params)
    found = [(np.flatnonzero(fitted.labels == c), fitted) for c in range(fitted.n_clusters)]
    if not found:  # HDBSCAN never returns one cluster of everything: the pool may be one issue alone
        v = x.mean(axis=0)
        sims = x @ (v / (np.linalg.norm(v) or 1.0))
        found = [(np.flatnonzero(sims >= cluster.tukey_floor(sims)), None)]
    out = []
    for rows, by in found:
        v = x[rows].mean(axis=0)
        if len(rows) >= params.min_cluster_size and np.median(x[rows] @ (v / (np.linalg.norm(v) or 1.0))) >= loosest:
            how = [by.assignment[i] for i in rows] if by is not None else ["core"] * len(rows)
            out.append((rows, how, by.probabilities[rows] if by is not None else np.zeros(len(rows))))
    return out


def cell_neighbours(x: np.ndarray, theme_of: Sequence[str | None], k: int, probes: int = PROBES) -> cluster.Search:
    """The search for rows' k nearest rows of the window (no self) among the rows of the `probes`
    themes nearest their own (`cluster.cell_search`: the themes are the cells of an inverted-file
    index, drawn once for every search). Rows short of k candidates pad with themselves, which the
    new-group links ignore."""
    names = sorted({t for t in theme_of if t is not None})
    code = {t: i for i, t in enumerate(names)}
    labels = np.array([code.get(t, cluster.OUTLIER) for t in theme_of], dtype=int)
    cells, every = cluster.Cells.of(x, labels, probes), np.arange(len(x))
    return lambda rows: cluster.cell_search(x, cells, rows, every, k)
