"""Whom do we tell when it's fixed, and who might leave: customers per theme and at risk.

**Affected customers** of a theme: every customer with a ticket in it (id, account, plan,
monthly revenue, ticket count, first and last ticket), largest revenue first, for outreach
when a fix ships. Tickets without a customer id cannot be answered by outreach and are left
out (the theme's ticket counts elsewhere still include them).

**At risk this week.** Evidence per customer, from the week's tickets and, when the triage
columns are present, its per-ticket judgements:

- *volume*: unusually many tickets: at least the smallest count whose Poisson tail under the
  week's mean tickets per customer is below `max_p_value` (the alerting level), and at least 2,
  and as unusual for the customer's own rate over the window's earlier weeks when that is higher:
  someone who writes 7 a week every week (a tracker's prolific reporter, an account's busy admin)
  has a normal week, where a customer who wrote none before has an unusual one;
- *frustration*: tickets whose `frustration` is high or critical;
- *escalation*: tickets with an escalation signal other than the customer's mood (`MOOD_SIGNALS`:
  strong negative words make the frustration, and counted again they made every angry tweet a
  customer at risk: 149 of twcs' 225), or `escalation` true with no signal named;
- *churn*: tickets whose `churn_risk` is flagged (true, high/critical, or a score >= 0.5).

A customer is at risk when triage flagged churn, when the volume alone is unusual, or when
frustration and escalation come together. The list is ordered by churn flag, number of kinds
of evidence, revenue and tickets, and each row says why in words.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import poisson

from ticket_intel.core.vocabulary import FRUSTRATED, in_words, plural

AFFECTED_COLUMNS = ["theme_id", "customer_id", "account_id", "plan", "monthly_revenue", "tickets",
                    "first_ticket_at", "last_ticket_at"]
RISK_COLUMNS = ["customer_id", "account_id", "plan", "monthly_revenue", "tickets", "frustrated", "escalated",
                "escalation_signals", "churn_flagged", "evidence", "reason"]


MOOD_SIGNALS = frozenset({"strong_negative"})  # escalation signals that are the frustration itself


@dataclass(frozen=True)
class RiskSettings:
    max_p_value: float = 0.01  # a ticket count this unlikely for a typical customer is "many"
    churn_score: float = 0.5  # a numeric churn_risk at or above this is flagged


def _with_account_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Account, plan and revenue columns, empty where the export had none."""
    return frame.assign(**{c: None for c in ("account_id", "plan", "monthly_revenue") if c not in frame})


def affected_customers(tickets: pd.DataFrame) -> pd.DataFrame:
    """Per theme and customer: account, plan, revenue, tickets, first and last ticket.

    `tickets`: ticket_id, theme_id, customer_id, created_at, and optionally account_id, plan,
    monthly_revenue.
    """
    known = tickets[tickets["customer_id"].notna() & tickets["theme_id"].notna()]
    known = _with_account_columns(known)
    grouped = known.sort_values("created_at").groupby(["theme_id", "customer_id"], sort=False)
    out = grouped.agg(account_id=("account_id", "last"), plan=("plan", "last"),
                      monthly_revenue=("monthly_revenue", "max"), tickets=("ticket_id", "count"),
                      first_ticket_at=("created_at", "min"), last_ticket_at=("created_at", "max")).reset_index()
    out = out.sort_values(["theme_id", "monthly_revenue", "tickets", "customer_id"],
                          ascending=[True, False, False, True], na_position="last")
    return out[AFFECTED_COLUMNS].reset_index(drop=True)


def many_tickets(counts: pd.Series, max_p_value: float) -> int:
    """The smallest weekly ticket count (>= 2) that is unusual for a customer of this week."""
    return _unusual_at(float(counts.mean()) if len(counts) else 1.0, max_p_value)


def _unusual_at(mean: float, max_p_value: float) -> int:
    return max(2, int(poisson.isf(max_p_value, mean)) + 1)


def weekly_rates(earlier: pd.DataFrame, weeks: int) -> dict[str, float]:
    """Each customer's tickets a week over `weeks` earlier weeks with data (`earlier`: their tickets,
    with customer_id): the rate a week of theirs is unusual against."""
    if not weeks:
        return {}
    return (earlier["customer_id"].dropna().value_counts() / weeks).to_dict()


