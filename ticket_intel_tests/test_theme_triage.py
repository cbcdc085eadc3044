"""Themes from their tickets' triage: signal and severity in summaries, mood in the ranking, and the
week's triage in the report (category mix, escalations, team load against SLA, requests and gaps)."""

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from ticket_intel.core import report
from ticket_intel.core.context import make_context
from ticket_intel.core.rank import RankSettings, rank_week
from ticket_intel.core.review import ReviewState
from ticket_intel.core.summarize import extractive_summary, theme_docs
from ticket_intel.core.theme_triage import judged_by_tickets, theme_triage, with_ticket_triage
from ticket_intel.core.triage_report import LATE, MET, NOT_DUE, OVERDUE, UNKNOWN, sla_state, week_triage

WEEK = date(2026, 11, 16)
LAST = WEEK - timedelta(weeks=1)
# (ticket, week, theme, customer, text)
TICKETS = [
    ("a1", WEEK, "A", "c1", "The app crashes when I open it"),
    ("a2", WEEK, "A", "c2", "Please add dark mode to the app"),
    ("a3", WEEK, "A", "c2", "Please add an export to CSV"),
    ("a4", WEEK, "A", "c3", "Worst app ever, I will cancel my subscription"),
    ("a5", LAST, "A", "c4", "Crashes on start since the update"),
    ("b1", WEEK, "B", "c5", "How do I change my address?"),
    ("b2", WEEK, "B", "c6", "How do I change my email?"),
    ("b3", WEEK, "B", "c7", "Where do I change my phone number?"),
    ("o1", WEEK, None, "c8", "Please support Linux"),
]
# (ticket, category, subcategory, signal, severity, urgency, sentiment, frustration, signals, churn, team, sla,
#  escalated, status, first reply hours, observed hours, replies exported)
TRIAGE = [
    ("a1", "bug report", "functional", "bug", "P1", "P1", -0.2, "medium", [], "low", "Eng", 2.0, True,
     "open", 1.0, 50.0, True),
    ("a2", "feature request", "UI/UX", "ux_friction", "P3", "P4", 0.3, "low", [], "low", "Product", 120.0, False,
     "open", None, 50.0, True),
    ("a3", "feature request", "new capability", "feature_gap", "P3", "P4", 0.3, "low", [], "low", "Product", 120.0,
     False, "solved", None, 50.0, True),
    ("a4", "account & billing", "account management", "billing", "P3", "P3", -0.8, "high",
     ["churn", "strong_negative"], "high", "Billing esc", 24.0, True, "open", 30.0, 50.0, True),
    ("a5", "bug report", "functional", "bug", "P1", "P1", -0.1, "low", [], "low", "Eng", 2.0, True,
     "open", None, 200.0, True),
    ("b1", "how-to", "feature usage", "docs_gap", "P3", "P4", 0.0, "low", [], "low", "Support", 72.0, False,
     "open", None, 80.0, True),
    ("b2", "how-to", "feature usage", "docs_gap", "P3", "P4", 0.0, "low", [], "low", "Support", 72.0, False,
     None, None, None, None),
    ("b3", "how-to", "feature location", "ux_friction", "P3", "P4", 0.0, "medium", ["long_wait"], "low",
     "Support esc", 24.0, True, "open", None, 10.0, False),
    ("o1", "feature request", "integration", "feature_gap", "P3", "P4", 0.0, "low", [], "low", "Product", 120.0,
     False, "open", None, 10.0, True),
]
TRIAGE_COLUMNS = ["ticket_id", "category", "subcategory", "signal_type", "severity", "urgency", "sentiment",
                  "frustration", "escalation_signals", "churn_risk", "assigned_team", "sla_hours", "escalated",
                  "ticket_status", "first_reply_hours", "observed_hours", "replies_exported"]


