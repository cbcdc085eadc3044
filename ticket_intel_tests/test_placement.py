"""A weekly run places the week into last week's themes; a full fit only when the refit policy says so."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from ticket_intel.core import cluster, identity, subgroups
from ticket_intel.core.anomalies import AlertSettings
from ticket_intel.core.placement import (
    PLACED,
    Fit,
    RefitPolicy,
    cell_neighbours,
    outlier_share,
    place,
    recount,
)
from ticket_intel.core.theme_week import EVERY_WEEK, cluster_window, previous_from
from ticket_intel_tests.test_cluster import shares

WEEK = date(2026, 3, 2)
DIM = 24
CENTERS = np.random.default_rng(11).normal(size=(6, DIM))
NO_DRIFT = RefitPolicy(8, max_p_value=0.0)  # drift never refits: isolates placement and the pool


def tickets_of(weeks: dict[int, dict[int, int]], seed: int = 5) -> tuple[pd.DataFrame, np.ndarray]:
    """Per week index (0 = WEEK), tickets per issue (a center); unit vectors around the centers."""
    rng = np.random.default_rng(seed)
    rows, vectors = [], []
    for w, issues in sorted(weeks.items()):
        for c, n in issues.items():
            for i in range(n):
                rows.append({"ticket_id": f"w{w}-c{c}-{i:03d}", "ticket_week": WEEK + timedelta(weeks=w), "issue": c,
                             "customer_id": f"cust-{w}-{c}-{i}"})
                vectors.append(CENTERS[c] + 0.25 * rng.normal(size=DIM))
    x = np.asarray(vectors)
    return pd.DataFrame(rows), (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def run_weeks(weeks: dict[int, dict[int, int]], refit: RefitPolicy, upto: int, window: int = 2) -> list:
    """Each week 0..upto on its window of `window` weeks, chained through `as_previous`."""
    tickets, x = tickets_of(weeks)
    steps, previous = [], []
    for w in range(upto + 1):
        end = WEEK + timedelta(weeks=w)
        rows = ((tickets["ticket_week"] <= end) & (tickets["ticket_week"] > end - timedelta(weeks=window))).to_numpy()
        step = cluster_window(WEEK + timedelta(weeks=w), tickets[rows], x[rows], previous, seed=3, refit=refit)
        steps.append((step, tickets[rows].reset_index(drop=True)))
        previous = step.as_previous()
    return steps


STEADY = {0: {0: 40, 1: 30, 2: 25}, 1: {0: 40, 1: 30, 2: 25}, 2: {0: 40, 1: 30, 2: 25}}


def test_placement_keeps_members_and_ids_and_places_the_new_week_by_issue():
    (first, _), (second, window) = run_weeks(STEADY, NO_DRIFT, 1)
    assert set(first.themes["fit"]) == {"fit"} and set(second.themes["fit"]) == {"placed"}
    assert set(second.themes["last_fit"]) == {WEEK}
    before = first.clusters.set_index("ticket_id")["theme_id"].dropna()
    after = second.clusters.set_index("ticket_id")["theme_id"]
    assert (after[before.index] == before).all()
    assert set(second.themes["theme_id"]) == set(first.themes["theme_id"])
    assert set(second.events["event"]) == {"continued"}
    new = second.clusters.merge(window[["ticket_id", "issue"]])
    new = new[new["ticket_week"] == WEEK + timedelta(weeks=1)]
    assert (new["assignment"] == PLACED).mean() > 0.9
    placed = new[new["theme_id"].notna()]
    assert placed.groupby("issue")["theme_id"].nunique().eq(1).all()  # one issue, one theme
    assert placed.groupby("theme_id")["issue"].nunique().eq(1).all()


def test_a_placed_week_keeps_its_fit_s_fences_so_placements_do_not_loosen_them():
    """A fence redrawn around a theme's tickets would sink with each placed week's loosest ones and
    admit tickets further out the next week; placed weeks carry the fence of the week it was fit."""
    steps = run_weeks({w: {0: 40, 1: 30} for w in range(5)}, NO_DRIFT, 4, window=8)
    assert [set(s.themes["fit"]) for s, _ in steps[2:]] == [{"fit"}, {"placed"}, {"placed"}]
    fences = [s.themes.set_index("theme_id")["fence"].to_dict() for s, _ in steps[2:]]
    assert fences[0] == fences[1] == fences[2]

    rng = np.random.default_rng(3)
    axis = np.eye(DIM)[0]

    def at(similarity: float, n: int) -> np.ndarray:  # unit vectors at this cosine to `axis`
        side = rng.normal(size=(n, DIM)) * (1 - axis)
        side /= np.linalg.norm(side, axis=1, keepdims=True)
        return similarity * axis + np.sqrt(1 - similarity**2) * side

    x = np.vstack([at(0.95, 20), at(0.6, 12), at(0.7, 1)])  # a tight theme, loose tickets placed in it, a new one
    labels = np.r_[np.zeros(32, dtype=int), cluster.OUTLIER]
    drawn = cluster.fences(x[:20], labels[:20], cluster.centroids(x[:20], labels[:20]))
    assert recount(x, labels)[-1] == 0  # redrawn around all 32, the fence admits the new one
    assert recount(x, labels, drawn)[-1] == cluster.OUTLIER


def test_a_week_of_known_issues_creates_no_theme():
    steps = run_weeks(STEADY, NO_DRIFT, 2)
    assert set(steps[2][0].themes["theme_id"]) == set(steps[0][0].themes["theme_id"])
    assert not ({"new", "new_group", "split"} & set(steps[2][0].events["event"]))


def test_a_brand_new_dense_group_is_born_from_the_pool():
    weeks = {**STEADY, 1: {0: 30, 1: 20, 2: 15, 4: 30}}
    (first, _), (second, window) = run_weeks(weeks, NO_DRIFT, 1)
    assert set(second.themes["fit"]) == {"placed"}
    born = second.events[second.events["event"].isin(["new", "new_group"])]["theme_id"]
    assert len(born) == 1
    rows = second.clusters.merge(window[["ticket_id", "issue"]])
    mine = rows[rows["theme_id"] == born.iloc[0]]
    assert (mine["issue"] == 4).all() and len(mine) >= 0.8 * 30
    assert set(first.themes["theme_id"]) < set(second.themes["theme_id"])


def test_refit_when_the_last_fit_is_n_weeks_old():
    steps = run_weeks(STEADY, RefitPolicy(2, max_p_value=0.0), 2)
    assert [set(s.themes["fit"]) for s, _ in steps] == [{"fit"}, {"placed"}, {"fit"}]
    assert [set(s.themes["last_fit"]) for s, _ in steps] == [{WEEK + timedelta(weeks=w)} for w in (0, 0, 2)]
    assert steps[2][0].stats["fit_scopes"] == 1 and steps[1][0].stats["placed_scopes"] == 1


def test_a_week_that_drifts_is_refit():
    weeks = {**STEADY, 1: {0: 30, 1: 20, 2: 15, 4: 30}}
    (_, _), (second, _) = run_weeks(weeks, RefitPolicy(8), 1)
    assert set(second.themes["fit"]) == {"fit"}
    (_, _), (steady, _) = run_weeks(STEADY, RefitPolicy(8), 1)
    assert set(steady.themes["fit"]) == {"placed"}


def test_a_theme_half_way_to_a_spike_is_refit():
    """Half the spike ratio over 1 (1.5x for 2x) with the spike's count and p-value floors, against
    the weeks since the theme's first ticket."""
    weeks = [WEEK + timedelta(weeks=w) for w in range(6)]

    def grown(history: list[int], now: int, policy: RefitPolicy = NO_DRIFT) -> bool:
        counts = [*history, now]
        return policy.grown(["T"] * sum(counts), [w for w, n in zip(weeks, counts, strict=True) for _ in range(n)],
                            weeks[-1])

    assert grown([40] * 5, 62) and not grown([40] * 5, 56)  # 1.55x and 1.4x
    assert not grown([40] * 5, 62, RefitPolicy(8, spikes=AlertSettings(min_ratio=3.0)))  # the configured spike rule
    assert not grown([4] * 5, 7)  # 1.75x, but 7 tickets
    assert not grown([0, 0, 30, 30, 30], 50)  # born three weeks ago: no baseline yet
    assert grown([0, 30, 30, 30, 30], 50)
    steady = {w: {0: 40, 1: 30} for w in range(6)}  # fit in weeks 0 and 2 (the window doubled), then placed
    steps = run_weeks({**steady, 5: {0: 70, 1: 30}}, NO_DRIFT, 5, window=8)
    assert [set(s.themes["fit"]) for s, _ in steps[3:]] == [{"placed"}, {"placed"}, {"fit"}]
    assert set(run_weeks(steady, NO_DRIFT, 5, window=8)[-1][0].themes["fit"]) == {"placed"}


