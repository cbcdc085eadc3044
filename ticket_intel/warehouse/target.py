"""Where the warehouse lives: a DuckDB file, or a DuckLake (catalog in PostgreSQL, data files in a
folder or an object store), chosen by `TICKET_INTEL_WAREHOUSE`.

- `data/warehouse.duckdb`: a DuckDB file; one writing process at a time.
- `ducklake:postgres:dbname=ti host=db port=5432 user=ti`: a DuckLake whose catalog is that PostgreSQL
  database (libpq keywords; the password from `PGPASSWORD` or `~/.pgpass`); processes on several
  machines may write it, one at a time (`access.writer_lock`). Its data files go to
  `TICKET_INTEL_WAREHOUSE_DATA_PATH` (a folder every writer sees, or `s3://bucket/prefix/`), which
  the catalog remembers after the first attach.
- `ducklake:path/to/catalog.ducklake`: a DuckLake with a DuckDB catalog file (one machine).

The DuckLake is attached and `USE`d, so every query of the warehouse layer runs unchanged on both.
Extensions are never downloaded: autoinstall/autoload are off, and the few a DuckLake needs are
loaded from their registry packages (`duckdb-extension-<name>`, installed with the project).
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import backoff
import duckdb

from ticket_intel import settings

LAKE_PREFIX = settings.LAKE_PREFIX
LAKE_NAME = "lake"  # the alias the DuckLake is attached under
DATA_PATH_ENV = "TICKET_INTEL_WAREHOUSE_DATA_PATH"
OFFLINE = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
# extension name -> (registry package, file name inside it)
EXTENSIONS = {
    "ducklake": ("duckdb_extension_ducklake", "ducklake"),
    "postgres_scanner": ("duckdb_extension_postgres", "postgres"),
    "httpfs": ("duckdb_extension_httpfs", "httpfs"),
}
_REMOTE = ("s3://", "s3a://", "gs://", "gcs://", "r2://", "http://", "https://")
T = TypeVar("T")


@dataclass(frozen=True)
class Lake:
    """A DuckLake target: `catalog` is what follows `ducklake:` in the setting."""

    catalog: str
    data_path: str | None = None

    def catalog_file(self) -> Path | None:
        """The DuckDB catalog file; None for a catalog in PostgreSQL."""
        return None if self.catalog.startswith("postgres:") else Path(self.catalog.removeprefix("duckdb:"))

    def extensions(self) -> list[str]:
        """The extensions ATTACH needs, in load order."""
        needed = ["ducklake"]
        if self.catalog.startswith("postgres:"):
            needed.append("postgres_scanner")
        if self.data_path and self.data_path.startswith(_REMOTE):
            needed.append("httpfs")
        return needed


_WRITERS: dict[Lake, duckdb.DuckDBPyConnection] = {}  # see `connect`
# How DuckLake refuses to attach read-only a catalog that no DuckLake has been created in yet.
NOT_CREATED = "creating a new DuckLake is explicitly disabled"
NO_DATA_PATH = f"{DATA_PATH_ENV} must name the folder or object-store prefix for the data files of a new DuckLake"
_LOCK = threading.Lock()


def parse(target: str, data_path: str | None = None) -> Path | Lake:
    """A DuckDB file path, or the DuckLake the setting names (refusing catalogs we cannot load offline)."""
    if not is_lake_target(target):
        if Path(target).name in ("", "..") or not target.strip():  # Path("") is ".": "PosixPath('.') has an empty name"
            raise ValueError(f"the warehouse {target!r} names no file: an empty TICKET_INTEL_WAREHOUSE or --warehouse "
                             "reads as the current folder; name a file, e.g. data/warehouse.duckdb")
        return Path(target)
    catalog = target[len(LAKE_PREFIX):].strip()
    kind = catalog.split(":", 1)[0] if ":" in catalog else ""
    if not catalog or kind not in ("", "postgres", "duckdb"):
        raise ValueError(
            f"unsupported DuckLake catalog {catalog!r} in TICKET_INTEL_WAREHOUSE: use "
            "ducklake:postgres:<libpq connection string> or ducklake:<catalog file>.ducklake"
        )
    return Lake(catalog, data_path or os.environ.get(DATA_PATH_ENV) or None)


def is_lake_target(target: str) -> bool:
    return target.startswith(LAKE_PREFIX)


def cli_flag(target: str | Path) -> str:
    """`--warehouse W` as a shell reads it back (a path or a DuckLake URL with spaces), for hints."""
    return f"--warehouse {shlex.quote(str(target))}"


def absolute(target: str) -> str:
    """A file target as an absolute path (runs may start in another folder); a DuckLake target as is."""
    where = parse(target)
    return str(where.resolve()) if isinstance(where, Path) else target


def extension_file(name: str) -> Path:
    """The signed extension binary shipped by its registry package for the installed DuckDB."""
    package, stem = EXTENSIONS[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"DuckDB extension package {package.replace('_', '-')} is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "extensions" / f"v{duckdb.__version__}"
    path = path / f"{stem}.duckdb_extension"
    if not path.exists():
        raise RuntimeError(f"{package.replace('_', '-')} has no build for DuckDB {duckdb.__version__} ({path})")
    return path


def load_extensions(con: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    """INSTALL each extension from its package file, then LOAD it by name.

    INSTALL names the copy after the extension inside the file (the postgres package ships
    `postgres.duckdb_extension`, whose entry point is `postgres_scanner`), and keeps an existing copy;
    a copy installed from anywhere else (the network, another environment) is replaced.
    """
    origin = dict(con.execute("SELECT extension_name, installed_from FROM duckdb_extensions() WHERE installed").fetchall())
    for name in names:
        path = extension_file(name)
        force = "" if origin.get(name) == str(path) else "FORCE "
        con.execute(f"{force}INSTALL '{_quote(str(path))}'")
        con.execute(f"LOAD {name}")


def connect(
    target: str, read_only: bool = False, data_path: str | None = None,
    prepare: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse `target` names; a DuckLake is attached as `lake` and made the default.

    A writer's DuckLake stays attached for the life of the process and each connection is a cursor
    on it: loading the extensions and attaching the catalog cost seconds, paid once, not per asset;
    `prepare` (creating the schema) runs then, once. A read-only open shares that instance when the
    process already writes (DuckDB cannot make one cursor read-only), and otherwise gets its own
    read-only instance, closed with the connection.
    """
    where = parse(target, data_path)
    if isinstance(where, Path):
        return _connect_file(where, read_only)
    with _LOCK:
        base = _WRITERS.get(where)
        if base is None and read_only:
            return _attach(where, read_only=True)
        if base is None:
            base = _attach(where, read_only=False)
            try:
                if prepare is not None:
                    prepare(base)
            except BaseException:
                base.close()
                raise
            _WRITERS[where] = base
    con = base.cursor()
    con.execute(f"USE {LAKE_NAME}")
    return con


