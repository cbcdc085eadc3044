"""Read helpdesk exports into canonical tickets, detecting each file's profile from its content.

A file is decoded (gzip, BOMs, UTF-16, Latin-1 fallback), parsed as JSON, JSONL, CSV or
Parquet, and handed to the first profile that recognises its shape. Records that cannot be
used become rejections with a reason; a file that cannot be read at all becomes one file-level
rejection. Nothing raises past this module, so one bad file never stops the others.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ticket_intel.core.sources import freshdesk, intercom, zendesk
from ticket_intel.core.sources.base import CANONICAL_COLUMNS, REJECTED_COLUMNS, ParseResult

EXPORT_SUFFIXES = (".csv", ".json", ".jsonl", ".ndjson", ".parquet", ".gz", ".tsv", ".txt")
FILE_COLUMNS = ["source_file", "file_hash", "profile", "accepted", "rejected", "error"]
ACCOUNT_COLUMNS = {"account_id", "plan"}


class FileError(ValueError):
    """The whole file is unusable; the message says why in one line."""


@dataclass
class IngestResult:
    tickets: pd.DataFrame
    rejected: pd.DataFrame
    files: pd.DataFrame


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def list_exports(inbox: Path) -> list[Path]:
    """Export files in the inbox, in a stable order (hidden files and folders skipped)."""
    if not inbox.exists():
        raise FileNotFoundError(f"inbox folder not found: {inbox}")
    return sorted(
        p for p in inbox.rglob("*")
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in EXPORT_SUFFIXES
    )


def decode(data: bytes) -> str:
    """Bytes to text: BOM-aware, UTF-8 first, Windows-1252 as the spreadsheet fallback."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    sample = data[:4096]
    if sample.count(b"\x00") > len(sample) // 4:
        raise FileError("binary content (many NUL bytes): not a CSV/JSON export")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _csv_rows(text: str) -> tuple[pd.DataFrame, list[int]]:
    """Parse CSV keeping each record's first physical line for rejection locators."""
    reader = csv.reader(io.StringIO(text.replace("\x00", "")))
    try:
        header = next(reader)
    except StopIteration as exc:
        raise FileError("empty file") from exc
    rows, lines, width = [], [], len(header)
    prev_end = reader.line_num
    for row in reader:
        start, prev_end = prev_end + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        rows.append((row + [""] * width)[:width])
        lines.append(start)
    return pd.DataFrame(rows, columns=[h.strip() for h in header], dtype=object), lines


def _parse_document(doc: Any) -> ParseResult:
    if zendesk.looks_like(doc):
        return zendesk.parse(doc)
    if intercom.looks_like(doc):
        return intercom.parse(doc)
    keys = sorted(doc)[:12] if isinstance(doc, dict) else type(doc).__name__
    raise FileError(f"JSON export of unknown shape (top-level keys: {keys}); add a column mapping")


def _parse_table(frame: pd.DataFrame, lines: Sequence[int]) -> ParseResult:
    if freshdesk.looks_like(frame.columns):
        return freshdesk.parse(frame, lines)
    cols = list(frame.columns)[:12]
    raise FileError(f"table with unrecognised columns {cols}; add a column mapping")


def parse_bytes(name: str, data: bytes) -> ParseResult:
    """Parse one export's bytes; raises FileError when the file as a whole is unusable."""
    if not data.strip():
        raise FileError("empty file")
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise FileError(f"corrupt gzip file: {exc}") from exc
        return parse_bytes(name.removesuffix(".gz"), data)
    if data[:4] == b"PAR1":
        frame = pd.read_parquet(io.BytesIO(data))
        return _parse_table(frame.astype(object), list(range(1, len(frame) + 1)))
    text = decode(data)
    stripped = text.lstrip()
    if stripped[:1] in "[{":
        try:
            return _parse_document(json.loads(stripped))
        except json.JSONDecodeError as exc:
            raise FileError(f"invalid or truncated JSON: {exc.msg} at line {exc.lineno}") from exc
    frame, lines = _csv_rows(text)
    if frame.empty:
        raise FileError("no records: the file has a header but no rows")
    return _parse_table(frame, lines)