def test_refit_every_week_is_the_full_path():
    (first, _), _ = run_weeks(STEADY, NO_DRIFT, 1)
    tickets, x = tickets_of(STEADY)
    rows = (tickets["ticket_week"] <= WEEK + timedelta(weeks=1)).to_numpy()
    window, xw = tickets[rows].reset_index(drop=True), x[rows]
    every = cluster_window(WEEK + timedelta(weeks=1), window, xw, first.as_previous(), seed=3, refit=RefitPolicy(1))
    default = cluster_window(WEEK + timedelta(weeks=1), window, xw, first.as_previous(), seed=3)
    assert set(every.themes["fit"]) == {"fit"} and every.clusters.equals(default.clusters)
    ids, now = window["ticket_id"].tolist(), (window["ticket_week"] == WEEK + timedelta(weeks=1)).to_numpy()
    params = cluster.default_params(len(xw), 3)
    result = cluster.cluster(xw, params)
    previous = [p.theme for p in first.as_previous()]
    tracked = identity.track(WEEK + timedelta(weeks=1), xw, ids, result.labels, previous, params.min_cluster_size)
    carved = subgroups.carve(WEEK + timedelta(weeks=1), xw, ids, now, window["customer_id"].tolist(), tracked,
                             previous, set(), cluster.searched(result.neighbours))
    assert every.clusters["theme_id"].tolist() == carved.theme_of
    fit = Fit(WEEK, 100, 0.1)
    assert EVERY_WEEK.due(WEEK, 100, fit) and RefitPolicy(0).due(WEEK, 100, fit) and not RefitPolicy(8).due(WEEK, 100, fit)


