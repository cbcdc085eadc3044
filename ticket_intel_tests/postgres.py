"""A throwaway PostgreSQL server for the DuckLake and Dagster-instance tests (a pytest plugin).

It runs Debian's `postgresql` binaries (installed by .ci/run) in a temporary folder on a free port,
as the `postgres` user when the tests run as root (the server refuses root). When it cannot start,
every test that needs it skips with one line saying why.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SUPERUSER = "postgres"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str

    def conninfo(self, dbname: str) -> str:
        """A libpq connection string, as DuckLake's `ducklake:postgres:` and psycopg2 take it."""
        return f"dbname={dbname} host={self.host} port={self.port} user={self.user}"

    def create_database(self) -> str:
        import psycopg2

        name = f"t_{uuid.uuid4().hex[:12]}"
        con = psycopg2.connect(self.conninfo("postgres"))
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        con.close()
        return name


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    initdb = found[-1] if found else shutil.which("initdb")
    if not initdb:
        raise RuntimeError("initdb not found (apt-get install postgresql)")
    return Path(initdb).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as(user: str | None, args: list[str]) -> None:
    done = subprocess.run(args, user=user, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode:
        raise RuntimeError(f"{Path(args[0]).name} failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")


def start(root: Path) -> tuple[PostgresServer, list[str]]:
    """initdb + pg_ctl start in `root`; returns the server and the command that stops it."""
    bindir = _bindir()
    user = SUPERUSER if os.geteuid() == 0 else None
    if user:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    data, port = root / "data", _free_port()
    _run_as(user, [str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync"])
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    _run_as(user, [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "-t", "60", "start"])
    stop = [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
    return PostgresServer("127.0.0.1", port, SUPERUSER), stop


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    # Not under pytest's tmp folder: its parents are private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="ti-postgres-"))
    try:
        server, stop = start(root)
    except (OSError, RuntimeError, KeyError, subprocess.SubprocessError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"local PostgreSQL cannot start: {exc}")
    try:
        yield server
    finally:
        subprocess.run(stop, user=SUPERUSER if os.geteuid() == 0 else None, capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_db(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session's server; returns its libpq connection string."""
    return postgres_server.conninfo(postgres_server.create_database())
