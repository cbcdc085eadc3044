"""Theme identity across runs: matching, hysteresis, and the events recorded (pure, no clustering)."""

from __future__ import annotations

from datetime import date

import numpy as np

from ticket_intel.core import identity
from ticket_intel.core.cluster import OUTLIER

WEEK = date(2026, 3, 2)


def group(direction: int, n: int, seed: int, dim: int = 16, noise: float = 0.05) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.eye(dim)[direction] + noise * rng.normal(size=(n, dim))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def previous_of(x: np.ndarray, ids: list[str], theme_of: list[str | None]) -> list[identity.Theme]:
    return identity.themes_of(x, ids, theme_of)


def test_unchanged_clusters_keep_their_ids():
    x = np.concatenate([group(0, 20, 1), group(1, 20, 2)])
    ids = [f"t{i}" for i in range(40)]
    labels = np.repeat([0, 1], 20)
    previous = previous_of(x, ids, ["A"] * 20 + ["B"] * 20)
    tracked = identity.track(WEEK, x, ids, labels, previous, min_size=5)
    assert tracked.theme_of == ["A"] * 20 + ["B"] * 20
    assert {(e["theme_id"], e["event"]) for e in tracked.events} == {("A", "continued"), ("B", "continued")}


def test_first_run_numbers_new_themes_by_cluster():
    x = np.concatenate([group(0, 20, 1), group(1, 10, 2)])
    tracked = identity.track(WEEK, x, [f"t{i}" for i in range(30)], np.repeat([0, 1], [20, 10]), [], min_size=5)
    assert tracked.theme_of[0] == "T20260302-00" and tracked.theme_of[-1] == "T20260302-01"
    assert [e["event"] for e in tracked.events] == ["new", "new"]


def test_new_pattern_gets_a_new_id_and_old_themes_continue():
    old = group(0, 20, 1)
    x = np.concatenate([old, group(5, 12, 3)])
    ids = [f"t{i}" for i in range(32)]
    previous = previous_of(old, ids[:20], ["A"] * 20)
    tracked = identity.track(WEEK, x, ids, np.repeat([0, 1], [20, 12]), previous, min_size=5)
    assert set(tracked.theme_of[:20]) == {"A"}
    assert set(tracked.theme_of[20:]) == {"T20260302-00"}
    assert {e["theme_id"]: e["event"] for e in tracked.events} == {"A": "continued", "T20260302-00": "new"}


def test_a_theme_that_splits_into_distant_parts_is_recorded_as_split():
    x = np.concatenate([group(0, 20, 1), group(3, 20, 2)])
    ids = [f"t{i}" for i in range(40)]
    previous = previous_of(x, ids, ["A"] * 40)
    tracked = identity.track(WEEK, x, ids, np.repeat([0, 1], 20), previous, min_size=5)
    by_event = {e["event"]: e for e in tracked.events}
    assert by_event["continued"]["theme_id"] == "A"
    assert by_event["split"]["related_theme_ids"] == ["A"]
    assert len(set(tracked.theme_of)) == 2


def test_a_new_theme_mostly_of_new_tickets_is_new_though_its_few_earlier_ones_sat_in_one_theme():
    """24 PowerToys reports of a new module, two of whose earlier tickets sat in another theme, were a
    "split" of it, so no new pattern: a split is mostly a piece of an old theme."""
    a, old_b, new_b = group(0, 20, 1), group(3, 2, 2), group(3, 12, 3)
    x = np.concatenate([a, old_b, new_b])
    ids = [f"t{i}" for i in range(34)]
    previous = previous_of(x[:22], ids[:22], ["A"] * 22)  # last week the 2 sat in A
    tracked = identity.track(WEEK, x, ids, np.repeat([0, 1], [20, 14]), previous, min_size=5)
    assert {e["theme_id"]: e["event"] for e in tracked.events} == {"A": "continued", "T20260302-00": "new"}
    piece = identity.track(WEEK, x[:30], ids[:30], np.repeat([0, 1], [20, 10]),
                           previous_of(x[:30], ids[:30], ["A"] * 30), min_size=5)  # 10 of A's own cut out
    assert {e["theme_id"]: e["event"] for e in piece.events}["T20260302-00"] == "split"


