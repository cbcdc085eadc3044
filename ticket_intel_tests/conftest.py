"""Shared fixtures: the bundled sample, its ground truth, ../shared datasets, and one
end-to-end materialization of the whole graph (session-scoped: it costs minutes)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from ticket_intel import PROJECT_ROOT
from ticket_intel.warehouse import target as warehouse_target

pytest_plugins = ["ticket_intel_tests.postgres"]

SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
PLANTED = PROJECT_ROOT / "data" / "sample_truth" / "planted.json"
SHARED_DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"
# Tests read no ticket_intel.yaml of the folder they run from (a test that wants one names it).
os.environ.setdefault("TICKET_INTEL_CONFIG", "")
# The partitions are read once, when definitions load: load them now, with the defaults, so that no
# test's run (which may store a later start) decides them for the tests after it.
import ticket_intel.defs.partitions  # noqa: E402, F401


@pytest.fixture(autouse=True)
def _restore_environment() -> Iterator[None]:
    """A test's run points the process at its warehouse and instance (runner.configure): not the next test's."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _detach_lakes() -> Iterator[None]:
    """DuckLakes a test attached stay attached for the process (warehouse_target.connect); not across tests."""
    yield
    warehouse_target.release()


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    """A Dagster instance in a temporary DAGSTER_HOME, for tests that evaluate sensors or runs."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as inst:
        yield inst


@pytest.fixture(scope="session")
def planted() -> dict:
    return json.loads(PLANTED.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """../shared/datasets, or skip: tests must pass on a machine without it."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip("../shared/datasets not available")
    return SHARED_DATASETS


@dataclass(frozen=True)
class PipelineRun:
    warehouse: Path
    dagster_home: Path
    inbox: Path
    reports: Path
    start: str
    end: str


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    """All sample weeks materialized once through `ticket-intel run` (the real Dagster job)."""
    from ticket_intel.cli import run_pipeline

    root = tmp_path_factory.mktemp("e2e")
    inbox = root / "inbox"
    shutil.copytree(SAMPLE_DIR, inbox)
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    saved = {k: os.environ.get(k) for k in ("DAGSTER_HOME", "TICKET_INTEL_REPORTS_DIR", "TICKET_INTEL_INBOX", "TICKET_INTEL_WAREHOUSE")}
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ["TICKET_INTEL_REPORTS_DIR"] = str(root / "reports")
    try:
        plan = run_pipeline(inbox, root / "warehouse.duckdb", "all")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return PipelineRun(root / "warehouse.duckdb", home, inbox, root / "reports", plan.start.isoformat(),
                       plan.end.isoformat())



def copy_run(run: PipelineRun, dest: Path, monkeypatch: pytest.MonkeyPatch) -> PipelineRun:
    """Copy a run's warehouse and Dagster instance to `dest` and point the environment (hence
    the definitions loaded afterwards) at the copy, until `monkeypatch` is undone."""
    home = dest / "dagster_home"
    shutil.copytree(run.dagster_home, home)
    for src in (run.warehouse, run.warehouse.with_name(run.warehouse.name + ".wal")):
        if src.exists():
            shutil.copy(src, dest / src.name)
    copy = PipelineRun(dest / run.warehouse.name, home, run.inbox, dest / "reports", run.start, run.end)
    for key, value in {"DAGSTER_HOME": home, "TICKET_INTEL_WAREHOUSE": copy.warehouse, "TICKET_INTEL_INBOX": copy.inbox,
                       "TICKET_INTEL_REPORTS_DIR": copy.reports}.items():
        monkeypatch.setenv(key, str(value))
    return copy


@pytest.fixture
def sample_copy(sample_run: PipelineRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PipelineRun:
    """A private copy of `sample_run` that a test may change (see `copy_run`)."""
    return copy_run(sample_run, tmp_path, monkeypatch)


def one_ranked_theme_warehouse(path: Path) -> Path:
    """A warehouse whose one clustered week, 2026-11-02, ranks one theme, T1 (for the review commands)."""
    from ticket_intel import warehouse as wh

    with wh.open_warehouse(path) as con:
        wh.ensure_embedding_schema(con, 2)
        con.execute("INSERT INTO staging.themes (week_start, theme_id, centroid) VALUES ('2026-11-02', 'T1', [1, 0])")
        con.execute("INSERT INTO marts.weekly_overview (week_start, tickets) VALUES ('2026-11-02', 80)")
        con.execute("""INSERT INTO marts.ranked_themes (week_start, rank, theme_id, label, tickets, customers, trend,
                       product_area, example_ticket_ids)
                       VALUES ('2026-11-02', 1, 'T1', 'Card · arrival', 9, 7, 'new', 'Cards', ['zd:1'])""")
    return path
