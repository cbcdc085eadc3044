"""Mapped exports as a new user writes them (a Help Scout export flattened to one row per thread): a
mistake in the mapping is said, never read as something else in silence, and what the helpdesk
says (notes, statuses, tag objects) is read as it means."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from ticket_intel.core.knowledge import needs_reply
from ticket_intel.core.sources import (
    SET_ASIDE,
    IngestResult,
    file_summary,
    list_exports,
    load_mappings,
    read_exports,
)
from ticket_intel.core.sources.base import pseudonymize
from ticket_intel.core.sources.mapped import MappingError

MAPPING = """name: hs
source: helpscout
detect: [conversation_id, thread_id, thread_type, body]
columns: {ticket_id: thread_id, created_at: created_at, message: body, customer_id: author, status: status, tags: tags}
agents: {column: author_type, values: [user]}
thread: {conversation_id: conversation_id}
"""


def _thread(conversation: int, thread: int, kind: str, body: str, minute: int, **more: object) -> dict:
    return {"conversation_id": conversation, "thread_id": thread, "thread_type": kind,
            "author_type": "customer" if kind == "customer" else "user",
            "author": f"c{conversation}@example.com" if kind == "customer" else "tom", "status": "active",
            "body": body, "created_at": f"2026-11-02T10:{minute:02d}:00Z", "tags": "", **more}


ROWS = [_thread(1, 11, "customer", "My parcel never arrived", 0), _thread(1, 12, "reply", "We resent it today", 5),
        _thread(1, 13, "note", "Checked the courier's system, nothing odd", 6),
        _thread(2, 21, "customer", "I was billed twice this month", 1)]


def _read(tmp_path: Path, mapping: str = MAPPING, files: dict[str, str] | None = None, chunk_rows: int | None = None
          ) -> IngestResult:
    (tmp_path / "maps").mkdir(exist_ok=True)
    (tmp_path / "maps" / "hs.yaml").write_text(mapping)
    (tmp_path / "inbox").mkdir(exist_ok=True)
    for name, text in (files or {"threads.jsonl": "\n".join(json.dumps(r) for r in ROWS)}).items():
        (tmp_path / "inbox" / name).write_text(text)
    return read_exports(list_exports(tmp_path / "inbox"), load_mappings(tmp_path / "maps"), chunk_rows=chunk_rows)


def _by_name(result: IngestResult, column: str) -> dict[str, object]:
    return {Path(f).name: v for f, v in zip(result.files["source_file"], result.files[column], strict=True)}


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_a_column_no_record_of_a_json_file_holds_is_refused_as_a_csv_s_is(tmp_path, suffix):
    """`message: text` against records holding `body` read every message as empty (the subject stood
    in) and lost every reply; a column missing from one chunk only is still empty there."""
    rows = [{k: v for k, v in r.items() if k != "status"} | ({"status": "closed"} if i >= 3 else {})
            for i, r in enumerate(ROWS)]  # `status` first seen in the second chunk
    text = "\n".join(json.dumps(r) for r in rows) if suffix == ".jsonl" else json.dumps(rows)
    result = _read(tmp_path, MAPPING.replace("message: body", "message: text"),
                   {f"typo{suffix}": text, "good.csv": "conversation_id,thread_id,thread_type,body,text,created_at,"
                    "author,author_type,status,tags\n9,91,customer,x,Refund please,2026-11-02 10:00,c9,customer,,\n"},
                   chunk_rows=3)
    errors = _by_name(result, "error")
    assert errors[f"typo{suffix}"] == ("mapping hs: file lacks columns ['text']; its columns are ['conversation_id', "
                                       "'thread_id', 'thread_type', 'author_type', 'author', 'body', 'created_at', "
                                       "'tags', 'status']")
    assert result.tickets["ticket_id"].tolist() == ["helpscout:9"]  # the other file is read
    assert _by_name(result, "skipped")[f"typo{suffix}"] == 0 and result.replies.empty
    result = _read(tmp_path, files={f"typo{suffix}": text, "good.csv": ""}, chunk_rows=3)
    assert sorted(result.tickets["status"].fillna("-")) == ["-", "closed"]  # only the second chunk held it


@pytest.mark.parametrize("change, said", [
    ("values: [user]", "agents value 'users' matches no row (author_type holds customer 2, user 2)"),
    ("agents:", "filter value 'replies' matches no row (thread_type holds customer 2, reply 1, note 1)"),
])
def test_a_mapping_value_no_row_holds_is_said_on_the_file_s_line(tmp_path, change, said):
    """`values: [users]` made every agent reply a customer follow-up, and a filter value typo dropped
    every reply, with the same file line as a correct run."""
    mapping = (MAPPING.replace("values: [user]", "values: [users]") if change.startswith("values") else
               MAPPING.replace("agents:", "filter: {thread_type: [customer, replies]}\nagents:"))
    result = _read(tmp_path, mapping)
    row = result.files.iloc[0].to_dict() | dict.fromkeys(SET_ASIDE, 0)
    assert file_summary(SimpleNamespace(**row)).endswith(f" — mapping hs: {said}")
    assert _read(tmp_path).files["warning"].isna().all()


def test_a_note_a_mapping_marks_private_is_an_internal_reply_that_never_answers(tmp_path):
    """Every agent row was a public reply: a note ("Checked the courier's system") reached the
    knowledge base, which docs/assist.md says internal notes never enter."""
    result = _read(tmp_path, MAPPING + "private: {column: thread_type, values: [note]}\n")
    replies = result.replies.set_index("reply_id")["is_public"].to_dict()
    assert replies == {"12": True, "13": False}
    result = _read(tmp_path, MAPPING + "private: {column: thread_type, values: [note]}\n",
                   {"threads.jsonl": "\n".join(json.dumps(r) for r in ROWS[:1] + ROWS[2:])})
    assert result.replies["is_public"].tolist() == [False] and result.files["warning"].isna().all()


def test_a_mapping_says_what_its_status_values_mean(tmp_path):
    """Help Scout's `active` waits on the team, but only `new` and `open` were awaiting a reply: no
    draft was made for any of its tickets, and no setting could say otherwise."""
    result = _read(tmp_path, MAPPING + "statuses: {Active: open, pending: pending}\n")
    assert set(result.tickets["status"]) == {"open"} and needs_reply("open", 1)
    (tmp_path / "maps" / "hs.yaml").write_text(MAPPING + "statuses: {active: waiting}\n")
    with pytest.raises(MappingError, match=r"hs.yaml: .*statuses must translate to statuses this reads, not "
                                           r"\['waiting'\]; use \['closed', 'deleted', 'hold', 'new', 'open'"):
        load_mappings(tmp_path / "maps")


def test_tag_objects_are_read_by_their_name_or_tag_key(tmp_path):
    """Help Scout writes tags as {"id", "color", "tag"}: read by `name` only, every tag was lost."""
    rows = [ROWS[0] | {"tags": [{"id": 1, "color": "#fff", "tag": "Refund"}, {"name": "vip"}]},
            ROWS[3] | {"tags": [{"id": 2, "color": "#000"}]}]
    result = _read(tmp_path, files={"threads.jsonl": "\n".join(json.dumps(r) for r in rows)})
    assert result.tickets["tags"].map(list).tolist() == [["refund", "vip"]]
    assert result.rejected["reason"].tolist() == ["a tag is an object without a name (name or tag): "
                                                  "{'id': 2, 'color': '#000'}"]


NESTED = """name: hs_api
source: helpscout
detect: [id, type, body, createdAt, createdBy, conversation]
columns: {ticket_id: id, created_at: createdAt, message: body, subject: conversation.subject,
          customer_id: customer.email}
