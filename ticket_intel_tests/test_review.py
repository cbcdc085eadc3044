"""Human review: an append-only log folded into decisions that survive re-clustering."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from ticket_intel import PROJECT_ROOT
from ticket_intel.core.review import (
    ReviewState,
    assignment_value,
    canonical_themes,
    review_changes,
    review_state,
    split_from_reviewed,
    strayed_from_reviewed,
    validate_action,
    weeks_to_update,
    with_assignments,
)
from ticket_intel.defs.partitions import WINDOW_WEEKS
from ticket_intel.warehouse.target import cli_flag
from ticket_intel_tests.conftest import copy_run, one_ranked_theme_warehouse


def log(*entries: tuple) -> list[dict]:
    rows = []
    for i, (action, theme, value, target) in enumerate(entries, start=1):
        rows.append({"review_id": i, "theme_id": theme, "action": action, "value": value, "target_theme_id": target,
                     "reviewer": "pm", "note": None, "created_at": datetime(2026, 11, 17) + timedelta(minutes=i)})
    return rows


def test_a_reviewed_theme_s_ranked_piece_is_named(tmp_path):
    """Re-clustered, 8 of a renamed theme's 14 tickets became a new unreviewed #1 and a merge target
    lost its tickets, and nothing said so (backfill review): the split the latest window recorded is."""
    import duckdb

    from ticket_intel import warehouse as wh

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    wh.migrate(con)
    week = date(2026, 11, 16)
    con.execute("""INSERT INTO ops.theme_events (week_start, theme_id, event, related_theme_ids, detail) VALUES
                   (?, 'T9', 'split', ['T1'], '57% of its earlier tickets were in T1'),
                   (?, 'T8', 'split', ['T2'], '90% of its earlier tickets were in T2'),
                   (?, 'T7', 'split', ['T1'], 'old'), (?, 'T6', 'split', ['T3'], '82% of its earlier tickets were in T3'),
                   (?, 'T9', 'split', ['T1'], 'split before, said once')""",
                [week, week, week - timedelta(weeks=WINDOW_WEEKS), week, week - timedelta(weeks=1)])
    con.execute("INSERT INTO marts.ranked_themes (week_start, theme_id, rank) VALUES (?, 'T9', 1), (?, 'T6', 2), "
                "(?, 'T7', 3)", [week, week, week])
    splits = wh.theme_splits(con, WINDOW_WEEKS)
    assert splits["theme_id"].tolist() == ["T9", "T6", "T9"]  # T8 is not ranked, T7's split is a window old
    said = split_from_reviewed(log(("rename", "T1", "Card payments fail", None), ("merge", "T4", None, "T3")),
                               splits)
    assert said == ["T6 split from T3 (merged from T4) in week 2026-11-16: 82% of its earlier tickets were in T3; its tickets are "
                    "unreviewed, the decision stays with T3",
                    "T9 split from T1 (renamed) in week 2026-11-16: 57% of its earlier tickets were in T1; its "
                    "tickets are unreviewed, the decision stays with T1"]
    assert split_from_reviewed(log(("rename", "T1", "x", None), ("rename", "T9", "y", None)), splits) == []


def test_a_reviewed_theme_whose_tickets_went_to_pieces_too_small_to_rank_is_named():
    """Re-clustered with another seed, dismissed twcs T20171106-05 kept 12 of the 20 tickets it was
    first clustered with, 8 went to two unranked pieces, and neither `run` nor `review list` said so."""
    def placed(theme: str, now: list) -> pd.DataFrame:
        return pd.DataFrame({"theme_id": theme, "ticket_id": [f"{theme}{i}" for i in range(len(now))], "now": now,
                             "ranked": [t == "R" for t in now]})

    frame = pd.concat([placed("T5", ["T5"] * 12 + ["T8"] * 6 + ["T9"] * 2),  # scattered: said
                       placed("T1", ["T1"] * 12 + ["R"] * 8),  # to a ranked theme: `split_from_reviewed` says it
                       placed("T2", ["T2"] * 16 + [None] * 4),  # fewer than a theme's worth
                       placed("T3", ["T8"] * 20), placed("T4", ["T4"] * 2 + ["T8"] * 9)])  # T3 lost its id; T4 unreviewed
    rows = log(*[("not-a-theme", t, None, None) for t in ("T5", "T1", "T2", "T3")])
    assert strayed_from_reviewed(rows, frame, 5) == [
        "T5 (not-a-theme) holds 12 of the 20 tickets it was first clustered with that the window still holds; 8 went "
        "to themes too small to rank or none (T8 6, T9 2): the decision stays with T5 and does not reach them"]


def test_the_tickets_a_theme_was_first_clustered_with_are_found_where_the_latest_window_put_them(tmp_path):
    import duckdb

    from ticket_intel import warehouse as wh

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    wh.migrate(con)
    week = date(2026, 11, 16)
    con.execute("INSERT INTO ops.theme_registry (theme_id, week_start, ticket_ids) VALUES ('T5', ?, ['a', 'b', 'c', 'old'])",
                [week - timedelta(weeks=2)])
    con.execute("""INSERT INTO staging.ticket_clusters (week_start, ticket_id, ticket_week, theme_id) VALUES
                   (?, 'a', ?, 'T5'), (?, 'b', ?, 'T8'), (?, 'c', ?, NULL), (?, 'a', ?, 'T9')""",
                [week, week, week, week, week, week, week - timedelta(weeks=1), week])
    con.execute("INSERT INTO marts.ranked_themes (week_start, theme_id, rank) VALUES (?, 'T8', 1)", [week])
    found = wh.first_tickets_now(con, ["T5", "T6"])  # 'old' left the window; a week before placed 'a' elsewhere
    assert found[["ticket_id", "now"]].to_dict("records") == [{"ticket_id": "a", "now": "T5"}, {"ticket_id": "b", "now": "T8"},
                                                             {"ticket_id": "c", "now": None}]
    assert found["ranked"].tolist()[:2] == [False, True]


def test_decisions_fold_into_state():
    state = review_state(log(
        ("rename", "A", "Card payments declined", None),
        ("rename", "A", "Declined card payments", None),
        ("confirm", "B", None, None),
        ("merge", "C", None, "B"),
        ("merge", "D", None, "C"),
        ("not-a-theme", "E", None, None),
    ))
    assert state.labels == {"A": "Declined card payments"}
    assert state.canonical("D") == "B" and state.canonical("A") == "A"
    assert state.merged_from("B") == ["C", "D"]
    assert [state.status(t) for t in "ACE"] == ["renamed", "merged into B", "not-a-theme"]
    # a merge's target with no decision of its own read "unreviewed" (backfill review)
    assert review_state(log(("merge", "C", None, "F"))).status("F") == "merged from C"


def test_the_status_carries_every_decision_on_a_theme():
    """twcs T20171030-02, confirmed, then T20171113-01 merged into it, read "confirmed" in the export
    and `review list`: the merge it absorbed was hidden."""
    state = review_state(log(("confirm", "B", "Flight · luggage", None), ("merge", "C", None, "B"),
                             ("rename", "B", "Lost luggage", None), ("fixed", "D", "4.1", None),
                             ("confirm", "D", None, None)))
    assert state.status("B") == "confirmed; renamed; merged from C"
    assert state.status("D") == "fixed in 4.1; confirmed"  # a confirmation without a recorded label (older logs)
    assert state.confirmed == {"B": "Flight · luggage", "D": ""}


def test_a_renamed_or_merged_into_theme_is_endorsed_like_a_confirmed_one():
    """With TICKET_INTEL_BACKLOG_SELECT=confirmed, the renamed "iOS 11 update breaks iPhone" and a
    merge's target never reached the tracker; a dismissed theme does not."""
    state = review_state(log(("confirm", "A", "x", None), ("rename", "B", "y", None), ("merge", "C", None, "D"),
                             ("merge", "A", None, "E"), ("rename", "F", "z", None), ("not-a-theme", "F", None, None)))
    assert state.endorsed() == {"B", "D", "E"}


