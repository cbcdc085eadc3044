"""Erasure of one customer's tickets (GDPR Art. 17): which copied text came from them, and what went.

Summaries, backlog stories, alerts and drafts quote tickets without naming the ticket each quote
came from, so a quote is known as an erased ticket's when its words are in that ticket's text (a
quote cut short with "…" by its start). A quote two tickets share goes with either: erasing too much
of a quote harms nobody, keeping one does.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ERASED = "[erased]"
_QUOTED = re.compile(r"“([^”]*)”")
# A whole source text copied into a longer one (a draft's resolution) is erased from this length on:
# shorter texts ("Thanks!") are common words, not a person's.
MIN_COPIED_CHARS = 40


def ticket_hash(ticket_id: str) -> str:
    """What the denylist keeps of an erased ticket: its id would be a pointer to the person in the
    helpdesk, the hash only recognises the ticket when an export brings it back."""
    return hashlib.sha256(ticket_id.encode()).hexdigest()


def _plain(text: str) -> str:
    return " ".join(text.replace("…", " ").split())


@dataclass(frozen=True)
class Sources:
    """The texts quotes may have been taken from, read once for every text scrubbed against them (the
    1,166 tickets of a PowerToys retention against every summary and draft: 2.9 CPU s when read again
    for each text, 0.23 s)."""

    plain: str  # each text with its whitespace normalised, NUL between them: a quote is in one if in this
    copied: tuple[str, ...]  # those long enough that a copy of one in a longer text is theirs

    @classmethod
    def of(cls, texts: Sequence[str]) -> Sources:
        return cls("\0".join(_plain(t) for t in texts if t), tuple(t for t in texts if t and len(t) >= MIN_COPIED_CHARS))


def quoted_from(quote: str, sources: Sources) -> bool:
    """Whether `quote` (maybe cut short with "…") is words of one of `sources` (whitespace aside)."""
    said = _plain(quote)
    return bool(said) and said != ERASED and said in sources.plain


def scrub_text(text: str | None, sources: Sources) -> str | None:
    """`text` with each “quote”, or the whole of it, taken from `sources` replaced by ERASED, and any
    long source copied into it (a draft's resolution) too; None and untouched text stay as they are."""
    if text is None:
        return None
    if quoted_from(text, sources):
        return ERASED
    out = _QUOTED.sub(lambda m: f"“{ERASED}”" if quoted_from(m.group(1), sources) else m.group(0), text)
    for source in sources.copied:
        out = out.replace(source, ERASED)
    return out


def scrub_list(items: Sequence[str] | None, sources: Sources) -> list[str] | None:
    """Each item of a list of quotes (phrasings) scrubbed as `scrub_text`."""
    return None if items is None else [scrub_text(i, sources) or "" for i in items]


@dataclass
class Erasure:
    """What an erasure deletes (or, dry, would): rows per table, the ticket ids, the weeks whose report
    is written again, and the copies outside the warehouse it cannot reach."""

    tickets: list[str]
    customers: list[str]
    rows: dict[str, int] = field(default_factory=dict)
    report_weeks: list[date] = field(default_factory=list)
    tracker_issues: list[str] = field(default_factory=list)
    caches: list[str] = field(default_factory=list)  # exports whose kept parse held them, removed

    def as_json(self, dry_run: bool) -> dict[str, object]:
        return {"dry_run": dry_run, "tickets": len(self.tickets), "customers": len(self.customers),
                "rows": {t: n for t, n in self.rows.items() if n},
                "report_weeks": [w.isoformat() for w in self.report_weeks],
                "tracker_issues": self.tracker_issues, "caches_removed": self.caches}


def erasure_lines(e: Erasure, dry_run: bool) -> list[str]:
    """What an erasure deleted (or would, with `dry_run`), per table, for people: it cannot be undone."""
    verb = "would erase" if dry_run else "erased"
    lines = [f"{verb} {len(e.tickets)} tickets of {len(e.customers)} customers: every row derived from them; "
             f"quotes of them in rows that stay read {ERASED}"]
    lines += [f"  {table}: {n} rows" for table, n in e.rows.items() if n]
    lines += reports_line(e.report_weeks, dry_run)
    lines += [f"  parse cache: removed the kept parse of {len(e.caches)} exports that held them (parsed again "
              f"by the next run): {', '.join(Path(c).name for c in e.caches)}"] if e.caches else []
    if e.tracker_issues:
        lines.append(f"  outside the warehouse, to erase by hand: tracker issues {', '.join(e.tracker_issues)}")
    lines += ["dry run: nothing erased; without --dry-run this cannot be undone (restore a backup to get it back)"
              ] if dry_run else [
        "their ticket ids are denylisted (hashed, ops.erased_tickets): an export that still holds them is not ingested "
        "again; remove them from the inbox's exports"]
    return lines


def reports_line(weeks: Sequence[date], dry_run: bool) -> list[str]:
    """The weeks whose report is written again from what stays (erasure, retention), as a line if any."""
    return [f"  reports {'to write' if dry_run else 'written'} again: weeks {weeks[0]}..{weeks[-1]} ({len(weeks)})"
            ] if weeks else []


def unknown_message(asked: Mapping[str, Iterable[str]]) -> str:
    """Why nothing was erased: no ticket matched what was asked (and how an e-mail was looked up)."""
    said = "; ".join(f"{kind} {', '.join(values)}" for kind, values in asked.items() if values)
    return (f"no ticket in this warehouse belongs to {said} (an e-mail is looked up as the customer id the sources "
            "give it, `email:` and a hash; a helpdesk that names customers by its own id needs --customer ID)")
