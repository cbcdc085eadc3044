"""Did a theme's weekly rate change? The exact conditional test for two Poisson rates.

Given `a` tickets over `ta` weeks and `b` tickets over `tb` weeks, and equal rates, each of
the n = a + b tickets falls in the second period with probability tb / (ta + tb), so b is
binomial(n, tb / (ta + tb)). The binomial tail is an exact p-value for "the second rate is
lower" (or higher) that needs no large-count approximation: it stays right for the 0-5
tickets a week most themes have. Used for "did the fix work?" (core/releases.py) and "did
the article help?" (core/help_center.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from scipy.stats import binomtest

Direction = Literal["less", "greater"]


@dataclass(frozen=True)
class RateComparison:
    before: float  # tickets per week in the first period
    after: float  # tickets per week in the second period
    p_value: float  # of the one-sided hypothesis that the second rate is `direction` than the first


def compare_rates(before_count: int, before_weeks: int, after_count: int, after_weeks: int,
                  direction: Direction) -> RateComparison:
    """One-sided exact test of the second period's rate against the first's."""
    if before_weeks <= 0 or after_weeks <= 0:
        raise ValueError("both periods need at least one week")
    if before_count < 0 or after_count < 0:
        raise ValueError("ticket counts cannot be negative")
    n = before_count + after_count
    share = after_weeks / (before_weeks + after_weeks)
    p_value = binomtest(after_count, n, share, alternative=direction).pvalue if n else 1.0
    return RateComparison(before_count / before_weeks, after_count / after_weeks, float(p_value))
