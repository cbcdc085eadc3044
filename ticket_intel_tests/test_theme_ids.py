"""A theme id is issued once, ever (core/identity.py, point 4): when history changes and weeks are
clustered again, an id never passes to another theme, and a theme that comes back takes its id back.
Reviews and tracker links are keyed by id, so this is what keeps a decision on the theme it was made on."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd

from ticket_intel import warehouse as wh
from ticket_intel.core import identity
from ticket_intel.core.review import waiting
from ticket_intel.core.theme_week import Issued, PreviousTheme, cluster_window
from ticket_intel_tests.conftest import one_ranked_theme_warehouse
from ticket_intel_tests.test_determinism import WEEKS, window_vectors


def _theme(theme_id: str, direction: int, tickets: list[str], dim: int = 8) -> identity.Theme:
    return identity.Theme(theme_id, np.eye(dim)[direction], frozenset(tickets))


def test_new_ids_skip_every_id_issued():
    fresh = identity.new_ids(WEEKS[0], frozenset({"T20260302-00", "T20260302-02"}))
    assert [next(fresh) for _ in range(3)] == ["T20260302-01", "T20260302-03", "T20260302-04"]


def test_a_new_theme_takes_back_the_id_of_the_theme_it_is_and_a_look_alike_takes_none():
    fresh = [_theme("T20260302-07", 0, ["a", "b", "c"]), _theme("T20260302-08", 1, ["x", "y"])]
    earlier = [_theme("T20260302-01", 0, ["a", "b", "c", "d"]), _theme("T20260302-02", 1, ["p", "q"])]
    # the second is the same direction as an earlier theme but shares no ticket with it: a look-alike
    assert identity.reissued(fresh, earlier) == {"T20260302-07": "T20260302-01"}
    assert identity.reissued(fresh[1:], earlier[1:]) == {}  # nothing shared at all: centroids alone decide nothing


def test_a_week_run_again_gives_each_half_of_a_split_the_id_it_had_not_the_one_last_week_suggests():
    """Last week's theme held two issues, 20 tickets of one and 30 of the other; the first run of this
    week split it and gave the parent's id to the smaller half (its earlier run, `issued`). Run again, the
    week splits the same way. Matched to last week alone, the parent's id went to the larger half, a
    group sharing no ticket with what it named in this week, and the smaller half got a new number."""
    x, ids, _ = window_vectors()
    keep = [k for k, i in enumerate(ids) if i.startswith(("w0-c0-", "w0-c1-"))]
    x, ids = x[keep], [ids[k] for k in keep]
    a, b = [i for i in ids if "-c1-" in i], [i for i in ids if "-c0-" in i]  # 25 and 40 tickets
    week = WEEKS[1]
    now = [k % 5 == 0 for k in range(len(ids))]  # a fifth of each issue arrived this week
    tickets = pd.DataFrame({"ticket_id": ids, "ticket_week": [week if n else WEEKS[0] for n in now]})
    before = frozenset(i for i, n in zip(ids, now, strict=True) if not n)
    centroid = x[[k for k, i in enumerate(ids) if i in before]].mean(axis=0)
    parent = PreviousTheme(identity.Theme("T20260223-00", centroid / np.linalg.norm(centroid), before),
                           WEEKS[0], "new")

    def earlier(theme_id: str, members: list[str]) -> identity.Theme:
        v = x[[ids.index(i) for i in members]].mean(axis=0)
        return identity.Theme(theme_id, v / np.linalg.norm(v), frozenset(members))

    issued = Issued(frozenset({"T20260223-00", "T20260302-00"}),
                    (earlier("T20260223-00", a), earlier("T20260302-00", b)))
    step = cluster_window(week, tickets, x, [parent], seed=11, issued=issued)
    named = step.clusters.groupby("theme_id")["ticket_id"].agg(frozenset).to_dict()
    assert named["T20260223-00"] & set(a) and not named["T20260223-00"] & set(b)
    assert named["T20260302-00"] & set(b) and not named["T20260302-00"] & set(a)


def test_an_id_goes_back_to_no_fresh_theme_when_its_tickets_sit_in_a_theme_that_has_an_id():
    """An earlier run's 90-ticket theme; this run keeps 88 of its tickets in a continuing theme and a new
    small one holds the other 2 with 6 others. Scored among the new themes alone (the old rule), the small
    one held all of the earlier theme's tickets it could see and took its id."""
    earlier = [_theme("T20261102-01", 0, [f"f{i}" for i in range(90)])]
    continuing = _theme("T20260831-02", 0, [f"f{i}" for i in range(88)] + ["g1", "g2"])
    small = _theme("T20261019-00", 0, ["f88", "f89"] + [f"m{i}" for i in range(6)])
    assert identity.reissued([small], earlier, [continuing]) == {}
    assert identity.reissued([small], earlier) == {"T20261019-00": "T20261102-01"}  # with nothing else to see


