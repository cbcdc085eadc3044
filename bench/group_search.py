"""Continuing earlier new groups: what the steady week's search against the window costs.

A week whose window holds a theme the new-group scan made (a "new pattern" still alive) asks, for
this week's tickets, whether most of their k nearest earlier tickets are in that group
(`subgroups.continue_groups`). The shipped path searches the window only for the tickets a group
could win (`subgroups._may_join`, an exact bound); the reference, in the same run, searches every
ticket of the week. Windows are synthetic (unit vectors around theme centres in 384 dimensions,
the encoder's), so the figures are the search's cost, not any dataset's.

    python -m bench.group_search [--window 70000] [--week 10000] [--themes 80] [--group 75] [--repeats 2]

Printed per repeat: CPU seconds of each path, the tickets searched, and whether both join the same.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.common import table
from ticket_intel.core import identity, subgroups
from ticket_intel.core.subgroups import GroupSettings

DIM = 384
SPREAD = 0.9  # noise norm around a centre: cosine to it about 0.75, as a theme's tickets are


def _around(rng: np.random.Generator, centre: np.ndarray, n: int) -> np.ndarray:
    x = centre + SPREAD * rng.normal(size=(n, DIM)) / np.sqrt(DIM)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def window(seed: int, size: int, week: int, themes: int, group: int
           ) -> tuple[np.ndarray, np.ndarray, list[str], list[str | None], list[identity.Theme]]:
    """(vectors, this week's mask, ids, theme per ticket, the live group): earlier tickets in `themes`
    themes and one group; this week's in the same themes (a tenth unclustered), 20 of them the group's
    issue placed in the first theme."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(themes + 1, DIM))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    before = rng.multinomial(size - group, np.ones(themes) / themes)
    now = rng.multinomial(week - 20, np.ones(themes) / themes)
    x = np.concatenate([*(_around(rng, centres[t], n) for t, n in enumerate(before)), _around(rng, centres[-1], group),
                        *(_around(rng, centres[t], n) for t, n in enumerate(now)), _around(rng, centres[-1], 20)])
    theme_of: list[str | None] = [f"T{t}" for t, n in enumerate(before) for _ in range(n)] + ["G"] * group
    theme_of += [None if rng.random() < 0.1 else f"T{t}" for t, n in enumerate(now) for _ in range(n)] + ["T0"] * 20
    ids = [f"t{i}" for i in range(len(x))]
    mask = np.r_[np.zeros(size, bool), np.ones(week, bool)]
    return x, mask, ids, theme_of, identity.themes_of(x[size - group:size], ids[size - group:size], ["G"] * group)


def measure(seed: int, args: argparse.Namespace) -> dict[str, object]:
    x, now, ids, theme_of, group = window(seed, args.window, args.week, args.themes, args.group)
    searched: list[int] = []
    search = subgroups.nearest_among
    subgroups.nearest_among = lambda x_, rows, pool, k: searched.append(len(rows)) or search(x_, rows, pool, k)
    bound = subgroups._may_join
    try:
        subgroups.continue_groups(x, now, ids, theme_of, group, GroupSettings())  # first touches: paid by neither
        start = time.process_time()
        shipped, _ = subgroups.continue_groups(x, now, ids, theme_of, group, GroupSettings())
        shipped_s = time.process_time() - start
        subgroups._may_join = lambda x_, current, *rest: np.ones(len(current), bool)
        start = time.process_time()
        every, _ = subgroups.continue_groups(x, now, ids, theme_of, group, GroupSettings())
        every_s = time.process_time() - start
    finally:
        subgroups.nearest_among, subgroups._may_join = search, bound
    return {"seed": seed, "searched (shipped)": f"{searched[0]:,} of {args.week:,}", "shipped CPU s": round(shipped_s, 2),
            "every ticket CPU s": round(every_s, 2), "ratio": round(shipped_s / every_s, 3),
            "same joins": shipped == every}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--window", type=int, default=70_000, help="earlier tickets in the window")
    parser.add_argument("--week", type=int, default=10_000, help="this week's tickets")
    parser.add_argument("--themes", type=int, default=80)
    parser.add_argument("--group", type=int, default=75, help="tickets of the live group")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print(table([measure(seed, args) for seed in range(args.repeats)]))
    print("target (issue 16): every stage small beside embedding; the reference searches every ticket of the week")


if __name__ == "__main__":
    main()
