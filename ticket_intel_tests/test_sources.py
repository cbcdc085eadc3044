"""Source profiles: detection from content, mapping to the canonical schema, re-exports, accounts."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from ticket_intel import PROJECT_ROOT
from ticket_intel.core.sources import (
    IngestResult,
    list_exports,
    load_mappings,
    parse_bytes,
    read_exports,
    read_inbox,
    skipped_summary,
)
from ticket_intel.core.sources.accounts import is_accounts_file, join_accounts, read_accounts
from ticket_intel.core.sources.mapped import MappingError
from ticket_intel_tests.test_bad_inputs import fd_csv, fd_row

SAMPLE = PROJECT_ROOT / "data" / "sample"


def test_sample_files_detected_and_counted(planted):
    result = read_exports(list_exports(SAMPLE))
    files = result.files.assign(name=result.files["source_file"].map(lambda p: Path(p).name)).set_index("name")
    for name, counts in planted["counts"].items():
        assert files.loc[name, "accepted"] == counts["valid"]
        assert files.loc[name, "rejected"] == counts["malformed"]
    got = {(Path(r.source_file).name, r.locator) for r in result.rejected.itertuples()}
    assert {(m["file"], m["locator"]) for m in planted["malformed"]} == got
    assert result.rejected["reason"].str.len().min() > 10


def test_detection_uses_content_not_extension(tmp_path):
    data = (SAMPLE / "zendesk_tickets.json").read_bytes()
    assert parse_bytes("export.txt", data).source == "zendesk"
    csv_bytes = (SAMPLE / "freshdesk_tickets.csv").read_bytes()
    assert parse_bytes("tickets.json", csv_bytes).source == "freshdesk"


def test_zendesk_incremental_export_with_comments_and_sideloads():
    doc = {
        "tickets": [{
            "id": 77, "created_at": "2026-09-02T08:00:00Z", "requester_id": 5, "organization_id": 9,
            "via": {"channel": "email"}, "tags": ["billing"], "status": "open", "priority": "high",
            "subject": "Charged twice", "description": "agent summary, not the customer's words",
            "custom_fields": [{"id": 360001, "value": "ios"}],
            "comments": [
                {"author_id": 5, "public": False, "body": "internal note"},
                {"author_id": 8, "public": True, "body": "Hi, agent here"},
                {"author_id": 5, "public": True, "html_body": "<p>I was <b>charged twice</b></p>"},
            ],
        }],
        "organizations": [{"id": 9, "organization_fields": {"plan": "Enterprise"}}],
        "next_page": None, "end_of_stream": True, "end_time": 1788336000, "count": 1,
    }
    result = parse_bytes("incremental.json", json.dumps(doc).encode())
    [t] = result.tickets
    assert (t["ticket_id"], t["message"], t["plan"], t["channel"]) == (
        "zendesk:77", "<p>I was <b>charged twice</b></p>", "enterprise", "email")
    assert (t["account_id"], t["customer_id"], t["tags"], t["priority"]) == ("9", "5", ["billing"], "high")
    assert "custom_fields" in json.loads(t["record"])


def test_intercom_first_user_part_and_company_plan():
    conv = {
        "type": "conversation", "id": "c1", "created_at": 1788163031, "state": "open",
        "source": {"type": "conversation", "body": "<p>How can we help?</p>", "author": {"type": "bot", "id": "b"}},
        "company": {"id": "co1", "plan": {"name": "Pro"}},
        "contacts": {"contacts": [{"id": "u1"}]},
        "conversation_parts": {"conversation_parts": [
            {"author": {"type": "admin", "id": "a1"}, "body": "<p>Hello!</p>"},
            {"author": {"type": "user", "id": "u1"}, "body": "<p>My transfer is stuck</p>"},
            {"author": {"type": "user", "id": "u1"}, "body": "<p>still stuck</p>"},
        ]},
    }
    result = parse_bytes("conv.json", json.dumps({"type": "conversation.list", "conversations": [conv]}).encode())
    [t] = result.tickets
    assert (t["message"], t["customer_id"], t["plan"], t["account_id"]) == (
        "<p>My transfer is stuck</p>", "u1", "pro", "co1")


def test_an_intercom_part_whose_author_is_no_object_loses_its_conversation_alone():
    """`"author": "user"` raised out of the parse: the whole export's conversations were lost with it."""
    said = {"created_at": 1788163031, "source": {"body": "<p>My card was declined</p>", "author": "user"}}
    fine = {"id": "c2", "created_at": 1788163031, "source": {"body": "<p>Refund please</p>",
                                                             "author": {"type": "user", "id": "u2"}}}
    result = parse_bytes("conv.json", json.dumps({"conversations": [{"id": "c1", **said}, fine]}).encode())
    assert [t["ticket_id"] for t in result.tickets] == ["intercom:c2"]
    assert [r["reason"] for r in result.rejections] == ["no customer message: no user or lead part has a body"]


