"""The per-theme output contract and the report's closing-the-loop sections (core/theme_context.py)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime

import pandas as pd

from ticket_intel.core import report
from ticket_intel.core.help_center import GAP, UNFOUND, Article, DocsStatus
from ticket_intel.core.releases import FIXED, AfterRelease, FixResult
from ticket_intel.core.theme_context import (
    CONTRACT_KEYS,
    ThemeFindings,
    alert_notes,
    report_sections,
    theme_columns,
    theme_context,
    theme_notes,
)
from ticket_intel_tests.test_report import XSS, context

SEGMENTS = pd.DataFrame([{"theme_id": "T1", "field": "plan", "value": "enterprise", "tickets": 8, "theme_tickets": 12,
                          "share": 0.62, "baseline_share": 0.18, "p_value": 0.0004, "raw_p_value": 0.0001,
                          "scope": ""}])
ARTICLE = Article("101", "Why was my card declined?", "", "https://help.acme.test/101")
FINDINGS = ThemeFindings(
    docs={"T1": DocsStatus(UNFOUND, ARTICLE, "customers keep asking (trend: rising)"), "T2": DocsStatus(GAP, None, "no articles")},
    after_release={"T1": AfterRelease("4.2", datetime(2026, 11, 14), 2)},
    fixes={"T3": FixResult(FIXED, "4.1", 10.0, 0.5, 0.0001, confirmed_week=date(2026, 11, 9))},
    segments=SEGMENTS,
    parents={"T1": ("area:Cards", "Cards")},
)


def test_contract_keys_for_every_theme_and_json_safe() -> None:
    t1, t3 = theme_context("T1", FINDINGS), theme_context("T3", FINDINGS)
    assert set(CONTRACT_KEYS) <= set(t1)
    assert t1["docs_status"] == UNFOUND and t1["docs_article"] == "Why was my card declined?"
    assert (t1["after_release"], t1["after_release_days"], t1["parent"]) == ("4.2", 2, "Cards")
    assert t1["segments"] == [{"field": "plan", "value": "enterprise", "share": 0.62, "baseline_share": 0.18,
                               "p_value": 0.0004, "scope": ""}]
    assert t3["fix_status"] == FIXED and t3["docs_status"] is None and t3["segments"] == [] and t3["parent"] is None
    assert (t3["fix_release"], t1["docs_note"]) == ("4.1", "customers keep asking (trend: rising)")
    json.dumps([t1, t3])
    without_help_center = theme_context("T1", ThemeFindings())
    assert without_help_center["docs_status"] is None and without_help_center["docs_article"] is None


def test_notes_say_the_findings_in_words() -> None:
    assert theme_notes("T1", FINDINGS) == [
        "Segment: 62% Enterprise vs 18% of all tickets, p = 0.0004",
        "Docs: unfound 'Why was my card declined?' (customers keep asking (trend: rising))",
        "Started 2 days after 4.2",
    ]
    assert theme_notes("T3", FINDINGS) == ["Fix in 4.1: fixed (10.0/week before, 0.5/week after, p = 0.0001)"]


def test_stored_columns_are_the_contract_and_the_notes() -> None:
    columns = theme_columns("T1", FINDINGS)
    assert "segments" not in columns and columns["notes"] == theme_notes("T1", FINDINGS)
    assert {k: v for k, v in theme_context("T1", FINDINGS).items() if k != "segments"}.items() <= columns.items()


ALERTS = [{"theme_id": "T2", "kind": "volume_spike", "label": "x", "after_release": "4.2.1", "after_release_days": 1},
          {"theme_id": "T1", "kind": "new_pattern", "label": "x", "after_release": float("nan"),
           "after_release_days": float("nan")}]


def test_alert_notes_say_which_release_an_alert_followed() -> None:
    assert alert_notes(ALERTS) == {"T2": ["Spiked 1 day after 4.2.1"]}


def closing_context() -> dict:
    ctx = context()
    ctx["themes"] = [{**t, "notes": theme_notes(t["theme_id"], FINDINGS)} for t in ctx["themes"]]
    themes = [{"theme_id": "T1", "label": "Payment declined · card", "tickets": 12, **theme_columns("T1", FINDINGS)},
              {"theme_id": "T2", "label": "Top-up <b>", "tickets": 7, **theme_columns("T2", FINDINGS)},
              {"theme_id": "T3", "label": "T3", "tickets": 5, **theme_columns("T3", FINDINGS)}]
    customers = pd.DataFrame([{"theme_id": "T3", "customer_id": "c1", "plan": "enterprise", "monthly_revenue": 9000.0},
                              {"theme_id": "T3", "customer_id": "c2", "plan": None, "monthly_revenue": float("nan")}])
    at_risk = pd.DataFrame([{"customer_id": "c9", "plan": "enterprise", "monthly_revenue": float("nan"),
                             "tickets": 6, "reason": "6 tickets this week (typical: 1.1); 2 frustrated"}])
    groups = [{"summary": "Cards: 4 themes, 73 tickets", "theme_ids": ["T1", "T2", "T8", "T9"]}]
    ctx["closing"] = report_sections(themes, ALERTS, SEGMENTS, customers, at_risk, groups, docs_configured=True)
    return ctx


def test_markdown_report_gains_the_sections_and_card_findings() -> None:
    md = report.render_markdown(closing_context())
    for section in ("Documentation", "Releases and fixes", "Segments", "Customers to tell", "Customers at risk",
                    "Theme groups"):
        assert f"\n## {section}\n" in md
    assert "## Documentation gaps" not in md  # the help center replaces the signal-type list
    assert ("- **Unfound:** Payment declined · card — 12 tickets; [Why was my card declined?](https://help.acme.test/101)"
            " covers it, yet customers keep asking (trend: rising)") in md
    assert "- **Gap:** Top-up \\<b\\> — 7 tickets; no article covers it (no articles)" in md
    assert "- **Payment declined · card** (`T1`) started 2 days after 4.2." in md
    assert "- **Top-up \\<b\\>** (`T2`) spiked 1 day after 4.2.1." in md  # from the week's alert
    assert "- **T3** (`T3`): Fix in 4.1: fixed (10.0/week before" in md
    assert "- **Payment declined · card** (`T1`): 62% Enterprise vs 18% of all tickets, p = 0.0004" in md
    assert ("- **T3** (`T3`): 2 customers (1 enterprise, 1 no plan); fixed in 4.1: tell them; most revenue: c1 "
            "(enterprise, 9,000/month), c2 · every customer since it began: `ticket-intel export --customers --theme T3`"
            ) in md
    assert "- c9 (enterprise): 6 tickets this week (typical: 1.1); 2 frustrated" in md
    # the group names its ranked members ("Package: 3 themes, 23 tickets" named none; new-user review)
    assert "- Cards: 4 themes, 73 tickets: Payment declined · card\n" in md
    assert "- Segment: 62% Enterprise vs 18% of all tickets, p = 0.0004" in md  # on the theme's card


def test_customer_ids_are_escaped_in_markdown() -> None:
    """A customer id is the customer's own text: ``M5`<img>`[z](https://evil.example)`` in a code
    span closed it and made a live link in the Dagster UI."""
    ctx = closing_context()
    bad = "M5`<img>`[z](https://evil.example)"
    ctx["closing"]["customers_at_risk"][0]["customer_id"] = bad
    ctx["closing"]["customers_to_tell"][0]["top"][0]["customer_id"] = bad
    md = report.render_markdown(ctx)
    escaped = "M5\\`\\<img\\>\\`\\[z\\](`https://evil.example`)"
    assert f"- {escaped} (enterprise): 6 tickets" in md and f"most revenue: {escaped} (enterprise" in md


def test_html_report_gains_the_sections_escaped() -> None:
    ctx = closing_context()
    ctx["closing"]["customers_at_risk"][0]["reason"] = XSS
    html = report.render_html(ctx, {})
    assert "<h2>Customers at risk</h2>" in html and "<h2>Documentation gaps</h2>" not in html
    assert '<b>Unfound:</b> <a href="#T1"><bdi>Payment declined · card</bdi></a>' in html
    assert '<a href="https://help.acme.test/101"><bdi>Why was my card declined?</bdi></a>' in html
    assert "<li>Segment: 62% Enterprise vs 18% of all tickets, p = 0.0004</li>" in html
    assert '<li>Cards: 4 themes, 73 tickets: <a href="#T1"><bdi>Payment declined · card</bdi></a></li>' in html
    assert not re.search(r"<script>", html) and "&lt;script&gt;" in html


def test_customers_at_risk_show_plan_and_revenue_only_when_known() -> None:
    """twcs' thirty customers at risk each read "–" twice: an export without plans has no such columns."""
    ctx = closing_context()
    assert "<th>Plan</th>" in report.render_html(ctx, {})
    for c in ctx["closing"]["customers_at_risk"]:
        c.update(plan=None, monthly_revenue=None)
    html = report.render_html(ctx, {}).split("<h2>Customers at risk</h2>")[1].split("</table>")[0]
    assert "<th>Plan</th>" not in html and "Revenue/month" not in html and "<td>–</td>" not in html
    assert "<th class=\"n\">Tickets</th><th>Evidence</th>" in html


