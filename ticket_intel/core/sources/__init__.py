"""Read helpdesk exports into canonical tickets, detecting each file's profile from its content.

A file is decoded (gzip, BOMs, UTF-16, Latin-1 fallback), parsed as JSON, JSONL, CSV, Parquet
or an Excel workbook (.xlsx, each sheet that holds rows a table), and handed to the first profile
that recognises its shape: Zendesk, Intercom, Freshdesk, then the YAML column mappings. Records
that cannot be used become rejections with a reason; a file that cannot be read at all becomes one
file-level rejection. Nothing raises past this module, so one bad file never stops the others.

Files are streamed (`stream_exports`): each file's bytes are copied once into a private temporary
file, CSV and JSONL are parsed `CSV_CHUNK` rows at a time, and each chunk's rows go to a `Sink`
(the warehouse's staging database for a run) instead of accumulating, so memory follows the chunk,
not the file. `read_exports` is the same stream collected in memory, for small inboxes and tests.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import hashlib
import io
import itertools
import json
import re
import shlex
import shutil
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Protocol

import ijson
import numpy as np
import pandas as pd

from ticket_intel.core.csv_dialect import delimiter_of
from ticket_intel.core.language import detect_languages
from ticket_intel.core.sources import freshdesk, intercom, mapped, threads, zendesk
from ticket_intel.core.sources.accounts import is_accounts_file, join_accounts, read_accounts
from ticket_intel.core.sources.base import (
    AUTOMATIC_PATTERN,
    CANONICAL_COLUMNS,
    MERGED_REASON,
    REJECTED_COLUMNS,
    REMOVED_STATUSES,
    REPLY_COLUMNS,
    SKIPPED_KINDS,
    UNANSWERED_REASON,
    FileError,
    ParseResult,
    RecordError,
    UnrecognisedColumns,
    is_for_now,
)
from ticket_intel.core.sources.dates import NUMERIC_DATE, DateOrder, date_order, iso_date
from ticket_intel.core.sources.inbox import (
    SPOOL_MEMORY,
    InboxScan,
    Spool,
    cut_incomplete,
    file_sha256,
    scan_inbox,
    spool_snapshot,
)
from ticket_intel.core.sources.mapped import Mapping, load_mappings
from ticket_intel.core.sources.parse_cache import entry_key, fingerprint
from ticket_intel.core.weeks import monday

__all__ = ["EARLY_REASON", "FILE_COLUMNS", "REMOVED_REASON", "REPEATED_ROWS", "SKIPPED_ROWS", "SUPERSEDED_REASON", "Chunk",
           "FileCache", "FileError", "InboxScan", "IngestResult", "Mapping", "Sink", "export_weeks", "file_sha256",
           "list_exports", "load_mappings", "parse_bytes", "read_exports", "read_inbox", "reader_of",
           "scan_inbox", "stream_exports", "unread_sample", "whole_reads"]  # fmt: skip

# Per file: what it held, as read once (its content hash and size), and where each row went:
# `accepted` (a ticket; of an accounts file, an account), `rejected` (with a reason), `skipped` (not
# a ticket by its profile; `skipped_kinds`: how many of each kind, as JSON, `base.SKIPPED_KINDS`),
# `repeated` (a ticket a later export holds again unchanged: that copy stands for it) and
# `out_of_range` (a ticket outside the weeks being run: counted, left for a run of its weeks).
# `warning`: what a usable file showed that may mean it was misread (a mapping's rule value no row
# holds), on its line.
FILE_COLUMNS = ["source_file", "file_hash", "file_bytes", "profile", "accepted", "rejected", "skipped",
                "skipped_kinds", "repeated", "out_of_range", "error", "cut_short", "warning"]
# A line-based export that stops mid-record (no line break at its end, its last record rejected as
# incomplete) was cut short, or is still being written: it holds part of what it held before.
INCOMPLETE_RECORD = ("unexpected end of data", "row cut short", "invalid JSON on this line", "last record incomplete")
CUT_SHORT = ("ends mid-record (cut short, or still being written?): its tickets replace their copies, and those "
             "it held before and lacks now are kept until a whole export replaces it")
# What a file's `skipped` rows are when their kinds are unknown (a row a run stored before it counted
# them, `skipped_summary`): "3615 skipped" on the twcs sample left a user asking what was lost.
SKIPPED_ROWS = "not tickets (replies, a conversation's later messages, rows a mapping leaves out)"
RECORD_CHARS = 100_000  # of a rejected record's text, kept with its reason
# What a file's `repeated` rows are: not filed one by one (a weekly export of every ticket so far
# would file each ticket once a week), counted where they were read.
REPEATED_ROWS = "exported again unchanged in a later file"
OUTSIDE_ROWS = "outside the weeks run"
CSV_CHUNK = 5_000  # rows (CSV, JSONL) parsed at a time and handed on: memory follows the chunk, not the file
DECODE_PIECE = 1 << 20  # bytes validated as UTF-8 at a time
# csv's default field limit (128 KiB) is smaller than a long email body.
csv.field_size_limit(64 * 1024 * 1024)


# Reasons shared by both ends of the stream (read_exports here, the staging database's SQL `format`):
# `{}` placeholders, filled in order.
EARLY_REASON = ("created_at {} is before the first weekly partition {} "
                "(set TICKET_INTEL_PARTITIONS_START earlier to keep it)")
SUPERSEDED_REASON = "superseded: ticket {} exported again in {} ({})"
REMOVED_REASON = "removed in the helpdesk: ticket {} is {} there (spam, a test or a mistake), not counted"
REPLY_STAGE_COLUMNS = [*REPLY_COLUMNS, "source_file", "locator"]

# Rejections that are sound records set aside, not malformed ones: tickets dated before the
# partitions (kept by starting them earlier), earlier versions of tickets (and messages)
# exported again, tickets whose latest version the helpdesk removed (REMOVED_STATUSES),
# conversations we opened that no customer answered (Intercom campaigns and bot greetings, agents'
# proactive tickets and outbound e-mail; base.UNANSWERED_REASON),
# automatic mail: out-of-office replies, bounces, no-reply senders (base.AUTOMATIC_REASON), and
# tickets an agent merged into another (base.MERGED_REASON).
# Column: (SQL LIKE pattern of the reason, what the run's summary calls them). The rejection-rate
# check counts none of them.
SET_ASIDE = {
    "early": (EARLY_REASON.format("%", "%"), "before the partitions start"),
    "superseded": ("superseded: %", "superseded by a later export"),
    "removed": ("removed in the helpdesk: %", "deleted or spam in the helpdesk"),
    "unanswered": (UNANSWERED_REASON.format("%", "%"), "opened by us and never answered"),
    "automatic": (AUTOMATIC_PATTERN, "automatic mail (out of office, bounces, no-reply senders)"),
    "merged": (MERGED_REASON.format("%"), "merged into another ticket"),
}


def set_aside_of(row: Any) -> dict[str, int]:
    """A per-file row's count of each kind of `SET_ASIDE` (its columns of those names)."""
    return {kind: int(getattr(row, kind)) for kind in SET_ASIDE}


def rejection_summary(rejected: float, aside: dict[str, int]) -> str:
    """"0 rejected, 1306 before the partitions start": the malformed records, then each kind of
    sound record set aside that there is (`SET_ASIDE`)."""
    return ", ".join([f"{rejected - sum(aside.values())} rejected",
                      *(f"{n} {SET_ASIDE[kind][1]}" for kind, n in aside.items() if n)])


