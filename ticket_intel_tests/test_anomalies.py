"""Spike and new-pattern statistics (core/anomalies.py), on synthetic weekly windows."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import poisson

from ticket_intel.core import anomalies, notify
from ticket_intel.core.anomalies import AlertSettings, detect, spike_test, tail_probability
from ticket_intel.core.context import baseline_weeks, make_context
from ticket_intel.core.review import ReviewState
from ticket_intel.core.subgroups import NEW_GROUP

START = date(2026, 1, 5)  # a Monday
DEFAULTS = AlertSettings()


def wk(k: int) -> date:
    return START + timedelta(weeks=k)


def window(counts: dict[str, dict[int, int]], one_customer: dict[tuple[str, int], int] | None = None) -> pd.DataFrame:
    """Tickets of a window: `counts[theme][week index] = tickets`, each from its own customer,
    except `one_customer[(theme, week)]` tickets of that week, all from one customer."""
    rows = []
    for theme, weeks in counts.items():
        for k, n in weeks.items():
            single = (one_customer or {}).get((theme, k), 0)
            for i in range(n):
                customer = f"{theme}-{k}-whale" if i < single else f"{theme}-{k}-c{i}"
                rows.append({"ticket_id": f"{theme}-{k}-{i}", "ticket_week": wk(k), "theme_id": theme, "customer": customer})
    return pd.DataFrame(rows, columns=["ticket_id", "ticket_week", "theme_id", "customer"])


def ranked(frame: pd.DataFrame, week: date) -> list[dict[str, object]]:
    """This week's themes as ranked_themes rows."""
    now = frame[frame["ticket_week"] == week]
    return [{"theme_id": t, "label": f"label {t}", "tickets": len(g), "customers": g["customer"].nunique(),
             "example_ticket_ids": sorted(g["ticket_id"])} for t, g in now.groupby("theme_id")]


def run(frame: pd.DataFrame, k: int, births: dict[str, int] | None = None, tracking_start: int = 0,
        ranked_before: frozenset[str] = frozenset(), cfg: AlertSettings = DEFAULTS,
        groups: frozenset[str] = frozenset()) -> list[dict[str, object]]:
    """The alerts of week `k`; `births`' themes appeared as new themes, or as new groups (`groups`)."""
    week = wk(k)
    frame = frame[(frame["ticket_week"] <= week) & (frame["ticket_week"] > week - timedelta(weeks=8))]
    origins = {t: NEW_GROUP if t in groups else "new" for t in births or {}}
    ctx = make_context(week, 8, frame.rename(columns={"customer": "customer_id"}), ReviewState(),
                       first_seen={t: wk(b) for t, b in (births or {}).items()}, origins=origins,
                       tracking_start=wk(tracking_start), ranked_before=ranked_before)
    return detect(ctx, ranked(frame, week), cfg)


def kinds(alerts: list[dict[str, object]]) -> set[tuple[object, object]]:
    return {(a["theme_id"], a["kind"]) for a in alerts}


def test_a_small_queue_s_ranking_over_several_weeks_is_tested_on_the_week_s_own_tickets():
    """Swift's bug titles: a theme ranked over 2 quiet weeks with 28 tickets raised a 'spike'
    against its 7 a week; the week itself held 14, within its noise."""
    frame = window({"A": {k: 7 for k in range(6)} | {6: 14, 7: 14}})
    ctx = make_context(wk(7), 8, frame.rename(columns={"customer": "customer_id"}), ReviewState())
    over_two = [{**ranked(frame, wk(7))[0], "tickets": 28, "customers": 28, "ranked_weeks": 2}]
    assert anomalies.week_themes(ctx, over_two)[0] | {"ranked_weeks": 2} == {**over_two[0], "tickets": 14, "customers": 14}
    assert detect(ctx, anomalies.week_themes(ctx, over_two)) == [] and detect(ctx, over_two) != []


# --- the spike test --------------------------------------------------------------------------

def test_spike_needs_ratio_p_value_and_count():
    assert spike_test(30, [10, 9, 11, 10, 10, 10]).is_spike
    assert not spike_test(6, [1, 2, 1, 2]).is_spike  # 3x but only 6 tickets: tiny themes do not alert
    assert not spike_test(120, [100, 101, 99, 100]).is_spike  # p tiny, but +20% is not a spike
    assert not spike_test(12, [5, 6, 6, 7]).is_spike  # 2x and 12 tickets, but Poisson-plausible (p > 0.01)


