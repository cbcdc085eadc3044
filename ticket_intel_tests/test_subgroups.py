"""New groups inside old themes (core/subgroups.py), on synthetic embeddings: found, not found, persisted."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from ticket_intel.core import cluster, identity, subgroups
from ticket_intel.core.subgroups import GroupSettings, carve, find_groups

WEEK = date(2026, 3, 2)
DIM = 32


def around(direction: np.ndarray, n: int, seed: int, noise: float = 0.1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = direction + noise * rng.normal(size=(n, DIM))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


OLD = np.eye(DIM)[0]  # the theme's issue
NEW = np.eye(DIM)[0] + 1.5 * np.eye(DIM)[1]  # an adjacent issue: cosine 0.55 to the old one


def exact(x: np.ndarray) -> cluster.Search:
    """The exact neighbour search of a small window, as the clustering runs it."""
    return cluster.searched(cluster.neighbours(x, GroupSettings().search_width + 1)[0][:, 1:])


def week_of(earlier: np.ndarray, now: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(vectors, this-week mask): `earlier` from past weeks of the window, then this week's."""
    return np.concatenate([earlier, now]), np.r_[np.zeros(len(earlier), bool), np.ones(len(now), bool)]


def test_a_dense_group_with_no_earlier_neighbours_is_a_new_group():
    x, now = week_of(around(OLD, 160, 1), np.concatenate([around(OLD, 12, 2), around(NEW, 8, 3)]))
    theme_of = ["A"] * len(x)
    groups = find_groups(WEEK, now, theme_of, [f"c{i}" for i in range(len(x))], exact(x))
    assert len(groups) == 1
    assert groups[0].parent_id == "A"
    assert groups[0].rows.tolist() == list(range(172, 180))  # exactly the new issue's tickets


def test_only_this_weeks_tickets_and_the_themes_holding_a_candidate_are_searched():
    """The permutation test redraws a candidate's theme: no other theme's earlier tickets need neighbours."""
    other = np.eye(DIM)[5]
    x, now = week_of(np.concatenate([around(OLD, 160, 1), around(other, 100, 7)]),
                     np.concatenate([around(OLD, 12, 2), around(NEW, 8, 3), around(other, 3, 8)]))
    theme_of = ["A"] * 160 + ["B"] * 100 + ["A"] * 20 + ["B"] * 3
    asked: list[np.ndarray] = []
    full = exact(x)

    def search(rows: np.ndarray) -> np.ndarray:
        asked.append(rows)
        return full(rows)

    groups = find_groups(WEEK, now, theme_of, [f"c{i}" for i in range(len(x))], search)
    assert [g.rows.tolist() for g in groups] == [list(range(272, 280))]
    assert asked[0].tolist() == np.flatnonzero(now).tolist()
    assert sorted(np.concatenate(asked).tolist()) == [*range(160), *range(260, 283)]  # never B's earlier tickets


def test_draws_as_large_in_tickets_are_told_apart_by_their_links():
    """Group sizes are small whole numbers, so many draws tie with a candidate; among groups of as
    many tickets the one whose tickets chose one another more often is the larger."""
    settings = GroupSettings(permutations=19, max_p_value=0.2)
    tighter_draws = [(6, 12)] * 19
    looser_draws = [(6, 4)] * 19
    smaller_draws = [(5, 40)] * 19
    assert subgroups.p_value((6, 10), iter(tighter_draws), settings, tested=1) is None
    assert subgroups.p_value((6, 10), iter(looser_draws), settings, tested=1) == 1 / 20
    assert subgroups.p_value((6, 10), iter(smaller_draws), settings, tested=1) == 1 / 20
    assert subgroups.p_value((6, 10), iter([(6, 10)] * 19), settings, tested=1) is None  # a tie counts against it