def release() -> None:
    """Close the DuckLake instances this process keeps attached (the next connect attaches again)."""
    with _LOCK:
        for con in _WRITERS.values():
            con.close()
        _WRITERS.clear()


def _attach(lake: Lake, read_only: bool) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config=dict(OFFLINE))
    try:
        load_extensions(con, lake.extensions())
        options = [f"DATA_PATH '{_quote(lake.data_path)}'"] if lake.data_path else []
        if read_only:
            options.append("READ_ONLY")
        suffix = f" ({', '.join(options)})" if options else ""
        con.execute(f"ATTACH '{_quote(LAKE_PREFIX + lake.catalog)}' AS {LAKE_NAME}{suffix}")
        con.execute(f"USE {LAKE_NAME}")
    except BaseException as exc:
        con.close()
        if "data_path is not set" in str(exc):
            raise ValueError(NO_DATA_PATH) from exc
        raise
    return con


def _connect_file(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    if read_only:
        if not path.exists():
            raise FileNotFoundError(f"warehouse not found: {path} (run `ticket-intel run` first)")
        return duckdb.connect(str(path), read_only=True, config=dict(OFFLINE))
    path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), config=dict(OFFLINE))


def _quote(text: str) -> str:
    return text.replace("'", "''")


def is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection's default database is a DuckLake (which lacks keys and fixed-size arrays)."""
    row = con.execute("SELECT type FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return row is not None and row[0] == "ducklake"


def _is_conflict(exc: Exception) -> bool:
    return "conflict" in str(exc).lower()


def retry_conflicts(fn: Callable[[], T], max_tries: int = 8) -> T:
    """Run a whole transaction again when a concurrent writer committed a conflicting change first.

    DuckLake resolves concurrent appends itself but aborts a commit whose table another writer deleted
    from meanwhile (two weeks re-written at once); `fn` must be idempotent, as partition replaces are.
    """
    retried = backoff.on_exception(
        backoff.expo, duckdb.TransactionException, max_tries=max_tries, giveup=lambda e: not _is_conflict(e),
        base=2, factor=0.05, max_value=5, jitter=backoff.full_jitter, logger=None,
    )(fn)
    return retried()
