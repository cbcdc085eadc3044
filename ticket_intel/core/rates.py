"""Did a theme's weekly rate change? The exact conditional test for two Poisson rates.

Given `a` tickets over `ta` weeks and `b` tickets over `tb` weeks, and equal rates, each of
the n = a + b tickets falls in the second period with probability tb / (ta + tb), so b is
binomial(n, tb / (ta + tb)). The binomial tail is an exact p-value for "the second rate is
lower" (or higher) that needs no large-count approximation: it stays right for the 0-5
tickets a week most themes have. Used for "did the fix work?" (core/releases.py) and "did
the article help?" (core/help_center.py).

Real weekly counts are burstier than Poisson (outages, campaigns, one customer filing many
tickets), and a Poisson test then calls changes that are only noise. The quasi-Poisson remedy
is applied: the dispersion (variance / mean of the weekly counts before the change, at least 1)
is estimated from the first period and both counts are divided by it, so a theme whose weeks
swing twice as much as Poisson counts as half the evidence. On real GitHub bug-report series
this brings false "fixed" calls from 9-17% to 2-7% at a 5% level (`python -m bench.fix_status`).

A dispersion from a theme's last 4 weeks rests on 3 degrees of freedom, and one quiet week in them
doubles it. Where many series are seen together (a week's themes), each one's dispersion is
moderated toward their common one, as limma moderates a gene's variance toward all genes' (Smyth
2004, "Linear models and empirical Bayes methods for assessing differential expression in
microarray experiments") and edgeR a gene's count dispersion: a series' own dispersion s on d
degrees of freedom becomes (d0 s0 + d s) / (d0 + d) (`dispersion`). s0 is the series' common
dispersion (`dispersion_prior`): the median of their indexes, each scaled to be 1 for Poisson
counts, since a theme whose baseline holds its own burst or birth (Swift's weeks 23, 0, 2, an
index of 19.5) is a level shift, not the window's burstiness: it moved the mean of its week's 7
indexes from 1.2 to 3.0, their median from 1.41 to 1.55. d0, its weight, is edgeR's default of 10
degrees of freedom (`estimateTagwiseDisp(prior.df = 10)`), or the other series' if fewer: with one
theme there is nothing to moderate toward. d0 is not fitted from the series as limma's fitFDist
does: a window holds 1 to a few dozen themes of 0-5 tickets a week, many with weeks all alike (a
log-variance of minus infinity), and on twcs its estimate ran from 0.8 to infinity in consecutive
weeks. The rate test takes the moderated dispersion as known, as it took the theme's own: d0 + d
degrees of freedom make that less wrong, and enter nowhere else.

The same reasoning tells whether an export's last week was cut short (`cut_short`): after the
latest ticket, the week's rate fell to nothing; and whether the data's first week is partial
(`first_week_partial`): it holds far fewer tickets than the weeks after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import binomtest, chi2

Direction = Literal["less", "greater"]


@dataclass(frozen=True)
class RateComparison:
    before: float  # tickets per week in the first period
    after: float  # tickets per week in the second period
    p_value: float  # of the one-sided hypothesis that the second rate is `direction` than the first


@dataclass(frozen=True)
class DispersionPrior:
    """What many series' dispersions say of one's (module doc): their common dispersion and the
    degrees of freedom it rests on; `df` 0 leaves a series its own."""
    scale: float
    df: float


OWN = DispersionPrior(1.0, 0.0)
# The weight of the series' common dispersion against one's own, in degrees of freedom (edgeR's prior.df).
PRIOR_DF = 10


def dispersion_index(weekly_counts: Sequence[int]) -> tuple[float, int]:
    """Variance over mean of weekly counts (1 for Poisson counts, unclipped) and its degrees of
    freedom, weeks - 1; (1.0, 0) when it is undefined: fewer than two weeks, or none with tickets."""
    counts = np.asarray(weekly_counts, dtype=float)
    if len(counts) < 2 or counts.mean() <= 0:
        return 1.0, 0
    return float(counts.var(ddof=1) / counts.mean()), len(counts) - 1


def dispersion(weekly_counts: Sequence[int], prior: DispersionPrior = OWN) -> float:
    """The weeks' dispersion index moderated toward `prior`, the series' it pools these weeks among
    (module doc), at least 1 (Poisson); the prior's alone without two weeks of tickets, 1 with no
    prior either."""
    own, df = dispersion_index(weekly_counts)
    weight = min(PRIOR_DF, prior.df - df)  # the other series': its own weeks are no evidence twice
    if weight > 0:
        own = (weight * prior.scale + df * own) / (weight + df)
    return max(1.0, own)


def dispersion_prior(series: Iterable[Sequence[int]]) -> DispersionPrior:
    """The series' common dispersion (module doc): the median of their indexes, each over the median
    of its own Poisson sampling distribution (chi-square on its degrees of freedom, over them: 0.79
    for 3), and the degrees of freedom it rests on; `OWN` when no series has an index."""
    indexes = [index for index in map(dispersion_index, series) if index[1]]
    if not indexes:
        return OWN
    s2, df = (np.array(column, dtype=float) for column in zip(*indexes, strict=True))
    return DispersionPrior(float(np.median(s2 * df / chi2.median(df))), float(df.sum()))


def compare_rates(before_count: int, before_weeks: int, after_count: int, after_weeks: int,
                  direction: Direction, dispersion: float = 1.0) -> RateComparison:
    """One-sided exact test of the second period's rate against the first's; counts are
    divided by `dispersion` (see module doc) before testing, rates are reported as counted."""
    if before_weeks <= 0 or after_weeks <= 0:
        raise ValueError("both periods need at least one week")
    if before_count < 0 or after_count < 0:
        raise ValueError("ticket counts cannot be negative")
    if dispersion < 1:
        raise ValueError("dispersion is at least 1")
    a, b = round(before_count / dispersion), round(after_count / dispersion)
    share = after_weeks / (before_weeks + after_weeks)
    p_value = binomtest(b, a + b, share, alternative=direction).pvalue if a + b else 1.0
    return RateComparison(before_count / before_weeks, after_count / after_weeks, float(p_value))


def theme_weeks(counts: pd.DataFrame, theme_id: str, born: date | None) -> pd.Series:
    """A theme's row of a theme x week count table from its birth week on, zeros included:
    weeks before a theme existed are not weeks with no tickets."""
    row = counts.loc[theme_id] if theme_id in counts.index else pd.Series(0, index=counts.columns)
    return row[[born is None or w >= born for w in row.index]].astype(int)


# An export's last week is cut short when so many tickets would have come after its latest one
# that none coming would happen by chance less often than this.
CUT_P = 0.01


@dataclass(frozen=True)
class CutWeek:
    week: date
    latest: datetime  # the inbox's latest ticket
    covered: float  # the share of a usual week's tickets that arrive by the same point of the week

    def ends(self) -> str:
        """Where the export stops, against a usual week."""
        return (f"the inbox's tickets end on {self.latest:%a %Y-%m-%d %H:%M}, where a usual week has "
                f"{self.covered:.0%} of its tickets")


def cut_short(offsets: pd.DataFrame) -> CutWeek | None:
    """The inbox's last week when its export stopped before the week ended, else None.

    `offsets`: the last weeks' tickets (week_start, created_at, offset_seconds since the week's
    Monday). Earlier weeks say which share of a week's tickets arrive after the latest ticket's point
    in the week; given the last week's count so far, as many again in proportion would be expected,
    and none arriving is Poisson-likely exp(-expected). An export cut on a Monday (GitHub's bug
    titles end on 2024-09-30) is cut short; a queue quiet at weekends whose last ticket is on a
    Friday evening is not."""
    if offsets.empty or offsets["week_start"].nunique() < 2:
        return None
    last = offsets["week_start"].max()
    now, earlier = offsets[offsets["week_start"] == last], offsets[offsets["week_start"] < last]
    point = now["offset_seconds"].max()
    before = int((earlier["offset_seconds"] <= point).sum())
    # With no earlier ticket by this point, the week's count so far says nothing of its rate: the
    # earlier weeks' mean count is what was still to come (until 2026-12-06 such a week counted as
    # whole, so an export taken minutes into a Monday made a one-ticket week "-98%").
    expected = (len(now) * (len(earlier) - before) / before if before
                else len(earlier) / earlier["week_start"].nunique())
    if np.exp(-expected) >= CUT_P:
        return None
    return CutWeek(pd.Timestamp(last).date(), pd.Timestamp(now["created_at"].max()).to_pydatetime(),
                   before / len(earlier))


def week_cut_short(window: pd.DataFrame, week: date, latest: datetime | None) -> CutWeek | None:
    """`cut_short` of a stored window ending at `week` (ticket_week, created_at per ticket), when no
    ticket of the warehouse is later than the week: an export that went on did not cut it."""
    end = pd.Timestamp(week) + pd.Timedelta(weeks=1)
    if latest is None or pd.isna(latest) or pd.Timestamp(latest) >= end or window.empty:
        return None
    starts, created = pd.to_datetime(window["ticket_week"]), pd.to_datetime(window["created_at"])
    cut = cut_short(pd.DataFrame({"week_start": starts, "created_at": created,
                                  "offset_seconds": (created - starts).dt.total_seconds()}))
    return cut if cut is not None and cut.week == week else None


def first_week_partial(weekly_counts: Sequence[int]) -> bool:
    """Whether the first of a queue's weeks of data (their ticket counts, oldest first) holds too few
    tickets to be a whole week of it, so the data began inside it (`implausibly_few`). twcs' first
    week holds 5 tickets where its others hold 110-210; as a whole week it was a week of zeros for
    every theme."""
    return len(weekly_counts) >= 2 and implausibly_few(weekly_counts[0], weekly_counts[1:])


def implausibly_few(count: int, weekly_counts: Sequence[int]) -> bool:
    """Whether a week of `count` tickets is too few to be a whole week of a queue whose other weeks
    held `weekly_counts`: its count against their rate (`compare_rates` with their dispersion,
    one-sided) is below `CUT_P`, the level at which a last week is cut short. A week of none in a
    queue of 4 a week is an ordinary quiet week (Poisson P(0) = 0.018); in a queue of 20, a gap."""
    rest = list(weekly_counts)
    return compare_rates(sum(rest), len(rest), count, 1, "less", dispersion(rest)).p_value < CUT_P
