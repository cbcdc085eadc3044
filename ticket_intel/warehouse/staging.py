"""The staging database of one ingest: parsed rows on disk between the parse and the warehouse write.

`core.sources.stream_exports` hands each chunk here as it is parsed, and it is written out at once
as Parquet files in a private temporary folder, so a run's memory follows the chunk, not the inbox.
An in-memory DuckDB with a capped buffer queries those files. Once every file is in, `resolve`
applies what needs every row at once, in SQL, the way `read_exports` does in memory: tickets before
the first partition become rejections, and of a ticket exported twice the last version wins (an
earlier, different one is filed as superseded). The warehouse write then streams the resolved rows
from here (`rows`, as Arrow batches).

With a parse cache (core/sources/parse_cache.py) a file parsed before, with the same bytes and parser,
is not parsed again: the parts it sent are kept there and linked back in, their `seq` moved to where
this stream's reading reached.

Within `parse_once` (the CLI) the staging database of an inbox outlives its first reader: the week
discovery stages the inbox, and the run's ingest takes it over when every file still has the same
content hash, instead of parsing the inbox a second time.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from ticket_intel.adapters.processes import ProcessId
from ticket_intel.core.sources import (
    EARLY_REASON,
    REMOVED_REASON,
    SUPERSEDED_REASON,
    Chunk,
    Mapping,
    file_sha256,
    scan_inbox,
    stream_exports,
)
from ticket_intel.core.sources.base import REMOVED_STATUSES
from ticket_intel.core.sources.parse_cache import ENTRY_FILE, ParseCache
from ticket_intel.core.sources.zones import LOCAL_ZONE
from ticket_intel.core.weeks import week_start
from ticket_intel.warehouse.queries import rejection_reasons_sql, set_aside_sql

STAGE_PREFIX = "ticket_intel_stage_"  # + the owner's pid and start time (ms): see `_stage_folder`
STAGE_MEMORY = "128MB"  # DuckDB's buffer for the staging database: beyond it, rows and joins spill to disk
BATCH_ROWS = 20_000  # rows per Arrow batch on the way to the warehouse
_TABLES = {
    "tickets": """ticket_id VARCHAR, source VARCHAR, source_id VARCHAR, created_at TIMESTAMP, customer_id VARCHAR,
        account_id VARCHAR, plan VARCHAR, monthly_revenue DOUBLE, subject VARCHAR, message VARCHAR, channel VARCHAR,
        tags VARCHAR[], priority VARCHAR, status VARCHAR, product VARCHAR, language VARCHAR, followups INTEGER,
        followup_text VARCHAR, source_file VARCHAR, locator VARCHAR, record VARCHAR, week_start DATE, seq BIGINT""",
    "replies": """ticket_id VARCHAR, reply_id VARCHAR, reply_at TIMESTAMP, author VARCHAR, text VARCHAR,
        is_public BOOLEAN, source_file VARCHAR, locator VARCHAR""",
    "rejected": """source_file VARCHAR, locator VARCHAR, source VARCHAR, record VARCHAR, reason VARCHAR,
        file_hash VARCHAR, seq BIGINT""",
}
_REMOVED = "[" + ", ".join(f"'{s}'" for s in REMOVED_STATUSES) + "]"  # a view takes no parameters
_SEQUENCED = ("tickets", "rejected")  # the tables whose rows carry their read order (`seq`)
# What the warehouse write reads, per kind (rejections: of every week).
_ROWS = {
    # Every ticket the inbox holds a latest version of, kept or removed in its helpdesk: its stored rows go.
    "ids": "SELECT ticket_id FROM tickets JOIN last_seq USING (ticket_id, seq) WHERE week_start IN (SELECT unnest($weeks))",
    "tickets": "SELECT * EXCLUDE (seq), $run_id AS run_id FROM kept WHERE week_start IN (SELECT unnest($weeks))",
    "replies": """SELECT r.ticket_id, r.reply_id, r.reply_at, r.author, r.text, r.is_public, k.week_start,
                  $run_id AS run_id FROM replies r JOIN kept k USING (ticket_id, source_file, locator)
                  WHERE k.week_start IN (SELECT unnest($weeks))""",
    "rejected": "SELECT * EXCLUDE (seq), $run_id AS run_id FROM all_rejected",
}


def _stage_folder() -> Path:
    """A new stage folder named after this process, once the folders of processes that are gone are
    removed: a run killed mid-ingest cannot remove its own, and each holds a copy of the inbox's rows."""
    me = ProcessId.current()
    for old in Path(tempfile.gettempdir()).glob(f"{STAGE_PREFIX}*"):
        pid, started, *_ = (old.name[len(STAGE_PREFIX):] + "_x_x").split("_")
        if pid.isdigit() and started.isdigit() and not ProcessId(int(pid), me.host, int(started) / 1000).alive():
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{me.pid}_{round(me.started * 1000)}_"))