def file_summary(row: Any, inbox: Path | None = None) -> str:
    """A file's line in a run's log and `ticket-intel run` (a per-file row): "tweets.csv: twcs, 3 accepted,
    0 rejected, 7 written by the company (replies)", leaving out the kinds of rows it has none of. A file is named by
    its path inside the `inbox` (weekly drops in dated folders share one file name), else by its name."""
    counts = [f"{row.accepted} accepted", rejection_summary(row.rejected, set_aside_of(row)),
              *skipped_summary(row.skipped, getattr(row, "skipped_kinds", None)),
              *(f"{int(n)} {what}" for n, what in ((row.repeated, REPEATED_ROWS), (row.out_of_range, OUTSIDE_ROWS))
                if pd.notna(n) and n > 0)]
    warning = getattr(row, "warning", None)
    path = Path(row.source_file)
    name = path.relative_to(inbox).as_posix() if inbox is not None and path.is_relative_to(inbox) else path.name
    return f"{name}: {row.profile or 'unreadable'}, {', '.join(counts)}" + (
        f" — {row.error}" if row.error else f" — {CUT_SHORT}" if _is_true(getattr(row, "cut_short", None)) else "") + (
        f" — {warning}" if isinstance(warning, str) and warning else "")


def skipped_summary(skipped: Any, kinds: Any) -> list[str]:
    """A file's rows that are no ticket, each kind as "4683 written by bots (swift-ci)" (`SKIPPED_KINDS`,
    whose rows they are named, with their counts when several); of `kinds` (the JSON `_count_skipped`
    writes) unknown, `SKIPPED_ROWS`."""
    if not isinstance(kinds, str):
        return [f"{int(skipped)} {SKIPPED_ROWS}"] if pd.notna(skipped) and skipped > 0 else []
    counted, said = json.loads(kinds), []
    for kind, what in SKIPPED_KINDS.items():
        found = Counter({k.partition(":")[2]: n for k, n in counted.items() if k.partition(":")[0] == kind})
        if found:
            whose = [w if len(found) == 1 else f"{w} {n}" for w, n in found.most_common() if w]
            said.append(f"{found.total()} {what}" + (f" ({', '.join(whose)})" if whose else ""))
    return said


def _count_skipped(entry: dict[str, Any], kinds: Counter[str]) -> None:
    """Add a file's rows that are no ticket, per kind, to its entry: `skipped` and `skipped_kinds`."""
    if kinds:
        counted = Counter(json.loads(entry["skipped_kinds"] or "{}")) + kinds
        entry.update(skipped=entry["skipped"] + kinds.total(), skipped_kinds=json.dumps(dict(sorted(counted.items()))))


def _is_true(value: Any) -> bool:
    """A flag read from a table: True, numpy's True; not None nor NaN (a row written before the column)."""
    return value is not None and bool(pd.notna(value)) and bool(value)


def whole_reads(files: pd.DataFrame) -> list[str]:
    """The exports read whole (FILE_COLUMNS rows): their tickets in the weeks run replace what they
    held. An unreadable one gives none and one cut short part of them: both keep what they held."""
    cut = files["cut_short"].fillna(False).astype(bool) if "cut_short" in files else False
    return files.loc[files["error"].isna() & ~cut, "source_file"].tolist()


@dataclass
class Chunk:
    """Parsed rows on their way to a sink: tickets (CANONICAL_COLUMNS, language and accounts filled),
    agent replies (REPLY_STAGE_COLUMNS) and rejections (REJECTED_COLUMNS). Re-exports and tickets
    before the partitions are resolved by the sink once every file is in."""

    tickets: pd.DataFrame
    replies: pd.DataFrame
    rejected: pd.DataFrame


class Sink(Protocol):
    def add(self, chunk: Chunk) -> None: ...

    def drop(self, source_file: str) -> None:
        """Forget what a file sent so far: it turned out unusable further on."""


class FileCache(Protocol):
    """Where what a file sent to the sink is kept and sent again (warehouse/staging.py, core/sources/parse_cache.py)."""

    def replay(self, key: str, source_file: str) -> dict[str, Any] | None:
        """Send again what the file sent when it was parsed under `key`; its file entry, None on a miss."""

    def keep(self, key: str, source_file: str, entry: dict[str, Any]) -> None:
        """Remember under `key` what the file just sent to the sink."""


@dataclass
class IngestResult:
    tickets: pd.DataFrame  # CANONICAL_COLUMNS: one ticket per conversation
    rejected: pd.DataFrame  # REJECTED_COLUMNS
    files: pd.DataFrame  # FILE_COLUMNS
    replies: pd.DataFrame  # REPLY_COLUMNS: agent replies of the tickets above


def list_exports(inbox: Path) -> list[Path]:
    """Export files in the inbox, in a stable order (hidden files and folders skipped, and so are the
    help center and releases, which are not ticket exports: core/product_inputs.py)."""
    return scan_inbox(inbox).files


def encoding_of(fh: IO[bytes]) -> str:
    """BOM-aware, UTF-16 without BOM, UTF-8 when all of it is valid, Windows-1252 as the spreadsheet fallback."""
    fh.seek(0)
    sample = fh.read(4096)
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if sample.count(b"\x00") > len(sample) // 4:
        # Text in UTF-16 has a NUL in every other byte; anything else with many NULs is binary.
        if sample[1::2].count(0) > len(sample) // 2 * 0.9:
            return "utf-16-le"
        if sample[0::2].count(0) > len(sample) // 2 * 0.9:
            return "utf-16-be"
        raise FileError("binary content (many NUL bytes): not a CSV/JSON/Parquet export")
    checker = codecs.getincrementaldecoder("utf-8")()
    fh.seek(0)
    try:  # validated piece by piece: the decoded text is not kept
        while piece := fh.read(DECODE_PIECE):
            checker.decode(piece)
        checker.decode(b"", final=True)
    except UnicodeDecodeError:
        # Not UTF-8: a spreadsheet's Windows-1252, unless it is full of control bytes no text has
        # (an image or an archive saved with a .csv name), which would parse as one garbage column.
        if sum((b < 32 and b not in b"\t\n\r") or b == 127 for b in sample) > len(sample) // 20:
            raise FileError("binary content (many control bytes): not a CSV/JSON/Parquet/Excel export") from None
        return "utf-8" if _mostly_utf8(fh) else "cp1252"
    return "utf-8"


def _mostly_utf8(fh: IO[bytes]) -> bool:
    """Whether more characters decode as UTF-8 beyond ASCII than bytes fail to: a UTF-8 export with
    a few pasted Windows-1252 bytes is read as UTF-8 (those bytes as Windows-1252, `STRAY_BYTES`),
    not every accented letter of it as mojibake; Windows-1252 text almost never forms a UTF-8 pair."""
    decoder, decoded, failed = codecs.getincrementaldecoder("utf-8")(errors="replace"), 0, 0
    fh.seek(0)
    while piece := fh.read(DECODE_PIECE):
        text = decoder.decode(piece)
        failed += (bad := text.count("\ufffd"))
        decoded += len(text) - len(text.encode("ascii", "ignore")) - bad
    return decoded > failed


def _stray_bytes(error: UnicodeError) -> tuple[str, int]:
    """Bytes the file's encoding cannot decode, read as Windows-1252 (its few unassigned bytes as U+FFFD)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start:error.end].decode("cp1252", errors="replace"), error.end


STRAY_BYTES = "ticket_intel.stray_bytes"
codecs.register_error(STRAY_BYTES, _stray_bytes)


def _text_lines(fh: IO[bytes], encoding: str) -> Iterator[str]:
    """The text's lines, decoded as they are read (never the whole file as one string); NULs dropped."""
    fh.seek(0)
    text = io.TextIOWrapper(fh, encoding=encoding, errors=STRAY_BYTES, newline="")  # type: ignore[arg-type]
    try:
        for line in text:
            yield line.replace("\x00", "")
    finally:
        text.detach()  # the spool stays open for its owner


def _head(fh: IO[bytes], size: int) -> bytes:
    fh.seek(0)
    return fh.read(size)