def _flagged(value: Any, churn_score: float) -> bool:
    """A churn_risk or frustration value that counts: true, high/critical, or a score at or above the cut."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, str):
        return value.strip().lower() in FRUSTRATED
    return isinstance(value, numbers.Real) and not math.isnan(value) and value >= churn_score


def _signals(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list | tuple | np.ndarray):
        return [str(s) for s in value]
    return []


def _per_ticket(tickets: pd.DataFrame, settings: RiskSettings) -> pd.DataFrame:
    """The evidence columns per ticket (False / [] where triage did not provide them)."""
    n = len(tickets)
    frustration = tickets["frustration"] if "frustration" in tickets else pd.Series([None] * n, index=tickets.index)
    signals = (tickets["escalation_signals"].map(_signals) if "escalation_signals" in tickets
               else pd.Series([[]] * n, index=tickets.index))
    escalation = tickets["escalation"].fillna(False).astype(bool) if "escalation" in tickets else False
    churn = tickets["churn_risk"] if "churn_risk" in tickets else pd.Series([None] * n, index=tickets.index)
    return tickets.assign(
        frustrated=frustration.map(lambda v: isinstance(v, str) and v.strip().lower() in FRUSTRATED),
        escalated=signals.map(lambda s: bool(set(s) - MOOD_SIGNALS)) | (escalation & signals.map(lambda s: not s)),
        signals=signals,
        churn_flagged=churn.map(lambda v: _flagged(v, settings.churn_score)))


def customers_at_risk(tickets: pd.DataFrame, settings: RiskSettings = RiskSettings(),
                      own_rates: Mapping[str, float] | None = None) -> pd.DataFrame:
    """This week's customers at risk of churning, with their evidence (see module doc).

    `tickets`: the week's tickets with ticket_id, customer_id, optionally account_id, plan,
    monthly_revenue and the triage columns frustration, escalation, escalation_signals, churn_risk;
    `own_rates`: each customer's tickets a week before (`weekly_rates`).
    """
    known = _per_ticket(tickets[tickets["customer_id"].notna()], settings)
    if not len(known):
        return pd.DataFrame(columns=RISK_COLUMNS)
    known = _with_account_columns(known)
    per = known.groupby("customer_id").agg(
        account_id=("account_id", "last"), plan=("plan", "last"), monthly_revenue=("monthly_revenue", "max"),
        tickets=("ticket_id", "count"), frustrated=("frustrated", "sum"), escalated=("escalated", "sum"),
        escalation_signals=("signals", lambda s: sorted({x for row in s for x in row})),
        churn_flagged=("churn_flagged", "sum")).reset_index()
    week_mean = float(per["tickets"].mean())
    per["typical"] = per["customer_id"].map(lambda c: max(week_mean, (own_rates or {}).get(c, 0.0)))
    per["evidence"] = [_evidence(r, _unusual_at(r.typical, settings.max_p_value)) for r in per.itertuples()]
    at_risk = per[[bool(r.churn_flagged) or "volume" in e or {"frustration", "escalation"} <= set(e)
                   for r, e in zip(per.itertuples(), per["evidence"], strict=True)]].copy()
    at_risk["reason"] = [_reason(r, week_mean) for r in at_risk.itertuples()]
    at_risk["kinds"] = at_risk["evidence"].map(len)
    at_risk = at_risk.sort_values(["churn_flagged", "kinds", "monthly_revenue", "tickets", "customer_id"],
                                  ascending=[False, False, False, False, True], na_position="last")
    return at_risk[RISK_COLUMNS].reset_index(drop=True)


def _evidence(row: Any, threshold: int) -> list[str]:
    kinds = [("churn", row.churn_flagged > 0), ("volume", row.tickets >= threshold),
             ("frustration", row.frustrated > 0), ("escalation", row.escalated > 0)]
    return [kind for kind, present in kinds if present]


def _reason(row: Any, mean: float) -> str:
    """'6 tickets this week (typical: 1.2); 3 frustrated; escalation: legal threat; churn risk on 2'; the
    typical count only when the count is evidence (a list of 1-ticket customers each read "typical: 1.0"),
    the customer's own when it is the higher ("typical for them: 3.0")."""
    whose = " for them" if row.typical > mean else ""
    typical = f" (typical{whose}: {row.typical:.1f})" if "volume" in row.evidence else ""
    parts = [f"{plural(row.tickets, 'ticket')} this week{typical}"]
    if row.frustrated:
        parts.append(f"{row.frustrated} frustrated")
    if row.escalated:
        named = ", ".join(in_words(s) for s in row.escalation_signals)
        parts.append("escalation" + (f": {named}" if named else ""))
    if row.churn_flagged:
        parts.append(f"churn risk on {row.churn_flagged}")
    return "; ".join(parts)
