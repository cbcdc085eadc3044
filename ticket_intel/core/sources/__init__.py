"""Read helpdesk exports into canonical tickets, detecting each file's profile from its content.

A file is decoded (gzip, BOMs, UTF-16, Latin-1 fallback), parsed as JSON, JSONL, CSV or
Parquet, and handed to the first profile that recognises its shape: Zendesk, Intercom,
Freshdesk, then the YAML column mappings. Records that cannot be used become rejections with a
reason; a file that cannot be read at all becomes one file-level rejection. Nothing raises past
this module, so one bad file never stops the others.
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import csv
import gzip
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ticket_intel.core.language import detect_languages
from ticket_intel.core.sources import freshdesk, intercom, mapped, threads, zendesk
from ticket_intel.core.sources.accounts import is_accounts_file, join_accounts, read_accounts
from ticket_intel.core.sources.base import (
    CANONICAL_COLUMNS,
    REJECTED_COLUMNS,
    REPLY_COLUMNS,
    FileError,
    ParseResult,
)
from ticket_intel.core.sources.inbox import InboxScan, complete_records, read_snapshot, scan_inbox
from ticket_intel.core.sources.mapped import Mapping, load_mappings

__all__ = ["FILE_COLUMNS", "FileError", "InboxScan", "IngestResult", "Mapping", "list_exports",
           "load_mappings", "parse_bytes", "parse_once", "read_exports", "read_inbox", "read_snapshot", "scan_inbox"]  # fmt: skip

# Per file: what it held, as read once (its content hash and size), and where each row went:
# `accepted` (a ticket), `rejected` (with a reason), `skipped` (not a ticket by its profile), and
# `out_of_range` (a ticket outside the weeks being run: counted, left for a run of its weeks).
FILE_COLUMNS = ["source_file", "file_hash", "file_bytes", "profile", "accepted", "rejected", "skipped",
                "out_of_range", "error"]
CSV_CHUNK = 20_000  # rows parsed into cells at a time: memory follows the chunk, not the file
DECODE_PIECE = 1 << 20  # bytes validated as UTF-8 at a time
# csv's default field limit (128 KiB) is smaller than a long email body.
csv.field_size_limit(64 * 1024 * 1024)


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


def encoding_of(data: bytes) -> str:
    """BOM-aware, UTF-16 without BOM, UTF-8 when all of it is valid, Windows-1252 as the spreadsheet fallback."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = data[:4096]
    if sample.count(b"\x00") > len(sample) // 4:
        # Text in UTF-16 has a NUL in every other byte; anything else with many NULs is binary.
        if sample[1::2].count(0) > len(sample) // 2 * 0.9:
            return "utf-16-le"
        if sample[0::2].count(0) > len(sample) // 2 * 0.9:
            return "utf-16-be"
        raise FileError("binary content (many NUL bytes): not a CSV/JSON/Parquet export")
    checker, view = codecs.getincrementaldecoder("utf-8")(), memoryview(data)
    try:  # validated piece by piece: the decoded text is not kept
        for start in range(0, len(view), DECODE_PIECE):
            checker.decode(view[start:start + DECODE_PIECE])
        checker.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _text_lines(data: bytes, encoding: str) -> Iterator[str]:
    """The text's lines, decoded as they are read (never the whole file as one string); NULs dropped."""
    for line in io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors="replace", newline=""):
        yield line.replace("\x00", "")