def test_undo_cancels_one_decision_and_an_undone_undo_restores_it():
    rows = log(("not-a-theme", "A", None, None), ("rename", "B", "x", None), ("undo", "A", "1", None))
    assert review_state(rows).not_a_theme == set()
    assert review_state(rows).labels == {"B": "x"}
    rows += log(("undo", "A", "3", None))[:1]
    rows[-1]["review_id"] = 4
    assert review_state(rows).not_a_theme == {"A"}


def test_a_merge_cycle_is_refused_and_ignored():
    state = review_state(log(("merge", "A", None, "B")))
    with pytest.raises(ValueError, match="cycle"):
        validate_action("merge", None, "A", "B", state)
    with pytest.raises(ValueError, match="cannot be merged into itself"):  # it said "A is already merged into A"
        validate_action("merge", None, "A", "A", review_state([]))
    looped = review_state(log(("merge", "A", None, "B"), ("merge", "B", None, "A")))
    assert looped.canonical("A") == "B" and looped.canonical("B") == "B"


@pytest.mark.parametrize(("action", "value", "target", "message"), [
    ("delete", None, None, "unknown review action"),
    ("rename", "  ", None, "new name"),
    ("merge", None, None, "merge into"),
    ("undo", "last", None, "review id"),
    ("assign", "{}", None, "--owner NAME or --area AREA"),
])
def test_invalid_decisions_are_refused(action, value, target, message):
    with pytest.raises(ValueError, match=message):
        validate_action(action, value, target)