def test_a_draws_largest_group_is_told_by_tickets_then_links():
    """Two groups of three this week: one whose tickets all chose one another (six links), one a
    chain (three); the theme's only tickets are this week's, so every draw is the week itself."""
    knn = np.array([[1, 2], [0, 2], [0, 1], [4, 6], [3, 7], [4, 6], [7, 6], [6, 7]])
    now = np.r_[np.ones(6, bool), np.zeros(2, bool)]
    strata = np.r_[np.zeros(6, int), np.ones(2, int)]
    draws = subgroups.permuted_largest(knn, now, strata, 0, GroupSettings(permutations=3))
    assert list(draws) == [(3, 6)] * 3


def test_a_themes_candidates_are_corrected_for_once(monkeypatch):
    """A draw's statistic is the largest group of the candidate's theme, so one test covers all of
    that theme's candidates: the Bonferroni factor counts themes holding a candidate, not candidates."""
    other = np.eye(DIM)[5]
    third = np.eye(DIM)[9]
    x, now = week_of(np.concatenate([around(OLD, 160, 1), around(other, 160, 7)]),
                     np.concatenate([around(NEW, 8, 3), around(third, 8, 4), around(other, 10, 8)]))
    tested = []
    real = subgroups.p_value

    def p_value(size, null, settings, themes):
        tested.append(themes)
        return real(size, null, settings, themes)

    monkeypatch.setattr(subgroups, "p_value", p_value)
    customers = [f"c{i}" for i in range(len(x))]
    one_theme = ["A"] * 160 + ["B"] * 160 + ["A"] * 16 + ["B"] * 10
    find_groups(WEEK, now, one_theme, customers, exact(x))
    two_themes = ["A"] * 160 + ["B"] * 160 + ["A"] * 8 + ["B"] * 18
    find_groups(WEEK, now, two_themes, customers, exact(x))
    assert tested == [1, 1, 2, 2]


def test_an_ordinary_week_has_no_new_group():
    x, now = week_of(around(OLD, 160, 1), around(OLD, 20, 2))
    assert find_groups(WEEK, now, ["A"] * len(x), [f"c{i}" for i in range(len(x))], exact(x)) == []


def test_a_surge_of_an_issue_the_theme_already_had_is_no_new_group(monkeypatch):
    """This week's tickets concentrated on one of a theme's issues, one it held at 6 a week before
    (a theme's rate), are a spike of the theme, not a new group, though the permutation test alone
    finds them concentrated."""
    earlier, this_week = np.concatenate([around(OLD, 160, 1), around(NEW, 42, 7)]), np.concatenate([around(OLD, 12, 2), around(NEW, 36, 8)])
    x, now = week_of(earlier, this_week)
    customers = [f"c{i}" for i in range(len(x))]
    assert find_groups(WEEK, now, ["A"] * len(x), customers, exact(x)) == []
    monkeypatch.setattr(subgroups, "_attached", lambda *_: False)
    assert len(find_groups(WEEK, now, ["A"] * len(x), customers, exact(x))) == 1  # concentrated: the test alone finds it


def test_a_piece_of_a_surge_draws_its_share_of_the_earlier_tickets_nearest_neighbours():
    """Step 4 in numbers: 30 earlier tickets and 11 of this week in a theme, a candidate of 5 of them.
    Were they like the theme's other tickets, about 30 x 5 / 40 = 3.75 earlier tickets would take
    one of them as nearest: 2 is half of that (a piece of a surge), 1 is not (a new issue), and a
    theme's worth, 5, always is."""
    now = np.r_[np.zeros(30, bool), np.ones(11, bool)]
    group = np.arange(30, 35)

    def taken(n: int) -> np.ndarray:
        knn = np.repeat(np.arange(41)[:, None], 6, axis=1)
        knn[:30, 0] = (np.arange(30) + 1) % 30  # earlier tickets nearest one another ...
        knn[:n, 0] = group[np.arange(n) % 5]  # ... but for n of them, nearest the candidate
        return knn

    stratum = np.ones(41, bool)
    assert not subgroups._attached(taken(1), now, stratum, group, min_tickets=5)
    assert subgroups._attached(taken(2), now, stratum, group, min_tickets=5)
    assert subgroups._attached(taken(5), now, stratum, group, min_tickets=99)  # half its share, too
    big = np.r_[np.zeros(300, bool), np.ones(11, bool)]  # in a large theme the share is 37.5
    knn = np.repeat(np.arange(311)[:, None], 6, axis=1)
    knn[:5, 0] = np.arange(300, 305)
    assert subgroups._attached(knn, big, np.ones(311, bool), np.arange(300, 305), min_tickets=5)  # a theme's worth
    fresh = np.ones(11, bool)  # no earlier tickets: nothing takes the candidate, so nothing attaches it
    assert not subgroups._attached(np.repeat(np.arange(11)[:, None], 6, axis=1), fresh, fresh, np.arange(5), 5)


