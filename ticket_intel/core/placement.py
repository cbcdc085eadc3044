"""A weekly run without a refit: the window's tickets placed into last week's themes.

Re-clustering the whole window every week (UMAP + HDBSCAN on up to 50k tickets) costs several
times the embedding of the week's own tickets, while seven of the window's eight weeks were
clustered last week already. So between full fits a week is placed:

1. Window tickets that were members of one of last week's themes keep it (assignment `kept`).
2. Every other window ticket (this week's, and earlier outliers) joins the nearest theme centroid
   when it lies inside that theme's lower Tukey fence, the rule `cluster.soft_assign` applies to
   noise points (`placed`). Centroids and fences come from the members' vectors in this window; a
   theme with no member left fades.
3. The tickets outside every fence are the pool where new themes are born: when it holds at least
   twice the window's minimum cluster size (the least `cluster.cluster` can split), it is clustered
   alone. A group of at least that size becomes a new theme when its typical ticket (the median
   similarity to its centroid) is as close as the loosest theme's fence admits, which keeps
   scattered outliers from becoming a theme. HDBSCAN never returns a single cluster, while a pool
   may be one new issue alone: when it finds none, the pool's tickets inside its own Tukey fence
   are the one candidate. The rest stay outliers.

A placement is only as good as the last fit's themes. `RefitPolicy` decides when a scope is fit
again in full (see there); the caller runs the full path then.

New groups inside old themes (`subgroups.carve`) need each ticket's nearest neighbours. Searching
the whole window is the quadratic cost this path avoids, so neighbours are searched within each
stratum the group test permutes over (each theme's tickets, and the outliers): the test redraws a
stratum's tickets of this week from that stratum alone, so links inside strata are all it reads.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from scipy.stats import binomtest

from ticket_intel.core import cluster, identity

KEPT, PLACED, FIT, OUTLIER = "kept", "placed", "fit", "outlier"
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
    - When the week drifts: the share of this week's tickets outside every fence is above the share
      of the window the last fit left as outliers, by a one-sided binomial test at `max_p_value`
      (this week's tickets as independent draws; under "same themes" they fall outside as often as
      the fit's tickets did). 1% keeps a spurious refit to about one week in a hundred.
    """

    weeks: int = 8
    max_p_value: float = 0.01

    def due(self, week: date, tickets: int, fit: Fit | None) -> bool:
        """Whether a window of `tickets` ending at `week` is fit in full, given the last fit."""
        return (self.weeks <= 1 or fit is None or (week - fit.week).days // 7 >= self.weeks
                or not fit.tickets / GROWTH <= tickets <= fit.tickets * GROWTH)

    def drifted(self, outside: int, tickets: int, fit_share: float) -> bool:
        if not tickets:
            return False
        return binomtest(outside, tickets, fit_share, alternative="greater").pvalue < self.max_p_value

    @classmethod
    def parse(cls, weeks: str, window_weeks: int) -> RefitPolicy:
        """`weeks`: a whole number of weeks, or `window` for the window's length."""
        text = weeks.strip().lower()
        if text == "window":
            return cls(window_weeks)
        if not text.isdigit():
            raise ValueError(f"TICKET_INTEL_REFIT_WEEKS must be a whole number of weeks or `window`, not {weeks!r}")
        return cls(int(text))


def outlier_share(outliers: int, tickets: int) -> float:
    """The share of a fit's window left as outliers, by the rule of succession ((k + 1) / (n + 2)),
    so a fit that left none does not make every later outlier a drift."""
    return (outliers + 1) / (tickets + 2)


@dataclass
class Placement:
    tracked: identity.Tracked
    assignment: list[str]  # kept, placed, core/soft (a new theme from the pool) or outlier
    probabilities: np.ndarray  # HDBSCAN membership for pool clusters, else 0
    outside_now: int  # this week's tickets outside every fence, before the pool is clustered


def place(week: date, x: np.ndarray, ticket_ids: Sequence[str], now: np.ndarray,
          previous: Sequence[identity.Theme], params: cluster.ClusterParams, fresh: Iterator[str]) -> Placement:
    """Steps 1-3 of the module docstring for one scope's window."""
    code = {p.theme_id: k for k, p in enumerate(previous)}
    before = {t: code[p.theme_id] for p in previous for t in p.ticket_ids}
    labels = np.array([before.get(t, cluster.OUTLIER) for t in ticket_ids], dtype=int)
    kept = labels != cluster.OUTLIER
    labels, soft = cluster.soft_assign(x, labels)
    pool = np.flatnonzero(labels == cluster.OUTLIER)
    names = [p.theme_id for p in previous]
    assignment = np.where(kept, KEPT, np.where(soft, PLACED, OUTLIER)).astype(object)
    probabilities = np.zeros(len(x))
    if len(pool) >= 2 * params.min_cluster_size:
        loosest = min(cluster.fences(x, labels, cluster.centroids(x, labels)).values(), default=1.0)
        for rows, how, strength in born(x[pool], params, loosest):
            labels[pool[rows]], assignment[pool[rows]], probabilities[pool[rows]] = len(names), how, strength
            names.append(next(fresh))
    theme_of = [names[c] if c != cluster.OUTLIER else None for c in labels]
    tracked = identity.Tracked(theme_of, kept, identity.events(list(previous), list(ticket_ids), theme_of),
                               list(theme_of))
    return Placement(tracked, assignment.tolist(), probabilities, int(now[pool].sum()))


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
            how = [by.assignment[i] for i in rows] if by else ["core"] * len(rows)
            out.append((rows, how, by.probabilities[rows] if by else np.zeros(len(rows))))
    return out


def stratum_neighbours(x: np.ndarray, theme_of: Sequence[str | None], k: int) -> np.ndarray:
    """Each row's k nearest rows (no self) within its own theme, or among the outliers; a stratum of k
    rows or fewer pads with the row itself, which the mutual-link graph ignores."""
    n = len(x)
    knn = np.repeat(np.arange(n)[:, None], k, axis=1)
    strata: dict[str | None, list[int]] = {}
    for i, t in enumerate(theme_of):
        strata.setdefault(t, []).append(i)
    for members in strata.values():
        rows = np.asarray(members)
        m = min(k, len(rows) - 1)
        if m < 1:
            continue
        knn[rows, :m] = rows[cluster.neighbours(x[rows], m + 1)[0][:, 1:]]
    return knn