def triage_rows(drop: tuple[str, ...] = ()) -> pd.DataFrame:
    frame = pd.DataFrame(TRIAGE, columns=TRIAGE_COLUMNS)
    frame = frame.assign(escalation=frame["escalation_signals"].map(bool), needs_review=frame["ticket_id"] == "a4")
    return frame[~frame["ticket_id"].isin(drop)]


def window() -> pd.DataFrame:
    frame = pd.DataFrame(TICKETS, columns=["ticket_id", "ticket_week", "theme_id", "customer_id", "text"])
    return frame.assign(plan="free", account_id=frame["customer_id"], monthly_revenue=None,
                        similarity=1.0, assignment=None)


def context(drop: tuple[str, ...] = ()):
    vectors = np.eye(len(TICKETS), dtype=np.float32)
    return make_context(WEEK, 8, window(), ReviewState(), vectors=vectors, triage=triage_rows(drop))


def test_the_context_carries_each_tickets_triage_in_window_order():
    ctx = context(drop=("b2",))
    assert list(ctx.window["ticket_id"]) == [t[0] for t in TICKETS]
    assert ctx.window.set_index("ticket_id").loc["a4", "churn_risk"] == "high"
    assert pd.isna(ctx.window.set_index("ticket_id").loc["b2", "category"])


def test_ranked_themes_carry_their_tickets_mood():
    ranked = rank_week(context(), pd.DataFrame(), RankSettings(min_tickets=3, min_customers=3, min_week_tickets=1))
    a = ranked.ranked.set_index("theme_id").loc["A"]  # this week's a1..a4, not last week's a5
    assert a["sentiment"] == pytest.approx((-0.2 + 0.3 + 0.3 - 0.8) / 4)
    assert a["frustration_share"] == 0.25 and a["escalation_share"] == 0.25
    assert a["churn_risk_customers"] == 1 and a["triaged_tickets"] == 4
    b = ranked.ranked.set_index("theme_id").loc["B"]
    assert b["frustration_share"] == 0.0 and b["escalation_share"] == pytest.approx(1 / 3)


def test_a_theme_without_triage_has_no_mood_figures():
    row = theme_triage(window().assign(customer=window()["customer_id"]))
    assert row["triaged_tickets"] == 0 and row["sentiment"] is None and row["escalation_share"] is None


def test_summaries_take_signal_and_severity_from_the_tickets_triage():
    ctx = context(drop=("a5",))
    docs = with_ticket_triage(theme_docs(ctx.window, WEEK, ctx.vectors), ctx.window)
    a = docs["A"]
    # triage says two requests, a bug and a billing ticket; a5 has no triage row: the rules judge it (a crash)
    assert a.signals == ["bug", "ux_friction", "feature_gap", "billing", "bug"]
    assert a.severities[:4] == ["P1", "P3", "P3", "P3"] and a.severities[4] in {"P1", "P2"}
    assert extractive_summary(docs["B"]).signal_type == "docs_gap"  # two of three how-to tickets
    untouched = theme_docs(window(), WEEK, np.eye(len(TICKETS), dtype=np.float32))
    assert with_ticket_triage(untouched, window()) is untouched  # no triage at all: the rules decide


def test_an_llm_summary_keeps_the_signal_and_severity_of_its_tickets():
    ctx = context()
    doc = with_ticket_triage(theme_docs(ctx.window, WEEK, ctx.vectors), ctx.window)["B"]
    tickets = extractive_summary(doc)
    llm = tickets.model_copy(update={"label": "Changing contact details", "signal_type": "bug", "severity": "P0"})
    merged = judged_by_tickets(llm, tickets)
    assert merged.label == "Changing contact details"
    assert (merged.signal_type, merged.severity, merged.backlog.severity) == ("docs_gap", "P3", "P3")


