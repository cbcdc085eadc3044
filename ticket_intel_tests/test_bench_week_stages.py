"""bench.week_stages times one week's insight stages as their assets run them: on a copy of the sample
run, the week it measures comes out as the pipeline left it."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from bench.week_stages import measure

QUERIES = {
    "marts.cluster_summaries": "SELECT theme_id, label, severity, signal_type, product_area FROM marts.cluster_summaries",
    "marts.ranked_themes": "SELECT theme_id, rank, tickets, customers FROM marts.ranked_themes",
    "ops.alerts": "SELECT theme_id, kind, tickets FROM ops.alerts",
}


def _week(path: str, week: date) -> dict[str, list[tuple]]:
    with duckdb.connect(path, read_only=True) as con:
        return {t: sorted(con.execute(f"{q} WHERE week_start = ?", [week]).fetchall()) for t, q in QUERIES.items()}


@pytest.mark.e2e
def test_a_week_measured_is_the_week_the_pipeline_wrote(sample_copy, planted):
    week = date.fromisoformat(planted["spike"]["week_start"])
    before = _week(str(sample_copy.warehouse), week)
    rows = measure(str(sample_copy.warehouse), week, 8)
    assert [r[0] for r in rows] == ["week context (reference)", "summaries", "ranking", "alerts"]
    assert all(seconds > 0 for _, seconds, _ in rows)
    assert before["ops.alerts"] and _week(str(sample_copy.warehouse), week) == before