def test_fit_record_round_trips_and_unknown_fit_refits():
    (first, _), _ = run_weeks(STEADY, NO_DRIFT, 1)
    previous = previous_from(first.themes, first.clusters)
    assert {p.fit for p in previous} == {Fit(WEEK, len(first.clusters), first.themes["fit_outliers"].iloc[0])}
    old = previous_from(first.themes.drop(columns=["last_fit", "fit_outliers"]), first.clusters)
    assert {p.fit for p in old} == {None}
    assert RefitPolicy(8).due(WEEK, 100, None)


def test_a_window_that_more_than_doubles_is_refit():
    steps = run_weeks(STEADY, NO_DRIFT, 2, window=3)  # 95, 190, 285 tickets: the third is 3x the fit's
    assert [set(s.themes["fit"]) for s, _ in steps] == [{"fit"}, {"placed"}, {"fit"}]
    fit = Fit(WEEK, 100, 0.1)
    assert RefitPolicy(8).due(WEEK, 201, fit) and RefitPolicy(8).due(WEEK, 49, fit)
    assert not RefitPolicy(8).due(WEEK, 200, fit) and not RefitPolicy(8).due(WEEK, 50, fit)


def test_drift_test_and_policy_parsing():
    policy = RefitPolicy(8)
    assert not policy.drifted(12, 100, 0.10) and policy.drifted(30, 100, 0.10)
    assert not policy.drifted(1_900, 10_000, 0.10)  # significant, but not twice the fit's share
    assert outlier_share(0, 98) == pytest.approx(0.01)
    spikes = AlertSettings(min_ratio=3.0)
    assert RefitPolicy.parse("window", 6, spikes) == RefitPolicy(6, spikes=spikes)
    assert RefitPolicy.parse(" 3 ", 8, AlertSettings()) == RefitPolicy(3)
    with pytest.raises(ValueError, match=r"whole number of weeks or `window`, not .weekly."):
        RefitPolicy.parse("weekly", 8, AlertSettings())


