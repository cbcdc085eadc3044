"""The weekly report: sections, charts, escaping (checked in a real browser), Dagster preview."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import warnings
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ticket_intel.core import report
from ticket_intel.core.rank import change, product_lines

WEEK = date(2026, 11, 16)
XSS = "<script>document.title='pwned';document.body.innerHTML='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
SECTIONS = ["Top themes", "New patterns", "Volume spikes", "Feature requests", "Documentation gaps", "Not a theme"]
CLOSING_SECTIONS = ["Documentation", "Releases and fixes", "Segments", "Customers to tell", "Customers at risk",
                    "Theme groups"]


def context(ticket_text: str = "My card was declined", label: str = "Payment declined · card",
            summarizer: str = "extractive", products: dict[str, int] | None = None, area: str = "Cards",
            prev_week: int | None = 32, described_share: float | None = 0.9, paid: float | None = 0.4) -> dict:
    ranked = pd.DataFrame([{
        "rank": 1, "theme_id": "T1", "label": label, "tickets": 12, "customers": 10, "tickets_prev_week": 6,
        "wow_change": 1.0, "growth_4w": 0.5, "trend": "rising", "trend_baseline": 5.5, "paid_share": paid, "revenue": None,
        "severity": "P1", "signal_type": "docs_gap", "product_area": area, "impact": 80.0,
        "summary": f"12 tickets, typically: {ticket_text}", "example_ticket_ids": ["zendesk:1", "zendesk:2"],
        "review_status": "unreviewed",
        "products": " · ".join(f"{name} {n}" for name, n in products.items()) if products else None,
        "product_names": list(products) if products else None,
        "product_counts": list(products.values()) if products else None,
    }])
    summaries = pd.DataFrame([{
        "theme_id": "T1", "phrasings": [ticket_text], "severity_rationale": "blocked", "backlog_title": "Document cards",
        "backlog_user_story": "As a customer I want answers so that I can pay", "backlog_deflection": 2.5,
        "summarizer": summarizer, "terms": ["payment declined", "card", "checkout"], "described_share": described_share,
    }])
    not_a_theme = pd.DataFrame([{"theme_id": "outliers", "label": "Unclustered tickets", "tickets": 2, "customers": 2,
                                 "ticket_ids": ["zendesk:7", "zendesk:8"], "reason": "outliers: not close enough to any theme"}])
    alerts = pd.DataFrame([{"theme_id": "T1", "kind": "volume_spike", "label": label, "tickets": 12, "customers": 10,
                            "baseline": 4.0, "ratio": 3.0, "p_value": 0.001}])
    tickets = pd.DataFrame({"ticket_id": ["zendesk:1", "zendesk:2"], "text": [ticket_text, "second"],
                            "source_id": ["1", "2"]})
    overview = {"tickets": 40, "customers": 33, "tickets_prev_week": prev_week, "themes": 1, "outlier_tickets": 2,
                "warning": None}
    return report.build_context(WEEK, overview, ranked, summaries, not_a_theme, alerts, tickets)


def test_markdown_has_every_section_and_the_evidence():
    md = report.render_markdown(context())
    for section in SECTIONS:
        assert f"## {section}" in md
    assert "+25% vs 32 last week · 1 ranked theme · 2 tickets in no theme · 0 new patterns · 1 volume spike" in md
    assert "| 1 | Payment declined · card | Cards | 12 | 10 | rising (12 vs 5.5/wk) | 40% | P1 | docs gap | – | – | – | – | 80 |" in md
    assert "\n  - zendesk:1 My card was declined" in md
    assert "3.0x, p = 0.001" in md and "zendesk:7, zendesk:8" in md
    assert "- **Payment declined · card** — 12 tickets, 10 customers; backlog: *Document cards*" in md


def test_an_alert_mostly_from_one_customer_says_so():
    """A reader sees "6 customers (16 from one)", not only 21 tickets; an alert spread over its
    customers reads as before."""
    ctx = context()
    one = {"tickets": 21, "customers": 6, "top_customer_tickets": 16, "concentrated": True,
           "related_theme_ids": []}
    ctx["new_patterns"] = [{**ctx["spikes"][0], **one, "kind": "new_pattern"}]
    ctx["spikes"] = [{**ctx["spikes"][0], **one}]
    md, html = report.render_markdown(ctx), report.render_html(ctx, {})
    assert "21 tickets from 6 customers (16 from one), first seen this week." in md
    assert "21 tickets (6 customers, 16 from one) against a baseline of 4.0/week" in md
    assert "6 customers (16 from one), first seen" in html and "6 customers, 16 from one) against" in html
    assert "from one" not in report.render_markdown(context())
    # A spike's baseline says which weeks it is the mean of: the trend's beside it spans other weeks.
    ctx["spikes"] = [{**ctx["spikes"][0], "baseline_weeks": 6}]
    assert "against a baseline of 4.0/week (its last 6 weeks)" in report.render_markdown(ctx)


def test_a_new_group_found_over_two_weeks_was_first_seen_last_week():
    """Its tickets count from the week before the report's (core/subgroups.py); any other new pattern
    was first seen this week."""
    ctx = context()
    group = {**ctx["spikes"][0], "kind": "new_pattern", "tickets": 10, "customers": 10, "related_theme_ids": ["T0"]}
    ctx["spikes"] = []
    rows = report.build_context(WEEK, ctx["overview"], pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame([
        {**group, "theme_id": "G1", "since": pd.Timestamp(WEEK - timedelta(weeks=1))},
        {**group, "theme_id": "G2", "since": pd.Timestamp(WEEK)}]), pd.DataFrame())["new_patterns"]
    md, html = (render({**ctx, "new_patterns": rows}) for render in (report.render_markdown, lambda c: report.render_html(c, {})))
    assert "(`G1`): 10 tickets from 10 customers, first seen last week, a new group inside `T0`." in md
    assert "(`G2`): 10 tickets from 10 customers, first seen this week, a new group inside `T0`." in md
    assert "first seen last week, a new group inside <code class=\"tid\">T0</code>" in html


def test_an_alert_names_the_themes_it_relates_to_by_their_labels():
    """"A new group inside T20171016-00" tells a reader nothing: the parent's label (kept by the
    alert) comes first, its id after it; a split spike's other pieces too. Without a label the id stays."""
    ctx = context()
    group = {**ctx["spikes"][0], "kind": "new_pattern", "theme_id": "G1", "related_theme_ids": ["T0"],
             "related_labels": ["Prime · download"]}
    spike = {**ctx["spikes"][0], "theme_id": "T1", "related_theme_ids": ["T2", "T3"], "related_labels": ["Card · PIN", None]}
    built = report.build_context(WEEK, ctx["overview"], pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
                                 pd.DataFrame([group, spike]), pd.DataFrame())
    ctx = {**ctx, "new_patterns": built["new_patterns"], "spikes": built["spikes"]}
    md, html = report.render_markdown(ctx), report.render_html(ctx, {})
    assert "a new group inside “Prime · download” (`T0`)." in md
    assert "(counted with “Card · PIN” (`T2`), `T3`, split from the same theme)." in md
    assert "a new group inside “<bdi>Prime · download</bdi>” (<code class=\"tid\">T0</code>)." in html
    assert md.startswith("# Support themes")


