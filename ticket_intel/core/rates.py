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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import binomtest

Direction = Literal["less", "greater"]


@dataclass(frozen=True)
class RateComparison:
    before: float  # tickets per week in the first period
    after: float  # tickets per week in the second period
    p_value: float  # of the one-sided hypothesis that the second rate is `direction` than the first


def dispersion(weekly_counts: Sequence[int]) -> float:
    """Variance over mean of weekly counts, at least 1 (Poisson); 1 with fewer than two weeks."""
    counts = np.asarray(weekly_counts, dtype=float)
    if len(counts) < 2 or counts.mean() <= 0:
        return 1.0
    return max(1.0, float(counts.var(ddof=1) / counts.mean()))


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