agents: {column: createdBy.type, values: [user]}
thread: {conversation_id: conversation.id}
"""


def _api_thread(conversation: int, thread: int, body: str, customer: str, agent: bool = False, **more: object) -> dict:
    """A thread as Help Scout's API writes it: its author, customer and conversation are objects."""
    author = {"id": thread, "email": "tom@shop.example" if agent else customer, "type": "user" if agent else "customer"}
    return {**more, "id": thread, "type": "message" if agent else "customer", "body": body, "createdBy": author,
            "customer": {"id": conversation, "email": customer}, "createdAt": "2026-11-02T10:00:00Z",
            "conversation": {"id": conversation, "subject": f"Order {conversation}"}, "attachments": []}


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_a_mapping_reads_a_field_inside_an_object_by_its_dotted_path(tmp_path, suffix):
    """`customer_id: customer.email` was refused ("a field inside an object; … flatten the export
    first"): Help Scout's threads, whose customer, author and conversation are objects, could not be
    read as the API writes them. A record's own key that holds a dot wins over the path it spells."""
    rows = [_api_thread(1, 11, "My parcel never arrived", "ann@example.com"), _api_thread(1, 12, "Resent it", "ann@example.com", agent=True),
            _api_thread(2, 21, "Billed twice", "bob@example.com", **{"customer.email": "own@example.com"})]
    text = "\n".join(json.dumps(r) for r in rows) if suffix == ".jsonl" else json.dumps(rows)
    result = _read(tmp_path, NESTED, {f"api{suffix}": text})
    tickets = result.tickets.set_index("ticket_id")
    assert tickets["subject"].to_dict() == {"helpscout:1": "Order 1", "helpscout:2": "Order 2"}
    assert tickets["customer_id"].to_dict() == {"helpscout:1": pseudonymize("ann@example.com"),
                                                "helpscout:2": pseudonymize("own@example.com")}
    assert result.replies["ticket_id"].tolist() == ["helpscout:1"] and result.rejected.empty
    result = _read(tmp_path, NESTED.replace("customer.email", "customer"), {f"api{suffix}": text})
    assert "file lacks columns ['customer'] (customer: an object; name a field inside it by its path, " \
           "customer.id)" in result.files["error"].iloc[0]