def test_one_word_tickets_count_toward_no_group():
    """The dense group of the first test, with half of it one-word titles ("xx", "Key"): four
    tickets of words are fewer than a theme's worth."""
    x, now = week_of(around(OLD, 160, 1), np.concatenate([around(OLD, 12, 2), around(NEW, 8, 3)]))
    customers = [f"c{i}" for i in range(len(x))]
    words = [6] * 176 + [1] * 4
    assert len(find_groups(WEEK, now, ["A"] * len(x), customers, exact(x))) == 1
    assert find_groups(WEEK, now, ["A"] * len(x), customers, exact(x), words=words) == []
    assert len(find_groups(WEEK, now, ["A"] * len(x), customers, exact(x), words=[2] * len(x))) == 1


def test_novel_tickets_that_are_not_close_to_each_other_are_no_group():
    """Tickets unlike anything and unlike each other are the clustering's outliers, as unrelated
    tickets were in earlier weeks: each is nearer another this week than anything earlier about as
    often as a random draw of the outliers is, so they are no group."""
    scattered = around(np.zeros(DIM), 48, 4, noise=1.0)  # each in its own direction
    x, now = week_of(np.concatenate([around(OLD, 160, 1), scattered[:40]]), np.concatenate([around(OLD, 12, 2), scattered[40:]]))
    theme_of = ["A"] * 160 + [None] * 40 + ["A"] * 12 + [None] * 8
    assert find_groups(WEEK, now, theme_of, [f"c{i}" for i in range(len(x))], exact(x)) == []


def test_a_group_from_too_few_customers_is_no_new_group():
    x, now = week_of(around(OLD, 160, 1), np.concatenate([around(OLD, 12, 2), around(NEW, 8, 3)]))
    customers = [f"c{i}" for i in range(172)] + ["whale"] * 6 + ["c1", "c2"]
    assert find_groups(WEEK, now, ["A"] * len(x), customers, exact(x), GroupSettings(min_customers=4)) == []
    assert len(find_groups(WEEK, now, ["A"] * len(x), customers, exact(x), GroupSettings(min_customers=3))) == 1


def test_a_spike_of_the_old_issue_is_no_new_group():
    x, now = week_of(around(OLD, 160, 1), around(OLD, 60, 2))  # 5x the usual 12 a week
    assert find_groups(WEEK, now, ["A"] * len(x), [f"c{i}" for i in range(len(x))], exact(x)) == []


def test_a_theme_born_this_week_is_not_tested():
    x, now = week_of(around(OLD, 160, 1), np.concatenate([around(OLD, 12, 2), around(NEW, 8, 3)]))
    theme_of = ["A"] * 172 + ["B"] * 8  # the clustering already made the new issue a theme
    assert find_groups(WEEK, now, theme_of, [f"c{i}" for i in range(len(x))], exact(x)) == []