def test_spike_test_reports_its_numbers():
    test = spike_test(30, [8, 10, 12, 10])
    assert test.baseline == 10 and test.ratio == 3 and test.weeks == 4
    assert test.p_value == pytest.approx(poisson.sf(29, 10))


def test_no_baseline_no_spike():
    """Fewer eligible weeks than min_baseline_weeks: no ratio, no p-value, no spike."""
    test = spike_test(50, [1, 1, 1], AlertSettings(min_baseline_weeks=4))
    assert not test.is_spike and test.ratio is None and test.p_value is None


def test_baseline_is_the_last_baseline_weeks():
    test = spike_test(20, [100, 100, 5, 5, 5, 5], AlertSettings(baseline_weeks=4))
    assert test.baseline == 5 and test.is_spike


@settings(max_examples=200, deadline=None)
@given(count=st.integers(0, 200), history=st.lists(st.integers(0, 100), min_size=0, max_size=10))
def test_spike_never_below_the_floors(count, history):
    cfg = AlertSettings()
    test = spike_test(count, history, cfg)
    if test.is_spike:
        assert count >= cfg.min_count
        assert test.ratio is not None and test.ratio >= cfg.min_ratio
        assert test.p_value is not None and test.p_value < cfg.max_p_value
        assert len(history) >= cfg.min_baseline_weeks


@settings(max_examples=300, deadline=None)
@given(excess=st.integers(0, 100), history=st.lists(st.integers(0, 60), min_size=2, max_size=8),
       weeks=st.integers(1, 2))
def test_negative_binomial_upper_tail_is_never_thinner_than_poisson(excess, history, weeks):
    """Where spikes can fire (>= 2x the baseline and >= min_count) the negative binomial is the more
    cautious, for a week's count and for two weeks' (a new group found over two weeks)."""
    count = max(int(np.ceil(2 * weeks * max(np.mean(history), 1.0))), AlertSettings().min_count) + excess
    nb = tail_probability(count, history, AlertSettings(distribution=anomalies.NEGATIVE_BINOMIAL), weeks)
    assert nb >= tail_probability(count, history, AlertSettings(distribution=anomalies.POISSON), weeks) - 1e-12


def test_negative_binomial_widens_with_the_baseline_spread():
    """Same mean (10): a bursty baseline makes 25 far less surprising than a steady one."""
    nb = AlertSettings(distribution=anomalies.NEGATIVE_BINOMIAL)
    steady, bursty = [10, 10, 10, 10, 10, 10], [2, 25, 3, 18, 1, 11]
    assert tail_probability(25, bursty, nb) > 100 * tail_probability(25, steady, nb)
    assert not spike_test(25, bursty, nb).is_spike
    assert spike_test(25, bursty).is_spike  # Poisson ignores the spread


def test_unknown_distribution_is_refused():
    with pytest.raises(ValueError, match="distribution"):
        AlertSettings(distribution="gaussian")
    with pytest.raises(ValueError, match="min_baseline_weeks"):
        AlertSettings(baseline_weeks=4, min_baseline_weeks=5)


# --- baselines only from weeks that say something about the theme ---------------------------

def test_weeks_before_the_data_starts_are_not_a_zero_baseline():
    """Bug (a): a steady theme must not 'spike' in weeks 2-4 against weeks before any export."""
    frame = window({"A": dict.fromkeys(range(6), 12) | {6: 40}, "B": dict.fromkeys(range(7), 15)})
    for k in range(1, 6):
        assert run(frame, k) == [], k
    assert kinds(run(frame, 6)) == {("A", anomalies.SPIKE)}


def test_a_gap_in_the_exports_is_not_a_zero_week():
    frame = window({"A": {0: 10, 1: 10, 3: 10, 4: 10, 5: 10}})  # week 2 holds no tickets at all
    assert run(frame, 5) == []
    assert baseline_weeks(wk(5), [wk(0), wk(1), wk(3), wk(4)], None) == [wk(0), wk(1), wk(3), wk(4)]


def test_a_theme_born_last_week_does_not_spike_against_weeks_before_it_existed():
    """Bug (c): a new theme keeps its level the week after its birth: no spike."""
    frame = window({"old": dict.fromkeys(range(8), 20), "young": {6: 25, 7: 22}})
    assert run(frame, 7, births={"young": 6}) == []


