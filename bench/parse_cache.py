"""Staging an inbox of weekly exports cold, and again with the parse cache warm (issue 16).

The inbox is bench.pipeline's: real customer texts as weekly Freshdesk CSV exports (`--weeks` files of
about `--per-week` tickets). Each step stages the inbox as a run's ingest does (`staging.staged_inbox`,
then `resolve`: re-exports, early tickets, per-file counts) in this process, one after the other, once
a few rows were staged to load the code and the language model:

- `cold, no cache`: every file parsed; the reference every `x_cold` is measured against.
- `cold, filling the cache`: every file parsed and its parts kept (the cache's write cost).
- `warm, unchanged`: every file sent from the cache.
- `warm + 1 new week`: next week's export added; only it is parsed. Its `x_cold` is against the cold stage
  of the same grown inbox (`cold, no cache, + 1 new week`), measured too.

Each cached step first forgets the parser's digest (computed once per process), so it pays what a fresh
run pays. Each step runs `--repeat` times from the same state (the cache emptied, or as it was before the
new week) and the fastest counts: on a shared machine, others' load only adds time. `same` says the staged result (per-file counts, tickets per week, rejections) equals the
uncached one of the same inbox.

    nice -n 10 python -m bench.parse_cache [--weeks 10] [--per-week 10000] [--repeat 2] [--workdir /tmp/parse_cache_bench]
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from bench.common import SHARED, skipped_without, table
from ticket_intel.core.sources import load_mappings, parse_cache
from ticket_intel.warehouse import staging


def stage(inbox: Path, cache: Path | None) -> tuple[float, tuple]:
    """Seconds to stage and resolve the inbox, and what a run reads of the result."""
    if cache is not None:
        parse_cache.parser_digest.cache_clear()
    start = time.perf_counter()
    with staging.staged_inbox(inbox, load_mappings(), cache) as staged:
        files = staged.stage.resolve(staged.files, None)
        seconds = time.perf_counter() - start
        result = (files.to_csv(index=False), sorted(staged.stage.week_counts().items()),
                  staged.stage.rejected_count())
    return seconds, result


def _row(step: str, inbox: Path, seconds: float, reference: float, same: bool | str) -> dict:
    return {"step": step, "files": len(list(inbox.glob("*.csv"))), "seconds": seconds,
            "x_cold": seconds / reference, "same": same}


def warm_up(inbox: Path, folder: Path) -> None:
    """Stage a few rows once, so no step pays the imports and the language model's first load."""
    folder.mkdir()
    first = sorted(inbox.glob("*.csv"))[0]
    (folder / first.name).write_text("".join(first.read_text().splitlines(True)[:20]))
    stage(folder, None)


def best(repeat: int, run: Callable[[], tuple[float, tuple]], before: Callable[[], object] = lambda: None
         ) -> tuple[float, tuple]:
    """The fastest of `repeat` runs (a shared machine's load only adds time), each after `before`."""
    times = []
    for _ in range(repeat):
        before()
        seconds, result = run()
        times.append(seconds)
    return min(times), result


def _reset(cache: Path, saved: Path | None = None) -> None:
    shutil.rmtree(cache, ignore_errors=True)
    if saved is not None:
        shutil.copytree(saved, cache)


def measure(inbox: Path, cache: Path, add_week: Callable[[], object], repeat: int) -> list[dict]:
    warm_up(inbox, cache.parent / "warm_up")
    cold, plain = best(repeat, lambda: stage(inbox, None))
    rows = [_row("cold, no cache", inbox, cold, cold, "reference")]
    seconds, result = best(repeat, lambda: stage(inbox, cache), lambda: _reset(cache))
    rows.append(_row("cold, filling the cache", inbox, seconds, cold, result == plain))
    seconds, result = best(repeat, lambda: stage(inbox, cache))
    rows.append(_row("warm, unchanged", inbox, seconds, cold, result == plain))
    shutil.copytree(cache, saved := cache.with_name("cache_before_the_new_week"))
    add_week()
    grown, plain = best(repeat, lambda: stage(inbox, None))
    rows.append(_row("cold, no cache, + 1 new week", inbox, grown, grown, "reference"))
    seconds, result = best(repeat, lambda: stage(inbox, cache), lambda: _reset(cache, saved))
    rows.append(_row("warm + 1 new week", inbox, seconds, grown, result == plain))
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weeks", type=int, default=10, help="weekly export files in the inbox")
    parser.add_argument("--per-week", type=int, default=10_000, help="tickets per weekly export (about)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/parse_cache_bench"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=2, help="runs per step; the fastest counts")
    args = parser.parse_args(argv)
    if skipped_without(SHARED):
        return
    from bench.pipeline import build_inbox, spread
    from bench.synthetic import real_corpus

    shutil.rmtree(args.workdir, ignore_errors=True)
    corpus = real_corpus()
    base = build_inbox(spread(args.weeks * args.per_week, args.weeks, args.seed), args.seed,
                       args.workdir / "inbox", corpus)
    new = spread(args.per_week, 1, args.seed + 1, first_week=args.weeks)
    rows = measure(base.folder, args.workdir / "cache",
                   lambda: build_inbox(new, args.seed + 1, base.folder, corpus, after=base), args.repeat)
    print(f"{len(base.tickets)} tickets in {args.weeks} weekly exports, then one more week of {len(new)}\n")
    print(table(rows, "{:.2f}"))
    entries = pd.Series([p.stat().st_size for p in (args.workdir / "cache").rglob("*") if p.is_file()])
    print(f"\ncache: {len(list((args.workdir / 'cache').glob('*/*')))} entries, {entries.sum() / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