def test_a_young_group_holds_no_new_group_of_its_own():
    """A group born last week from 8 tickets has 12 more this week, unlike its first 8 (a new issue's
    reports vary): its earlier tickets are too few to say the 12 are another issue."""
    other = np.eye(DIM)[0] + 1.5 * np.eye(DIM)[2]
    x, now = week_of(np.concatenate([around(OLD, 160, 1), around(NEW, 8, 3)]),
                     np.concatenate([around(OLD, 12, 2), around(other, 12, 4)]))
    theme_of = ["A"] * 160 + ["G"] * 8 + ["A"] * 12 + ["G"] * 12
    customers = [f"c{i}" for i in range(len(x))]
    assert [g.parent_id for g in find_groups(WEEK, now, theme_of, customers, exact(x))] == ["G"]
    assert find_groups(WEEK, now, theme_of, customers, exact(x), young={"G"}) == []


def test_a_group_of_outliers_is_found_without_a_parent():
    scattered = around(np.zeros(DIM), 40, 4, noise=1.0)  # earlier outliers, each in its own direction
    x, now = week_of(np.concatenate([around(OLD, 160, 1), scattered]),
                     np.concatenate([around(OLD, 12, 2), around(NEW, 8, 3)]))
    theme_of = ["A"] * 160 + [None] * 40 + ["A"] * 12 + [None] * 8
    groups = find_groups(WEEK, now, theme_of, [f"c{i}" for i in range(len(x))], exact(x))
    assert [(g.parent_id, g.rows.tolist()) for g in groups] == [(None, list(range(212, 220)))]


def tracked_week(week: date, x: np.ndarray, ids: list[str], previous: list[identity.Theme]) -> identity.Tracked:
    """Identity for a clustering that put every ticket into one cluster (the new issue absorbed)."""
    return identity.track(week, x, ids, np.zeros(len(x), dtype=int), previous, min_size=5)


def test_carve_splits_the_group_off_as_a_theme_born_this_week():
    x, now = week_of(around(OLD, 160, 1), np.concatenate([around(OLD, 12, 2), around(NEW, 8, 3)]))
    ids = [f"t{i:03d}" for i in range(len(x))]
    previous = identity.themes_of(x[:160], ids[:160], ["A"] * 160)
    tracked = tracked_week(WEEK, x, ids, previous)
    assert set(tracked.theme_of) == {"A"}  # the clustering alone absorbed the new issue
    carved = carve(WEEK, x, ids, now, ids, tracked, previous, set(), exact(x))
    new_id = carved.groups[0].theme_id
    assert carved.theme_of[172:] == [new_id] * 8 and set(carved.theme_of[:172]) == {"A"}
    assert carved.series_of[172:] == [new_id] * 8  # counted in its own series, not the parent's
    event = next(e for e in carved.events if e["theme_id"] == new_id)
    assert event["event"] == subgroups.NEW_GROUP and event["related_theme_ids"] == ["A"]
    assert new_id not in {t for t in tracked.theme_of if t}  # a fresh id, not one the clustering used


def test_outliers_a_group_takes_in_are_marked_as_the_groups():
    """The new issue's tickets were the fit's outliers (no theme, no series); once a group takes them
    in they are counted, so they are `grouped` (assignment `new_group`), never listed as outliers
    (TensorFlow's "Sequential model" counted 5 tickets on 2024-06-17, 3 of them marked 'outlier')."""
    scattered = around(np.zeros(DIM), 40, 4, noise=1.0)  # earlier outliers, each in its own direction
    x, now = week_of(np.concatenate([around(OLD, 160, 1), scattered]),
                     np.concatenate([around(OLD, 12, 2), around(NEW, 8, 3)]))
    ids = [f"t{i:03d}" for i in range(len(x))]
    previous = identity.themes_of(x[:160], ids[:160], ["A"] * 160)
    fit = ["A"] * 160 + [None] * 40 + ["A"] * 12 + [None] * 8
    tracked = identity.Tracked(fit, np.zeros(len(x), dtype=bool), [], list(fit))
    carved = carve(WEEK, x, ids, now, ids, tracked, previous, set(), exact(x))
    assert carved.series_of[212:] == [carved.groups[0].theme_id] * 8
    assert np.flatnonzero(carved.grouped).tolist() == list(range(212, 220))