def _csv_chunks(data: bytes, encoding: str) -> Iterator[tuple[pd.DataFrame, list[str], list[dict[str, Any]]]]:
    """Parse CSV (or TSV) in frames of CSV_CHUNK rows, keeping each record's first physical line for
    rejection locators; a row with fewer fields than the header was cut short (a half-written line)
    and is rejected, never padded. The first frame always comes (empty for a header-only file)."""
    first_line = next(_text_lines(data[:65536], encoding), "")
    dialect = "excel-tab" if first_line.count("\t") > first_line.count(",") else "excel"
    reader = csv.reader(_text_lines(data, encoding), dialect=dialect)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration as exc:
        raise FileError("empty file") from exc
    except csv.Error as exc:
        raise FileError(f"unreadable CSV header: {exc}") from exc
    rows, locators, cut, width, prev_end, sent = [], [], [], len(header), reader.line_num, False
    try:
        for row in reader:
            start, prev_end = prev_end + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < width:
                cut.append({"locator": f"line {start}", "record": ",".join(row)[:100_000],
                            "reason": f"row cut short: {len(row)} of the header's {width} fields"})
                continue
            rows.append(row[:width])
            locators.append(f"line {start}")
            if len(rows) == CSV_CHUNK:
                yield pd.DataFrame(rows, columns=header, dtype=object), locators, cut
                rows, locators, cut, sent = [], [], [], True
    except csv.Error as exc:
        raise FileError(f"malformed CSV after line {prev_end}: {exc}") from exc
    if rows or cut or not sent:
        yield pd.DataFrame(rows, columns=header, dtype=object), locators, cut


def _jsonl_records(text: str) -> tuple[list[Any], list[str], list[dict[str, Any]]]:
    """One JSON value per line; a line that does not parse is a rejection, not a lost file."""
    records, locators, bad = [], [], []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
            locators.append(f"line {n}")
        except json.JSONDecodeError as exc:
            bad.append({"locator": f"line {n}", "record": line[:100_000],
                        "reason": f"invalid JSON on this line: {exc.msg} at column {exc.colno}"})
    return records, locators, bad


def _looks_like_jsonl(text: str) -> bool:
    """Several lines, not a pretty-printed document, and some early line is a whole JSON object."""
    lines = [ln.strip() for ln in text.splitlines()[:6] if ln.strip()]
    if len(lines) < 2 or lines[0] in ("[", "{"):
        return False
    for line in lines[:5]:
        try:
            if isinstance(json.loads(line), dict):
                return True
        except json.JSONDecodeError:
            continue
    return False


def _parse_records(records: list[Any], locators: list[str], name: str, mappings: Sequence[Mapping]) -> ParseResult:
    """A list of JSON objects: API-shaped tickets of a known helpdesk, or a mapped table."""
    objects = [r for r in records if isinstance(r, dict)]
    if not objects:
        raise FileError(f"no JSON objects among {len(records)} parsed records: not a ticket export")
    head = objects[0]
    if zendesk.looks_like_record(head):
        return zendesk.parse({"tickets": records}, locators)
    if intercom.looks_like_record(head):
        return intercom.parse({"conversations": records}, locators)
    if freshdesk.looks_like_record(head):
        return freshdesk.parse_api(records, locators)
    columns = list(dict.fromkeys(k for r in objects[:100] for k in r))
    mapping = mapped.find_mapping(columns, mappings)
    if mapping is None:
        raise FileError(f"records with unrecognised fields {columns[:12]}; add a column mapping")
    keep = [i for i, r in enumerate(records) if isinstance(r, dict)]
    result = mapped.parse(mapping, pd.DataFrame([records[i] for i in keep]), [locators[i] for i in keep], name)
    for i, r in enumerate(records):
        if not isinstance(r, dict):
            result.reject(locators[i], r, f"record is a {type(r).__name__}, not an object")
    return result


def _parse_document(doc: Any, name: str, mappings: Sequence[Mapping]) -> ParseResult:
    if zendesk.looks_like(doc):
        return zendesk.parse(doc)
    if intercom.looks_like(doc):
        return intercom.parse(doc)
    if isinstance(doc, list):
        return _parse_records(doc, [f"[{i}]" for i in range(len(doc))], name, mappings)
    if isinstance(doc, dict):
        lists = [k for k, v in doc.items() if isinstance(v, list) and v and isinstance(v[0], dict)]
        if len(lists) == 1:
            key = lists[0]
            return _parse_records(doc[key], [f"{key}[{i}]" for i in range(len(doc[key]))], name, mappings)
    keys = sorted(doc)[:12] if isinstance(doc, dict) else type(doc).__name__
    raise FileError(f"JSON export of unknown shape (top-level keys: {keys}); add a column mapping")