def test_themes_clustered_together_are_recorded_as_merged():
    x = np.concatenate([group(0, 20, 1), group(0, 10, 2)])
    ids = [f"t{i}" for i in range(30)]
    previous = previous_of(x, ids, ["A"] * 20 + ["B"] * 10)
    tracked = identity.track(WEEK, x, ids, np.zeros(30, dtype=int), previous, min_size=5)
    assert set(tracked.theme_of) == {"A"}
    assert {e["theme_id"]: (e["event"], e["related_theme_ids"]) for e in tracked.events} == {
        "A": ("continued", []), "B": ("merged", ["A"])}


def test_a_theme_whose_tickets_left_the_window_fades():
    gone = group(4, 10, 9)
    stay = group(0, 20, 1)
    previous = previous_of(np.concatenate([stay, gone]), [f"s{i}" for i in range(20)] + [f"g{i}" for i in range(10)],
                           ["A"] * 20 + ["B"] * 10)
    tracked = identity.track(WEEK, stay, [f"s{i}" for i in range(20)], np.zeros(20, dtype=int), previous, min_size=5)
    assert {e["theme_id"]: e["event"] for e in tracked.events} == {"A": "continued", "B": "faded"}


def test_hysteresis_keeps_a_borderline_ticket_in_its_theme():
    """A ticket that drifts into the neighbouring cluster stays in its old theme while it still fits it."""
    a, b = group(0, 20, 1), group(1, 20, 2)
    edge = np.eye(16)[0] + np.eye(16)[1] * 0.1
    x = np.concatenate([a, b, [edge / np.linalg.norm(edge)]])
    ids = [f"t{i}" for i in range(41)]
    previous = previous_of(x, ids, ["A"] * 20 + ["B"] * 20 + ["A"])
    labels = np.repeat([0, 1, 1], [20, 20, 1])  # the new clustering moved it to B
    with_h = identity.track(WEEK, x, ids, labels, previous, min_size=5)
    without = identity.track(WEEK, x, ids, labels, previous, min_size=5, hysteresis=False)
    assert with_h.theme_of[-1] == "A" and with_h.kept[-1]
    assert without.theme_of[-1] == "B" and not without.kept.any()
    assert with_h.kept.sum() == 1


def test_weekly_counts_follow_the_clustering_not_hysteresis():
    """A kept ticket stays in its old theme but is counted where this run's clustering put it, as
    this week's tickets are; a dissolved theme's tickets are counted where they finally went."""
    a, b = group(0, 20, 1), group(1, 20, 2)
    edge = np.eye(16)[0] + np.eye(16)[1] * 0.1
    x = np.concatenate([a, b, [edge / np.linalg.norm(edge)]])
    ids = [f"t{i}" for i in range(41)]
    previous = previous_of(x, ids, ["A"] * 20 + ["B"] * 20 + ["A"])
    tracked = identity.track(WEEK, x, ids, np.repeat([0, 1, 1], [20, 20, 1]), previous, min_size=5)
    assert tracked.theme_of[-1] == "A" and tracked.series_of[-1] == "B"
    assert tracked.series_of[:-1] == tracked.theme_of[:-1]

    c, other = group(0, 30, 1), group(3, 20, 6)  # the scope holds another issue: see the test below
    x = np.concatenate([c, other, group(0, 2, 5)])
    ids = [f"t{i}" for i in range(52)]
    tracked = identity.track(WEEK, x, ids, np.repeat([0, 1, 2, 1], [20, 10, 20, 2]),
                             previous_of(x[:50], ids[:50], ["A"] * 30 + ["B"] * 20), min_size=5)
    assert set(tracked.series_of) == {"A", "B"} and set(tracked.series_of[50:]) == {"A"}