def test_a_detect_typo_names_the_mapping_that_nearly_reads_the_file(tmp_path):
    """It said "add a column mapping" to a user whose mapping misspelt one `detect` column."""
    result = _read(tmp_path, MAPPING.replace("thread_type, body]", "thread_type, bdy]"))
    assert result.files["error"].iloc[0] == (
        "records with unrecognised fields ['conversation_id', 'thread_id', 'thread_type', 'author_type', 'author', "
        "'status', 'body', 'created_at', 'tags']; mapping hs (hs.yaml) detects ['conversation_id', 'thread_id', "
        "'thread_type', 'bdy'], but the file lacks ['bdy']: correct its `detect` (or the export), or add a column "
        "mapping (`ticket-intel mapping suggest threads.jsonl` drafts one)")


def test_records_under_a_wrapper_are_pointed_at_not_sent_to_a_mapping(tmp_path):
    """An export holding `{"data": {"items": [...]}}`: the error advised adding a column mapping,
    which the user had."""
    doc = {"data": {"items": ROWS}, "meta": {"size": 4}}
    result = _read(tmp_path, files={"page1.json": json.dumps(doc)})
    error = result.files["error"].iloc[0]
    assert error == ("JSON export of unknown shape (top-level keys: ['data', 'meta']); a mapping reads "
                     "JSON records: a top-level array of objects, JSONL, or an object holding one list of objects "
                     "(at its top or in its HAL `_embedded`), each record's fields (inside its objects by path) its "
                     "columns; its records sit under data.items: "
                     "extract them (`jq -c '.data.items[]' page1.json > records.jsonl`)")