def test_a_young_theme_spikes_once_it_has_enough_weeks_of_its_own():
    frame = window({"old": dict.fromkeys(range(9), 20), "young": {3: 5, 4: 6, 5: 5, 6: 4, 7: 25}})
    assert kinds(run(frame, 7, births={"young": 3})) == {("young", anomalies.SPIKE)}
    alert = run(frame, 7, births={"young": 3})[0]
    assert alert["baseline"] == 5 and alert["baseline_weeks"] == 4


def test_a_theme_the_clustering_re_formed_spikes_against_the_weeks_its_tickets_were_already_there():
    """Next.js' 'Edge · memory', born on 2023-09-18 with 15 tickets after 8, 9, 8, 5, 3 and 1 of its own:
    not new (theme-sized before) and without a baseline since its birth, so no alert at all."""
    frame = window({"old": dict.fromkeys(range(8), 20), "A": {0: 4, 1: 8, 2: 9, 3: 8, 4: 5, 5: 3, 6: 1, 7: 15}})
    [alert] = run(frame, 7, births={"old": 0, "A": 7})
    assert (alert["theme_id"], alert["kind"]) == ("A", anomalies.SPIKE) and alert["baseline"] == pytest.approx(34 / 6)
    # a new group's test found its tickets unlike the earlier ones: its weeks count from its birth
    assert run(frame, 7, births={"old": 0, "A": 7}, groups=frozenset({"A"})) == []
    # nor does a theme born after a trickle (never theme-sized) take the weeks before its birth
    trickle = window({"old": dict.fromkeys(range(8), 20), "W": {3: 1, 6: 43, 7: 23}})
    assert kinds(run(trickle, 6, births={"old": 0, "W": 6})) == {("W", anomalies.NEW_PATTERN)}
    assert run(trickle, 7, births={"old": 0, "W": 6}) == []


def test_a_split_keeps_the_history_of_its_tickets():
    """A split's earlier tickets were real (filed under its parent): they form its baseline."""
    frame = window({"parent": dict.fromkeys(range(8), 20), "split": {1: 5, 2: 5, 3: 6, 4: 4, 5: 5, 6: 5, 7: 26}})
    assert kinds(run(frame, 7)) == {("split", anomalies.SPIKE)}


def test_themes_born_when_tracking_began_keep_their_history():
    """A first run over older exports: every theme is 'born' then, but its earlier weeks are real."""
    frame = window({"A": dict.fromkeys(range(7), 8) | {7: 30}})
    assert kinds(run(frame, 7, births={"A": 7}, tracking_start=7)) == {("A", anomalies.SPIKE)}
    trickle = window({"A": dict.fromkeys(range(6), 2) | {6: 8, 7: 30}})
    assert kinds(run(trickle, 7, births={"A": 6}, tracking_start=0)) == set()  # born at 6: one week of its own
    # born at 6 where its tickets were theme-sized all along: those weeks are its history
    assert kinds(run(frame, 7, births={"A": 6}, tracking_start=0)) == {("A", anomalies.SPIKE)}


# --- new patterns --------------------------------------------------------------------------

def test_nothing_is_new_in_the_first_tracked_week():
    """Bug (b): in the first week every theme is born; none is new against nothing."""
    frame = window({t: {0: 20} for t in "ABCDEFGHIJKL"})
    assert run(frame, 0, births=dict.fromkeys("ABCDEFGHIJKL", 0)) == []


def test_nothing_is_new_in_the_first_week_after_a_gap_longer_than_the_window():
    """Another product's export added to a warehouse years after its last tickets (the sample bank's
    weeks after twcs' 2017 ones): its first week had 11 new-pattern alerts, one per theme, new
    against a window with no earlier ticket. It starts afresh, as the first tracked week does; the
    week after, a theme born then is new again."""
    frame = window({**{t: {20: 20} for t in "ABCDEFGHIJK"}, "old": {0: 20, 1: 20}, "late": {21: 9}})
    births = dict.fromkeys("ABCDEFGHIJK", 20) | {"old": 0, "late": 21}
    assert run(frame, 20, births=births) == []
    assert kinds(run(frame, 21, births=births, ranked_before=frozenset("ABCDEFGHIJK"))) == {
        ("late", anomalies.NEW_PATTERN)}
    # Born in the window's first week, whose earlier weeks are out of the window: judged when it
    # appeared (the week had earlier tickets), so still new the first week it is a theme.
    edge = window({"old": dict.fromkeys(range(11), 20), "edge": {3: 1, 10: 9}})
    assert kinds(run(edge, 10, births={"old": 0, "edge": 3})) == {("edge", anomalies.NEW_PATTERN)}


