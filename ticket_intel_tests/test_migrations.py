"""Schema migrations: a warehouse written before migrations existed opens, migrates once, keeps its data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np

from ticket_intel import warehouse as wh

V0_SCHEMA = Path(__file__).parent / "fixtures" / "warehouse_v0.sql"
W1, W2 = date(2026, 11, 2), date(2026, 11, 9)


def _v0_warehouse(path: Path) -> None:
    """The schema of commit 79e1eab, with a theme born in W1 and clustered rows that predate the
    series column's meaning (NULL), as that release's early builds wrote them."""
    con = duckdb.connect(str(path))
    con.execute(V0_SCHEMA.read_text(encoding="utf-8"))
    vector = np.ones(384, dtype=np.float32).tolist()
    for week, event in ((W1, "new"), (W2, "continued")):
        con.execute("INSERT INTO staging.themes VALUES (?, 'T1', 0, 10, 5, ?, ?, ?, 'r0')", [week, vector, event, W1])
    con.execute("INSERT INTO staging.ticket_clusters VALUES (?, 'z:1', ?, 'T1', 0, 1.0, 0.9, 'core', 'r0', NULL)",
                [W2, W1])
    con.execute("INSERT INTO ops.theme_reviews VALUES (1, 'T1', 'rename', 'Card arrival', NULL, 'ana', NULL, now())")
    con.close()


def test_a_warehouse_of_the_previous_release_migrates_on_first_open(tmp_path):
    path = tmp_path / "old.duckdb"
    _v0_warehouse(path)
    with wh.open_warehouse(path) as con:
        versions = [r[0] for r in con.execute("SELECT version FROM ops.schema_version ORDER BY 1").fetchall()]
        origins = con.execute("SELECT week_start, origin FROM staging.themes ORDER BY 1").fetchall()
        series = con.execute("SELECT series_theme_id FROM staging.ticket_clusters").fetchall()
        review = con.execute("SELECT value FROM ops.theme_reviews").fetchall()
        counts_table = wh.table_exists(con, "staging.theme_week_counts")
        registry = con.execute("SELECT theme_id, week_start, ticket_ids FROM ops.theme_registry").fetchall()
    assert registry == [("T1", W1, [])]  # issued in its first stored week (no member rows kept there)
    assert versions == [m.version for m in wh.schema.MIGRATIONS]
    assert origins == [(W1, "new"), (W2, "new")]  # the theme record carries its birth event
    assert series == [("T1",)]  # the series rule is stored, never re-derived in SQL
    assert review == [("Card arrival",)] and counts_table


def test_ranked_themes_written_before_product_names_get_them_from_their_display_string(tmp_path):
    path = tmp_path / "v15.duckdb"
    with wh.open_warehouse(path) as con:
        con.execute("ALTER TABLE marts.ranked_themes DROP COLUMN product_names")
        con.execute("ALTER TABLE marts.ranked_themes DROP COLUMN product_counts")
        con.execute("DELETE FROM ops.schema_version WHERE version >= 16")
        con.execute("""INSERT INTO marts.ranked_themes (week_start, theme_id, products) VALUES
                       (?, 'T1', 'Acme Mobile 7 · (none) 2'), (?, 'T2', NULL)""", [W1, W1])
    with wh.open_warehouse(path) as con:
        names = con.execute("SELECT theme_id, product_names FROM marts.ranked_themes ORDER BY 1").fetchall()
    assert names == [("T1", ["Acme Mobile", "(none)"]), ("T2", None)]


def test_ranked_themes_written_before_product_counts_get_them_from_their_display_string(tmp_path):
    path = tmp_path / "v16.duckdb"
    with wh.open_warehouse(path) as con:
        con.execute("ALTER TABLE marts.ranked_themes DROP COLUMN product_counts")
        con.execute("ALTER TABLE marts.ranked_themes DROP COLUMN ranked_weeks")
        con.execute("DELETE FROM ops.schema_version WHERE version >= 17")
        con.execute("""INSERT INTO marts.ranked_themes (week_start, theme_id, products, product_names) VALUES
                       (?, 'T1', 'Acme Mobile 7 · (none) 2', ['Acme Mobile', '(none)']), (?, 'T2', NULL, NULL)""",
                    [W1, W1])
    with wh.open_warehouse(path) as con:
        counts = con.execute("SELECT theme_id, product_counts FROM marts.ranked_themes ORDER BY 1").fetchall()
    assert counts == [("T1", [7, 2]), ("T2", None)]


def test_ranked_themes_written_before_ranking_periods_covered_their_week_alone(tmp_path):
    path = tmp_path / "v17.duckdb"
    with wh.open_warehouse(path) as con:
        con.execute("ALTER TABLE marts.ranked_themes DROP COLUMN ranked_weeks")
        con.execute("DELETE FROM ops.schema_version WHERE version >= 18")
        con.execute("INSERT INTO marts.ranked_themes (week_start, theme_id, tickets) VALUES (?, 'T1', 9)", [W1])
    with wh.open_warehouse(path) as con:
        assert con.execute("SELECT theme_id, ranked_weeks FROM marts.ranked_themes").fetchall() == [("T1", 1)]


def test_weeks_that_recorded_their_taxonomy_keep_it_and_their_other_settings_are_unknown(tmp_path):
    """Migration 33 recorded each week's taxonomy on its summaries; migration 35 makes it one setting of
    the week's record (`marts.week_configs`), the others unknown, and is harmless run again."""
    from ticket_intel.core.week_config import TAXONOMY, Value

    path = tmp_path / "v33.duckdb"
    with wh.open_warehouse(path) as con:
        con.execute("DROP TABLE marts.week_configs")
        con.execute("ALTER TABLE marts.cluster_summaries ADD COLUMN taxonomy_file VARCHAR")
        con.execute("ALTER TABLE marts.cluster_summaries ADD COLUMN taxonomy_digest VARCHAR")
        con.execute("DELETE FROM ops.schema_version WHERE version >= 35")
        con.execute("""INSERT INTO marts.cluster_summaries (week_start, theme_id, taxonomy_file, taxonomy_digest)
                       VALUES (?, 'T1', '/srv/tax.yaml', 'aaaa'), (?, 'T2', '/srv/tax.yaml', 'aaaa'),
                              (?, 'T1', NULL, NULL)""", [W1, W1, W2])
    with wh.open_warehouse(path) as con:
        assert wh.week_configs(con) == {W1: {TAXONOMY: Value("aaaa", "/srv/tax.yaml")}}
        assert wh.weeks_without_taxonomy(con) == [W2]
        wh.schema._v35_week_configs(con)  # a lake whose recorded versions were lost
        assert wh.week_configs(con) == {W1: {TAXONOMY: Value("aaaa", "/srv/tax.yaml")}}


