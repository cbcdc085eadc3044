"""Warehouse targets side by side: the pipeline's writes and reads on a DuckDB file and on a DuckLake
(catalog in a throwaway local PostgreSQL, data files in a folder), the file being the reference.

    python -m bench.warehouse_target [--weeks 8] [--tickets 10000]

For each of --weeks weeks: replace the week's raw.tickets (--tickets rows) and store as many
384-d embeddings; then read the whole window's embeddings (the clustering input) and open the
warehouse again, in the same process and in a new one. Vectors are random unit vectors: storage
cost does not depend on their values.
Needs Debian's postgresql binaries (as the tests do); prints why and exits when they are missing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import in_fresh_process, table, timed
from ticket_intel import warehouse as wh
from ticket_intel.warehouse import target as wt

DIM = 384


def tickets(week: dt.date, n: int, rng: np.random.Generator) -> pd.DataFrame:
    ids = [f"{week.isoformat()}-{i}" for i in range(n)]
    words = np.array(["refund", "card", "payment", "app", "login", "error", "crash", "account", "blocked", "transfer"])
    text = [" ".join(rng.choice(words, 30)) for _ in range(n)]
    return pd.DataFrame({"ticket_id": ids, "source": "zendesk", "source_id": ids,
                         "created_at": pd.Timestamp(week), "week_start": week, "message": text,
                         "source_file": "export.csv"})


def vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def seconds(step: Callable[[], object]) -> float:
    return timed(step)[1]


def measure(target: str, weeks: list[dt.date], n: int) -> dict[str, float]:
    """Seconds per operation on `target` (a fresh warehouse), in a process that opens it first."""
    rng = np.random.default_rng(0)
    out = {"create (empty warehouse)": seconds(lambda: wh.connect(target).close())}
    out["open again (same process)"] = seconds(lambda: wh.connect(target).close())
    writes = []
    with wh.open_warehouse(target) as con:
        wh.ensure_embedding_schema(con, DIM)
        for w in weeks:
            frame, x, hashes = tickets(w, n, rng), vectors(n, rng), [f"{w}-{i}" for i in range(n)]
            # One figure for both writes: a DuckDB file checkpoints its WAL in whichever commit
            # crosses the threshold, so splitting them would only say which one paid for it.
            writes.append(seconds(lambda f=frame, w=w, h=hashes, x=x: (
                wh.replace(con, [wh.Replace("raw.tickets", f, "week_start", [w])]),
                wh.EmbeddingStore(con, "m").put(h, x))))
        out[f"write a week ({n} tickets + embeddings), mean"] = float(np.mean(writes))
        read = "SELECT embedding FROM ops.embedding_cache WHERE model = 'm' ORDER BY text_hash"
        out[f"read the window ({len(weeks) * n} vectors)"] = seconds(lambda: wh.read_vectors(con, read))
    wt.release()
    out["open existing (new process)"] = in_fresh_process(open_seconds, target)[0]
    return out


def open_seconds(target: str) -> float:
    """Opening a warehouse that exists, as each run's process does first."""
    return seconds(lambda: wh.connect(target).close())


def start_postgres(root: Path) -> tuple[str, list[str]] | None:
    from ticket_intel_tests.postgres import start

    try:
        server, stop = start(root)
    except (OSError, RuntimeError, KeyError, subprocess.SubprocessError) as exc:
        print(f"skipped: local PostgreSQL cannot start ({exc})")
        return None
    return server.conninfo("postgres"), stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--tickets", type=int, default=10000)
    args = parser.parse_args()
    weeks = [dt.date(2026, 1, 5) + dt.timedelta(weeks=i) for i in range(args.weeks)]
    root = Path(tempfile.mkdtemp(prefix="ti-bench-"))
    started = start_postgres(root)
    if started is None:
        return
    conninfo, stop = started
    try:
        os.environ[wt.DATA_PATH_ENV] = str(root / "lake_files")
        file = measure(str(root / "warehouse.duckdb"), weeks, args.tickets)
        lake = measure(f"ducklake:postgres:{conninfo}", weeks, args.tickets)
    finally:
        subprocess.run(stop, user="postgres" if os.geteuid() == 0 else None, capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)
    rows = [{"operation": k, "file s": round(file[k], 3), "DuckLake s": round(lake[k], 3),
             "DuckLake / file": round(lake[k] / file[k], 2)} for k in file]
    print(f"Warehouse targets, {args.weeks} weeks x {args.tickets} tickets (DuckLake: PostgreSQL "
          f"catalog on this machine, data files in a local folder)\n")
    print(table(rows))


if __name__ == "__main__":
    main()
