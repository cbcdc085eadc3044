"""The optional accounts file (account or customer id -> plan, monthly revenue), joined at ingest.

Exports often lack the plan; a CSV with `account_id` and `plan` columns (optionally `source`,
`customer_id`, `monthly_revenue`) dropped next to them fills it in. A row with a `source`
applies to that helpdesk only; a row without one applies to every source.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ticket_intel.core.csv_dialect import delimiter_of
from ticket_intel.core.sources.base import money

REQUIRED = {"account_id", "plan"}
COLUMNS = ["source", "account_id", "plan", "monthly_revenue"]


def is_accounts_file(path: Path) -> bool:
    if path.suffix.lower() != ".csv":
        return False
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            line = fh.readline()
        header = {h.strip().strip('"') for h in line.split(delimiter_of(line))}
    except OSError:  # unreadable: read as an export, where it becomes a rejected file with the reason
        return False
    return header >= REQUIRED and "Ticket ID" not in header


ACCOUNTS = "accounts"  # the profile an accounts file is listed under in the files table


@dataclass
class AccountsRead:
    """The accounts files of an inbox: their rows (COLUMNS), a files-table entry per file (source_file,
    file_hash, file_bytes, profile, accepted: the accounts it gave, error), and its malformed rows as
    rejections (source_file, locator, source, record, reason)."""

    frame: pd.DataFrame
    entries: list[dict[str, Any]] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)


def _accounts_file(path: Path, read: AccountsRead) -> pd.DataFrame:
    """One accounts file's COLUMNS as text, revenue as a number (`money`); a file that cannot be read is
    an entry in error."""
    entry = {"source_file": str(path), "file_hash": None, "file_bytes": None, "profile": ACCOUNTS, "accepted": 0,
             "error": None}
    read.entries.append(entry)
    try:
        data = path.read_bytes()
    except OSError as exc:
        entry["error"] = f"cannot read the accounts file: {exc.strerror or exc}"
        return pd.DataFrame(columns=COLUMNS)
    entry.update(file_hash=hashlib.sha256(data).hexdigest(), file_bytes=len(data))
    text = data.decode("utf-8-sig", errors="replace")
    delimiter = delimiter_of(text.partition("\n")[0])
    frame = _rows(text, delimiter, str(path), read.rejections)
    entry["accepted"] = len(frame)
    for col in ("source", "monthly_revenue"):
        if col not in frame:
            frame[col] = ""
    frame["monthly_revenue"] = [money(v, decimal_comma=delimiter == ";") for v in frame["monthly_revenue"]]
    return frame[COLUMNS]


def _rows(text: str, delimiter: str, source_file: str, rejections: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows of an accounts CSV under its header. A short row's missing fields are empty and a
    row's empty trailing fields are dropped (spreadsheets write both); a row with more values than
    the header names, or a quote never closed, is a rejection with its lines, and the rest is read."""
    lines, reader = text.splitlines(), csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header, rows = [h.strip() for h in next(reader, [])], []
    while True:
        start, reason = reader.line_num + 1, None
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # "unexpected end of data": a quote never closed took the lines after it
            row, reason = [], f"malformed accounts row: {exc}"
        if reason is None and len(row) > len(header) and any(f.strip() for f in row[len(header):]):
            reason = f"malformed accounts row: {len(row)} fields where the header names {len(header)}"
        if reason is not None:
            rejections.append({"source_file": source_file, "locator": f"line {start}", "source": ACCOUNTS,
                               "record": "\n".join(lines[start - 1:reader.line_num])[:2000], "reason": reason})
        elif any(f.strip() for f in row):  # a blank line is no row
            rows.append((row + [""] * len(header))[:len(header)])
    return pd.DataFrame(rows, columns=header)


def read_accounts(paths: Iterable[Path]) -> AccountsRead:
    read = AccountsRead(pd.DataFrame(columns=COLUMNS))
    frames = [_accounts_file(path, read) for path in paths]
    if not any(len(f) for f in frames):
        return read
    accounts = pd.concat(frames, ignore_index=True)
    accounts["plan"] = accounts["plan"].str.strip().str.lower().replace("", None)
    accounts["monthly_revenue"] = pd.to_numeric(accounts["monthly_revenue"], errors="coerce")
    read.frame = accounts.drop_duplicates(["source", "account_id"], keep="last")
    return read


def join_accounts(tickets: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """Fill plan and revenue where the export did not carry them: source-specific rows first,
    then rows without a source. Keys are matched on the account id, else the customer id."""
    if accounts.empty or tickets.empty:
        return tickets
    out = tickets.copy()
    specific = accounts[accounts["source"] != ""].set_index(["source", "account_id"])
    generic = accounts[accounts["source"] == ""].set_index("account_id")  # read_accounts deduplicated
    for key_col in ("account_id", "customer_id"):
        keys = pd.MultiIndex.from_arrays([out["source"], out[key_col]])
        for column in ("plan", "monthly_revenue"):
            found = pd.Series(specific[column].reindex(keys).to_numpy(), index=out.index, dtype=object)
            found = found.where(found.notna(), out[key_col].map(generic[column]).astype(object))
            out[column] = out[column].astype(object).where(out[column].notna(), found)
    return out
