"""The warehouse as a DuckDB file or a DuckLake: same queries, extensions from packages, concurrent weeks."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from ticket_intel import runner
from ticket_intel import warehouse as wh
from ticket_intel.warehouse import target as wt
from ticket_intel.warehouse.transfer import copy_warehouse

W1, W2 = dt.date(2026, 1, 5), dt.date(2026, 1, 12)


def _tickets(week: dt.date, n: int, tag: str) -> pd.DataFrame:
    """Rows shaped like raw.tickets for one week (the NOT NULL columns and a tag in `message`)."""
    ids = [f"{week.isoformat()}-{i}" for i in range(n)]
    return pd.DataFrame({
        "ticket_id": ids, "source": "zendesk", "source_id": ids,
        "created_at": pd.Timestamp(week) + pd.Timedelta(hours=1), "week_start": week,
        "message": tag, "source_file": "export.csv", "run_id": tag,
    })


def _week_rows(con: duckdb.DuckDBPyConnection) -> dict[dt.date, tuple[int, str]]:
    rows = con.execute("SELECT week_start, count(*), min(message) FROM raw.tickets GROUP BY 1").fetchall()
    return {w: (n, tag) for w, n, tag in rows}


def _replace_week(con: duckdb.DuckDBPyConnection, week: dt.date, n: int, tag: str) -> None:
    wh.replace(con, [wh.Replace("raw.tickets", _tickets(week, n, tag), "week_start", [week])])


# --- targets and extensions (no server needed) ---------------------------------------------------

def test_targets_parse_to_a_file_or_a_lake_with_the_extensions_it_needs():
    assert wt.parse("data/w.duckdb") == Path("data/w.duckdb")
    lake = wt.parse("ducklake:postgres:dbname=ti host=db", data_path="/srv/lake/")
    assert lake == wt.Lake("postgres:dbname=ti host=db", "/srv/lake/")
    assert lake.extensions() == ["ducklake", "postgres_scanner"]
    assert wt.parse("ducklake:postgres:dbname=ti", "s3://b/p/").extensions() == ["ducklake", "postgres_scanner", "httpfs"]
    assert wt.parse("ducklake:meta.ducklake", "").extensions() == ["ducklake"]


def test_data_path_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(wt.DATA_PATH_ENV, "/srv/lake/")
    assert wt.parse("ducklake:postgres:dbname=ti").data_path == "/srv/lake/"


@pytest.mark.parametrize("target", ["ducklake:", "ducklake:sqlite:meta.db", "ducklake:mysql:host=x"])
def test_a_catalog_that_cannot_load_offline_is_a_clear_error(target):
    with pytest.raises(ValueError, match="ducklake:postgres:"):
        wt.parse(target)


def test_absolute_resolves_files_and_keeps_lakes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert wt.absolute("w.duckdb") == str(tmp_path / "w.duckdb")
    assert wt.absolute("ducklake:postgres:dbname=ti host=db") == "ducklake:postgres:dbname=ti host=db"


def test_missing_file_is_not_created_when_read_only(tmp_path):
    with pytest.raises(FileNotFoundError, match="ticket-intel run"):
        wt.connect(str(tmp_path / "none.duckdb"), read_only=True)
    assert not (tmp_path / "none.duckdb").exists()


def test_file_connections_never_fetch_extensions(tmp_path):
    con = wt.connect(str(tmp_path / "w.duckdb"))
    settings = dict(con.execute(
        "SELECT name, value FROM duckdb_settings() WHERE name LIKE 'auto%_known_extensions'").fetchall())
    con.close()
    assert settings == {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}


def test_extension_files_come_from_their_packages():
    for name in ("ducklake", "postgres_scanner", "httpfs"):
        path = wt.extension_file(name)
        assert path.is_file() and f"v{duckdb.__version__}" in path.parts


_OFFLINE_PROBE = """
import sys
from ticket_intel import warehouse as wh
con = wh.connect(sys.argv[1])
print(con.execute("SELECT extension_name, installed_from FROM duckdb_extensions() WHERE loaded AND installed").fetchall())
"""


def test_a_ducklake_opens_with_no_network_at_all(tmp_path):
    """In a network namespace with no interfaces, any download attempt would fail the connect."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-n", "true"], check=False).returncode:
        pytest.skip("cannot create a network namespace here (unshare -n)")
    home = tmp_path / "home"
    home.mkdir()
    target = f"ducklake:{tmp_path / 'meta.ducklake'}"
    env = {**os.environ, "HOME": str(home), wt.DATA_PATH_ENV: str(tmp_path / "files")}
    done = subprocess.run(["unshare", "-n", sys.executable, "-c", _OFFLINE_PROBE, target],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"('ducklake', '{wt.extension_file('ducklake')}')" in done.stdout  # installed from the package


# --- the warehouse layer on a DuckLake (DuckDB catalog file: no server needed) -------------------

def test_file_warehouse_keeps_keys_and_fixed_width_vectors(tmp_path):
    with wh.open_warehouse(tmp_path / "w.duckdb") as con:
        wh.ensure_embedding_schema(con, 4)
        keys = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY'").fetchall()}
        vector = con.execute("SELECT data_type FROM information_schema.columns "
                             "WHERE table_name = 'embedding_cache' AND column_name = 'embedding'").fetchone()[0]
    assert keys == {"alerts", "theme_reviews", "llm_cache", "embedding_cache", "schema_version", "theme_registry",
                    "erased_tickets"}
    assert vector == "FLOAT[4]"


def _exercise_warehouse_layer(target: str) -> None:
    """Every kind of statement the pipeline runs, through the warehouse layer, on `target`."""
    with wh.open_warehouse(target) as con:
        assert wt.is_lake(con)
        wh.migrate(con)  # a second time: a no-op
        _replace_week(con, W1, 3, "a")
        _replace_week(con, W2, 2, "b")
        _replace_week(con, W1, 1, "c")
        assert _week_rows(con) == {W1: (1, "c"), W2: (2, "b")}
        with pytest.raises(duckdb.Error):
            wh.replace(con, [wh.Replace("raw.tickets", _tickets(W2, 5, "d"), "week_start", [W2]),
                             wh.Replace("raw.tickets", pd.DataFrame({"no_such_column": [1]}))])
        assert _week_rows(con) == {W1: (1, "c"), W2: (2, "b")}
        wh.ensure_embedding_schema(con, 4)
        assert wh.stored_embedding_dim(con) is None  # FLOAT[] carries no width until a vector is stored
        vectors = np.arange(8, dtype=np.float32).reshape(2, 4)
        wh.EmbeddingStore(con, "m").put(["h1", "h2"], vectors)
        wh.EmbeddingStore(con, "m").put(["h2", "h3"], vectors + 1)  # h2 is kept, not duplicated
        cached = wh.EmbeddingStore(con, "m").get(["h1", "h2", "h3", "h4"])
        assert sorted(cached) == ["h1", "h2", "h3"]
        np.testing.assert_array_equal(cached["h2"], vectors[1])
        assert con.execute("SELECT count(*) FROM ops.embedding_cache").fetchone()[0] == 3
        assert wh.stored_embedding_dim(con) == 4
        with pytest.raises(ValueError, match="4-dimensional"):
            wh.ensure_embedding_schema(con, 8)
        assert wh.table_exists(con, "staging.themes") and not wh.table_exists(con, "staging.nothing")
    wt.release()  # a process that never wrote: read-only opens get their own read-only instance
    with wh.open_warehouse(target, read_only=True) as con:
        assert _week_rows(con) == {W1: (1, "c"), W2: (2, "b")}
        with pytest.raises(duckdb.Error):
            _replace_week(con, W1, 1, "e")


def test_connections_of_a_writer_share_one_attached_lake(tmp_path, monkeypatch):
    monkeypatch.setenv(wt.DATA_PATH_ENV, str(tmp_path / "files"))
    target = f"ducklake:{tmp_path / 'meta.ducklake'}"
    with wh.open_warehouse(target) as first, wh.open_warehouse(target) as second:
        first.execute("CREATE TABLE memory.main.marker AS SELECT 1 AS x")  # outside the lake: per instance
        assert second.execute("SELECT x FROM memory.main.marker").fetchone() == (1,)
        assert second.execute("SELECT current_database()").fetchone() == (wt.LAKE_NAME,)
    with wh.open_warehouse(target, read_only=True) as reader:  # shares the writer's instance
        assert reader.execute("SELECT x FROM memory.main.marker").fetchone() == (1,)
    wt.release()
    with wh.open_warehouse(target) as con:
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'marker'").fetchone() == (0,)


def test_a_reader_of_a_lake_an_earlier_release_wrote_finds_this_schema(tmp_path, monkeypatch):
    """Upgrading, then reading in a fresh process before any run: the lake is migrated once."""
    monkeypatch.setenv(wt.DATA_PATH_ENV, str(tmp_path / "files"))
    target = f"ducklake:{tmp_path / 'meta.ducklake'}"
    with wh.open_warehouse(target) as con:  # as release 16 left it
        con.execute("ALTER TABLE marts.ranked_themes DROP COLUMN product_counts")
        con.execute("ALTER TABLE marts.ranked_themes DROP COLUMN ranked_weeks")
        con.execute("DELETE FROM ops.schema_version WHERE version >= 17")
    wt.release()  # a fresh process: nothing attached
    with wh.open_warehouse(target, read_only=True) as reader:
        assert wh.applied_version(reader) == wh.LATEST
        assert wh.ranked_themes(reader, dt.date(2026, 1, 5)).empty  # the query names product_counts and ranked_weeks
    wt.release()


def test_the_warehouse_layer_runs_unchanged_on_a_ducklake(tmp_path, monkeypatch):
    monkeypatch.setenv(wt.DATA_PATH_ENV, str(tmp_path / "files"))
    _exercise_warehouse_layer(f"ducklake:{tmp_path / 'meta.ducklake'}")


# --- DuckLake with its catalog in a real PostgreSQL ----------------------------------------------

@pytest.fixture
def lake(postgres_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(wt.DATA_PATH_ENV, str(tmp_path / "lake_files"))
    return f"ducklake:postgres:{postgres_db}"


def test_the_warehouse_layer_runs_unchanged_on_postgres_ducklake(lake):
    _exercise_warehouse_layer(lake)


def test_a_new_lake_without_a_data_path_is_a_clear_error(postgres_db, monkeypatch):
    monkeypatch.delenv(wt.DATA_PATH_ENV, raising=False)
    with pytest.raises(ValueError, match=wt.DATA_PATH_ENV):
        wt.connect(f"ducklake:postgres:{postgres_db}")


def test_a_missing_catalog_database_is_said_before_a_run_and_a_new_one_holds_nothing(postgres_server, tmp_path,
                                                                                     monkeypatch):
    """`dbname=lake_missing` was taken for a DuckLake not created yet: the inbox was planned and a run
    made, which failed at its first step; so was a new DuckLake without a data path."""
    files = pd.DataFrame({"source_file": ["a.csv"], "error": [None]})
    monkeypatch.setenv(wt.DATA_PATH_ENV, str(tmp_path / "files"))
    new = f"ducklake:postgres:{postgres_server.conninfo(postgres_server.create_database())}"
    assert runner.kept_weeks(new, files) == Counter()
    with pytest.raises(duckdb.IOException, match='database "lake_missing" does not exist'):
        runner.kept_weeks(f"ducklake:postgres:{postgres_server.conninfo('lake_missing')}", files)
    monkeypatch.delenv(wt.DATA_PATH_ENV)
    with pytest.raises(ValueError, match=f"^{wt.NO_DATA_PATH}$"):
        runner.kept_weeks(new, files)


class CommitRace:
    """A connection whose first COMMIT is preceded by a competing writer's commit."""

    def __init__(self, con: duckdb.DuckDBPyConnection, competitor: Callable[[], None]):
        self.con, self.competitor, self.commits = con, competitor, 0

    def execute(self, sql: str, *args: Any) -> duckdb.DuckDBPyConnection:
        if sql == "COMMIT":
            self.commits += 1
            if self.commits == 1:
                self.competitor()
        return self.con.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)


def test_a_commit_refused_for_a_concurrent_rewrite_is_retried(lake):
    with wh.open_warehouse(lake) as first, wh.open_warehouse(lake) as second:
        _replace_week(first, W1, 3, "a")
        _replace_week(first, W2, 3, "b")
        racer = CommitRace(first, lambda: _replace_week(second, W2, 2, "other process"))
        _replace_week(racer, W1, 4, "retried")  # type: ignore[arg-type]
        assert racer.commits == 2  # the first commit was refused: DuckLake saw a conflicting delete
        assert _week_rows(first) == {W1: (4, "retried"), W2: (2, "other process")}


def _write_weeks(target: str, data_path: str, week: dt.date, rounds: int, barrier: Any) -> None:
    """One writer process: re-writes its week `rounds` times, in step with the other writer."""
    os.environ[wt.DATA_PATH_ENV] = data_path
    with wh.open_warehouse(target) as con:
        for r in range(rounds):
            barrier.wait(timeout=120)
            _replace_week(con, week, 2000 + r, f"round {r}")


def test_two_processes_write_different_weeks_concurrently(lake):
    with wh.open_warehouse(lake):
        pass  # schema created once, as the first run of a deployment does
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    rounds = 3
    writers = [ctx.Process(target=_write_weeks, args=(lake, os.environ[wt.DATA_PATH_ENV], w, rounds, barrier))
               for w in (W1, W2)]
    for p in writers:
        p.start()
    for p in writers:
        p.join(timeout=600)
    assert [p.exitcode for p in writers] == [0, 0]
    with wh.open_warehouse(lake, read_only=True) as con:
        last = f"round {rounds - 1}"
        assert _week_rows(con) == {W1: (2000 + rounds - 1, last), W2: (2000 + rounds - 1, last)}


# --- moving a file warehouse to a DuckLake --------------------------------------------------------

def test_a_file_warehouse_copies_whole_into_a_new_lake(tmp_path, monkeypatch):
    source = tmp_path / "w.duckdb"
    vectors = np.eye(4, dtype=np.float32)[:3]
    with wh.open_warehouse(source) as con:
        _replace_week(con, W1, 3, "a")
        _replace_week(con, W2, 2, "b")
        wh.ensure_embedding_schema(con, 4)
        wh.EmbeddingStore(con, "m").put(["h1", "h2", "h3"], vectors)
        con.execute("INSERT INTO ops.theme_reviews VALUES (1, 't1', 'rename', 'Refunds', NULL, 'pm', NULL, now())")
    monkeypatch.setenv(wt.DATA_PATH_ENV, str(tmp_path / "files"))
    target = f"ducklake:{tmp_path / 'meta.ducklake'}"
    copied = copy_warehouse(source, target)
    assert copied["raw.tickets"] == 5 and copied["ops.embedding_cache"] == 3 and copied["ops.theme_reviews"] == 1
    with wh.open_warehouse(target, read_only=True) as con:
        assert wt.is_lake(con)
        assert _week_rows(con) == {W1: (3, "a"), W2: (2, "b")}
        cached = wh.EmbeddingStore(con, "m").get(["h1", "h2", "h3"])
        np.testing.assert_array_equal(np.stack([cached[h] for h in ("h1", "h2", "h3")]), vectors)
        assert wh.reviews(con)[0]["value"] == "Refunds"
    with pytest.raises(ValueError, match="not empty"):
        copy_warehouse(source, target)  # a second copy would duplicate every row
    with wh.open_warehouse(target) as con:  # the refused copy detached its source
        assert con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = 'source'").fetchone() == (0,)


def test_a_ducklake_keeps_its_data_files_in_an_object_store(tmp_path, monkeypatch):
    """S3 (moto's local server): httpfs from its package, credentials and endpoint in a DuckDB secret."""
    server_module = pytest.importorskip("moto.server")
    import boto3

    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        s3 = boto3.client("s3", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
                          aws_access_key_id="k", aws_secret_access_key="s")
        s3.create_bucket(Bucket="lake")
        monkeypatch.setenv("HOME", str(tmp_path))  # where DuckDB keeps persistent secrets
        setup = duckdb.connect(config=dict(wt.OFFLINE))
        wt.load_extensions(setup, ["httpfs"])
        setup.execute(f"CREATE PERSISTENT SECRET lake_s3 (TYPE s3, KEY_ID 'k', SECRET 's', REGION 'us-east-1', "
                      f"ENDPOINT '{host}:{port}', URL_STYLE 'path', USE_SSL false)")
        setup.close()
        monkeypatch.setenv(wt.DATA_PATH_ENV, "s3://lake/warehouse/")
        target = f"ducklake:{tmp_path / 'meta.ducklake'}"
        with wh.open_warehouse(target) as con:
            _replace_week(con, W1, 3000, "a")  # above DuckLake's inlining limit: a Parquet file
        wt.release()
        with wh.open_warehouse(target, read_only=True) as con:
            assert _week_rows(con) == {W1: (3000, "a")}
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lake")["Contents"]]
        assert any(k.startswith("warehouse/raw/tickets/") and k.endswith(".parquet") for k in keys), keys
    finally:
        server.stop()