@pytest.mark.parametrize(("given", "kind"), [
    ("Ana@Example.com", "email"), ("Siobhan  Moncrieff", "name"), ("+44 7700 900461", "phone"), ("(415) 555-0123", "phone"),
    ("20978392", None), ("annelieselind0", None), ("u-1", None), ("12-34", None),
])
def test_a_customer_id_that_is_personal_data_is_hashed_and_says_its_kind(given, kind):
    """A mapping naming the requester as the customer (`customer_id: Requester`, the README's example)
    put "Siobhan Moncrieff" in reports, exports and tracker issues; a webhook's phone number too."""
    from ticket_intel.core.sources.base import pseudonymize

    got = pseudonymize(given)
    assert got == given if kind is None else (got.startswith(f"{kind}:") and len(got) == len(kind) + 17)
    assert pseudonymize(" ".join(given.split()).upper()) == got or kind is None  # one person, one id


def test_freshdesk_api_json_shape_maps_codes():
    records = [{"id": 501, "subject": "Login", "description": "<div>Cannot log in</div>",
                "description_text": "Cannot log in", "status": 2, "priority": 4, "source": 7,
                "created_at": "2026-09-03T12:00:00Z", "requester_id": 44, "company_id": 12, "tags": ["auth"]}]
    for data in (json.dumps(records), "\n".join(json.dumps(r) for r in records * 2).replace('501', '502', 1)):
        result = parse_bytes("fd.json", data.encode())
        assert result.source == "freshdesk"
        t = result.tickets[-1]
        assert (t["status"], t["priority"], t["channel"], t["account_id"]) == ("open", "urgent", "chat", "12")


def test_each_native_source_rejects_what_is_not_a_ticket_and_keeps_the_rest():
    """A record that is not an object, or that cannot become a ticket, is rejected with its reason
    and locator; the next record is still read."""
    from ticket_intel.core.sources import freshdesk, intercom, zendesk

    good_zd = {"id": 1, "created_at": "2026-09-02T08:00:00Z", "requester_id": 5, "description": "Card stuck"}
    good_ic = {"id": "c1", "created_at": 1788163031,
               "source": {"body": "My transfer is stuck", "author": {"type": "user", "id": "u1"}}}
    good_fd = {"id": 7, "description_text": "Cannot log in", "created_at": "2026-09-03T12:00:00Z"}
    results = [
        zendesk.parse({"tickets": [42, {**good_zd, "id": None}, good_zd]}),
        intercom.parse({"conversations": ["oops", {**good_ic, "source": {"author": {"type": "bot"}}}, good_ic]}),
        freshdesk.parse_api([None, {**good_fd, "id": None}, good_fd], ["line 1", "line 2", "line 3"]),
    ]
    for result, kind, first in zip(results, ["ticket", "conversation", "ticket"], ["tickets[0]", "conversations[0]", "line 1"],
                                   strict=True):
        assert len(result.tickets) == 1
        [(locator, reason), second] = [(r["locator"], r["reason"]) for r in result.rejections]
        assert locator == first and reason.startswith(f"{kind} is a ") and reason.endswith("not an object")
        assert second[1] and "not an object" not in second[1]


def test_mapped_twcs_and_github(shared_datasets, tmp_path):
    twcs = shared_datasets / "twcs_sample" / "twcs_small.csv"
    react = shared_datasets / "github_bug_issues" / "facebook_react.csv"
    swift = shared_datasets / "github_bug_issues" / "swiftlang_swift.csv"
    result = read_exports([twcs, react, swift], earliest=datetime(2015, 1, 5))
    files = result.files.assign(name=result.files["source_file"].map(lambda p: Path(p).name)).set_index("name")
    # SOURCE.md: 2,718 inbound tweets of 5,000, of which 1,385 open a thread (empty
    # in_response_to_tweet_id); 4,683 swift-ci rows of 13,054.
    assert (files.loc["twcs_small.csv", "accepted"], files.loc["twcs_small.csv", "skipped"]) == (1385, 3615)
    assert files.loc["swiftlang_swift.csv", "skipped"] == 4683
    assert files.loc["swiftlang_swift.csv", "accepted"] + files.loc["swiftlang_swift.csv", "rejected"] == 13054 - 4683
    tweets = result.tickets[result.tickets["source"] == "twcs"]
    assert tweets["created_at"].min() >= datetime(2015, 2, 18) and tweets["customer_id"].str.isdigit().all()
    gh = result.tickets[result.tickets["source"] == "github"]
    assert gh["ticket_id"].str.match(r"^github:(facebook_react|swiftlang_swift)#\d+$").all()
    assert "swift-ci" not in set(gh["customer_id"])
    early = result.rejected[result.rejected["reason"].str.contains("before the first weekly partition")]
    assert len(early) > 0 and (early["source_file"] == str(react)).all()