class _Lines:
    """An iterator of lines that keeps those read since the last `take`, up to `RECORD_CHARS`: a
    record's own text (a quote left open may run to the end of a large file)."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines, self._read, self._kept = lines, [], 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        if self._kept < RECORD_CHARS:
            self._read.append(line)
            self._kept += len(line)
        return line

    def take(self) -> str:
        text, self._read, self._kept = "".join(self._read)[:RECORD_CHARS], [], 0
        return text


def _csv_records(reader: Any, lines: _Lines, width: int) -> Iterator[tuple[int, list[str] | None, str, str]]:
    """(first line, fields, why not, own text) per record; fields None for a record the file does not
    hold as the header says: malformed (strict quoting: a quote left open runs its value into the rows
    after it, until the next quote, where the reader stops it and reads on from the next line), cut
    short (a half-written line), or with values past the header's fields (a value holding the
    delimiter unquoted: the message would be cut at it). Trailing empty fields are no values."""
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            span = f"lines {start}-{reader.line_num}" if reader.line_num > start else f"line {start}"
            yield start, None, f"malformed CSV on {span}: {exc}", lines.take()
            continue
        text = lines.take()
        if not any(cell.strip() for cell in row):  # a blank line, or one of empty fields: no record
            continue
        why = (f"row cut short: {len(row)} of the header's {width} fields" if len(row) < width else
               f"{len(row)} fields where the header names {width}: a value holding the delimiter without quotes?"
               if any(cell.strip() for cell in row[width:]) else "")
        yield start, None if why else row[:width], why, text


def _csv_chunks(fh: IO[bytes], encoding: str, chunk_rows: int
                ) -> Iterator[tuple[pd.DataFrame, list[str], list[dict[str, Any]]]]:
    """Parse CSV (comma, tab, semicolon or pipe separated: core/csv_dialect.py) in frames of
    `chunk_rows` rows, keeping each record's first physical line for rejection locators; a record the
    header does not describe is rejected with its text (`_csv_records`), never padded or cut.
    The first frame always comes (empty for a header-only file)."""
    first_line = next(_text_lines(io.BytesIO(_head(fh, 65536)), encoding), "")
    lines = _Lines(_text_lines(fh, encoding))
    reader = csv.reader(lines, dialect="excel", delimiter=delimiter_of(first_line), strict=True)
    try:
        header = _column_names([h.strip() for h in next(reader)])
    except StopIteration as exc:
        raise FileError("empty file") from exc
    except csv.Error as exc:
        raise FileError(f"unreadable CSV header: {exc}") from exc
    lines.take()
    rows, locators, bad, sent = [], [], [], False
    for start, row, why, text in _csv_records(reader, lines, len(header)):
        if row is None:
            bad.append({"locator": f"line {start}", "record": text, "reason": why})
        else:
            rows.append(row)
            locators.append(f"line {start}")
        if len(rows) == chunk_rows:
            yield pd.DataFrame(rows, columns=header, dtype=object), locators, bad
            rows, locators, bad, sent = [], [], [], True
    if rows or bad or not sent:
        yield pd.DataFrame(rows, columns=header, dtype=object), locators, bad


def _column_names(header: list[str]) -> list[str]:
    """The header with a name for each column: an empty one (a spreadsheet saves the empty columns
    of a formatted range) or one already used is named by its place, "(column 5)" or "Subject
    (column 5)", so every value is kept and the first of a name is the one read (both crashed the
    run before 2026-12-06)."""
    named: list[str] = []
    for place, name in enumerate(header, start=1):
        named.append(name if name and name not in named else f"{name} (column {place})".lstrip())
    return named


NESTED_TOO_DEEP = "JSON nested deeper than this reads (a thousand levels): no helpdesk export is"


def _jsonl_chunks(fh: IO[bytes], encoding: str, chunk_rows: int
                  ) -> Iterator[tuple[list[Any], list[str], list[dict[str, Any]]]]:
    """One JSON value per line, `chunk_rows` lines at a time; a line that does not parse is a
    rejection, not a lost file. The first chunk always comes."""
    records, locators, bad, sent = [], [], [], False
    for n, line in enumerate(_text_lines(fh, encoding), start=1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
            locators.append(f"line {n}")
        except json.JSONDecodeError as exc:
            bad.append({"locator": f"line {n}", "record": line[:RECORD_CHARS],
                        "reason": f"invalid JSON on this line: {exc.msg.removesuffix(' at')} at column {exc.colno}"})
        except RecursionError:
            bad.append({"locator": f"line {n}", "record": line[:RECORD_CHARS], "reason": NESTED_TOO_DEEP})
        if len(records) + len(bad) == chunk_rows:
            yield records, locators, bad
            records, locators, bad, sent = [], [], [], True
    if records or bad or not sent:
        yield records, locators, bad


def _first_lines(fh: IO[bytes], encoding: str, n: int = 6) -> str:
    """The first `n` non-blank lines of the text."""
    lines = []
    for line in _text_lines(fh, encoding):
        if line.strip():
            lines.append(line.rstrip("\r\n"))
        if len(lines) == n:
            break
    return "\n".join(lines)


def _looks_like_jsonl(text: str) -> bool:
    """Several lines, each a whole JSON object: the first is one, or it is damaged and a later one
    is. A document written one record per line opens with a line that ends in "[", "{" or "," (until
    2026-12-06 any whole object among the first lines made a file JSONL, and such a document lost its
    records as "invalid JSON on this line"); one line alone is a document (`_parse_document` reads a
    lone record as one)."""
    lines = [ln.strip() for ln in text.splitlines()[:6] if ln.strip()]
    if len(lines) < 2:
        return False
    if _is_object(lines[0]):
        return True
    return not lines[0].endswith(("[", "{", ",")) and any(_is_object(line) for line in lines[1:5])


def _is_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (json.JSONDecodeError, RecursionError):
        return False


RecordsParser = Callable[[list[Any], list[str]], ParseResult]
# The file name shell-quoted: pasted, `a|b <img …>.csv` piped into a command named `b`.
_ADD_MAPPING = "add a column mapping (`ticket-intel mapping suggest {}` drafts one)"


def _unrecognised(what: str, columns: list[str], name: str, mappings: Sequence[Mapping]) -> str:
    """Why no mapping reads these columns, listing them, and the mappings that nearly do (more than half
    of their `detect` columns present): a misspelt `detect` column read as if no mapping existed."""
    shown = columns[:mapped.SHOWN_COLUMNS]
    said = f"{what} {shown}" + (f" and {len(columns) - len(shown)} more" if len(columns) > len(shown) else "")
    near = sorted(((m, [c for c in m.detect if c not in columns]) for m in mappings), key=lambda p: len(p[1]))
    near = [(m, lacking) for m, lacking in near if 2 * len(lacking) < len(m.detect)][:3]
    if not near:
        return f"{said}; {_ADD_MAPPING.format(shlex.quote(name))}"
    tried = "; ".join(f"mapping {m.name}{f' ({Path(m.path).name})' if m.path else ''} detects {m.detect}, but "
                      f"the file lacks {lacking}" for m, lacking in near)
    return f"{said}; {tried}: correct its `detect` (or the export), or {_ADD_MAPPING.format(shlex.quote(name))}"


def _records_parser(records: list[Any], name: str, mappings: Sequence[Mapping]) -> RecordsParser | Mapping:
    """How to parse JSON objects like these: API-shaped tickets of a known helpdesk, or the mapping
    their own keys match (`_parse_record_chunks` parses its rows as a table)."""
    objects = [r for r in records if isinstance(r, dict)]
    if not objects:
        raise FileError(f"no JSON objects among {len(records)} parsed records: not a ticket export")
    head = objects[0]
    if zendesk.looks_like_events(head):
        raise FileError(zendesk.EVENTS_EXPORT)
    if zendesk.looks_like_record(head):
        return lambda recs, locs: zendesk.parse({"tickets": recs}, locs)
    if intercom.looks_like_record(head):
        return lambda recs, locs: intercom.parse({"conversations": recs}, locs)
    if freshdesk.looks_like_record(head):
        return freshdesk.parse_api
    columns = list(dict.fromkeys(k for r in objects[:100] for k in r))
    mapping = mapped.find_mapping(columns, mappings)
    if mapping is None:
        raise UnrecognisedColumns(_unrecognised("records with unrecognised fields", columns, name, mappings),
                                  pd.DataFrame(objects[:UnrecognisedColumns.SAMPLE_ROWS]))
    return mapping


RecordChunks = Iterator[tuple[list[Any], list[str], Sequence[dict[str, Any]]]]


def _parse_record_chunks(chunks_of: Callable[[], RecordChunks], name: str, mappings: Sequence[Mapping]
                         ) -> Iterator[ParseResult]:
    """JSON records chunk by chunk, by the profile of the first chunk's objects; a mapped table's rows
    as a table (`_parse_tables`: its dates are read as a table's are)."""
    chunks = chunks_of()
    first = next(chunks)
    parse = _records_parser(first[0], name, mappings)
    if isinstance(parse, Mapping):
        chunks.close()
        yield from _parse_tables(lambda: _record_frames(chunks_of(), parse), name, mappings, parse)
        return
    for records, locators, bad in itertools.chain([first], chunks):
        result = parse(records, locators)
        for b in bad:
            result.reject(b["locator"], b["record"], b["reason"])
        yield result


def _record_frames(chunks: RecordChunks, mapping: Mapping) -> TableChunks:
    """JSON records as a table's chunks: the objects (or the mapping's `records` in them) as rows, a
    field inside an object a column by its path (`mapped.flattened`), any other value a rejected row."""
    for records, locators, bad in chunks:
        if mapping.records is not None:
            records, locators, inner = mapping.records.rows(records, locators)
            bad = [*bad, *inner]
        rows = [i for i, r in enumerate(records) if isinstance(r, dict)]
        others = [{"locator": locators[i], "record": r, "reason": f"record is a {type(r).__name__}, not an object"}
                  for i, r in enumerate(records) if not isinstance(r, dict)]
        yield mapped.flattened([records[i] for i in rows]), [locators[i] for i in rows], [*bad, *others]


def _parse_records(records: list[Any], locators: list[str], name: str, mappings: Sequence[Mapping]) -> ParseResult:
    # a generator (a mapped table's chunks are closed), whose results a mapped table ends with its warnings
    return _merge(_parse_record_chunks(lambda: (chunk for chunk in [(records, locators, ())]), name, mappings))


def _parse_document(doc: Any, name: str, mappings: Sequence[Mapping]) -> ParseResult:
    if isinstance(doc, dict) and _one_record(doc, mappings):  # a file holding one ticket or conversation
        return _parse_records([doc], ["record 1"], name, mappings)
    if zendesk.looks_like(doc):
        return zendesk.parse(doc)
    if intercom.looks_like(doc):
        return intercom.parse(doc)
    if isinstance(doc, list):
        return _parse_records(doc, [f"[{i}]" for i in range(len(doc))], name, mappings)
    if isinstance(doc, dict) and len(lists := _record_lists(doc)) == 1:
        key, items = lists[0], mapped.at_path(doc, lists[0])
        return _parse_records(items, [f"{key}[{i}]" for i in range(len(items))], name, mappings)
    keys = sorted(doc)[:12] if isinstance(doc, dict) else type(doc).__name__
    deeper = _nested_records(doc)
    where = f"; its records sit under {deeper}: extract them (`jq -c '.{deeper}[]' {name} > records.jsonl`)"
    raise FileError(f"JSON export of unknown shape (top-level keys: {keys}); {JSON_SHAPES}{where if deeper else ''}")


# What a JSON document can hold for a mapping to read it (docs/sources.md "Column mappings").
JSON_SHAPES = ("a mapping reads JSON records: a top-level array of objects, JSONL, or an object "
               "holding one list of objects (at its top or in its HAL `_embedded`), each record's fields "
               "(inside its objects by path) its columns")
# HAL (application/hal+json: Help Scout's API) puts a page's resources in `_embedded`, by relation.
HAL_EMBEDDED = "_embedded"


def _record_lists(doc: dict[str, Any]) -> list[str]:
    """The paths of a document's lists of objects: its own keys', and those of its HAL `_embedded`
    (`_embedded.conversations`, a Help Scout API page, once refused with a `jq` command)."""
    embedded = doc.get(HAL_EMBEDDED)
    inner = embedded.items() if isinstance(embedded, dict) else ()
    return [*(k for k, v in doc.items() if _objects(v)), *(f"{HAL_EMBEDDED}.{k}" for k, v in inner if _objects(v))]


def _objects(value: Any) -> bool:
    """Whether a value is a list of records (its first item an object)."""
    return isinstance(value, list) and bool(value) and isinstance(value[0], dict)


def _nested_records(doc: Any, depth: int = 3) -> str | None:
    """The dotted path of the first list of objects under an object's objects (`data.items`),
    looking `depth` levels down; None when there is none."""
    if not isinstance(doc, dict) or depth == 0:
        return None
    for key, value in doc.items():
        if _objects(value):
            return str(key)
        if (inner := _nested_records(value, depth - 1)) is not None:
            return f"{key}.{inner}"
    return None


TableParser = Callable[[pd.DataFrame, list[str]], ParseResult]


def _table_parser(frame: pd.DataFrame, name: str, mappings: Sequence[Mapping], records_of: Mapping | None = None
                  ) -> tuple[TableParser, str | None]:
    """How to parse rows with these columns: the profile the columns show, and the column whose text
    dates it reads without a format (None when there is none). `records_of`: the rows are JSON
    objects, read by the mapping their records' own keys chose (`_records_parser`); they leave out a
    field they have no value for (`mapped.parse`)."""
    if records_of is not None:
        return mapped.FileReader(records_of, name, sparse=True), _unformatted_date(records_of)
    if freshdesk.looks_like(frame.columns):
        return freshdesk.parse, freshdesk.CREATED
    if "Ticket ID" in frame.columns:
        missing = sorted(freshdesk.REQUIRED - set(frame.columns)) or ["Description or Subject"]
        raise FileError(f"looks like a Freshdesk export but lacks required column(s) {missing}")
    if (mapping := mapped.find_mapping(list(frame.columns), mappings)) is not None:
        return mapped.FileReader(mapping, name), _unformatted_date(mapping)
    raise UnrecognisedColumns(_unrecognised("table with unrecognised columns", [str(c) for c in frame.columns], name,
                                            mappings), frame)


def _unformatted_date(mapping: Mapping) -> str | None:
    return None if mapping.created_at_format else mapping.columns.get("created_at")


TableChunks = Iterator[tuple[pd.DataFrame, list[str], Sequence[dict[str, Any]]]]


def _parse_tables(chunks_of: Callable[[], TableChunks], name: str, mappings: Sequence[Mapping],
                  records_of: Mapping | None = None) -> Iterator[ParseResult]:
    """A table's chunks by the profile its first chunk's columns show; each chunk's cut rows are its
    rejections. When its dates are numbers in an unstated order (02/11/2026), a first pass over the
    table decides the order for all of them (core/sources/dates.py), and a second parses. A mapped
    table ends with what its whole file showed (`mapped.FileReader.finish`)."""
    chunks = chunks_of()
    first = next(chunks)
    parse, dated = _table_parser(first[0], name, mappings, records_of)
    if first[0].empty and not first[2]:
        raise FileError("no records: the file has a header but no rows")
    order = None
    if dated is not None and dated in first[0] and first[0][dated].map(_numeric_date).any():
        order = date_order(v for frame, _, _ in itertools.chain([first], chunks) for v in frame[dated])
        chunks = chunks_of()
        first = next(chunks)
    for frame, locators, cut_rows in itertools.chain([first], chunks):
        unread: list[dict[str, Any]] = []
        if order is not None:
            frame, locators, unread = _dates_in_order(frame, locators, dated, order)
        result = parse(frame, locators)
        for b in [*cut_rows, *unread]:
            result.reject(b["locator"], b["record"], b["reason"])
        yield result
    if isinstance(parse, mapped.FileReader) and (warnings := parse.finish()):
        yield ParseResult(parse.mapping.source, warnings=warnings)


def _numeric_date(value: Any) -> bool:
    return isinstance(value, str) and NUMERIC_DATE.fullmatch(value) is not None


def _dates_in_order(frame: pd.DataFrame, locators: list[str], column: str, order: DateOrder
                    ) -> tuple[pd.DataFrame, list[str], list[dict[str, Any]]]:
    """The rows with `column`'s numeric dates written as ISO in `order`, and the rows it cannot read,
    as rejections (only those are turned into records)."""
    written, keep, unread = [], [], []
    for i, value in enumerate(frame[column]):
        try:
            written.append(iso_date(value, order))
            keep.append(True)
        except RecordError as exc:
            written.append(value)
            keep.append(False)
            unread.append({"locator": locators[i], "record": frame.iloc[i].to_dict(), "reason": str(exc)})
    kept = frame.assign(**{column: written})[np.array(keep, dtype=bool)]
    return kept, [locator for locator, k in zip(locators, keep, strict=True) if k], unread


def _parquet_chunks(fh: IO[bytes]) -> Iterator[tuple[pd.DataFrame, list[str], Sequence[dict[str, Any]]]]:
    try:
        frame = pd.read_parquet(io.BytesIO(_head(fh, -1)))
    except Exception as exc:  # pyarrow raises many types for a damaged file
        said = str(exc).splitlines()[0].replace("Could not open Parquet input source '<Buffer>': ", "")
        raise FileError(f"unreadable Parquet file: {said[:200]}") from exc
    frame = frame.astype(object).where(frame.notna(), None)
    yield frame, [f"row {i + 1}" for i in range(len(frame))], ()


ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx workbook is a zip archive


def _workbook_sheets(fh: IO[bytes]) -> dict[str, pd.DataFrame]:
    """The sheets of an Excel workbook (Freshdesk and many helpdesk views export .xlsx), by name."""
    data = _head(fh, -1)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                raise FileError("a zip archive, not an Excel workbook: unzip its exports into the inbox")
        return pd.read_excel(io.BytesIO(data), sheet_name=None, dtype=object, engine="openpyxl")
    except FileError:
        raise
    except Exception as exc:  # zipfile and openpyxl raise many types for a damaged file
        raise FileError(f"unreadable Excel workbook: {str(exc).splitlines()[0][:200]}") from exc


def _parse_workbook(fh: IO[bytes], name: str, mappings: Sequence[Mapping]) -> Iterator[ParseResult]:
    """Each sheet that holds rows, as a table of its own (rows located as Excel numbers them, the
    header being row 1). A sheet no profile recognises is a rejected row naming it when another
    sheet holds tickets (a "Summary" beside them), and makes the file unusable when none does."""
    sheets = {title: frame.dropna(how="all") for title, frame in _workbook_sheets(fh).items()}
    filled = {title: frame for title, frame in sheets.items() if len(frame)}
    if not filled:
        raise FileError("no records: the workbook's sheets hold no rows")
    source, unread = None, []
    for title, frame in filled.items():
        rows = frame.astype(object).where(frame.notna(), None)
        chunk = (rows, [f"sheet {title!r} row {i + 2}" for i in rows.index], ())
        try:
            for result in _parse_tables(lambda chunk=chunk: iter([chunk]), name, mappings):
                source = result.source
                yield result
        except UnrecognisedColumns as exc:
            unread.append((title, exc))
        except FileError as exc:
            raise FileError(f"sheet {title!r}: {exc}") from exc
    if unread and source is None:
        title, exc = unread[0]
        raise UnrecognisedColumns(f"sheet {title!r}: {exc}", exc.sample) from exc
    if unread:
        rejected = ParseResult(source)
        for title, exc in unread:
            rejected.reject(f"sheet {title!r}", {"columns": [str(c) for c in exc.sample.columns]},
                            f"sheet {title!r} holds no tickets (columns {list(map(str, exc.sample.columns))[:12]}); "
                            "the workbook's other sheets were read: delete this sheet, or give it a column mapping "
                            "if it holds tickets")
        yield rejected


@contextlib.contextmanager
def _gunzipped(fh: IO[bytes]) -> Iterator[IO[bytes]]:
    """The decompressed bytes in a private temporary file."""
    fh.seek(0)
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY) as out:
        try:
            with gzip.GzipFile(fileobj=fh, mode="rb") as gz:
                shutil.copyfileobj(gz, out, DECODE_PIECE)
        except (OSError, EOFError) as exc:
            raise FileError(f"corrupt or truncated gzip file: {exc}") from exc
        yield out  # type: ignore[misc]


