"""A real disk that fills up: a small tmpfs mounted for the test (skipped where mounting is not
permitted). The error names the cause, and the warehouse and its snapshot keep their old state."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ticket_intel import PROJECT_ROOT
from ticket_intel import warehouse as wh
from ticket_intel.warehouse import access
from ticket_intel_tests.processes import child_env, cli, cli_errors

OLD, NEW = dt.date(2026, 11, 9), dt.date(2026, 11, 16)
FULL = "No space left on device"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], capture_output=True,
                             text=True) if shutil.which("mount") else None
    if mounted is None or mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() if mounted else 'no mount command'}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Take all but `leave` bytes of the disk."""
    filler = disk / "filler"
    stat = os.statvfs(disk)
    with filler.open("wb") as fh:
        fh.write(b"\0" * max(stat.f_bavail * stat.f_frsize - leave, 0))
    return filler


def overview(week: dt.date, tickets: int, rows: int = 1) -> pd.DataFrame:
    return pd.DataFrame([{"week_start": week, "tickets": tickets, "customers": i, "tickets_prev_week": 0, "themes": 0,
                          "outlier_tickets": 0, "warning": "x" * 200 + str(i), "run_id": "r"} for i in range(rows)])


def old_state(path: Path) -> None:
    with access.open_writer(path, "test", wait_seconds=0) as con:
        wh.replace(con, [wh.Replace("marts.weekly_overview", overview(OLD, 42), "week_start", [OLD])])


def weeks(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT week_start, count(*), max(tickets) FROM marts.weekly_overview GROUP BY 1").fetchall()


def test_a_full_disk_during_a_write_names_the_cause(small_disk):
    path = small_disk / "warehouse.duckdb"
    old_state(path)
    filler = fill(small_disk, leave=16_384)
    with wh.open_warehouse(path) as con, pytest.raises(duckdb.Error) as failure:
        wh.replace(con, [wh.Replace("marts.weekly_overview", overview(NEW, 7, rows=2000), "week_start", [NEW])])
    assert FULL in str(failure.value) and "cannot rollback" not in str(failure.value)
    filler.unlink()
    with wh.open_warehouse(path):  # opens read-write again
        pass
    assert weeks(path) == [(OLD, 1, 42)]


def test_a_snapshot_that_does_not_fit_leaves_the_old_one(small_disk):
    path = small_disk / "warehouse.duckdb"
    old_state(path)
    with wh.open_warehouse(path) as con:
        wh.replace(con, [wh.Replace("marts.weekly_overview", overview(NEW, 7, rows=2000), "week_start", [NEW])])
    filler = fill(small_disk, leave=path.stat().st_size // 2)
    with access.writer_lock(path, "test", wait_seconds=0), pytest.raises(OSError, match=FULL) as failure:
        access.publish_snapshot(path)
    # it says what the run kept: "[Errno 28] No space left on device" alone read as data lost
    assert "warehouse.duckdb holds what was written, but its copy for readers (warehouse.snapshot.duckdb) " \
           "was not made" in str(failure.value) and failure.value.errno == 28
    filler.unlink()
    assert sorted(p.name for p in small_disk.iterdir()) == sorted(
        ["warehouse.duckdb", "warehouse.duckdb.lock", "warehouse.duckdb.writer.json", "warehouse.snapshot.duckdb"])
    assert weeks(access.snapshot_path(path)) == [(OLD, 1, 42)]


@pytest.mark.e2e
def test_a_run_on_a_full_disk_says_so_in_one_line(small_disk, tmp_path):
    path = small_disk / "warehouse.duckdb"
    old_state(path)
    filler = fill(small_disk, leave=32_768)
    env = child_env(DAGSTER_HOME=tmp_path / "dagster_home", TICKET_INTEL_REPORTS_DIR=tmp_path / "reports",
                    TICKET_INTEL_CONFIG="")
    run = cli(["run", "--inbox", str(PROJECT_ROOT / "data" / "sample"), "--warehouse", str(path), "--weeks", str(NEW)],
              env, tmp_path)
    _, err = run.communicate(timeout=1800)
    assert run.returncode == 1
    (line,) = cli_errors(err)
    assert "failed at raw_tickets: " in line and FULL in line and "cannot rollback" not in line
    filler.unlink()
    assert weeks(path) == [(OLD, 1, 42)]
    with access.open_snapshot(path) as con:
        assert con.execute("SELECT count(*) FROM raw.tickets").fetchone()[0] == 0


@pytest.fixture
def reflink_disk(tmp_path: Path) -> Iterator[Path]:
    """An XFS filesystem with reflinks, in a sparse image on a loop device (skips without xfsprogs or
    the right to mount)."""
    image, disk = tmp_path / "xfs.img", tmp_path / "xfs"
    if not shutil.which("mkfs.xfs") or not shutil.which("mount"):
        pytest.skip("no mkfs.xfs or mount here: the reflink snapshot is not tested")
    with image.open("wb") as fh:
        fh.truncate(512 * 2**20)
    made = subprocess.run(["mkfs.xfs", "-q", "-m", "reflink=1", str(image)], capture_output=True, text=True)
    disk.mkdir()
    mounted = subprocess.run(["mount", "-o", "loop", str(image), str(disk)], capture_output=True, text=True)
    if made.returncode or mounted.returncode:
        pytest.skip(f"cannot make or mount an XFS image here: {(made.stderr or mounted.stderr).strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_snapshot_on_a_filesystem_with_reflinks_takes_no_space(reflink_disk):
    """The snapshot shares the warehouse's blocks: published in no time and no space, whatever its size."""
    path = reflink_disk / "warehouse.duckdb"
    old_state(path)
    with wh.open_warehouse(path) as con:
        con.execute("CREATE TABLE ballast AS SELECT range AS i, md5(range::VARCHAR) AS h FROM range(2000000)")
    size = path.stat().st_size
    free = os.statvfs(reflink_disk).f_bavail * os.statvfs(reflink_disk).f_frsize
    with access.writer_lock(path, "test", wait_seconds=0):
        snapshot = access.publish_snapshot(path)
    used = free - os.statvfs(reflink_disk).f_bavail * os.statvfs(reflink_disk).f_frsize
    assert size > 32 * 2**20 and used < size // 10, (size, used)
    assert snapshot.read_bytes() == path.read_bytes() and weeks(snapshot) == [(OLD, 1, 42)]
