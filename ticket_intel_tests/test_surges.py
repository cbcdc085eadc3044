"""A surge of the whole queue is one alert naming the spikes that rose with it (core/surges.py)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from ticket_intel.core import anomalies, families, notify, report
from ticket_intel.core.context import make_context
from ticket_intel.core.review import ReviewState
from ticket_intel_tests.test_families import context, ranked, window, wk
from ticket_intel_tests.test_report import WEEK
from ticket_intel_tests.test_report import context as report_context


def queue(factor: float, themes: int = 5, rate: int = 8, rest: int = 40) -> dict[str, dict[int, int]]:
    """`themes` themes of `rate` a week and `rest` tickets of other steady themes, all `factor` times their
    size in week 7 (Swift's WWDC week: 55 issues against 14-27, every theme with it)."""
    counts = {f"T{i}": {**dict.fromkeys(range(1, 7), rate), 7: round(rate * factor)} for i in range(themes)}
    return {**counts, "Q": {**dict.fromkeys(range(1, 7), rest), 7: round(rest * factor)}}


def run(counts: dict[str, dict[int, int]]) -> list[dict[str, object]]:
    frame = window(counts)
    return families.detect(context(frame, wk(7)), ranked(frame, wk(7)))


def by_kind(alerts: list[dict[str, object]], kind: str) -> list[dict[str, object]]:
    return [a for a in alerts if a["kind"] == kind]


def test_a_week_whose_whole_queue_surged_raises_one_surge_alert_naming_the_spikes_that_rose_with_it():
    alerts = run(queue(2.2))
    [surge] = by_kind(alerts, anomalies.QUEUE_SURGE)
    assert surge["alert_key"] == f"queue|{wk(7).isoformat()}|queue_surge" and surge["theme_id"] is None
    assert (surge["tickets"], surge["baseline"]) == (88 + 5 * 18, 80.0)
    spikes = by_kind(alerts, anomalies.SPIKE)
    assert sorted(a["theme_id"] for a in spikes) == ["Q", *(f"T{i}" for i in range(5))]  # reported, as before
    assert all(a["with_queue"] for a in spikes)
    assert surge["related_theme_ids"] == ["Q", *(f"T{i}" for i in range(5))]  # the largest first
    assert surge["related_tickets"] == [88, *[18] * 5]
    assert run(queue(2.2)) == alerts  # recomputing the week yields the same keys and rows


def test_a_spike_that_rose_with_the_queue_is_not_paged_but_its_surge_is():
    alerts = run(queue(2.2))
    spikes, surges = notify.Outbox(), notify.Outbox()
    spikes.add(alerts, anomalies.SPIKE)
    surges.add(alerts, anomalies.QUEUE_SURGE)
    assert spikes.pending == {} and list(surges.pending) == [f"queue|{wk(7).isoformat()}|queue_surge"]


def test_a_surge_that_continues_last_week_s_is_reported_but_not_paged_again():
    """Swift's WWDC: 55 issues in the week of 2024-06-10 and 44 the next, against about 20 a week."""
    counts = {t: {**weeks, 6: weeks[7]} for t, weeks in queue(2.2).items()}
    [surge] = by_kind(run(counts), anomalies.QUEUE_SURGE)
    assert surge["since"] == wk(6) and anomalies.continuing(surge)
    box = notify.Outbox(sent={anomalies.surge_key("", wk(6))})
    box.add([surge], anomalies.QUEUE_SURGE)
    assert box.pending == {}
    assert notify.describe(surge).startswith(
        f"Queue surge: the whole queue is still 2.2x its usual volume, since the week of {wk(6)}, in the week of")


def test_a_theme_that_rose_far_beyond_the_queue_still_pages_on_its_own():
    counts = {**queue(2.2), "S": {**dict.fromkeys(range(1, 7), 8), 7: 60}}
    alerts = run(counts)
    [surge] = by_kind(alerts, anomalies.QUEUE_SURGE)
    [own] = [a for a in by_kind(alerts, anomalies.SPIKE) if not a["with_queue"]]
    assert own["theme_id"] == "S" and "S" not in surge["related_theme_ids"]
    box = notify.Outbox()
    box.add(alerts, anomalies.SPIKE)
    assert [a["alert"]["theme_id"] for a in box.pending.values()] == ["S"]


def test_a_week_whose_queue_did_not_surge_pages_its_spikes_as_before():
    """The queue 1.3x its usual size is within its noise: no surge, and the spike of a theme that grew
    2.5x pages as it always did."""
    counts = {**queue(1.3), "S": {**dict.fromkeys(range(1, 7), 8), 7: 20}}
    alerts = run(counts)
    assert [(a["kind"], a["theme_id"], a["with_queue"]) for a in alerts] == [(anomalies.SPIKE, "S", False)]


def test_a_surge_that_is_one_theme_s_own_spike_is_no_surge():
    """An outage of one feature can double a small queue by itself: its spike pages, and the queue less
    it did not surge, so there is no surge alert to tell it in."""
    counts = {"T": {**dict.fromkeys(range(1, 7), 10), 7: 90}, "Q": dict.fromkeys(range(1, 8), 40)}
    alerts = run(counts)
    assert [(a["kind"], a["theme_id"], a["with_queue"]) for a in alerts] == [(anomalies.SPIKE, "T", False)]


def test_a_new_pattern_that_swells_the_queue_is_no_surge():
    """PowerToys 2024-09-02: 102 titles against 39.5 a week, 43 of them the new Workspaces module, which
    pages as a new pattern; the queue less it held steady."""
    counts = {**queue(1.0), "W": {7: 60}}
    frame = window(counts)
    alerts = families.detect(context(frame, wk(7), births={"W": wk(7)}), ranked(frame, wk(7)))
    assert [(a["kind"], a["theme_id"]) for a in alerts] == [(anomalies.NEW_PATTERN, "W")]


def test_a_surge_is_one_per_product_when_themes_form_per_product():
    """Product a's whole queue doubles while product b's B spikes alone: a's surge names a's themes, and
    B, in a queue that held steady, pages."""
    counts = {**{t: {**dict.fromkeys(range(1, 7), 8), 7: 18} for t in ("A1", "A2")},
              "Qa": {**dict.fromkeys(range(1, 7), 50), 7: 110},
              "B": {**dict.fromkeys(range(1, 7), 8), 7: 25}, "Qb": dict.fromkeys(range(1, 8), 50)}
    frame = window(counts)
    frame["product"] = frame["theme_id"].map(lambda t: "b" if t in ("B", "Qb") else "a")
    ctx = make_context(wk(7), 8, frame, ReviewState(), products_apart=True)
    alerts = families.detect(ctx, ranked(frame, wk(7)))
    [surge] = by_kind(alerts, anomalies.QUEUE_SURGE)
    assert surge["alert_key"] == f"queue:a|{wk(7).isoformat()}|queue_surge" and surge["label"] == "a"
    assert surge["related_theme_ids"] == ["Qa", "A1", "A2"]
    assert {a["theme_id"]: a["with_queue"] for a in by_kind(alerts, anomalies.SPIKE)} == {
        "A1": True, "A2": True, "Qa": True, "B": False}


SURGE = {"alert_key": "queue|2026-11-16|queue_surge", "week_start": WEEK, "theme_id": None, "kind": "queue_surge",
         "label": None, "tickets": 55, "customers": 50, "baseline": 21.2, "ratio": 2.59, "p_value": 1e-9,
         "baseline_weeks": 6, "related_theme_ids": ["T1", "T2", "T3", "T4"],
         "related_labels": ["Type · compiler", "Actor · async", "Crash · generic", None],
         "related_tickets": [27, 13, 11, 10], "with_queue": False}


def test_a_surge_s_message_names_the_themes_that_rose_with_it():
    assert notify.describe(SURGE) == (
        "Queue surge: the whole queue is 2.6x its usual volume in the week of 2026-11-16 (55 vs 21.2/week, "
        "p = 1e-09), across 4 themes that rose with it: \u201cType · compiler\u201d (T1) 27, \u201cActor · async\u201d "
        "(T2) 13, \u201cCrash · generic\u201d (T3) 11 (+1); they are not paged on their own.")
    assert notify.describe({**SURGE, "label": "ios"}).startswith("Queue surge: product ios's queue is 2.6x")
    assert notify.report_link("https://r.example/", "2026-11-16", None).endswith("#queue-surge")


def test_the_report_heads_its_spikes_with_the_surge_and_tells_the_spikes_that_rose_with_it_under_it():
    ctx = report_context()
    spike = {**ctx["spikes"][0], "theme_id": "T1", "label": "Type · compiler", "tickets": 27, "baseline": 11.4,
             "ratio": 2.37, "with_queue": True}
    own = {**spike, "theme_id": "T9", "label": "Login · SSO", "tickets": 40, "baseline": 4.0, "ratio": 10.0,
           "with_queue": False}
    built = report.build_context(WEEK, ctx["overview"], pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
                                 pd.DataFrame([{**SURGE, "related_theme_ids": ["T1"], "related_labels": ["Type · compiler"],
                                                "related_tickets": [27]}, spike, own]), pd.DataFrame())
    assert [a["theme_id"] for a in built["spikes"]] == ["T9"]
    md = report.render_markdown({**ctx, "spikes": built["spikes"], "surges": built["surges"]})
    assert ("> **The whole queue is 2.6x its usual volume this week** (55 tickets against 21.2/week, its last 6 "
            "weeks; p = 1e-09): one event, paged once. Rising with it, not paged on their own: "
            "“Type · compiler” (`T1`) 27 (2.4x its 11.4/week).") in md
    assert md.index("The whole queue is") < md.index("**Login · SSO**") and "1 volume spike · 1 queue surge" in md
    html = report.render_html({**ctx, "spikes": built["spikes"], "surges": built["surges"]}, {})
    assert 'id="queue-surge"' in html and "Rising with it, not paged on their own" in html


def test_a_surge_alone_says_no_theme_spiked_with_it_and_points_at_no_spikes_below():
    """A React week's report said "No theme spiked with it beyond the spikes below." over "No spike
    beyond the queue's." (new-user review)."""
    ctx = report_context()
    lone = {**SURGE, "related_theme_ids": [], "related_labels": [], "related_tickets": []}
    built = report.build_context(WEEK, ctx["overview"], pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
                                 pd.DataFrame([lone]), pd.DataFrame())
    views = {**ctx, "spikes": built["spikes"], "surges": built["surges"]}
    for text in (report.render_markdown(views), report.render_html(views, {})):
        assert "one event, paged once. No theme spiked with it." in text and "spikes below" not in text
        assert "No spike beyond the queue's." in text
    own = {**ctx["spikes"][0], "theme_id": "T9", "label": "Login · SSO", "with_queue": False}
    built = report.build_context(WEEK, ctx["overview"], pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
                                 pd.DataFrame([lone, own]), pd.DataFrame())
    md = report.render_markdown({**ctx, "spikes": built["spikes"], "surges": built["surges"]})
    assert "No theme spiked with it beyond the spikes below." in md


def test_a_withdrawn_surge_is_named_by_its_scope(tmp_path):
    """A re-run that no longer raises a week's surge says so (cli.withdrawn), naming it by its key's scope: it
    has no theme."""
    import duckdb

    from ticket_intel import warehouse as wh
    from ticket_intel.cli import withdrawn

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        wh.migrate(con)
        con.execute("INSERT INTO ops.alerts (alert_key, week_start, theme_id, kind, label) VALUES "
                    "('queue|2024-06-10|queue_surge', '2024-06-10', NULL, 'queue_surge', NULL)")
        before = wh.alerts_between(con, date(2024, 6, 1), date(2024, 6, 30))
    assert [line.split(",")[0] for line in withdrawn(before, set())] == [
        "alert withdrawn: 2024-06-10 queue surge “queue” (queue)"]


def test_a_surge_of_one_customer_s_batch_says_so():
    """TensorFlow's 2024-06-03 "surge" (31 issues against 15.5 a week) held 20 fuzzing crashes filed by
    one reporter: without them the queue was as usual."""
    frame = window(queue(2.2))
    batch = frame.index[frame["ticket_week"].eq(wk(7))][:100]
    frame.loc[batch, "customer_id"] = "fuzzer"
    [surge] = by_kind(families.detect(context(frame, wk(7)), ranked(frame, wk(7))), anomalies.QUEUE_SURGE)
    assert surge["concentrated"] and surge["top_customer_tickets"] == 100
    assert "Mostly one customer's: one filed 100 of them" in notify.describe(surge)
    [usual] = by_kind(run(queue(2.2)), anomalies.QUEUE_SURGE)
    assert not usual["concentrated"] and "one customer" not in notify.describe(usual)