def test_a_group_persists_when_next_weeks_clustering_absorbs_it_again():
    x, now = week_of(around(OLD, 160, 1), np.concatenate([around(OLD, 12, 2), around(NEW, 8, 3)]))
    ids = [f"t{i:03d}" for i in range(len(x))]
    previous = identity.themes_of(x[:160], ids[:160], ["A"] * 160)
    first = carve(WEEK, x, ids, now, ids, tracked_week(WEEK, x, ids, previous), previous, set(), exact(x))
    group = first.groups[0].theme_id
    last_week = identity.themes_of(x, ids, first.theme_of)
    nxt = WEEK + timedelta(weeks=1)
    x2, now2 = week_of(x, np.concatenate([around(OLD, 12, 5), around(NEW, 8, 6)]))
    ids2 = [*ids, *(f"u{i:03d}" for i in range(20))]
    tracked = tracked_week(nxt, x2, ids2, last_week)
    again = carve(nxt, x2, ids2, now2, ids2, tracked, last_week, {group}, exact(x2))
    assert again.theme_of[172:180] == [group] * 8  # last week's group tickets stay in it
    assert again.theme_of[-8:] == [group] * 8  # this week's tickets of the new issue join it
    assert set(again.theme_of[180:192]) == {"A"}
    assert again.groups == []  # not new again
    assert {e["theme_id"]: e["event"] for e in again.events} == {"A": "continued", group: "continued"}
    assert again.series_of[172:180] == [group] * 8
    assert np.flatnonzero(again.grouped).tolist() == list(range(192, 200))  # the vote's, not the group's own


def test_tickets_an_older_fit_held_in_the_theme_do_not_make_an_ordinary_week_new():
    """The test redraws this week's tickets from those this week's clustering put with them: earlier
    tickets of other issues that hysteresis held in the theme (from an older, broader fit) would make
    an ordinary week's tickets look unusually linked to one another."""
    found = 0
    for seed in range(10):
        others = [around(OLD + 1.5 * np.eye(DIM)[5 + j], 20, 10 + j + 17 * seed) for j in range(6)]
        x, now = week_of(np.concatenate([around(OLD, 40, 1 + 17 * seed), *others]), around(OLD, 20, 2 + 17 * seed))
        ids = [f"t{i:03d}" for i in range(len(x))]
        clustered = ["A"] * 40 + [f"C{j}" for j in range(6) for _ in range(20)] + ["A"] * 20
        held = np.r_[np.zeros(40, bool), np.ones(120, bool), np.zeros(20, bool)]
        tracked = identity.Tracked(["A"] * len(x), held, [], clustered)
        previous = identity.themes_of(x[:160], ids[:160], ["A"] * 160)
        found += len(carve(WEEK, x, ids, now, ids, tracked, previous, set(), exact(x)).groups)
    assert found == 0


def test_week_components_are_the_large_enough_components_of_this_weeks_rows():
    from ticket_intel.core.subgroups import _week_components

    rng = np.random.default_rng(0)
    component, now = rng.integers(0, 40, 2000), rng.random(2000) < 0.3
    naive = [(c, np.flatnonzero((component == c) & now)) for c in np.unique(component[now])]
    want = [(int(c), r.tolist()) for c, r in naive if len(r) >= 15]
    assert [(c, r.tolist()) for c, r in _week_components(component, now, 15)] == want and want