class Stage:
    """A private folder (under TMPDIR, removed on `close`) of Parquet files, one per chunk and table,
    queried through an in-memory DuckDB whose buffer is capped; a `Sink`. Parquet rather than DuckDB
    tables: table storage (checkpoints, in-memory row groups) holds memory that grows with the rows.
    With a `ParseCache` it is also the stream's `FileCache`: a file's parts are kept there as written."""

    def __init__(self, cache: ParseCache | None = None) -> None:
        self.folder, self.cache = _stage_folder(), cache
        self.con = duckdb.connect(":memory:", config={
            "memory_limit": STAGE_MEMORY, "temp_directory": str(self.folder / "spill"),
            "preserve_insertion_order": False})
        self.con.execute("SET enable_progress_bar = false")
        for table, columns in _TABLES.items():
            self.con.execute(f"CREATE TABLE empty_{table} ({columns})")
        self._parts: dict[str, list[tuple[Path, set[str]]]] = {table: [] for table in _TABLES}
        self._seq = self._writes = 0

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def add(self, chunk: Chunk) -> None:
        """Rows in the order they were read (`seq`): the last version of a re-exported ticket wins."""
        tickets, rejected = chunk.tickets, chunk.rejected
        if len(tickets):
            tickets = tickets.assign(week_start=week_start(tickets["created_at"]), seq=self._next(len(tickets)))
        self._write("tickets", tickets)
        self._write("replies", chunk.replies)
        self._write("rejected", rejected.assign(seq=self._next(len(rejected))))

    def drop(self, source_file: str) -> None:
        for table, parts in self._parts.items():
            for path, _ in (gone := [p for p in parts if source_file in p[1]]):
                path.unlink()
            self._parts[table] = [p for p in parts if p not in gone]

    def replay(self, key: str, source_file: str) -> dict[str, Any] | None:
        """A kept file's parts, its rows' `seq` moved to follow what is staged so far (as its parse would
        have numbered them); None on a miss. An entry that cannot be read is removed: a miss, not an error."""
        if self.cache is None:
            return None
        try:
            if (folder := self.cache.entry(key)) is None:
                return None
            meta = _checked(json.loads((folder / ENTRY_FILE).read_text()))
            for table, name, digest in meta["parts"]:
                self._restore(table, folder / name, digest, self._seq - meta["first"], source_file)
        except (OSError, ValueError, KeyError, TypeError, duckdb.Error):
            self.drop(source_file)
            self.cache.forget(key)
            return None
        self._seq += meta["seqs"]
        self.cache.used.add(key)
        return meta["entry"]

    def _restore(self, table: str, part: Path, digest: str, shift: int, source_file: str) -> None:
        if file_sha256(part) != digest:
            raise ValueError(f"{part} is not the file that was kept")
        path = self._part_path(table)
        if table in _SEQUENCED and shift:
            self.con.execute(f"COPY (SELECT * REPLACE (CAST(seq + $1 AS BIGINT) AS seq) FROM read_parquet("
                             f"{_quote(part)})) TO {_quote(path)} (FORMAT parquet)", [shift])
        else:
            _link(part, path)
        self._parts[table].append((path, {source_file}))

    def keep(self, key: str, source_file: str, entry: dict[str, Any]) -> None:
        """Keep the parts the file just sent, with its file entry and the span of `seq` its rows took.
        The cache is a shortcut: when it cannot be written, the file is parsed again next time."""
        if self.cache is None:
            return
        parts = sorted((path, table) for table, parts in self._parts.items()
                       for path, files in parts if files == {source_file})
        numbered = [_quote(path) for path, table in parts if table in _SEQUENCED]
        first, last = self.con.execute(f"SELECT min(seq), max(seq) FROM read_parquet([{', '.join(numbered)}])"
                                       ).fetchone() if numbered else (self._seq, self._seq - 1)
        with contextlib.suppress(OSError), self.cache.writing(key) as temp:
            for path, _ in parts:
                _link(path, temp / path.name)
            listed = [[table, path.name, file_sha256(path)] for path, table in parts]
            meta = {"entry": entry, "first": first, "seqs": last - first + 1, "parts": listed}
            (temp / ENTRY_FILE).write_text(json.dumps({"meta": meta, "sha256": _json_sha256(meta)}))

    def _next(self, n: int) -> range:
        self._seq += n
        return range(self._seq - n, self._seq)

    def _write(self, table: str, frame: pd.DataFrame) -> None:
        """One chunk of a table as one Parquet file, typed as the table says."""
        if not len(frame):
            return
        path = self._part_path(table)
        typed = ", ".join(f"CAST({c.split()[0]} AS {c.split(maxsplit=1)[1]}) AS {c.split()[0]}"
                          for c in _TABLES[table].split(","))
        self.con.register("_chunk", frame)
        self.con.execute(f"COPY (SELECT {typed} FROM _chunk) TO {_quote(path)} (FORMAT parquet)")
        self.con.unregister("_chunk")
        self._parts[table].append((path, set(frame["source_file"])))

    def _part_path(self, table: str) -> Path:
        self._writes += 1
        return self.folder / f"{table}_{self._writes:09d}.parquet"

    def _views(self) -> None:
        for table, parts in self._parts.items():
            paths = ", ".join(_quote(path) for path, _ in parts)
            source = f"read_parquet([{paths}])" if parts else f"empty_{table}"
            self.con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM {source}")

    def resolve(self, files: pd.DataFrame, earliest: datetime | None) -> pd.DataFrame:
        """Tickets before `earliest` rejected, re-exports resolved (`kept`, `all_rejected`); returns
        `files` with each file's accepted, rejected and repeated rows (a superseded or repeated row counts
        where it was read)."""
        lower, con = earliest or datetime.min, self.con
        self._views()
        con.register("_files", files[["source_file", "file_hash"]])
        # Of each ticket the last version read; only ids and positions are held, the rows stay on disk.
        con.execute("""CREATE OR REPLACE TABLE last_seq AS SELECT ticket_id, max(seq) AS seq FROM tickets
                       WHERE created_at >= $1 GROUP BY 1""", [lower])
        # The last version stands for the ticket; one its helpdesk removed is set aside, not kept.
        con.execute(f"""CREATE OR REPLACE VIEW kept AS SELECT * FROM tickets WHERE seq IN (SELECT seq FROM last_seq)
                        AND NOT list_contains({_REMOVED}, coalesce(status, ''))""")
        # Earlier versions, found on ids, positions and digests only: those that differ from the last
        # are superseded (filed), the others repeated (counted where they were read).
        con.execute("""CREATE OR REPLACE TABLE earlier AS
            WITH v AS (SELECT ticket_id, seq, md5(record) AS digest, source_file, locator FROM tickets
                       WHERE created_at >= $1),
                 last AS (SELECT v.* FROM v JOIN last_seq USING (ticket_id, seq))
            SELECT v.seq, v.source_file, last.source_file AS newer_file, last.locator AS newer_locator,
                   v.digest IS NOT DISTINCT FROM last.digest AS repeated
            FROM v JOIN last USING (ticket_id) WHERE v.seq < last.seq""", [lower])
        con.execute("CREATE OR REPLACE VIEW superseded AS SELECT * FROM earlier WHERE NOT repeated")
        con.execute(f"""COPY (
            SELECT * FROM rejected
            UNION ALL SELECT e.source_file, e.locator, e.source, e.record,
                format($2, strftime(e.created_at, '%Y-%m-%d'), strftime($1, '%Y-%m-%d')), f.file_hash, e.seq
                FROM tickets e LEFT JOIN _files f USING (source_file) WHERE e.created_at < $1
            UNION ALL SELECT o.source_file, o.locator, o.source, o.record,
                format($3, o.source_id, parse_filename(n.newer_file, false, 'forward_slash'), n.newer_locator), NULL, o.seq
                FROM tickets o JOIN superseded n USING (seq)
            UNION ALL SELECT d.source_file, d.locator, d.source, d.record, format($4, d.source_id, d.status), NULL, d.seq
                FROM tickets d JOIN last_seq USING (seq) WHERE list_contains({_REMOVED}, d.status)
            ) TO {_quote(self.folder / "all_rejected.parquet")} (FORMAT parquet)""",
                    [lower, EARLY_REASON, SUPERSEDED_REASON, REMOVED_REASON])
        con.execute(f"CREATE OR REPLACE VIEW all_rejected AS SELECT * FROM {_quote(self.folder / 'all_rejected.parquet')}")
        con.unregister("_files")
        counts = {name: dict(con.execute(f"SELECT source_file, count(*) FROM {table} GROUP BY 1").fetchall())
                  for name, table in (("accepted", "kept"), ("rejected", "all_rejected"),
                                      ("repeated", "(SELECT * FROM earlier WHERE repeated)"))}
        # A file without tickets keeps its own count (an accounts file: the accounts it gave); its own
        # repeated rows (messages a threaded export repeats, `threads.Threaded`) add to its tickets'.
        repeated = files["source_file"].map(counts.pop("repeated")).fillna(0) + files["repeated"]
        return files.assign(**{k: files["source_file"].map(v).fillna(files[k]).astype(int) for k, v in counts.items()},
                            repeated=repeated.astype(int))

    def file_week_counts(self) -> pd.DataFrame:
        """Resolved tickets per source file and week (source_file, week_start, tickets)."""
        rows = self.con.execute("SELECT source_file, week_start, count(*) FROM kept GROUP BY ALL ORDER BY ALL")
        return pd.DataFrame(rows.fetchall(), columns=["source_file", "week_start", "tickets"])

    def week_counts(self) -> Counter[date]:
        return Counter(dict(self.con.execute("SELECT week_start, count(*) FROM kept GROUP BY 1").fetchall()))

    def inbox_week_counts(self) -> Counter[date]:
        """Per week, the inbox's tickets whatever `resolve`'s `earliest`: each ticket's last version,
        unless its helpdesk removed it."""
        return Counter(dict(self.con.execute(f"""
            SELECT week_start, count(*) FROM tickets WHERE seq IN (SELECT max(seq) FROM tickets GROUP BY ticket_id)
            AND NOT list_contains({_REMOVED}, coalesce(status, '')) GROUP BY 1""").fetchall()))

    def week_digests(self) -> dict[date, str]:
        """Per week, a digest of its resolved tickets and their replies as parsed, not of which file or
        line holds them (a renamed or reordered export is the same week): rows hashed, sums added up."""
        rows = self.con.execute("""
            WITH t AS (SELECT week_start, hash(k)::HUGEINT AS h FROM (SELECT * EXCLUDE (source_file, locator, seq)
                                                                         FROM kept) k),
                 r AS (SELECT k.week_start, hash(r.ticket_id, r.reply_id, r.reply_at, r.author, r.text, r.is_public
                                                  )::HUGEINT AS h
                       FROM replies r JOIN kept k USING (ticket_id, source_file, locator)),  -- as `rows` writes them
                 both_ AS (SELECT * FROM t UNION ALL SELECT * FROM r)
            SELECT week_start, sum(h)::VARCHAR || ':' || count(*)::VARCHAR FROM both_ GROUP BY 1""").fetchall()
        return {week: hashlib.sha256(text.encode()).hexdigest()[:16] for week, text in rows}

    def latest_weeks_offsets(self, weeks: int) -> pd.DataFrame:
        """Each ticket of the inbox's last `weeks` weeks with tickets: week_start, created_at and its
        seconds since its week's Monday (core/rates.py `cut_short` reads them)."""
        return self.con.execute("""SELECT week_start, created_at,
                                          epoch(created_at) - epoch(CAST(week_start AS TIMESTAMP)) AS offset_seconds
                                   FROM kept WHERE week_start IN (SELECT DISTINCT week_start FROM kept
                                                                  ORDER BY week_start DESC LIMIT ?)""", [weeks]).df()

    def rejected_count(self) -> int:
        return self.con.execute("SELECT count(*) FROM all_rejected").fetchone()[0]

    def set_aside(self) -> pd.DataFrame:
        """Per file, its rejections that are sound records set aside, per kind (`SET_ASIDE`)."""
        return self.con.execute(*set_aside_sql("all_rejected")).df()

    def rejection_reasons(self) -> pd.DataFrame:
        """Per file, its malformed records by kind of reason (`rejection_reasons_sql`)."""
        return self.con.execute(*rejection_reasons_sql("all_rejected")).df()

    def check_frame(self, weeks: Sequence[date]) -> pd.DataFrame:
        """What the raw tickets' expectations look at, for the tickets in `weeks` (not their text)."""
        return self.con.execute("SELECT ticket_id, created_at, plan, length(message) AS message_length FROM kept "
                                "WHERE week_start IN (SELECT unnest(?))", [list(weeks)]).df()

    def rows(self, kind: str, weeks: Sequence[date], run_id: str) -> pa.RecordBatchReader:
        """Resolved rows (`ids`, `tickets`, `replies`, `rejected`), streamed in Arrow batches."""
        sql, values = _ROWS[kind], {"weeks": list(weeks), "run_id": run_id}
        params = {name: value for name, value in values.items() if f"${name}" in sql}
        return self.con.execute(sql, params).to_arrow_reader(BATCH_ROWS)


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _json_sha256(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def _checked(stored: dict[str, Any]) -> dict[str, Any]:
    """A kept entry's meta, if it is what was written (its parts carry their own digests)."""
    if _json_sha256(stored["meta"]) != stored["sha256"]:
        raise ValueError("the entry is not what was kept")
    return stored["meta"]


def _link(source: Path, target: Path) -> None:
    """A hard link where the file system allows (neither side is ever written again), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


@dataclass
class StagedInbox:
    """An inbox streamed into a stage: the files as read (FILE_COLUMNS) and the scan they came from."""

    inbox: Path
    stage: Stage
    files: pd.DataFrame
    listed: tuple[list[Path], dict[str, str]]

    def unchanged(self) -> bool:
        """Same files, each with the same content hash (None: still unreadable)."""
        scan = scan_inbox(self.inbox)
        if (scan.files, scan.skipped) != self.listed:
            return False
        hashes = dict(zip(self.files["source_file"], self.files["file_hash"], strict=True))
        return all(file_sha256(p) == hashes[str(p)] for p in scan.files if str(p) in hashes)


def _stage_inbox(inbox: Path, mappings: Sequence[Mapping], cache_root: Path | None) -> StagedInbox:
    """Every file parsed, or sent from the parse cache when kept there; then the entries this inbox did
    not use (files gone or changed, older parsers) are removed."""
    cache = ParseCache.of_inbox(cache_root, inbox) if cache_root else None
    scan, stage = scan_inbox(inbox), Stage(cache)
    try:
        files = stream_exports(scan.files, stage, mappings, passed_over=scan.skipped, cache=stage if cache else None)
    except BaseException:
        stage.close()
        raise
    if cache:
        cache.evict()
    return StagedInbox(inbox, stage, files, (scan.files, scan.skipped))


# Staged inboxes kept for the next reader inside `parse_once` (None outside it).
_SHARED: contextvars.ContextVar[dict[tuple[str, ...], StagedInbox] | None] = contextvars.ContextVar(
    "staged_inboxes", default=None)


@contextlib.contextmanager
def parse_once() -> Iterator[None]:
    """Within the block an inbox is parsed once: its staging database is handed to the next reader while
    every file keeps its content hash. The CLI's week discovery and the run it starts share it."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        for staged in (_SHARED.get() or {}).values():
            staged.stage.close()
        _SHARED.reset(token)


@contextlib.contextmanager
def staged_inbox(inbox: Path, mappings: Sequence[Mapping], cache_root: Path | None = None) -> Iterator[StagedInbox]:
    """The inbox streamed into a staging database (taken over from an earlier reader inside `parse_once`);
    with `cache_root` (TICKET_INTEL_PARSE_CACHE_DIR), files parsed before are not parsed again."""
    shared = _SHARED.get()
    if shared is None:
        staged = _stage_inbox(inbox, mappings, cache_root)
        try:
            yield staged
        finally:
            staged.stage.close()
        return
    key = (str(inbox.resolve()), LOCAL_ZONE.get(), *(m.name for m in mappings))
    if (kept := shared.pop(key, None)) is not None and not kept.unchanged():
        kept.stage.close()
        kept = None
    shared[key] = kept or _stage_inbox(inbox, mappings, cache_root)
    yield shared[key]


# The rows of a kept parse that hold a ticket of $t or of a customer of $c, per part table.
_HOLDING = {"tickets": "ticket_id IN (SELECT unnest($t)) OR customer_id IN (SELECT unnest($c))",
            "replies": "ticket_id IN (SELECT unnest($t))"}


def forget_tickets(cache_root: Path, tickets: Sequence[str], customers: Sequence[str]) -> list[str]:
    """Remove the parse cache entries, of every inbox under `cache_root`, that hold one of `tickets` or
    a ticket of `customers` (their exports as parsed, unredacted), and any entry that cannot be read
    (a killed writer's half): none can tell. Returns the files whose entries went, parsed again next run."""
    gone: list[str] = []
    with duckdb.connect(":memory:") as con:
        for folder in sorted(p for p in cache_root.glob("*/*") if p.is_dir()):
            try:
                meta = _checked(json.loads((folder / ENTRY_FILE).read_text()))
                holds = any(con.execute(f"SELECT count(*) FROM read_parquet({_quote(folder / name)}) WHERE {where}",
                                        {k: list(v) for k, v in (("t", tickets), ("c", customers)) if f"${k}" in where}
                                        ).fetchone()[0]
                            for table, name, _ in meta["parts"] if (where := _HOLDING.get(table)))
                name = str(meta["entry"]["source_file"])
            except (OSError, ValueError, KeyError, TypeError, duckdb.Error):
                holds, name = True, folder.name
            if holds:
                shutil.rmtree(folder, ignore_errors=True)
                gone.append(name)
    return gone