def _parse_table(frame: pd.DataFrame, locators: list[str], name: str, mappings: Sequence[Mapping],
                 cut_rows: Sequence[dict[str, Any]] = ()) -> ParseResult:
    """A table's rows by the profile its columns show; `cut_rows` (rows cut short) are its rejections."""
    if freshdesk.looks_like(frame.columns):
        def parse(f: pd.DataFrame, loc: list[str]) -> ParseResult:
            return freshdesk.parse(f, loc)
    elif "Ticket ID" in frame.columns:
        missing = sorted(freshdesk.REQUIRED - set(frame.columns)) or ["Description or Subject"]
        raise FileError(f"looks like a Freshdesk export but lacks required column(s) {missing}")
    elif (mapping := mapped.find_mapping(list(frame.columns), mappings)) is not None:
        def parse(f: pd.DataFrame, loc: list[str]) -> ParseResult:
            return mapped.parse(mapping, f, loc, name)
    else:
        raise FileError(f"table with unrecognised columns {list(frame.columns)[:12]}; add a column mapping")
    if frame.empty and not cut_rows:
        raise FileError("no records: the file has a header but no rows")
    result = parse(frame, locators)
    for b in cut_rows:
        result.reject(b["locator"], b["record"], b["reason"])
    return result


def _parse_file(name: str, data: bytes, mappings: Sequence[Mapping]) -> ParseResult:
    """Parse one export's bytes; mapped rows stay pending until their conversations are assembled."""
    if not data.strip():
        raise FileError("empty file")
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise FileError(f"corrupt or truncated gzip file: {exc}") from exc
        return _parse_file(name.removesuffix(".gz"), data, mappings)
    if data[:4] == b"PAR1":
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # pyarrow raises many types for a damaged file
            raise FileError(f"unreadable Parquet file: {str(exc).splitlines()[0][:200]}") from exc
        frame = frame.astype(object).where(frame.notna(), None)
        return _parse_table(frame, [f"row {i + 1}" for i in range(len(frame))], name, mappings)
    encoding = encoding_of(data)
    if data[:4096].decode(encoding, errors="replace").lstrip()[:1] not in "[{":
        return _parse_csv(data, encoding, name, mappings)
    text = data.decode(encoding, errors="replace")
    stripped = text.lstrip()
    if stripped:
        if _looks_like_jsonl(stripped):
            records, locators, bad = _jsonl_records(text)
            result = _parse_records(records, locators, name, mappings)
            for b in bad:
                result.reject(b["locator"], b["record"], b["reason"])
            return result
        try:
            doc = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise FileError(f"invalid or truncated JSON: {exc.msg} at line {exc.lineno}") from exc
        return _parse_document(doc, name, mappings)
    raise FileError("empty file")


def _parse_csv(data: bytes, encoding: str, name: str, mappings: Sequence[Mapping]) -> ParseResult:
    """A CSV export, parsed chunk by chunk: only one chunk's rows are held as cells at a time."""
    chunks = _csv_chunks(data, encoding)
    frame, locators, cut_rows = next(chunks)
    result = _parse_table(frame, locators, name, mappings, cut_rows)
    for frame, locators, cut_rows in chunks:
        part = _parse_table(frame, locators, name, mappings, cut_rows)
        result.tickets += part.tickets
        result.rejections += part.rejections
        result.replies += part.replies
        result.skipped += part.skipped
        if part.pending is not None:
            result.pending.messages += part.pending.messages
    return result



def parse_bytes(name: str, data: bytes, mappings: Sequence[Mapping] = ()) -> ParseResult:
    """Parse one export on its own (conversations of a mapped file are assembled within it);
    raises FileError when the file as a whole is unusable."""
    result = _parse_file(name, data, mappings)
    if result.pending is not None:
        threaded = threads.resolve(result.pending)
        result.tickets += threaded.tickets
        result.replies += threaded.replies
        result.rejections += threaded.rejections
        result.skipped += sum(threaded.skipped.values())
        result.pending = None
    return result


@dataclass
class _Batch:
    """Everything read so far, before conversations, re-exports and accounts are resolved."""

    tickets: list[dict[str, Any]] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: dict[str, threads.Pending] = field(default_factory=dict)

    def reject(self, rejections: Sequence[dict[str, Any]]) -> None:
        for r in rejections:
            self.rejected.append({**r, "file_hash": self.files.get(r["source_file"], {}).get("file_hash")})


