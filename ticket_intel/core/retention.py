"""What one ingest run writes, counts and keeps.

A run materializes some weeks. Every ticket the inbox holds is counted once per file: `accepted`
inside the run's weeks, `out_of_range` outside them (a run of those weeks ingests them). A ticket
once ingested stays: a file that has left the inbox keeps its tickets in the warehouse and is
reported as gone-but-kept, until a person prunes it on purpose (`ticket-intel run --prune`), or
until it is older than the weeks a retention by age keeps (`ticket-intel retention --keep-weeks N`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from ticket_intel.core.erasure import ERASED, reports_line


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


def retention_message(kept: Sequence[KeptFile], pruned: bool, prune: str) -> str | None:
    """One line for the run log: what was kept from where, or what was pruned. Several exports are
    counted, not listed: a drop folder's year of weekly exports made one line of 4,000 characters.
    `prune`: the run that prunes them, with its inbox and warehouse (`runner.run_command`)."""
    if not kept:
        return None
    total = sum(k.tickets for k in kept)
    if pruned:
        return f"pruned {total} tickets of {len(kept)} exports no longer in the inbox, in the weeks run"
    weeks = [w for k in kept for w in (k.first_week, k.last_week) if w is not None]
    span = f", weeks {min(weeks)}..{max(weeks)}" if weeks else ""
    where = kept[0].describe() if len(kept) == 1 else f"ops.ingested_files lists them (in_inbox false){span}"
    return (f"kept {total} tickets of {len(kept)} exports no longer in the inbox "
            f"(`{prune}` removes them): {where}")


def retention_cutoff(newest: date, keep_weeks: int, window_weeks: int) -> date:
    """The first week a retention keeping `keep_weeks` weeks up to `newest` keeps whole. Fewer than the
    clustering window are refused: a run of `newest` again (a late ticket) or of the week after it
    clusters the window's tickets, and its theme ids, trends and spike baselines read them."""
    if keep_weeks < window_weeks:
        raise ValueError(f"--keep-weeks {keep_weeks} would delete tickets the next run clusters: each week's "
                         f"themes, trends and spike baselines read the {window_weeks} weeks ending with it "
                         f"(TICKET_INTEL_WINDOW_WEEKS); keep at least {window_weeks}")
    return newest - timedelta(weeks=keep_weeks - 1)


def retired_week_message(first: date, cutoff: date) -> str:
    """Why a run of a week before the retention cutoff is refused."""
    return (f"the week of {first} is before this warehouse's retention cutoff, the week of {cutoff}: "
            "`ticket-intel retention` deleted its tickets and it keeps its themes, alerts and counts only; a run "
            f"would ingest its tickets again from the inbox and replace those. Run weeks from {cutoff} on")


def retention_lines(cutoff: date, weeks: Sequence[date], rows: Mapping[str, int], files: int,
                    rewritten: Sequence[date], dry_run: bool) -> list[str]:
    """What a retention at `cutoff` deletes (or would, with `dry_run`), for people: it cannot be undone."""
    if not weeks and not any(rows.values()):
        return [f"nothing to delete: no ticket-level row is older than the week of {cutoff}"]
    verb = "would delete" if dry_run else "deleted"
    span = f"the {len(weeks)} weeks {weeks[0]}..{weeks[-1]}" if weeks else "the weeks"
    lines = [f"{verb} the ticket-level rows of {span} (before the week of {cutoff}) and {files} report files; "
             "ranked themes, summaries, alerts, counts and overviews of every week stay, without their ids and "
             f"quotes ({ERASED})"]
    lines += [f"  {table}: {n} rows" for table, n in rows.items() if n]
    lines += reports_line(rewritten, dry_run)
    lines += ["dry run: nothing deleted; without --dry-run this cannot be undone (restore a backup to get it back)"
              ] if dry_run else []
    return lines
