""""Did the fix work?" on real weekly series: false calls, and how fast real fixes are seen.

Series: the real weekly bug-report counts of ../shared/datasets/github_bug_issues (per product,
and per PowerToys module: theme-sized series of a few tickets a week), as bench.alerts builds
them. At every `stride`-th week with at least 4 weeks of history and a mean of at least one
ticket a week, a release is placed on that week's Wednesday and `core.releases.fix_status` is
asked 1, 2 and 4 weeks later:

- untouched: no fix happened, so "fixed" is a false call (real series also fall on their own,
  so this is an upper bound), and so is "regressed";
- fixed by p: each ticket after the release is removed with probability p (binomial thinning),
  so "fixed" is a true call;
- came back: a 90% fix whose tickets return at full volume from the 3rd week after the release;
  "regressed" at week 4 is a true call.

Reference: the naive reading "fewer tickets a week since the release than before" (no test).

    .venv/bin/python -m bench.fix_status [--stride 4]
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd

from bench.alerts import DATASET, load, series
from bench.common import skipped_without, table
from ticket_intel.core.releases import FIXED, REGRESSED, FixSettings, Release, fix_status

HORIZONS = (1, 2, 4)
EFFECTS = (0.5, 0.9)
ORIGIN = date(2000, 1, 3)  # a Monday: week k of a series is ORIGIN + k weeks


def as_series(counts: np.ndarray, born: int) -> pd.Series:
    """The weeks that say something about the theme: from its birth on."""
    return pd.Series({ORIGIN + timedelta(weeks=k): int(c) for k, c in enumerate(counts) if k >= born})


def release_at(t: int) -> Release:
    return Release("bench", datetime.combine(ORIGIN + timedelta(weeks=t, days=2), time(12)))


def thinned(counts: np.ndarray, t: int, p: float, rng: np.random.Generator, back_from: int | None = None) -> np.ndarray:
    """Counts after week t thinned by p (until `back_from`, when they return in full)."""
    out = counts.copy()
    end = len(out) if back_from is None else min(back_from, len(out))
    out[t + 1:end] = rng.binomial(out[t + 1:end], 1 - p)
    return out


def release_weeks(counts: np.ndarray, born: int, stride: int, settings: FixSettings) -> list[int]:
    last = len(counts) - max(HORIZONS) - 1
    return [t for t in range(born + 4, last, stride) if counts[max(born, t - settings.before_weeks):t].mean() >= 1]


def calls(counts: np.ndarray, born: int, t: int, settings: FixSettings) -> dict[int, tuple[str, bool]]:
    """Per horizon: the shipped status and the naive call (after-rate below before-rate)."""
    series_ = as_series(counts, born)
    out = {}
    for h in HORIZONS:
        result = fix_status(series_, release_at(t), ORIGIN + timedelta(weeks=t + h), settings)
        before = counts[max(born, t - settings.before_weeks):t].mean()
        out[h] = (result.status, counts[t + 1:t + 1 + h].mean() < before)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stride", type=int, default=4)
    args = parser.parse_args(argv)
    if skipped_without(DATASET):
        return 0
    settings, rng = FixSettings(), np.random.default_rng(0)
    tallies: dict[tuple[str, int], list[tuple[str, bool]]] = {}
    for s in series(load()):
        counts, born = np.asarray(s["counts"]), int(s["born"])
        for t in release_weeks(counts, born, args.stride, settings):
            cases = {"untouched": counts, **{f"fixed by {p:.0%}": thinned(counts, t, p, rng) for p in EFFECTS},
                     "came back": thinned(counts, t, 0.9, rng, back_from=t + 3)}
            for case, c in cases.items():
                for h, call in calls(c, born, t, settings).items():
                    tallies.setdefault((case, h), []).append(call)
    rows = []
    for (case, h), results in sorted(tallies.items(), key=lambda kv: (list(tallies).index(kv[0]), kv[0][1])):
        rows.append({"case": case, "weeks_after": h, "releases": len(results),
                     "fixed_pct": round(100 * np.mean([s == FIXED for s, _ in results]), 1),
                     "regressed_pct": round(100 * np.mean([s == REGRESSED for s, _ in results]), 1),
                     "naive_lower_pct": round(100 * np.mean([n for _, n in results]), 1)})
    print(f"Fix status on real weekly series ({DATASET.name}), alpha {settings.alpha}, "
          f"regression level {settings.regression_max_p}\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
