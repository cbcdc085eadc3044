"""Customers per theme and customers at risk (core/customers.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from scipy.stats import poisson

from ticket_intel.core.customers import (
    RiskSettings,
    affected_customers,
    customers_at_risk,
    many_tickets,
    weekly_rates,
)

T0 = datetime(2026, 3, 2, 9)


def ticket(i: int, customer: str | None, theme: str | None = "A", **extra: object) -> dict[str, object]:
    return {"ticket_id": f"t{i}", "theme_id": theme, "customer_id": customer, "created_at": T0 + timedelta(hours=i),
            "account_id": f"acc-{customer}", "plan": "pro", "monthly_revenue": 100.0, **extra}


def test_affected_customers_per_theme_richest_first() -> None:
    rows = [ticket(1, "c1"), ticket(2, "c1"), ticket(3, "c2", plan="enterprise", monthly_revenue=900.0),
            ticket(4, None), ticket(5, "c3", theme="B"), ticket(6, "c1", theme=None)]
    out = affected_customers(pd.DataFrame(rows))
    a = out[out["theme_id"] == "A"]
    assert list(a["customer_id"]) == ["c2", "c1"]  # revenue first; the ticket without a customer is left out
    c1 = a.set_index("customer_id").loc["c1"]
    assert (c1["tickets"], c1["first_ticket_at"], c1["last_ticket_at"]) == (2, T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    assert list(out[out["theme_id"] == "B"]["customer_id"]) == ["c3"]


def test_affected_customers_without_account_columns() -> None:
    frame = pd.DataFrame([ticket(1, "c1")]).drop(columns=["account_id", "plan", "monthly_revenue"])
    out = affected_customers(frame)
    assert out.loc[0, "tickets"] == 1 and out.loc[0, "plan"] is None


def test_many_tickets_is_a_poisson_tail_of_the_weeks_mean() -> None:
    counts = pd.Series([1] * 90 + [2] * 10)  # mean 1.1
    threshold = many_tickets(counts, 0.01)
    assert poisson.sf(threshold - 1, 1.1) < 0.01 <= poisson.sf(threshold - 2, 1.1)
    assert threshold == 5
    assert many_tickets(pd.Series([0.01]), 0.01) == 2  # never fewer than two


def week(rng: np.random.Generator) -> list[dict[str, object]]:
    """120 ordinary customers with 1-2 tickets, calm triage."""
    rows, i = [], 0
    for c in range(120):
        for _ in range(1 + int(rng.random() < 0.1)):
            rows.append(ticket(i, f"c{c}", frustration="low", escalation=False, escalation_signals=[], churn_risk=0.1))
            i += 1
    return rows


def test_at_risk_customers_with_evidence() -> None:
    rows = week(np.random.default_rng(0))
    n = len(rows)
    rows += [ticket(n + k, "busy", frustration="low", escalation=False, escalation_signals=[], churn_risk=0.1)
             for k in range(6)]
    rows += [ticket(n + 10, "angry", frustration="critical", escalation=True,
                    escalation_signals=["legal_threat", "manager_request"], churn_risk=0.3)]
    rows += [ticket(n + 11, "leaving", frustration="medium", escalation=False, escalation_signals=[],
                    churn_risk=0.8, monthly_revenue=50.0)]
    rows += [ticket(n + 12, "grumpy", frustration="high", escalation=False, escalation_signals=[], churn_risk=0.2)]
    risk = customers_at_risk(pd.DataFrame(rows))
    assert list(risk["customer_id"]) == ["leaving", "angry", "busy"]  # churn flag first; grumpy alone is not at risk
    angry = risk.set_index("customer_id").loc["angry"]
    assert angry["evidence"] == ["frustration", "escalation"]
    # the signals in words, and the typical count only where the count is evidence (new-user review)
    assert angry["reason"] == "1 ticket this week; 1 frustrated; escalation: legal threat, manager request"
    assert risk.set_index("customer_id").loc["busy", "reason"].startswith("6 tickets this week (typical: 1.")


def test_a_customer_who_always_writes_many_has_a_normal_week() -> None:
    """Swift's tracker flagged a reporter who files several issues most weeks as at risk of leaving:
    a count is unusual against the customer's own rate when that is the higher. A customer who wrote
    none before and six now, or twice their rate and more, still is."""
    rows = [ticket(i, f"c{i}") for i in range(50)] + [ticket(100 + k, "prolific") for k in range(6)]
    rows += [ticket(200 + k, "quiet") for k in range(6)] + [ticket(300 + k, "doubled") for k in range(12)]
    frame = pd.DataFrame(rows)
    earlier = pd.DataFrame({"customer_id": ["prolific"] * 24 + ["doubled"] * 20 + ["c1"] * 4})
    rates = weekly_rates(earlier, 4)
    assert rates == {"prolific": 6.0, "doubled": 5.0, "c1": 1.0}
    risk = customers_at_risk(frame, own_rates=rates).set_index("customer_id")
    assert set(risk.index) == {"quiet", "doubled"}
    assert risk.loc["doubled", "reason"] == "12 tickets this week (typical for them: 5.0)"
    assert risk.loc["quiet", "reason"].startswith("6 tickets this week (typical: 1.")
    assert set(customers_at_risk(frame)["customer_id"]) == {"prolific", "quiet", "doubled"}  # no history known
    assert weekly_rates(earlier, 0) == {}


def test_an_angry_ticket_is_one_piece_of_evidence_not_two() -> None:
    """Strong negative words make a ticket's frustration, and as an escalation signal they counted
    again: 149 of twcs' 225 customers at risk had one angry tweet and nothing else. Frustration with
    another signal, or with an escalation flag that names none (an LLM's), still is at risk."""
    calm = [ticket(i, f"c{i}", frustration="low", escalation=False, escalation_signals=[], churn_risk=0.1)
            for i in range(50)]
    angry = [ticket(100, "angry", frustration="high", escalation=True, escalation_signals=["strong_negative"],
                    churn_risk=0.3),
             ticket(101, "refund", frustration="high", escalation=True,
                    escalation_signals=["strong_negative", "refund_chargeback"], churn_risk=0.3),
             ticket(102, "flagged", frustration="critical", escalation=True, escalation_signals=[], churn_risk=0.3)]
    risk = customers_at_risk(pd.DataFrame(calm + angry)).set_index("customer_id")
    assert set(risk.index) == {"refund", "flagged"}
    assert risk.loc["refund", "reason"] == "1 ticket this week; 1 frustrated; escalation: refund chargeback, strong negative"


def test_at_risk_without_triage_columns_uses_volume_only() -> None:
    rows = [ticket(i, f"c{i}") for i in range(50)] + [ticket(100 + k, "busy") for k in range(5)]
    frame = pd.DataFrame(rows)
    assert list(customers_at_risk(frame)["customer_id"]) == ["busy"]
    assert customers_at_risk(frame.assign(customer_id=None)).empty


def test_churn_risk_levels_and_booleans_are_understood() -> None:
    rows = [ticket(1, "a", churn_risk="High"), ticket(2, "b", churn_risk=np.True_), ticket(3, "c", churn_risk="low"),
            ticket(4, "d", churn_risk=None), ticket(5, "e", churn_risk=float("nan"))]
    risk = customers_at_risk(pd.DataFrame(rows), RiskSettings())
    assert set(risk["customer_id"]) == {"a", "b"}