def test_a_week_after_a_gap_in_the_exports_has_no_count_last_week():
    """twcs without the week of 2017-11-06: the next week's header read "– vs 0 last week"."""
    overview = {**context()["overview"], "tickets_prev_week": None}
    ctx = report.build_context(WEEK, overview, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
                               pd.DataFrame(), last_week_gap=True)
    md, html = report.render_markdown(ctx), report.render_html(ctx, {})
    assert "from **33 customers**, no data last week ·" in md and "tickets, no data last week</span>" in html


def test_the_first_week_of_data_says_so_instead_of_comparing_with_zero():
    ctx = context(prev_week=None)
    ctx["themes"][0].update(trend="no history", trend_baseline=None, tickets_prev_week=None, wow_change=None,
                            growth_4w=None)
    md, html = report.render_markdown(ctx), report.render_html(ctx, {})
    assert "the first week of data ·" in md and "tickets, the first week of data</span>" in html
    assert "vs None" not in md + html
    for text in (md, html):
        assert "last week" not in text.split("Top themes")[1] and "over 4 w" not in text
    assert '<span class="tag trend-no-history">no history</span>' in html


def test_the_figures_of_one_read_in_the_singular():
    """A quiet GitHub product's week: "1 tickets", "1 distinct customers" (new-user review)."""
    base = context()
    ctx = {**base, "overview": {**base["overview"], "tickets": 1, "customers": 1, "themes": 1}}
    html = report.render_html(ctx, {})
    assert "<b>1</b><span>ticket, " in html and "<b>1</b><span>distinct customer</span>" in html
    assert "<b>1</b><span>ranked theme" in html and "1 tickets" not in html


@pytest.mark.parametrize("ids, note", [
    (["a", "b", "c", "d"], ""),
    (["a", None, "c", None], "50% of tickets name no customer and count as one each"),
    ([None] * 4, "no ticket names its customer: each counts as one"),
])
def test_customer_counts_say_when_tickets_name_no_customer(ids, note):
    ctx = {**context(), "customer_note": report.customer_note(pd.Series(ids, dtype=object))}
    assert ctx["customer_note"] == note
    md, html = report.render_markdown(ctx), report.render_html(ctx, {})
    assert (f"from **33 customers** ({note})," in md) if note else ("from **33 customers**," in md)
    assert (f"distinct customers · {note}</span>" in html) if note else ("distinct customers</span>" in html)


def test_a_ranking_over_several_weeks_says_so_and_compares_like_with_like():
    ctx = context()
    ctx["themes"][0].update(ranked_weeks=3, tickets_prev_week=7)
    ctx = {**ctx, "period_note": report.period_note(WEEK, 3)}
    md, html = report.render_markdown(ctx), report.render_html(ctx, {})
    for text in (md, html):
        assert "ranked over the 3 weeks 2026-11-02 to 2026-11-16" in text
        assert "rising (12 in 3 wks vs 5.5/wk)" in text and "7 the 3 weeks before (+100%)" in text
    assert "last week" not in md.split("## Top themes")[1].split("## New patterns")[0]
    ctx["themes"][0].update(tickets_prev_week=None, wow_change=None)  # the window holds no 3 weeks before
    assert "3 weeks before" not in report.render_markdown(ctx) + report.render_html(ctx, {})
    assert report.build_context(WEEK, {"tickets": 9, "tickets_prev_week": 8}, pd.DataFrame([{
        **context()["themes"][0], "ranked_weeks": 3}]), *[pd.DataFrame(columns=["theme_id"])] * 4)["period_note"]


def test_the_top_themes_name_their_products_when_the_inbox_holds_several():
    ctx = context(products={"Acme": 9, "(none)": 3})
    md = report.render_markdown(ctx)
    assert "| # | Theme | Area | Products | Tickets |" in md and "| Cards | Acme 9 · (none) 3 | 12 |" in md
    assert "<th>Products</th>" in report.render_html(ctx, {})
    assert '<td><div class="product"><bdi>Acme</bdi> 9</div><div class="product"><bdi>(none)</bdi> 3</div></td>' in report.render_html(ctx, {})
    several = context(products={"Acme · Pro": 9, "Acme": 3})  # one product per line, a name with the separator whole
    assert '<div class="product"><bdi>Acme · Pro</bdi> 9</div><div class="product"><bdi>Acme</bdi> 3</div>' in report.render_html(several, {})
    for one in ({"Acme": 12}, {"Acme · Pro": 12}):  # one product (its name may hold the separator): no column
        assert "<th>Products</th>" not in report.render_html(context(products=one), {})


@pytest.mark.parametrize(("names", "counts", "lines"), [
    (["AppleSupport", "AmazonHelp"], [12, 3], ["AppleSupport 12", "AmazonHelp 3"]),
    (np.array(["Acme · Pro", "Acme"]), np.array([9, 3]), ["Acme · Pro 9", "Acme 3"]),  # as DuckDB reads them back
    (None, None, []),
    (float("nan"), float("nan"), []),  # a missing list in a pandas frame
])
def test_a_theme_s_products_are_one_line_each(names, counts, lines):
    assert product_lines(names, counts) == lines