def test_weekly_github_exports_named_by_date_are_one_product(tmp_path):
    """A year of PowerToys issues dropped as `pt_2022-W01.csv`, `pt_2022-W02.csv`, … was a product a
    week through `product: "{file}"`, so no theme id carried over from one week to the next; an issue
    exported again in a later week's file was a second ticket. The stamp names when, not what."""
    header = "number,title,created_at,creator_name,author_association,state\n"
    (tmp_path / "pt_2022-W01.csv").write_text(header + "1,Zones reset,2022-01-04T10:00:00Z,ann,NONE,open\n")
    (tmp_path / "pt_2022-W02.csv").write_text(header + "1,Zones reset,2022-01-04T10:00:00Z,ann,NONE,closed\n"
                                              "2,Run crashes,2022-01-11T09:00:00Z,bo,NONE,open\n")
    tickets = read_exports(sorted(tmp_path.iterdir())).tickets
    assert sorted(zip(tickets["ticket_id"], tickets["product"], tickets["status"], strict=True)) == [
        ("github:pt#1", "pt", "closed"), ("github:pt#2", "pt", "open")]


def test_user_mapping_folder_jsonl_and_parquet(tmp_path):
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "shop.yaml").write_text(
        "name: shop\nsource: shop\ndetect: [case_no, opened, body]\n"
        "columns: {ticket_id: case_no, created_at: opened, message: body, plan: tier, customer_id: who}\n"
        "created_at_format: '%d/%m/%Y %H:%M'\nfilter: {kind: [customer]}\n"
    )
    rows = [{"case_no": 1, "opened": "03/09/2026 10:15", "body": "Basket empties", "tier": "Pro", "who": "a@b.co",
             "kind": "customer"},
            {"case_no": 2, "opened": "2026-09-03", "body": "wrong format", "tier": "free", "who": "x", "kind": "customer"},
            {"case_no": 3, "opened": "03/09/2026 11:00", "body": "auto reply", "tier": "", "who": "y", "kind": "system"}]
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "cases.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    pd.DataFrame(rows).assign(case_no=[11, 12, 13]).to_parquet(tmp_path / "inbox" / "cases.parquet")
    result = read_exports(list_exports(tmp_path / "inbox"), load_mappings(tmp_path / "maps"))
    assert sorted(result.tickets["ticket_id"]) == ["shop:1", "shop:11"]
    t = result.tickets.set_index("ticket_id").loc["shop:1"]
    assert (t["created_at"], t["plan"], t["customer_id"][:6]) == (datetime(2026, 9, 3, 10, 15), "pro", "email:")
    assert list(result.files["skipped"]) == [1, 1]
    assert {skipped_summary(f.skipped, f.skipped_kinds)[0] for f in result.files.itertuples()} == {
        "1 left out by the mapping's filter"}
    assert result.rejected["reason"].str.contains("does not match format").sum() == 2


def test_a_json_field_a_chunk_never_holds_is_empty_there_and_a_csv_column_missing_is_an_error(tmp_path):
    """JSON records leave out fields they have no value for: `tier` first seen in a JSONL file's second
    chunk (or gone after its first) made "file lacks columns ['tier']" of the whole file. A table's
    header is one for every row, so a CSV without a mapped column is still that error."""
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "shop.yaml").write_text(
        "name: shop\nsource: shop\ndetect: [case_no, opened, body]\n"
        "columns: {ticket_id: case_no, created_at: opened, message: body, plan: tier}\n")
    (tmp_path / "inbox").mkdir()
    def case(i: int, tier: bool) -> dict:
        return {"case_no": i, "opened": "2026-09-03 10:00", "body": f"Basket empties {i}", **({"tier": "pro"} if tier else {})}

    late, early = [case(i, i > 3) for i in range(1, 7)], [case(i, i < 13) for i in range(10, 16)]
    for name, rows in (("late", late), ("early", early)):
        (tmp_path / "inbox" / f"{name}.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    pd.DataFrame([case(i, False) for i in range(20, 23)]).to_csv(tmp_path / "inbox" / "table.csv", index=False)
    result = read_exports(list_exports(tmp_path / "inbox"), load_mappings(tmp_path / "maps"), chunk_rows=3)
    plans = result.tickets.set_index("ticket_id")["plan"]
    assert plans.loc[[f"shop:{i}" for i in range(1, 7)]].tolist() == [None] * 3 + ["pro"] * 3
    assert plans.loc[[f"shop:{i}" for i in range(10, 16)]].tolist() == ["pro"] * 3 + [None] * 3
    errors = result.files.set_index(result.files["source_file"].map(lambda f: Path(f).name))["error"]
    assert errors["table.csv"] == "mapping shop: file lacks columns ['tier']; its columns are ['case_no', 'opened', 'body']"
    assert errors[["late.jsonl", "early.jsonl"]].isna().all()


def _undated_dump(tmp_path: Path, columns: str, rows: pd.DataFrame, name: str) -> Path:
    """An inbox holding `rows` as `name`.csv, and a mapping of them with ids by record and one date."""
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "dump.yaml").write_text(
        f"name: dump\nsource: dump\ndetect: {list(rows.columns)}\ncolumns: {columns}\n"
        "constants: {created_at: 2026-09-02}\n")
    (tmp_path / "inbox").mkdir()
    rows.to_csv(tmp_path / "inbox" / f"{name}.csv", index=False)
    return tmp_path / "inbox"