def test_a_theme_born_later_without_ancestor_is_a_new_pattern():
    frame = window({"old": dict.fromkeys(range(5), 20), "new": {4: 9}})
    alerts = run(frame, 4, births={"old": 0, "new": 4})
    assert kinds(alerts) == {("new", anomalies.NEW_PATTERN)}
    assert alerts[0]["tickets"] == 9 and alerts[0]["customers"] == 9 and alerts[0]["ratio"] is None
    assert alerts[0]["since"] == wk(4)


def test_a_new_pattern_mostly_from_one_customer_is_flagged():
    """21 tickets from 6 customers, 16 from one (a GitHub reporter filing a fuzzer's findings): new,
    and flagged, so a reader sees one customer's pattern, not 21 tickets'; 4 of 9 is not most."""
    frame = window({"old": dict.fromkeys(range(5), 20), "one": {4: 21}, "broad": {4: 9}},
                   one_customer={("one", 4): 16, ("broad", 4): 4})
    alerts = {a["theme_id"]: a for a in run(frame, 4, births={"old": 0, "one": 4, "broad": 4})}
    assert alerts["one"]["kind"] == anomalies.NEW_PATTERN and alerts["one"]["customers"] == 6
    assert alerts["one"]["top_customer_tickets"] == 16 and alerts["one"]["concentrated"]
    assert alerts["broad"]["top_customer_tickets"] == 4 and not alerts["broad"]["concentrated"]


def test_new_pattern_needs_enough_tickets_and_customers():
    frame = window({"old": dict.fromkeys(range(5), 20), "few": {4: 4}, "one": {4: 8}}, one_customer={("one", 4): 7})
    assert run(frame, 4, births={"old": 0, "few": 4, "one": 4}) == []  # 4 tickets; 8 tickets from 2 customers


def test_a_pattern_is_new_the_first_week_it_is_a_theme():
    """Born at 3 tickets (not yet a theme), a theme the week after: new then, and only then."""
    frame = window({"old": dict.fromkeys(range(7), 20), "new": {4: 3, 5: 9, 6: 12}})
    births = {"old": 0, "new": 4}
    assert run(frame, 4, births=births) == []
    assert kinds(run(frame, 5, births=births)) == {("new", anomalies.NEW_PATTERN)}
    assert run(frame, 6, births=births, ranked_before=frozenset({"old", "new"})) == []


def test_a_theme_ranked_before_the_window_is_not_new_again():
    frame = window({"old": dict.fromkeys(range(11), 20), "back": {1: 8, 10: 8}})
    births = {"old": 0, "back": 1}
    assert kinds(run(frame, 10, births=births)) == {("back", anomalies.NEW_PATTERN)}  # week 1 is out of the window
    assert run(frame, 10, births=births, ranked_before=frozenset({"old", "back"})) == []


def test_a_trickle_a_refit_first_gathers_into_a_theme_is_not_new():
    """2-4 tickets a week, outliers until a refit gathers them: 5 this week is what their rate
    predicts, so the theme is new to the clustering, not a new pattern (a sample week's sub-topic)."""
    frame = window({"old": dict.fromkeys(range(6), 20), "gathered": {0: 2, 1: 3, 2: 2, 3: 4, 4: 3, 5: 5}})
    assert run(frame, 5, births={"old": 0, "gathered": 5}) == []
    burst = window({"old": dict.fromkeys(range(6), 20), "burst": {0: 1, 2: 1, 5: 9}})
    assert kinds(run(burst, 5, births={"old": 0, "burst": 5})) == {("burst", anomalies.NEW_PATTERN)}


