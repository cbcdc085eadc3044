"""The one writer: replacing partitions is atomic and idempotent."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from ticket_intel import warehouse as wh


def _overview(week: dt.date, tickets: int) -> pd.DataFrame:
    return pd.DataFrame([{"week_start": week, "tickets": tickets, "customers": 1, "tickets_prev_week": 0,
                          "themes": 0, "outlier_tickets": 0, "warning": None, "run_id": "r"}])


def test_schema_has_the_four_layers(tmp_path):
    with wh.open_warehouse(tmp_path / "w.duckdb") as con:
        schemas = {r[0] for r in con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()}
    assert {"raw", "staging", "marts", "ops"} <= schemas


def test_replace_is_idempotent_and_scoped_to_its_partition(tmp_path):
    w1, w2 = dt.date(2026, 1, 5), dt.date(2026, 1, 12)
    with wh.open_warehouse(tmp_path / "w.duckdb") as con:
        for _ in range(3):
            wh.replace(con, [wh.Replace("marts.weekly_overview", _overview(w1, 10), "week_start", [w1])])
        wh.replace(con, [wh.Replace("marts.weekly_overview", _overview(w2, 20), "week_start", [w2])])
        wh.replace(con, [wh.Replace("marts.weekly_overview", _overview(w1, 11), "week_start", [w1])])
        rows = wh.read(con, "SELECT week_start, tickets FROM marts.weekly_overview ORDER BY 1")
    assert rows["tickets"].tolist() == [11, 20]
    assert rows["week_start"].tolist() == [w1, w2]


def test_failed_write_leaves_previous_state(tmp_path):
    week = dt.date(2026, 1, 5)
    with wh.open_warehouse(tmp_path / "w.duckdb") as con:
        wh.replace(con, [wh.Replace("marts.weekly_overview", _overview(week, 10), "week_start", [week])])
        broken = pd.DataFrame([{"week_start": week, "no_such_column": 1}])
        with pytest.raises(duckdb.Error):
            wh.replace(con, [
                wh.Replace("marts.weekly_overview", _overview(week, 99), "week_start", [week]),
                wh.Replace("marts.not_a_theme", broken, "week_start", [week]),
            ])
        rows = wh.read(con, "SELECT tickets FROM marts.weekly_overview")
    assert rows["tickets"].tolist() == [10]


def test_embedding_width_is_fixed(tmp_path):
    with wh.open_warehouse(tmp_path / "w.duckdb") as con:
        wh.ensure_embedding_schema(con, 4)
        assert wh.stored_embedding_dim(con) == 4
        with pytest.raises(ValueError, match="4-dimensional"):
            wh.ensure_embedding_schema(con, 8)


def test_vectors_read_apart_are_the_rows_vectors_and_the_rest_reads_as_read_does(tmp_path):
    week = dt.date(2026, 1, 5)
    x = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    frame = pd.DataFrame({"week_start": week, "ticket_id": ["a", "b", "c"], "model": "m", "text_hash": ["a", "b", "c"],
                          "embedding": list(x), "run_id": "r"})
    query = "SELECT week_start, ticket_id, embedding FROM staging.ticket_embeddings WHERE week_start = ? ORDER BY ticket_id"
    with wh.open_warehouse(tmp_path / "w.duckdb") as con:
        wh.ensure_embedding_schema(con, 4)
        wh.replace(con, [wh.Replace("staging.ticket_embeddings", frame, "week_start", [week])])
        rows, vectors = wh.read_vectors(con, query, [week])
        whole = wh.read(con, query, [week])
        none, empty = wh.read_vectors(con, query, [week + dt.timedelta(weeks=1)])
    assert vectors.dtype == np.float32 and np.array_equal(vectors, x)
    assert np.array_equal(vectors, wh.embeddings_matrix(whole))
    pd.testing.assert_frame_equal(rows, whole.drop(columns="embedding"))
    assert rows["week_start"].tolist() == [week] * 3
    assert none.empty and list(none.columns) == ["week_start", "ticket_id"] and empty.shape == (0, 0)