@pytest.mark.parametrize(("facts", "state"), [
    ((2.0, 1.0, 50.0, "open", True), MET),
    ((2.0, 3.0, 50.0, "solved", True), LATE),
    ((24.0, None, 50.0, "open", True), OVERDUE),
    ((24.0, None, 50.0, None, True), OVERDUE),  # no status: not known to be solved
    ((72.0, None, 50.0, "open", True), NOT_DUE),
    ((24.0, None, 50.0, "Solved", True), UNKNOWN),  # solved without a reply the export shows
    ((24.0, None, 50.0, "open", False), UNKNOWN),  # the file carries no replies at all
    ((None, 1.0, 50.0, "open", True), UNKNOWN),  # not triaged
    ((24.0, None, None, "open", None), UNKNOWN),  # export facts not read
])
def test_sla_state_says_only_what_the_export_can_tell(facts, state):
    assert sla_state(*facts) == state


def test_week_triage_mix_escalations_and_team_load():
    view = week_triage(context(drop=("b2",)).this_week, ["A", "B"])
    assert (view["tickets"], view["week_tickets"], view["needs_review"]) == (7, 8, 1)
    mix = {c["category"]: c for c in view["categories"]}
    assert view["categories"][0]["category"] == "feature request" and mix["feature request"]["tickets"] == 3
    assert mix["feature request"]["subcategories"] == "UI/UX 1 · integration 1 · new capability 1"
    assert mix["bug report"]["p1"] == 1 and mix["bug report"]["escalated"] == 1
    esc = view["escalations"]
    assert (esc["escalated"], esc["signalled"], esc["p1"], esc["frustrated"]) == (3, 2, 1, 0)
    assert esc["signals"] == [{"signal": "churn", "tickets": 1}, {"signal": "strong_negative", "tickets": 1},
                              {"signal": "long_wait", "tickets": 1}]
    assert esc["churn_risk_customers"] == 1 and esc["frustrated_tickets"] == 1
    teams = {t["team"]: t for t in view["teams"]}
    assert teams["Product"] == {"team": "Product", "tickets": 3, "P1": 0, "P2": 0, "P3": 0, "P4": 3, "escalated": 0,
                                MET: 0, LATE: 0, OVERDUE: 0, NOT_DUE: 2, UNKNOWN: 1, "past_sla": 0}
    assert (teams["Eng"][MET], teams["Billing esc"][LATE], teams["Billing esc"]["past_sla"]) == (1, 1, 1)
    assert (teams["Support"][OVERDUE], teams["Support"]["past_sla"], teams["Support esc"][UNKNOWN]) == (1, 1, 1)


def test_requests_and_gaps_are_counted_from_single_tickets():
    view = week_triage(context().this_week, ["A", "B"])
    requests, gaps = view["feature_requests"], view["docs_gaps"]
    assert (requests["tickets"], requests["themes"], requests["outside"], requests["outside_ids"]) == (2, {"A": 1}, 1, ["o1"])
    assert requests["subcategories"] == "feature request / integration 1 · feature request / new capability 1"
    assert (gaps["tickets"], gaps["themes"], gaps["outside"], gaps["customers"]) == (2, {"B": 2}, 0, 2)


def test_no_triage_no_section():
    assert week_triage(window().assign(customer=window()["customer_id"]), ["A"]) is None


def report_context(with_view: bool = True) -> dict:
    ctx = context()
    ranking = rank_week(ctx, pd.DataFrame([
        {"theme_id": "A", "label": "App crashes", "severity": "P1", "signal_type": "bug"},
        {"theme_id": "B", "label": "Contact details", "severity": "P3", "signal_type": "docs_gap"},
    ]), RankSettings(min_tickets=3, min_customers=3, min_week_tickets=1))
    summaries = pd.DataFrame([{"theme_id": t, "backlog_title": f"Backlog {t}", "backlog_deflection": 1.0}
                              for t in ("A", "B")])
    base = report.build_context(WEEK, {**ranking.overview}, ranking.ranked, summaries, ranking.not_a_theme,
                                pd.DataFrame(), pd.DataFrame(columns=["ticket_id", "text", "source_id"]))
    view = week_triage(ctx.this_week, ranking.ranked["theme_id"].tolist()) if with_view else None
    return report.with_triage(base, view, ranking.ranked, summaries)


