"""Ingest peak memory and throughput against file size, with pandas as the reference.

The CSVs repeat the bundled Freshdesk export and the JSONL repeats the bundled Zendesk tickets (one
API ticket object per line), each row with a fresh id, at a few sizes up to ~200 MB; the sample's
few malformed rows repeat too and are rejected, as they should be. `staged` is what a run's ingest
does before its warehouse write: stream the file into the staging database (warehouse/staging.py)
and resolve it (re-exports, per-file counts). Each step runs in a fresh process so its peak RSS
(VmHWM) is its own; `baseline` is a process that imports the same code and stages a one-row file,
so `growth_mb` (peak minus baseline) is what the file itself costs, and `x_file` is that growth over
the file's size. The reference is pandas reading the same file in the same run (`x_pandas`: our
growth over pandas' growth). The last lines compare the growth at the largest CSV with the growth at
the smallest: bounded memory means that ratio stays near 1 while the file grows many times.

`raw_tickets` is the whole ingest step in Dagster (parse, checks, the warehouse write) on one CSV,
its growth measured against the same asset on a one-row file.

    python -m bench.ingest [--sizes-mb 10,50,200] [--jsonl-mb 40] [--asset-mb 20]
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
SAMPLE_WEEKS = ("2026-08-31", "2026-11-16")  # the bundled sample's first and last week


def make_csv(path: Path, mb: float) -> int:
    """A Freshdesk CSV of about `mb` MiB; returns its rows."""
    with (SAMPLE / "freshdesk_tickets.csv").open(encoding="utf-8", newline="") as fh:
        source = list(csv.DictReader(fh))
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(source[0]))
        writer.writeheader()
        while out.tell() < mb * 2**20:
            writer.writerow({**source[rows % len(source)], "Ticket ID": str(1_000_000 + rows)})
            rows += 1
    return rows


def make_jsonl(path: Path, mb: float) -> int:
    doc = json.loads((SAMPLE / "zendesk_tickets.json").read_text(encoding="utf-8"))
    source = [t for t in doc["tickets"] if isinstance(t, dict)]
    rows = 0
    with path.open("w", encoding="utf-8") as out:
        while out.tell() < mb * 2**20:
            out.write(json.dumps({**source[rows % len(source)], "id": 5_000_000 + rows}) + "\n")
            rows += 1
    return rows


def _asset(path: Path) -> tuple[int, int]:
    """raw_tickets materialized in Dagster over every week of the sample, the file alone in the inbox."""
    import os

    import dagster as dg

    from ticket_intel.defs.ingest import raw_tickets
    from ticket_intel.defs.resources import build_resources

    home = path.parent / f"{path.stem}_home"
    home.mkdir()
    os.environ.update(TICKET_INTEL_INBOX=str(path.parent), TICKET_INTEL_WAREHOUSE=str(home / "wh.duckdb"))
    defs = dg.Definitions(assets=[raw_tickets], jobs=[dg.define_asset_job("ingest", [raw_tickets])],
                          resources=build_resources())
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        result = defs.resolve_job_def("ingest").execute_in_process(instance=instance, tags={
            "dagster/asset_partition_range_start": SAMPLE_WEEKS[0], "dagster/asset_partition_range_end": SAMPLE_WEEKS[1]})
    meta = result.asset_materializations_for_node("raw_tickets")[0].metadata
    return meta["tickets"].value, meta["rejected_rows"].value


def _staged(path: Path) -> tuple[int, int]:
    """The file streamed into a staging database and resolved, as raw_tickets does before writing."""
    from ticket_intel.core.sources import stream_exports
    from ticket_intel.warehouse.staging import Stage

    stage = Stage()
    try:
        files = stage.resolve(stream_exports([path], stage), None)
        return int(files["accepted"].sum()), stage.rejected_count()
    finally:
        stage.close()


def _step(kind: str, path: str) -> tuple[int, int, float, float]:
    start = time.perf_counter()
    rejected = 0
    if kind.startswith("raw_tickets"):
        n, rejected = _asset(Path(path))
    elif kind == "pandas.read_csv":
        n = len(pd.read_csv(path, dtype=str, keep_default_na=False))
    elif kind == "pandas.read_json(lines)":
        n = len(pd.read_json(path, lines=True, dtype=False))
    else:  # staged, and the baseline (the same on a one-row file)
        n, rejected = _staged(Path(path))
    seconds = time.perf_counter() - start
    return n, rejected, seconds, peak_rss_mb()


def measure(kind: str, path: Path) -> dict:
    """One step in a fresh process, so the peak RSS is the step's own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        n, rejected, seconds, rss_mb = pool.submit(_step, kind, str(path)).result()
    return {"step": kind, "file": path.name, "file_mb": path.stat().st_size / 2**20, "rows_in": n + rejected,
            "tickets": n, "rejected": rejected, "seconds": seconds, "rows_per_s": (n + rejected) / seconds,
            "peak_rss_mb": rss_mb}


