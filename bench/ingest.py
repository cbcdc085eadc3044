"""Ingest throughput and peak memory on 100k-row exports built by repeating real sample rows.

The CSV repeats the bundled Freshdesk export and the JSONL repeats the bundled Zendesk tickets
(one API ticket object per line), each row with a fresh id; the sample's few malformed rows
repeat too and are rejected, as they should be. Each step runs in its own process
so its peak RSS is its own; the reference is pandas reading the same file in the same run.

    .venv/bin/python -m bench.ingest [--rows 100000]
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from bench.common import peak_rss_mb
from ticket_intel import PROJECT_ROOT

SAMPLE = PROJECT_ROOT / "data" / "sample"


def make_csv(path: Path, rows: int) -> None:
    with (SAMPLE / "freshdesk_tickets.csv").open(encoding="utf-8", newline="") as fh:
        source = list(csv.DictReader(fh))
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(source[0]))
        writer.writeheader()
        for i in range(rows):
            writer.writerow({**source[i % len(source)], "Ticket ID": str(1_000_000 + i)})


def make_jsonl(path: Path, rows: int) -> None:
    doc = json.loads((SAMPLE / "zendesk_tickets.json").read_text(encoding="utf-8"))
    source = [t for t in doc["tickets"] if isinstance(t, dict)]
    with path.open("w", encoding="utf-8") as out:
        for i in range(rows):
            out.write(json.dumps({**source[i % len(source)], "id": 5_000_000 + i}) + "\n")


def _step(kind: str, path: str) -> tuple[int, int, float, float]:
    start = time.perf_counter()
    rejected = 0
    if kind == "pandas.read_csv":
        n = len(pd.read_csv(path, dtype=str, keep_default_na=False))
    elif kind == "pandas.read_json(lines)":
        n = len(pd.read_json(path, lines=True, dtype=False))
    else:
        from ticket_intel.core.sources import read_exports

        result = read_exports([Path(path)])
        n, rejected = len(result.tickets), len(result.rejected)
    seconds = time.perf_counter() - start
    return n, rejected, seconds, peak_rss_mb()


def measure(kind: str, path: Path) -> dict:
    """One step in a fresh process, so the peak RSS is the step's own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        n, rejected, seconds, rss_mb = pool.submit(_step, kind, str(path)).result()
    return {"step": kind, "file": path.name, "rows_in": n + rejected, "tickets": n, "rejected": rejected,
            "seconds": seconds, "rows_per_s": (n + rejected) / seconds, "peak_rss_mb": rss_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv_path, jsonl_path = Path(tmp) / "freshdesk_100k.csv", Path(tmp) / "zendesk_100k.jsonl"
        make_csv(csv_path, args.rows)
        make_jsonl(jsonl_path, args.rows)
        rows = []
        for reference, path in (("pandas.read_csv", csv_path), ("pandas.read_json(lines)", jsonl_path)):
            ref = measure(reference, path)
            ours = measure("read_exports", path)
            ref["x_reference_time"], ours["x_reference_time"] = 1.0, ours["seconds"] / ref["seconds"]
            rows += [ref, ours]
        sizes = {p.name: p.stat().st_size / 2**20 for p in (csv_path, jsonl_path)}
    print(f"files: {', '.join(f'{k} {v:.0f} MiB' for k, v in sizes.items())}; each step in a fresh process\n")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:,.2f}"))


if __name__ == "__main__":
    main()
