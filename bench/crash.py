"""Kill -9 and re-run, N times: the warehouse's promise under real SIGKILLs.

A clean run of the sample week comes first (the reference). Then each round starts
`ticket-intel run` on the same warehouse, picks a step of the weekly job (ingest .. report) and a
moment inside it at random, and SIGKILLs the run there, as the OOM killer would. After each kill
it checks what the next user meets: the warehouse opens read-write, no table holds a key twice,
no partition mixes rows of two runs, and readers still get the last completed run from the
snapshot. The next round's run must fail its dead predecessor by itself. A last run completes and
every table is compared with the clean run's.

    .venv/bin/python -m bench.crash [--n 10] [--week 2026-11-16] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
import duckdb

from bench.common import table
from ticket_intel import PROJECT_ROOT
from ticket_intel import warehouse as wh
from ticket_intel.warehouse import access, integrity

STEPS = ["raw_tickets", "redacted_tickets", "ticket_embeddings", "ticket_clusters", "cluster_summaries",
         "ranked_themes", "theme_alerts", "weekly_report"]


class Runs:
    """`ticket-intel run` of one week into one warehouse, and the Dagster instance it records to."""

    def __init__(self, root: Path, week: str):
        self.warehouse = root / "warehouse.duckdb"
        self.home = root / "dagster_home"
        self.env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "DAGSTER_HOME": str(self.home),
                    "TICKET_INTEL_REPORTS_DIR": str(root / "reports"), "TICKET_INTEL_CONFIG": ""}
        self.args = [sys.executable, "-m", "ticket_intel.cli", "run", "--inbox", str(PROJECT_ROOT / "data" / "sample"),
                     "--warehouse", str(self.warehouse), "--weeks", week]
        self.root = root

    def start(self) -> subprocess.Popen:
        return subprocess.Popen(self.args, env=self.env, cwd=self.root, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)

    def instance(self) -> dg.DagsterInstance:
        from dagster._core.instance.ref import InstanceRef

        return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(self.home)))


def _started(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_START).records
    return [r.event_log_entry.step_key for r in records]


def _new_run(instance: dg.DagsterInstance, seen: set[str], process: subprocess.Popen) -> str:
    while True:
        fresh = [r.run_id for r in instance.get_runs() if r.run_id not in seen]
        if fresh:
            return fresh[0]
        if process.poll() is not None:
            raise RuntimeError(f"the run exited before starting: {process.stderr.read()[-2000:]}")
        time.sleep(0.2)


def kill_round(runs: Runs, instance: dg.DagsterInstance, seen: set[str], step: str, delay: float) -> dict:
    """Start a run, SIGKILL it `delay` seconds into `step` (or wherever it has got by then)."""
    started = time.monotonic()
    process = runs.start()
    run_id = _new_run(instance, seen, process)
    seen.add(run_id)
    while step not in _started(instance, run_id) and process.poll() is None:
        time.sleep(0.1)
    time.sleep(delay)
    finished = process.poll() is not None
    process.send_signal(signal.SIGKILL)
    process.communicate()
    steps = _started(instance, run_id)
    return {"target": f"{step}+{delay:.1f}s", "killed_in": "(finished first)" if finished else steps[-1],
            "after_s": round(time.monotonic() - started, 1), "run_id": run_id[:8], **check(runs)}


def check(runs: Runs) -> dict:
    """What the next user meets after a crash."""
    with wh.open_warehouse(runs.warehouse) as con:  # read-write, as the next run opens it
        duplicates, mixed = integrity.duplicate_keys(con), integrity.mixed_partitions(con)
    with access.open_snapshot(runs.warehouse) as con:
        themes = con.execute("SELECT count(*) FROM marts.ranked_themes").fetchone()[0]
    return {"opens_rw": True, "duplicate_keys": sum(duplicates.values()), "mixed_partitions": sum(map(len, mixed.values())),
            "reader_themes": themes}


def complete(runs: Runs) -> float:
    """Seconds a run takes to finish; it must succeed."""
    started = time.monotonic()
    process = runs.start()
    _, err = process.communicate()
    if process.returncode:
        raise RuntimeError(f"run failed: {err[-2000:]}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10, help="kill-and-rerun rounds")
    parser.add_argument("--week", default="2026-11-16", help="the sample week every run materializes")
    parser.add_argument("--seed", type=int, default=0)
    opts = parser.parse_args()
    rng = random.Random(opts.seed)
    with tempfile.TemporaryDirectory(prefix="bench_crash_") as tmp:
        runs = Runs(Path(tmp), opts.week)
        clean_seconds = complete(runs)
        instance = runs.instance()
        with duckdb.connect(str(runs.warehouse), read_only=True) as con:
            clean = integrity.fingerprint(con)
        seen = {r.run_id for r in instance.get_runs()}
        rows = [{"round": "clean", "target": "-", "killed_in": "-", "after_s": round(clean_seconds, 1),
                 "run_id": next(iter(seen))[:8], **check(runs)}]
        before = set(seen)
        for i in range(opts.n):
            step, delay = rng.choice(STEPS), round(rng.uniform(0, 3), 1)
            rows.append({"round": str(i + 1), **kill_round(runs, instance, seen, step, delay)})
            print(table(rows[-1:]), flush=True)
        seconds = complete(runs)
        failed = sum(instance.get_run_by_id(r).status == dg.DagsterRunStatus.FAILURE for r in seen - before)
        with duckdb.connect(str(runs.warehouse), read_only=True) as con:
            same = [t for t, v in integrity.fingerprint(con).items() if clean.get(t) == v]
        rows.append({"round": "re-run", "target": "-", "killed_in": "-", "after_s": round(seconds, 1),
                     "run_id": "-", **check(runs)})
    print(table(rows))
    print(f"\nkilled runs marked FAILURE without manual action: {failed} of {opts.n}")
    print(f"tables equal to the clean run's after the re-run: {len(same)} of {len(clean)}")


if __name__ == "__main__":
    main()