def test_report_without_closing_sections_is_unchanged() -> None:
    md = report.render_markdown(context())
    assert "## Documentation gaps" in md and "## Customers at risk" not in md


def test_long_lists_keep_to_the_top_themes() -> None:
    gap = {"docs_status": GAP, "docs_article": None, "docs_note": "no article", "fix_status": None}
    themes = [{"theme_id": f"T{r}", "label": f"T{r}", "tickets": 5, "rank": r, **gap} for r in range(1, 13)]
    themes[11] = {**themes[11], "fix_status": FIXED, "fix_release": "4.1", "fix_note": "Fix in 4.1: fixed"}
    customers = pd.DataFrame([{"theme_id": t["theme_id"], "customer_id": "c", "plan": "pro", "monthly_revenue": 1.0}
                              for t in themes])
    closing = report_sections(themes, [], pd.DataFrame(), customers, pd.DataFrame(), [], True, top=(10, 5))
    assert [t["theme_id"] for t in closing["docs"][GAP]] == [f"T{r}" for r in range(1, 11)]
    assert closing["docs"]["more_gaps"] == 2
    assert [c["theme_id"] for c in closing["customers_to_tell"]] == ["T12", "T1", "T2", "T3", "T4", "T5"]
    assert "…and 2 more ranked themes without an article" in report.render_markdown({**context(), "closing": closing})