def test_a_partial_week_says_so_at_the_top():
    """GitHub's bug titles end on a Monday: that week's report compares one day with whole weeks."""
    from datetime import datetime

    from ticket_intel.core.rates import CutWeek

    ctx = context()
    assert "partial" not in report.render_markdown(ctx) and "partial" not in report.render_html(ctx, {})
    ctx["partial"] = CutWeek(date(2026, 11, 16), datetime(2026, 11, 16, 23, 27), 0.14)
    for text in (report.render_markdown(ctx), report.render_html(ctx, {})):
        assert "This week is partial: the data ends Mon 2026-11-16 23:27, where a usual week has 14% of its" in text


def test_the_top_themes_show_no_area_column_when_the_taxonomy_assigns_none():
    """Every theme "Unassigned" (a taxonomy that does not describe the product): the column would only
    repeat the taxonomy note, and it pushed the table past the page's width."""
    md = report.render_markdown(context(area="Unassigned"))
    assert "| # | Theme | Tickets |" in md and "| 1 | Payment declined · card | 12 |" in md
    assert "<th>Area</th>" not in report.render_html(context(area="Unassigned"), {})
    assert "<th>Area</th>" in report.render_html(context(), {})


def test_last_week_s_ranked_themes_missing_this_week_say_why():
    """twcs' iOS "letter I" bug, a new pattern on 2017-10-30, was merged into "iOS · update" by the
    clustering the week after, and that week's report never named it: it read as solved."""
    last = pd.DataFrame({"theme_id": ["T1", "T2", "T3", "T4", "T5", "T6", "T8"],
                         "label": ["Payment declined · card", "Letter · type", "Flight · hours", "Fees", "Refunds",
                                   "Top-up pending · hour", "App dir · pages"], "tickets": [9, 8, 7, 6, 5, 5, 5]})
    ranked = pd.DataFrame({"theme_id": ["T1", "T9"]})
    events = pd.DataFrame({"theme_id": ["T2", "T3", "T6"], "event": ["merged", "faded", "merged"],
                           "related_theme_ids": [["T9"], [], ["T7"]]})
    not_a_theme = pd.DataFrame({"theme_id": ["T4", "T7"],
                                "reason": ["4 tickets from 4 customers", "marked not-a-theme by a reviewer"]})
    labels = {"T9": "iOS · update", "T7": "Top-up · pending"}
    gone = report.no_longer_ranked(last, ranked, events, not_a_theme, labels, {"T5": "T1"})
    assert [(g["theme_id"], g["why"]) for g in gone] == [
        ("T2", "its tickets went into iOS · update (T9), with which the clustering merged it"),
        ("T3", "faded: no ticket of the window holds to it any more"),
        ("T4", "not ranked this week: 4 tickets from 4 customers"),
        ("T5", "merged into T1 by a reviewer"),
        # the sample's 2026-11-16 report sent the reader looking for a theme a reviewer had dismissed
        ("T6", "its tickets went into Top-up · pending (T7, not ranked: marked not-a-theme by a reviewer), "
               "with which the clustering merged it"),
        # Next.js' 2023-09-18 report: a theme that continued, with no issue that week, said no why
        ("T8", "no ticket this week (5 last week)")]
    ctx = {**context(), "no_longer_ranked": gone}
    md, html = report.render_markdown(ctx), report.render_html(ctx, {})
    assert "Ranked last week, not this week:\n\n- **Letter · type** (`T2`): its tickets went into iOS · update (T9)" in md
    assert "<li><b><bdi>Letter · type</bdi></b> <code class=\"tid\">T2</code>: its tickets went into" in html
    assert "Ranked last week" not in report.render_markdown(context())
    empty = {**ctx, "themes": [], "more_cards": [], "more_themes": 0}  # a week that ranks nothing says it too
    assert "No themes ranked this week.\n\nRanked last week, not this week:" in report.render_markdown(empty)
    assert "<b>Ranked last week, not this week:</b>" in report.render_html(empty, {})


def test_a_new_pattern_says_how_many_of_its_tickets_came_before_it_formed():
    """twcs' "Package · delivery", new on 2017-11-27 with 8 tickets, had 1-3 a week in the weeks before;
    the report said only "first seen this week", beside a chart of its earlier weeks."""
    patterns = [{"theme_id": "T1", "kind": "new_pattern", "label": "Package · delivery", "tickets": 8, "customers": 8,
                 "began_before": False}, {"theme_id": "T2", "kind": "new_pattern", "label": "Letter", "tickets": 11,
                                          "customers": 11, "began_before": False}]
    got = report.with_earlier_tickets(patterns, {"T1": [1, 1, 2, 3, 3, 1, 3], "T2": [0, 0, 0]})
    assert [(g["earlier"], g["most"]) for g in got] == [(14, 3), (0, 0)]
    md = report.render_markdown({**context(), "new_patterns": got})
    assert "8 tickets from 8 customers, first seen this week (14 of its tickets came in the weeks before, at most 3 a week)." in md
    assert "11 tickets from 11 customers, first seen this week." in md
    assert "(14 of its tickets came in the weeks before" in report.render_html({**context(), "new_patterns": got}, {})


def test_no_paid_share_is_shown_when_no_customer_s_plan_is_known():
    """twcs and GitHub know no plan: every theme read "– paid" and the table had a column of dashes."""
    md, html = report.render_markdown(context(paid=None)), report.render_html(context(paid=None), {})
    assert "| Trend | Severity |" in md and "rising (12 vs 5.5/wk) | P1 |" in md
    assert "paid" not in html.lower() and "<th class=\"n\">Paid</th>" in report.render_html(context(), {})


def test_the_paid_share_says_its_base_the_customers_whose_plan_is_known():
    """"75%" paid was 3 of the 4 customers with a known plan, of 7 customers: the base was nowhere."""
    ctx = context(paid=0.75)
    ctx["themes"][0]["plan_known_customers"] = 4
    md, html = report.render_markdown(ctx), report.render_html(ctx, {})
    assert "| rising (12 vs 5.5/wk) | 75% of 4 | P1 |" in md
    assert "75% paid (3 of 4 customers with a known plan)" in html and '<td class="n">75% of 4</td>' in html