def test_report_shows_mood_triage_section_and_ticket_based_requests():
    md = report.render_markdown(report_context())
    assert "| Sentiment | Frustrated | Escalation signal | Churn risk | Impact |" in md
    assert "| P1 | bug | -0.10 | 25% | 25% | 1 |" in md  # theme A's row
    assert "sentiment -0.10, 25% frustrated, 25% with an escalation signal, 1 customer at churn risk (from 4 triaged tickets)" in md
    assert "## Triage" in md and "8 of 8 tickets triaged; 1 flagged for review" in md
    assert "| Product | 3 | 0 | 0 | 0 | 3 | 0 | 0 | 0 | 0 | 2 | 1 |" in md
    assert "Signals: churn 1 · strong negative 1 · long wait 1." in md
    requests = md.split("## Feature requests")[1].split("##")[0]
    assert "From single tickets: 2 tickets (25% of triaged tickets, 2 customers)" in requests
    assert "1 of them outside the ranked themes: o1." in requests
    assert "- **App crashes** — 1 of 4 tickets, 3 customers; backlog: *Backlog A*" in requests
    gaps = md.split("## Documentation gaps")[1].split("##")[0]
    assert "- **Contact details** — 2 of 3 tickets, 3 customers; backlog: *Backlog B*" in gaps
    html = report.render_html(report_context(), {})
    assert "<h2>Triage</h2>" in html and "<td>Product</td>" in html and "Customers' mood" in html


def test_single_tickets_without_a_ranked_theme_of_their_kind_are_not_called_none():
    """"From single tickets: 2 tickets …" and then "None this week." read as a contradiction: what
    is missing is a ranked theme of that kind."""
    ctx = {**report_context(), "feature_requests": []}
    requests = report.render_markdown(ctx).split("## Feature requests")[1].split("##")[0]
    assert "From single tickets: 2 tickets" in requests and "No ranked theme of this kind this week." in requests
    assert "None this week" not in requests
    html = report.render_html(ctx, {}).split("<h2>Feature requests</h2>")[1].split("<h2>")[0]
    assert "From single tickets" in html and "No ranked theme of this kind this week." in html


def test_sla_columns_are_left_out_when_no_ticket_s_state_can_be_told():
    """twcs and GitHub export no agent reply: every SLA cell was 0 but Unknown, in every week's report."""
    this_week = context().this_week.assign(first_reply_hours=np.nan, replies_exported=False)
    view = week_triage(this_week, ["A", "B"])
    assert not view["sla_known"] and week_triage(context().this_week, ["A", "B"])["sla_known"]
    ctx = report.with_triage(
        report.build_context(WEEK, {"tickets": 8, "customers": 8, "tickets_prev_week": 0, "themes": 0, "outlier_tickets": 0,
                                    "warning": None}, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
                             pd.DataFrame(columns=["ticket_id", "text", "source_id"])), view, pd.DataFrame(), pd.DataFrame())
    md, html = report.render_markdown(ctx), report.render_html(ctx, {})
    assert "<b>Team load</b>" in html and ">Met</th>" not in html and ">Met</th>" in report.render_html(report_context(), {})
    assert "**Team load** (routing.yaml):" in md and "| Team | Tickets | P1 | P2 | P3 | P4 | Escalated |\n" in md
    assert "| Met |" not in md and "No ticket's SLA state can be told from these exports. What exports" in md


def test_report_without_triage_says_so_and_keeps_theme_signal_sections():
    md = report.render_markdown(report_context(with_view=False))
    assert "No triage for this week: materialize `ticket_triage` for it." in md
    gaps = md.split("## Documentation gaps")[1].split("##")[0]
    assert "- **Contact details** — 3 tickets, 3 customers; backlog: *Backlog B*" in gaps