def read_accounts(paths: Iterable[Path]) -> pd.DataFrame:
    """Accounts files (account_id, plan, optional source and monthly_revenue) joined at ingest."""
    frames = []
    for path in paths:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if not set(frame.columns) >= ACCOUNT_COLUMNS:
            continue
        if "source" not in frame:
            frame["source"] = ""
        if "monthly_revenue" not in frame:
            frame["monthly_revenue"] = ""
        frames.append(frame[["source", "account_id", "plan", "monthly_revenue"]])
    if not frames:
        return pd.DataFrame(columns=["source", "account_id", "plan", "monthly_revenue"])
    return pd.concat(frames, ignore_index=True).drop_duplicates(["source", "account_id"], keep="last")


def is_accounts_file(path: Path) -> bool:
    if path.suffix.lower() != ".csv":
        return False
    with path.open(encoding="utf-8-sig", errors="replace") as fh:
        header = {h.strip() for h in fh.readline().split(",")}
    return header >= ACCOUNT_COLUMNS and "Ticket ID" not in header


def join_accounts(tickets: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """Fill plan and revenue from the accounts file where the export did not carry them."""
    if accounts.empty or tickets.empty:
        return tickets
    acc = accounts.copy()
    acc["plan"] = acc["plan"].str.strip().str.lower().replace("", None)
    acc["monthly_revenue"] = pd.to_numeric(acc["monthly_revenue"], errors="coerce")
    specific = acc[acc["source"] != ""].set_index(["source", "account_id"])
    generic = acc[acc["source"] == ""].set_index("account_id")
    out = tickets.copy()
    for i, row in out.iterrows():
        if row["account_id"] is None:
            continue
        key = (row["source"], row["account_id"])
        match = specific.loc[key] if key in specific.index else (
            generic.loc[row["account_id"]] if row["account_id"] in generic.index else None
        )
        if match is None:
            continue
        if not row["plan"] and match["plan"]:
            out.at[i, "plan"] = match["plan"]
        if pd.isna(row["monthly_revenue"]) and pd.notna(match["monthly_revenue"]):
            out.at[i, "monthly_revenue"] = float(match["monthly_revenue"])
    return out


def read_exports(paths: Sequence[Path]) -> IngestResult:
    """Parse every export; later files win for a ticket exported twice (re-export = update)."""
    tickets: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    account_paths = [p for p in paths if is_accounts_file(p)]
    for path in paths:
        if path in account_paths:
            continue
        data = path.read_bytes()
        digest = file_hash(data)
        entry = {"source_file": str(path), "file_hash": digest, "profile": None,
                 "accepted": 0, "rejected": 0, "error": None}
        try:
            result = parse_bytes(path.name, data)
        except FileError as exc:
            rejected.append({"source_file": str(path), "locator": "file", "source": None,
                             "record": data[:2000].decode("utf-8", errors="replace"),
                             "reason": str(exc), "file_hash": digest})
            entry.update(error=str(exc), rejected=1)
            files.append(entry)
            continue
        for t in result.tickets:
            t["source_file"] = str(path)
        for r in result.rejections:
            rejected.append({**r, "source_file": str(path), "file_hash": digest})
        tickets.extend(result.tickets)
        entry.update(profile=result.source, accepted=len(result.tickets), rejected=len(result.rejections))
        files.append(entry)
    frame = pd.DataFrame(tickets, columns=CANONICAL_COLUMNS)
    frame, superseded = _dedupe(frame)
    rejected.extend(superseded)
    frame = join_accounts(frame, read_accounts(account_paths))
    return IngestResult(
        tickets=frame.reset_index(drop=True),
        rejected=pd.DataFrame(rejected, columns=REJECTED_COLUMNS),
        files=pd.DataFrame(files, columns=FILE_COLUMNS),
    )


def _dedupe(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Keep the last version of each ticket; earlier differing versions are filed, not lost."""
    dup = frame.duplicated("ticket_id", keep="last")
    superseded = []
    if dup.any():
        last = frame.drop_duplicates("ticket_id", keep="last").set_index("ticket_id")
        for _, row in frame[dup].iterrows():
            newer = last.loc[row["ticket_id"]]
            if row["record"] == newer["record"]:
                continue
            superseded.append({
                "source_file": row["source_file"], "locator": row["locator"], "source": row["source"],
                "record": row["record"], "file_hash": None,
                "reason": f"superseded: ticket {row['source_id']} exported again in "
                          f"{Path(newer['source_file']).name} ({newer['locator']})",
            })
    return frame[~dup], superseded