def test_an_undated_export_without_ids_is_read_through_a_mapping(tmp_path):
    """A one-off dump of questions (no id, no date): `{file}-{record}` numbers its records and a
    constant created_at places them in the week of the export."""
    rows = pd.DataFrame({"text": ["card not arrived", "how do I top up?", "card not arrived"],
                         "intent": ["card_arrival", "top_up", "card_arrival"]})
    inbox = _undated_dump(tmp_path, "{ticket_id: '{file}-{record}', message: text}", rows, "qs")
    (inbox / "more.jsonl").write_text("\n".join(json.dumps(r) for r in rows.to_dict("records")))
    rows.to_parquet(inbox / "again.parquet")
    result = read_exports(list_exports(inbox), load_mappings(tmp_path / "maps"))
    t = result.tickets.set_index("ticket_id")
    assert sorted(t.index) == sorted(["dump:qs-2", "dump:qs-3", "dump:qs-4", "dump:more-1", "dump:more-2",
                                      "dump:more-3", "dump:again-1", "dump:again-2", "dump:again-3"])
    assert set(t["created_at"]) == {datetime(2026, 9, 2)}
    assert t.loc["dump:qs-3", "message"] == "how do I top up?" and result.rejected.empty


def test_an_answer_in_the_customer_s_row_is_that_ticket_s_reply(tmp_path):
    """A question/answer export (a FAQ dump, a helpdesk view with a resolution column): the `reply`
    column is the company's answer to that row's ticket, and fills the knowledge base like any reply."""
    rows = pd.DataFrame({"question": ["card not arrived", "how do I top up?", ""],
                         "answer": ["It ships in 3 days.", "", "Orphan answer."]})
    inbox = _undated_dump(tmp_path, "{ticket_id: '{file}-{record}', message: question, reply: answer}", rows, "faq")
    result = read_exports(list_exports(inbox), load_mappings(tmp_path / "maps"))
    assert sorted(result.tickets["ticket_id"]) == ["dump:faq-2", "dump:faq-3"]
    assert result.replies[["ticket_id", "text"]].values.tolist() == [["dump:faq-2", "It ships in 3 days."]]
    assert list(result.files["skipped"]) == [0]  # an answer is part of its row, not a row skipped
    assert result.rejected["reason"].str.contains("no customer message").tolist() == [True]


def _shop(tmp_path: Path, fmt: str = "") -> Path:
    """An empty inbox, and a mapping of a shop's exports (`id`, `created`, `text`) beside it."""
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "shop.yaml").write_text(
        "name: shop\nsource: shop\ndetect: [id, created, text]\n"
        f"columns: {{ticket_id: id, created_at: created, message: text}}\n{fmt}")
    (tmp_path / "inbox").mkdir()
    return tmp_path / "inbox"


def _dated_export(tmp_path: Path, created: list[str], fmt: str = "") -> IngestResult:
    """An inbox holding a mapped CSV export (semicolons) whose tickets 1, 2, ... were created at
    `created`, read."""
    inbox = _shop(tmp_path, fmt)
    rows = pd.DataFrame({"id": range(1, len(created) + 1), "created": created, "text": "card declined"})
    rows.to_csv(inbox / "shop.csv", index=False, sep=";")
    return read_exports(list_exports(inbox), load_mappings(tmp_path / "maps"))


@pytest.mark.parametrize("created, days", [
    # A European export: 02.11 is 2 November because 13.11 can only be day first.
    (["02.11.2026 14:00", "13.11.2026 09:30", "05/11/2026"], ["2026-11-02", "2026-11-13", "2026-11-05"]),
    (["02/11/2026 14:00", "13/11/2026 09:30"], ["2026-11-02", "2026-11-13"]),
    # An American one: 11/02 is 2 November because 11/13 can only be month first.
    (["11/02/2026 2:05 PM", "11/13/2026 09:30"], ["2026-11-02", "2026-11-13"]),
    # None only one order reads: the position whose numbers vary more is the day (a week's export
    # of a month's first days), else dots are day first by convention, slashes month first.
    (["02.11.26", "03.11.26"], ["2026-11-02", "2026-11-03"]),
    (["02/11/2026", "03/11/2026"], ["2026-11-02", "2026-11-03"]),
    (["01/12/2026 14:03", "05/12/2026 09:00", "03/12/2026"], ["2026-12-01", "2026-12-05", "2026-12-03"]),
    (["12/01/2026", "12/05/2026"], ["2026-12-01", "2026-12-05"]),
    (["02.11.26", "03.12.26"], ["2026-11-02", "2026-12-03"]),
    (["02/11/2026", "03/12/2026"], ["2026-02-11", "2026-03-12"]),
    (["2026-11-02T14:00:00Z", "02.11.2026"], ["2026-11-02", "2026-11-02"]),
])
def test_numeric_dates_are_read_in_one_order_per_export(tmp_path, created, days):
    result = _dated_export(tmp_path, created)
    read = result.tickets.sort_values("ticket_id")["created_at"].dt.strftime("%Y-%m-%d").tolist()
    assert read == days and result.rejected.empty