def test_hysteresis_does_not_hold_a_ticket_that_no_longer_fits():
    a, b = group(0, 20, 1), group(1, 20, 2)
    x = np.concatenate([a, b])
    ids = [f"t{i}" for i in range(40)]
    previous = previous_of(x, ids, ["A"] * 20 + ["B"] * 19 + ["A"])  # t39 was mislabelled A
    tracked = identity.track(WEEK, x, ids, np.repeat([0, 1], 20), previous, min_size=5)
    assert tracked.theme_of[-1] == "B" and not tracked.kept[-1]


def test_new_cluster_left_too_small_by_hysteresis_is_dissolved():
    """Old tickets stay home, so the would-be new theme keeps 2 new tickets: not a theme. The scope
    holds another issue: in a scope of one issue alone, A's other half would be the "unrelated"
    tickets its fence may not fall below (`cluster.fence_and_spread`), and half of A's own new
    tickets would fall outside it."""
    a, b = group(0, 30, 1), group(3, 20, 6)
    x = np.concatenate([a, b, group(0, 2, 5)])
    ids = [f"t{i}" for i in range(52)]
    previous = previous_of(x[:50], ids[:50], ["A"] * 30 + ["B"] * 20)
    labels = np.repeat([0, 1, 2, 1], [20, 10, 20, 2])  # the clustering cut A in two
    tracked = identity.track(WEEK, x, ids, labels, previous, min_size=5)
    assert set(tracked.theme_of) == {"A", "B"} and set(tracked.theme_of[50:]) == {"A"}
    assert [e["event"] for e in tracked.events] == ["continued", "continued"]


def test_outliers_have_no_theme():
    x = group(0, 12, 1)
    labels = np.array([0] * 11 + [OUTLIER])
    tracked = identity.track(WEEK, x, [f"t{i}" for i in range(12)], labels, [], min_size=5)
    assert tracked.theme_of[-1] is None
    assert [t.theme_id for t in identity.themes_of(x, [f"t{i}" for i in range(12)], tracked.theme_of)] == [
        "T20260302-00"]


def test_a_theme_the_new_clustering_scattered_lives_on():
    """No cluster took B in as a whole (its tickets lie outside the clusters they were put in),
    so B keeps its remaining tickets and its id instead of fading."""
    a, c, b = group(0, 20, 1), group(1, 20, 2), group(2, 10, 3)
    x = np.concatenate([a, c, b])
    ids = [f"t{i}" for i in range(50)]
    previous = previous_of(x, ids, ["A"] * 20 + ["C"] * 20 + ["B"] * 10)
    labels = np.repeat([0, 1, 0, 1], [20, 20, 5, 5])
    tracked = identity.track(WEEK, x, ids, labels, previous, min_size=5)
    assert tracked.theme_of[40:].count("B") >= 8  # all but outliers of B's own similarity range
    assert all(tracked.kept[40 + i] for i, t in enumerate(tracked.theme_of[40:]) if t == "B")
    assert {e["theme_id"]: e["event"] for e in tracked.events} == {"A": "continued", "B": "continued",
                                                                   "C": "continued"}


def test_a_scattered_theme_with_too_few_tickets_left_is_not_kept_alive():
    a, c, b = group(0, 20, 1), group(1, 20, 2), group(2, 4, 3)
    x = np.concatenate([a, c, b])
    ids = [f"t{i}" for i in range(44)]
    previous = previous_of(x, ids, ["A"] * 20 + ["C"] * 20 + ["B"] * 4)
    labels = np.repeat([0, 1, 0, 1], [20, 20, 2, 2])
    tracked = identity.track(WEEK, x, ids, labels, previous, min_size=5)
    assert "B" not in tracked.theme_of
    assert {e["theme_id"]: e["event"] for e in tracked.events}["B"] in {"faded", "merged"}


