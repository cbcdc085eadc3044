"""What one ingest run writes, counts and keeps.

A run materializes some weeks. Every ticket the inbox holds is counted once per file: `accepted`
inside the run's weeks, `out_of_range` outside them (a run of those weeks ingests them). A ticket
once ingested stays: a file that has left the inbox keeps its tickets in the warehouse and is
reported as gone-but-kept, until a person prunes it on purpose (`ticket-intel run --prune`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd


def count_by_weeks(files: pd.DataFrame, per_week: pd.DataFrame, weeks: Sequence[date]) -> pd.DataFrame:
    """Per file, `accepted` (tickets inside `weeks`) and `out_of_range` (its other tickets), from the
    tickets per file and week (`per_week`: source_file, week_start, tickets). A file without tickets
    keeps its own `accepted` (an accounts file: the accounts it gave)."""
    inside = per_week["week_start"].isin(list(weeks))
    counts = {"accepted": per_week[inside].groupby("source_file")["tickets"].sum(),
              "out_of_range": per_week[~inside].groupby("source_file")["tickets"].sum()}
    out = files.assign(**{k: files["source_file"].map(v).fillna(0).astype(int) for k, v in counts.items()})
    return out.assign(accepted=out["accepted"].where(files["source_file"].isin(per_week["source_file"]),
                                                     files["accepted"]))


@dataclass(frozen=True)
class KeptFile:
    """An export no longer in the inbox whose tickets the warehouse keeps."""

    source_file: str
    tickets: int
    first_week: date | None
    last_week: date | None

    def describe(self) -> str:
        span = f", weeks {self.first_week}..{self.last_week}" if self.first_week else ""
        return f"{Path(self.source_file).name}: {self.tickets} tickets kept from {self.source_file}{span}"


def kept_files(stored: pd.DataFrame, present: Sequence[str]) -> list[KeptFile]:
    """Files whose tickets the warehouse holds (`stored`: source_file, tickets, first_week, last_week)
    but that are no longer in the inbox."""
    gone = stored[~stored["source_file"].isin(list(present))]
    return [KeptFile(r.source_file, int(r.tickets), r.first_week, r.last_week) for r in gone.itertuples()]


def retention_message(kept: Sequence[KeptFile], pruned: bool) -> str | None:
    """One line for the run log: what was kept from where, or what was pruned. Several exports are
    counted, not listed: a drop folder's year of weekly exports made one line of 4,000 characters."""
    if not kept:
        return None
    total = sum(k.tickets for k in kept)
    if pruned:
        return f"pruned {total} tickets of {len(kept)} exports no longer in the inbox, in the weeks run"
    weeks = [w for k in kept for w in (k.first_week, k.last_week) if w is not None]
    span = f", weeks {min(weeks)}..{max(weeks)}" if weeks else ""
    where = kept[0].describe() if len(kept) == 1 else f"ops.ingested_files lists them (in_inbox false){span}"
    return (f"kept {total} tickets of {len(kept)} exports no longer in the inbox "
            f"(`ticket-intel run --prune` removes them): {where}")
