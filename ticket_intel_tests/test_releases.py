"""Releases (core/releases.py) and the exact rate test they use (core/rates.py)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy.stats import poisson

from ticket_intel.core import releases as rel
from ticket_intel.core.anomalies import COLUMNS
from ticket_intel.core.rates import OWN, DispersionPrior, compare_rates, dispersion, dispersion_prior

RELEASE = rel.Release("4.2", datetime(2026, 3, 4, 15, 0))  # a Wednesday; its week starts 2026-03-02


def weekly(counts_before: list[int], counts_after: list[int]) -> pd.Series:
    """Weeks before the release week, the release week (3 tickets), then weeks after it."""
    release_week = date(2026, 3, 2)
    before = {release_week - timedelta(weeks=len(counts_before) - i): c for i, c in enumerate(counts_before)}
    after = {release_week + timedelta(weeks=i + 1): c for i, c in enumerate(counts_after)}
    return pd.Series({**before, release_week: 3, **after}).sort_index()


def test_rate_test_is_the_exact_conditional_binomial() -> None:
    # 10/week for 6 weeks, then 0 in one week: P(all 60 tickets land in the first 6 of 7 weeks).
    result = compare_rates(60, 6, 0, 1, "less")
    assert result.p_value == pytest.approx((6 / 7) ** 60)
    assert (result.before, result.after) == (10.0, 0.0)
    assert compare_rates(0, 3, 0, 2, "greater").p_value == 1.0
    with pytest.raises(ValueError, match="at least one week"):
        compare_rates(3, 0, 1, 1, "less")


def test_rate_test_holds_its_level_under_equal_rates() -> None:
    """Under equal rates a test at 5% rejects at most about 5% of the time (exact tests are
    conservative): computed over every outcome, not sampled."""
    rate, weeks_before, weeks_after = 4.0, 6, 3
    size = 0.0
    for a in range(0, 80):
        for b in range(0, 50):
            if compare_rates(a, weeks_before, b, weeks_after, "less").p_value < 0.05:
                size += poisson.pmf(a, rate * weeks_before) * poisson.pmf(b, rate * weeks_after)
    assert 0.02 < size <= 0.05


def test_releases_csv_parses_and_sorts() -> None:
    text = "released_at,version,notes\n2026-03-04T15:00:00Z,4.2,New card screen\n2026-02-01,4.1,\n"
    releases = rel.parse_releases_csv(text)
    assert [r.version for r in releases] == ["4.1", "4.2"]
    assert releases[1].released_at == datetime(2026, 3, 4, 15, 0)
    assert releases[0].released_at == datetime(2026, 2, 1)
    semicolons = rel.parse_releases_csv(text.replace(",", ";"))  # as a European Excel saves it
    assert [(r.version, r.released_at, r.notes) for r in semicolons] == [(r.version, r.released_at, r.notes)
                                                                         for r in releases]


@pytest.mark.parametrize(("text", "message"), [
    ("date,version\n2026-01-01,1.0\n", "missing column.*released_at"),
    ("released_at,version\nsoon,1.0\n", "line 2.*'soon' is not a date"),
    ("released_at,version\n2026-01-01,\n", "line 2: empty version"),
    ("released_at,version\n2026-01-01,v1.0\n2026-02-01,1.0\n", "listed twice"),
])
def test_bad_releases_csv_says_where(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rel.parse_releases_csv(text)


def test_github_releases_export(tmp_path) -> None:
    path = tmp_path / "releases.json"
    path.write_text(json.dumps([
        {"tag_name": "v4.2.0", "name": "4.2", "published_at": "2026-03-04T15:00:00Z", "body": "Fixes", "draft": False},
        {"tag_name": "v4.3.0", "name": "next", "published_at": None, "body": "", "draft": True},
        {"tag_name": "v4.1.0", "name": "4.1", "published_at": "2026-02-01T08:00:00+01:00", "body": None},
    ]))
    releases = rel.read_releases(path)
    assert [r.version for r in releases] == ["v4.1.0", "v4.2.0"]
    assert releases[0].released_at == datetime(2026, 2, 1, 7, 0)  # converted to UTC
    assert rel.find_release(releases, "4.2.0") == releases[1]
    path.write_text('{"tag_name": "v1"}')
    with pytest.raises(ValueError, match="JSON list of GitHub releases"):
        rel.read_releases(path)


def test_started_days_after_the_latest_release_within_the_window() -> None:
    releases = [rel.Release("4.1", datetime(2026, 2, 1)), RELEASE]
    link = rel.release_before(releases, datetime(2026, 3, 6, 16, 0), within_days=7)
    assert link is not None and (link.version, link.days_after) == ("4.2", 2)
    assert rel.describe_after_release(link.version, link.days_after) == "started 2 days after 4.2"
    assert rel.release_before(releases, datetime(2026, 3, 4, 14, 0), 7) is None  # 4.1 is 31 days back
    assert rel.release_before(releases, datetime(2026, 3, 12, 16, 0), 7) is None  # 8 days after 4.2
    assert rel.release_before([], datetime(2026, 3, 6), 7) is None


def test_spike_onset_is_when_the_week_passed_its_baseline() -> None:
    times = [datetime(2026, 3, 2) + timedelta(hours=10 * i) for i in range(12)]
    assert rel.spike_onset(times, baseline=4.0) == times[4]  # the 5th ticket exceeds 4 a week
    assert rel.spike_onset(list(reversed(times)), baseline=0.3) == times[0]
    assert rel.spike_onset(times, baseline=40) == times[-1]


def test_fix_that_worked_is_fixed_from_the_first_conclusive_week() -> None:
    counts = weekly([10, 12, 9, 11, 10, 8], [1, 0, 0])
    result = rel.fix_status(counts, RELEASE, week=date(2026, 3, 23))
    assert result.status == rel.FIXED
    assert result.confirmed_week == date(2026, 3, 9)  # one quiet week after 10/week is conclusive
    assert result.before_rate == pytest.approx(10.0) and result.after_rate == pytest.approx(1 / 3)


def test_small_theme_needs_more_weeks_to_call_a_fix() -> None:
    counts = weekly([2, 2, 2, 2, 2, 2], [0, 0, 0])
    assert rel.fix_status(counts, RELEASE, week=date(2026, 3, 9)).status == rel.NOT_YET  # p = (6/7)^12
    later = rel.fix_status(counts, RELEASE, week=date(2026, 3, 23))
    assert later.status == rel.FIXED and later.confirmed_week == date(2026, 3, 16)


def test_unchanged_rate_is_not_yet_and_so_is_a_release_without_a_full_week() -> None:
    assert rel.fix_status(weekly([5, 6, 4, 5], [5, 6, 5]), RELEASE, date(2026, 3, 23)).status == rel.NOT_YET
    pending = rel.fix_status(weekly([5, 6, 4, 5], []), RELEASE, date(2026, 3, 2))
    assert pending.status == rel.NOT_YET and "no full week" in pending.note
    nothing_before = rel.fix_status(weekly([], [1, 2]), RELEASE, date(2026, 3, 16))
    assert nothing_before.status == rel.NOT_YET and "nothing to compare" in nothing_before.note


def test_came_back_after_the_fix_is_a_regression_once() -> None:
    counts = weekly([6, 7, 5, 6, 6, 6], [0, 0, 0, 7, 8])
    result = rel.fix_status(counts, RELEASE, week=date(2026, 4, 6))
    assert result.status == rel.REGRESSED
    assert result.regressed_week == date(2026, 3, 30) and result.regressed_count == 7  # the first week back
    alert = rel.regression_alert({"theme_id": "T1", "label": "Card frozen", "customers": 6,
                                  "example_ticket_ids": ["z:1"]}, result)
    assert set(alert) == set(COLUMNS)
    assert alert["alert_key"] == "T1|2026-03-30|regression" and alert["kind"] == rel.REGRESSION
    assert "came back after the fix in 4.2: 7 tickets" in rel.describe_regression(alert, "4.2")


def test_a_residual_trickle_is_not_a_regression() -> None:
    # 20/week before, then 0, 0, 0, 4: above the post-fix rate but far below the pre-fix one.
    result = rel.fix_status(weekly([20, 21, 19, 20, 20, 20], [0, 0, 0, 4]), RELEASE, week=date(2026, 3, 30))
    assert result.status == rel.FIXED
    with pytest.raises(ValueError, match="only a regressed fix"):
        rel.regression_alert({"theme_id": "T1"}, result)


def test_bursty_themes_need_more_evidence_of_a_fix() -> None:
    before = [2, 20, 3, 18, 1, 22]  # mean 11, variance 87: far burstier than Poisson
    assert dispersion(before) == pytest.approx(np.var(before, ddof=1) / np.mean(before))
    assert dispersion([5, 5, 5]) == 1.0 and dispersion([4]) == 1.0
    assert compare_rates(sum(before), 6, 9, 2, "less").p_value < 0.05  # Poisson alone would call it fixed
    assert rel.fix_status(weekly(before, [4, 5]), RELEASE, date(2026, 3, 16)).status == rel.NOT_YET


def test_a_dispersion_of_few_weeks_is_moderated_toward_many_series() -> None:
    """(d0 s0 + d s) / (d0 + d): weeks 1, 4, 0, 1 (2.0 on 3 degrees of freedom) toward a common 1.4
    of 21 degrees of freedom, weighing 10; with fewer, the other series' (its own are in them); a
    series with no index of its own takes the common one; no prior leaves its own."""
    assert dispersion([1, 4, 0, 1], DispersionPrior(1.4, 21)) == pytest.approx((10 * 1.4 + 3 * 2.0) / 13)
    assert dispersion([1, 4, 0, 1], DispersionPrior(1.4, 7)) == pytest.approx((4 * 1.4 + 3 * 2.0) / 7)
    assert dispersion([1, 4, 0, 1], DispersionPrior(1.4, 3)) == pytest.approx(2.0)
    assert dispersion([0, 0, 0], DispersionPrior(1.4, 6)) == pytest.approx(1.4) == dispersion([4], DispersionPrior(1.4, 6))
    assert dispersion([5, 5, 5, 5], DispersionPrior(0.5, 21)) == 1.0  # never below Poisson
    assert dispersion([1, 4, 0, 1], OWN) == dispersion([1, 4, 0, 1]) == pytest.approx(2.0)


def test_the_common_dispersion_is_the_median_of_the_indexes_as_poisson_ones() -> None:
    """Each index over its Poisson median (chi-square over its degrees of freedom), so Poisson series
    say about 1 (the indexes of small counts are few distinct values, so one window's median is rougher); a theme whose baseline holds its own burst (23, 0, 2: an index of 19.5) moves the mean
    of 7 themes' indexes from 1.1 to 3.0, their median from 1.41 to 1.57."""
    rng = np.random.default_rng(3)
    poisson = dispersion_prior(rng.poisson(m, 4) for m in rng.uniform(1, 6, 3000))
    assert poisson.scale == pytest.approx(1.0, abs=0.1)
    window = [[1, 3, 0, 3], [6, 4, 1, 3], [1, 4, 0, 1], [2, 5, 1, 4], [3, 1, 1, 1], [7, 7, 4, 4], [2, 1, 4, 1]]
    assert dispersion_prior([*window[:-1], [23, 0, 2]]).scale == pytest.approx(
        dispersion_prior(window).scale, rel=0.15)
    assert dispersion_prior([[2, 3], [0, 0], [5]]) == DispersionPrior(pytest.approx(0.2 / 0.4549, rel=1e-3), 1.0)
    assert dispersion_prior([[0, 0], [3]]) == OWN


def test_fixed_is_judged_on_all_weeks_since_not_kept_from_a_lucky_week() -> None:
    # 0 in the first week after the release (p < 0.05 alone), then back to 5-6 a week: not a fix.
    result = rel.fix_status(weekly([5, 6, 5, 6, 5, 6], [0, 5, 6, 5]), RELEASE, date(2026, 3, 30))
    assert result.status == rel.NOT_YET and result.confirmed_week == date(2026, 3, 9)


def test_fix_statuses_for_every_fixed_theme_from_a_count_table() -> None:
    weeks = [date(2026, 3, 2) + timedelta(weeks=k) for k in range(-6, 4)]
    counts = pd.DataFrame([[0, 0, 9, 11, 10, 10, 3, 0, 0, 0], [4] * 10], index=["T1", "T2"], columns=weeks)
    statuses = rel.fix_statuses(counts, {"T1": date(2026, 2, 2)}, {"T1": "v4.2", "T2": "9.9"}, [RELEASE],
                                week=date(2026, 3, 23))
    assert statuses["T1"].status == rel.FIXED and statuses["T1"].before_rate == pytest.approx(10.0)  # since birth
    assert statuses["T2"].status == rel.NOT_YET and "release 9.9 is not in the releases file" in statuses["T2"].note


def test_after_release_links_only_where_a_release_came_shortly_before() -> None:
    starts = {"T1": datetime(2026, 3, 6, 9), "T2": datetime(2026, 2, 20), "T3": datetime(2026, 3, 4, 15)}
    links = rel.after_release_links([RELEASE], starts, within_days=7)
    assert set(links) == {"T1", "T3"} and links["T3"].days_after == 0
    assert rel.describe_after_release(links["T3"].version, links["T3"].days_after, "spiked") == "spiked the same day as 4.2"