def test_a_coarse_theme_the_new_clustering_splits_lets_its_tickets_follow():
    """A theme born coarse (a first week of few tickets) that the new clustering cuts into pieces,
    none holding half its tickets, is not held together by hysteresis: the pieces are themes of
    their own, split from it. (Its loose piece's wide fence admitted every old ticket: the leftover
    tweets of a twcs run stayed one theme of 95 for two months.)"""
    rng = np.random.default_rng(3)
    loose = np.eye(16)[0] + 0.8 * rng.normal(size=(20, 16))
    pieces = [np.eye(16)[0] * 0.7 + np.eye(16)[d] + 0.05 * rng.normal(size=(15, 16)) for d in (1, 2)]
    x = np.concatenate([loose, *pieces])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = [f"t{i}" for i in range(50)]
    labels = np.repeat([0, 1, 2], [20, 15, 15])
    tracked = identity.track(WEEK, x, ids, labels, previous_of(x, ids, ["A"] * 50), min_size=5)
    assert set(tracked.theme_of[:20]) == {"A"} and not tracked.kept.any()
    assert len(set(tracked.theme_of[20:35]) | set(tracked.theme_of[35:])) == 2 and "A" not in tracked.theme_of[20:]
    assert sorted(e["event"] for e in tracked.events) == ["continued", "split", "split"]


def test_hysteresis_holds_no_ticket_far_nearer_the_cluster_the_new_fit_put_it_in():
    """A coarse theme whose match keeps most of its tickets, and a tight piece the new fit cuts out
    of it: the piece's tickets sit inside the loose match's wide fence, but nearer their own
    cluster by more than its members' spread (interquartile range), so they are no borderline case
    and follow the new clustering (a Swift theme, "Compiler crash · type", held 85 % of every
    window for three months by hysteresis alone)."""
    rng = np.random.default_rng(3)
    loose = np.eye(16)[0] + 0.8 * rng.normal(size=(30, 16))
    piece = np.eye(16)[0] * 0.7 + np.eye(16)[1] + 0.05 * rng.normal(size=(15, 16))
    x = np.concatenate([loose, piece])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = [f"t{i}" for i in range(45)]
    tracked = identity.track(WEEK, x, ids, np.repeat([0, 1], [30, 15]), previous_of(x, ids, ["A"] * 45), min_size=5)
    assert set(tracked.theme_of[:30]) == {"A"} and not tracked.kept.any()
    assert len(set(tracked.theme_of[30:])) == 1 and "A" not in tracked.theme_of[30:]
    assert sorted(e["event"] for e in tracked.events) == ["continued", "split"]


def test_a_small_new_theme_dissolves_into_a_theme_only_within_its_fence():
    """A 4-ticket new theme (5 is the least) dissolves; its tickets join the kept theme where they are
    as close as its own, and one far from it stays an outlier; an old theme with exactly half its
    tickets in one theme merged into it; a cluster at cosine 0.4 to last week's theme is not it
    (mutation review: each survived a one-character change)."""
    from ticket_intel.core.identity import Theme, _dissolve_small, events, matched

    x = np.array([[1, 0], [1, 0], [0.9, 0.436], [0.95, 0.312], [0.98, 0.2], [0, 1.0]], dtype=float)
    cents = {0: np.array([1.0, 0.0]), 1: np.array([0.5, 0.866])}
    assert _dissolve_small(x, ["K", "K", "N", "N", "N", "N"], cents, {0: 0.85, 1: 0.5}, {0: "K", 1: "N"}, {"K"},
                           5) == ["K", "K", "K", "K", "K", None]
    old = [Theme("P", np.zeros(2), frozenset({"t1", "t2", "t3", "t4"}))]
    happened = events(old, ["t1", "t2", "t3", "t4", "a1"], ["A", "A", None, None, "A"])
    assert [(e["theme_id"], e["event"], e["related_theme_ids"]) for e in happened] == [
        ("A", "new", []), ("P", "merged", ["A"])]
    near = [Theme("T20260105-00", np.array([0.4, np.sqrt(1 - 0.16)]), frozenset({"o1"}))]
    assert matched({0: Theme("0", np.array([1.0, 0.0]), frozenset({"n1"}))}, near) == {}