def _is_blank(fh: IO[bytes]) -> bool:
    fh.seek(0)
    while piece := fh.read(DECODE_PIECE):
        if piece.strip():
            return False
    return True


def _parse_file(name: str, fh: IO[bytes], mappings: Sequence[Mapping], chunk_rows: int) -> Iterator[ParseResult]:
    """Parse one export's bytes chunk by chunk; mapped rows stay pending until their conversations are
    assembled. Raises FileError (possibly after some chunks) when the file as a whole is unusable."""
    head = _head(fh, 4096)
    if _is_blank(fh):
        raise FileError("empty file")
    if head[:2] == b"\x1f\x8b":
        with _gunzipped(fh) as inner:
            yield from _parse_file(name.removesuffix(".gz"), inner, mappings, chunk_rows)
        return
    if head[:4] == b"PAR1":
        yield from _parse_tables(lambda: _parquet_chunks(fh), name, mappings)
        return
    if head[:4] == ZIP_MAGIC:
        yield from _parse_workbook(fh, name, mappings)
        return
    encoding = encoding_of(fh)
    start = head.decode(encoding, errors=STRAY_BYTES).lstrip()[:1]
    if not start:
        raise FileError("empty file")
    if start not in "[{":
        yield from _parse_tables(lambda: _csv_chunks(fh, encoding, chunk_rows), name, mappings)
    elif _looks_like_jsonl(_first_lines(fh, encoding)):
        yield from _parse_jsonl(fh, encoding, name, mappings, chunk_rows)
    else:
        yield from _parse_json(fh, encoding, name, mappings, chunk_rows)