def fortnight(earlier: np.ndarray, last: np.ndarray, now: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vectors, this-week mask, last-week mask): earlier weeks, last week's tickets, this week's."""
    x = np.concatenate([earlier, last, now])
    weeks = np.repeat([0, 1, 2], [len(earlier), len(last), len(now)])
    return x, weeks == 2, weeks == 1


def test_a_new_issue_too_small_for_one_week_is_found_in_its_second():
    """Four tickets a week of a new issue are fewer than a theme's worth: in its first week it is no
    group, in its second the two weeks' eight are nearer one another than anything earlier, and the
    group holds both weeks' tickets."""
    x, now, last = fortnight(around(OLD, 160, 1), np.concatenate([around(OLD, 12, 2), around(NEW, 4, 3)]),
                             np.concatenate([around(OLD, 12, 4), around(NEW, 4, 5)]))
    customers = [f"c{i}" for i in range(len(x))]
    first_week = np.r_[np.zeros(160, bool), np.ones(16, bool)]
    assert find_groups(WEEK, first_week, ["A"] * 176, customers[:176], exact(x[:176])) == []
    assert find_groups(WEEK, now, ["A"] * len(x), customers, exact(x)) == []  # this week's four alone
    groups = find_groups(WEEK, now, ["A"] * len(x), customers, exact(x), last=last)
    assert [(g.parent_id, g.rows.tolist()) for g in groups] == [("A", [*range(172, 176), *range(188, 192)])]


def test_two_ordinary_weeks_hold_no_new_group_and_last_weeks_group_alone_is_not_news():
    x, now, last = fortnight(around(OLD, 160, 1), around(OLD, 20, 2), around(OLD, 20, 3))
    customers = [f"c{i}" for i in range(len(x))]
    assert find_groups(WEEK, now, ["A"] * len(x), customers, exact(x), last=last) == []
    x, now, last = fortnight(around(OLD, 160, 1), np.concatenate([around(OLD, 12, 2), around(NEW, 6, 3)]),
                             around(OLD, 12, 4))
    assert find_groups(WEEK, now, ["A"] * len(x), [f"c{i}" for i in range(len(x))], exact(x), last=last) == []


def test_a_two_week_group_says_how_many_tickets_each_week_brought():
    x, now, last = fortnight(around(OLD, 160, 1), np.concatenate([around(OLD, 12, 2), around(NEW, 4, 3)]),
                             np.concatenate([around(OLD, 12, 4), around(NEW, 4, 5)]))
    ids = [f"t{i:03d}" for i in range(len(x))]
    previous = identity.themes_of(x[:176], ids[:176], ["A"] * 176)
    carved = carve(WEEK, x, ids, now, ids, tracked_week(WEEK, x, ids, previous), previous, set(), exact(x), last=last)
    new_id = carved.groups[0].theme_id
    assert [i for i, t in enumerate(carved.theme_of) if t == new_id] == [*range(172, 176), *range(188, 192)]
    event = next(e for e in carved.events if e["theme_id"] == new_id)
    assert event["detail"].startswith("4 tickets this week and 4 last week, inside A")


def test_a_group_almost_all_of_this_week_is_left_to_this_weeks_scan():
    """Four tickets of the new issue this week and two the week before: six make a group's size,
    but a group of two weeks needs `fortnight_min` tickets from each; this week's four alone are
    this week's scan's, too few for a group."""
    x, now, last = fortnight(around(OLD, 160, 1), np.concatenate([around(OLD, 12, 12), around(NEW, 2, 13)]),
                             np.concatenate([around(OLD, 12, 14), around(NEW, 4, 15)]))
    customers = [f"c{i}" for i in range(len(x))]
    assert find_groups(WEEK, now, ["A"] * len(x), customers, exact(x), last=last) == []
    assert len(find_groups(WEEK, now, ["A"] * len(x), customers, exact(x), GroupSettings(fortnight_min=1),
                           last=last)) == 1