def read_inbox(inbox: Path, mappings: Sequence[Mapping] | None = None, earliest: datetime | None = None
               ) -> IngestResult:
    """Every export in the inbox folder, with what the scan passed over (loops, broken links) as files in error."""
    scan = scan_inbox(inbox)
    return read_exports(scan.files, mappings, earliest, passed_over=scan.skipped)


def read_exports(
    paths: Sequence[Path], mappings: Sequence[Mapping] | None = None, earliest: datetime | None = None,
    passed_over: dict[str, str] | None = None,
) -> IngestResult:
    """Parse every export; later files win for a ticket exported twice (re-export = update).

    `mappings` defaults to the shipped ones; tickets before `earliest` (the first partition)
    are rejected, since no run could ever materialize them. Each kept ticket's language is
    detected here; `replies` holds the agent replies of the kept tickets. `passed_over` (path ->
    reason, from the inbox scan) are recorded as files in error.
    """
    mappings = load_mappings() if mappings is None else mappings
    batch = _Batch()
    for source_file, reason in (passed_over or {}).items():
        batch.files[source_file] = _file_entry(source_file)
        _file_error(batch, source_file, reason, b"")
    account_paths = [p for p in paths if is_accounts_file(p)]
    for path in paths:
        if path not in account_paths:
            _read_file(path, mappings, batch)
    for pending in batch.pending.values():
        threaded = threads.resolve(pending)
        batch.tickets += threaded.tickets
        batch.replies += threaded.replies
        batch.reject(threaded.rejections)
        for source_file, n in threaded.skipped.items():
            batch.files[source_file]["skipped"] += n
    if earliest is not None:
        batch.tickets = _reject_before(batch, earliest)
    frame = pd.DataFrame(batch.tickets, columns=CANONICAL_COLUMNS)
    frame, superseded = _dedupe(frame)
    batch.rejected.extend(superseded)
    frame = join_accounts(frame, read_accounts(account_paths)).reset_index(drop=True)
    frame["language"] = detect_languages(frame["message"], frame["product"])
    return _result(frame, batch)


def _read_file(path: Path, mappings: Sequence[Mapping], batch: _Batch) -> None:
    """Parse one file, read once, into the batch; an unusable file becomes one file-level rejection."""
    source_file = str(path)
    entry = batch.files[source_file] = _file_entry(source_file)
    try:
        snapshot = read_snapshot(path)
    except FileError as exc:
        _file_error(batch, source_file, str(exc), b"")
        return
    entry.update(file_hash=snapshot.sha256, file_bytes=len(snapshot.data))
    data, tail = snapshot.data, b""
    if data[:2] != b"\x1f\x8b" and data[:4] != b"PAR1":
        data, tail = complete_records(data, snapshot.settled)
    try:
        result = _parse_shared(path.name, snapshot.sha256, data, mappings)
    except FileError as exc:
        _file_error(batch, source_file, str(exc), data)
        return
    if tail:
        result.reject("end of file", tail.decode("utf-8", errors="replace")[:100_000],
                      "last record incomplete: the file was being written while it was read")
    _add_result(result, source_file, batch)


# Parses waiting for a second read of the same bytes, inside `parse_once` (None outside it).
_SHARED: contextvars.ContextVar[dict[tuple[Any, ...], ParseResult] | None] = contextvars.ContextVar(
    "shared_parses", default=None)


