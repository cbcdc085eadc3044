"""Who may open the warehouse, and when: one writer at a time, readers on a published snapshot.

A DuckDB file has one read-write process at a time, and a process holding it even read-only keeps
every writer out. A DuckLake takes several, but orders their commits, not their weeks: clustering
must run one week after another (theme ids carry over), so it has one writer at a time too. So:

- writers (every Dagster run that touches the warehouse, the review commands) hold its writer
  lock, which its holder's death releases, even by SIGKILL or the OOM killer, so a crash never
  leaves a stale lock: for a file `<warehouse>.lock`, an OS file lock (flock) the kernel releases;
  for a DuckLake, where its catalog lives: a PostgreSQL advisory lock (`catalog_lock`), or a file
  lock beside a DuckDB catalog file. Who holds it is recorded beside it (`<warehouse>.writer.json`,
  or the catalog's `ticket_intel_writer`) so that a waiting writer can say why it waits;
- readers (`themes`, `export`, `review list`, BI tools) never open the warehouse itself. They open
  `<stem>.snapshot<suffix>`, a checkpointed copy that a writer publishes atomically (copy to a
  temporary name, fsync, rename) after each successful write. A reader that holds the snapshot
  keeps the version it opened: the next publish replaces the name, not the file it holds.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from ticket_intel.warehouse import catalog_lock, target
from ticket_intel.warehouse.connection import connect, open_warehouse
from ticket_intel.warehouse.schema import LATEST, applied_version


class WarehouseBusy(RuntimeError):
    """Another writer holds the warehouse for longer than this one may wait."""


class NotFound(ValueError):
    """What a command asked for is not there yet, or by that name: a week without data (in the
    warehouse or the inbox), an unknown theme, ticket or review id. A script waits or fixes the
    name, where an error pages someone: both exited 1."""


@dataclass(frozen=True)
class Holder:
    """The process writing the warehouse, as recorded beside its lock."""

    what: str
    pid: int
    host: str
    since: float

    def describe(self) -> str:
        since = datetime.fromtimestamp(self.since).strftime("%Y-%m-%d %H:%M:%S")
        return f"{self.what} (pid {self.pid} on {self.host}, since {since})"


def lock_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".lock")


def holder_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".writer.json")


def snapshot_path(path: str | Path) -> Path:
    """Where readers and BI tools open the last completed state: `warehouse.duckdb` -> `warehouse.snapshot.duckdb`."""
    path = Path(path)
    return path.with_name(f"{path.stem}.snapshot{path.suffix}")


def _lock(path: Path) -> FileLock:
    # One lock object per file and process, shared by all threads: a CLI that holds the lock
    # before starting its run re-enters it when the run's resource takes it.
    return FileLock(lock_path(path.resolve()), is_singleton=True, thread_local=False)


def _catalog(path: str | Path) -> str | Path:
    """Where the writer lock lives: a PostgreSQL catalog's connection string, or the file to lock
    beside (the warehouse, or a DuckLake's DuckDB catalog file)."""
    where = target.parse(str(path))
    if isinstance(where, Path):
        return where
    return where.catalog_file() or where.catalog.removeprefix("postgres:")


def current_holder(path: str | Path) -> Holder | None:
    catalog = _catalog(path)
    try:
        if isinstance(catalog, str):
            recorded = catalog_lock.recorded(catalog)
            return Holder(**recorded) if recorded else None
        return Holder(**json.loads(holder_path(catalog).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def _busy(path: str | Path) -> str:
    holder = current_holder(path)
    return f"{path} is being written by {holder.describe() if holder else 'another process'}"


@dataclass(frozen=True)
class _Lock:
    """A writer lock: `acquire(timeout)` tries for that long (0: once) and says whether it got it."""

    acquire: Callable[[float], bool]
    release: Callable[[], None]
    record: Callable[[Holder], None]


def _writer_lock(catalog: str | Path) -> _Lock:
    if isinstance(catalog, str):
        return _Lock(lambda timeout: catalog_lock.acquire(catalog, timeout), lambda: catalog_lock.release(catalog),
                     lambda holder: catalog_lock.record(catalog, asdict(holder)))
    catalog.parent.mkdir(parents=True, exist_ok=True)
    lock = _lock(catalog)

    def acquire(timeout: float) -> bool:
        try:
            lock.acquire(timeout=timeout, poll_interval=0.5)
        except Timeout:
            return False
        return True

    return _Lock(acquire, lock.release,
                 lambda holder: holder_path(catalog).write_text(json.dumps(asdict(holder)), encoding="utf-8"))


@contextlib.contextmanager
def writer_lock(path: str | Path, what: str, wait_seconds: float,
                on_wait: Callable[[str], None] = lambda _: None) -> Iterator[None]:
    """Hold the warehouse's writer lock, waiting at most `wait_seconds` (saying why through
    `on_wait`) for the current writer; raises WarehouseBusy when it does not come free."""
    lock = _writer_lock(_catalog(path))
    if not lock.acquire(0):
        if wait_seconds <= 0:
            raise WarehouseBusy(f"{_busy(path)}; try again when it finishes")
        on_wait(f"waiting up to {wait_seconds:g} s: {_busy(path)}")
        if not lock.acquire(wait_seconds):
            raise WarehouseBusy(f"gave up after {wait_seconds:g} s: {_busy(path)}")
    try:
        lock.record(Holder(what, os.getpid(), socket.gethostname(), time.time()))
        yield
    finally:
        lock.release()


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# What copy_file_range answers where a filesystem or kernel does not offer it; any other error (a
# full disk) is the copy's own.
_NO_COPY_RANGE = frozenset({errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL})


def _copy_range(source: Path, target: Path) -> bool:
    """Copy through copy_file_range, within one filesystem; False when it stops short or is not
    offered (the caller copies another way)."""
    with source.open("rb") as src, target.open("wb") as dst:
        left = os.fstat(src.fileno()).st_size
        try:
            while left > 0 and (copied := os.copy_file_range(src.fileno(), dst.fileno(), left)):
                left -= copied
        except OSError as error:
            if error.errno not in _NO_COPY_RANGE:
                raise
            return False
    return left == 0


def copy_file(source: Path, target: Path) -> None:
    """Copy a file beside itself: a reflink where the filesystem shares blocks between files (XFS,
    Btrfs, ZFS 2.2, NFS 4.2's server-side copy), which costs no time and no space until one copy is
    written (760 MB: 0.001 s against 0.6 s on XFS); an in-kernel copy elsewhere (ext4: as fast as
    shutil's); shutil's copy where neither is offered. A snapshot of a large warehouse is then no
    full copy per run where the filesystem allows."""
    if not (hasattr(os, "copy_file_range") and _copy_range(source, target)):
        shutil.copyfile(source, target)


def publish_snapshot(path: str | Path) -> Path:
    """Copy the warehouse, checkpointed, to its snapshot name in one atomic rename.

    The caller holds the writer lock, so nothing writes between the checkpoint and the copy. A
    failure (a full disk) removes the partial copy and leaves the previous snapshot in place.
    """
    path = Path(path)
    con = duckdb.connect(str(path))
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()
    snapshot = snapshot_path(path)
    partial = snapshot.with_name(snapshot.name + ".partial")
    try:
        copy_file(path, partial)
        fsync(partial)
        os.replace(partial, snapshot)
        fsync(snapshot.parent)
    except OSError as exc:  # "[Errno 28]" alone read as if the run had lost its data
        partial.unlink(missing_ok=True)
        raise OSError(exc.errno, f"{exc.strerror}: {path.name} holds what was written, but its copy for readers "
                      f"({snapshot.name}) was not made; readers see the previous one until a run after the "
                      "cause is fixed makes it") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return snapshot


@contextlib.contextmanager
def open_snapshot(path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the last completed state; never blocks or fails a writer.

    A warehouse written before snapshots existed gets its first one now, unless a writer is busy;
    so does one whose snapshot an earlier release published (the warehouse is migrated first, so
    readers query the current schema). A DuckLake serves its readers itself: they read its last
    committed snapshot.
    """
    if target.is_lake_target(str(path)):
        with open_warehouse(path, read_only=True) as con:
            yield con
        return
    path = Path(path)
    snapshot = snapshot_path(path)
    con = _current(snapshot)
    if con is None:
        _publish_for_readers(path)
        con = duckdb.connect(str(snapshot), read_only=True)
    try:
        yield con
    finally:
        con.close()


def _current(snapshot: Path) -> duckdb.DuckDBPyConnection | None:
    """The snapshot, open read-only, unless there is none or an earlier release published it."""
    if not snapshot.exists():
        return None
    con = duckdb.connect(str(snapshot), read_only=True)
    if applied_version(con) < LATEST:
        con.close()
        return None
    return con


def _publish_for_readers(path: Path) -> None:
    """Migrate the warehouse (an earlier release's gets this schema) and publish its snapshot."""
    if not path.exists():
        raise FileNotFoundError(f"warehouse not found: {path} (run `ticket-intel run` first)")
    try:
        with writer_lock(path, "publishing a snapshot for readers", wait_seconds=0):
            connect(path).close()
            publish_snapshot(path)
    except WarehouseBusy as exc:
        raise WarehouseBusy(f"no completed run of this release's schema to read yet: {exc}") from None


@contextlib.contextmanager
def open_writer(path: str | Path, what: str, wait_seconds: float,
                on_wait: Callable[[str], None] = lambda _: None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection under the writer lock; readers see the change once it is closed."""
    with writer_lock(path, what, wait_seconds, on_wait):
        with open_warehouse(path) as con:
            yield con
        if not target.is_lake_target(str(path)):  # a DuckLake's readers read its last commit
            publish_snapshot(path)
