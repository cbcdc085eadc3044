"""`ticket-intel similar` and `draft` on a small knowledge base, and their refusals."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ticket_intel.assist_cli import format_matches
from ticket_intel.cli import main
from ticket_intel.core.retrieve import Index, Match
from ticket_intel_tests.test_serve import KB, build_warehouse


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("assist") / "w.duckdb"
    build_warehouse(path)
    return path


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_similar_json_is_the_contract_shape_best_first(warehouse):
    r = invoke("similar", "--warehouse", str(warehouse), "--text", "card declined at the shop", "-k", "2",
               "--format", "json")
    assert r.exit_code == 0, r.output
    found = json.loads(r.output)
    assert len(found) == 2 and found[0]["ticket_id"] == "zendesk:1" and found[0]["resolution"] == KB[0][2]
    assert set(found[0]) == {"ticket_id", "similarity", "text", "resolution", "related"}
    assert found[0]["related"] is True  # closer than the relatedness floor: evidence a draft may cite
    assert found[0]["similarity"] >= found[1]["similarity"]


def test_similar_table_and_the_query_is_redacted_first(warehouse):
    r = invoke("similar", "--warehouse", str(warehouse), "--text", "Jane Doe (jane@x.io) moved house, new address?")
    assert r.exit_code == 0 and "zendesk:2" in r.output.splitlines()[2]


def test_draft_offline_is_the_closest_resolution_marked_as_a_template(warehouse):
    r = invoke("draft", "--warehouse", str(warehouse), "--text", "my transfer is pending since Monday", "--format", "json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["method"] == "template" and out["cited_ticket_ids"] == ["intercom:3"]
    assert KB[2][2] in out["draft"] and "offline draft" in out["note"]
    assert out["similar"][0]["ticket_id"] == "intercom:3"


@pytest.mark.parametrize(("args", "message"), [
    ([], "exactly one of --text or --ticket"),
    (["--text", "a", "--ticket", "zendesk:1"], "exactly one of --text or --ticket"),
    (["--text", "  "], "--text is empty"),
    (["--ticket", "zendesk:404"], "no embedded ticket 'zendesk:404'"),
])
def test_bad_queries_get_one_clear_line(warehouse, args, message):
    r = CliRunner().invoke(main, ["similar", "--warehouse", str(warehouse), *args])
    assert r.exit_code != 0 and message in r.output


def test_an_unknown_ticket_id_is_shown_the_warehouse_s_own_ids(tmp_path):
    """`similar --ticket 21447` on facebook_react's warehouse said its ids "look like zendesk:48120"."""
    from datetime import date

    import numpy as np
    import pandas as pd

    from ticket_intel import warehouse as wh
    from ticket_intel.assist import AssistSettings

    ids = ["github:facebook_react#121447", "github:facebook_react#21447", "github:facebook_react#7", "github:vuejs_vue#7"]
    week, path = date(2026, 9, 7), tmp_path / "w.duckdb"
    with wh.open_warehouse(path) as con:
        wh.ensure_embedding_schema(con, 4)
        wh.replace(con, [wh.Replace("staging.redacted_tickets", pd.DataFrame(
            {"ticket_id": ids, "week_start": week, "created_at": pd.Timestamp(week), "text": "x", "text_hash": ids}),
            "week_start", [week]), wh.Replace("staging.ticket_embeddings", pd.DataFrame(
            {"ticket_id": ids, "week_start": week, "model": AssistSettings.from_settings().key, "text_hash": ids,
             "embedding": list(np.eye(4, dtype=np.float32))}), "week_start", [week])])
    for command in ("similar", "draft"):
        given = CliRunner().invoke(main, [command, "--warehouse", str(path), "--ticket", "21447"])
        assert (given.exit_code, given.stderr) == (66, f"ticket-intel: error: no embedded ticket '21447' in {path}: "
                                                       "did you mean github:facebook_react#21447?\n")
    shared = CliRunner().invoke(main, ["similar", "--warehouse", str(path), "--ticket", "7"])  # the tail of two
    assert shared.exit_code == 66 and "(its ids look like github:facebook_react#121447)" in shared.stderr
    with wh.open_warehouse(tmp_path / "new.duckdb"):
        pass
    new = CliRunner().invoke(main, ["similar", "--warehouse", str(tmp_path / "new.duckdb"), "--ticket", "7"])
    assert new.exit_code == 66 and new.stderr.endswith("(it holds no embedded ticket yet)\n")


def test_a_missing_warehouse_is_a_clear_error(tmp_path):
    r = CliRunner().invoke(main, ["similar", "--warehouse", str(tmp_path / "none.duckdb"), "--text", "hi"])
    assert r.exit_code == 66 and "warehouse not found" in r.output


def _floor(floor: float, replies: bool = True) -> Index:
    """A knowledge base's index as `format_matches` reads it: its relatedness floor, and whether its
    exports hold an agent reply."""
    return Index([], np.zeros((0, 0), np.float32), [], [], floor, replies)


def test_an_empty_knowledge_base_says_what_fills_it():
    said = format_matches([], "table", "my card was declined", _floor(0.5))
    assert "no resolved tickets" in said and "public agent reply" in said and "docs/assist.md" in said
    assert format_matches([], "json", "my card was declined", _floor(0.5)) == "[]"


