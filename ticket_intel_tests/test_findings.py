"""A week's closing-the-loop findings (core/findings.py) on a synthetic window with known answers:
a theme whose article made customers ask less, one whose article did not, a gap, a theme born two
days after a release, an Enterprise-only theme, a theme fixed in a release, and a regression."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from ticket_intel.core.anomalies import SPIKE
from ticket_intel.core.context import WeekContext, make_context
from ticket_intel.core.findings import (
    ALERT_COLUMNS,
    Inputs,
    fix_results,
    published_by,
    theme_geometry,
    theme_starts,
    week_findings,
    with_releases,
)
from ticket_intel.core.help_center import COVERED, GAP, UNFOUND, Article
from ticket_intel.core.rank import rank_week
from ticket_intel.core.releases import FIXED, REGRESSED, REGRESSION, FixSettings, Release
from ticket_intel.core.review import review_state
from ticket_intel.core.theme_week import LANGUAGE

WEEKS = [date(2026, 1, 5) + timedelta(weeks=k) for k in range(8)]
WEEK = WEEKS[-1]
DIM = 16
# tickets per week index; T-new is born (without ancestor) in week 6, two days into it
COUNTS = {
    "T-cov": [12, 12, 12, 12, 12, 8, 5, 5],  # article published in week 5: fewer tickets since
    "T-unf": [8] * 8,  # article published in week 3: customers keep asking
    "T-gap": [6] * 8,
    "T-ent": [10] * 8,  # 8 of 10 a week from Enterprise accounts
    "T-fix": [10, 10, 10, 10, 0, 5, 5, 5],  # fixed in 5.0 (week 4): half the rate since
    "T-new": [0, 0, 0, 0, 0, 0, 9, 9],
}
AREA = {"T-cov": "Cards", "T-unf": "Cards"}
RELEASES = [Release("4.2", datetime.combine(WEEKS[6], datetime.min.time()) + timedelta(hours=8)),
            Release("5.0", datetime.combine(WEEKS[4], datetime.min.time()) + timedelta(days=1))]


def _tickets(counts_of: dict[str, list[int]], rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    rows, vectors = [], []
    for k, (theme, counts) in enumerate(counts_of.items()):
        for w, n in enumerate(counts):
            for i in range(n):
                enterprise = theme == "T-ent" and i < 8
                day = 2 + (i % 5) if theme == "T-new" else i % 7  # T-new starts on Wednesday
                rows.append({
                    "ticket_id": f"{theme}:{w}:{i}", "ticket_week": WEEKS[w], "theme_id": theme,
                    "customer_id": f"c-{theme}-{w}-{i}", "plan": "enterprise" if enterprise else "free",
                    "account_id": f"a-{theme}-{w}-{i}", "monthly_revenue": 5000.0 if enterprise else 0.0,
                    "tags": [], "similarity": 0.9,
                    "created_at": datetime.combine(WEEKS[w], datetime.min.time()) + timedelta(days=day, hours=10 + i % 8),
                })
                vectors.append(np.eye(DIM)[k] + 0.25 * rng.standard_normal(DIM))
    return pd.DataFrame(rows), np.asarray(vectors, dtype=np.float32)


FIXED_IN_5 = [{"review_id": 1, "theme_id": "T-fix", "action": "fixed", "value": "5.0", "target_theme_id": None}]
CAME_BACK = {**COUNTS, "T-fix": [10, 10, 10, 10, 0, 0, 0, 12]}  # quiet after 5.0, back in the last week


def context(counts: dict[str, list[int]] = COUNTS, review_rows: list[dict] = FIXED_IN_5) -> WeekContext:
    frame, vectors = _tickets(counts, np.random.default_rng(7))
    first_seen = {t: WEEKS[next(w for w, n in enumerate(c) if n)] for t, c in counts.items()}
    origins = dict.fromkeys(COUNTS, "new")
    return make_context(WEEK, 8, frame, review_state(review_rows), vectors=vectors, first_seen=first_seen,
                        origins=origins, tracking_start=WEEKS[0])


def summaries() -> pd.DataFrame:
    return pd.DataFrame([{"theme_id": t, "label": f"label {t}", "product_area": AREA.get(t, "Unassigned"),
                          "terms": ["card"] if t in AREA else [t.lower()], "severity": "P2", "signal_type": "bug"}
                         for t in COUNTS])


def articles() -> Inputs:
    rng = np.random.default_rng(3)
    found = [Article("a-cov", "Activate your card", "", "https://help.test/cov",
                     datetime.combine(WEEKS[5], datetime.min.time()) + timedelta(hours=9)),
             Article("a-unf", "Change your PIN", "", "", datetime.combine(WEEKS[3], datetime.min.time())),
             Article("a-far", "Apple Pay", "", "", datetime(2025, 1, 1)),
             Article("a-later", "Published after the week", "", "", datetime.combine(WEEK, datetime.min.time())
                     + timedelta(weeks=1, hours=1))]
    index = {"a-cov": 0, "a-unf": 1, "a-far": DIM - 1, "a-later": 2}
    vectors = np.asarray([np.eye(DIM)[index[a.article_id]] + 0.05 * rng.standard_normal(DIM) for a in found])
    return Inputs(found, vectors.astype(np.float32), RELEASES)


@pytest.fixture(scope="module")
def found():
    ctx = context()
    ranking = rank_week(ctx, summaries())
    return ctx, week_findings(ctx, ranking.ranked, summaries(), articles())


def test_docs_status_covered_unfound_gap(found) -> None:
    _, f = found
    row = f.ranked.set_index("theme_id")
    assert row.loc["T-cov", "docs_status"] == COVERED and row.loc["T-cov", "docs_article"] == "Activate your card"
    assert row.loc["T-cov", "docs_article_url"] == "https://help.test/cov"
    assert row.loc["T-unf", "docs_status"] == UNFOUND and row.loc["T-unf", "docs_article"] == "Change your PIN"
    assert row.loc["T-gap", "docs_status"] == GAP and row.loc["T-gap", "docs_article"] is None
    assert f.articles == 3  # the article published after the week did not exist yet


def test_articles_published_after_the_week_are_left_out() -> None:
    kept, vectors = published_by(articles(), WEEK)
    assert [a.article_id for a in kept] == ["a-cov", "a-unf", "a-far"] and len(vectors) == 3
    earlier, _ = published_by(articles(), WEEKS[4])
    assert [a.article_id for a in earlier] == ["a-unf", "a-far"]


def test_a_new_theme_started_two_days_after_the_release(found) -> None:
    ctx, f = found
    row = f.ranked.set_index("theme_id")
    assert (row.loc["T-new", "after_release"], row.loc["T-new", "after_release_days"]) == ("4.2", 2)
    assert "Started 2 days after 4.2" in row.loc["T-new", "notes"]
    assert pd.isna(row.loc["T-gap", "after_release"])  # tracked from the start: not born after a release
    assert theme_starts(ctx, ["T-new"])["T-new"] == datetime.combine(WEEKS[6], datetime.min.time()) + timedelta(days=2, hours=10)


def test_the_enterprise_segment_is_claimed_with_its_p_value(found) -> None:
    _, f = found
    claims = f.segments[f.segments["theme_id"] == "T-ent"]
    plan = claims[claims["field"] == "plan"].iloc[0]
    assert plan["value"] == "enterprise" and plan["share"] == pytest.approx(0.8) and plan["p_value"] < 1e-6
    assert set(f.segments["theme_id"]) <= set(f.ranked["theme_id"])
    notes = f.ranked.set_index("theme_id").loc["T-ent", "notes"]
    assert any(n.startswith("Segment: 80% Enterprise vs") for n in notes)


def test_fix_status_and_parent(found) -> None:
    _, f = found
    row = f.ranked.set_index("theme_id")
    assert (row.loc["T-fix", "fix_status"], row.loc["T-fix", "fix_release"]) == (FIXED, "5.0")
    assert row.loc["T-fix", "fix_note"].startswith("Fix in 5.0: fixed (10.0/week before")
    assert pd.isna(row.loc["T-gap", "fix_status"])
    assert (row.loc["T-cov", "parent"], row.loc["T-cov", "parent_id"]) == ("Cards", "area:Cards")
    assert set(f.parents["theme_id"]) == set(f.ranked["theme_id"])


def test_a_gap_in_the_exports_is_no_week_of_zero_tickets_after_a_fix() -> None:
    """A week with no data counted as 0 tickets in "did the fix work?": T-fix's 5 and 5 a week
    after 5.0 with the gap between read 3.3 a week."""
    gapped = {t: [0 if w == 5 else n for w, n in enumerate(c)] for t, c in COUNTS.items()}
    fix = fix_results(context(gapped), RELEASES, FixSettings())["T-fix"]
    assert (fix.before_rate, fix.after_rate) == (10.0, 5.0)


def test_affected_customers_cover_the_window_of_ranked_themes(found) -> None:
    _, f = found
    assert set(f.customers["theme_id"]) == set(f.ranked["theme_id"])
    ent = f.customers[f.customers["theme_id"] == "T-ent"]
    assert len(ent) == sum(COUNTS["T-ent"]) and ent.iloc[0]["plan"] == "enterprise"  # richest first


def test_affected_customers_are_the_tickets_a_theme_counts() -> None:
    """A theme's card said "88 tickets over 8 weeks" beside "Customers to tell: 81 customers" from
    90 tickets: the customers followed the tickets hysteresis kept in it, not the ones it counts."""
    ctx = context()
    kept = (ctx.window["theme_id"] == "T-ent") & (ctx.window["ticket_week"] == WEEKS[0])
    window = ctx.window.assign(series_theme_id=ctx.window["theme_id"].where(~kept, "T-cov"))
    ctx = make_context(WEEK, 8, window, ctx.review, vectors=ctx.vectors, first_seen=ctx.first_seen,
                       origins=ctx.origins, tracking_start=WEEKS[0])
    f = week_findings(ctx, rank_week(ctx, summaries()).ranked, summaries(), articles())
    told = f.customers.groupby("theme_id")["tickets"].sum()
    counted = window.groupby("series_theme_id").size()
    assert told["T-ent"] == counted["T-ent"] == sum(COUNTS["T-ent"]) - COUNTS["T-ent"][0]
    assert told["T-cov"] == counted["T-cov"]


def test_without_inputs_nothing_is_claimed_about_docs_or_releases() -> None:
    ctx = context(review_rows=[])
    f = week_findings(ctx, rank_week(ctx, summaries()).ranked, summaries(), Inputs())
    assert f.ranked["docs_status"].isna().all() and f.ranked["after_release"].isna().all()
    assert f.ranked["fix_status"].isna().all() and f.articles is None


def test_geometry_is_one_centroid_per_theme() -> None:
    ctx = context()
    centroids, similarity = theme_geometry(ctx.window, ctx.vectors)
    assert set(centroids) == set(COUNTS)
    assert all(abs(np.linalg.norm(c) - 1) < 1e-6 for c in centroids.values())
    assert len(similarity["T-gap"]) == sum(COUNTS["T-gap"]) and similarity["T-gap"].mean() > 0.6


def test_alerts_gain_the_release_they_followed_and_regressions_are_raised() -> None:
    # T-fix fell after 5.0 and comes back in the last week: a regression alert this week
    ctx = context(CAME_BACK)
    themes = [{"theme_id": "T-fix", "label": "label T-fix", "customers": 12, "example_ticket_ids": np.array(["x"])}]
    spike = {"alert_key": f"T-new|{WEEK}|{SPIKE}", "week_start": WEEK, "theme_id": "T-new", "kind": SPIKE,
             "label": "label T-new", "tickets": 9, "customers": 9, "baseline": 0.0}
    out = with_releases(ctx, [spike], themes, RELEASES, FixSettings())
    by_kind = {a["kind"]: a for a in out}
    assert (by_kind[SPIKE]["after_release"], by_kind[SPIKE]["after_release_days"]) == (None, None)  # 9 days after 4.2
    regression = by_kind[REGRESSION]
    assert regression["theme_id"] == "T-fix" and regression["fix_release"] == "5.0" and regression["tickets"] == 12
    assert regression["alert_key"] == f"T-fix|{WEEK.isoformat()}|{REGRESSION}"
    assert regression["example_ticket_ids"] == ["x"] and set(ALERT_COLUMNS) <= set(regression)


def test_a_spike_is_linked_to_the_release_before_its_onset() -> None:
    ctx = context()
    spike = {"alert_key": "k", "week_start": WEEK, "theme_id": "T-new", "kind": SPIKE, "label": "x",
             "tickets": 9, "customers": 9, "baseline": 3.0}
    late = [Release("4.3", datetime.combine(WEEK, datetime.min.time()))]
    [alert] = with_releases(ctx, [spike], [], late, FixSettings())
    # the 4th ticket of the week (baseline 3) is on Thursday: three days after Monday's 4.3
    assert (alert["after_release"], alert["after_release_days"]) == ("4.3", 3)


def test_regressed_status_is_kept_in_the_ranking() -> None:
    ctx = context(CAME_BACK)
    f = week_findings(ctx, rank_week(ctx, summaries()).ranked, summaries(), articles())
    assert f.ranked.set_index("theme_id").loc["T-fix", "fix_status"] == REGRESSED


def test_no_claim_restates_how_themes_were_formed() -> None:
    """Tickets left out for their language and a theme's own product are no findings: every theme is
    "in en" against a week with Spanish tickets nobody clusters, and "about A" when themes form per product."""
    frame, vectors = _tickets(COUNTS, np.random.default_rng(7))
    frame = frame.assign(language="en", assignment="core",
                         product=np.where(frame["theme_id"].isin(["T-ent", "T-unf", "T-gap"]), "A", "B"))
    spanish = frame[frame["ticket_week"] == WEEK].head(40).assign(
        ticket_id=lambda f: "es:" + f["ticket_id"], theme_id=None, language="es", assignment=LANGUAGE)
    tickets = pd.concat([frame, spanish], ignore_index=True)
    x = np.vstack([vectors, vectors[: len(spanish)]])

    def claims(apart: bool) -> pd.DataFrame:
        ctx = make_context(WEEK, 8, tickets, review_state([]), vectors=x, first_seen={t: WEEKS[0] for t in COUNTS},
                           tracking_start=WEEKS[0], products_apart=apart)
        return week_findings(ctx, rank_week(ctx, summaries()).ranked, summaries(), Inputs()).segments

    whole, within = claims(False), claims(True)
    assert "product" in set(whole["field"])  # T-ent is all A against the whole queue (24 of 47 tickets)
    assert not {"product", "language"} & set(within["field"])
    assert "language" not in set(whole["field"])  # the Spanish tickets could never be in a theme
    ent = within[(within["theme_id"] == "T-ent") & (within["field"] == "plan")].iloc[0]
    assert ent["scope"] == "A" and ent["baseline_share"] == pytest.approx(8 / 24)  # A's tickets, not all 47


def test_rows_by_key_are_each_themes_positions_in_order_without_outliers():
    from ticket_intel.core.counts import rows_by_key

    ids = np.array(["T2", None, "T1", "T2", None, "T1", "T3"], dtype=object)
    rows = rows_by_key(ids)
    assert list(rows) == ["T1", "T2", "T3"]
    assert {t: r.tolist() for t, r in rows.items()} == {"T1": [2, 5], "T2": [0, 3], "T3": [6]}
    assert rows_by_key(np.array([None, None], dtype=object)) == {}
