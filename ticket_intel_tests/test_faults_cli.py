"""The command line under real faults: two runs started together on a fresh DAGSTER_HOME, runs
killed with SIGKILL at several steps and re-run, a reader holding the snapshot open and `themes`
asked again and again while runs write, and a writer that gives up after its bounded wait."""

from __future__ import annotations

import subprocess
import time
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ticket_intel import PROJECT_ROOT
from ticket_intel import warehouse as wh
from ticket_intel.defs.run_guard import run_worker
from ticket_intel.warehouse import access, integrity
from ticket_intel_tests.daemon import instance_at
from ticket_intel_tests.processes import TICKET_INTEL, child_env, cli, cli_errors, kill, python, wait_for

pytestmark = pytest.mark.e2e

SAMPLE = PROJECT_ROOT / "data" / "sample"
WEEK = "2026-11-16"
# (step, seconds after it starts): ingest, clustering and the report, each killed mid-step (the
# report of one week takes about a second on an idle machine: it is killed as soon as it starts)
KILLS = [("raw_tickets", 1.0), ("ticket_clusters", 2.0), ("weekly_report", 0.0)]


def started_steps(instance: dg.DagsterInstance, run_id: str) -> set[str]:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_START).records
    return {r.event_log_entry.step_key for r in records}


def new_run(instance: dg.DagsterInstance, seen: set[str], taken: bool = False) -> dg.DagsterRun | None:
    """A run not in `seen` (once it holds the warehouse, if `taken`)."""
    return next((r for r in instance.get_runs() if r.run_id not in seen and (run_worker(r) or not taken)), None)


class Scenario:
    def __init__(self, root: Path):
        self.root, self.warehouse = root, root / "warehouse.duckdb"
        self.env = child_env(DAGSTER_HOME=root / "dagster_home", TICKET_INTEL_REPORTS_DIR=root / "reports",
                             TICKET_INTEL_CONFIG="")
        self.args = ["run", "--inbox", str(SAMPLE), "--warehouse", str(self.warehouse), "--weeks", WEEK]

    def run(self, **settings: str) -> subprocess.Popen:
        return cli(self.args, {**self.env, **settings}, self.root)

    def themes(self) -> subprocess.CompletedProcess:
        return subprocess.run([*TICKET_INTEL, "themes", "--warehouse", str(self.warehouse), "--format", "json"],
                              env=self.env, cwd=self.root, capture_output=True, text=True, timeout=300)


def test_runs_killed_at_any_step_leave_nothing_behind(tmp_path):
    s = Scenario(tmp_path)
    # Two runs started within milliseconds on a fresh DAGSTER_HOME: one runs, one refuses (no waiting).
    first, second = s.run(TICKET_INTEL_WRITER_WAIT_SECONDS="0"), s.run(TICKET_INTEL_WRITER_WAIT_SECONDS="0")
    outcomes = sorted([(p.wait(timeout=1800), p.communicate()) for p in (first, second)], key=lambda o: o[0])
    (ok, (out, err)), (refused, (_, refusal)) = outcomes
    assert ok == 0 and "next: ticket-intel themes" in out, err[-3000:]
    assert refused == 75 and len(cli_errors(refusal)) == 1  # busy: retry later
    assert "is being written by" in cli_errors(refusal)[0] and "try again when it finishes" in cli_errors(refusal)[0]
    instance = instance_at(s.env)
    assert len(instance.get_runs()) == 1
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        clean = integrity.fingerprint(con)
    clean_themes = s.themes()
    assert clean_themes.returncode == 0 and '"rank": 1' in clean_themes.stdout

    # A reader (a BI tool) holds the snapshot open across every run that follows.
    reader = python(f"""
        import duckdb, sys
        con = duckdb.connect({str(access.snapshot_path(s.warehouse))!r}, read_only=True)
        query = "SELECT count(*), sum(tickets) FROM marts.ranked_themes"
        print(con.execute(query).fetchall(), flush=True)
        sys.stdin.readline()
        print(con.execute(query).fetchall(), flush=True)
    """, stdin=subprocess.PIPE)
    held = reader.stdout.readline()

    killed, answers = [], []
    seen = {r.run_id for r in instance.get_runs()}
    for step, delay in KILLS:
        run = s.run()
        current = wait_for(lambda: new_run(instance, seen), 300, "the next run to start")
        seen.add(current.run_id)
        answers.append(s.themes())  # a reader during the run
        wait_for(lambda step=step, run_id=current.run_id, run=run:
                 step in started_steps(instance, run_id) or run.poll() is not None, 900, f"{step} to start", every=0.05)
        assert run.poll() is None, run.communicate()[1][-3000:]
        time.sleep(delay)
        kill(run)
        killed.append(current.run_id)

    final = s.run()
    current = wait_for(lambda: new_run(instance, seen, taken=True), 600, "the re-run to take the warehouse")
    late = s.run(TICKET_INTEL_WRITER_WAIT_SECONDS="2")  # a writer that waits 2 s, then gives up
    out, err = late.communicate(timeout=600)
    assert late.returncode == 75 and len(cli_errors(err)) == 1
    assert f"gave up after 2 s: {s.warehouse} is being written by run {current.run_id}" in cli_errors(err)[0]
    answers.append(s.themes())
    out, err = final.communicate(timeout=1800)
    assert final.returncode == 0, err[-3000:]
    assert f"run {killed[-1]}: run worker (pid" in err  # the dead predecessor was failed before the run

    assert {instance.get_run_by_id(r).status for r in killed} == {dg.DagsterRunStatus.FAILURE}
    with wh.open_warehouse(s.warehouse) as con:  # opens read-write, migrated
        assert integrity.duplicate_keys(con) == {} and integrity.mixed_partitions(con) == {}
        assert integrity.fingerprint(con) == clean
    assert all(a.returncode == 0 and a.stdout == clean_themes.stdout for a in answers), \
        [a.stderr[-500:] for a in answers if a.returncode]
    out, err = reader.communicate("\n", timeout=60)
    assert reader.returncode == 0 and out.splitlines() == [held.strip()], err  # the same rows as before every run



def test_the_theme_registry_is_no_partial_partition(tmp_path):
    """A fault-free run adding late tickets issued an id in an earlier week: the registry, appended
    to by every run, was reported as a partition two runs wrote halves of."""
    with wh.open_warehouse(tmp_path / "w.duckdb") as con:
        con.execute("INSERT INTO ops.theme_registry (theme_id, week_start, run_id) VALUES "
                    "('T1', DATE '2026-10-12', 'run-a'), ('T2', DATE '2026-10-12', 'run-b')")
        con.execute("INSERT INTO marts.weekly_overview (week_start, run_id) VALUES "
                    "(DATE '2026-10-12', 'run-a'), (DATE '2026-10-12', 'run-b')")
        assert integrity.mixed_partitions(con) == {"marts.weekly_overview": [date(2026, 10, 12)]}