def test_a_new_pattern_with_earlier_tickets_carries_their_rate_not_never_seen_before():
    """twcs' "Package · delivery" had 14 tickets in the 7 weeks before it formed; its alert said
    "never seen before" with a baseline of 0."""
    burst = window({"old": dict.fromkeys(range(6), 20), "burst": {0: 1, 2: 1, 5: 9}})
    alert = run(burst, 5, births={"old": 0, "burst": 5})[0]
    assert alert["baseline"] == pytest.approx(2 / 5) and alert["baseline_weeks"] == 5
    assert 0 < alert["p_value"] < AlertSettings().max_p_value
    text = notify.describe({**alert, "week_start": wk(5), "label": "Package · delivery"})
    assert "never seen" not in text and "0.4/week before it in the 5 weeks of data" in text
    fresh = window({"old": dict.fromkeys(range(6), 20), "fresh": {5: 9}})
    alert = run(fresh, 5, births={"old": 0, "fresh": 5})[0]
    assert (alert["baseline"], alert["baseline_weeks"]) == (0.0, 5)
    assert "never seen before" in notify.describe({**alert, "week_start": wk(5), "label": "Fresh"})


def test_a_new_group_found_over_two_weeks_is_new_with_both_weeks_tickets():
    """An issue of 3 tickets a week is no group in its first week; a new group found over two weeks
    (core/subgroups.py) is new on its 6 tickets, though this week holds 3. A theme the clustering
    first finds with last week's tickets in it is judged on this week's alone, and a group whose
    tickets were theme-sized before last week is not new."""
    frame = window({"old": dict.fromkeys(range(5), 20), "group": {3: 4, 4: 4}})
    alerts = run(frame, 4, births={"old": 0, "group": 4}, groups=frozenset({"group"}))
    assert kinds(alerts) == {("group", anomalies.NEW_PATTERN)}
    assert (alerts[0]["tickets"], alerts[0]["customers"], alerts[0]["since"]) == (8, 8, wk(3))  # both weeks
    assert run(frame, 4, births={"old": 0, "group": 4}) == []
    before = window({"old": dict.fromkeys(range(5), 20), "group": {2: 6, 3: 4, 4: 4}})
    assert run(before, 4, births={"old": 0, "group": 4}, groups=frozenset({"group"})) == []


def test_a_new_group_found_over_two_weeks_is_held_to_two_weeks_of_its_earlier_rate():
    """twcs' "Customer service · charging", 9 tickets over two weeks and none before, stored p = 1.1e-6:
    its two weeks were tested against one week's rate. The smallest such group, 3 + 3 tickets, alerted
    at P(X >= 6 | 1 a week) = 6e-4; two weeks expect 2 (the floor of 1 a week), p = 0.017: not new."""
    frame = window({"old": dict.fromkeys(range(5), 20), "group": {3: 3, 4: 3}})
    assert run(frame, 4, births={"old": 0, "group": 4}, groups=frozenset({"group"})) == []
    (alert,) = run(window({"old": dict.fromkeys(range(5), 20), "group": {3: 4, 4: 5}}), 4,
                   births={"old": 0, "group": 4}, groups=frozenset({"group"}))
    assert alert["baseline"] == 0.0 and alert["p_value"] == pytest.approx(poisson.sf(8, 2))  # twcs' 2.4e-4


def test_a_split_is_never_a_new_pattern():
    frame = window({"old": dict.fromkeys(range(5), 20), "split": {4: 9}})
    assert run(frame, 4, births={"old": 0}) == []


def test_a_pattern_already_theme_sized_earlier_is_not_new():
    """Only the clustering is new when the tickets were there at theme size before."""
    frame = window({"old": dict.fromkeys(range(5), 20), "renamed": {1: 6, 2: 5, 3: 5, 4: 7}})
    assert run(frame, 4, births={"old": 0, "renamed": 4}) == []
    stray = window({"old": dict.fromkeys(range(5), 20), "fresh": {2: 1, 4: 7}})
    assert kinds(run(stray, 4, births={"old": 0, "fresh": 4})) == {("fresh", anomalies.NEW_PATTERN)}
    # 6 tickets from 2 customers earlier was not theme-sized: still new
    single = window({"old": dict.fromkeys(range(5), 20), "fresh": {2: 6, 4: 7}}, one_customer={("fresh", 2): 5})
    assert kinds(run(single, 4, births={"old": 0, "fresh": 4})) == {("fresh", anomalies.NEW_PATTERN)}


# --- what an alert carries -------------------------------------------------------------------