def test_stored_lists_read_back_as_arrays_render_in_the_report():
    alerts = pd.DataFrame([{"theme_id": "A", "kind": "new_pattern", "label": "App crashes", "tickets": 6,
                            "customers": 4, "related_theme_ids": np.array([], dtype=object)}])
    base = report.build_context(WEEK, {"tickets": 6, "customers": 4, "tickets_prev_week": 0, "themes": 0,
                                       "outlier_tickets": 0, "warning": None}, pd.DataFrame(), pd.DataFrame(),
                                pd.DataFrame(), alerts, pd.DataFrame(columns=["ticket_id", "text", "source_id"]))
    assert "- **App crashes** (`A`): 6 tickets from 4 customers, first seen this week." in report.render_markdown(base)


def check_sample_run(warehouse) -> None:
    """On a materialized warehouse: every theme's signal type is what its window tickets' triage says,
    ranked themes carry their mood, and the report shows the week's triage."""
    import duckdb

    from ticket_intel import warehouse as wh
    from ticket_intel.core.summarize import signal_type_of

    with duckdb.connect(str(warehouse), read_only=True) as con:
        week = con.execute("SELECT max(week_start) FROM marts.ranked_themes").fetchone()[0]
        signals = wh.read(con, """SELECT c.theme_id, g.signal_type FROM staging.ticket_clusters c
                                  JOIN marts.ticket_triage g ON g.ticket_id = c.ticket_id AND g.week_start = c.ticket_week
                                  WHERE c.week_start = ? AND c.theme_id IS NOT NULL""", [week])
        summaries = wh.read(con, "SELECT theme_id, signal_type FROM marts.cluster_summaries WHERE week_start = ?", [week])
        ranked = wh.read(con, "SELECT * FROM marts.ranked_themes WHERE week_start = ?", [week])
        markdown = con.execute("SELECT markdown FROM marts.weekly_reports WHERE week_start = ?", [week]).fetchone()[0]
    by_theme = signals.groupby("theme_id")["signal_type"].agg(list)
    for row in summaries.itertuples():
        assert row.signal_type == signal_type_of(by_theme[row.theme_id], by_theme[row.theme_id]), row.theme_id
    assert (ranked["triaged_tickets"] == ranked["tickets"]).all()
    for column in ("frustration_share", "escalation_share"):
        assert ranked[column].between(0, 1).all()
    assert ranked["sentiment"].between(-1, 1).all() and (ranked["churn_risk_customers"] >= 0).all()
    assert "## Triage" in markdown and "**Team load against SLA**" in markdown and "| Escalation signal |" in markdown


@pytest.mark.e2e
def test_the_sample_run_takes_themes_from_triage_and_reports_it(sample_run):
    check_sample_run(sample_run.warehouse)


def test_a_theme_s_escalation_share_leaves_out_the_words_that_are_its_topic():
    """The sample's "Refund · statement" read "93% with an escalation signal": its tickets' signal
    was the word "refund", its topic, which severity already leaves out."""
    group = pd.DataFrame({
        "ticket_id": ["r1", "r2", "r3"], "customer": ["c1", "c2", "c3"], "category": ["account & billing"] * 3,
        "text": ["I want a refund for this charge", "Refund the duplicate payment please",
                 "Refund me now or I will cancel my account"],
        "escalation_signals": [["refund_chargeback"], ["refund_chargeback"], ["refund_chargeback", "churn"]],
        "sentiment": [0.0, 0.0, -0.5], "frustration": ["low", "low", "high"], "churn_risk": ["low", "low", "high"],
    })
    assert theme_triage(group)["escalation_share"] == 1.0
    assert theme_triage(group, ["refund", "statement"])["escalation_share"] == pytest.approx(1 / 3)  # the churn one
    llm_found = group.assign(escalation_signals=[["refund_chargeback"], ["refund_chargeback"], ["legal_threat"]])
    assert theme_triage(llm_found, ["refund"])["escalation_share"] == pytest.approx(1 / 3)  # no words of it: counts
