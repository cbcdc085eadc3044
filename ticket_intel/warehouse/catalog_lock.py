"""The writer lock of a DuckLake whose catalog is in PostgreSQL: a session advisory lock in the
catalog database, which is where every writer of that lake connects, whatever machine it runs on.

DuckLake orders commits, not runs: two runs clustering weeks side by side both committed, and the
weeks' theme ids forked. So a lake has one writer at a time, as a file has. The lock belongs to a
session of its own, held for the whole run; PostgreSQL releases it when that session ends, by the
holder's exit or its death (the kernel closes a killed process's socket; a machine that vanishes is
noticed by the TCP keepalives set below, within about two minutes). Session locks need one server
session per client: a pooler in transaction mode between writers and the catalog would break them.

Who holds the lock is recorded in `ticket_intel_writer`, a one-row table beside DuckLake's own, so
that a waiting writer can say for whom it waits.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import psycopg2
from psycopg2 import errors
from psycopg2.extras import Json

# Any constant will do: advisory locks are per database, and the catalog database is the lake.
LOCK_KEY = 0x7469636B65745F69  # "ticket_i"
_POLL_SECONDS = 0.5  # as the file lock polls
_KEEPALIVES = "SET tcp_keepalives_idle = 60; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 6"
_GUARD = threading.Lock()


@dataclass
class _Held:
    """The session holding a lake's lock, and how many holds of this process it stands for."""

    session: Any
    holds: int = 1


_HELD: dict[str, _Held] = {}  # by conninfo


class CatalogUnreachable(ConnectionError):
    """The catalog database cannot be reached to take or read the lock."""


def _session(conninfo: str) -> Any:
    try:
        con = psycopg2.connect(conninfo, application_name="ticket_intel writer lock")
    except psycopg2.OperationalError as exc:
        raise CatalogUnreachable(f"DuckLake catalog: {str(exc).strip().splitlines()[0]} ({conninfo})") from None
    con.autocommit = True
    return con


def acquire(conninfo: str, timeout: float) -> bool:
    """Take the lake's lock, trying for `timeout` seconds (0: once); re-entered within a process (a
    CLI holding it before its run's resource takes it again)."""
    with _GUARD:
        if conninfo in _HELD:
            _HELD[conninfo].holds += 1
            return True
    con = _session(conninfo)
    try:
        got = _wait(con, time.monotonic() + timeout)
    except BaseException:
        con.close()
        raise
    if not got:
        con.close()
        return False
    with _GUARD:
        _HELD[conninfo] = _Held(con)
    return True


def _wait(con: Any, deadline: float) -> bool:
    with con.cursor() as cur:
        cur.execute(_KEEPALIVES)
        while not _try(cur):
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_SECONDS)
    return True


def _try(cur: Any) -> bool:
    cur.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,))
    return bool(cur.fetchone()[0])


def release(conninfo: str) -> None:
    """Give up one hold; the last one ends the session, which frees the lock."""
    with _GUARD:
        held = _HELD[conninfo]
        held.holds -= 1
        if held.holds:
            return
        del _HELD[conninfo]
    held.session.close()


def record(conninfo: str, holder: dict[str, Any]) -> None:
    """Write who holds the lock; called by the holder only, so the table is created by one writer."""
    with _HELD[conninfo].session.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS ticket_intel_writer (lock_key bigint PRIMARY KEY, holder jsonb NOT NULL)")
        cur.execute("INSERT INTO ticket_intel_writer VALUES (%s, %s) "
                    "ON CONFLICT (lock_key) DO UPDATE SET holder = excluded.holder", (LOCK_KEY, Json(holder)))


def recorded(conninfo: str) -> dict[str, Any] | None:
    """Who last recorded holding the lock (None before any writer did)."""
    con = _session(conninfo)
    try:
        with con.cursor() as cur:
            cur.execute("SELECT holder FROM ticket_intel_writer WHERE lock_key = %s", (LOCK_KEY,))
            row = cur.fetchone()
    except errors.UndefinedTable:
        return None
    finally:
        con.close()
    return row[0] if row else None