@pytest.mark.parametrize("suffix", ["jsonl", "json"])
def test_mapped_json_records_read_their_dates_in_one_order_too(tmp_path, suffix):
    """JSON Lines and JSON arrays of mapped records are read as a table is: 02.11 is 2 November next
    to 13.11; a value that is not an object is a rejected row."""
    inbox = _shop(tmp_path)
    rows = [{"id": 1, "created": "02.11.2026 14:00", "text": "card declined"}, 42,
            {"id": 2, "created": "13.11.2026", "text": "card declined"}]
    text = "\n".join(json.dumps(r) for r in rows) if suffix == "jsonl" else json.dumps(rows)
    (inbox / f"shop.{suffix}").write_text(text)
    result = read_exports(list_exports(inbox), load_mappings(tmp_path / "maps"))
    read = result.tickets.sort_values("ticket_id")["created_at"].dt.strftime("%Y-%m-%d").tolist()
    assert read == ["2026-11-02", "2026-11-13"]
    assert result.rejected["reason"].tolist() == ["record is a int, not an object"]


def test_a_date_the_export_s_order_cannot_read_is_rejected_not_read_the_other_way(tmp_path):
    result = _dated_export(tmp_path, ["13/11/2026", "14/11/2026", "11/15/2026", "02/11/2026"])
    assert sorted(result.tickets["created_at"].dt.strftime("%Y-%m-%d")) == ["2026-11-02", "2026-11-13", "2026-11-14"]
    assert result.rejected["locator"].tolist() == ["line 4"]
    assert result.rejected["reason"].tolist() == [
        "created_at '11/15/2026' reads month first, but this export's dates are day first (2 read only that "
        "way): set created_at_format in a mapping"]


def test_a_time_zone_name_is_read_as_its_offset_and_one_several_zones_share_is_refused(tmp_path):
    """"10:00:00 PST" was read as 10:00 UTC with a warning on stderr: every ticket of an export written
    in Pacific time moved by eight hours, across week boundaries. CST is US Central, China or Cuba."""
    result = _dated_export(tmp_path, ["2026-10-04 20:00:00 PST", "Thu, 01 Oct 2026 10:00:00 EDT",
                                      "2026-10-01 10:00 CET", "2026-10-01 10:00:00 CST"])
    read = result.tickets.sort_values("ticket_id")["created_at"].dt.strftime("%Y-%m-%d %H:%M").tolist()
    assert read == ["2026-10-05 04:00", "2026-10-01 14:00", "2026-10-01 09:00"]  # Sunday evening is Monday in UTC
    assert result.rejected["reason"].tolist() == [
        "unparseable created_at timestamp '2026-10-01 10:00:00 CST': time zone 'CST' is not one this reads "
        "(several zones use the name, or none): write the time with its UTC offset (-06:00)"]


def test_utc_and_gmt_with_an_offset_read_the_iso_way_not_the_posix_way(tmp_path):
    """Time review: dateutil reads "GMT+2" as two hours behind GMT (POSIX), so "00:30 GMT+2" on a
    Monday landed in that week instead of the Sunday before, in silence."""
    result = _dated_export(tmp_path, ["2026-11-23 00:30 GMT+2", "2026-11-22 23:30 UTC-5",
                                      "Mon Nov 23 2026 00:30:00 GMT+0200 (Central European Standard Time)",
                                      "2026-11-23 00:30 UTC+05:30", "2026-11-23 00:30 UTC"])
    read = result.tickets.sort_values("ticket_id")["created_at"].dt.strftime("%Y-%m-%d %H:%M").tolist()
    assert read == ["2026-11-22 22:30", "2026-11-23 04:30", "2026-11-22 22:30", "2026-11-22 19:00", "2026-11-23 00:30"]


def test_times_without_an_offset_are_read_in_the_configured_zone_and_others_as_written(tmp_path):
    """Time review: a Pacific-time helpdesk's Freshdesk CSV writes local times without an offset, and
    every one was read as UTC: Sunday evening fell in the week before, with no setting to say so."""
    from ticket_intel.core.sources.zones import local_zone

    created = ["2026-11-22 20:00:00", "2026-07-05 20:00:00", "2026-11-22T20:00:00Z", "1795737600", "46348.5"]
    with local_zone("America/Los_Angeles"):
        result = _dated_export(tmp_path, created)
    read = result.tickets.sort_values("ticket_id")["created_at"].dt.strftime("%Y-%m-%d %H:%M").tolist()
    # PST then PDT; a "Z" time and a Unix timestamp as written; a spreadsheet's day number is local.
    assert read == ["2026-11-23 04:00", "2026-07-06 03:00", "2026-11-22 20:00", "2026-11-27 00:00", "2026-11-22 20:00"]
    (tmp_path / "utc").mkdir()
    utc = _dated_export(tmp_path / "utc", created)  # the default: UTC, as before
    assert utc.tickets.sort_values("ticket_id")["created_at"].dt.strftime("%H:%M").tolist()[:2] == ["20:00", "20:00"]
    with pytest.raises(ValueError, match="time zone 'Pacific' is not one this knows"), local_zone("Pacific"):
        pass


