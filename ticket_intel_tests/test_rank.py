"""Ranking: counts, trend, paid share, impact with configurable weights, and what is not a theme.

(No `from __future__ import annotations`: a Dagster asset below resolves its resource annotation.)
"""

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from ticket_intel.core import rates
from ticket_intel.core.context import WeekContext, make_context
from ticket_intel.core.policy import PlanPolicy, parse_weights
from ticket_intel.core.rank import RankSettings, rank_week, ranking_weeks, trend
from ticket_intel.core.review import ReviewState

WEEK = date(2026, 11, 16)


def tickets(theme: str, n: int, customers: int, week: date = WEEK, plan: str | None = "free",
            revenue: float | None = None, start: int = 0) -> list[dict]:
    return [{
        "ticket_id": f"{theme}-{week:%m%d}-{start + i}", "ticket_week": week, "theme_id": theme,
        "customer_id": f"{theme}-c{i % customers}", "account_id": f"{theme}-a{i % customers}",
        "plan": plan, "monthly_revenue": revenue, "similarity": 1 - i / 100,
    } for i in range(n)]


def summaries(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame([{
        "theme_id": t, "label": f"label {t}", "severity": sev, "signal_type": signal, "product_area": "Cards",
        "shared_issue": f"summary {t}", "example_ticket_ids": [f"{t}-{WEEK:%m%d}-2"],
    } for t, sev, signal in rows])


def frame(*groups: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([r for g in groups for r in g])


def context(data: pd.DataFrame, review: ReviewState | None = None) -> WeekContext:
    return make_context(WEEK, 8, data, review or ReviewState())


def test_ranked_fields_and_impact():
    data = frame(
        tickets("A", 10, 10, plan="pro", revenue=100.0),
        tickets("B", 30, 3, plan="free"),
        tickets("C", 25, 25, plan="free"),
        tickets("A", 5, 5, week=WEEK - timedelta(weeks=1), start=50),
        tickets("B", 30, 3, week=WEEK - timedelta(weeks=1), start=50),  # a whole week before it
        tickets("C", 25, 25, week=WEEK - timedelta(weeks=1), start=50),
    )
    result = rank_week(context(data), summaries(("A", "P1", "bug"), ("B", "P1", "bug"), ("C", "P4", "other")))
    ranked = result.ranked.set_index("theme_id")
    assert list(result.ranked["theme_id"]) == ["A", "C", "B"]  # 10 paying customers beat 1 customer x 10 tickets
    a = ranked.loc["A"]
    assert (a["tickets"], a["customers"], a["tickets_prev_week"]) == (10, 10, 5)
    assert a["impact"] == 10 * 2.0 * 8.0  # customers x pro weight x P1 weight
    assert a["paid_share"] == 1.0 and a["revenue"] == 1000.0
    assert a["product_area"] == "Cards" and a["signal_type"] == "bug"
    assert pd.isna(a["wow_change"])  # 10 against 5: too few for a percentage (`rank.change`)
    assert ranked.loc["B", "wow_change"] == pytest.approx(0.0)  # 30 against 30
    assert a["example_ticket_ids"][0] == f"A-{WEEK:%m%d}-2" and len(a["example_ticket_ids"]) == 3
    assert ranked.loc["B", "impact"] == 3 * 1.0 * 8.0
    assert ranked.loc["C", "paid_share"] == 0.0 and pd.isna(ranked.loc["C", "revenue"])
    assert list(result.ranked["rank"]) == [1, 2, 3]


def test_each_theme_shows_where_its_tickets_come_from_when_themes_form_per_product():
    acme = [dict(t, product="Acme") for t in tickets("A", 16, 16)] + [dict(t, product=None) for t in tickets("A", 4, 4, start=16)]
    unclaimed = [dict(t, product=None) for t in tickets("U", 20, 20)]
    data = frame(acme, unclaimed)
    apart = make_context(WEEK, 8, data, ReviewState(), products_apart=True)
    ranked = rank_week(apart, summaries(("A", "P1", "bug"), ("U", "P1", "bug"))).ranked.set_index("theme_id")
    assert ranked["products"].to_dict() == {"A": "Acme 16 · (none) 4", "U": "(none) 20"}  # a scope no product claimed says so
    assert ranked["product_names"].to_dict() == {"A": ["Acme", "(none)"], "U": ["(none)"]}
    assert ranked["product_counts"].to_dict() == {"A": [16, 4], "U": [20]}
    together = rank_week(context(data), summaries(("A", "P1", "bug"), ("U", "P1", "bug"))).ranked.set_index("theme_id")
    assert together["products"].to_dict() == {"A": "Acme 16 · (none) 4", "U": "(none) 20"}  # a column, every row
    single = frame([dict(t, product=None) for t in tickets("U", 40, 40)])
    alone = rank_week(context(single), summaries(("U", "P1", "bug"))).ranked
    assert alone[["products", "product_names", "product_counts"]].isna().all().all()  # no product anywhere


def test_examples_are_tickets_that_report_an_impact_not_the_praise_a_theme_absorbed():
    """A delay theme that absorbed "enjoyed the trip" shows its delays; a theme of mostly praise shows it."""
    def with_severity(rows: list[dict], levels: list[str]) -> list[dict]:
        return [{**r, "severity": level} for r, level in zip(rows, levels, strict=True)]

    delays = with_severity(tickets("A", 16, 16), ["P4", "P4"] + ["P2", "P3"] * 7)  # the two most central: praise
    praise = with_severity(tickets("B", 16, 16), ["P4"] * 15 + ["P2"])
    no_suggestion = summaries(("A", "P2", "bug"), ("B", "P4", "other")).assign(example_ticket_ids=None)
    ranked = rank_week(context(frame(delays, praise)), no_suggestion).ranked.set_index("theme_id")
    assert ranked.loc["A", "example_ticket_ids"] == [f"A-{WEEK:%m%d}-{i}" for i in (2, 3, 4)]
    assert ranked.loc["B", "example_ticket_ids"] == [f"B-{WEEK:%m%d}-{i}" for i in (0, 1, 2)]


def test_examples_are_different_messages_while_the_theme_has_them():
    """One customer's error filed three times is one message: it is shown once, beside two others;
    a theme of one wording still shows three tickets; one customer's three messages show once."""
    texts = ["ERR_SSL_WRONG_VERSION_NUMBER in middleware"] * 3 + [f"fetch cache problem {i}" for i in range(13)]
    fetch = [{**r, "text": t} for r, t in zip(tickets("A", 16, 16), texts, strict=True)]
    same = [{**r, "text": "my card was declined at the shop"} for r in tickets("B", 16, 16)]
    # one reporter's three accessibility issues, the theme's most central, are one voice among many
    reporter = [{**r, "text": f"screen reader skips button {i}", "customer_id": "C-one" if i < 3 else r["customer_id"]}
                for i, r in enumerate(tickets("C", 16, 16))]
    no_suggestion = summaries(*((t, "P2", "bug") for t in "ABC")).assign(example_ticket_ids=None)
    ranked = rank_week(context(frame(fetch, same, reporter)), no_suggestion).ranked.set_index("theme_id")
    assert ranked.loc["A", "example_ticket_ids"] == [f"A-{WEEK:%m%d}-{i}" for i in (0, 3, 4)]
    assert ranked.loc["B", "example_ticket_ids"] == [f"B-{WEEK:%m%d}-{i}" for i in (0, 1, 2)]
    assert ranked.loc["C", "example_ticket_ids"] == [f"C-{WEEK:%m%d}-{i}" for i in (0, 3, 4)]


def test_examples_say_something_before_one_word_titles():
    """A catch-all's most central titles were "error" and "Crash": its examples said nothing."""
    texts = ["error", "Crash", "Not working"] + [f"Installer gets stuck at step {i} on Windows" for i in range(13)]
    rows = [{**r, "text": t} for r, t in zip(tickets("A", 16, 16), texts, strict=True)]
    other = [{**r, "text": f"card declined at shop {i}"} for i, r in enumerate(tickets("B", 16, 16))]
    no_suggestion = summaries(("A", "P2", "bug"), ("B", "P2", "bug")).assign(example_ticket_ids=None)
    ranked = rank_week(context(frame(rows, other)), no_suggestion).ranked.set_index("theme_id")
    assert ranked.loc["A", "example_ticket_ids"] == [f"A-{WEEK:%m%d}-{i}" for i in (3, 4, 5)]


def test_examples_are_the_tickets_nearest_the_centre_of_the_theme_that_counts_them():
    """A fuzzing segfault shown in another theme (its stored similarity is to that one's centroid) stood
    first among the examples of TensorFlow's "Keras · model", which counted it."""
    rows = tickets("A", 16, 16) + tickets("B", 16, 16)
    shown = [{**r, "series_theme_id": r["theme_id"], "theme_id": "B" if i == 0 else r["theme_id"]}
             for i, r in enumerate(rows)]  # A's first ticket: shown in B, counted in A, stored nearest
    axis = np.eye(4, dtype=np.float32)
    vectors = np.stack([axis[1]] + [axis[0]] * 15 + [axis[3]] * 16)
    ctx = make_context(WEEK, 8, frame(shown), ReviewState(), vectors=vectors)
    no_suggestion = summaries(("A", "P2", "bug"), ("B", "P2", "bug")).assign(example_ticket_ids=None)
    ranked = rank_week(ctx, no_suggestion).ranked.set_index("theme_id")
    assert ranked.loc["A", "tickets"] == 16
    assert f"A-{WEEK:%m%d}-0" not in ranked.loc["A", "example_ticket_ids"]


def test_weights_are_configurable():
    data = frame(tickets("A", 10, 10, plan="enterprise"), tickets("B", 30, 30, plan="free"))
    summ = summaries(("A", "P3", "bug"), ("B", "P3", "bug"))
    default = rank_week(context(data), summ)
    assert list(default.ranked["theme_id"]) == ["A", "B"]  # 10 x 4 beats 30 x 1
    flat = RankSettings(plans=PlanPolicy.parse("free=1,enterprise=1"))
    assert list(rank_week(context(data), summ, flat).ranked["theme_id"]) == ["B", "A"]
    severe = RankSettings(severity_weights=parse_weights("P3=0.5"))
    assert rank_week(context(data), summ, severe).ranked["impact"].tolist() == [20.0, 15.0]


def test_parse_weights():
    assert parse_weights("p0=16, P1=8,free=1, Enterprise=4") == {"P0": 16.0, "P1": 8.0, "free": 1.0, "enterprise": 4.0}
    assert parse_weights({"Pro": 2}) == {"pro": 2.0}
    for bad in ("P0", "P0=high", "P0=-1"):
        with pytest.raises(ValueError):
            parse_weights(bad)


def test_settings_from_environment(monkeypatch):
    import dagster as dg

    from ticket_intel.defs.resources import RankingConfig, build_resources

    monkeypatch.setenv("TICKET_INTEL_SEVERITY_WEIGHTS", "P0=100,P1=10")
    monkeypatch.setenv("TICKET_INTEL_PLAN_WEIGHTS", "free=1,business=3")

    @dg.asset
    def probe(ranking: RankingConfig) -> dict:
        s = ranking.settings()
        return {"sev": dict(s.severity_weights), "plan": dict(s.plans.weights), "paid": sorted(s.plans.paid)}

    result = dg.materialize([probe], resources={"ranking": build_resources()["ranking"]})
    assert result.output_for_node("probe") == {"sev": {"P0": 100.0, "P1": 10.0}, "plan": {"free": 1.0, "business": 3.0},
                                               "paid": ["business"]}


def test_small_groups_rejected_themes_and_outliers_are_not_themes():
    outliers = [{**t, "theme_id": None} for t in tickets("X", 4, 4)]
    data = frame(tickets("A", 30, 30), tickets("small", 4, 4), tickets("few", 8, 2), tickets("junk", 9, 9), outliers)
    review = ReviewState(not_a_theme={"junk"})
    result = rank_week(context(data, review), summaries(("A", "P2", "bug")))
    assert list(result.ranked["theme_id"]) == ["A"]
    nat = result.not_a_theme.set_index("theme_id")
    assert set(nat.index) == {"small", "few", "junk", "outliers"}
    assert "4 tickets from 4 customers" in nat.loc["small", "reason"]
    assert "8 tickets from 2 customers" in nat.loc["few", "reason"]
    assert nat.loc["junk", "reason"] == "marked not-a-theme by a reviewer"
    assert nat.loc["outliers", "ticket_ids"] == sorted(t["ticket_id"] for t in outliers)
    assert len(nat.loc["small", "ticket_ids"]) == 4


def test_a_group_whose_tickets_share_no_wording_is_not_a_theme_unless_a_reviewer_kept_it():
    """GitHub titles "xx", "bug", "Quits on SP11" grouped together ranked as "Unlabelled theme"."""
    data = frame(tickets("A", 20, 20), tickets("vague", 12, 12), tickets("named", 12, 12))
    summ = summaries(("A", "P2", "bug"), ("vague", "P2", "bug"), ("named", "P2", "bug"))
    summ["terms"] = [["card", "declined"], [], []]
    result = rank_week(context(data, ReviewState(labels={"named": "Crashes on start"})), summ)
    assert list(result.ranked["theme_id"]) == ["A", "named"]
    reason = result.not_a_theme.set_index("theme_id").loc["vague", "reason"]
    assert reason.startswith("its tickets share no wording (no word in two of them and 5%)")
    summ["terms"] = [["card"], ["crash"], ["start"]]
    assert len(rank_week(context(data), summ).ranked) == 3


def test_a_small_week_gets_a_warning_instead_of_a_ranking():
    result = rank_week(context(frame(tickets("A", 12, 12), tickets("B", 10, 10))), summaries(("A", "P1", "bug")))
    assert result.ranked.empty
    assert "22 tickets" in result.overview["warning"]
    assert set(result.not_a_theme["reason"]) == {"week too small to rank"}


def quiet_weeks(weeks: int) -> pd.DataFrame:
    """A small queue: each of the `weeks` weeks up to WEEK holds 6 tickets of A from the same 6
    customers and 4 of B, 10 in all."""
    return frame(*[tickets(theme, n, n, week=WEEK - timedelta(weeks=k), start=100 * k)
                   for k in range(weeks) for theme, n in (("A", 6), ("B", 4))])


def test_a_small_queue_is_ranked_over_the_fewest_weeks_that_reach_the_minimum():
    """Ten tickets a week never make a ranked week; three weeks together hold the 30 a ranking needs."""
    ctx = context(quiet_weeks(6))
    assert ranking_weeks(ctx, 30) == [WEEK - timedelta(weeks=2), WEEK - timedelta(weeks=1), WEEK]
    assert ranking_weeks(ctx, 10) == [WEEK]
    result = rank_week(ctx, summaries(("A", "P2", "bug"), ("B", "P3", "bug")))
    assert result.overview["warning"] is None and result.overview["tickets"] == 10  # the week's own figures
    a = result.ranked.set_index("theme_id").loc["A"]
    assert (a["tickets"], a["customers"], a["ranked_weeks"]) == (18, 6, 3)  # distinct customers across the weeks
    assert (a["tickets_prev_week"], a["wow_change"], a["trend"]) == (18, 0.0, "steady")  # the 3 weeks before
    assert trend(a["tickets"], [6, 6, 6], False, 3).describe(18, 3) == "no clear change (18 in 3 wks vs 6.0/wk)"
    assert result.ranked.set_index("theme_id").loc["B", "tickets"] == 12
    assert result.weeks == ranking_weeks(ctx, 30)


def test_a_small_queue_counts_its_weeks_as_its_trend_does_where_the_clustering_moved_tickets():
    """TensorFlow's "Crash running tf" showed 13 tickets over 2 weeks where the counts its trend and
    change compare held 17: the shown figure counted the tickets kept in the theme by hysteresis."""
    data = quiet_weeks(6)
    moved = (data["theme_id"] == "B") & (data["ticket_week"] == WEEK) & data["ticket_id"].str.endswith(("-0", "-1"))
    data = data.assign(series_theme_id=data["theme_id"].where(~moved, "A"))  # placed in A by this week's clustering
    result = rank_week(context(data), summaries(("A", "P2", "bug"), ("B", "P3", "bug")))
    ranked = result.ranked.set_index("theme_id")
    assert (ranked.loc["A", "tickets"], ranked.loc["A", "customers"]) == (20, 8)  # 18 + the 2 moved, from 2 more customers
    assert (ranked.loc["B", "tickets"], ranked.loc["B", "tickets_prev_week"]) == (10, 12)


def test_every_figure_of_a_small_queue_s_row_counts_the_same_tickets():
    """Products, paid share, triage and examples came from the tickets hysteresis kept in the theme
    while its count came from the series: 'tickets 10' beside 'prisma 5', and tickets in no row."""
    data = quiet_weeks(6).assign(product="web")
    earlier = (data["ticket_week"] == WEEK - timedelta(weeks=1)) & data["ticket_id"].str.endswith(("-100", "-101", "-102"))
    kept_b = earlier & (data["theme_id"] == "B")
    data = data.assign(series_theme_id=data["theme_id"].where(~kept_b, "A"),  # counted in A, shown in B
                       product=data["product"].where(~kept_b, "app"))
    dropped = earlier & (data["theme_id"] == "A")
    data["series_theme_id"] = data["series_theme_id"].where(~dropped, None)  # kept in A, counted in none
    result = rank_week(context(data), summaries(("A", "P2", "bug"), ("B", "P3", "bug")))
    assert result.weeks == [WEEK - timedelta(weeks=2), WEEK - timedelta(weeks=1), WEEK]
    ranked = result.ranked.set_index("theme_id")
    for theme in ("A", "B"):
        row = ranked.loc[theme]
        assert sum(row["product_counts"]) == row["tickets"], theme
    assert (ranked.loc["A", "tickets"], ranked.loc["B", "tickets"]) == (18, 9)
    unthemed = result.not_a_theme.set_index("theme_id")
    assert unthemed.loc["outliers", "tickets"] == 3  # no ticket of the weeks counted nowhere
    assert ranked["tickets"].sum() + unthemed["tickets"].sum() == 30


def test_a_change_against_weeks_before_the_data_began_is_unknown_not_a_rise():
    """'falling (39 in 3 wks vs 20.0/wk), 20 the 3 weeks before (+95%)': two of those 3 weeks were
    before the first export, counted as zeros."""
    result = rank_week(context(quiet_weeks(4)), summaries(("A", "P2", "bug")))
    a = result.ranked.set_index("theme_id").loc["A"]
    assert a["ranked_weeks"] == 3 and a["tickets_prev_week"] is None and a["wow_change"] is None
    full = rank_week(context(quiet_weeks(6)), summaries(("A", "P2", "bug"))).ranked.set_index("theme_id").loc["A"]
    assert full["tickets_prev_week"] == 18


def test_a_ranking_period_longer_than_half_the_window_has_nothing_before_it_to_compare():
    result = rank_week(context(quiet_weeks(6)), summaries(("A", "P2", "bug")), RankSettings(min_week_tickets=50))
    a = result.ranked.set_index("theme_id").loc["A"]
    assert (a["tickets"], a["ranked_weeks"]) == (30, 5)
    assert a["tickets_prev_week"] is None and a["wow_change"] is None  # 5 earlier weeks do not fit in 8


def test_a_window_too_small_to_rank_says_how_many_tickets_it_holds_of_which_products_and_the_fix():
    spread = frame(*[tickets("A", 6, 6, week=WEEK - timedelta(weeks=k), start=100 * k) for k in (0, 7)])
    result = rank_week(context(spread), summaries(("A", "P2", "bug")))
    assert result.ranked.empty and result.weeks == []
    assert result.overview["warning"] == ("only 6 tickets this week and 12 in the window's 8 weeks (fewer than "
                                          "30): too few to rank themes; TICKET_INTEL_MIN_WEEK_TICKETS=12, or a "
                                          "longer TICKET_INTEL_WINDOW_WEEKS (now 8), ranks them")
    # A small product's warehouse: its reports were empty all year, naming neither it nor the fix.
    named = rank_week(context(quiet_weeks(2).assign(product="tensorflow")), summaries(("A", "P2", "bug")))
    assert "(fewer than 30; by product: tensorflow 20): too few to rank themes; " in named.overview["warning"]
    # Data that begins inside the window (a first week, a new warehouse's second): a longer window
    # reaches nothing more, the inbox's earlier weeks, once run, may.
    earlier = ("or running the inbox's earlier weeks if it has any (`ticket-intel run --weeks`; the warehouse's "
               "tickets begin in the week of {}), ranks them")
    first = rank_week(context(quiet_weeks(1)), summaries(("A", "P2", "bug"))).overview["warning"]
    assert first == ("only 10 tickets this week (fewer than 30): too few to rank themes; TICKET_INTEL_MIN_WEEK_TICKETS"
                     f"=10, {earlier.format(WEEK)}")
    second = rank_week(context(quiet_weeks(2)), summaries(("A", "P2", "bug"))).overview["warning"]
    assert second.endswith(f"MIN_WEEK_TICKETS=20, {earlier.format(WEEK - timedelta(weeks=1))}")


def test_a_week_too_small_to_rank_names_only_what_would_rank_something():
    """Swift's first week, 2015-11-02: 8 tickets, every one an outlier, and the inbox held none before
    it (the run counted 0 earlier tickets). Its warning said "TICKET_INTEL_MIN_WEEK_TICKETS=8, or
    running the inbox's earlier weeks if it has any, ranks them": neither could rank anything."""
    outliers = frame(tickets(None, 8, 8))
    assert "MIN_WEEK_TICKETS=8" not in rank_week(context(outliers), summaries()).overview["warning"]
    known = make_context(WEEK, 8, outliers, ReviewState(), inbox_counts={WEEK: 8})
    assert rank_week(known, summaries()).overview["warning"] == (
        "only 8 tickets this week (fewer than 30): too few to rank themes, and none of them is in a theme, so no "
        f"lower TICKET_INTEL_MIN_WEEK_TICKETS ranks any (the inbox holds no ticket in the window's weeks before the "
        f"week of {WEEK})")
    six_back = WEEK - timedelta(weeks=6)
    earlier = make_context(WEEK, 8, outliers, ReviewState(), inbox_counts={six_back: 22, WEEK: 8})
    assert rank_week(earlier, summaries()).overview["warning"].endswith(
        "so no lower TICKET_INTEL_MIN_WEEK_TICKETS ranks any; running the window's 22 earlier tickets of the inbox "
        f"with this week (`ticket-intel run --weeks {six_back}..{WEEK}`) may rank some")
    # Themes too small at any minimum (4 tickets of a theme's 5), and a theme that would rank at 10.
    small = make_context(WEEK, 8, frame(tickets("A", 4, 4), tickets(None, 4, 4)), ReviewState(), inbox_counts={WEEK: 8})
    assert ", and none of their themes would rank over them (too small, " in rank_week(
        small, summaries(("A", "P2", "bug"))).overview["warning"]
    ranks = rank_week(make_context(WEEK, 8, quiet_weeks(1), ReviewState(), inbox_counts={WEEK: 10}),
                      summaries(("A", "P2", "bug"))).overview["warning"]
    assert ranks == "only 10 tickets this week (fewer than 30): too few to rank themes; TICKET_INTEL_MIN_WEEK_TICKETS=10 ranks them"


def test_a_week_too_small_to_rank_is_told_of_earlier_weeks_only_when_they_reach_the_minimum_and_can_run():
    """twcs' first partition, 2017-09-25: 5 tickets, and the inbox's 7 earlier ones spread from
    2017-01-30 (3 of them in the window). It was told to run `--weeks 2017-01-30..2017-09-18`, weeks
    before the partitions start that the run refused, which could not rank it: 8 of the 30 needed."""
    outliers, settings = frame(tickets(None, 5, 5)), RankSettings(partitions_start=WEEK)
    scattered = {WEEK - timedelta(weeks=35): 1, WEEK - timedelta(weeks=3): 1, WEEK - timedelta(weeks=1): 2, WEEK: 5}
    warning = rank_week(make_context(WEEK, 8, outliers, ReviewState(), inbox_counts=scattered), summaries(),
                        settings).overview["warning"]
    assert warning.endswith("so no lower TICKET_INTEL_MIN_WEEK_TICKETS ranks any (the inbox's 3 tickets of the "
                            "window's earlier weeks would make 8, fewer than 30)"), warning
    # Enough of them, before the partitions: the run that can take them in starts the partitions earlier.
    enough = {WEEK - timedelta(weeks=3): 20, WEEK - timedelta(weeks=1): 5, WEEK: 5}
    warning = rank_week(make_context(WEEK, 8, outliers, ReviewState(), inbox_counts=enough), summaries(),
                        settings).overview["warning"]
    assert warning.endswith(f"running the window's 25 earlier tickets of the inbox with this week (`TICKET_INTEL_"
                            f"PARTITIONS_START={WEEK - timedelta(weeks=3)} ticket-intel run --weeks "
                            f"{WEEK - timedelta(weeks=3)}..{WEEK}`) may rank some"), warning
    # the run named as it works: `--inbox` is required, and the warehouse is this one (Next.js' review)
    named = RankSettings(partitions_start=WEEK, run="ticket-intel run --inbox /in --warehouse /w.duckdb")
    warning = rank_week(make_context(WEEK, 8, outliers, ReviewState(), inbox_counts=enough), summaries(),
                        named).overview["warning"]
    assert "ticket-intel run --inbox /in --warehouse /w.duckdb --weeks" in warning, warning


def test_the_first_week_of_data_compares_with_nothing():
    """A first export or a one-off dump: the weeks before it are unknown, not zero, so no count
    before it, no change, and no theme reads "new" when every theme would; the next week compares."""
    first = rank_week(context(frame(tickets("A", 30, 30), tickets("B", 12, 12))), summaries(("A", "P2", "bug"),
                                                                                         ("B", "P2", "bug")))
    assert first.overview["tickets_prev_week"] is None
    assert first.ranked["tickets_prev_week"].isna().all() and first.ranked["wow_change"].isna().all()
    assert set(first.ranked["trend"]) == {"no history"}
    earlier = tickets("A", 30, 30, week=WEEK - timedelta(weeks=1), start=50)
    second = rank_week(context(frame(tickets("A", 30, 30), tickets("B", 12, 12), earlier)),
                       summaries(("A", "P2", "bug"), ("B", "P2", "bug"))).ranked.set_index("theme_id")
    assert second.loc["A", "tickets_prev_week"] == 30 and second.loc["B", "tickets_prev_week"] == 0
    assert second.loc["A", "trend"] == "steady"


def test_a_first_week_the_data_began_inside_is_no_week_of_zeros():
    """twcs' first week holds 5 tickets where its others hold 110-210: every theme's trend counted it
    as a week of 0 ("rising (6 vs 1.5/wk)" on a series 0, 3, 6) and the next week's header read
    "+2080% vs 5 last week". Such a week is unknown, like one before the data; a queue's quiet week
    of a plausible size is a week."""
    first, last = WEEK - timedelta(weeks=2), WEEK - timedelta(weeks=1)
    data = frame(tickets("Z", 5, 5, week=first), tickets("A", 3, 3, week=last, start=50),
                 tickets("B", 40, 40, week=last, start=50), tickets("A", 6, 6), tickets("B", 40, 40))
    summ = summaries(("A", "P2", "bug"), ("B", "P2", "bug"))
    ctx = context(data)
    assert ctx.data_weeks == [last, WEEK]
    assert rank_week(ctx, summ).ranked.set_index("theme_id").loc["A", "trend_baseline"] == 3.0
    assert rank_week(make_context(last, 8, data, ReviewState()), summ).overview["tickets_prev_week"] is None
    quiet = frame(tickets("Z", 30, 30, week=first), tickets("B", 40, 40, week=last, start=50), tickets("B", 40, 40))
    assert context(quiet).data_weeks == [first, last, WEEK]


def test_a_gap_in_the_exports_is_no_week_of_zero_tickets():
    """twcs without the week of 2017-11-06: the next week read "0 last week" for every theme and the
    overview "– vs 0 last week"; the week holds no data, so last week's count is unknown."""
    weeks = [WEEK - timedelta(weeks=k) for k in (3, 2)]
    data = frame(*(tickets(t, n, n, week=w, start=100 * i) for i, w in enumerate(weeks) for t, n in (("A", 20), ("B", 20))),
                 tickets("A", 20, 20), tickets("B", 20, 20))
    result = rank_week(context(data), summaries(("A", "P2", "bug"), ("B", "P2", "bug")))
    assert result.overview["tickets_prev_week"] is None
    assert result.ranked["tickets_prev_week"].isna().all() and result.ranked["wow_change"].isna().all()
    assert set(result.ranked["trend"]) == {"steady"}  # against the weeks that hold data


def test_a_quiet_week_of_a_small_queue_is_a_week_of_zero_tickets():
    """A queue of 4 a week has weeks of none (Poisson P(0) about 0.02): counted as gaps, they raised
    its baselines to the weeks that had tickets and its header read "no data last week". A week of
    none where the queue's rate makes it implausible stays a gap (the test above)."""
    weeks = [WEEK - timedelta(weeks=k) for k in range(7, 1, -1)]
    data = frame(*(tickets("A", 4, 4, week=w, start=10 * i) for i, w in enumerate(weeks)), tickets("A", 4, 4))
    ctx = context(data)
    assert ctx.data_weeks == [*weeks, WEEK - timedelta(weeks=1), WEEK]
    result = rank_week(ctx, summaries(("A", "P2", "bug")), RankSettings(min_tickets=4, min_week_tickets=4))
    assert result.overview["tickets_prev_week"] == 0
    assert result.ranked.loc[0, "tickets_prev_week"] == 0
    assert result.ranked.loc[0, "trend_baseline"] == pytest.approx(12 / 4)  # 4, 4, 4 and last week's 0
    assert rates.implausibly_few(0, [20] * 6) and not rates.implausibly_few(0, [4] * 6)


def test_merged_themes_count_as_one():
    data = frame(tickets("A", 20, 20), tickets("B", 15, 15))
    result = rank_week(context(data, ReviewState(merged_into={"A": "B"})), summaries(("B", "P2", "bug")))
    assert result.ranked["theme_id"].tolist() == ["B"]
    assert result.ranked.loc[0, "tickets"] == 35


@pytest.mark.parametrize(("current", "history", "is_new", "label"), [
    (9, [8, 8, 8, 8], False, "steady"),
    (16, [8, 8, 8, 8], False, "rising"),
    (2, [8, 8, 8, 8], False, "falling"),
    (5, [], False, "no history"),
    (5, [], True, "new"),
    (5, [3, 4], True, "new"),
])
def test_trend_label(current, history, is_new, label):
    assert trend(current, history, is_new).word == label


def test_the_trend_of_several_weeks_weighs_their_noise_together():
    """12 or 16 tickets in 3 weeks against 3 weeks of 3 is steady (16 of 25 in the later half: p = 0.11);
    22 is a rise, 1 a fall."""
    assert [trend(n, [3, 3, 3], False, 3).word for n in (12, 16, 22, 2, 1)] == [
        "steady", "steady", "rising", "steady", "falling"]


def test_a_rise_within_the_noise_of_a_baseline_of_few_weeks_is_steady():
    """The statistics review: 2-sigma around the baseline's mean, as if that mean were exact, called
    twcs' "Flight · crew" (8 vs 3.5 a week over 2 weeks, p = 0.088) and the sample's T20261109-01
    (10 vs 5.25 over 4, p = 0.075) rising, and a steady theme of 5 a week rising in 10-22% of the
    weeks it is ranked (47% at 3 a week). Tested against the baseline's own noise, they are steady; a
    steady theme reads rising in a few percent of its ranked weeks, whatever its size."""
    assert trend(8, [3, 4], False).word == "steady" and trend(10, [5, 5, 6, 5], False).word == "steady"
    assert trend(12, [3, 3, 3, 3], False).word == "rising" and trend(13, [28], False).word == "falling"
    rng = np.random.default_rng(5)
    for rate in (3, 5, 8):
        for weeks in (1, 2, 4):
            words = [trend(int(now), rng.poisson(rate, weeks).tolist(), False).word
                     for now in rng.poisson(rate, 1500) if now >= RankSettings().min_tickets]
            assert words.count("rising") / len(words) < 0.1, (rate, weeks)


def weekly_themes(series: dict[str, list[int]]) -> pd.DataFrame:
    """Tickets of each theme over the 8 weeks ending with WEEK, one customer each."""
    weeks = [WEEK - timedelta(weeks=k) for k in range(7, -1, -1)]
    return frame(*(tickets(t, n, n, week=w, start=100 * k) for t, counts in series.items()
                   for k, (w, n) in enumerate(zip(weeks, counts, strict=True))))


# Swift's GitHub issues, the 8 weeks to 2024-09-16: its themes' weekly counts ("P": "Protocol · types").
SWIFT_2024_09_16 = {
    "P": [3, 2, 4, 1, 4, 0, 1, 9], "A": [1, 3, 2, 1, 3, 0, 3, 2], "B": [2, 5, 8, 6, 4, 1, 3, 7],
    "C": [5, 5, 3, 2, 5, 1, 4, 4], "D": [2, 1, 3, 3, 1, 1, 1, 3], "E": [5, 16, 10, 7, 7, 4, 4, 15],
    "F": [0, 2, 1, 2, 1, 4, 1, 3],
}


def test_a_theme_s_few_weeks_of_dispersion_are_moderated_toward_the_week_s_themes():
    """Swift's "Protocol · types" read "no clear change (9 vs 1.5/wk)": its weeks 1, 4, 0, 1 have a
    dispersion of 2.0 on 3 degrees of freedom, which halved the evidence of 9. Its window's themes
    say 1.41, weighing 10 degrees of freedom: 1.55, and 9 against 1.5 a week is a rise."""
    data = weekly_themes(SWIFT_2024_09_16)
    ranked = rank_week(context(data), summaries(*((t, "P2", "bug") for t in SWIFT_2024_09_16))).ranked
    p = ranked.set_index("theme_id").loc["P"]
    assert (p["trend"], p["trend_baseline"]) == ("rising", 1.5)


def test_a_level_shift_in_the_window_is_no_burstiness_of_the_week_s_themes():
    """A theme that fell from 20 a week to 2 and now has 8 has risen: its last 4 weeks, 2 a week, are
    its baseline, and its fall does not make the week's themes look bursty (a dispersion over all of a
    theme's earlier weeks was huge for it, and read 8 against 2 as steady)."""
    series = dict(SWIFT_2024_09_16, P=[20, 20, 20, 2, 2, 2, 2, 8])
    ranked = rank_week(context(weekly_themes(series)), summaries(*((t, "P2", "bug") for t in series))).ranked
    assert ranked.set_index("theme_id").loc["P", "trend"] == "rising"


def test_a_bursty_theme_among_bursty_themes_keeps_its_dispersion():
    """Moderation pulls a theme's dispersion toward its window's, so a theme whose weeks swing far
    beyond Poisson, among themes that do too, still needs that much more evidence: 12 against
    weeks of 1, 8, 0, 7 is no clear change."""
    bursty = [[0, 9, 1, 6], [8, 0, 7, 1], [1, 1, 10, 0], [6, 0, 0, 9], [1, 8, 0, 7]]
    prior = rates.dispersion_prior(bursty)
    assert prior.scale > 4 and trend(12, [1, 8, 0, 7], False, 1, prior).word == "steady"


def test_the_week_s_themes_make_bursty_themes_read_rising_less_often():
    """Steady themes of 1-6 tickets a week, negative binomial with variance mean + mean^2/1.5, in
    windows of 30: against their own 4 weeks' dispersion they read rising in 17% of their ranked
    weeks, moderated toward the window's in 10%; Poisson themes' window says about 1, so theirs hardly
    change, and a theme tripling is found as often."""
    rng = np.random.default_rng(7)

    def rising_share(draw, factor: float) -> tuple[float, float]:
        own, moderated = [], []
        for _ in range(60):
            means = rng.uniform(1, 6, 30)
            series = [draw(m, 4).tolist() for m in means]
            prior = rates.dispersion_prior(series)
            for now, base in zip((draw(factor * m, 1)[0] for m in means), series, strict=True):
                if now >= RankSettings().min_tickets:
                    own.append(trend(int(now), base, False).word == "rising")
                    moderated.append(trend(int(now), base, False, 1, prior).word == "rising")
        return float(np.mean(own)), float(np.mean(moderated))

    def bursty(mean, size):
        return rng.negative_binomial(1.5, 1.5 / (1.5 + mean), size)

    own, moderated = rising_share(bursty, 1)
    assert moderated < 0.12 < 0.14 < own
    own, moderated = rising_share(rng.poisson, 1)
    assert abs(moderated - own) < 0.02
    own, moderated = rising_share(rng.poisson, 3)
    assert moderated >= own - 0.02


def test_trend_baseline_starts_when_the_theme_appeared():
    weeks = [WEEK - timedelta(weeks=k) for k in (2, 1)]
    data = frame(tickets("A", 32, 32, week=weeks[0]), tickets("A", 30, 30, week=weeks[1], start=40),
                 tickets("A", 31, 31, start=80))
    row = rank_week(context(data), summaries(("A", "P2", "bug"))).ranked.iloc[0]
    assert row["trend"] == "steady"  # not "rising" against four weeks that include empty ones
    assert pd.isna(row["growth_4w"])


def test_four_week_growth_compares_rates_over_the_weeks_that_hold_data():
    """twcs 2017-10-30 printed "+1000% over 4 weeks" for 22 tickets against the 2 of its data's
    first, partial week: the window's first three weeks held no data at all. Weeks before the data
    are left out of the 4 weeks before, not counted as zeros; with none of them in the data, there
    is no growth."""
    def growth(first: int) -> object:
        weeks = [WEEK - timedelta(weeks=k) for k in range(first, 0, -1)]
        data = frame(*(tickets("A", 8, 8, week=w, start=10 * i) for i, w in enumerate(weeks)),
                     tickets("A", 16, 16, start=200))
        return rank_week(context(data), summaries(("A", "P2", "bug"))).ranked.iloc[0]["growth_4w"]

    assert growth(7) == pytest.approx((8 * 3 + 16) / 32 - 1)  # all 8 weeks hold data
    assert growth(6) == growth(5) == pytest.approx(10 / 8 - 1)  # 8 a week over the weeks that hold data
    assert pd.isna(growth(3))  # the data starts inside the last 4 weeks


def series_context(counts: list[int | None], born: int | None = None) -> WeekContext:
    """Theme A's tickets in the 8 weeks up to WEEK (None: a week with no data at all), beside 30 a week
    of B; A born in the week of that index when `born` is given."""
    weeks = [WEEK - timedelta(weeks=7 - k) for k in range(8)]
    rows = [tickets(t, n, n, week=w, start=100 * k) for k, (w, a) in enumerate(zip(weeks, counts, strict=True))
            if a is not None for t, n in (("A", a), ("B", 30))]
    first = {"A": weeks[born], "B": weeks[0]} if born is not None else None
    return make_context(WEEK, 8, frame(*rows), ReviewState(), first_seen=first, origins={"A": "new", "B": "new"},
                        tracking_start=weeks[0])


def test_four_week_growth_leaves_out_gaps_and_the_weeks_before_a_theme_existed():
    """The statistics review: a gap in the exports counted as a week of 0 (twcs without 2017-11-06:
    -39% where the weeks that hold data give -19%), and a theme's growth counted the weeks before it
    existed ("new ... +56% over 4 weeks"; born 2017-10-30 on a series 0, 1, 6, 2 | 7, 8, 4, 6:
    "steady (6 vs 6.0/wk) ... +178% over 4 weeks")."""
    def growth(ctx: WeekContext) -> object:
        ranked = rank_week(ctx, summaries(("A", "P2", "bug"), ("B", "P2", "bug"))).ranked.set_index("theme_id")
        return ranked.loc["A", "growth_4w"]

    assert growth(series_context([3, 2, 9, 7, 1, 5, None, 5])) == pytest.approx((11 / 3) / (21 / 4) - 1)
    assert pd.isna(growth(series_context([0, 1, 6, 2, 7, 8, 4, 6], born=5)))  # born in the last 4 weeks
    assert pd.isna(growth(series_context([0, 1, 6, 2, 7, 8, 4, 6], born=7)))  # new this week
    assert growth(series_context([0, 1, 6, 6, 7, 8, 4, 6], born=2)) == pytest.approx(25 / 4 / (12 / 2) - 1)


def test_paid_share_is_unknown_when_no_plan_is_known():
    row = rank_week(context(frame(tickets("A", 30, 30, plan=None))), summaries(("A", "P2", "bug"))).ranked.iloc[0]
    assert pd.isna(row["paid_share"])
    assert row["impact"] == 30 * 1.0 * 4.0  # an unknown plan weighs like the lowest tier


def test_earlier_weeks_are_counted_by_series_theme():
    """Last week's tickets held in A by hysteresis count towards B's history when the clustering
    put them in B, so B's 10 tickets this week are steady, not a jump from zero."""
    earlier = pd.DataFrame(tickets("A", 10, 10, week=WEEK - timedelta(weeks=1), start=50)).assign(series_theme_id="B")
    whole = tickets("C", 30, 30, week=WEEK - timedelta(weeks=1))  # the rest of a whole week
    data = pd.concat([frame(tickets("A", 30, 30), tickets("B", 10, 10), whole), earlier], ignore_index=True)
    data["series_theme_id"] = data["series_theme_id"].fillna(data["theme_id"])
    ranked = rank_week(context(data), summaries(("A", "P3", "bug"), ("B", "P3", "bug"))).ranked.set_index("theme_id")
    assert ranked.loc["B", "tickets_prev_week"] == 10 and ranked.loc["A", "tickets_prev_week"] == 0


def test_business_counts_as_paid_and_is_weighted_like_paid_tiers():
    """One plan policy: a plan counted as paid is never weighted like the free tier."""
    plans = RankSettings().plans
    assert plans.is_paid("business") and plans.weight("business") == plans.weight("pro") > plans.weight("free")
    assert not plans.is_paid("trial") and plans.weight("unknown") == plans.weight("free")
    assert set(plans.allowed) >= {"free", "trial", "starter", "pro", "team", "business", "premium", "paid", "enterprise"}


def test_paid_plans_can_be_listed_and_must_be_known():
    assert PlanPolicy.parse("free=1,starter=1,pro=2", paid="starter,pro").paid == {"starter", "pro"}
    with pytest.raises(ValueError, match="not in the plan weights"):
        PlanPolicy.parse("free=1,pro=2", paid="gold")


def test_trend_states_its_baseline():
    assert trend(10, [29, 20, 25, 24], False).describe(10) == "falling (10 vs 24.5/wk)"
    assert trend(5, [], True).describe(5) == "new"
    # a small queue ranked over all its window's weeks: nothing before them, whatever the theme's age
    assert trend(9, [], False, 8).describe(9, 8) == "no history before these 8 wks"
    assert trend(9, [], False).describe(9) == "no history"


def test_the_ui_s_top_themes_write_a_new_theme_s_trend_as_the_report_does():
    """The asset page read "new (9 vs nan/wk)" for every new theme; the report says "new"."""
    from ticket_intel.defs.ranking import _top_table

    table = _top_table(pd.DataFrame([{"rank": 1, "label": "A", "tickets": 9, "customers": 9, "trend": "new",
                                      "trend_baseline": np.nan, "ranked_weeks": 1, "impact": 3.0}]))
    assert "| 1 | A | 9 | 9 | new | 3 |" in table and "nan" not in table


def test_revenue_counts_each_account_once_and_paid_share_only_known_plans():
    """Five accounts at 100 a month filing two tickets each are 500, not 1000; customers of no known
    plan are left out of the paid share (mutation review: neither was pinned)."""
    twice = frame(tickets("A", 10, 5, plan="pro", revenue=100.0), tickets("B", 30, 30))
    ranked = rank_week(context(twice), summaries(("A", "P1", "bug"), ("B", "P2", "bug"))).ranked.set_index("theme_id")
    assert ranked.loc["A", "revenue"] == 500.0
    unknown = tickets("A", 5, 5, start=5, plan=None)
    for i, t in enumerate(unknown):
        t["customer_id"], t["account_id"] = f"A-x{i}", f"A-y{i}"
    data = frame(tickets("A", 5, 5, plan="pro"), unknown, tickets("B", 30, 30))
    ranked = rank_week(context(data), summaries(("A", "P1", "bug"), ("B", "P2", "bug"))).ranked.set_index("theme_id")
    assert ranked.loc["A", "paid_share"] == 1.0


def test_tickets_without_a_customer_id_are_customers_each_and_the_overview_counts_ranked_tickets():
    """Missing ids merged into one customer would drop a 6-ticket theme to not-a-theme; the overview's
    ranked tickets leave out groups too small and outliers (mutation review)."""
    anonymous = tickets("A", 6, 6)
    for t in anonymous:
        t["customer_id"] = None
    result = rank_week(context(frame(anonymous, tickets("B", 30, 30))), summaries(("A", "P2", "bug"), ("B", "P2", "bug")))
    assert "A" in set(result.ranked["theme_id"])
    outliers = [dict(t, theme_id=None) for t in tickets("O", 2, 2)]
    result = rank_week(context(frame(tickets("A", 30, 30), tickets("S", 3, 3), outliers)),
                       summaries(("A", "P1", "bug"), ("S", "P1", "bug")))
    assert {k: result.overview[k] for k in ("tickets", "ranked_tickets", "outlier_tickets")} == {
        "tickets": 35, "ranked_tickets": 30, "outlier_tickets": 2}


def test_a_small_queue_s_customers_are_those_of_the_weeks_it_ranks():
    """Ranked over two weeks, a theme's customers are the 4 of those weeks, not the 14 of its window."""
    earlier = tickets("A", 10, 10, week=WEEK - timedelta(weeks=5), start=900)
    for t in earlier:
        t["customer_id"] = "old-" + t["customer_id"]
    rows = earlier + tickets("Z", 10, 10, week=WEEK - timedelta(weeks=6))
    for w in (WEEK - timedelta(weeks=1), WEEK):
        rows += tickets("A", 8, 4, week=w, start=w.toordinal() % 1000)
    result = rank_week(make_context(WEEK, 8, frame(rows), ReviewState()), summaries(("A", "P2", "bug")),
                       RankSettings(min_week_tickets=16))
    assert [str(w) for w in result.weeks] == [str(WEEK - timedelta(weeks=1)), str(WEEK)]
    assert result.ranked.set_index("theme_id").loc["A", ["tickets", "customers"]].tolist() == [16, 4]


def test_the_trend_baseline_is_the_last_four_weeks_and_a_theme_born_in_the_ranked_weeks_is_new():
    """Twenty a week long ago does not make 8 against 2 a week "steady"; ranked over three weeks, a
    theme born in the first of them is new, not "no history" (mutation review)."""
    rows = tickets("A", 8, 8)
    for k, n in [(7, 20), (6, 20), (5, 20), (4, 2), (3, 2), (2, 2), (1, 2)]:
        rows += tickets("A", n, n, week=WEEK - timedelta(weeks=k), start=100 * k)
    a = rank_week(context(frame(rows, tickets("C", 30, 30))),
                  summaries(("A", "P2", "bug"), ("C", "P4", "other"))).ranked.set_index("theme_id").loc["A"]
    assert (a["trend"], a["trend_baseline"]) == ("rising", 2.0)
    small = []
    for k in range(3, 7):
        small += tickets("Z", 10, 10, week=WEEK - timedelta(weeks=k), start=100 * k)
    for w in (WEEK - timedelta(weeks=2), WEEK - timedelta(weeks=1), WEEK):
        small += tickets("A", 4, 4, week=w, start=w.toordinal() % 1000) + tickets("Z", 6, 6, week=w, start=w.toordinal() % 1000)
    ctx = make_context(WEEK, 8, frame(small), ReviewState(), first_seen={"A": WEEK - timedelta(weeks=2),
                       "Z": WEEK - timedelta(weeks=6)}, origins={"A": "new"}, tracking_start=WEEK - timedelta(weeks=6))
    result = rank_week(ctx, summaries(("A", "P2", "bug"), ("Z", "P2", "bug")), RankSettings(min_week_tickets=30))
    assert len(result.weeks) == 3 and result.ranked.set_index("theme_id").loc["A", "trend"] == "new"


def test_a_theme_the_clustering_re_formed_is_not_new():
    """Next.js' "Build · error" (2023-09-18) was born in a refit with 16 issues after weeks of 3, 5, 10,
    11, 4 and 4 of its tickets, and its card read "new · 0 last week" beside a spike alert against 5.7 a
    week: an issue that was theme-sized before reads against those weeks, as its spike test does. A
    theme whose earlier tickets never made a theme's worth in a week is new."""
    def born(history: list[int]) -> pd.Series:
        rows = [tickets("C", 30, 30, start=900)]
        for k, n in enumerate(reversed(history), start=1):
            rows.append(tickets("A", n, n, week=WEEK - timedelta(weeks=k), start=100 * k))
            rows.append(tickets("C", 30, 30, week=WEEK - timedelta(weeks=k), start=1000 + 100 * k))
        ctx = make_context(WEEK, 8, frame(*rows, tickets("A", 16, 16)), ReviewState(), first_seen={"A": WEEK},
                           origins={"A": "new"}, tracking_start=WEEK - timedelta(weeks=7))
        return rank_week(ctx, summaries(("A", "P2", "bug"), ("C", "P4", "other"))).ranked.set_index("theme_id").loc["A"]

    reformed = born([3, 5, 4, 6, 4, 4, 5])
    assert (reformed["trend"], reformed["trend_baseline"]) == ("rising", 4.75)  # its last 4 weeks: 6, 4, 4, 5
    trickle = born([1, 0, 2, 1, 0, 2, 1])
    assert trickle["trend"] == "new" and pd.isna(trickle["trend_baseline"])


def test_on_equal_impact_more_tickets_rank_first_and_one_week_needs_no_period_note():
    data = frame(tickets("A", 10, 5), tickets("B", 5, 5), tickets("C", 30, 30))
    ranked = rank_week(context(data), summaries(("A", "P2", "bug"), ("B", "P2", "bug"), ("C", "P4", "other"))).ranked
    assert ranked[["theme_id", "impact"]].values.tolist() == [["C", 30.0], ["A", 20.0], ["B", 20.0]]
    from ticket_intel.core.rank import period_note

    assert period_note(WEEK, 1) is None and "ranked over the 2 weeks" in period_note(WEEK, 2)


def test_a_loose_theme_ranks_after_the_themes_that_are_one_issue():
    """Jest's bug titles, all P1, ranked over 6 weeks on 2022-12-12: "Jsdom · expect" (13 customers,
    its leading words in 31% of its tickets, its card saying so) ranked first over "Preset · js" (5,
    100%). A loose theme (`summarize.LOOSE_SHARE`, the card's own note) now follows
    the others, by impact among the loose; a share unknown (None, NaN: no terms, a warehouse written
    before it) is not loose."""
    from ticket_intel.core.summarize import LOOSE_SHARE

    data = frame(tickets("L", 19, 19), tickets("M", 8, 8), tickets("C", 6, 6), tickets("U", 5, 5), tickets("N", 7, 7))
    summ = summaries(*[(t, "P1", "bug") for t in "LMCUN"])
    summ["described_share"] = [0.2, LOOSE_SHARE - 0.01, LOOSE_SHARE, None, np.nan]
    ranked = rank_week(context(data), summ).ranked
    assert ranked["theme_id"].tolist() == ["N", "C", "U", "L", "M"]
    assert ranked["rank"].tolist() == [1, 2, 3, 4, 5] and ranked.set_index("theme_id").loc["L", "impact"] == 19 * 8.0
    from ticket_intel.core.rank import is_loose

    assert [is_loose(s) for s in (0.2, LOOSE_SHARE, None, np.nan)] == [True, False, False, False]


def test_the_minimum_holds_for_the_tickets_a_theme_shows_not_those_hysteresis_kept_in_it():
    """Small-team review: "Node · generate" ranked #2 showing 4 tickets under a minimum of 5; its
    fifth ticket was kept in it by hysteresis (theme_id) while this run's clustering put it elsewhere
    (series_theme_id), and the figures count by series."""
    rows = tickets("A", 30, 30) + tickets("N", 5, 5)
    for row in rows:
        row["series_theme_id"] = row["theme_id"]
    rows[-1]["series_theme_id"] = "A"  # kept in N, counted in A
    result = rank_week(context(frame(rows)), summaries(("A", "P2", "bug"), ("N", "P2", "bug")))
    assert list(result.ranked["theme_id"]) == ["A"]
    small = result.not_a_theme.set_index("theme_id")
    assert small.loc["N", "tickets"] == 4 and "a theme needs 5 tickets" in small.loc["N", "reason"]
    assert len(small.loc["N", "ticket_ids"]) == 4  # the tickets it counts (the re-verification: 4 said, 5 listed)


def test_a_run_says_once_which_weeks_were_ranked_over_several():
    """Next.js's run printed "2020-11-16: too few tickets to rank the week alone; ranked over the 2 weeks
    from 2020-11-09" and 23 more lines like it, one per week, in the middle of its output."""
    from ticket_intel.defs.ranking import ranked_over

    assert ranked_over({date(2020, 11, 30): 2, date(2020, 11, 16): 2}) == (
        "2 weeks with too few tickets to rank alone, each ranked over the 2 weeks ending with it: 2020-11-16, 2020-11-30")
    assert ranked_over({date(2022, 10, 10): 3, date(2022, 10, 3): 2}).startswith(
        "2 weeks with too few tickets to rank alone, each ranked over the 2 to 3 weeks ending with it: 2022-10-03")
