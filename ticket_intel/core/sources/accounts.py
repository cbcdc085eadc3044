"""The optional accounts file (account or customer id -> plan, monthly revenue), joined at ingest.

Exports often lack the plan; a CSV with `account_id` and `plan` columns (optionally `source`,
`customer_id`, `monthly_revenue`) dropped next to them fills it in. A row with a `source`
applies to that helpdesk only; a row without one applies to every source.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

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


def _accounts_file(path: Path) -> pd.DataFrame:
    """One accounts file's COLUMNS as text, revenue as a number (`money`)."""
    with path.open(encoding="utf-8-sig", errors="replace") as fh:
        delimiter = delimiter_of(fh.readline())
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", sep=delimiter)
    frame.columns = [c.strip() for c in frame.columns]
    for col in ("source", "monthly_revenue"):
        if col not in frame:
            frame[col] = ""
    frame["monthly_revenue"] = [money(v, decimal_comma=delimiter == ";") for v in frame["monthly_revenue"]]
    return frame[COLUMNS]


def read_accounts(paths: Iterable[Path]) -> pd.DataFrame:
    frames = [_accounts_file(path) for path in paths]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    accounts = pd.concat(frames, ignore_index=True)
    accounts["plan"] = accounts["plan"].str.strip().str.lower().replace("", None)
    accounts["monthly_revenue"] = pd.to_numeric(accounts["monthly_revenue"], errors="coerce")
    return accounts.drop_duplicates(["source", "account_id"], keep="last")


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
