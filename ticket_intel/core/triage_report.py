"""The week's triage as the report shows it: category mix, escalations, team load against SLA,
and the feature requests and documentation gaps that single tickets state.

**SLA** is the time to the first public agent reply, in clock hours from the ticket's creation,
against `routing.yaml`'s hours for the ticket's urgency. An export tells it only in part:

- a reply in the export: *met* or *late*, exactly (no business calendar: nights and weekends count);
- no reply, in a file that carries replies, and not solved or closed: *overdue* when the file's latest
  event (a lower bound on when it was exported) is past the deadline, else *not yet due*;
- *unknown* when the file carries no agent replies at all (e.g. a CSV export of ticket fields), or the
  ticket was solved without a reply the export shows (answered by phone, or merged).

Feature requests and documentation gaps are the tickets whose signal type (the product team's view
of their triage category, `triage.yaml`) is `feature_gap` or `docs_gap`, with the ranked themes that
hold them and how many fall outside every ranked theme.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import pandas as pd

from ticket_intel.core.sources.base import RESOLVED_STATUSES
from ticket_intel.core.theme_triage import churn_risk_customers, triaged
from ticket_intel.core.vocabulary import ESCALATION_SIGNALS, FRUSTRATED, URGENCIES

# What each ticket's export says about its SLA (warehouse/context.py reads them with its triage).
SLA_FACTS = ("first_reply_hours", "observed_hours", "ticket_status", "replies_exported")
MET, LATE, OVERDUE, NOT_DUE, UNKNOWN = "met", "late", "overdue", "not_yet_due", "unknown"
SLA_STATES = (MET, LATE, OVERDUE, NOT_DUE, UNKNOWN)
SLA_NOTE = (
    "What exports can tell: a reply in the export is measured exactly (met or late; nights and weekends "
    "count, since exports carry no business calendar or pauses). A ticket without one is overdue when it is not "
    "solved or closed and its export file shows a later event past the deadline, not yet due otherwise; unknown "
    "when the file carries no agent replies at all, or the ticket was solved without a reply the export shows."
)
REQUEST_SIGNALS = {"feature_requests": "feature_gap", "docs_gaps": "docs_gap"}
LISTED_IDS = 6


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA


def sla_state(sla_hours: Any, first_reply_hours: Any, observed_hours: Any, status: Any, replies_exported: Any) -> str:
    """met / late / overdue / not_yet_due / unknown for one ticket (see the module doc)."""
    if _missing(sla_hours):
        return UNKNOWN
    if not _missing(first_reply_hours):
        return MET if first_reply_hours <= sla_hours else LATE
    solved = isinstance(status, str) and status.lower() in RESOLVED_STATUSES
    if _missing(replies_exported) or not replies_exported or solved or _missing(observed_hours):
        return UNKNOWN
    return OVERDUE if observed_hours > sla_hours else NOT_DUE


def sla_states(tickets: pd.DataFrame) -> pd.Series:
    """Each ticket's SLA state; unknown where the export facts were not read."""
    facts = tickets.reindex(columns=["sla_hours", *SLA_FACTS])
    return pd.Series([sla_state(*row) for row in facts.itertuples(index=False, name=None)],
                     index=tickets.index, dtype=object)


def _mix(values: Iterable[Any]) -> str:
    """`functional 12 · performance 3`: most first, ties by name."""
    counts = Counter(str(v) for v in values if not _missing(v))
    return " · ".join(f"{k} {n}" for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def category_mix(tickets: pd.DataFrame) -> list[dict[str, Any]]:
    """Per category, most tickets first: tickets, share, subcategories, escalated and P1 tickets."""
    rows = []
    for category, group in tickets.groupby("category"):
        rows.append({"category": category, "tickets": len(group), "share": len(group) / len(tickets),
                     "subcategories": _mix(group["subcategory"]), "escalated": int(group["escalated"].astype(bool).sum()),
                     "p1": int((group["urgency"] == "P1").sum())})
    return sorted(rows, key=lambda r: (-r["tickets"], r["category"]))


def escalations(tickets: pd.DataFrame) -> dict[str, Any]:
    """Escalated tickets and why: an explicit signal (counted per signal), P1 urgency, or frustration
    alone; and the distinct customers at high churn risk."""
    escalated = tickets[tickets["escalated"].astype(bool)]
    signalled = escalated["escalation"].astype(bool)
    p1 = ~signalled & (escalated["urgency"] == "P1")
    per_signal = Counter(s for signals in tickets["escalation_signals"] if not _missing(signals) for s in signals)
    return {
        "escalated": len(escalated), "share": len(escalated) / len(tickets), "signalled": int(signalled.sum()),
        "p1": int(p1.sum()), "frustrated": int((~signalled & ~p1).sum()),
        "signals": [{"signal": s, "tickets": per_signal[s]} for s in ESCALATION_SIGNALS if per_signal[s]],
        "frustrated_tickets": int(tickets["frustration"].isin(FRUSTRATED).sum()),
        "churn_risk_customers": churn_risk_customers(tickets),
    }


def team_load(tickets: pd.DataFrame) -> list[dict[str, Any]]:
    """Per assigned team, most tickets first: tickets per urgency, escalated, and tickets per SLA state."""
    frame = tickets.assign(sla_state=sla_states(tickets))
    rows = []
    for team, group in frame.groupby("assigned_team"):
        states = Counter(group["sla_state"])
        rows.append({"team": team, "tickets": len(group), **{u: int((group["urgency"] == u).sum()) for u in URGENCIES},
                     "escalated": int(group["escalated"].astype(bool).sum()), **{s: states[s] for s in SLA_STATES},
                     "past_sla": states[LATE] + states[OVERDUE]})
    return sorted(rows, key=lambda r: (-r["tickets"], r["team"]))


def stated(tickets: pd.DataFrame, signal: str, ranked_ids: Iterable[str]) -> dict[str, Any]:
    """The tickets of one signal type: how many, their subcategories, per ranked theme, and outside."""
    rows = tickets[tickets["signal_type"] == signal]
    ranked = set(ranked_ids)
    inside = rows[rows["theme_id"].isin(ranked)]
    outside = rows[~rows["theme_id"].isin(ranked)]
    per_theme = inside.groupby("theme_id").size().sort_values(ascending=False, kind="stable")
    return {"tickets": len(rows), "share": len(rows) / len(tickets), "customers": int(rows["customer"].nunique()),
            "subcategories": _mix(rows["category"] + " / " + rows["subcategory"]),
            "themes": {str(t): int(n) for t, n in per_theme.items()}, "outside": len(outside),
            "outside_ids": sorted(outside["ticket_id"])[:LISTED_IDS]}


def week_triage(this_week: pd.DataFrame, ranked_ids: Iterable[str]) -> dict[str, Any] | None:
    """Everything the report's Triage section and its request/gap sections show for the week's
    tickets (the window rows of the week, with their triage); None when none was triaged."""
    tickets = this_week[triaged(this_week)]
    if not len(tickets):
        return None
    ranked_ids, teams = list(ranked_ids), team_load(tickets)
    return {
        "tickets": len(tickets), "week_tickets": len(this_week),
        "needs_review": int(tickets["needs_review"].astype(bool).sum()),
        "categories": category_mix(tickets), "escalations": escalations(tickets), "teams": teams,
        # no ticket's state known (twcs, GitHub: no agent reply exported): columns of zeros say nothing
        "sla_known": any(t[state] for t in teams for state in SLA_STATES if state != UNKNOWN),
        "sla_note": SLA_NOTE,
        **{name: stated(tickets, signal, ranked_ids) for name, signal in REQUEST_SIGNALS.items()},
    }