@contextlib.contextmanager
def parse_once() -> Iterator[None]:
    """Within the block a file's bytes are parsed once: the parse is handed to the next read of the same
    bytes (same content hash), then let go. The CLI's week discovery and the run it starts share it."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def _parse_shared(name: str, digest: str, data: bytes, mappings: Sequence[Mapping]) -> ParseResult:
    shared = _SHARED.get()
    if shared is None:
        return _parse_file(name, data, mappings)
    key = (digest, len(data), name, tuple(m.name for m in mappings))
    if (kept := shared.pop(key, None)) is not None:
        return kept
    result = _parse_file(name, data, mappings)
    pending = result.pending and threads.Pending(result.pending.mapping, list(result.pending.messages))
    shared[key] = replace(result, tickets=list(result.tickets), rejections=list(result.rejections),
                          replies=list(result.replies), pending=pending)
    return result


def _file_entry(source_file: str) -> dict[str, Any]:
    return dict.fromkeys(FILE_COLUMNS, 0) | {"source_file": source_file, "file_hash": None, "file_bytes": None,
                                             "profile": None, "error": None}


def _file_error(batch: _Batch, source_file: str, reason: str, data: bytes) -> None:
    batch.reject([{"source_file": source_file, "locator": "file", "source": None,
                   "record": data[:2000].decode("utf-8", errors="replace"), "reason": reason}])
    batch.files[source_file].update(error=reason)


def _add_result(result: ParseResult, source_file: str, batch: _Batch) -> None:
    pending = result.pending
    if not (result.tickets or result.rejections or result.skipped or (pending and pending.messages)):
        result.rejections.append({"locator": "file", "source": result.source, "record": "",
                                  "reason": "export holds zero tickets"})
    for item in (*result.tickets, *result.replies, *result.rejections, *(pending.messages if pending else ())):
        _set(item, "source_file", source_file)
    batch.tickets += result.tickets
    batch.replies += result.replies
    batch.reject(result.rejections)
    if pending is not None:
        batch.pending.setdefault(pending.mapping.name, threads.Pending(pending.mapping)).messages += pending.messages
    batch.files[source_file].update(profile=result.source, skipped=result.skipped)  # accepted/rejected: at the end


def _set(item: Any, key: str, value: Any) -> None:
    if isinstance(item, dict):
        item[key] = value
    else:
        setattr(item, key, value)


def _result(frame: pd.DataFrame, batch: _Batch) -> IngestResult:
    """Final frames; per-file counts after re-exports are resolved (a superseded row counts where it was filed)."""
    rejected = pd.DataFrame(batch.rejected, columns=REJECTED_COLUMNS)
    files = pd.DataFrame(list(batch.files.values()), columns=FILE_COLUMNS)
    files["accepted"] = files["source_file"].map(frame["source_file"].value_counts()).fillna(0).astype(int)
    files["rejected"] = files["source_file"].map(rejected["source_file"].value_counts()).fillna(0).astype(int)
    replies = pd.DataFrame(batch.replies, columns=[*REPLY_COLUMNS, "source_file", "locator"])
    # Replies of a superseded or rejected ticket version go with it.
    replies = replies.merge(frame[["ticket_id", "source_file", "locator"]], on=["ticket_id", "source_file", "locator"])
    return IngestResult(tickets=frame, rejected=rejected, files=files,
                        replies=replies[REPLY_COLUMNS].reset_index(drop=True))


def _reject_before(batch: _Batch, earliest: datetime) -> list[dict[str, Any]]:
    kept, early = [], []
    for t in batch.tickets:
        if t["created_at"] < earliest:
            early.append({
                "source_file": t["source_file"], "locator": t["locator"], "source": t["source"], "record": t["record"],
                "reason": f"created_at {t['created_at']:%Y-%m-%d} is before the first weekly partition "
                          f"{earliest:%Y-%m-%d} (set TICKET_INTEL_PARTITIONS_START earlier to keep it)",
            })
        else:
            kept.append(t)
    batch.reject(early)
    return kept


def _dedupe(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Keep the last version of each ticket; earlier differing versions are filed, not lost."""
    dup = frame.duplicated("ticket_id", keep="last")
    superseded = []
    if dup.any():
        last = frame.drop_duplicates("ticket_id", keep="last").set_index("ticket_id")
        for row in frame[dup].itertuples(index=False):
            newer = last.loc[row.ticket_id]
            if row.record == newer["record"]:
                continue
            superseded.append({
                "source_file": row.source_file, "locator": row.locator, "source": row.source,
                "record": row.record, "file_hash": None,
                "reason": f"superseded: ticket {row.source_id} exported again in "
                          f"{Path(newer['source_file']).name} ({newer['locator']})",
            })
    return frame[~dup], superseded