def test_a_theme_that_continues_keeps_its_id_though_an_earlier_run_gave_its_tickets_another():
    """Put back with its export, a week's 6-ticket theme continues last week's; the pruned run had given
    the same tickets a new id. Scored alone that id fits better (the same tickets), but a theme that
    continues keeps its id, and the earlier one goes to no other cluster either."""
    cluster = {0: _theme("c", 0, ["a", "b", "c", "d", "e", "f"]), 1: _theme("d", 1, ["x", "y", "z"])}
    last_week = [_theme("T20171009-01", 0, ["a", "b", "c", "d", "e", "old"])]
    pruned_run = [_theme("T20171030-11", 0, ["a", "b", "c", "d", "e", "f"])]
    assert identity.matched(cluster, last_week, earlier=pruned_run) == {0: "T20171009-01"}


def _store(path: Path, keep) -> None:
    """Replace the warehouse's tickets by the window's tickets `keep` accepts (a prune, a restore)."""
    x, ids, weeks = window_vectors()
    rows = [i for i, t in enumerate(ids) if keep(t)]
    frame = pd.DataFrame({"week_start": [weeks[i] for i in rows], "ticket_id": [ids[i] for i in rows],
                          "model": "synthetic", "text_hash": [ids[i] for i in rows],
                          "embedding": [x[i] for i in rows], "run_id": "seed"})
    redacted = frame[["ticket_id", "week_start"]].assign(created_at=pd.to_datetime(frame["week_start"]),
                                                          text=frame["ticket_id"], text_hash=frame["ticket_id"])
    with wh.open_warehouse(path) as con:
        wh.ensure_embedding_schema(con, x.shape[1])
        wh.replace(con, [wh.Replace("staging.ticket_embeddings", frame, "week_start", WEEKS),
                         wh.Replace("staging.redacted_tickets", redacted, "week_start", WEEKS)])


def _cluster(path: Path) -> dict[tuple[date, str], str]:
    """Run the clustering asset over both weeks; per (week, id) the planted group most of its tickets are."""
    from ticket_intel.defs.clusters import ticket_clusters
    from ticket_intel.defs.resources import AlertConfig, ClusteringConfig, RankingConfig, Warehouse

    resources = {"warehouse": Warehouse(database=str(path)), "clustering": ClusteringConfig(seed=11),
                 "alerts": AlertConfig(), "ranking": RankingConfig()}
    for week in WEEKS:
        assert dg.materialize([ticket_clusters], partition_key=week.isoformat(), resources=resources).success
    with wh.open_warehouse(path, read_only=True) as con:
        rows = wh.read(con, "SELECT week_start, theme_id, mode(split_part(ticket_id, '-', 2)) AS planted "
                            "FROM staging.ticket_clusters WHERE theme_id IS NOT NULL GROUP BY ALL")
    return {(r.week_start, r.theme_id): r.planted for r in rows.itertuples()}


