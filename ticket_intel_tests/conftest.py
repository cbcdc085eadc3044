"""Shared fixtures: the bundled sample, its ground truth, ../shared datasets, and one
end-to-end materialization of the whole graph (session-scoped: it costs minutes)."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from ticket_intel import PROJECT_ROOT

SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
PLANTED = PROJECT_ROOT / "data" / "sample_truth" / "planted.json"
SHARED_DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"


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
        start, end = run_pipeline(inbox, root / "warehouse.duckdb", "all")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return PipelineRun(root / "warehouse.duckdb", home, inbox, root / "reports", start.isoformat(), end.isoformat())