def test_a_mapping_s_date_format_is_taken_as_written(tmp_path):
    result = _dated_export(tmp_path, ["02/11/2026", "03/11/2026"], 'created_at_format: "%m/%d/%Y"\n')
    assert sorted(result.tickets["created_at"].dt.strftime("%Y-%m-%d")) == ["2026-02-11", "2026-03-11"]


@pytest.mark.parametrize("separator, tags", [("", ["billing card", "vip"]), ('tags_separator: " "\n', ["billing", "card,vip"]),
                                            ('tags_separator: ";"\n', ["billing card,vip"])])
def test_a_mapping_splits_tags_as_its_export_writes_them(tmp_path, separator, tags):
    """A Zendesk view lists a ticket's tags by spaces: 'billing card' was one tag."""
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "view.yaml").write_text("name: view\nsource: view\ndetect: [ID, Tags]\n"
                                                 "columns: {ticket_id: ID, created_at: Requested, message: Subject, tags: Tags}\n"
                                                 + separator)
    (tmp_path / "inbox").mkdir()
    pd.DataFrame({"ID": [1], "Requested": ["2026-11-02 10:00"], "Subject": ["card declined"],
                  "Tags": ["billing card,vip"]}).to_csv(tmp_path / "inbox" / "view.csv", index=False)
    result = read_exports(list_exports(tmp_path / "inbox"), load_mappings(tmp_path / "maps"))
    assert list(result.tickets["tags"].iloc[0]) == tags


@pytest.mark.parametrize("columns, constants, error", [
    ("{ticket_id: a, message: c}", "", "created_at must be mapped in columns, or be a constant"),
    ("{ticket_id: a, created_at: b, message: c}", "constants: {created_at: 2026-09-02}\n", "constants must be"),
    ("{message: c}", "constants: {created_at: 2026-09-02, ticket_id: x}\n", "columns must map"),
])
def test_a_mapping_dates_its_rows_once_and_never_fixes_an_id(tmp_path, columns, constants, error):
    (tmp_path / "m.yaml").write_text(f"name: m\nsource: m\ndetect: [a]\ncolumns: {columns}\n{constants}")
    with pytest.raises(MappingError, match=f"(?s)m.yaml.*{error}"):
        load_mappings(tmp_path)


def test_bad_mapping_file_names_itself_and_each_problem_in_one_line(tmp_path):
    """The command line shows an error's first line: pydantic's said only "2 validation errors"."""
    (tmp_path / "broken.yaml").write_text("name: x\nsource: x\ndetcet: [a]\ncolumns: {ticket_id: a, colour: b}\n")
    with pytest.raises(MappingError) as info:
        load_mappings(tmp_path)
    assert str(info.value).startswith("mapping broken.yaml: ") and "\n" not in str(info.value)
    assert "detect: Field required" in str(info.value) and "detcet: Extra inputs are not permitted" in str(info.value)
    assert "colour" in str(info.value)


def test_reexport_updates_and_files_the_old_version(tmp_path):
    doc = json.loads((SAMPLE / "zendesk_tickets.json").read_text())
    first = [t for t in doc["tickets"] if isinstance(t, dict) and t.get("id")][:3]
    (tmp_path / "a_old.json").write_text(json.dumps({"tickets": first}))
    changed = [dict(first[0], description="updated text", comments=[]), first[1]]
    (tmp_path / "b_new.json").write_text(json.dumps({"tickets": changed}))
    result = read_exports(list_exports(tmp_path))
    tid = f"zendesk:{first[0]['id']}"
    assert result.tickets["ticket_id"].is_unique and len(result.tickets) == 3
    assert result.tickets.set_index("ticket_id").loc[tid, "message"] == "updated text"
    [reason] = result.rejected["reason"]
    assert reason.startswith(f"superseded: ticket {first[0]['id']} exported again in b_new.json")


def test_accounts_join_specific_generic_and_customer(tmp_path):
    (tmp_path / "accounts.csv").write_text(
        "source,account_id,plan,monthly_revenue\nzendesk,9,Enterprise,1500\n,9,free,0\n,cust7,Pro,49\n")
    tickets = pd.DataFrame({"source": ["zendesk", "intercom", "intercom", "zendesk"],
                            "account_id": ["9", "9", None, "9"], "customer_id": ["c1", "c2", "cust7", "c3"],
                            "plan": [None, None, None, "pro"], "monthly_revenue": [None, None, None, 10.0]})
    out = join_accounts(tickets, read_accounts([tmp_path / "accounts.csv"]).frame)
    assert list(out["plan"]) == ["enterprise", "free", "pro", "pro"]
    assert list(out["monthly_revenue"]) == [1500.0, 0.0, 49.0, 10.0]