def test_a_spike_stays_out_of_the_baseline_and_the_next_week_continues_its_event():
    """PowerToys' 'Run · crashes': 33 against 7.8, then 23 against 9.8, a baseline holding the 33,
    paged as a fresh spike. The baseline is the normal weeks; the week after a spike continues it."""
    frame = window({"A": {0: 7, 1: 8, 2: 7, 3: 5, 4: 6, 5: 3, 6: 33, 7: 23}})
    assert anomalies.spiked([7, 8, 7, 5, 6, 3, 33]) == [False] * 6 + [True]
    first, second = run(frame, 6), run(frame, 7)
    assert [a["since"] for a in first] == [None]
    [alert] = second
    assert alert["baseline"] == pytest.approx(6.0) and alert["since"] == wk(6)  # 7, 8, 7, 5, 6, 3
    assert notify.describe(alert).startswith(
        f"Spike continues: 'label A' — 23 tickets from 23 customers in the week of {wk(7)}, still 3.8x its "
        f"baseline of 6.0/week from before the spike began in the week of {wk(6)} (p = ")


def test_a_spike_after_two_normal_weeks_is_a_new_event():
    frame = window({"A": {0: 7, 1: 8, 2: 7, 3: 5, 4: 30, 5: 6, 6: 5, 7: 30}})
    [alert] = run(frame, 7)
    assert alert["since"] is None and alert["baseline"] == pytest.approx(38 / 6)  # 7, 8, 7, 5, 6, 5: not the 30


def test_one_quiet_week_between_spikes_does_not_end_the_event():
    """PowerToys' Awake tray icon: 11 and 12 tickets against about 3.5 a week, then 4, then 12 again,
    paged a second time for the same bug; Next.js' route family 40, 25, 39 against 18."""
    assert anomalies.event_start([False, True, True, False]) == 1
    assert anomalies.event_start([False, True, False, True, False]) == 1  # a lull, twice, is still one event
    assert anomalies.event_start([True, False, False]) is None
    frame = window({"A": {0: 3, 1: 2, 2: 5, 3: 4, 4: 11, 5: 12, 6: 4, 7: 12}})
    [alert] = run(frame, 7)
    assert alert["since"] == wk(4) and alert["baseline"] == pytest.approx(3.6)  # the 4 is a normal week
    assert anomalies.continuing({**alert, "week_start": wk(7)})


def test_alert_carries_numbers_examples_and_a_stable_key():
    frame = window({"A": dict.fromkeys(range(6), 10) | {6: 35}})
    first, again = run(frame, 6), run(frame, 6)
    assert first == again
    (alert,) = first
    assert alert["alert_key"] == f"A|{wk(6).isoformat()}|{anomalies.SPIKE}"
    assert set(anomalies.COLUMNS) <= set(alert)
    assert alert["tickets"] == 35 and alert["customers"] == 35 and alert["baseline"] == 10
    assert alert["ratio"] == 3.5 and 0 < alert["p_value"] < 1e-6
    assert len(alert["example_ticket_ids"]) == 3 and not alert["concentrated"]


def test_a_spike_from_one_customer_is_flagged_with_its_customer_count():
    """84 tickets from 13 customers, 72 from one: sent, flagged, customers shown beside tickets."""
    frame = window({"A": dict.fromkeys(range(6), 20) | {6: 84}}, one_customer={("A", 6): 72})
    (alert,) = run(frame, 6)
    assert alert["kind"] == anomalies.SPIKE and alert["tickets"] == 84
    assert alert["customers"] == 13 and alert["top_customer_tickets"] == 72
    assert alert["customer_baseline"] == 20 and alert["concentrated"]


def test_a_broad_spike_is_not_flagged():
    frame = window({"A": dict.fromkeys(range(6), 20) | {6: 84}}, one_customer={("A", 6): 3})
    (alert,) = run(frame, 6)
    assert not alert["concentrated"] and alert["customers"] == 82 and alert["top_customer_tickets"] == 3


def test_outliers_count_as_data_but_not_as_a_theme():
    frame = window({"A": {5: 9, 6: 30}})  # 9 from nothing is below the count floor, not a spike itself
    outliers = pd.DataFrame({"ticket_id": [f"o{k}" for k in range(5)], "ticket_week": [wk(k) for k in range(5)],
                             "theme_id": None, "customer": [f"x{k}" for k in range(5)]})
    both = pd.concat([outliers, frame], ignore_index=True)
    # weeks 0-4 hold data (outliers), so A's zeros there are real zeros
    (alert,) = run(both, 6)
    assert alert["baseline"] == pytest.approx(np.mean([0, 0, 0, 0, 0, 9])) and alert["baseline_weeks"] == 6