def test_without_revenue_the_first_customers_to_tell_are_those_who_filed_most() -> None:
    """GitHub issues and tweets carry no plan or revenue: "most revenue" named whoever filed most."""
    themes = [{"theme_id": "T1", "label": "Compiler · crash", "tickets": 9, "rank": 1, "fix_status": None}]
    customers = pd.DataFrame([{"theme_id": "T1", "customer_id": c, "plan": None, "monthly_revenue": float("nan"),
                               "tickets": n} for c, n in (("alice", 3), ("bob", 1))])
    closing = report_sections(themes, [], pd.DataFrame(), customers, pd.DataFrame(), [], False)
    md = report.render_markdown({**context(), "closing": closing})
    # and no plan is known, so nothing is said by plan ("69 customers (69 no plan)", new-user review)
    assert "2 customers; most tickets: alice, bob" in md and "most revenue" not in md and "no plan" not in md
    html = report.render_html({**context(), "closing": closing, "warehouse_flag": " --warehouse /srv/w.duckdb"}, {})
    assert "2 customers; most tickets:" in html
    # the command breaks between its words only: Swift's report broke it inside "-- / warehouse"
    assert ('<code class="cmd"><span>ticket-intel</span> <span>export</span> <span>--customers</span> <span>--theme</span> '
            '<span>T1</span> <span>--week</span> <span>2026-11-16</span> <span>--warehouse</span> '
            '<span>/srv/w.duckdb</span></code>') in html and "code.cmd span { white-space: nowrap; }" in html
    with_revenue = customers.assign(monthly_revenue=[float("nan"), 50.0])
    closing = report_sections(themes, [], pd.DataFrame(), with_revenue, pd.DataFrame(), [], False)
    assert "; most revenue: alice" in report.render_markdown({**context(), "closing": closing})
    # A fixed theme's customers to tell are everyone who reported it, not the window's: the command
    # named for it exports the theme's whole history (its earliest reporters needed `--theme T` alone).
    fixed = [{**themes[0], "fix_status": "fixed", "fix_release": "2.1", "fix_note": "fixed in 2.1"}]
    closing = report_sections(fixed, [], pd.DataFrame(), customers, pd.DataFrame(), [], False)
    md = report.render_markdown({**context(), "closing": closing, "warehouse_flag": " --warehouse /srv/w.duckdb"})
    assert ("fixed in 2.1: tell them; most tickets: alice, bob · every customer since it began: `ticket-intel export "
            "--customers --theme T1 --warehouse /srv/w.duckdb`") in md
    html = report.render_html({**context(), "closing": closing, "warehouse_flag": ""}, {})
    assert ("every customer since it began: <code class=\"cmd\"><span>ticket-intel</span> <span>export</span> "
            "<span>--customers</span> <span>--theme</span> <span>T1</span></code>") in html
    # Small-team review: with one ticket each, "most tickets" named three customers of one ticket each.
    closing = report_sections(themes, [], pd.DataFrame(), customers.assign(tickets=1), pd.DataFrame(), [], False)
    assert "; for example: alice, bob" in report.render_markdown({**context(), "closing": closing})