def test_cell_neighbours_find_the_exact_neighbours_of_separated_themes():
    tickets, x = tickets_of({0: {0: 40, 1: 30, 2: 25, 3: 20, 4: 15}})
    theme_of = [f"t{c}" if c < 4 else None for c in tickets["issue"]]  # issue 4 left as outliers
    exact = cluster.neighbours(x, 7)[0][:, 1:]
    found = cell_neighbours(x, theme_of, 6, probes=2)(np.arange(len(x)))
    assert found.shape == (len(x), 6)
    assert np.mean([len(set(a) & set(b)) / 6 for a, b in zip(found, exact, strict=True)]) > 0.95
    assert all(i not in found[i] for i in range(len(x)))
    tiny = cell_neighbours(x[:3], ["a", "a", None], 6)(np.arange(3))
    assert (tiny[:, 2:] == np.arange(3)[:, None]).all()  # short of candidates: padded with the row itself


def test_a_loose_theme_is_no_sink_for_tickets_their_nearest_theme_rejects():
    """A ticket nearest a tight theme but outside its fence stays out (the pool), as a fit's soft
    assignment leaves it, even inside the fence of a loose theme further away. (The scope holds an
    unrelated issue too: a fence never falls below what the scope's other tickets score.)"""
    rng = np.random.default_rng(2)
    loose = CENTERS[0] + 1.2 * rng.normal(size=(60, DIM))
    tight = CENTERS[0] + 0.3 * CENTERS[1] + 0.02 * rng.normal(size=(6, DIM))
    new = CENTERS[0] + 0.3 * CENTERS[1] + 0.3 * rng.normal(size=(1, DIM))  # nearest the tight centroid, outside its fence
    other = CENTERS[2] + 0.3 * rng.normal(size=(60, DIM))
    x = np.vstack([loose, tight, other, new])
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    labels = np.array([0] * 60 + [1] * 6 + [2] * 60 + [cluster.OUTLIER])
    cents, floor = cluster.centroids(x, labels), cluster.fences(x, labels, cluster.centroids(x, labels))
    assert x[-1] @ cents[0] >= floor[0] and x[-1] @ cents[1] < floor[1]  # the loose one would admit it
    assert recount(x, labels)[-1] == cluster.soft_assign(x, labels)[0][-1] == cluster.OUTLIER


def test_the_pool_s_stragglers_are_no_new_theme_when_they_are_closer_to_the_scope_than_to_each_other():
    """Tickets that share a little of what the scope's tickets share (the brand, axis 0) and
    nothing else land in the pool; as one group they pass the loosest fence, but they are less
    alike to each other than to the scope's other tickets: no theme is born of them."""
    rng = np.random.default_rng(7)
    x = np.vstack([shares(rng, 60, {0: 0.6, 1: 0.8}), shares(rng, 40, {0: 0.4, 2: 0.9}),
                   shares(rng, 30, {0: 0.45})])
    ids = [f"t{i:03d}" for i in range(len(x))]
    members = {"T-big": np.arange(60), "T-loose": np.arange(60, 100)}
    previous = [identity.Theme(name, x[rows].mean(axis=0) / np.linalg.norm(x[rows].mean(axis=0)),
                               frozenset(ids[r] for r in rows)) for name, rows in members.items()]
    stragglers = np.arange(100, 130)
    assert not cluster.cohesive(x, [stragglers])[0]
    placed = place(x, ids, np.ones(len(x), bool), previous, [p.ticket_ids for p in previous], [0.8, 0.3],
                   cluster.default_params(len(x)), identity.new_ids(WEEK))
    assert set(np.array(placed.tracked.theme_of, dtype=object)[stragglers]) == {None}
    assert {t for t in placed.tracked.theme_of if t} == {"T-big", "T-loose"}


