"""End to end on a DuckLake: the real Dagster job over the first sample weeks, its catalog in a local
PostgreSQL, gives the same themes, ranks and alerts as the DuckDB-file run of the same weeks."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ticket_intel import PROJECT_ROOT
from ticket_intel import warehouse as wh
from ticket_intel.warehouse import target as wt

pytestmark = pytest.mark.e2e

WEEKS = 3  # the first weeks: enough for identity to carry themes over and the window to span weeks
QUERIES = {
    "ranked": "SELECT week_start, rank, theme_id, label, tickets, customers, trend FROM marts.ranked_themes "
              "WHERE week_start <= ? ORDER BY week_start, rank",
    "clusters": "SELECT week_start, ticket_id, theme_id, series_theme_id FROM staging.ticket_clusters "
                "WHERE week_start <= ? ORDER BY week_start, ticket_id",
    "alerts": "SELECT week_start, theme_id, kind, tickets FROM ops.alerts WHERE week_start <= ? ORDER BY ALL",
    "embeddings": "SELECT count(*) AS n FROM staging.ticket_embeddings WHERE week_start <= ?",
}


def _snapshot(con: duckdb.DuckDBPyConnection, last: str) -> dict[str, pd.DataFrame]:
    return {name: wh.read(con, sql, [last]) for name, sql in QUERIES.items()}


def test_sample_weeks_on_a_postgres_ducklake_match_the_file_run(sample_run, planted, postgres_db, tmp_path, monkeypatch):
    from ticket_intel.cli import run_pipeline

    first, last = planted["weeks"][0], planted["weeks"][WEEKS - 1]
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    for key, value in {"DAGSTER_HOME": home, "TICKET_INTEL_REPORTS_DIR": tmp_path / "reports",
                       "TICKET_INTEL_INBOX": sample_run.inbox, wt.DATA_PATH_ENV: tmp_path / "lake_files",
                       "TICKET_INTEL_WAREHOUSE": ""}.items():
        monkeypatch.setenv(key, str(value))  # run_pipeline sets some of these; monkeypatch restores them
    target = f"ducklake:postgres:{postgres_db}"
    run_pipeline(sample_run.inbox, Path(target), f"{first}..{last}")

    with wh.open_warehouse(target, read_only=True) as con:
        assert wt.is_lake(con)
        lake = _snapshot(con, last)
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        file = _snapshot(con, last)
    assert lake["embeddings"]["n"].iloc[0] > 0
    assert sorted(lake["ranked"]["week_start"].astype(str).unique()) == planted["weeks"][:WEEKS]
    for name in QUERIES:
        pd.testing.assert_frame_equal(lake[name], file[name], check_dtype=False, obj=name)
    assert len(list((tmp_path / "reports").glob("*.html"))) == WEEKS
