"""Theme identity across weekly runs: how many tickets keep their theme id from one run to the next.

    python -m bench.theme_stability [--product microsoft_PowerToys] [--weeks 12] [--end 2024-09-23]

Replays consecutive weeks of one product of ../shared/datasets/github_bug_issues (issue titles as
ticket text) the way the pipeline does: each week clusters the trailing window of weeks and
tracks the themes of the previous week. For every pair of consecutive runs it reports the share
of tickets present in both windows whose theme id is unchanged (an outlier both times counts as
unchanged), with hysteresis (every week refit) and without it (plain re-clustering plus matching),
on the same clusterings, and for the pipeline's default refit policy (`placed`: a week is placed
into last week's themes unless a refit is due, core/placement.py), with the seconds of each
week's theme step refit and placed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd

from bench.common import SHARED, cached_embed, skipped_without, table
from ticket_intel.core.placement import RefitPolicy
from ticket_intel.core.theme_week import EVERY_WEEK, cluster_window
from ticket_intel.core.weeks import week_start, window
from ticket_intel.defs.partitions import WINDOW_WEEKS


def load(product: str) -> pd.DataFrame:
    frame = pd.read_csv(SHARED / "github_bug_issues" / f"{product}.csv", usecols=["number", "title", "created_at"])
    frame["ticket_id"] = product + "#" + frame["number"].astype(str)
    frame["text"] = frame["title"].fillna("").astype(str)
    frame["week"] = week_start(frame["created_at"])
    return frame


def unchanged(before: dict[str, str | None], after: dict[str, str | None]) -> tuple[int, float]:
    shared = before.keys() & after.keys()
    if not shared:
        return 0, float("nan")
    return len(shared), sum(before[t] == after[t] for t in shared) / len(shared)


def replay(frame: pd.DataFrame, weeks: list[date], window_weeks: int, seed: int) -> list[dict[str, object]]:
    x_all, _ = cached_embed(frame["text"].tolist(), progress=True)
    rows: list[dict[str, object]] = []
    variants = {"recluster": (False, EVERY_WEEK), "hysteresis": (True, EVERY_WEEK),
                "placed": (True, RefitPolicy(window_weeks))}
    state: dict[str, tuple[list, dict]] = {v: ([], {}) for v in variants}  # (previous themes, ticket -> theme id)
    for week in weeks:
        mask = frame["week"].isin(window(week, window_weeks)).to_numpy()
        ids = frame.loc[mask, "ticket_id"].tolist()
        x, tickets = x_all[mask], frame.loc[mask, ["ticket_id", "week"]].rename(columns={"week": "ticket_week"})
        row: dict[str, object] = {"week": week.isoformat(), "tickets": len(ids)}
        for name, (hysteresis, refit) in variants.items():
            previous, before = state[name]
            start = time.perf_counter()
            step = cluster_window(week, tickets, x, previous, seed, hysteresis=hysteresis, refit=refit)
            row[f"s_{name}"] = round(time.perf_counter() - start, 2)
            after = dict(zip(ids, step.clusters["theme_id"], strict=True))
            shared, share = unchanged(before, after)
            row["shared"] = shared
            row["kept_pct_" + name] = round(100 * share, 1)
            if name == "placed":
                row["placed"] = bool(step.stats["placed_scopes"])
            if name == "hysteresis":
                row["themes"] = int(step.stats["themes"])
                row["outlier_pct"] = round(100 * step.stats["outliers"] / max(len(ids), 1), 1)
                row.update({k: int(step.stats.get(k, 0)) for k in ("continued", "new", "split", "merged", "faded")})
            state[name] = (step.as_previous(), after)
        rows.append(row)
        print(f"  {row}", flush=True)
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--product", default="microsoft_PowerToys")
    parser.add_argument("--weeks", type=int, default=12, help="week-to-week transitions to measure")
    parser.add_argument("--end", type=date.fromisoformat, help="last week (a Monday); default: last full week")
    parser.add_argument("--window", type=int, default=WINDOW_WEEKS)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if skipped_without(SHARED / "github_bug_issues" / f"{args.product}.csv"):
        return
    frame = load(args.product)
    end = args.end or max(frame["week"]) - timedelta(weeks=1)
    weeks = [end - timedelta(weeks=k) for k in range(args.weeks, -1, -1)]
    rows = replay(frame, weeks, args.window, args.seed)
    measured = rows[1:]
    print(f"{args.product}: {len(measured)} week-to-week transitions, {args.window}-week windows, seed {args.seed}")
    print(table(measured))
    for key in ("kept_pct_recluster", "kept_pct_hysteresis", "kept_pct_placed"):
        print(f"median {key}: {np.median([r[key] for r in measured]):.1f}%")
    placed = [r for r in measured if r["placed"]]
    if placed:
        ratio = np.median([r["s_placed"] / r["s_hysteresis"] for r in placed])
        print(f"{len(placed)} of {len(measured)} weeks placed; median seconds placed / refit on those weeks: {ratio:.2f}")


if __name__ == "__main__":
    main()
