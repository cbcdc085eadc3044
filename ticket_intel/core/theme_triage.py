"""Themes from their tickets' triage: signal type, severity, sentiment, frustration, escalation.

`ticket_triage` judges every ticket once; a theme is what its tickets are. The week's context
carries each ticket's triage row (`attach_triage`), so summaries take a theme's signal type and
severity from its tickets (`with_ticket_triage`) and ranking adds how its tickets feel
(`theme_triage`): mean sentiment, the share that is frustrated (high or critical), the share
carrying an explicit escalation signal, and how many distinct customers said they would leave
(churn risk high). A ticket without a triage row (a week whose triage was never materialized)
counts by the same offline rules for signal and severity, and not at all for the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ticket_intel.core.summarize import ThemeDocs, ThemeSummary, escalates
from ticket_intel.core.triage import signal_and_severity
from ticket_intel.core.triage_rules import ESCALATION_RULES, Escalation
from ticket_intel.core.vocabulary import FRUSTRATED

# The per-ticket triage fields the week's context carries (`marts.ticket_triage`, output contract).
TRIAGE_FIELDS = (
    "category", "subcategory", "signal_type", "severity", "urgency", "sentiment", "frustration", "escalation",
    "escalation_signals", "churn_risk", "assigned_team", "sla_hours", "escalated", "needs_review",
)
THEME_COLUMNS = ("sentiment", "frustration_share", "escalation_share", "churn_risk_customers", "triaged_tickets")


def churn_risk_customers(tickets: pd.DataFrame) -> int:
    """Distinct customers with a ticket at high churn risk (`customer` key, triage's `churn_risk`)."""
    return int(tickets.loc[tickets["churn_risk"] == "high", "customer"].nunique())


def triaged(frame: pd.DataFrame) -> pd.Series:
    """Which rows carry a triage row (False everywhere when the frame has no triage columns)."""
    return frame["category"].notna() if "category" in frame else pd.Series(False, index=frame.index)


def attach_triage(window: pd.DataFrame, triage: pd.DataFrame | None) -> pd.DataFrame:
    """The window with each ticket's triage columns, row order kept; empty where a ticket has none.
    Columns the window already has (its language, its ids) are the window's."""
    if triage is None:
        return window
    columns = [c for c in triage.columns if c != "ticket_id" and c not in window]
    merged = window.merge(triage[["ticket_id", *columns]], on="ticket_id", how="left", validate="m:1")
    return merged.set_axis(window.index)


def with_ticket_triage(docs: dict[str, ThemeDocs], window: pd.DataFrame) -> dict[str, ThemeDocs]:
    """Each theme's per-ticket signal types, severities and escalation signals from triage; a ticket
    without a triage row gets the offline rules' signal and severity (what `ticket_triage` would have
    said without embeddings, by the doc's escalation rules) and no known escalation signals (the
    summary runs the rules). Docs are returned unchanged when the window carries no triage at all."""
    has = triaged(window)
    if not has.any():
        return docs
    rows = window[has].drop_duplicates("ticket_id").set_index("ticket_id")
    signal, severity = rows["signal_type"].to_dict(), rows["severity"].to_dict()
    listed = rows["escalation_signals"] if "escalation_signals" in rows else pd.Series(dtype=object)
    escalation = {t: s for t, s in listed.items() if isinstance(s, list | tuple | np.ndarray)}
    def per_ticket(doc: ThemeDocs) -> dict[str, list]:
        ids = doc.ticket_ids
        both = [(signal[t], severity[t]) if t in signal else signal_and_severity(text, escalation=doc.escalation)[:2]
                for t, text in zip(ids, doc.texts, strict=True)]
        return {"signals": [s for s, _ in both], "severities": [v for _, v in both],
                "escalations": [escalation.get(t) for t in ids]}

    return {theme_id: replace(doc, **per_ticket(doc)) for theme_id, doc in docs.items()}


def theme_triage(group: pd.DataFrame, topic: Sequence[str] = (), escalation: Escalation = ESCALATION_RULES
                 ) -> dict[str, Any]:
    """How a theme's triaged tickets feel: mean sentiment, frustrated and escalating shares, and the
    distinct customers at high churn risk (`group` needs a `customer` key); None without triage.
    An escalation signal whose words are the theme's `topic` (its first terms) does not count: a
    refund theme's tickets all say "refund", which is what it is about, not how it escalates
    (`escalation`: the signals' rules triage read them by)."""
    rows = group[triaged(group)]
    if not len(rows):
        return {**dict.fromkeys(THEME_COLUMNS), "triaged_tickets": 0}
    escalating = [signals is not None and len(signals) > 0 and escalates(text, topic, signals, escalation)
                  for text, signals in zip(rows["text"], rows["escalation_signals"], strict=True)]
    return {
        "sentiment": round(float(rows["sentiment"].astype(float).mean()), 4),
        "frustration_share": float(rows["frustration"].isin(FRUSTRATED).mean()),
        "escalation_share": float(np.mean(escalating)),
        "churn_risk_customers": churn_risk_customers(rows),
        "triaged_tickets": len(rows),
    }


def judged_by_tickets(summary: ThemeSummary, tickets: ThemeSummary) -> ThemeSummary:
    """`summary` (an LLM's, from a sample of tickets) with the signal type and severity that all the
    theme's triaged tickets give (`tickets`: the extractive summary built on them)."""
    return summary.model_copy(update={
        "signal_type": tickets.signal_type, "severity": tickets.severity,
        "severity_rationale": tickets.severity_rationale,
        "backlog": summary.backlog.model_copy(update={"severity": tickets.severity}),
    })