def test_an_empty_window_gives_no_alerts():
    assert run(window({}), 3) == []


# --- real weeks from ../shared (skipped without it) -------------------------------------------

def test_real_broad_spike_alerts_and_single_account_spike_is_flagged(shared_datasets):
    from bench.alerts import load, real_case

    issues = load()
    broad = real_case(issues, "microsoft_PowerToys", date(2021, 6, 28), DEFAULTS)
    assert broad["alert"] == "spike" and not broad["concentrated"] and broad["customers"] == 156
    fuzzer = real_case(issues, "TensorFlow_tensorflow", date(2023, 1, 16), DEFAULTS)
    assert fuzzer["alert"] == "spike" and fuzzer["concentrated"]
    assert (fuzzer["tickets"], fuzzer["customers"], fuzzer["top customer"]) == (84, 13, 72)


@pytest.mark.parametrize(("since", "week", "before"), [
    (date(2025, 12, 29), date(2026, 1, 5), True),  # the warehouse's dates
    ("2025-12-29", "2026-01-05", True),  # the UI's and the webhooks' payloads
    (pd.Timestamp("2025-12-29"), date(2026, 1, 5), True),  # a frame's column
    ("2026-01-05", date(2026, 1, 5), False),  # found in its own week
    (None, "2026-01-05", False), (pd.NaT, date(2026, 1, 5), False), (float("nan"), date(2026, 1, 5), False),
])
def test_an_alert_began_before_its_week_however_its_dates_are_carried(since, week, before):
    assert anomalies.began_before(since, week) is before


def test_an_alert_keeps_its_related_themes_labels_in_the_order_of_their_ids():
    alerts = [{"theme_id": "G1", "related_theme_ids": ["T2", "T0"]}, {"theme_id": "T5", "related_theme_ids": []}]
    named = anomalies.named(alerts, {"T0": "Card · delivery", "T5": "Fees"})
    assert [a["related_labels"] for a in named] == [[None, "Card · delivery"], []]
    assert anomalies.related_names(named[0]) == ["T2", "\u201cCard · delivery\u201d (T0)"]
    assert anomalies.related_names({"related_theme_ids": ["T2"]}) == ["T2"]  # stored before alerts kept labels



def test_related_themes_read_back_from_the_warehouse_as_arrays():
    stored = {"related_theme_ids": np.array(["T1", "T2"], dtype=object),
              "related_labels": np.array(["Top-up · failed", None], dtype=object)}
    assert anomalies.related_names(stored) == ["\u201cTop-up · failed\u201d (T1)", "T2"]


def test_the_spike_thresholds_include_their_boundaries():
    """Exactly the minimum count (10) and exactly twice the baseline are spikes; a new pattern half
    of whose tickets are one customer's is not concentrated (that needs most); a new group with no
    ticket last week starts this week (mutation review: each boundary survived a one-character change)."""
    assert spike_test(10, [3, 3, 3, 3]).is_spike
    twice = spike_test(20, [10, 10, 10, 10])
    assert twice.is_spike and twice.ratio == 2.0
    half = run(window({"old": dict.fromkeys(range(5), 20), "half": {4: 10}}, one_customer={("half", 4): 5}), 4,
               births={"old": 0, "half": 4})
    assert [(a["kind"], a["top_customer_tickets"], a["concentrated"]) for a in half] == [("new_pattern", 5, False)]
    group = run(window({"old": dict.fromkeys(range(5), 20), "group": {4: 6}}), 4, births={"old": 0, "group": 4},
                groups=frozenset({"group"}))
    assert [a["since"] for a in group] == [wk(4)]


def test_an_example_s_line_is_its_redacted_first_line_shortened():
    text = ["\n  Awake icon no longer in system tray\nSteps: install 0.84", "x " * 200, None]
    frame = pd.DataFrame({"ticket_id": ["a", "b", "c"], "text": text})
    lines = anomalies.example_lines(frame, ["a", "b", "c", "gone"])
    assert lines[0] == "Awake icon no longer in system tray" and lines[2:] == ["", ""]
    assert len(lines[1]) <= anomalies.EXAMPLE_CHARS and lines[1].endswith("\u2026")