def test_a_theme_born_this_week_or_last_holds_no_two_week_group():
    """Its two weeks' tickets are its own issue's first, judged when it was born (an older fit's
    tickets may sit in it too, which would make its first weeks look new against them)."""
    x, now, last = fortnight(around(OLD, 160, 1), np.concatenate([around(OLD, 12, 2), around(NEW, 4, 3)]),
                             np.concatenate([around(OLD, 12, 4), around(NEW, 4, 5)]))
    customers = [f"c{i}" for i in range(len(x))]
    assert len(find_groups(WEEK, now, ["A"] * len(x), customers, exact(x), last=last)) == 1
    assert find_groups(WEEK, now, ["A"] * len(x), customers, exact(x), last=last, born_recently={"A"}) == []


def test_continuing_groups_searches_only_tickets_a_group_could_win_and_joins_the_same_ones(monkeypatch):
    """Perf review: every new ticket was searched against the whole window when a group was alive;
    the bound leaves out those no group can win, and the joins are those of the full search."""
    rng = np.random.default_rng(7)
    directions = [np.eye(DIM)[j] for j in range(6)] + [NEW]
    earlier = np.concatenate([around(d, 60, 10 + j) for j, d in enumerate(directions)])
    now_rows = np.concatenate([around(d, 15, 40 + j, noise=0.25) for j, d in enumerate(directions)])
    x, now = week_of(earlier, now_rows)
    themes: list[str | None] = [*(f"T{j}" for j in range(6) for _ in range(60)), *["G"] * 60]
    # This week's tickets in the themes the clustering placed them in (the new issue's in its
    # parent), a tenth of them outliers.
    themes += [None if rng.random() < 0.1 else f"T{0 if j == 6 else j}" for j in range(7) for _ in range(15)]
    ids = [f"t{i:04d}" for i in range(len(x))]
    group = identity.themes_of(x[360:420], ids[360:420], ["G"] * 60)
    searched: list[int] = []
    real = subgroups.nearest_among
    monkeypatch.setattr(subgroups, "nearest_among", lambda x_, rows, pool, k: searched.append(len(rows)) or real(x_, rows, pool, k))
    pruned, _ = subgroups.continue_groups(x, now, ids, themes, group, GroupSettings())
    monkeypatch.setattr(subgroups, "_may_join", lambda x_, current, *a: np.ones(len(current), bool))
    full, _ = subgroups.continue_groups(x, now, ids, themes, group, GroupSettings())
    assert pruned == full and pruned[-15:].count("G") >= 10  # the new issue's tickets join its group
    assert searched[0] < len(now_rows) / 2  # most of the week is not searched over the window


def test_a_young_group_wins_a_ticket_by_its_votes_beyond_its_share_of_the_window():
    """A this-week ticket joins a young group when most of its nearest earlier tickets are in it beyond
    the group's share of the earlier tickets: a group holding most of a diffuse window wins most
    votes by its size alone (27 of a week's 36 prisma bug titles joined one so)."""
    rng = np.random.default_rng(0)
    near = np.eye(DIM)[0] + 0.3 * rng.normal(size=(6, DIM))  # the ticket's 6 nearest earlier tickets
    far = np.eye(DIM)[1:][rng.integers(1, DIM - 1, size=14)] + 0.3 * rng.normal(size=(14, DIM))
    x = np.concatenate([near, far, [np.eye(DIM)[0]]])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    now = np.r_[np.zeros(20, bool), True]
    ids = [f"t{i:02d}" for i in range(21)]

    def joins(group_far: int) -> bool:
        theme_of = ["G"] * 4 + ["H"] * 2 + ["G"] * group_far + ["H"] * (14 - group_far) + [None]
        group = identity.Theme("G", np.eye(DIM)[0], frozenset(t for t, g in zip(ids, theme_of, strict=True) if g == "G"))
        return subgroups.continue_groups(x, now, ids, theme_of, [group], GroupSettings())[0][-1] == "G"

    assert joins(0)  # 4 of 6 votes for a group of 4 of 20 earlier tickets
    assert not joins(10)  # the same 4 of 6 for a group of 14 of 20: what its size draws
