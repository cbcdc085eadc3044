"""Do theme ids keep naming the same theme when history changes? A real inbox of weekly exports is run,
one week's export is removed and the weeks pruned, then the export is put back.

    python -m bench.theme_ids [--dataset twcs | --dataset vercel_next.js] [--drop-week 2017-10-30] [--weeks 10]

The inbox is `../shared` data split into one export per week, as a helpdesk's weekly export would
be: twcs by the week of each conversation's first tweet (a conversation stays in one file), a GitHub
product's bug titles (its last `--weeks` full weeks) by their week. `ticket-intel run` is the one
users start. Reviews and tracker links are keyed by theme id, so an id must keep naming its theme:
after each change, for every id both runs hold, its members in the first week both hold it are
compared (Jaccard). `another theme`: an id whose members share nothing with what it named before;
`< 0.5`: ids whose members changed by more than half (the same issue re-clustered without a week,
or not: read them); `gone` / `new`: ids only one run holds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from bench.common import SHARED, skipped_without, table
from ticket_intel.core.weeks import week_start

TWCS = SHARED / "twcs_sample" / "twcs_small.csv"
TWCS_FORMAT = "%a %b %d %H:%M:%S %z %Y"


def twcs_exports(out: Path) -> list[Path]:
    """twcs as weekly exports: each conversation in the file of the week its first tweet was sent."""
    tweets = pd.read_csv(TWCS, dtype=str)
    sent = dict(zip(tweets["tweet_id"], pd.to_datetime(tweets["created_at"], format=TWCS_FORMAT, utc=True), strict=True))
    parent = dict(zip(tweets["tweet_id"], tweets["in_response_to_tweet_id"].fillna("").str.removesuffix(".0"),
                      strict=True))

    def first(tweet: str) -> str:
        seen = set()
        while parent.get(tweet) in sent and tweet not in seen:
            seen.add(tweet)
            tweet = parent[tweet]
        return tweet

    weeks = week_start(pd.Series([sent[first(t)] for t in tweets["tweet_id"]]).dt.tz_localize(None))
    return _write(tweets, weeks, out, "twcs")


def github_exports(product: str, weeks: int, out: Path) -> list[Path]:
    """A GitHub product's bug titles of its last `weeks` full weeks, one export per week."""
    issues = pd.read_csv(SHARED / "github_bug_issues" / f"{product}.csv", dtype=str)
    week = week_start(pd.to_datetime(issues["created_at"], utc=True).dt.tz_localize(None))
    last = sorted(set(week))[-weeks - 1:-1]
    return _write(issues[week.isin(last).to_numpy()], week[week.isin(last)], out, product)


def _write(rows: pd.DataFrame, weeks: pd.Series, out: Path, name: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for week, part in rows.groupby(pd.Series(weeks.to_numpy(), index=rows.index)):
        paths.append(out / f"{name}_{week:%Y-%m-%d}.csv")
        part.to_csv(paths[-1], index=False)
    return paths


def run(inbox: Path, warehouse: Path, prune: bool = False) -> None:
    command = [sys.executable, "-m", "ticket_intel.cli", "run", "--inbox", str(inbox), "--warehouse", str(warehouse)]
    done = subprocess.run(command + (["--prune"] if prune else []), capture_output=True, text=True,
                          env=os.environ | {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}, check=False)
    if done.returncode:
        raise SystemExit(f"ticket-intel run failed:\n{done.stderr[-3000:]}")


def members(warehouse: Path) -> dict[tuple[date, str], frozenset[str]]:
    """(week, theme id) -> the window tickets the theme holds that week."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("SELECT week_start, theme_id, list(ticket_id) FROM staging.ticket_clusters "
                           "WHERE theme_id IS NOT NULL GROUP BY ALL").fetchall()
    return {(w, t): frozenset(m) for w, t, m in rows}


def compared(before: dict[tuple[date, str], frozenset[str]], after: dict[tuple[date, str], frozenset[str]]) -> dict:
    """How the ids both runs hold changed: per id, its members in the first week both hold it, else
    its last week before against its first week after."""
    weeks_of: dict[str, list[list[date]]] = {}
    for i, held in enumerate((before, after)):
        for week, theme in held:
            weeks_of.setdefault(theme, [[], []])[i].append(week)
    both = [t for t, (a, b) in weeks_of.items() if a and b]
    jaccard = []
    for theme in both:
        a, b = weeks_of[theme]
        common = sorted(set(a) & set(b))
        x, y = (before[(common[0], theme)], after[(common[0], theme)]) if common else (
            before[(max(a), theme)], after[(min(b), theme)])
        jaccard.append(len(x & y) / len(x | y))
    return {"ids in both": len(both), "another theme": sum(j == 0 for j in jaccard),
            "< 0.5": sum(0 < j < 0.5 for j in jaccard), "gone": sum(not b for a, b in weeks_of.values()),
            "new": sum(not a for a, b in weeks_of.values())}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="twcs", help="twcs, or a github_bug_issues product (vercel_next.js)")
    parser.add_argument("--drop-week", default=None, help="the week whose export is removed (default: the middle one)")
    parser.add_argument("--weeks", type=int, default=10, help="a GitHub product's last full weeks")
    args = parser.parse_args(argv)
    if skipped_without(TWCS if args.dataset == "twcs" else SHARED / "github_bug_issues" / f"{args.dataset}.csv"):
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        inbox, warehouse = Path(tmp) / "inbox", Path(tmp) / "w.duckdb"
        exports = twcs_exports(inbox) if args.dataset == "twcs" else github_exports(args.dataset, args.weeks, inbox)
        big = sorted(exports, key=lambda p: p.stat().st_size)[len(exports) // 2:]  # weeks that hold tickets
        dropped = next((p for p in exports if args.drop_week and args.drop_week in p.name), sorted(big)[len(big) // 2])
        run(inbox, warehouse)
        first = members(warehouse)
        dropped.rename(Path(tmp) / dropped.name)
        run(inbox, warehouse, prune=True)
        pruned = members(warehouse)
        (Path(tmp) / dropped.name).rename(dropped)
        run(inbox, warehouse)
        rows = [{"change": f"{dropped.name} removed, pruned", **compared(first, pruned)},
                {"change": "put back", **compared(first, members(warehouse))}]
    print(f"\nTheme ids against the first run ({len(exports)} weekly exports of {args.dataset})\n{table(rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