def test_the_headline_counts_tickets_in_themes_not_ranked_beside_those_in_none():
    """"2 ranked themes · 10 tickets in no theme" read as if the rest were ranked, while 20 more were in
    themes too small to rank; a week ranked before the overview counted them says what it did."""
    counted = context()
    counted["overview"] = {**counted["overview"], "ranked_tickets": 12}
    counted["holding"] = report.holding_text(counted["overview"], 1, 12)
    md, html = report.render_markdown(counted), report.render_html(counted, {})
    assert "1 ranked theme holding 12 tickets · 26 in themes not ranked · 2 tickets in no theme" in md
    assert "<b>1</b><span>ranked theme holding 12 tickets · 26 in themes not ranked · 2 tickets in no theme" in html
    assert report._unranked({"tickets": 40, "ranked_tickets": 38, "outlier_tickets": 2}) == 0
    assert "1 ranked theme · 2 tickets in no theme" in report.render_markdown(context())  # ranked before: as it was


def test_a_headline_over_several_weeks_counts_what_the_table_counts_and_says_which_span():
    """A one-ticket week ranked over 2 weeks read "2 ranked themes holding 0 tickets" above a table of
    12 and 11 tickets: the headline counted the week, the table the weeks ranked."""
    overview = {"tickets": 1, "customers": 1, "tickets_prev_week": 78, "themes": 2, "outlier_tickets": 1,
                "ranked_tickets": 0, "warning": None}
    themes = pd.DataFrame([{**context()["themes"][0], "theme_id": t, "tickets": n, "ranked_weeks": 2}
                           for t, n in (("T1", 12), ("T2", 11))]).drop(columns=["examples", "phrasings"])
    empty = pd.DataFrame(columns=["theme_id"])
    ctx = report.build_context(WEEK, overview, themes, empty, pd.DataFrame(context()["not_a_theme"]), empty, empty)
    md, html = report.render_markdown(ctx), report.render_html(ctx, {})
    held = ("holding 23 tickets over the 2 weeks ranked, 0 of them this week · 1 ticket in no theme this week")
    assert f"· 2 ranked themes {held} ·" in md and f"ranked themes {held}</span>" in html
    assert "| Tickets (2 wks) | Customers (2 wks) |" in md
    assert html.count('<th class="n">Tickets (2 wks)</th><th class="n">Customers (2 wks)</th>') == 2  # Not a theme's too
    assert report.holding_text(overview, 1, 0) == " holding 0 tickets · 1 ticket in no theme"


def test_each_card_says_who_wrote_its_summary():
    assert "Summary extracted from the tickets (no LLM)" in report.render_html(context(), {})
    assert "\n- Summary extracted from the tickets (no LLM)\n" in report.render_markdown(context())  # not "Summary: Summary ..."
    written = context(summarizer="llm:openai/gpt-4o-mini")
    for page in (report.render_html(written, {}), report.render_markdown(written)):
        assert "Summary written by openai/gpt-4o-mini (LLM)" in page


@pytest.mark.parametrize(("share", "loose"), [(0.2, True), (0.9, False), (None, False)])
def test_a_loose_theme_says_its_label_names_a_minority_of_its_tickets(share, loose):
    page = context(described_share=share)
    for text in (report.render_html(page, {}), report.render_markdown(page)):
        assert ("A loose theme: its leading words (payment declined, card, checkout) are in 20% of its tickets"
                in text) is loose
    # the top table says why a loose theme ranks below themes of lower impact (its card is further down)
    assert (f"card</bdi></a><div class=\"muted\">{report.LOOSE_RANK}</div></td>" in report.render_html(page, {})) is loose
    assert (f"| 1 | Payment declined · card ({report.LOOSE_RANK}) |" in report.render_markdown(page)) is loose


def test_markdown_escapes_ticket_and_label_text():
    md = report.render_markdown(context(ticket_text=XSS + " [click](http://evil.example)", label="| **x** <b>"))
    assert not re.search(r"(?<!\\)<", md), "every < is escaped"
    assert "\\<script\\>" in md and "\\[click\\](`http://evil.example`)" in md
    assert "\\| \\*\\*x\\*\\* \\<b\\>" in md


def test_markdown_shows_urls_and_addresses_as_text_not_links():
    """GFM links `www.x`, `https://x` and `a@b.c` in the text as read, after unescaping (remark-gfm, the
    Dagster UI's renderer): a label renamed 'Refund via www.evil-login.example' gave 12 live links there.
    A code span shows them as text; it ends at a `|`, which would end a table's cell inside one too."""
    text = "Refund via www.evil-login.example | urgent HTTPS://evil.example/x?a=1 or mail help@evil.example"
    assert report.md_escape(text) == ("Refund via `www.evil-login.example` \\| urgent `HTTPS://evil.example/x?a=1` "
                                      "or mail `help@evil.example`")
    assert report.md_escape("see https://a.example/x|y_z") == "see `https://a.example/x`\\|y\\_z"
    assert report.md_escape("http.client, www, a@b") == "http.client, www, a@b"  # no address: plain text
    # a tweet quoted in curly quotes: the closing quote stays outside the span (it read `https://t.co/x”`)
    assert report.md_escape("“my bill https://t.co/CCVzslFAKb”") == "“my bill `https://t.co/CCVzslFAKb`”"


def test_markdown_shows_ticket_and_customer_ids_verbatim():
    """Ids come from the helpdesk and the customer: an id ``I-823`|[y](javascript:alert(2))`` written
    into `[id](url)` and a code span made a live link in the Dagster UI. Escaped as any text, with the
    id percent-encoded in the helpdesk URL."""
    bad = "I-823`|[y](javascript:alert(2))"
    tickets = pd.DataFrame({"ticket_id": [f"x:{bad}"], "text": ["t"], "source_id": [bad]})
    escaped = "x:I-823\\`\\|\\[y\\](javascript:alert(2))"
    for url, line in (("https://h.example/t/{source_id}",
                       f"  - [{escaped}](https://h.example/t/I-823%60%7C%5By%5D%28javascript%3Aalert%282%29%29) t"),
                      ("", f"  - {escaped} t")):
        ctx = context()
        ctx["themes"][0]["examples"] = [report.example_maker(tickets, url)(f"x:{bad}")]
        assert f"\n{line}\n" in report.render_markdown(ctx)