def _parse_jsonl(fh: IO[bytes], encoding: str, name: str, mappings: Sequence[Mapping], chunk_rows: int
                 ) -> Iterator[ParseResult]:
    """JSONL chunk by chunk, by the profile of the first chunk's objects."""
    yield from _parse_record_chunks(lambda: _jsonl_chunks(fh, encoding, chunk_rows), name, mappings)


def _parse_json(fh: IO[bytes], encoding: str, name: str, mappings: Sequence[Mapping], chunk_rows: int
                ) -> Iterator[ParseResult]:
    """A JSON document: its list of tickets streamed in chunks when the shape allows (UTF-8, one known
    list; Zendesk side-loads read first), else parsed whole. Broken JSON is reported as `json` words it."""
    shape = _json_shape(fh) if encoding == "utf-8" else None
    if shape is None or (key := _ticket_list(shape, mappings)) is None:
        yield _parse_document(_whole_json(fh, encoding), name, mappings)
        return
    sideloads = {k: list(_json_items(fh, k)) for k in ("organizations", "brands", "users")
                 if key == "tickets" and k in shape.lists}
    if key not in ("tickets", "conversations"):
        yield from _parse_record_chunks(lambda: ((r, loc, ()) for r, loc in _json_chunks(fh, key, chunk_rows)),
                                        name, mappings)
        return
    for records, locators in _json_chunks(fh, key, chunk_rows):
        if key == "tickets":
            yield zendesk.parse({"tickets": records, **sideloads}, locators)
        else:
            yield intercom.parse({"conversations": records}, locators)


@dataclass
class _JsonShape:
    """A JSON document's top level, from one streaming pass: `array`, or an object's keys; for each key
    holding a list, whether its first item is an object (None: empty); the `type` string, if any."""

    array: bool
    keys: list[str] = field(default_factory=list)
    lists: dict[str, bool | None] = field(default_factory=dict)
    kind: Any = None


