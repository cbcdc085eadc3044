"""bench.adjacent's week step runs the pipeline's path (identity, groups, week context, ranking,
alerts) on clustering labels it is given; a change to those functions must not leave it behind."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from bench import adjacent
from ticket_intel.core import anomalies


def _window(week: int, rng: np.random.Generator, centres: np.ndarray, plan: dict[int, int]) -> tuple[pd.DataFrame, np.ndarray]:
    rows, vectors = [], []
    for w in range(1, week + 1):
        for intent, n in plan.items():
            for k in range(n if (intent < 2 or w == week) else 0):
                v = centres[intent] + rng.normal(0, 0.02, centres.shape[1])
                vectors.append(v / np.linalg.norm(v))
                rows.append({"ticket_id": f"t{w}-{intent}-{k:03d}", "week": w, "intent": intent,
                             "customer_id": f"c{w}{intent}{k}"})
    win = pd.DataFrame(rows).assign(ticket_week=lambda f: f["week"].map(adjacent.week_date))
    return win, np.array(vectors, dtype=np.float32)


def test_a_week_step_ranks_the_themes_and_alerts_on_a_new_one():
    rng = np.random.default_rng(3)
    centres = np.eye(3, 16, dtype=np.float32)
    path = adjacent.Path(groups=True)
    for week, plan in ((1, {0: 20, 1: 20}), (2, {0: 20, 1: 20, 2: 15})):
        win, x = _window(week, rng, centres, plan)
        labels = win["intent"].to_numpy()
        alerts, ranked, theme_of = adjacent.step(path, adjacent.week_date(week), win, x, labels, 5, adjacent.week_date(1))
    assert len(ranked) == 3 and all(theme_of)
    new = [a for a in alerts if a["kind"] == anomalies.NEW_PATTERN]
    assert len(new) == 1 and new[0]["tickets"] == 15


def test_the_summary_over_seeds_keeps_each_seed_and_adds_their_mean_per_path():
    runs = [(42, [{"path": "groups", "new recall B=6": 0.25}, {"path": "placed", "new recall B=6": 0.0}]),
            (7, [{"path": "groups", "new recall B=6": 0.75}, {"path": "placed", "new recall B=6": 0.5}])]
    rows = adjacent.over_seeds(runs)
    assert [(r["seed"], r["path"]) for r in rows] == [(42, "groups"), (42, "placed"), (7, "groups"), (7, "placed"),
                                                      ("mean", "groups"), ("mean", "placed")]
    assert [r["new recall B=6"] for r in rows[-2:]] == [0.5, 0.25]


def test_recall_by_the_second_week_counts_a_find_a_week_late_but_not_two():
    """An issue of a few tickets a week may be a group only over two weeks (core/subgroups.py)."""
    found = [("a/b", adjacent.NEW_WEEK, "hit"), ("c/d", adjacent.NEW_WEEK + 1, "late"), ("e/f", adjacent.NEW_WEEK + 2, "late")]
    alerts = pd.DataFrame([{"path": "placed", "pair": pair, "scenario": "new B=6", "week": week, "kind": anomalies.NEW_PATTERN,
                            "continues": False, "verdict": verdict} for pair, week, verdict in found])
    row = next(r for r in adjacent.summary(alerts, Counter({p: 100 for p in adjacent.PATHS}), 4) if r["path"] == "placed")
    assert (row["new recall B=6"], row["late B=6"], row["by week 2 B=6"]) == (0.25, 2, 0.5)