# Help Scout's Mailbox API 2.0 as documented (developer.helpscout.com/mailbox-api: List Conversations
# with ?embed=threads, Get Conversation, List Threads): a HAL page, `{"_embedded": {"conversations":
# [...]}, "_links": ..., "page": ...}`; each conversation's `threads` its count and, embedded, its
# threads newest first in `_embedded.threads`, each with its `customer` and `createdBy` (type customer
# or user) and its own `_embedded.attachments`.
HELPSCOUT_API = """name: helpscout_api
source: helpscout
detect: [primaryCustomer, mailboxId, subject, createdBy]
records: {key: _embedded.threads, parent: conversation}
columns: {ticket_id: id, created_at: createdAt, message: body, subject: conversation.subject,
          customer_id: customer.email, status: conversation.status, tags: conversation.tags}
agents: {column: createdBy.type, values: [user]}
private: {column: type, values: [note]}
filter: {type: [customer, message, note]}
thread: {conversation_id: conversation.id}
statuses: {active: open}
"""


def api_thread(thread: int, kind: str, body: str, at: str, customer: str) -> dict:
    """A thread as List Threads documents it."""
    person = {"id": 29418, "first": "Vernon", "last": "Bear", "email": customer}
    author = {**person, "type": "customer"} if kind == "customer" else {
        "id": 1234, "type": "user", "first": "Jack", "last": "Sprout", "email": "jack.sprout@shop.example"}
    return {"id": thread, "type": kind, "status": "active", "state": "published",
            "action": {"type": "default", "associatedEntities": {}}, "body": body,
            "source": {"type": "email", "via": author["type"]}, "customer": person, "createdBy": author,
            "assignedTo": {"id": 1234, "type": "team", "first": "Jack", "last": "Sprout"}, "savedReplyId": 0,
            "to": [], "cc": [], "bcc": [], "createdAt": at, "openedAt": None,
            "_embedded": {"attachments": []}, "_links": {"createdByCustomer": {"href": "..."}}}


def api_conversation(conversation: int, subject: str, threads: list[dict], **more: object) -> dict:
    """A conversation as Get Conversation (and List Conversations) documents it, its threads embedded."""
    return {"id": conversation, "number": conversation + 1000, "threads": len(threads), "type": "email",
            "folderId": 11, "status": "active", "state": "published", "subject": subject, "preview": "...",
            "mailboxId": 13, "assignee": {"id": 256, "first": "Mr", "last": "Robot", "email": "none@nowhere.com"},
            "createdBy": threads[-1]["createdBy"], "createdAt": threads[-1]["createdAt"], "closedBy": 0,
            "closedAt": None, "userUpdatedAt": threads[0]["createdAt"],
            "customerWaitingSince": {"time": threads[0]["createdAt"], "friendly": "1 hour ago"},
            "source": {"type": "email", "via": "customer"}, "tags": [{"id": 9150, "color": "#929499", "tag": "vip"}],
            "cc": [], "bcc": [], "primaryCustomer": {"id": 238604}, "customFields": [],
            "_embedded": {"threads": threads}, "_links": {"self": {"href": "..."}, "threads": {"href": "..."}},
            **more}


def api_page(conversations: list[dict]) -> dict:
    return {"_embedded": {"conversations": conversations},
            "_links": {"self": {"href": "..."}, "next": {"href": "...?page=2"}},
            "page": {"size": 50, "totalElements": len(conversations), "totalPages": 1, "number": 1}}


API_PAGE = api_page([
    api_conversation(501, "Parcel lost", [
        api_thread(5013, "customer", "Any news on it?", "2026-11-03T09:00:00Z", "ann@example.com"),
        api_thread(5012, "note", "Courier says delivered", "2026-11-02T11:00:00Z", "ann@example.com"),
        api_thread(5011, "message", "We are looking into it", "2026-11-02T10:30:00Z", "ann@example.com"),
        api_thread(5010, "customer", "My parcel never arrived", "2026-11-02T10:00:00Z", "ann@example.com")]),
    api_conversation(502, "Billing", [
        api_thread(5020, "customer", "I was billed twice this month", "2026-11-02T12:00:00Z", "bob@example.com")]),
])