def _json_shape(fh: IO[bytes]) -> _JsonShape | None:
    """None for a document that is neither an object nor an array, or that does not parse."""
    fh.seek(0)
    shape: _JsonShape | None = None
    try:
        for prefix, event, value in ijson.parse(fh, use_float=True):
            if shape is None:
                if event not in ("start_map", "start_array"):
                    return None
                shape = _JsonShape(array=event == "start_array")
            elif prefix == "" and event == "map_key":
                shape.keys.append(value)
            elif event == "start_array" and prefix in shape.keys:
                shape.lists[prefix] = None
            elif prefix.endswith(".item") and prefix[:-5] in shape.lists and shape.lists[prefix[:-5]] is None:
                shape.lists[prefix[:-5]] = event == "start_map"
            elif prefix == "type" and event == "string":
                shape.kind = value
    except ijson.JSONError:
        return None
    return shape


def _one_record(doc: dict[str, Any], mappings: Sequence[Mapping]) -> bool:
    """A document that is one helpdesk record, not an export holding a list of them: a known
    helpdesk's, or one whose own keys a mapping detects (a webhook's body, `serve`)."""
    return (any(profile.looks_like_record(doc) for profile in (zendesk, intercom, freshdesk))
            or mapped.find_mapping(list(doc), mappings) is not None)


def _ticket_list(shape: _JsonShape, mappings: Sequence[Mapping]) -> str | None:
    """The key of the list to stream, in the order `_parse_document` recognises shapes; None: parse whole."""
    if shape.array:
        return "item"
    if "item" in shape.keys or any("." in k for k in shape.keys):  # ijson's path syntax
        return None
    if ("requester_id" in shape.keys or shape.kind == "conversation"  # one record: its lists are its own
            or mapped.find_mapping(shape.keys, mappings) is not None):
        return None
    if "tickets" in shape.lists:
        return "tickets"
    if "conversations" in shape.lists:
        return "conversations"
    if shape.kind == "conversation.list":
        return None
    objects = [k for k, first_is_object in shape.lists.items() if first_is_object]
    return objects[0] if len(objects) == 1 else None


def _json_items(fh: IO[bytes], key: str) -> Iterator[Any]:
    fh.seek(0)
    yield from ijson.items(fh, key if key == "item" else f"{key}.item", use_float=True)


def _json_chunks(fh: IO[bytes], key: str, chunk_rows: int) -> Iterator[tuple[list[Any], list[str]]]:
    """The list's items `chunk_rows` at a time, with their `key[i]` locators (`[i]` for a top-level array)."""
    items, label, start = _json_items(fh, key), "" if key == "item" else key, 0
    while records := list(itertools.islice(items, chunk_rows)):
        yield records, [f"{label}[{start + i}]" for i in range(len(records))]
        start += len(records)
    if start == 0:
        yield [], []


def _whole_json(fh: IO[bytes], encoding: str) -> Any:
    text = _head(fh, -1).decode(encoding, errors=STRAY_BYTES).lstrip()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileError(f"invalid or truncated JSON: {exc.msg} at line {exc.lineno}") from exc
    except RecursionError as exc:
        raise FileError(NESTED_TOO_DEEP) from exc


def _merge(results: Iterator[ParseResult]) -> ParseResult:
    """Chunk results of one file as one."""
    result = next(results)
    for part in results:
        result.tickets += part.tickets
        result.rejections += part.rejections
        result.replies += part.replies
        result.skipped += part.skipped
        result.warnings += part.warnings
        if part.pending is not None:
            result.pending.messages += part.pending.messages
    return result


def parse_bytes(name: str, data: bytes, mappings: Sequence[Mapping] = ()) -> ParseResult:
    """Parse one export on its own (conversations of a mapped file are assembled within it);
    raises FileError when the file as a whole is unusable."""
    result = _merge(_parse_file(name, io.BytesIO(data), mappings, CSV_CHUNK))
    if result.pending is not None:
        threaded = threads.resolve(result.pending)
        result.tickets += threaded.tickets
        result.replies += threaded.replies
        result.rejections += threaded.rejections
        result.skipped += sum(threaded.skipped.values(), Counter())
        result.pending = None
    return result


def unread_sample(path: Path, mappings: Sequence[Mapping] = ()) -> pd.DataFrame | None:
    """The first rows of an export that no profile or mapping reads, as its table (JSON records as
    rows); None when one reads it (`reader_of` names it). Only the first chunk is parsed."""
    part = _first_part(path, mappings)
    return part if isinstance(part, pd.DataFrame) else None


def reader_of(path: Path, mappings: Sequence[Mapping] = ()) -> str | None:
    """What reads an export, so one that needs no mapping drafted says which: a mapping ("the shipped
    mapping github_issues", a user's by its file) or a helpdesk's profile ("the freshdesk profile");
    None when nothing does."""
    part = _first_part(path, mappings)
    if isinstance(part, pd.DataFrame):
        return None
    if part.pending is None:
        return f"the {part.source} profile"
    mapping = part.pending.mapping
    if Path(mapping.path).parent == mapped.SHIPPED_DIR:
        return f"the shipped mapping {mapping.name}"
    return f"mapping {mapping.name} ({mapping.path})"


def _first_part(path: Path, mappings: Sequence[Mapping]) -> ParseResult | pd.DataFrame:
    """An export's first chunk as parsed, or its first rows when nothing reads it; caught while the file
    is open, as the parse's generators read it when the error's traceback lets them go."""
    with open(path, "rb") as fh:
        try:
            return next(_parse_file(path.name, fh, mappings, UnrecognisedColumns.SAMPLE_ROWS))
        except UnrecognisedColumns as exc:
            return exc.sample


def export_weeks(name: str, fh: IO[bytes], mappings: Sequence[Mapping] = ()) -> dict[date, str]:
    """The weeks one export's tickets fall in, each with a digest of its tickets and their replies as
    parsed (not where they sit in the file): the inbox sensor's question about a new or changed file,
    whatever its size, is which weeks it touches and which of them a re-export changed. Parsed chunk
    by chunk, each week's digest summed as it goes, so a big export costs a chunk of memory;
    conversations of a mapped file are assembled within it. Raises FileError when the file as a
    whole is unusable."""
    sums: dict[date, list[int]] = {}  # week -> [sum of record digests mod 2**128, records]
    pending = None
    for part in _parse_file(name, fh, mappings, CSV_CHUNK):
        _add_week_digests(sums, part.tickets, part.replies)
        if part.pending is not None and pending is None:
            pending = part.pending
        elif part.pending is not None:
            pending.messages += part.pending.messages
    if pending is not None:
        resolved = threads.resolve(pending)
        _add_week_digests(sums, resolved.tickets, resolved.replies)
    return {week: hashlib.sha256(f"{total}:{n}".encode()).hexdigest()[:16] for week, (total, n) in sums.items()}


def _add_week_digests(sums: dict[date, list[int]], tickets: list[dict[str, Any]], replies: list[dict[str, Any]]) -> None:
    """Add each ticket's content digest to its week's sum (order does not count), and each reply's to
    its ticket's week when they were parsed together, else to the week of its own time."""
    week_of = {}
    for t in tickets:
        week_of[t["ticket_id"]] = week = monday(t["created_at"].date())
        _add(sums, week, t)
    for r in replies:
        week = week_of.get(r["ticket_id"]) or (monday(r["reply_at"].date()) if isinstance(r.get("reply_at"), datetime)
                                                else None)
        if week is not None:
            _add(sums, week, r)


def _add(sums: dict[date, list[int]], week: date, record: dict[str, Any]) -> None:
    """A parsed record's content, wherever it sits in its file (its locator left out), into its week."""
    digest = hashlib.blake2b(repr(sorted((k, v) for k, v in record.items() if k != "locator")).encode(),
                             digest_size=16).digest()
    total = sums.setdefault(week, [0, 0])
    total[0] = (total[0] + int.from_bytes(digest, "big")) % 2**128
    total[1] += 1


