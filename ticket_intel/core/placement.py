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
   alone and its groups of at least that size become new themes. The rest stay outliers.

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


@dataclass(frozen=True)
class RefitPolicy:
    """When a scope is fit in full instead of placed.

    - When it has no previous themes, or their last full fit is unknown.
    - When the last full fit is at least `weeks` old. The default is the window's length: then no
      theme rests on a fit whose tickets have all left the window. 0 or 1: every week.
    - When the week drifts: the share of this week's tickets outside every fence is above the share
      of the window the last fit left as outliers, by a one-sided binomial test at `max_p_value`
      (this week's tickets as independent draws; under "same themes" they fall outside as often as
      the fit's tickets did). 1% keeps a spurious refit to about one week in a hundred.
    """

    weeks: int = 8
    max_p_value: float = 0.01

    def due(self, week: date, last_fit: date | None) -> bool:
        return self.weeks <= 1 or last_fit is None or (week - last_fit).days // 7 >= self.weeks

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
        born = cluster.cluster(x[pool], params)
        sizes = np.bincount(born.labels[born.labels != cluster.OUTLIER], minlength=1)
        for c in range(len(sizes)):
            if sizes[c] >= params.min_cluster_size:
                rows = pool[born.labels == c]
                labels[rows], assignment[rows] = len(names), np.array(born.assignment, dtype=object)[born.labels == c]
                probabilities[rows] = born.probabilities[born.labels == c]
                names.append(next(fresh))
    theme_of = [names[c] if c != cluster.OUTLIER else None for c in labels]
    tracked = identity.Tracked(theme_of, kept, identity.events(list(previous), list(ticket_ids), theme_of),
                               list(theme_of))
    return Placement(tracked, assignment.tolist(), probabilities, int(now[pool].sum()))


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