def assigned(theme: str, owner: str | None = None, area: str | None = None) -> tuple:
    return ("assign", theme, assignment_value(owner, area), None)


def test_an_assignment_sets_the_fields_it_names_follows_merges_and_is_undone_like_any_decision():
    """A lead could not say "this is Payments' issue, Dana owns it": the area came only from the
    taxonomy and owners only from ticket routing (review observation A)."""
    rows = log(assigned("A", owner="Dana", area="Cards"), assigned("A", owner="Lee"), ("merge", "C", None, "B"),
               assigned("C", owner="Ops"), assigned("B", area="Transfers"))
    state = review_state(rows)
    assert (state.owner_of("A"), state.area_of("A")) == ("Lee", "Cards")  # the later assign kept the earlier area
    assert (state.owner_of("B"), state.area_of("B")) == ("Ops", "Transfers")  # C's owner came with its merge
    assert state.status("A") == "owner Lee; area Cards"
    assert state.owner_of("D") is None and state.area_of("D") is None
    undone = review_state([*rows, {**log(("undo", "A", "2", None))[0], "review_id": 6}])
    assert undone.owner_of("A") == "Dana"


def test_a_reviewer_s_area_wins_over_the_taxonomy_s_and_says_so():
    frame = pd.DataFrame({"theme_id": ["A", "B"], "product_area": ["Cards", "Top-ups"]})
    shown = with_assignments(frame, review_state(log(assigned("B", owner="Dana", area="Transfers"))))
    assert shown.to_dict("records") == [
        {"theme_id": "A", "product_area": "Cards", "owner": None, "product_area_source": "taxonomy"},
        {"theme_id": "B", "product_area": "Transfers", "owner": "Dana", "product_area_source": "review"}]


def test_a_decision_says_when_it_moved_a_theme_s_area():
    """Assigned an area, a theme's ranking line read "unchanged" though its area had moved."""
    before = pd.DataFrame({"theme_id": ["T1"], "rank": [2], "label": ["Direct debit"], "tickets": [9],
                           "product_area": ["Unassigned"]})
    assert review_changes(before, before.assign(product_area="Transfers"), ["T1"]) == [
        "T1: area Unassigned -> Transfers"]