def test_html_escapes_ticket_text_and_allows_no_script():
    html = report.render_html(context(ticket_text=XSS, label=XSS), {})
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;document.title=&#39;pwned&#39;" in html
    assert "default-src 'none'" in html  # and the page may not run any script anyway


def test_html_links_examples_to_the_helpdesk_when_configured():
    ctx = context()
    assert 'href="#ticket-zendesk-1"' in report.render_html(ctx, {})
    ranked_ctx = report.build_context(
        WEEK, ctx["overview"], pd.DataFrame([{**ctx["themes"][0]}]).drop(columns=["examples", "phrasings"]),
        pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
        pd.DataFrame({"ticket_id": ["zendesk:1"], "text": ["t"], "source_id": ["1"]}),
        "https://acme.zendesk.com/agent/tickets/{source_id}",
    )
    assert 'href="https://acme.zendesk.com/agent/tickets/1"' in report.render_html(ranked_ctx, {})


def test_a_small_week_shows_its_warning():
    ctx = report.build_context(
        WEEK, {"tickets": 12, "customers": 9, "tickets_prev_week": 0, "themes": 0, "outlier_tickets": 0,
               "warning": "only 12 tickets this week"}, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
        pd.DataFrame(),
    )
    assert "only 12 tickets this week" in report.render_markdown(ctx)
    html = report.render_html(ctx, {})
    assert "only 12 tickets this week" in html and "No themes ranked this week." in html


def test_a_week_with_groups_but_none_ranked_says_why_and_which_setting_to_lower():
    """A Next.js week of 32 bug titles fell into 11 groups of 1-4: the report said only "No themes
    ranked this week." above a table far below."""
    overview = {"tickets": 32, "customers": 29, "tickets_prev_week": 24, "themes": 0, "outlier_tickets": 4, "warning": None}
    groups = pd.DataFrame([{"theme_id": f"T{i}", "label": f"Group {i}", "tickets": 4, "customers": 4, "ticket_ids": ["x"],
                            "reason": "4 tickets from 4 customers (a theme needs 5 tickets from 3 customers)"} for i in (1, 2)]
                          + [{"theme_id": "outliers", "label": "Unclustered tickets", "tickets": 4, "customers": 4,
                              "ticket_ids": ["y"], "reason": "outliers: not close enough to any theme"}])
    for render in (report.render_markdown, lambda c: report.render_html(c, {})):
        text = render(report.build_context(WEEK, overview, pd.DataFrame(), pd.DataFrame(), groups, pd.DataFrame(),
                                           pd.DataFrame()))
        assert "2 groups of this week's tickets are not ranked" in text and "TICKET_INTEL_MIN_THEME_TICKETS" in text
        only_outliers = render(report.build_context(WEEK, overview, pd.DataFrame(), pd.DataFrame(), groups.tail(1),
                                                    pd.DataFrame(), pd.DataFrame()))
        assert "No themes ranked this week." in only_outliers and "TICKET_INTEL_MIN_THEME_TICKETS" not in only_outliers
        # Tickets in no theme for their language or product are no group a lower threshold would rank
        # (twcs' 2017-10-02: "5 groups ... are not ranked" over 6 such rows).
        unthemed = pd.DataFrame([{**groups.iloc[2].to_dict(), "theme_id": t} for t in ("unclaimed", "language:fr")])
        no_group = render(report.build_context(WEEK, overview, pd.DataFrame(), pd.DataFrame(), unthemed,
                                               pd.DataFrame(), pd.DataFrame()))
        assert "groups of this week" not in no_group and "TICKET_INTEL_MIN_THEME_TICKETS" not in no_group
        # A week below the week's minimum: its groups are unranked for that, not for their size (Swift's 2 titles).
        # The warning names the fix, and the report says it once (it said it twice, the products never).
        small = {**overview, "tickets": 2, "warning": "only 2 tickets this week (fewer than 30; by product: tf 2): too "
                 "few to rank themes; TICKET_INTEL_MIN_WEEK_TICKETS=2, or a longer TICKET_INTEL_WINDOW_WEEKS (now 8), "
                 "ranks them"}
        week_too_small = render(report.build_context(WEEK, small, pd.DataFrame(), pd.DataFrame(), groups,
                                                     pd.DataFrame(), pd.DataFrame()))
        said = week_too_small.replace("\\_", "_")  # Markdown escapes the underscores
        assert said.count("TICKET_INTEL_MIN_WEEK_TICKETS") == 1 and "by product: tf 2" in said
        assert "TICKET_INTEL_MIN_THEME_TICKETS" not in week_too_small


def test_charts_are_embedded_pngs():
    weeks = [pd.Timestamp(2026, 11, d).date() for d in (2, 9, 16)]
    counts = pd.DataFrame([[3, 5, 12], [4, 4, 5]], index=["T1", "T2"], columns=weeks)
    images = report.charts(counts, pd.Series([20, 22, 40], index=weeks), {"T1": "Payment declined", "T2": "PIN"},
                           {"T1": weeks[2]})
    assert set(images) == {"volume", "trend"}
    for uri in images.values():
        assert uri.startswith("data:image/png;base64,iVBOR")
    assert 'src="data:image/png;base64,' in report.render_html(context(), images)


def test_chart_series_differ_by_more_than_colour_and_none_is_the_grey_of_the_rest():
    """tab10's 8th colour is grey, the grey the caption gives "everything else", and the series
    differed by colour alone (WCAG 1.4.1): each has its own colour and hatch now."""
    colours, hatches = zip(*report.SERIES, strict=True)
    assert len(set(colours)) == len(set(hatches)) == report.CHART_THEMES == 8
    for colour in colours:
        r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
        assert max(r, g, b) - min(r, g, b) > 40 or max(r, g, b) < 40, f"{colour} is a grey"


