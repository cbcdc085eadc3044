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


WORDY = ["", "   ", "...", "Key", "xx!", "card declined", "card-declined", "Karte   abgelehnt.", "l'app plante",
         "Ошибка при оплате", "支付 失败", "a b c d e f", "v2.1.0", "#42 ?", "no_such_thing", "émoji 👍 ok",
         "one\ntwo", "(paren)", "'quoted' word"]


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_words_at_least_is_the_count_of_words_of_meaning_compared(n):
    """The pattern the window read stops at is the full count compared with n, text for text."""
    with duckdb.connect() as con:
        rows = con.execute("SELECT regexp_matches(t, ?), len(regexp_extract_all(t, ?)) FROM unnest(?) AS u(t)",
                           [wh.words_at_least(n), wh.WORD_OF_MEANING, WORDY]).fetchall()
    assert [found for found, _ in rows] == [count >= n for _, count in rows]


def test_the_window_counts_words_of_meaning_up_to_what_a_new_group_asks(tmp_path):
    """Each week the window was read, every word of every ticket was counted to be compared with 2
    (0.3-0.4 s of 80,000 texts): it counts up to `min_words`, exactly below it."""
    week = dt.date(2026, 1, 5)
    texts = ["Key", "card declined twice today", "", "card declined"]
    ids = ["a", "b", "c", "d"]
    frame = pd.DataFrame({"week_start": week, "ticket_id": ids, "model": "m", "text_hash": ids,
                          "embedding": list(np.eye(4, dtype=np.float32)), "run_id": "r"})
    redacted = frame[["ticket_id", "week_start"]].assign(created_at=pd.Timestamp(week), text=texts, text_hash=ids)
    with wh.open_warehouse(tmp_path / "w.duckdb") as con:
        wh.ensure_embedding_schema(con, 4)
        wh.replace(con, [wh.Replace("staging.ticket_embeddings", frame, "week_start", [week]),
                         wh.Replace("staging.redacted_tickets", redacted, "week_start", [week])])
        two = wh.window_embeddings(con, [week], 2)[0]
        three = wh.window_embeddings(con, [week], 3)[0]
    assert two["meaning_words"].tolist() == [1, 2, 0, 2]
    assert three["meaning_words"].tolist() == [1, 3, 0, 2]



def test_a_week_s_context_knows_the_inbox_s_weeks(tmp_path):
    """A week too small to rank was told to run "the inbox's earlier weeks if it has any" of an inbox
    whose first week it was (Swift's 2015-11-02): the ingest records the inbox's weeks, those of no
    run too, and the ranking reads them; unknown (None) before an ingest recorded them."""
    with wh.open_warehouse(tmp_path / "w.duckdb") as con:
        wh.ensure_embedding_schema(con, 4)
        assert wh.load_week_context(con, dt.date(2026, 11, 16), 8).inbox_counts is None
        wh.replace(con, [wh.inbox_weeks_write({dt.date(2026, 11, 9): 4, dt.date(2026, 11, 2): 3}, None, "r")])
        assert wh.load_week_context(con, dt.date(2026, 11, 16), 8).inbox_counts == {
            dt.date(2026, 11, 9): 4, dt.date(2026, 11, 2): 3}