def test_the_backlog_issue_names_the_owner():
    from ticket_intel.core.backlog import issue_content

    theme = {"theme_id": "T1", "label": "Card · arrival", "tickets": 9, "customers": 7, "rank": 1,
             "product_area": "Cards", "severity": "P1", "signal_type": "bug"}
    said = json.dumps(issue_content(date(2026, 11, 2), {**theme, "owner": "Dana"}).doc)
    assert "Owner: Dana" in said and "Owner" not in json.dumps(issue_content(date(2026, 11, 2), theme).doc)


def test_a_decision_with_no_apply_is_recorded_and_left_for_one_review_apply(tmp_path, monkeypatch):
    """Each decision wrote the latest window again at once, 30-75 s each on the sample, five minutes
    for a lead's five (review observation E): `--no-apply` records it and says how to apply."""
    from click.testing import CliRunner

    from ticket_intel import cli

    applied = []
    monkeypatch.setattr(cli, "_apply_review", lambda warehouse, themes, every_week=False: applied.append(themes))
    path, runner = str(one_ranked_theme_warehouse(tmp_path / "w.duckdb")), CliRunner()
    for args in (["rename", "T1", "Card never arrived"], ["confirm", "T1"], ["not-a-theme", "T1"], ["undo", "3"],
                 ["assign", "T1", "--owner", "Dana"]):
        said = runner.invoke(cli.main, ["review", *args, "--no-apply", "--warehouse", path])
        assert said.exit_code == 0, said.output
        assert said.stdout.rstrip().endswith("recorded; apply with `ticket-intel review apply`")
    assert applied == []
    assert runner.invoke(cli.main, ["review", "rename", "T1", "Cards arrive late", "--warehouse", path]).exit_code == 0
    assert applied == [["T1"]]  # without it, applied at once as before
    assert runner.invoke(cli.main, ["review", "apply", "--warehouse", path]).exit_code == 0
    assert len(applied) == 2