def test_the_warehouse_keeps_the_fit_record_and_an_upgraded_one_refits(tmp_path):
    from ticket_intel import warehouse as wh
    from ticket_intel_tests.test_migrations import W2, _v0_warehouse

    old = tmp_path / "old.duckdb"
    _v0_warehouse(old)
    with wh.open_warehouse(old) as con:
        assert [p.fit for p in previous_from(*wh.previous_themes(con, W2))] == [None]  # next week refits
    (first, _), _ = run_weeks(STEADY, NO_DRIFT, 1)
    with wh.open_warehouse(tmp_path / "new.duckdb") as con:
        wh.ensure_embedding_schema(con, DIM)
        wh.replace(con, [wh.Replace("staging.themes", first.themes.assign(week_start=WEEK, run_id="r")),
                         wh.Replace("staging.ticket_clusters", first.clusters.assign(week_start=WEEK, run_id="r"))])
        stored = previous_from(*wh.previous_themes(con, WEEK + timedelta(weeks=1)))
    assert {p.fit for p in stored} == {p.fit for p in first.as_previous()} and stored[0].fit is not None
    assert {p.theme.theme_id: p.fence for p in stored} == {p.theme.theme_id: p.fence for p in first.as_previous()}
    assert {p.theme.theme_id: p.series for p in stored} == {p.theme.theme_id: p.series for p in first.as_previous()}


@pytest.mark.e2e
def test_the_pipeline_places_weeks_by_default_and_refits_every_week_when_told(sample_copy, planted, monkeypatch):
    """The sample as built (the default policy, `window`): weeks are placed into the stored themes (ids
    carry over) and the planted new pattern and spike are alerted. Its last weeks re-run through the
    real job with TICKET_INTEL_REFIT_WEEKS=1 are each fit in full, and alert them still."""
    import duckdb

    from ticket_intel.cli import run_pipeline
    from ticket_intel_tests.test_e2e import _theme_of_intent

    first = planted["new_pattern"]["first_week"]

    def fits_and_alerts() -> tuple[list[tuple[str, str, str, int]], int]:
        with duckdb.connect(str(sample_copy.warehouse), read_only=True) as con:
            fits = con.execute("""SELECT week_start::VARCHAR, any_value(fit), any_value(last_fit)::VARCHAR, count(*)
                                  FROM staging.themes GROUP BY 1 ORDER BY 1""").fetchall()
            alerted = set(con.execute("SELECT week_start::VARCHAR, kind, theme_id FROM ops.alerts").fetchall())
            spike, new = (_theme_of_intent(con, planted, p["week_start"], p["intent"])
                          for p in (planted["spike"], {**planted["new_pattern"], "week_start": first}))
            kept = con.execute("""SELECT count(*) FROM staging.themes t JOIN staging.themes p ON p.theme_id = t.theme_id
                                  AND p.week_start = t.week_start - INTERVAL 7 DAY WHERE t.week_start = ?""",
                               [planted["weeks"][-1]]).fetchone()[0]
        assert (first, "new_pattern", new) in alerted
        assert (planted["spike"]["week_start"], "volume_spike", spike) in alerted
        return fits, kept

    fits, kept = fits_and_alerts()
    placed = [w for w, how, _, _ in fits if how == PLACED]
    assert placed, fits
    assert all(last < w for w, how, last, _ in fits if how == PLACED)  # a placed week rests on an earlier fit
    assert kept >= 0.8 * fits[-1][3]  # the last week's themes are, by and large, last week's
    monkeypatch.setenv("TICKET_INTEL_REFIT_WEEKS", "1")  # a setting that shapes themes: asked for
    run_pipeline(sample_copy.inbox, sample_copy.warehouse, f"{first}..{planted['weeks'][-1]}", replace_config=True)
    fits, _ = fits_and_alerts()
    assert {how for w, how, _, _ in fits if w >= first} == {"fit"}