def test_the_charts_numbers_are_in_a_table_and_their_alt_text():
    """The alt text ("Weekly volume of the top themes") gave none of the data, nor did any text."""
    weeks = [pd.Timestamp(2026, 11, d).date() for d in (2, 9, 16)]
    counts = pd.DataFrame([[3, 5, 12], [4, 4, 5]], index=["T1", "T2"], columns=weeks)
    table = report.chart_table(counts, pd.Series([20, 22, 40], index=weeks), {"T1": "Payment declined"})
    assert table == {"weeks": ["2 Nov", "9 Nov", "16 Nov"], "other": [13, 13, 23], "total": [20, 22, 40],
                     "rows": [{"theme_id": "T1", "label": "Payment declined", "counts": [3, 5, 12]},
                              {"theme_id": "T2", "label": "T2", "counts": [4, 4, 5]}]}
    html = report.render_html({**context(), "chart_table": table}, {"volume": "data:,", "trend": "data:,"})
    assert 'alt="Stacked bars of tickets per week, 2 Nov to 16 Nov: 40 this week, 2 top themes' in html
    assert ('<tr><td class="theme"><bdi>Payment declined</bdi></td><td class="n">3</td><td class="n">5</td>'
            '<td class="n">12</td></tr>') in html
    assert '<th scope="row">all tickets</th><td class="n">20</td>' in html


def test_charts_draw_non_latin_labels_in_an_installed_font_and_warn_of_nothing():
    """Chinese, Japanese and emoji labels were boxes (DejaVu Sans only), and `review rename` printed
    166 "Glyph … missing" warnings. Fonts not installed stay off the list (each logged a warning)."""
    assert report.chart_fonts(["Liberation Sans", "Symbola", "WenQuanYi Zen Hei", "DejaVu Sans"]) == [
        "DejaVu Sans", "WenQuanYi Zen Hei", "Symbola"]
    weeks = [pd.Timestamp(2026, 11, d).date() for d in (9, 16)]
    counts = pd.DataFrame([[3, 5], [1, 2]], index=["T1", "T2"], columns=weeks)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report.charts(counts, pd.Series([9, 9], index=weeks), {"T1": "应用崩溃 · 卡片页 💥", "T2": "カード 🏳️‍🌈"}, {})
    assert report._title("カードが凍結された · 支払いできない") == "カードが凍結された ·\n支払いできない"  # 2 columns each


def test_charts_begin_with_the_first_week_that_holds_tickets():
    """An undated export placed in one week, or a warehouse's first weeks: no weeks of zero before."""
    weeks = [pd.Timestamp(2026, 11, d).date() for d in (2, 9, 16)]
    counts = pd.DataFrame([[0, 5, 12], [0, 0, 5]], index=["T1", "T2"], columns=weeks)
    assert list(report.since_first_tickets(counts, pd.Series([9, 22], index=weeks[1:])).columns) == weeks[1:]
    assert list(report.since_first_tickets(counts, pd.Series([0, 0, 40], index=weeks)).columns) == weeks[2:]
    one = report.charts(counts[weeks[2:]], pd.Series([40], index=weeks[2:]), {}, {})
    assert set(one) == {"volume"}  # one week: no trend to draw
    html = report.render_html(context(), one)
    assert "Stacked bars of tickets per week" in html and "A line per top theme" not in html


def test_the_trend_chart_greys_the_weeks_before_a_theme_was_found():
    """A theme found this week may hold earlier tickets; the chart must not show them as its own weeks."""
    weeks = [pd.Timestamp(2026, 11, d).date() for d in (2, 9, 16)]
    assert report.first_week(weeks, weeks[2]) == 2
    assert report.first_week(weeks, None) == report.first_week(weeks, weeks[0] - pd.Timedelta(weeks=3)) == 0
    assert report.first_week(weeks, pd.Timestamp(2026, 11, 10).date()) == 2  # mid-week: the next week's
    counts = pd.DataFrame([[3, 5, 12]], index=["T1"], columns=weeks)
    born = report.charts(counts, pd.Series([20, 22, 40], index=weeks), {}, {"T1": weeks[2]})["trend"]
    assert born != report.charts(counts, pd.Series([20, 22, 40], index=weeks), {}, {})["trend"]


def _css(html: str) -> str:
    return html.split("<style>")[1].split("</style>")[0]