def test_an_accounts_file_saved_by_a_european_excel_is_read(tmp_path):
    """Semicolons between fields, a comma before the cents and dots between thousands."""
    (tmp_path / "accounts.csv").write_text("account_id;plan;monthly_revenue\n9;Enterprise;1.500,50\n7;Pro;49,90\n")
    assert is_accounts_file(tmp_path / "accounts.csv")
    accounts = read_accounts([tmp_path / "accounts.csv"]).frame.set_index("account_id")
    assert accounts["monthly_revenue"].to_dict() == {"9": 1500.5, "7": 49.9}
    assert accounts["plan"].to_dict() == {"9": "enterprise", "7": "pro"}


def test_a_malformed_accounts_file_loses_its_bad_rows_only(tmp_path):
    """A row with more values than the header names, or a quote never closed, is rejected with its
    line and reason; the sound rows still fill plans (a spreadsheet's empty trailing fields and short
    rows included), and the file is listed with the accounts it gave: it used to stop the whole
    ingest with a pandas traceback."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "accounts.csv").write_text('account_id,plan,monthly_revenue\nc1,Pro,49\n\nc3,free,n/a,extra\n'
                                        'c4,Team,10,\nc5,Free\nc2,"unclosed\n', encoding="utf-8")
    (inbox / "tickets.csv").write_text(fd_csv([fd_row(n) for n in ("1", "2", "4", "5")]))
    result = read_inbox(inbox)
    plans = result.tickets.set_index("source_id")["plan"]
    assert plans[["1", "4", "5"]].tolist() == ["pro", "team", "free"] and pd.isna(plans["2"])
    files = result.files.set_index("profile")
    assert (files.loc["accounts", "accepted"], files.loc["accounts", "rejected"]) == (3, 2)
    assert files.loc["accounts", "error"] is None and files.loc["freshdesk", "accepted"] == 4
    bad = result.rejected[result.rejected["source_file"].str.endswith("accounts.csv")]
    assert bad["locator"].tolist() == ["line 4", "line 7"]
    assert bad["reason"].tolist() == ["malformed accounts row: 4 fields where the header names 3",
                                      "malformed accounts row: unexpected end of data"]
    assert bad["record"].tolist() == ["c3,free,n/a,extra", 'c2,"unclosed']


def test_revenue_in_an_export_is_read_as_amounts_are_written(tmp_path):
    """A revenue column as helpdesk views export it, with currency and grouping: it used to be left
    empty unless it was a bare number."""
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "shop.yaml").write_text(
        "name: shop\nsource: shop\ndetect: [case, opened, body, mrr]\n"
        "columns: {ticket_id: case, created_at: opened, message: body, monthly_revenue: mrr}\n")
    (tmp_path / "inbox").mkdir()
    amounts = ['"$1,200.00"', '"1.234,50 €"', "49.90", "EUR 12", "n/a", ""]
    (tmp_path / "inbox" / "cases.csv").write_text("case,opened,body,mrr\n" + "".join(
        f"{i},2026-10-0{i + 1} 10:00,My card was declined at the shop,{a}\n" for i, a in enumerate(amounts)))
    tickets = read_inbox(tmp_path / "inbox", load_mappings(tmp_path / "maps")).tickets.sort_values("source_id")
    assert tickets["monthly_revenue"].tolist()[:4] == [1200.0, 1234.5, 49.9, 12.0]
    assert tickets["monthly_revenue"].iloc[4:].isna().all()


def test_sample_accounts_file_fills_plans(tmp_path):
    shutil.copy(SAMPLE / "zendesk_tickets.json", tmp_path)
    without = read_exports(list_exports(tmp_path)).tickets
    shutil.copy(SAMPLE / "accounts.csv", tmp_path)
    with_accounts = read_exports(list_exports(tmp_path)).tickets
    assert with_accounts["monthly_revenue"].notna().sum() > without["monthly_revenue"].notna().sum()
    assert with_accounts["plan"].notna().sum() >= without["plan"].notna().sum()


@pytest.mark.parametrize("name", ["freshdesk_tickets.csv", "zendesk_tickets.json", "intercom_conversations.json"])
def test_the_sensors_chunked_weeks_are_the_weeks_of_the_whole_parse(name, monkeypatch):
    """`export_weeks` (the inbox sensor's read of a new file) keeps a digest per week, chunk by chunk,
    and finds exactly the weeks of the tickets a whole parse gives, with the digests of one pass."""
    from ticket_intel.core import sources
    from ticket_intel.core.weeks import monday

    path = PROJECT_ROOT / "data" / "sample" / name
    whole = {monday(t["created_at"].date()) for t in parse_bytes(name, path.read_bytes()).tickets}
    with path.open("rb") as fh:
        in_one = sources.export_weeks(name, fh)
    monkeypatch.setattr(sources, "CSV_CHUNK", 50)  # many chunks, also for the JSON ticket lists
    with path.open("rb") as fh:
        assert sources.export_weeks(name, fh) == in_one and set(in_one) == whole and len(whole) >= 10


def test_freshdesk_excel_export_reads_as_its_csv(tmp_path):
    """Freshdesk exports tickets as CSV or Excel: the same export saved as .xlsx (dates as Excel dates,
    ids as numbers) gives the same tickets, and the inbox sensor finds the same weeks in it."""
    from ticket_intel.core import sources

    csv_path = PROJECT_ROOT / "data" / "sample" / "freshdesk_tickets.csv"
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    frame["Ticket ID"] = [int(v) if v.isdigit() else v for v in frame["Ticket ID"]]  # the sample's bad rows stay
    dates = pd.to_datetime(frame["Created time"], errors="coerce")
    frame["Created time"] = [d.to_pydatetime() if pd.notna(d) else v for d, v in zip(dates, frame["Created time"], strict=True)]
    xlsx = tmp_path / "freshdesk_tickets.xlsx"
    frame.to_excel(xlsx, sheet_name="Tickets", index=False)
    columns = ["ticket_id", "created_at", "customer_id", "subject", "message", "tags", "priority", "status"]
    csv_parse, xlsx_parse = parse_bytes(csv_path.name, csv_path.read_bytes()), parse_bytes(xlsx.name, xlsx.read_bytes())
    from_csv, from_xlsx = pd.DataFrame(csv_parse.tickets)[columns], pd.DataFrame(xlsx_parse.tickets)[columns]
    pd.testing.assert_frame_equal(from_xlsx, from_csv)
    assert [r["reason"] for r in xlsx_parse.rejections] == [r["reason"] for r in csv_parse.rejections]
    with xlsx.open("rb") as fh:
        assert set(sources.export_weeks(xlsx.name, fh)) == {t.date() - pd.Timedelta(days=t.weekday())
                                                             for t in from_csv["created_at"]}


@pytest.mark.parametrize(("text", "nothing"), [
    ("Hi", True), ("<p>Hello team!</p>", True), ("@AcmeHelp https://t.co/x", True), (None, True),
    ("Please see the attached file.", True), ("As per subject", True),  # it only points elsewhere
    ("Help", False), ("My card was declined", False), ("Hi " * 20, False),  # a long text is never a bare greeting
    ("I cannot see the attached invoice", False),
])
def test_a_message_says_nothing_when_nothing_is_left_to_read(text, nothing):
    from ticket_intel.core.sources.base import says_nothing
    assert says_nothing(text) is nothing


def test_a_subject_leads_a_body_that_only_points_to_it_or_to_an_attachment():
    from ticket_intel.core.sources.base import make_ticket

    made = make_ticket(source="zendesk", source_id=1, created_at="2026-09-01T10:00:00Z",
                       message="<p>Hi, please see the attached file. Thanks</p>", subject="Refund not received")
    assert made["message"] == "Refund not received\n\n<p>Hi, please see the attached file. Thanks</p>"


def test_a_name_is_one_pseudonym_whichever_export_it_came_from():
    """A mapped export's requester name and a chat's speaker name were hashed two ways."""
    from ticket_intel.core.sources.base import pseudonymize
    from ticket_intel.core.sources.transcripts import speaker_id

    assert pseudonymize("Siobhan  Moncrieff").split(":")[1] == speaker_id("siobhan moncrieff ").split(":")[1]


def test_no_field_keeps_control_characters_a_terminal_would_run():
    """A ticket's text cleared an agent's screen and retitled the window in `similar`, and hid a link's
    target behind "click" (ESC, BEL and OSC sequences), and ids and tags carried them too."""
    from ticket_intel.core.normalize import clean_message
    from ticket_intel.core.sources.base import make_ticket

    escape = "\x1b[2J\x1b]0;PWNED\x07\x1b]8;;http://evil.example/\x07click\x1b]8;;\x07\x9b31m"
    made = make_ticket(source="zendesk", source_id=f"7{escape}", created_at="2026-09-01T10:00:00Z",
                       message=f"My card\tis blocked{escape}\nplease help", customer_id=f"c1{escape}",
                       tags=[f"card{escape}"])
    for value in (made["ticket_id"], made["message"], made["customer_id"], *made["tags"]):
        assert not any((ord(c) < 32 and c not in "\t\n") or 127 <= ord(c) < 160 for c in value), repr(value)
    assert made["message"] == "My card\tis blocked[2J]0;PWNED]8;;http://evil.example/click]8;;31m\nplease help"
    assert clean_message("Blocked &#27;[2J&#x9b; card") == "Blocked [2J\u203a card"  # &#27; decodes to ESC: dropped
