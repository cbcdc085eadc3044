"""`ticket-intel mapping suggest`: a mapping drafted from an export no profile reads, that reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from ticket_intel.cli import main
from ticket_intel.core.sources import load_mappings, parse_bytes, read_inbox, unread_sample
from ticket_intel.core.sources.mapped import load_mapping
from ticket_intel.core.sources.mapping_draft import draft_mapping
from ticket_intel_tests.conftest import SHARED_DATASETS
from ticket_intel_tests.test_bad_inputs import fd_csv, fd_row

QUESTIONS = ["My card payment was declined at the shop twice today", "How do I change the address on my account",
             "The app crashes every time I open my statements", "I was charged twice for the same order last week"]


def _cases(n: int = 40) -> pd.DataFrame:
    """A Salesforce-style case export: its own column names, the update time before the creation time."""
    return pd.DataFrame([{"Case Number": f"0000{1000 + i}", "Last Modified Date": "2026-11-20 08:00",
                          "Status": "Closed", "Date/Time Opened": f"2026-10-{5 + i % 20:02d} 09:{i % 60:02d}",
                          "Subject": "Card", "Description": QUESTIONS[i % 4], "Contact Email": f"c{i % 7}@example.com",
                          "Account ID": f"acct{i % 3}"} for i in range(n)])


def _saved(export: Path, folder: Path) -> Path:
    """Draft a mapping for `export` with the command a user runs, into `folder`, which the command makes
    when missing (it said "[Errno 2] No such file or directory", exit 66, as if the export were missing)."""
    out = folder / f"{export.stem}.yaml"
    result = CliRunner().invoke(main, ["mapping", "suggest", str(export), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_an_export_with_german_or_spanish_column_names_is_drafted(tmp_path):
    """A helpdesk exports in its agents' language: a German export's "Ticket-Nr." (a trailing dot kept
    the name from ending in "nr") and "Kunde" were left out, and its ids came from the file and row."""
    german = pd.DataFrame([{"Ticket-Nr.": 8144 + i, "Betreff": QUESTIONS[i % 4], "Erstellt am": f"{5 + i % 20:02d}.10.2026 09:00",
                            "Geändert am": "20.11.2026 08:00", "Kunde": f"kunde{i % 7}", "Status": "offen",
                            "Priorität": "hoch"} for i in range(40)])
    german.to_csv(tmp_path / "export.csv", sep=";", index=False, encoding="cp1252")
    drafted = draft_mapping(unread_sample(tmp_path / "export.csv"), tmp_path / "export.csv")
    assert drafted.columns == {"ticket_id": "Ticket-Nr.", "created_at": "Erstellt am", "message": "Betreff",
                               "customer_id": "Kunde", "status": "Status", "priority": "Priorität"}
    spanish = pd.DataFrame([{"Número": i, "Asunto": "Tarjeta", "Descripción": QUESTIONS[i % 4],
                             "Fecha de creación": "2026-10-05 09:00", "Cliente": f"c{i % 7}", "Estado": "abierto"}
                            for i in range(40)])
    spanish.to_csv(tmp_path / "casos.csv", index=False)
    drafted = draft_mapping(unread_sample(tmp_path / "casos.csv"), tmp_path / "casos.csv")
    assert drafted.columns == {"ticket_id": "Número", "created_at": "Fecha de creación", "message": "Descripción",
                               "subject": "Asunto", "customer_id": "Cliente", "status": "Estado"}


def test_a_drafted_mapping_reads_the_export_it_was_drafted_from(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _cases().to_csv(inbox / "cases.csv", index=False)
    mapping = load_mapping(_saved(inbox / "cases.csv", tmp_path / "support" / "maps"))
    assert mapping.columns == {"ticket_id": "Case Number", "created_at": "Date/Time Opened", "message": "Description",
                               "subject": "Subject", "customer_id": "Contact Email", "account_id": "Account ID",
                               "status": "Status"}
    result = read_inbox(inbox, load_mappings(tmp_path / "support" / "maps"))
    assert len(result.tickets) == 40 and result.rejected.empty
    assert set(result.tickets["message"]) == set(QUESTIONS)
    assert str(result.tickets["created_at"].min()) == "2026-10-05 09:00:00"


def test_records_and_workbooks_are_drafted_from_their_fields(tmp_path):
    """JSON records and an Excel sheet; the id is the column that identifies a ticket, not a customer
    (both are distinct in every row), and a modified time never dates a ticket."""
    records = [{"contact_id": f"u{i}", "hs_lastmodifieddate": "2026-11-20T00:00:00Z", "hs_object_id": str(500 + i),
                "createdate": f"2026-10-{6 + i:02d}T10:00:00Z", "content": QUESTIONS[i % 4], "hs_pipeline_stage": "1"}
               for i in range(12)]
    (tmp_path / "hubspot.jsonl").write_text("\n".join(map(json.dumps, records)))
    drafted = draft_mapping(unread_sample(tmp_path / "hubspot.jsonl"), tmp_path / "hubspot.jsonl")
    assert {f: drafted.columns.get(f) for f in ("ticket_id", "created_at", "message", "customer_id", "status")} == {
        "ticket_id": "hs_object_id", "created_at": "createdate", "message": "content", "customer_id": "contact_id",
        "status": "hs_pipeline_stage"}
    camel = [{"caseId": f"C{i}", "openedAt": f"2026-10-{6 + i:02d}T09:00:00Z", "customerMessage": QUESTIONS[i % 4]}
             for i in range(8)]
    (tmp_path / "cases.json").write_text(json.dumps({"cases": camel, "meta": {"count": 8}}))
    assert draft_mapping(unread_sample(tmp_path / "cases.json"), tmp_path / "cases.json").columns == {
        "created_at": "openedAt", "message": "customerMessage", "ticket_id": "caseId"}
    _cases(10).to_excel(tmp_path / "cases.xlsx", index=False)
    assert draft_mapping(unread_sample(tmp_path / "cases.xlsx"), tmp_path / "cases.xlsx").columns["message"] == "Description"


def test_fields_inside_objects_are_drafted_by_their_dotted_paths(tmp_path):
    """An API's records whose requester and ticket fields are objects: the draft proposed the object
    itself (`customer_id: requester`), which the mapping then refused ("an object; name a field inside
    it by its path"), and never a field inside one. It proposes their paths, `detect` names the
    records' own keys, and the drafted mapping reads the export."""
    records = [{"id": 900 + i, "ticket": {"opened_at": f"2026-10-{6 + i:02d}T09:00:00Z", "description": QUESTIONS[i % 4]},
                "requester": {"email": f"c{i % 5}@example.com", "name": f"Person {i % 5}"},
                "organization": {"name": "Acme"}, "status": "open"} for i in range(12)]
    (tmp_path / "api.jsonl").write_text("\n".join(map(json.dumps, records)))
    mapping = load_mapping(_saved(tmp_path / "api.jsonl", tmp_path / "maps"))
    assert mapping.columns == {"ticket_id": "id", "created_at": "ticket.opened_at", "message": "ticket.description",
                               "customer_id": "requester.email", "account_id": "organization.name", "status": "status"}
    assert mapping.detect == ["id", "ticket"]
    read = read_inbox(tmp_path, load_mappings(tmp_path / "maps"))
    assert len(read.tickets) == 12 and read.rejected.empty and read.files["error"].isna().all()
    assert set(read.tickets["message"]) == set(QUESTIONS)


def test_a_zendesk_view_is_drafted_as_the_readme_maps_it(tmp_path):
    """The README's hand-written mapping for a Zendesk view exported as CSV, drafted: `Requested` is
    the creation time (`Updated` never), the subject the only text."""
    pd.DataFrame([{"ID": 100 + i, "Requester": f"Person {i % 9}", "Requested": f"2026-10-{5 + i % 20:02d} 09:00",
                   "Updated": "2026-11-20 10:00", "Subject": QUESTIONS[i % 4], "Organization": "Acme",
                   "Status": "Open", "Priority": "Normal", "Tags": "card app"} for i in range(40)]
                 ).to_csv(tmp_path / "view.csv", index=False)
    drafted = draft_mapping(unread_sample(tmp_path / "view.csv"), tmp_path / "view.csv")
    assert drafted.columns == {"ticket_id": "ID", "created_at": "Requested", "message": "Subject",
                               "customer_id": "Requester", "account_id": "Organization", "status": "Status",
                               "priority": "Priority", "tags": "Tags"}


def test_a_dump_without_ids_or_dates_is_told_what_to_add(tmp_path):
    pd.DataFrame({"question": QUESTIONS * 2, "category": ["card", "account", "app", "billing"] * 2}).to_csv(
        tmp_path / "dump.csv", index=False)
    drafted = draft_mapping(unread_sample(tmp_path / "dump.csv"), tmp_path / "dump.csv")
    assert drafted.columns == {"message": "question", "tags": "category"}
    assert "ticket_id: '{file}-{record}'" in drafted.yaml
    assert "constants: {created_at: YYYY-MM-DD}" in drafted.yaml


def test_reply_links_become_threads_and_a_known_export_needs_no_draft(tmp_path):
    rows = [{"msg_id": str(i), "in_reply_to": "" if i % 3 == 0 else str(i - 1), "sent_at": f"2026-10-{6 + i:02d} 10:00",
             "body": QUESTIONS[i % 4], "author_role": "customer" if i % 3 == 0 else "Agent"} for i in range(9)]
    pd.DataFrame(rows).to_csv(tmp_path / "threads.csv", index=False)
    mapping = load_mapping(_saved(tmp_path / "threads.csv", tmp_path / "maps"))
    assert mapping.thread is not None and mapping.thread.reply_to == "in_reply_to"
    assert mapping.agents is not None and (mapping.agents.column, mapping.agents.values) == ("author_role", ["Agent"])
    read = read_inbox(tmp_path, load_mappings(tmp_path / "maps"))
    assert len(read.tickets) == 3 and len(read.replies) == 6  # each thread's first row; the agent's rows answer it
    (tmp_path / "fd.csv").write_text(fd_csv([fd_row()]))
    # `mapping suggest fd.csv > maps/fd.yaml` wrote this sentence into the YAML file, and every later
    # command failed on that mapping: stdout carries YAML only. A file read already is no failure (exit 0).
    result = CliRunner().invoke(main, ["mapping", "suggest", str(tmp_path / "fd.csv")])
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == ("fd.csv needs no mapping: the freshdesk profile reads it; put it in the inbox folder and "
                             "run `ticket-intel run --inbox DIR --warehouse FILE`\n")


def test_an_export_a_mapping_reads_is_told_which_and_what_to_do(tmp_path):
    """facebook_react.csv was "read without a mapping, or by one already in force: nothing to draft",
    exit 1: neither which mapping nor what next."""
    issues = pd.DataFrame([{"number": 21447 + i, "title": QUESTIONS[i % 4], "created_at": f"2026-10-{5 + i}T09:00:00Z",
                            "creator_name": f"dev{i}", "author_association": "NONE", "state": "open"} for i in range(6)])
    issues.to_csv(tmp_path / "facebook_react.csv", index=False)
    out = tmp_path / "maps" / "react.yaml"
    shipped = CliRunner().invoke(main, ["mapping", "suggest", str(tmp_path / "facebook_react.csv"), "--out", str(out)])
    assert (shipped.exit_code, shipped.stdout, out.exists()) == (0, "", False)
    assert shipped.stderr == (f"facebook_react.csv needs no mapping: the shipped mapping github_issues reads it, so "
                              f"nothing is written to {out}; put it in the inbox folder and run "
                              "`ticket-intel run --inbox DIR --warehouse FILE`\n")
    _cases().to_csv(tmp_path / "cases.csv", index=False)
    mine = _saved(tmp_path / "cases.csv", tmp_path / "maps")
    again = CliRunner(env={"TICKET_INTEL_MAPPINGS_DIR": str(tmp_path / "maps")}).invoke(
        main, ["mapping", "suggest", str(tmp_path / "cases.csv")])
    assert again.exit_code == 0 and f"cases.csv needs no mapping: mapping cases ({mine}) reads it;" in again.stderr


@pytest.mark.parametrize(("name", "said"), [("cases.csv", "cases.csv"),
                                            ("a|b <x>.csv", "'a|b <x>.csv'")])  # pasted, it piped into `b`
def test_the_unreadable_export_names_the_command_that_drafts_its_mapping(tmp_path, name, said):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _cases(5).to_csv(inbox / name, index=False)
    (error,) = read_inbox(inbox, load_mappings()).files["error"]
    assert f"`ticket-intel mapping suggest {said}` drafts one" in error


@pytest.mark.skipif(not (SHARED_DATASETS / "twcs_sample").exists(), reason="../shared/datasets not present")
def test_real_exports_are_drafted_as_their_shipped_mappings_read_them(tmp_path):
    """twcs tweets and GitHub issues, read as a user without the shipped mappings would draft them."""
    twcs = SHARED_DATASETS / "twcs_sample" / "twcs_small.csv"
    drafted = draft_mapping(unread_sample(twcs), twcs)
    assert {f: drafted.columns.get(f) for f in ("ticket_id", "created_at", "message")} == {
        "ticket_id": "tweet_id", "created_at": "created_at", "message": "text"}
    assert "reply_to: in_response_to_tweet_id" in drafted.yaml and "column: inbound" in drafted.yaml
    (tmp_path / "twcs_draft.yaml").write_text(drafted.yaml)
    read = parse_bytes(twcs.name, twcs.read_bytes(), [load_mapping(tmp_path / "twcs_draft.yaml")])
    shipped = parse_bytes(twcs.name, twcs.read_bytes(), load_mappings())
    assert sorted(t["message"] for t in read.tickets) == sorted(t["message"] for t in shipped.tickets)  # the same threads
    # As JSONL whose author is an object: `customer_id: author` was drafted, and the file then refused.
    tweets = pd.read_csv(twcs, dtype=str).to_dict("records")
    nested = "\n".join(json.dumps({**{k: v for k, v in t.items() if isinstance(v, str) and k not in ("author_id", "inbound")},
                                   "author": {"id": t["author_id"], "inbound": t["inbound"]}}) for t in tweets)
    (tmp_path / "tweets.jsonl").write_text(nested)
    drafted = draft_mapping(unread_sample(tmp_path / "tweets.jsonl"), tmp_path / "tweets.jsonl")
    assert drafted.columns["customer_id"] == "author.id" and "column: author.inbound" in drafted.yaml
    (tmp_path / "tweets_draft.yaml").write_text(drafted.yaml)
    read = parse_bytes("tweets.jsonl", nested.encode(), [load_mapping(tmp_path / "tweets_draft.yaml")])
    assert sorted((t["message"], t["customer_id"]) for t in read.tickets) == sorted(
        (t["message"], t["customer_id"]) for t in shipped.tickets)
    issues = SHARED_DATASETS / "github_bug_issues" / "TensorFlow_tensorflow.csv"
    drafted = draft_mapping(unread_sample(issues), issues)
    assert {f: drafted.columns.get(f) for f in ("ticket_id", "created_at", "message", "customer_id")} == {
        "ticket_id": "number", "created_at": "created_at", "message": "title", "customer_id": "creator_name"}