def test_ids_never_pass_to_another_theme_when_history_changes_and_come_back_with_it(tmp_path):
    path = tmp_path / "wh.duckdb"
    _store(path, lambda t: True)
    first = _cluster(path)
    assert {g for (w, _), g in first.items() if w == WEEKS[1]} >= {"c0", "c1", "c2", "c3"}
    group_of = {t: g for (_, t), g in first.items()}

    _store(path, lambda t: "-c0-" not in t)  # an export pruned: the largest issue leaves both weeks
    pruned = _cluster(path)
    assert "c0" not in pruned.values()
    # every id held now names the issue it named before; the pruned issue's ids are held by nothing
    assert all(group_of.get(t, g) == g for (_, t), g in pruned.items())
    assert not {t for t, g in group_of.items() if g == "c0"} & {t for _, t in pruned}

    _store(path, lambda t: True)  # the export put back
    assert _cluster(path) == first
    with wh.open_warehouse(path, read_only=True) as con:
        issued, _ = wh.issued_themes(con, WEEKS[0])
    assert issued >= {t for _, t in first} | {t for _, t in pruned}


def test_each_issued_theme_is_read_as_in_the_earliest_week_at_or_after_the_one_clustered(tmp_path):
    """Stored rows or the registry, whichever is earlier (a tie: the stored one, the newer run); an id
    issued before the week clustered is no candidate (it is last week's theme, or gone)."""
    w0, w1, w2 = date(2026, 2, 23), *WEEKS
    with wh.open_warehouse(tmp_path / "wh.duckdb") as con:
        wh.ensure_embedding_schema(con, 2)
        for week, theme, ticket in ((w1, "T1", "a"), (w2, "T1", "b"), (w2, "T3", "c")):
            con.execute("INSERT INTO staging.themes (week_start, theme_id, centroid) VALUES (?, ?, [1, 0])", [week, theme])
            con.execute("INSERT INTO staging.ticket_clusters (week_start, ticket_id, ticket_week, theme_id) "
                        "VALUES (?, ?, ?, ?)", [week, ticket, week, theme])
        for week, theme, ticket in ((w0, "T1", "z"), (w2, "T2", "y"), (w1, "T3", "x"), (w2, "T1", "q")):
            wh.register_themes(con, week, pd.DataFrame({"theme_id": [theme], "centroid": [[0.0, 1.0]],
                                                        "ticket_ids": [[ticket]]}), "r")
        issued, at_w1 = wh.issued_themes(con, w1)
        _, at_w2 = wh.issued_themes(con, w2)
    assert issued == {"T1", "T2", "T3"}  # registering T1 again changes nothing: it was issued in w0
    assert dict(zip(at_w1["theme_id"], at_w1["ticket_ids"].map(list), strict=True)) == {
        "T1": ["a"], "T2": ["y"], "T3": ["x"]}
    assert dict(zip(at_w2["theme_id"], at_w2["ticket_ids"].map(list), strict=True)) == {
        "T1": ["b"], "T2": ["y"], "T3": ["c"]}


def test_review_list_says_which_decisions_wait_for_a_theme_no_week_holds(tmp_path, capsys):
    from click.testing import CliRunner

    from ticket_intel.cli import _print_waiting, main

    path = one_ranked_theme_warehouse(tmp_path / "w.duckdb")
    with wh.open_warehouse(path) as con:
        wh.add_review(con, "T1", "rename", "Card arrival", None, "ana", None)
        wh.add_review(con, "T9", "merge", None, "T1", "ana", None)  # T9's week was pruned since
    listed = CliRunner().invoke(main, ["review", "list", "--warehouse", str(path)])
    assert listed.exit_code == 0, listed.output
    lines = {line.split(": ")[1].split()[0]: line for line in listed.stdout.splitlines() if line.startswith("  #")}
    assert "waits" not in lines["rename"]
    assert lines["merge"].endswith("(waits: no clustered week holds its theme now)")
    with wh.open_warehouse(path) as con:
        wh.add_review(con, "T9", "not-a-theme", None, None, "ana", None)
        wh.add_review(con, "T9", "undo", "3", None, "ana", None)  # undone: it waits for nothing
        assert [r["review_id"] for r in waiting(wh.reviews(con), {"T1"})] == [2]
    _print_waiting(path)  # what `ticket-intel run` says at its end
    assert capsys.readouterr().out == ("reviews: 1 decision (#2) waits for a theme no clustered week holds now; "
                                       "see `ticket-intel review list`\n")
