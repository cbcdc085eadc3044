"""One writer at a time, readers on a published snapshot: with real processes holding real locks
and real DuckDB connections (warehouse/access.py), on a file and on a DuckLake whose catalog is in a
real PostgreSQL (its lock is an advisory lock there, warehouse/catalog_lock.py)."""

from __future__ import annotations

import datetime as dt
import errno
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ticket_intel import warehouse as wh
from ticket_intel.warehouse import access
from ticket_intel_tests.processes import kill, python

WEEK = dt.date(2026, 1, 5)


def _write(path, tickets: int) -> None:
    row = pd.DataFrame([{"week_start": WEEK, "tickets": tickets, "customers": 1, "tickets_prev_week": 0,
                         "themes": 0, "outlier_tickets": 0, "warning": None, "run_id": f"r{tickets}"}])
    with access.open_writer(path, "test writer", wait_seconds=0) as con:
        wh.replace(con, [wh.Replace("marts.weekly_overview", row, "week_start", [WEEK])])


@pytest.fixture(params=["file", "ducklake"])
def writable(request, tmp_path):
    """A warehouse to take the writer lock of: a file, or a DuckLake with its catalog in PostgreSQL."""
    if request.param == "file":
        return tmp_path / "w.duckdb"
    return f"ducklake:postgres:{request.getfixturevalue('postgres_db')}"


def _hold_lock(path, what: str = "a run in another process"):
    """A child that takes the writer lock and keeps it until killed."""
    child = python(f"""
        import time
        from ticket_intel.warehouse import access
        with access.writer_lock({str(path)!r}, {what!r}, wait_seconds=0):
            print("locked", flush=True)
            time.sleep(600)
    """)
    assert child.stdout.readline().strip() == "locked"
    return child


def test_a_second_writer_refuses_or_waits_bounded_naming_the_holder(writable):
    holder = _hold_lock(writable)
    try:
        busy = rf"is being written by a run in another process \(pid {holder.pid} "
        with pytest.raises(access.WarehouseBusy, match=busy), access.writer_lock(writable, "me", wait_seconds=0):
            pass
        said = []
        with pytest.raises(access.WarehouseBusy, match=r"gave up after 0.5 s: .* a run in another process"), \
                access.writer_lock(writable, "me", wait_seconds=0.5, on_wait=said.append):
            pass
        assert said == [f"waiting up to 0.5 s: {access._busy(writable)}"]
    finally:
        kill(holder)


def test_the_lock_of_a_killed_writer_is_free_at_once(writable):
    kill(_hold_lock(writable))
    # A file's lock is free when the kernel reaps its holder; PostgreSQL ends a killed client's
    # session within moments (a lock kept for good would leave ~a second of slack irrelevant).
    with access.writer_lock(writable, "next run", wait_seconds=0 if isinstance(writable, Path) else 5):
        assert access.current_holder(writable).what == "next run"


def test_a_waiting_writer_proceeds_when_the_holder_ends(writable):
    holder = _hold_lock(writable)
    waiter = python(f"""
        from ticket_intel.warehouse import access
        with access.writer_lock({str(writable)!r}, "waiter", wait_seconds=60, on_wait=print):
            print("got it", flush=True)
    """)
    assert waiter.stdout.readline().startswith(f"waiting up to 60 s: {writable} is being written by a run in another")
    kill(holder)
    out, err = waiter.communicate(timeout=60)
    assert waiter.returncode == 0 and out == "got it\n", err


def test_the_lock_is_reentrant_within_a_process(writable):
    with access.writer_lock(writable, "cli", wait_seconds=0), access.writer_lock(writable, "its run", wait_seconds=0):
        assert access.current_holder(writable).what == "its run"
    with access.writer_lock(writable, "the next writer", wait_seconds=0):  # both holds are given back
        pass


def test_a_ducklake_with_a_catalog_file_is_locked_beside_it(tmp_path):
    """A DuckDB catalog file has one writing process, as a warehouse file has: the same lock, beside it."""
    catalog = tmp_path / "meta.ducklake"
    with access.writer_lock(f"ducklake:{catalog}", "run", wait_seconds=0):
        assert access.current_holder(f"ducklake:{catalog}").what == "run"
    assert access.lock_path(catalog).exists()


def test_an_unreachable_catalog_is_said_in_one_line(postgres_server):
    """Said by the writer lock, which is taken first: one line naming the database and the cause."""
    missing = f"ducklake:postgres:{postgres_server.conninfo('no_such_lake')}"
    with pytest.raises(ConnectionError, match=r'^DuckLake catalog: .*database "no_such_lake" does not exist \(dbname='), \
            access.writer_lock(missing, "run", wait_seconds=0):
        pass