def test_assign_shows_in_themes_and_the_review_list_and_refuses_an_area_the_taxonomy_lacks(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from ticket_intel import cli

    monkeypatch.setattr(cli, "_apply_review", lambda warehouse, themes, every_week=False: None)
    path, runner = str(one_ranked_theme_warehouse(tmp_path / "w.duckdb")), CliRunner()
    refused = runner.invoke(cli.main, ["review", "assign", "T1", "--area", "Payments", "--warehouse", path])
    assert refused.exit_code != 0
    assert "area 'Payments' is not in the taxonomy; its areas: Cards, Cash and ATMs, Transfers" in refused.output
    said = runner.invoke(cli.main, ["review", "assign", "T1", "--owner", "Dana", "--area", "Transfers", "--warehouse", path])
    assert said.exit_code == 0, said.output
    assert "review #1: T1 assigned owner Dana and area Transfers" in said.stdout
    shown = json.loads(runner.invoke(cli.main, ["themes", "--format", "json", "--warehouse", path]).stdout)[0]
    assert (shown["owner"], shown["product_area"], shown["product_area_source"]) == ("Dana", "Transfers", "review")
    listed = runner.invoke(cli.main, ["review", "list", "--warehouse", path]).stdout
    assert "owner Dana; area Transfers" in listed and "assign T1 owner Dana and area Transfers" in listed
    exported = runner.invoke(cli.main, ["export", "--format", "csv", "--warehouse", path]).stdout
    assert "owner" in exported.splitlines()[0] and "Dana" in exported


def test_a_decision_updates_the_last_window_of_the_weeks_holding_its_themes():
    mondays = [date(2026, 1, 5) + timedelta(weeks=i) for i in range(20)]
    assert weeks_to_update((mondays[0], mondays[19]), 8) == (mondays[12], mondays[19])
    assert weeks_to_update((mondays[15], mondays[19]), 8) == (mondays[15], mondays[19])
    assert weeks_to_update((mondays[3], mondays[3]), 1) == (mondays[3], mondays[3])


def test_canonical_themes_rewrites_a_window_frame():
    frame = pd.DataFrame({"ticket_id": ["1", "2", "3"], "theme_id": ["A", "B", None]})
    out = canonical_themes(frame, ReviewState(merged_into={"A": "B"}))
    assert out["theme_id"].tolist() == ["B", "B", None]
    assert frame["theme_id"].tolist() == ["A", "B", None]  # the input is not changed


# ------------------------------------------------ end to end: decisions survive the next clustering run

def _stale(instance, key: str, partition: str) -> bool:
    import dagster as dg
    from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
    from dagster._core.loader import LoadingContextForTest

    from ticket_intel.definitions import defs

    resolver = CachingStaleStatusResolver(instance, defs().resolve_asset_graph(), LoadingContextForTest(instance))
    return resolver.get_status(dg.AssetKey(key), partition) == StaleStatus.STALE


def _label_and_staleness(sample_copy, instance, theme_id: str) -> tuple[str, bool]:
    """The theme's ranked label in the sample's first week, and whether that week's ranking is stale."""
    import duckdb

    with duckdb.connect(str(sample_copy.warehouse), read_only=True) as con:
        label = con.execute("SELECT label FROM marts.ranked_themes WHERE week_start = ? AND theme_id = ?",
                            [date.fromisoformat(sample_copy.start), theme_id]).fetchone()[0]
    return label, _stale(instance, "ranked_themes", sample_copy.start)


@pytest.fixture(scope="module")
def reviewed(sample_run, tmp_path_factory):
    """Review decisions on last week's themes through the CLI, then the next clustering run
    (once for the module: the tests below check different decisions of the same run)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield _review_and_recluster(copy_run(sample_run, tmp_path_factory.mktemp("review"), monkeypatch))


def _review_and_recluster(sample_copy) -> dict:
    import dagster as dg
    import duckdb
    from click.testing import CliRunner

    from ticket_intel.cli import main
    from ticket_intel.definitions import defs

    week = date.fromisoformat(sample_copy.end)
    with duckdb.connect(str(sample_copy.warehouse), read_only=True) as con:
        both = [r[0] for r in con.execute(
            """SELECT theme_id FROM marts.ranked_themes WHERE week_start = ? AND theme_id IN
               (SELECT theme_id FROM marts.ranked_themes WHERE week_start = ?) ORDER BY rank""",
            [week, week - timedelta(weeks=1)],
        ).fetchall()]
        first = {r[0] for r in con.execute("SELECT theme_id FROM marts.ranked_themes WHERE week_start = ?",
                                           [date.fromisoformat(sample_copy.start)]).fetchall()}
    assert len(both) >= 4, "the sample should have themes that persist from one week to the next"
    renamed = next(t for t in both if t in first)  # ranked in every week: one a decision's window leaves out
    merged, into, rejected = [t for t in both if t != renamed][:3]
    runner = CliRunner()
    wh_opt = ["--warehouse", str(sample_copy.warehouse), "--reviewer", "pm@example.com"]

    def themes() -> dict[str, dict]:
        shown = runner.invoke(main, ["themes", "--warehouse", str(sample_copy.warehouse), "--format", "json"])
        return {t["theme_id"]: t for t in json.loads(shown.stdout)}

    said, shown = {}, {"before": themes()}
    for args in (["rename", *wh_opt, renamed, "Customers cannot pay by card"],
                 ["merge", *wh_opt, merged, into],
                 ["not-a-theme", *wh_opt, rejected]):
        result = runner.invoke(main, ["review", *args])
        assert result.exit_code == 0, result.output
        said[args[0]], shown[args[0]] = result.stdout, themes()
    listed = runner.invoke(main, ["review", "list", "--warehouse", str(sample_copy.warehouse)]).stdout
    instance = dg.DagsterInstance.get()
    # the latest week as the decisions left it, before `review apply` touches any week
    stale_before = {key: _stale(instance, key, week.isoformat()) for key in ("cluster_summaries", "ranked_themes")}
    before_apply = _label_and_staleness(sample_copy, instance, renamed)
    applied = runner.invoke(main, ["review", "apply", "--warehouse", str(sample_copy.warehouse)])
    assert applied.exit_code == 0, applied.output
    oldest = {"before apply": before_apply, "after apply": _label_and_staleness(sample_copy, instance, renamed)}
    applied_again = runner.invoke(main, ["review", "apply", "--warehouse", str(sample_copy.warehouse)])
    with duckdb.connect(str(sample_copy.warehouse), read_only=True) as con:
        was = con.execute("SELECT product_area FROM marts.ranked_themes WHERE week_start = ? AND theme_id = ?",
                          [week, renamed]).fetchone()[0]
    area = next(a for a in ("Cards", "Transfers") if a != was)
    assigned = runner.invoke(main, ["review", "assign", *wh_opt, renamed, "--owner", "Dana", "--area", area, "--no-apply"])
    applied_assign = runner.invoke(main, ["review", "apply", "--warehouse", str(sample_copy.warehouse)])
    edited = sample_copy.warehouse.parent / "edited_taxonomy.yaml"
    edited.write_text((PROJECT_ROOT / "taxonomy.yaml").read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    other_taxonomy = runner.invoke(main, ["review", "confirm", *wh_opt, into], env={"TICKET_INTEL_TAXONOMY": str(edited)})
    rerun = runner.invoke(main, ["run", "--inbox", str(sample_copy.inbox), "--warehouse", str(sample_copy.warehouse)])

    result = defs().resolve_job_def("weekly_job").execute_in_process(
        instance=instance, partition_key=week.isoformat(),
        asset_selection=[dg.AssetKey(k) for k in ("ticket_clusters", "cluster_summaries", "ranked_themes")],
    )
    assert result.success
    with duckdb.connect(str(sample_copy.warehouse), read_only=True) as con:
        tables = {t: con.execute(f"SELECT * FROM {t} WHERE week_start = ?", [week]).df()
                  for t in ("marts.ranked_themes", "marts.cluster_summaries", "marts.not_a_theme", "staging.ticket_clusters")}
        reviews = con.execute("SELECT action, reviewer FROM ops.theme_reviews ORDER BY review_id").fetchall()
        confirmed_as = con.execute("SELECT value FROM ops.theme_reviews WHERE action = 'confirm'").fetchone()[0]
    return {
        "week": week, "ids": (renamed, merged, into, rejected), "stale_before": stale_before, "reviews": reviews,
        "said": said, "shown": shown, "listed": listed, "copy": sample_copy, "oldest": oldest,
        "applied": applied.stdout, "applied_again": applied_again.stdout, "rerun": rerun, "other_taxonomy": other_taxonomy,
        "fresh_after": not _stale(instance, "ranked_themes", week.isoformat()), "confirmed_as": confirmed_as, **tables,
        "assigned": (assigned.stdout, applied_assign.stdout, area),
    }


@pytest.mark.e2e
def test_review_decisions_are_logged_and_take_effect_at_once(reviewed):
    """Each decision re-materializes the affected weeks' summaries and ranking through Dagster, so
    nothing is left stale waiting for the next run."""
    assert reviewed["reviews"] == [("rename", "pm@example.com"), ("merge", "pm@example.com"),
                                   ("not-a-theme", "pm@example.com"), ("assign", "pm@example.com"),
                                   ("confirm", "pm@example.com")]  # recorded, not applied: another taxonomy
    assert reviewed["stale_before"] == {"cluster_summaries": False, "ranked_themes": False}
    assert reviewed["fresh_after"]


@pytest.mark.e2e
def test_each_decision_says_what_changed_and_shows_at_once(reviewed):
    """Before any new run: `themes` shows the new name, and the merged theme's tickets under the other."""
    renamed, merged, into, rejected = reviewed["ids"]
    said, shown, copy = reviewed["said"], reviewed["shown"], reviewed["copy"]
    assert said["rename"].startswith(f"warehouse {copy.warehouse}, Dagster instance {copy.dagster_home}")
    assert "updating weeks" in said["rename"] and "label" in said["rename"]
    assert shown["rename"][renamed]["label"] == "Customers cannot pay by card"
    assert f"{merged} is no longer ranked" in said["merge"]
    assert merged not in shown["merge"]
    assert shown["merge"][into]["tickets"] == shown["before"][into]["tickets"] + shown["before"][merged]["tickets"]
    assert rejected in shown["merge"] and rejected not in shown["not-a-theme"]
    assert "renamed" in reviewed["listed"] and f"merge {merged} into {into}" in reviewed["listed"]


@pytest.mark.e2e
def test_a_decision_updates_the_latest_window_and_apply_the_weeks_before(reviewed):
    """The sample's 12 weeks against an 8-week window: the first week keeps the old name, stale,
    until `review apply`, which updates the weeks left behind and, run again, nothing."""
    said, copy = reviewed["said"]["rename"], reviewed["copy"]
    start = date.fromisoformat(copy.end) - timedelta(weeks=WINDOW_WEEKS - 1)
    assert f"updating weeks {start}..{copy.end}" in said
    assert f"weeks {copy.start}..{start - timedelta(weeks=1)} show the decision after `ticket-intel review apply`" in said
    (old_label, stale), (new_label, still_stale) = reviewed["oldest"].values()
    assert old_label != "Customers cannot pay by card" and stale
    assert new_label == "Customers cannot pay by card" and not still_stale
    # only the weeks no decision updated: the latest window already showed the last decision
    assert f"updating weeks {copy.start}.." in reviewed["applied"] and f"..{copy.end}:" not in reviewed["applied"]
    assert reviewed["applied_again"].splitlines()[1:] == [f"weeks {copy.start}..{copy.end} already show every review decision"]


@pytest.mark.e2e
def test_an_assignment_recorded_then_applied_holds_through_reclustering(reviewed):
    """`assign --no-apply` writes nothing until `review apply`, whose one run gives every week the
    reviewer's area; the next clustering of the week keeps it and the owner."""
    renamed, copy = reviewed["ids"][0], reviewed["copy"]
    recorded, applied, area = reviewed["assigned"]
    assert recorded.rstrip().endswith("recorded; apply with `ticket-intel review apply`") and "updating" not in recorded
    assert f"updating weeks {copy.start}..{copy.end}" in applied
    row = reviewed["marts.ranked_themes"].set_index("theme_id").loc[renamed]
    assert row["product_area"] == area and "owner Dana; area " + area in row["review_status"]


@pytest.mark.e2e
def test_a_review_in_a_shell_with_another_taxonomy_is_recorded_not_applied(reviewed):
    """Applied, it gave the latest window this shell's product areas, and the next run, its inputs
    unchanged, found nothing to run: the weeks mixed two taxonomies (backfill review)."""
    refused, copy = reviewed["other_taxonomy"], reviewed["copy"]
    assert refused.exit_code == 1 and "were summarized with another taxonomy than" in refused.output
    assert "the decision is recorded, not applied" in refused.output
    shipped = str((PROJECT_ROOT / "taxonomy.yaml").resolve())  # named, with the command that keeps it (review F)
    assert f"`ticket-intel review apply` with TICKET_INTEL_TAXONOMY={shipped}, or" in refused.output
    # the run that replaces theirs is runnable as printed ("ticket-intel run --weeks all" lacked --inbox)
    assert "or `ticket-intel run --inbox " in refused.output
    assert f"{cli_flag(copy.warehouse)} --weeks all --replace-config` to give" in refused.output
    assert reviewed["rerun"].exit_code == 0 and "nothing to run" in reviewed["rerun"].stdout, copy


@pytest.mark.e2e
def test_the_next_run_after_reviews_has_nothing_to_run(reviewed):
    """A review's runs write the weeks' reports again; the weekly run took that for weeks never
    completed and clustered every one of them again (the schedule too)."""
    assert reviewed["rerun"].exit_code == 0, reviewed["rerun"].output
    assert "nothing to run: the 12 weeks with tickets" in reviewed["rerun"].stdout


@pytest.mark.e2e
def test_renamed_theme_keeps_its_name_after_reclustering(reviewed):
    renamed = reviewed["ids"][0]
    ranked = reviewed["marts.ranked_themes"].set_index("theme_id")
    summaries = reviewed["marts.cluster_summaries"].set_index("theme_id")
    assert ranked.loc[renamed, "label"] == "Customers cannot pay by card"
    assert summaries.loc[renamed, "label"] == "Customers cannot pay by card"
    # the tracker's issue title too: it kept the extractive topic ("[Billing] Direct debit: ...")
    assert "] Customers cannot pay by card: " in summaries.loc[renamed, "backlog_title"]
    assert ranked.loc[renamed, "review_status"] == f"renamed; owner Dana; area {reviewed['assigned'][2]}"  # assigned too


@pytest.mark.e2e
def test_a_confirmed_theme_keeps_the_label_it_was_confirmed_as_after_reclustering(reviewed):
    """Confirmed twcs "Flight · luggage" read "Flight · plane", "· crew", then "· gate" (review report):
    `review confirm` records the label shown, and the re-clustered week shows it, with every decision."""
    _, merged, into, _ = reviewed["ids"]
    assert reviewed["confirmed_as"] == reviewed["shown"]["not-a-theme"][into]["label"]
    ranked = reviewed["marts.ranked_themes"].set_index("theme_id")
    assert ranked.loc[into, "label"] == reviewed["confirmed_as"]
    assert ranked.loc[into, "review_status"] == f"confirmed; merged from {merged}"


@pytest.mark.e2e
def test_merged_themes_stay_merged_after_reclustering(reviewed):
    _, merged, into, _ = reviewed["ids"]
    clusters = reviewed["staging.ticket_clusters"]
    this_week = clusters[clusters["ticket_week"].dt.date == reviewed["week"]]
    assert merged in set(this_week["theme_id"]), "clustering still finds both themes..."
    ranked = reviewed["marts.ranked_themes"].set_index("theme_id")
    assert merged not in ranked.index and merged not in set(reviewed["marts.not_a_theme"]["theme_id"])
    assert ranked.loc[into, "tickets"] == this_week["theme_id"].isin([merged, into]).sum()  # ...counted as one
    summaries = reviewed["marts.cluster_summaries"].set_index("theme_id")
    assert list(summaries.loc[into, "merged_theme_ids"]) == [merged] and merged not in summaries.index


@pytest.mark.e2e
def test_not_a_theme_leaves_the_ranking_and_stays_out(reviewed):
    rejected = reviewed["ids"][3]
    assert rejected not in set(reviewed["marts.ranked_themes"]["theme_id"])
    listed = reviewed["marts.not_a_theme"].set_index("theme_id")
    assert listed.loc[rejected, "reason"] == "marked not-a-theme by a reviewer"
    assert len(listed.loc[rejected, "ticket_ids"]) == listed.loc[rejected, "tickets"] > 0
    assert list(reviewed["marts.ranked_themes"].sort_values("rank")["rank"]) == list(
        range(1, len(reviewed["marts.ranked_themes"]) + 1))


def test_fixed_in_a_release_follows_merges_and_the_latest_decision():
    state = review_state(log(("fixed", "A", "4.1", None), ("merge", "A", None, "B"), ("fixed", "C", "4.2", None),
                             ("fixed", "A", "4.3", None)))
    assert state.fixed_in == {"A": "4.3", "C": "4.2"}
    assert state.fix_of("B") == "4.3" and state.fix_of("C") == "4.2" and state.fix_of("D") is None
    assert state.status("C") == "fixed in 4.2"
    with pytest.raises(ValueError, match="--release VERSION"):
        validate_action("fixed", None, None, "A", state)
    assert review_state(log(("fixed", "A", "4.1", None), ("undo", "A", "1", None))).fix_of("A") is None