def test_a_saved_helpscout_api_page_is_read_as_its_conversations(tmp_path):
    """Help Scout's API pages (HAL: `{"_embedded": {"conversations": [...]}}`, each conversation's
    threads in its own `_embedded.threads`) were refused with a `jq` command to extract them, and
    `records` took a top-level key only: the page's conversations are its records, and each one's
    threads (newest first) its rows, so a conversation is one ticket from its first customer thread."""
    result = _read(tmp_path, HELPSCOUT_API, {"page1.json": json.dumps(API_PAGE)})
    assert result.files["error"].isna().all() and result.rejected.empty
    tickets = result.tickets.set_index("ticket_id")
    assert tickets["message"].to_dict() == {"helpscout:501": "My parcel never arrived",
                                            "helpscout:502": "I was billed twice this month"}
    assert tickets.loc["helpscout:501", "followup_text"] == "Any news on it?"
    assert tickets.loc["helpscout:501", "subject"] == "Parcel lost" and tickets.loc["helpscout:501", "status"] == "open"
    assert tickets.loc["helpscout:501", "customer_id"] == pseudonymize("ann@example.com")
    assert list(tickets.loc["helpscout:502", "tags"]) == ["vip"]
    replies = result.replies.set_index("reply_id")
    assert replies["is_public"].to_dict() == {"5011": True, "5012": False}
    assert set(tickets["locator"]) == {"_embedded.conversations[0] _embedded.threads[3]",
                                       "_embedded.conversations[1] _embedded.threads[0]"}
    unembedded = api_page([{k: v for k, v in c.items() if k != "_embedded"} for c in API_PAGE["_embedded"]["conversations"]])
    refused = _read(tmp_path, HELPSCOUT_API, {"page1.json": json.dumps(unembedded)})  # saved without ?embed=threads
    assert refused.tickets.empty and set(refused.rejected["reason"]) == {"no list of records in '_embedded.threads'"}


def test_ids_by_position_tell_apart_the_rows_of_two_records(tmp_path):
    """`{record}` of a row of a record's list was its index in that list alone: each record's first
    thread was `threads-0`, so the second record's was read as the first's, exported again
    ("superseded"). It is the record's number and the row's, the same on every read of the file."""
    mapping = HELPSCOUT_API.replace("ticket_id: id", "ticket_id: '{file}-{record}'").replace("_embedded.threads", "threads")
    rows = "\n".join(json.dumps({**c, "threads": c["_embedded"]["threads"]}) for c in API_PAGE["_embedded"]["conversations"])
    first = _read(tmp_path, mapping, {"threads.jsonl": rows})
    assert first.rejected.empty and sorted(first.tickets["ticket_id"]) == ["helpscout:501", "helpscout:502"]
    assert sorted(first.tickets["record"].map(lambda r: json.loads(r)["id"])) == [5010, 5020]
    assert sorted(first.replies["reply_id"]) == ["threads-1-1", "threads-1-2"]
    again = _read(tmp_path, mapping, {"threads.jsonl": rows}, chunk_rows=1)  # read again, a record a chunk
    assert sorted(again.replies["reply_id"]) == sorted(first.replies["reply_id"])
    flat = _read(tmp_path, mapping.replace("thread: {conversation_id: conversation.id}\n", ""),
                 {"threads.jsonl": rows})  # each thread its own ticket, by its position alone
    assert sorted(flat.tickets["ticket_id"]) == ["helpscout:threads-1-0", "helpscout:threads-1-3",
                                                 "helpscout:threads-2-0"]


@pytest.mark.parametrize(("name", "data"), [
    # One record, a mapping's (a webhook's body saved, what `serve` reads): "JSON export of unknown shape".
    ("one.json", json.dumps(ROWS[0]).encode()),
    # Records as a whole document parsed (not UTF-8): an AttributeError out of the reader.
    ("latin.json", json.dumps(ROWS, ensure_ascii=False).replace("arrived", "arrivé").encode("cp1252")),
])
def test_one_mapped_record_and_a_non_utf8_array_of_them_are_read(tmp_path, name, data):
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "hs.yaml").write_text(MAPPING)
    (tmp_path / name).write_bytes(data)
    result = read_exports([tmp_path / name], load_mappings(tmp_path / "maps"))
    assert result.files["error"].isna().all() and "helpscout:1" in result.tickets["ticket_id"].tolist()