@dataclass
class _Reading:
    """One stream's state: where chunks go, the accounts to join, per-file entries, and the messages of
    mapped files waiting for their conversations (held until every file is read)."""

    sink: Sink
    accounts: pd.DataFrame
    chunk_rows: int
    cache: FileCache | None = None
    fingerprint: str = ""  # of what shapes every file's parse in this stream (parse_cache.fingerprint)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: dict[str, threads.Pending] = field(default_factory=dict)
    for_now: set[str] = field(default_factory=set)  # files a rejection of which holds only until a time passes

    def emit(self, tickets: list[dict[str, Any]], replies: list[dict[str, Any]],
             rejections: Sequence[dict[str, Any]]) -> None:
        """Hand rows to the sink, at most `chunk_rows` of each kind at a time (the conversations of
        mapped files come all at once, when every file is read), with each ticket's language and
        account fields filled in."""
        n = self.chunk_rows
        for at in range(0, max(len(tickets), len(replies), len(rejections)), n):
            self._emit(tickets[at:at + n], replies[at:at + n], rejections[at:at + n])

    def _emit(self, tickets: list[dict[str, Any]], replies: list[dict[str, Any]],
              rejections: Sequence[dict[str, Any]]) -> None:
        frame = join_accounts(pd.DataFrame(tickets, columns=CANONICAL_COLUMNS), self.accounts)
        frame["language"] = detect_languages(frame["message"], frame["product"])
        rejected = [{**r, "file_hash": self.files.get(r["source_file"], {}).get("file_hash")} for r in rejections]
        self.sink.add(Chunk(frame, pd.DataFrame(replies, columns=REPLY_STAGE_COLUMNS),
                            pd.DataFrame(rejected, columns=REJECTED_COLUMNS)))

    def cache_key(self, source_file: str, spool: Spool) -> str | None:
        """Where the file's parse is kept; None without a cache or for a file that changed while it was read."""
        if self.cache is None or not spool.settled:
            return None
        return entry_key(self.fingerprint, source_file, spool.sha256)

    def file_error(self, source_file: str, reason: str, head: bytes) -> None:
        self.emit([], [], [{"source_file": source_file, "locator": "file", "source": None,
                            "record": head[:2000].decode("utf-8", errors="replace"), "reason": reason}])
        self.files[source_file].update(error=reason)


def read_inbox(inbox: Path, mappings: Sequence[Mapping] | None = None, earliest: datetime | None = None
               ) -> IngestResult:
    """Every export in the inbox folder, with what the scan passed over (loops, broken links) as files in error."""
    scan = scan_inbox(inbox)
    return read_exports(scan.files, mappings, earliest, passed_over=scan.skipped)


def stream_exports(
    paths: Sequence[Path], sink: Sink, mappings: Sequence[Mapping] | None = None,
    passed_over: dict[str, str] | None = None, chunk_rows: int | None = None, cache: FileCache | None = None,
) -> pd.DataFrame:
    """Parse every export into `sink`, `chunk_rows` (default CSV_CHUNK) rows at a time; returns the
    files (FILE_COLUMNS; `accepted` and `rejected` are for the sink to count).

    `mappings` defaults to the shipped ones. Each ticket's language is detected here. `passed_over`
    (path -> reason, from the inbox scan) are recorded as files in error. With a `cache`, a file parsed
    before with the same bytes, mappings, accounts and parser is sent from there instead of parsed; a
    file in error, one being written, and one whose tickets wait for other files (`_spans_files`) are
    never kept.
    """
    mappings = load_mappings() if mappings is None else mappings
    account_paths = [p for p in paths if is_accounts_file(p)]
    accounts, rows = read_accounts(account_paths), chunk_rows or CSV_CHUNK
    reading = _Reading(sink, accounts.frame, rows, cache, fingerprint(mappings, accounts.frame, rows) if cache else "")
    for source_file, reason in (passed_over or {}).items():
        reading.files[source_file] = _file_entry(source_file)
        reading.file_error(source_file, reason, b"")
    for entry in accounts.entries:  # listed like exports: the accounts each gave, its malformed rows rejected
        reading.files[entry["source_file"]] = _file_entry(entry["source_file"]) | entry | {"error": None}
        if entry["error"]:
            reading.file_error(entry["source_file"], entry["error"], b"")
    reading.emit([], [], accounts.rejections)
    for path in paths:
        if path not in account_paths:
            _stream_file(path, mappings, reading)
    for pending in reading.pending.values():
        _emit_threaded(reading, threads.resolve(pending))
    return pd.DataFrame(list(reading.files.values()), columns=FILE_COLUMNS)


def _stream_file(path: Path, mappings: Sequence[Mapping], reading: _Reading) -> None:
    """One file, read once, chunk by chunk into the sink; an unusable file becomes one file-level rejection
    (and what it sent before that turned out is taken back)."""
    source_file = str(path)
    entry = reading.files[source_file] = _file_entry(source_file)
    try:
        spool = spool_snapshot(path)
    except FileError as exc:
        reading.file_error(source_file, str(exc), b"")
        return
    with spool.file:
        entry.update(file_hash=spool.sha256, file_bytes=spool.size)
        key = reading.cache_key(source_file, spool)
        if key and reading.cache and (cached := reading.cache.replay(key, source_file)) is not None:
            reading.files[source_file] = _file_entry(source_file) | cached
            return
        head = _head(spool.file, 4)
        lines = not (head[:2] == b"\x1f\x8b" or head in (b"PAR1", ZIP_MAGIC))
        open_end = lines and _last_byte(spool) not in (b"\n", b"\r", b"")
        tail = cut_incomplete(spool) if lines else b""
        try:
            sent, messages = _send_chunks(_parse_file(path.name, spool.file, mappings, reading.chunk_rows),
                                    source_file, reading)
        except FileError as exc:  # nothing it sent counts, its rows skipped before included
            reading.sink.drop(source_file)
            entry.update(skipped=0, skipped_kinds=None, warning=None)
            reading.file_error(source_file, str(exc), _head(spool.file, 2000))
            return
    last, cut = entry.pop("last_line", None), entry.pop("incomplete_line", None)
    entry["cut_short"] = bool(tail) or (open_end and cut is not None and cut == last)
    ending = [{"locator": "end of file", "source": entry["profile"], "source_file": source_file,
               "record": tail.decode("utf-8", errors="replace")[:RECORD_CHARS],
               "reason": "last record incomplete: the file was being written while it was read"}] if tail else []
    if not (sent or ending or entry["skipped"] or any(m for _, m in messages)):
        ending = [{"locator": "file", "source": entry["profile"], "source_file": source_file, "record": "",
                   "reason": "export holds zero tickets"}]
    reading.emit([], [], ending)
    waiting = [(mapping, found) for mapping, found in messages if _spans_files(mapping)]
    for mapping, found in (m for m in messages if not _spans_files(m[0])):
        _emit_threaded(reading, threads.resolve(threads.Pending(mapping, found)))
    # Not kept: conversations assembled across files, and a parse the clock will change.
    if key and reading.cache and not waiting and source_file not in reading.for_now:
        reading.cache.keep(key, source_file, entry)
    for mapping, found in waiting:
        reading.pending.setdefault(mapping.name, threads.Pending(mapping)).messages += found


def _spans_files(mapping: Mapping) -> bool:
    """Whether a mapped file's tickets depend on the inbox's other files: conversations (`thread`)
    split over daily exports, or a product read from the whole inbox's handles. A mapping without
    either makes each row its own ticket, resolved with its file, and so parse-cached (a ticket
    exported again in a later file is resolved by its id, as a flat export's is)."""
    return mapping.thread is not None or mapping.product_from_mentions