def test_an_empty_knowledge_base_of_exports_without_replies_says_so(tmp_path):
    """React's GitHub issues (titles, no reply) were told "no agent reply in the exports answered a
    ticket (a reply whose conversation's first message is not in the exports answers none)", which
    is why twcs' replies answer none; the exports hold no reply at all."""
    from ticket_intel import warehouse as wh

    said = format_matches([], "table", "DevTools crashes", _floor(0.5, replies=False))
    assert "the exports hold no agent reply" in said and "answered a ticket" not in said
    with wh.open_warehouse(tmp_path / "w.duckdb") as con:
        assert not wh.holds_agent_replies(con)
        con.execute("INSERT INTO raw.ticket_replies VALUES ('github:r#1', '1', NULL, 'bot', 'a note', false, "
                    "'2026-11-02', 'r'), ('github:r#1', '2', NULL, 'agent', 'Fixed in 2.1', true, '2026-11-09', 'r')")
        assert not wh.holds_agent_replies(con, dt.date(2026, 11, 2))  # an internal note answers no customer
        assert wh.holds_agent_replies(con) and wh.holds_agent_replies(con, dt.date(2026, 11, 9))
    with wh.open_warehouse(tmp_path / "twcs.duckdb") as con:  # replies that answer no ticket of the exports
        con.execute("""INSERT INTO ops.ingested_files (source_file, skipped_kinds) VALUES ('a.csv', NULL),
                       ('b.csv', '{"bot:swift-ci": 4}'), ('twcs.csv', '{"unopened": 3615}')""")
        assert wh.holds_agent_replies(con)


def test_json_says_which_matches_are_no_closer_than_unrelated_tickets():
    """A Spanish message got five 'similar' tickets at 0.18-0.20 in JSON and from serve, unmarked."""
    matches = [Match("zendesk:1", 0.81, "card declined", "We unblocked it."),
               Match("zendesk:2", 0.40, "app crashes", "Update the app.")]
    assert [m["related"] for m in json.loads(format_matches(matches, "json", "card declined", _floor(0.45)))] == [True, False]


def test_a_match_no_closer_than_unrelated_tickets_is_marked():
    matches = [Match("zendesk:1", 0.81, "card declined", "We unblocked it."),
               Match("zendesk:2", 0.40, "app crashes", "Update the app.")]
    said = format_matches(matches, "table", "my card was declined", _floor(0.45)).splitlines()
    assert any("zendesk:2" in line and "0.400 *" in line for line in said)
    assert not any("zendesk:1" in line and "*" in line for line in said)
    assert said[-1].startswith("* no closer than the relatedness floor (0.450)")
    assert "*" not in format_matches(matches[:1], "table", "my card was declined", _floor(0.45))


def test_json_with_no_match_stays_a_list_and_says_why_beside_it(warehouse):
    r = CliRunner().invoke(main, ["similar", "--warehouse", str(warehouse), "--text", "Hi there!", "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout) == [] and "nothing to read" in r.stderr


def test_a_text_with_nothing_to_read_is_like_no_resolved_ticket(warehouse):
    # Its vector is the empty text's: "Hi there" met every stored call's record at similarity 1.
    r = invoke("similar", "--warehouse", str(warehouse), "--text", "Hi there!")
    assert r.exit_code == 0 and "nothing to read" in r.output and "zendesk:" not in r.output
    r = invoke("draft", "--warehouse", str(warehouse), "--text", "Hello team", "--format", "json")
    assert json.loads(r.output)["similar"] == [] and json.loads(r.output)["cited_ticket_ids"] == []


def test_a_draft_over_an_empty_knowledge_base_says_so_not_that_none_was_close_enough(tmp_path):
    """twcs' warehouse holds no resolved ticket: `similar` said so, `draft` said "no resolved ticket is
    similar enough"."""
    from ticket_intel import warehouse as wh

    path = tmp_path / "w.duckdb"
    with wh.open_warehouse(path):
        pass
    r = invoke("draft", "--warehouse", str(path), "--text", "my package says delivered but it's not here")
    assert r.exit_code == 0 and "no resolved tickets in the knowledge base" in r.output
    assert "the exports hold no agent reply" in r.output  # an empty warehouse holds none
    assert "similar enough" not in r.output


def test_a_stored_text_s_control_characters_never_reach_the_terminal():
    """Warehouses ingested before texts were cleaned of them still hold escape sequences."""
    from ticket_intel.assist_cli import format_draft
    from ticket_intel.core.drafts import Draft

    matches = [Match("zendesk:1\x1b[2J", 0.81, "card\x1b]0;PWNED\x07 declined", "We \x1b[31munblocked it.")]
    table = format_matches(matches, "table", "card declined", _floor(0.45))
    assert "\x1b" not in table and "\x07" not in table and "PWNED" in table
    draft = Draft(text="Hello\x1b]8;;http://evil.example/\x07click", cited_ticket_ids=["zendesk:1"],
                  method="template", note="adapted")
    assert "\x1b" not in format_draft(draft, matches, "table", 0.45)