def _contrast(fore: str, back: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    def luminance(colour: str) -> float:
        c = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    light, dark = sorted((luminance(fore), luminance(back)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_top_themes_table_fits_with_impact_beside_the_theme():
    """15 columns never fit: Impact, the ranking key, was cut off at 1300 px, 2560 px and in print.
    It follows the theme now, and the four mood figures share one cell (12 columns at most)."""
    html = report.render_html(context(products={"Acme": 9, "(none)": 3}), {})
    head = re.search(r"<thead>(.*?)</thead>", html).group(1)
    assert re.findall(r"<th[^>]*>([^<]*)</th>", head) == [
        "#", "Theme", "Impact", "Tickets", "Customers", "Trend", "Paid", "Severity", "Signal", "Customers' mood",
        "Area", "Products"]
    assert "sentiment –<br>– frustrated<br>– escalation signal<br>– at churn risk</td>" in html


def test_no_word_widens_the_page_and_every_table_scrolls_in_place():
    """A 194-character word made the page 2,797 px wide at 1300 px, and at 390 px the card facts,
    the trend tag and two unwrapped tables widened it to 903 px."""
    html = report.render_html(context(), {})
    css = _css(html)
    assert "h3, td.theme, li, blockquote, .backlog, .ticket, .facts, code { overflow-wrap: anywhere; }" in css
    assert "overflow-wrap: break-word" in re.search(r"\n  body \{[^}]*\}", css).group(0)
    for rule in (".facts", ".tag"):
        assert "nowrap" not in re.search(rf"\n  {re.escape(rule)} \{{[^}}]*\}}", css).group(0)
    assert "flex-wrap: wrap" in re.search(r"\.card header \{[^}]*\}", css).group(0)
    tables = html.count("<table>")
    assert tables and html.count('<div class="scroll" tabindex="0" role="region" aria-label="') == tables


def test_print_keeps_collapsed_cards_and_lists_and_avoids_splitting_cards():
    """Printing dropped 12 of the demo's 22 ranked-theme cards (closed <details>) and every ticket-id
    list; cards split across pages. No script may run (CSP), so CSS opens them on paper."""
    css = _css(report.render_html(context(), {}))
    printed = css.split("@media print {")[1]
    assert "details::details-content { content-visibility: visible; }" in printed
    assert ".scroll { overflow: visible; }" in printed and ".card, figure" in printed and "break-inside: avoid" in printed


def test_links_meet_aa_contrast_and_example_links_are_24_px_targets():
    """#2f6fde on the page's #f5f7fa is 4.39:1, below AA's 4.5:1 (axe: 28 links in the demo); example
    ticket links were 16 px high on a 21 px line pitch (WCAG 2.2 target size)."""
    css = _css(report.render_html(context(), {}))
    colour = dict(re.findall(r"--(\w+):(#[0-9a-f]{6})", css))
    for back in (colour["bg"], "#ffffff", "#eef1f5"):  # the page, a card, a table's header
        assert _contrast(colour["accent"], back) >= 4.5
    assert "line-height: 24px" in re.search(r"ul\.examples \{[^}]*\}", css).group(0)
    assert "a:hover, p a, li a, .ticket a { text-decoration: underline; }" in css  # 2.65:1 to the text beside


def test_customer_strings_keep_their_own_direction():
    """An Arabic label "التحويل لم يصل (3 أيام)" showed its parentheses misplaced, and a product's
    count went to the wrong side of its Arabic name: each such string is isolated (<bdi>, dir=auto)."""
    label, ticket = "التحويل لم يصل (3 أيام)", "\u202eexe.live"
    html = report.render_html(context(label=label, ticket_text=ticket, products={"تطبيق البنك": 7, "Acme": 2}), {})
    assert f"<h3>1. <bdi>{label}</bdi></h3>" in html and f'<a href="#T1"><bdi>{label}</bdi></a>' in html
    assert " · <bdi>تطبيق البنك</bdi> 7 · <bdi>Acme</bdi> 2</span>" in html
    assert f'<blockquote dir="auto">{ticket}</blockquote>' in html and f'<div dir="auto">{ticket}</div>' in html


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_script_in_a_ticket_does_not_run_in_a_browser(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(report.render_html(context(ticket_text=XSS, label=XSS), {}), encoding="utf-8")
    dom = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    assert "<title>Support themes — week of 2026-11-16</title>" in dom
    assert "pwned" not in re.sub(r"&lt;script&gt;.*?&lt;/script&gt;|onerror=\"[^\"]*\"|&lt;img[^&]*&gt;", "", dom)
    assert "<script" not in dom and "<img src=\"x\"" not in dom
    assert "&lt;script&gt;document.title='pwned'" in dom  # shown as text


# --------------------------------------------------------------------------- the sample's real report

@pytest.mark.e2e
def test_sample_report_is_self_contained_and_previewed_in_dagster(sample_copy):
    import dagster as dg
    import duckdb

    with duckdb.connect(str(sample_copy.warehouse), read_only=True) as con:
        row = con.execute("SELECT markdown, html_path FROM marts.weekly_reports WHERE week_start = ?",
                          [sample_copy.end]).fetchone()
    markdown, path = row[0], Path(row[1])
    page = path.read_text(encoding="utf-8")
    assert markdown == path.with_suffix(".md").read_text(encoding="utf-8")
    # the sample has a help center: its Documentation section replaces the signal-type gaps list
    for section in [s for s in SECTIONS if s != "Documentation gaps"] + CLOSING_SECTIONS:
        assert f"## {section}" in markdown and f"<h2>{section}</h2>" in page
    assert page.count('src="data:image/png;base64,') == 2
    # it loads nothing; links out (help-center articles) are only links
    assert not re.search(r"""src=["']?(https?:|//)""", page), "the report must not load anything"
    assert "<script" not in page and "<link" not in page

    # The sample's weeks ran as one range: each week's materialization names its own report by path and
    # hash, never its text (an alert links to its week's), and its raw_tickets event counts that week's
    # tickets, not the run's.
    with duckdb.connect(str(sample_copy.warehouse), read_only=True) as con:
        reports = dict(con.execute("SELECT week_start::VARCHAR, markdown FROM marts.weekly_reports").fetchall())
        tickets = dict(con.execute("SELECT week_start::VARCHAR, count(*) FROM raw.tickets GROUP BY 1").fetchall())
    assert len(reports) > 1 and reports[sample_copy.end] == markdown
    # the command it suggests reads this warehouse, not the default one (the auditor's twcs report
    # sent `export --customers` to the demo's)
    hints = [line for line in markdown.splitlines() if "export --customers --theme" in line]
    assert hints and all("--warehouse " in line and "warehouse.duckdb" in line for line in hints)

    def latest(asset: str, week: str) -> dict:
        found = dg.DagsterInstance.get().fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[week]), limit=1).records
        return found[0].asset_materialization.metadata

    for week, text in reports.items():
        metadata = latest("weekly_report", week)
        assert "report" not in metadata and metadata["report_week"].value == week
        assert metadata["markdown_sha256"].value == hashlib.sha256(text.encode()).hexdigest()
        assert Path(metadata["markdown"].value).read_text(encoding="utf-8") == text
        assert latest("raw_tickets", week)["tickets"].value == tickets[week]


def test_every_ranked_theme_gets_a_card_and_those_below_the_top_ten_are_collapsed():
    base = context()
    rows = [{**base["themes"][0], "rank": k, "theme_id": f"T{k}", "label": f"theme {k}"} for k in range(1, 14)]
    ranked = pd.DataFrame(rows).drop(columns=["phrasings", "severity_rationale", "backlog_title",
                                              "backlog_deflection", "backlog_user_story", "summarizer", "examples",
                                              "notes"], errors="ignore")
    ctx = report.build_context(WEEK, base["overview"], ranked, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
                               pd.DataFrame(columns=["ticket_id", "text", "source_id"]))
    html = report.render_html(ctx, {})
    top, _, collapsed = html.partition('<details class="more">')
    assert all(f'id="T{k}"' in top for k in range(1, 11))
    assert all(f'id="T{k}"' in collapsed and f'id="T{k}"' not in top for k in range(11, 14))
    assert "3 more ranked themes" in collapsed
    assert "### More ranked themes" in report.render_markdown(ctx)


def test_a_last_week_count_restated_by_this_week_s_clustering_says_what_last_week_s_report_showed():
    """twcs' iPhone theme: 10 in the 2017-11-20 report, "9 last week" in the next, with no word of why."""
    last = pd.DataFrame([{"theme_id": "T1", "tickets": 10, "ranked_weeks": 1},
                         {"theme_id": "T2", "tickets": 10, "ranked_weeks": 1},
                         {"theme_id": "T3", "tickets": 30, "ranked_weeks": 3}])
    now = pd.DataFrame([{"theme_id": t, "tickets": 14, "tickets_prev_week": p, "wow_change": change(14, 1, p, 1),
                         "ranked_weeks": 1} for t, p in (("T1", 12), ("T2", 10), ("T3", 8), ("T4", 2), ("T5", 9))])
    last = pd.concat([last, pd.DataFrame([{"theme_id": "T5", "tickets": 10, "ranked_weeks": 1}])])
    shown = {r["theme_id"]: report.before_text(r) for r in report.with_reported_last_week(now, last).to_dict("records")}
    assert shown["T1"] == "12 last week (+17%; 10 in last week's report)"
    assert shown["T2"] == "10 last week (+40%)"  # the same count: nothing to say
    assert shown["T3"] == "8 last week" and shown["T4"] == "2 last week"  # ranked over 3 weeks; new
    assert shown["T5"] == "9 last week (10 in last week's report)"  # too few for a percentage (`rank.change`)


def test_a_change_on_a_base_of_a_few_tickets_shows_the_counts_not_a_percentage():
    """twcs 2017-11-27: "steady (6 vs 6.8/wk), 1 last week (+500%)"; 2017-10-02's header "+2080% vs 5
    last week". Under 10 tickets the base alone is uncertain by more than +-63% (`rank.MIN_CHANGE_BASE`)."""
    assert change(6, 1, 1, 1) is None and change(109, 1, 5, 1) is None and change(12, 1, None, 1) is None
    assert change(15, 1, 10, 1) == pytest.approx(0.5) and change(30, 3, 40, 4) == pytest.approx(0.0)
    ctx = context(prev_week=5)
    ctx["themes"][0].update(tickets_prev_week=1, wow_change=None)
    md, html = report.render_markdown(ctx), report.render_html(ctx, {})
    assert "from **33 customers**, 5 last week ·" in md and "tickets, 5 last week</span>" in html
    assert "rising (12 vs 5.5/wk), 1 last week, the last 4 weeks +50% on the 4 before" in md
    assert "rising (12 vs 5.5/wk); 1 last week, the last 4 wks +50% on the 4 before" in html


def test_both_reports_say_which_days_the_week_is_with_the_year_across_new_year():
    """Time review: the Markdown report said only "week of 2026-12-28", the HTML one "Mon 28 Dec – Sun
    3 Jan 2027" (which December?)."""
    from ticket_intel.core.report import week_span

    assert week_span(date(2026, 11, 23)) == "Mon 23 Nov – Sun 29 Nov 2026 (UTC)"
    assert week_span(date(2026, 12, 28)) == "Mon 28 Dec 2026 – Sun 3 Jan 2027 (UTC)"


def test_a_report_written_again_says_it_was_revised_since_when_and_with_how_many_tickets():
    """Time review: late tickets re-ran a past week, and its report went from 40 tickets "+0%" to 70
    "+75%" with no word that it had changed. The same tickets written again (a resumed run, other
    settings) say nothing: the re-verification found "Revised" on weeks of 48 -> 48 tickets."""
    from datetime import datetime

    from ticket_intel.core.report import revision

    first = revision(None, datetime(2026, 11, 16, 6, 5), 40)
    assert first["revised"] is None and (first["first_written_at"], first["first_tickets"]) == (datetime(2026, 11, 16, 6, 5), 40)
    stored = {k: v for k, v in first.items() if k != "revised"}
    again = revision(stored, datetime(2026, 11, 30, 6, 5), 70)
    assert (again["first_written_at"], again["first_tickets"], again["tickets"]) == (datetime(2026, 11, 16, 6, 5), 40, 70)
    assert again["revised"] == ("Revised: this week's report was first written on 2026-11-16 06:05 UTC with 40 tickets; "
                                "this version (2026-11-30 06:05 UTC) holds 70: late or changed tickets.")
    assert "> Revised: this week's report" in report.render_markdown({**context(), "revised": again["revised"]})
    assert revision(stored, datetime(2026, 11, 30, 6, 5), 40)["revised"] is None
    older = revision({"first_written_at": None, "first_tickets": None, "written_at": None, "tickets": None},
                     datetime(2026, 11, 30, 6, 5), 70)  # stored before the warehouse kept these: first now
    assert older["revised"] is None and older["first_tickets"] == 70


def test_a_week_mostly_in_languages_the_model_does_not_read_says_so_at_the_top():
    """A reviewer's week three quarters German, French and Spanish read only "No themes ranked this
    week" (the per-language rows sat in the not-a-theme list), and another suggested fewer tickets per
    theme, the wrong lever."""
    rows = pd.DataFrame([{"theme_id": f"language:{code}", "tickets": n} for code, n in (("fr", 6), ("de", 24))])
    note, mostly = report.language_note(rows, 40)
    assert note.startswith("75% of this week's tickets (German 24, French 6) are in languages the embedding model")
    assert mostly and "TICKET_INTEL_EMBEDDING_MODEL" in note
    assert report.language_note(rows.head(1), 40)[1] is False  # 15%: said, not a warning
    assert report.language_note(rows.iloc[0:0], 40) == ("", False)
    ctx = {**context(), "language_note": note, "mostly_unread": mostly}
    assert f"> ⚠️ {note}" in report.render_markdown(ctx)
    page = report.render_html(ctx, {})
    assert '<div class="warn">⚠️ 75% of this week' in page and "(German 24, French 6)" in page
    empty = {**ctx, "themes": [], "more_cards": [], "more_themes": 0, "groups_not_ranked": 3}
    # no theme ranked: the languages are why, not a floor a small queue would lower
    assert "No themes ranked this week. Most of it is in languages" in report.render_markdown(empty)
    assert "TICKET_INTEL_MIN_THEME_TICKETS" not in report.render_html(empty, {})