def _pair(reference: str, path: Path, baseline: float) -> list[dict]:
    ref, ours = measure(reference, path), measure("staged", path)
    for row in (ref, ours):
        row["growth_mb"] = row["peak_rss_mb"] - baseline
        row["x_file"] = row["growth_mb"] / row["file_mb"]
    ref["x_pandas"], ours["x_pandas"] = 1.0, ours["growth_mb"] / max(ref["growth_mb"], 1.0)
    ref["x_time"], ours["x_time"] = 1.0, ours["seconds"] / ref["seconds"]
    return [ref, ours]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-mb", default="10,50,200", help="CSV sizes, MiB")
    parser.add_argument("--jsonl-mb", type=float, default=40.0, help="JSONL size, MiB (0: none)")
    parser.add_argument("--asset-mb", type=float, default=20.0, help="CSV size for the raw_tickets asset, MiB (0: none)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one_row.csv"
        make_csv(one, 0)
        baseline = measure("baseline", one)["peak_rss_mb"]
        for mb in (float(x) for x in args.sizes_mb.split(",")):
            path = Path(tmp) / f"freshdesk_{mb:g}mb.csv"
            make_csv(path, mb)
            rows += _pair("pandas.read_csv", path, baseline)
            path.unlink()
        if args.asset_mb:  # the whole ingest step in Dagster: parse, checks and the warehouse write
            folder = Path(tmp) / "asset_one"
            folder.mkdir()
            make_csv(folder / "one_row.csv", 0)
            asset_base = measure("raw_tickets", folder / "one_row.csv")["peak_rss_mb"]
            folder = Path(tmp) / "asset"
            folder.mkdir()
            make_csv(folder / f"freshdesk_{args.asset_mb:g}mb.csv", args.asset_mb)
            row = measure("raw_tickets", folder / f"freshdesk_{args.asset_mb:g}mb.csv")
            row["growth_mb"] = row["peak_rss_mb"] - asset_base
            rows.append({**row, "x_file": row["growth_mb"] / row["file_mb"]})
        if args.jsonl_mb:
            path = Path(tmp) / f"zendesk_{args.jsonl_mb:g}mb.jsonl"
            make_jsonl(path, args.jsonl_mb)
            rows += _pair("pandas.read_json(lines)", path, baseline)
    print(f"baseline (imports, a one-row file): {baseline:.0f} MB peak RSS; each step in a fresh process\n")
    columns = ["step", "file", "file_mb", "rows_in", "rejected", "seconds", "rows_per_s", "peak_rss_mb", "growth_mb",
               "x_file", "x_pandas", "x_time"]
    print(pd.DataFrame(rows)[columns].to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    print(_bounded_line([r for r in rows if r["step"] == "staged" and r["file"].endswith(".csv")]))


def _bounded_line(staged: list[dict]) -> str:
    """Growth at the largest CSV over growth at the smallest, against how much larger the file is."""
    if len(staged) < 2:
        return ""
    small, large = min(staged, key=lambda r: r["file_mb"]), max(staged, key=lambda r: r["file_mb"])
    return (f"\nstaged growth {large['growth_mb']:,.0f} MB at {large['file_mb']:,.0f} MB vs {small['growth_mb']:,.0f} MB "
            f"at {small['file_mb']:,.0f} MB: x{large['growth_mb'] / max(small['growth_mb'], 1.0):.2f} for a file "
            f"x{large['file_mb'] / small['file_mb']:.1f} larger")


if __name__ == "__main__":
    main()