def test_migrations_run_once_and_are_recorded(tmp_path):
    path = tmp_path / "new.duckdb"
    with wh.open_warehouse(path) as con:
        assert wh.applied_version(con) == wh.LATEST
    with wh.open_warehouse(path) as con:
        assert wh.migrate(con) == []
        assert con.execute("SELECT count(*) FROM ops.schema_version").fetchone()[0] == len(wh.schema.MIGRATIONS)


def test_a_newer_warehouse_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "future.duckdb"
    with wh.open_warehouse(path) as con:
        con.execute("INSERT INTO ops.schema_version VALUES (?, 'from the future', now())", [wh.LATEST + 1])
    try:
        wh.connect(path)
    except ValueError as exc:
        assert "newer than this ticket_intel" in str(exc)
    else:
        raise AssertionError("a newer schema must be refused")


def test_an_upgrade_says_so_once(tmp_path, caplog):
    """Upgrade review: even a read-only `themes` migrated the file in place without a word, and the
    older release could not write it afterwards."""
    path = tmp_path / "w.duckdb"
    with caplog.at_level("WARNING", logger="ticket_intel.warehouse"), wh.open_warehouse(path) as con:
        latest = wh.schema.LATEST
        con.execute("DELETE FROM ops.schema_version WHERE version = ?", [latest])  # as the release before left it
    assert not caplog.records  # a new warehouse is no upgrade
    with caplog.at_level("WARNING", logger="ticket_intel.warehouse"), wh.open_warehouse(path):
        pass
    [record] = caplog.records
    assert f"warehouse schema upgraded from version {latest - 1} to {latest}" in record.getMessage()
    assert "earlier releases can no longer write it" in record.getMessage()