def _emit_threaded(reading: _Reading, threaded: threads.Threaded) -> None:
    """Resolved conversations to the sink, their skipped and repeated rows counted per file."""
    reading.emit(threaded.tickets, threaded.replies, threaded.rejections)
    for source_file, kinds in threaded.skipped.items():
        _count_skipped(reading.files[source_file], kinds)
    for source_file, n in threaded.repeated.items():
        reading.files[source_file]["repeated"] += n


def _send_chunks(results: Iterator[ParseResult], source_file: str, reading: _Reading
                 ) -> tuple[int, list[tuple[Mapping, list[threads.Message]]]]:
    """Each chunk's tickets, replies and rejections to the sink as it comes; returns how many tickets and
    rejections were sent, and the mapped messages."""
    entry, messages, sent = reading.files[source_file], [], 0
    for result in results:
        pending = result.pending
        for item in (*result.tickets, *result.replies, *result.rejections, *(pending.messages if pending else ())):
            _set(item, "source_file", source_file)
        reading.emit(result.tickets, result.replies, result.rejections)
        if any(is_for_now(str(r["reason"])) for r in result.rejections):
            reading.for_now.add(source_file)
        _note_last_record(entry, result)
        sent += len(result.tickets) + len(result.rejections)
        _count_skipped(entry, result.skipped)
        entry.update(profile=result.source, warning="; ".join(filter(None, [entry["warning"], *result.warnings])) or None)
        if pending is not None:
            messages.append((pending.mapping, pending.messages))
    return sent, messages


def _note_last_record(entry: dict[str, Any], result: ParseResult) -> None:
    """Keep in `entry` the file's last line read and its last record rejected as incomplete
    (`INCOMPLETE_RECORD`): a file is cut short when they are the same record. A chunk's rejections
    are not in line order (a bad date is rejected after the parse's own), so lines, not order, tell."""
    for items, rejected in ((result.tickets[-1:], False), (result.rejections, True)):  # tickets come in line order
        for item in items:
            line = _line_of(item.get("locator") if isinstance(item, dict) else None)
            if line is None:
                continue
            entry["last_line"] = max(entry.get("last_line") or 0, line)
            if rejected and any(m in str(item.get("reason")) for m in INCOMPLETE_RECORD):
                entry["incomplete_line"] = max(entry.get("incomplete_line") or 0, line)


def _line_of(locator: Any) -> int | None:
    """The first line of a line-based record's locator ("line 1050", "lines 1050-1054"), else None."""
    found = re.match(r"lines? (\d+)", str(locator)) if locator else None
    return int(found.group(1)) if found else None


@dataclass
class _Collected:
    """A sink that keeps every chunk in memory: `read_exports`' result."""

    chunks: list[Chunk] = field(default_factory=list)

    def add(self, chunk: Chunk) -> None:
        self.chunks.append(chunk)

    def drop(self, source_file: str) -> None:
        self.chunks = [Chunk(*(f[f["source_file"] != source_file] for f in (c.tickets, c.replies, c.rejected)))
                       for c in self.chunks]

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        def whole(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
            frames = [f for f in frames if len(f)]
            return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
        return (whole([c.tickets for c in self.chunks], CANONICAL_COLUMNS),
                whole([c.replies for c in self.chunks], REPLY_STAGE_COLUMNS),
                whole([c.rejected for c in self.chunks], REJECTED_COLUMNS))


def read_exports(
    paths: Sequence[Path], mappings: Sequence[Mapping] | None = None, earliest: datetime | None = None,
    passed_over: dict[str, str] | None = None, chunk_rows: int | None = None,
) -> IngestResult:
    """Parse every export into memory; later files win for a ticket exported twice (re-export = update).

    Tickets before `earliest` (the first partition) are rejected, since no run could ever
    materialize them; `replies` holds the agent replies of the kept tickets. A run streams into
    the warehouse's staging database instead (warehouse/staging.py), which resolves the same way.
    """
    sink = _Collected()
    files = stream_exports(paths, sink, mappings, passed_over, chunk_rows)
    tickets, replies, rejected = sink.frames()
    if earliest is not None:
        early = tickets["created_at"] < earliest
        hashes = dict(zip(files["source_file"], files["file_hash"], strict=True))
        rejected = _add_rows(rejected, _rejections(
            tickets[early], lambda t: EARLY_REASON.format(f"{t.created_at:%Y-%m-%d}", f"{earliest:%Y-%m-%d}"), hashes))
        tickets = tickets[~early]
    tickets, superseded, repeated = _dedupe(tickets.reset_index(drop=True))
    removed = tickets["status"].isin(REMOVED_STATUSES)
    rejected = _add_rows(rejected, superseded + _rejections(tickets[removed],
                                                            lambda t: REMOVED_REASON.format(t.source_id, t.status)))
    files = files.assign(repeated=(files["source_file"].map(repeated).fillna(0) + files["repeated"]).astype(int))
    return _result(tickets[~removed].reset_index(drop=True), replies, rejected, files)


def _add_rows(frame: pd.DataFrame, rows: list[dict[str, Any]]) -> pd.DataFrame:
    if not rows:
        return frame
    return pd.concat([frame, pd.DataFrame(rows, columns=frame.columns)], ignore_index=True)


def _rejections(tickets: pd.DataFrame, reason: Callable[[Any], str], hashes: dict[str, str] | None = None
                ) -> list[dict[str, Any]]:
    """Sound tickets set aside as rejections, each with `reason(ticket)` (and its file's hash, when given)."""
    return [{"source_file": t.source_file, "locator": t.locator, "source": t.source, "record": t.record,
             "reason": reason(t), "file_hash": (hashes or {}).get(t.source_file)} for t in tickets.itertuples(index=False)]


def _file_entry(source_file: str) -> dict[str, Any]:
    return dict.fromkeys(FILE_COLUMNS, 0) | {"source_file": source_file, "file_hash": None, "file_bytes": None,
                                             "profile": None, "skipped_kinds": None, "error": None, "cut_short": False,
                                             "warning": None}


def _last_byte(spool: Spool) -> bytes:
    spool.file.seek(max(spool.size - 1, 0))
    last = spool.file.read(1)
    spool.file.seek(0)
    return last


def _set(item: Any, key: str, value: Any) -> None:
    if isinstance(item, dict):
        item[key] = value
    else:
        setattr(item, key, value)


def _result(frame: pd.DataFrame, replies: pd.DataFrame, rejected: pd.DataFrame, files: pd.DataFrame) -> IngestResult:
    """Final frames; per-file counts after re-exports are resolved (a superseded row counts where it was filed)."""
    files = files.copy()
    files["accepted"] = files["source_file"].map(frame["source_file"].value_counts()).fillna(files["accepted"]).astype(int)
    files["rejected"] = files["source_file"].map(rejected["source_file"].value_counts()).fillna(0).astype(int)
    # Replies of a superseded or rejected ticket version go with it.
    replies = replies.merge(frame[["ticket_id", "source_file", "locator"]], on=["ticket_id", "source_file", "locator"])
    return IngestResult(tickets=frame, rejected=rejected.reset_index(drop=True), files=files,
                        replies=replies[REPLY_COLUMNS].reset_index(drop=True))


def _dedupe(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[dict[str, Any]], Counter[str]]:
    """Keep the last version of each ticket; earlier differing versions are filed, not lost, and
    identical ones counted per file (`REPEATED_ROWS`)."""
    dup = frame.duplicated("ticket_id", keep="last")
    superseded: list[dict[str, Any]] = []
    repeated: Counter[str] = Counter()
    if dup.any():
        last = frame.drop_duplicates("ticket_id", keep="last").set_index("ticket_id")
        for row in frame[dup].itertuples(index=False):
            newer = last.loc[row.ticket_id]
            if row.record == newer["record"]:
                repeated[row.source_file] += 1
                continue
            superseded.append({
                "source_file": row.source_file, "locator": row.locator, "source": row.source,
                "record": row.record, "file_hash": None,
                "reason": SUPERSEDED_REASON.format(row.source_id, Path(newer["source_file"]).name, newer["locator"]),
            })
    return frame[~dup], superseded, repeated
