"""Over-represented segments (core/segments.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import hypergeom

from ticket_intel.core.segments import (
    SegmentSettings,
    over_represented,
    segment_records,
    segment_sentence,
    segment_tests,
)

PLANS = ["free", "pro", "enterprise"]


def period(rng: np.random.Generator, n: int = 400, themes: int = 8, plan_p=(0.5, 0.32, 0.18)) -> pd.DataFrame:
    """Tickets with random themes (a fifth unthemed), plans, channels and tags: no real segment."""
    theme = rng.choice([f"T{i}" for i in range(themes)] + [None] * (themes // 4), size=n)
    return pd.DataFrame({
        "ticket_id": [f"t{i}" for i in range(n)],
        "theme_id": theme,
        "plan": rng.choice(PLANS, size=n, p=plan_p),
        "channel": rng.choice(["email", "chat", "web"], size=n),
        "tags": [list(rng.choice(["billing", "mobile", "urgent", "ios"], size=rng.integers(0, 3), replace=False))
                 for _ in range(n)],
    })


def with_enterprise_theme(frame: pd.DataFrame, size: int = 30, enterprise: int = 19) -> pd.DataFrame:
    extra = pd.DataFrame({
        "ticket_id": [f"e{i}" for i in range(size)], "theme_id": "ENT",
        "plan": ["enterprise"] * enterprise + ["free"] * (size - enterprise),
        "channel": ["email"] * size, "tags": [[] for _ in range(size)],
    })
    return pd.concat([frame, extra], ignore_index=True)


def test_planted_enterprise_theme_is_found_with_its_numbers() -> None:
    tickets = with_enterprise_theme(period(np.random.default_rng(1)))
    claims = over_represented(tickets)
    ent = segment_records(claims, "ENT")
    plan = next(r for r in ent if r["field"] == "plan")
    assert plan["value"] == "enterprise" and plan["share"] == pytest.approx(19 / 30)
    baseline = (tickets["plan"] == "enterprise").mean()
    assert plan["baseline_share"] == pytest.approx(baseline)
    raw = hypergeom.sf(18, len(tickets), (tickets["plan"] == "enterprise").sum(), 30)
    assert raw <= plan["p_value"] < 0.05  # BH-adjusted: never below the raw p-value
    assert segment_sentence(plan).startswith(f"63% Enterprise vs {baseline:.0%} of all tickets, p = ")
    assert not any(c["field"] == "plan" for t in ("T0", "T1", "T2") for c in segment_records(claims, t))


def test_false_claims_stay_rare_when_nothing_is_concentrated() -> None:
    """Random data, 50 periods of 8 themes x 3 fields: BH holds the chance of any claim near 5%."""
    rng = np.random.default_rng(7)
    periods_with_claims = sum(len(over_represented(period(rng))) > 0 for _ in range(50))
    assert periods_with_claims <= 7  # at most 2.5 expected; 7+ has chance 1.2% at 5%


def test_no_claim_from_fewer_than_the_minimum_tickets() -> None:
    tickets = with_enterprise_theme(period(np.random.default_rng(2)), size=6, enterprise=6)
    claims = over_represented(tickets)
    assert ((claims["theme_id"] == "ENT") & (claims["value"] == "enterprise")).any()
    assert "ENT" not in set(over_represented(tickets, SegmentSettings(min_tickets=7))["theme_id"])


def test_unknown_values_count_on_neither_side_and_tags_are_multi_valued() -> None:
    rows = [("a", "X", None, ["ios", "mobile"]), ("b", "X", "pro", ["ios"]), ("c", None, "free", []),
            ("d", None, None, ["mobile"])]
    tickets = pd.DataFrame(rows, columns=["ticket_id", "theme_id", "plan", "tags"])
    tests = segment_tests(tickets, SegmentSettings(min_tickets=1, max_p_value=1.0)).set_index(["field", "value"])
    assert tests.loc[("plan", "pro"), "share"] == 1.0  # 1 of X's 1 ticket with a known plan
    assert tests.loc[("plan", "pro"), "baseline_share"] == 0.5  # 1 of 2 known plans
    assert tests.loc[("tag", "ios"), "share"] == 1.0 and tests.loc[("tag", "ios"), "baseline_share"] == 0.5
    assert tests.loc[("tag", "mobile"), "baseline_share"] == 0.5  # 2 of 4 tickets (untagged ones included)


def test_fields_absent_from_the_tickets_are_skipped() -> None:
    tickets = pd.DataFrame({"ticket_id": ["a", "b"], "theme_id": ["X", None]})
    assert segment_tests(tickets).empty and over_represented(tickets).empty


def test_a_week_with_no_ticket_to_test_claims_nothing() -> None:
    """A week of one ticket before a warehouse's start failed ranking with KeyError 'value': a
    mask of no rows is an object Series, which pandas reads as a list of columns."""
    tickets = pd.DataFrame({"ticket_id": pd.Series([], dtype=object), "theme_id": pd.Series([], dtype=object),
                            "plan": pd.Series([], dtype=object)})
    assert segment_tests(tickets).empty and over_represented(tickets).empty


def test_within_products_a_theme_is_compared_with_its_product_and_the_product_is_no_claim() -> None:
    """Themes formed per product: each theme holds one product by construction, so "100% about A"
    is no finding, and a plan's share is judged against that product's customers."""
    rng = np.random.default_rng(3)
    a = period(rng, n=300, themes=4, plan_p=(0.2, 0.2, 0.6)).assign(product="A")  # A: mostly Enterprise
    b = period(rng, n=300, themes=4, plan_p=(0.7, 0.25, 0.05)).assign(product="B")
    b["theme_id"] = b["theme_id"].map(lambda t: t and f"B{t}")
    tickets = pd.concat([a, b], ignore_index=True)
    whole = over_represented(tickets)
    assert "product" in set(whole["field"])  # against the whole queue every theme "is about" its product
    assert "enterprise" in set(whole.loc[whole["field"] == "plan", "value"])  # and A's themes "are Enterprise"
    scoped = over_represented(tickets.assign(scope=tickets["product"]))
    assert not len(scoped[scoped["field"] == "product"])
    assert not len(scoped[(scoped["field"] == "plan") & scoped["theme_id"].str.startswith("T")])
    planted = with_enterprise_theme(b.drop(columns="product"), size=30, enterprise=12).assign(product="B")
    claims = over_represented(pd.concat([a, planted], ignore_index=True).pipe(lambda t: t.assign(scope=t["product"])))
    ent = segment_records(claims, "ENT")
    plan = next(r for r in ent if r["field"] == "plan")
    assert plan["scope"] == "B" and plan["baseline_share"] == pytest.approx(
        (planted["plan"] == "enterprise").mean())
    assert "of all B tickets" in segment_sentence(plan)