def test_readers_hold_a_snapshot_and_never_block_the_writer(tmp_path):
    path = tmp_path / "w.duckdb"
    _write(path, 10)
    reader = python(f"""
        import duckdb, sys
        con = duckdb.connect({str(access.snapshot_path(path))!r}, read_only=True)
        query = "SELECT tickets FROM marts.weekly_overview"
        print(con.execute(query).fetchone()[0], flush=True)
        sys.stdin.readline()
        print(con.execute(query).fetchone()[0], flush=True)
    """, stdin=__import__("subprocess").PIPE)
    assert reader.stdout.readline().strip() == "10"
    _write(path, 11)  # the writer opens the warehouse read-write while the reader holds its snapshot
    out, err = reader.communicate("\n", timeout=30)
    assert out.strip() == "10", err  # the reader keeps the version it opened
    with access.open_snapshot(path) as con:
        assert con.execute("SELECT tickets FROM marts.weekly_overview").fetchone()[0] == 11


def test_a_warehouse_without_snapshot_gets_one_unless_a_writer_is_busy(tmp_path):
    path = tmp_path / "w.duckdb"
    wh.open_warehouse(path).__enter__().close()
    holder = _hold_lock(path)
    try:
        with pytest.raises(access.WarehouseBusy, match=r"no completed run of this release's schema to read yet: .* is being written by"), \
                access.open_snapshot(path):
            pass
    finally:
        kill(holder)
    with access.open_snapshot(path) as con:
        assert con.execute("SELECT max(version) FROM ops.schema_version").fetchone()[0] == wh.LATEST
    with pytest.raises(FileNotFoundError, match="warehouse not found"), access.open_snapshot(tmp_path / "none.duckdb"):
        pass


def test_the_snapshot_is_complete_without_its_wal(tmp_path):
    """Published after a checkpoint: the copy alone holds every committed row."""
    path = tmp_path / "w.duckdb"
    _write(path, 7)
    snapshot = access.snapshot_path(path)
    assert snapshot.name == "w.snapshot.duckdb" and not snapshot.with_name(snapshot.name + ".wal").exists()
    with duckdb.connect(str(snapshot), read_only=True) as con:
        assert con.execute("SELECT tickets FROM marts.weekly_overview").fetchone()[0] == 7


def test_a_snapshot_an_earlier_release_published_is_replaced_by_one_of_this_schema(tmp_path):
    """Upgrading, then reading before the next run: the reader gets the current columns."""
    path = tmp_path / "w.duckdb"
    _write(path, 10)
    with wh.open_warehouse(path) as con:  # as release 16 left it: no product_counts, schema version 16
        con.execute("ALTER TABLE marts.ranked_themes DROP COLUMN product_counts")
        con.execute("ALTER TABLE marts.ranked_themes DROP COLUMN ranked_weeks")
        con.execute("DELETE FROM ops.schema_version WHERE version >= 17")
    with access.writer_lock(path, "publishing as the earlier release did", wait_seconds=0):
        access.publish_snapshot(path)
    with access.open_snapshot(path) as con:
        assert con.execute("SELECT max(version) FROM ops.schema_version").fetchone()[0] == wh.LATEST
        assert wh.ranked_themes(con, WEEK).empty  # the query names product_counts and ranked_weeks
        assert con.execute("SELECT tickets FROM marts.weekly_overview").fetchone()[0] == 10


@pytest.mark.parametrize("offered", ["yes", "no such call", "another filesystem", "stops short"])
def test_a_copy_is_whole_however_the_kernel_offers_it(tmp_path, monkeypatch, offered):
    """copy_file_range where it works, shutil's copy where it is missing or stops short."""
    source, target = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    source.write_bytes(bytes(range(256)) * 40_000)

    def refuse(code):
        def call(*_):
            raise OSError(code, "refused")
        return call
    fakes = {"no such call": refuse(errno.ENOSYS), "another filesystem": refuse(errno.EXDEV),
             "stops short": lambda *_: 0}
    if offered in fakes:
        monkeypatch.setattr(access.os, "copy_file_range", fakes[offered])
    access.copy_file(source, target)
    assert target.read_bytes() == source.read_bytes()


def test_a_copy_that_fails_says_why(tmp_path, monkeypatch):
    """A full disk is no reason to try another way: its error reaches the caller."""
    source = tmp_path / "a.duckdb"
    source.write_bytes(b"x" * 1000)

    def full(*_):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(access.os, "copy_file_range", full)
    with pytest.raises(OSError, match="No space left"):
        access.copy_file(source, tmp_path / "b.duckdb")
