"""Bad-input corpus: 56 kinds of broken or awkward export files, generated next to a good file.

For each kind: either one clear file-level error, or a rejected row with a human reason for each
bad record while every valid record of the same file lands; the good file is never affected.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ticket_intel.core.sources import read_exports

FD_HEADER = ["Ticket ID", "Subject", "Description", "Status", "Priority", "Source", "Created time", "Tags",
             "Contact ID", "Company Name"]  # fmt: skip
EARLIEST = datetime(2015, 1, 5)
# Ids are unique across files: the same id in two files is a re-export, which supersedes.
_ids = itertools.count(1000)


def nid() -> str:
    return str(next(_ids))


def fd_row(tid: str | None = None, text: str = "My card was declined", created: str = "2026-09-01 10:00:00", **extra: str) -> dict:
    tid = nid() if tid is None else tid
    return {"Ticket ID": tid, "Subject": "Help", "Description": text, "Status": "Open", "Priority": "Low",
            "Source": "Email", "Created time": created, "Tags": "card", "Contact ID": f"c{tid}",
            "Company Name": "Acme", **extra}  # fmt: skip


def fd_csv(rows: list[dict], header: list[str] | None = None, delimiter: str = ",") -> str:
    header = header or list(dict.fromkeys(k for r in rows for k in r)) or FD_HEADER
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore", delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def zd_ticket(tid: int | None = None, text: str = "App crashes on login", created: object = "2026-09-01T10:00:00Z") -> dict:
    return {"id": tid, "url": f"https://acme.zendesk.com/api/v2/tickets/{tid}.json", "via": {"channel": "web"},
            "created_at": created, "subject": "Crash", "description": text, "requester_id": 900 + tid,
            "organization_id": None, "tags": ["app"], "status": "open", "priority": "normal"}  # fmt: skip


def zd(tid: int | None = None, **kw: object) -> dict:
    return zd_ticket(int(nid()) if tid is None else tid, **kw)  # type: ignore[arg-type]


def ic_conv(cid: str, created: object, parts: list[dict] | None = None, body: str = "<p>Where is my card?</p>",
            author: str = "user") -> dict:
    return {"type": "conversation", "id": cid, "created_at": created, "state": "open",
            "source": {"type": "conversation", "body": body, "author": {"type": author, "id": f"u{cid}"}},
            "contacts": {"contacts": [{"id": f"u{cid}"}]},
            "conversation_parts": {"conversation_parts": parts or []}}  # fmt: skip


@dataclass
class Kind:
    name: str
    data: bytes
    error: str | None = None  # substring of the one file-level error
    accepted: int = 0
    reasons: list[str] = field(default_factory=list)  # substrings, one per rejected row


def _parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def _xlsx(sheets: dict[str, pd.DataFrame]) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for title, frame in sheets.items():
            frame.to_excel(writer, sheet_name=title, index=False)
    return buf.getvalue()


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buf.getvalue()


def kinds() -> list[Kind]:
    def good2() -> list[dict]:
        return [fd_row(), fd_row(None, "Top up failed")]

    zd_doc = json.dumps({"tickets": [zd(), zd()]})
    return [
        Kind("empty.csv", b"", error="empty file"),
        Kind("whitespace_only.json", b"  \n\n ", error="empty file"),
        Kind("header_only.csv", fd_csv([], FD_HEADER).encode(), error="header but no rows"),
        Kind("utf8_bom.csv", b"\xef\xbb\xbf" + fd_csv(good2()).encode(), accepted=2),
        Kind("latin1.csv", fd_csv([fd_row(None, "Caf\xe9 payment \xa310 refused"), fd_row()]).encode("cp1252"),
             accepted=2),
        Kind("utf8_stray_cp1252.csv", fd_csv([fd_row(None, "¿Cuándo llegará mi tarjeta?"), fd_row()]).encode()
             + fd_csv([fd_row(None, "Caf\xe9 payment")]).split("\n", 1)[1].encode("cp1252"), accepted=3),
        Kind("utf16_bom.csv", fd_csv(good2()).encode("utf-16"), accepted=2),
        Kind("utf16le_no_bom.csv", fd_csv(good2()).encode("utf-16-le"), accepted=2),
        Kind("binary_nuls.csv", b"\x00\x01\x02\x00" * 600, error="binary content"),
        Kind("random_bytes.csv", np.random.default_rng(0).bytes(3000), error="binary content (many control bytes)"),
        Kind("stray_nuls.csv", fd_csv([fd_row(None, "card\x00 blocked"), fd_row()]).encode(), accepted=2),
        Kind("truncated.json", zd_doc[: len(zd_doc) // 2].encode(), error="invalid or truncated JSON"),
        Kind("one_bad_line.jsonl",
             "\n".join([json.dumps(zd()), '{"id": 2, "description": "cut', json.dumps(zd())]).encode(),
             accepted=2, reasons=["invalid JSON on this line: Unterminated string starting at column"]),
        Kind("all_bad_lines.jsonl", b'{"a": 1\n{"b": \n', error="invalid or truncated JSON"),
        Kind("missing_column.csv", fd_csv([{k: v for k, v in fd_row().items() if k != "Created time"}]).encode(),
             error="lacks required column(s) ['Created time']"),
        Kind("extra_columns.csv", fd_csv([fd_row(None, Mood="happy"), fd_row(None, Mood="sad")]).encode(), accepted=2),
        Kind("one_mb_body.csv", fd_csv([fd_row(None, "my card " * 131_072), fd_row()]).encode(), accepted=2),
        Kind("duplicate_ids.csv", fd_csv([fd_row("7", "first version"), fd_row("7", "second version")]).encode(),
             accepted=1, reasons=["superseded"]),
        Kind("future_timestamp.csv", fd_csv([fd_row(None, created="2099-01-01 00:00:00"), fd_row()]).encode(),
             accepted=1, reasons=["in the future"]),
        Kind("before_partitions.csv", fd_csv([fd_row(None, created="2013-06-28 21:15:11"), fd_row()]).encode(),
             accepted=1, reasons=["before the first weekly partition"]),
        Kind("placeholder_date.csv", fd_csv([fd_row(None, created="1970-01-01 00:00:00"), fd_row()]).encode(),
             accepted=1, reasons=["before 2000"]),
        Kind("bad_dates.csv", fd_csv([fd_row(None, created="31/31/2026"), fd_row(None, created="yesterday"),
                                      fd_row(None, created=""), fd_row()]).encode(),
             accepted=1, reasons=["unparseable", "unparseable", "missing created_at"]),
        Kind("timestamp_offsets.json", json.dumps({"tickets": [zd(created="2026-09-01T10:00:00+05:30"),
                                                               zd(created="2026-09-01T10:00:00-0800")]}).encode(),
             accepted=2),
        Kind("epoch_integers.json", json.dumps({"type": "conversation.list", "conversations": [
            ic_conv(nid(), 1788163031), ic_conv(nid(), 1788163031000), ic_conv(nid(), "1788163031")]}).encode(), accepted=3),
        Kind("html_only_bodies.csv", fd_csv([fd_row(None, "<div><img src=x></div>"),
                                             {**fd_row(None, "<p><br></p>"), "Subject": ""},
                                             fd_row(None, "<p>Card <b>stuck</b></p>")]).encode(),
             accepted=2, reasons=["no customer message"]),
        Kind("emoji_rtl.csv", fd_csv([fd_row(None, "بطاقتي لا تعمل 😞"), fd_row(None, "הכרטיס שלי חסום 🙏🏽")]).encode(),
             accepted=2),
        Kind("embedded_newlines_quotes.csv",
             fd_csv([fd_row(None, 'line one\nline "two"\n\nline, three'), fd_row(None, "x"), fd_row(None, "")]).encode(),
             accepted=3),
        Kind("spreadsheet_formulas.csv", fd_csv([fd_row(None, '=HYPERLINK("http://evil","click")'),
                                                 fd_row(None, "+cmd|'/c calc'!A0"), fd_row(None, "@SUM(1+1)")]).encode(),
             accepted=3),
        Kind("wrong_types.parquet", _parquet(pd.DataFrame({
            "Ticket ID": [1.0, None, 3.0], "Subject": ["a", "b", "c"], "Description": ["x", "y", "z"],
            "Created time": [1788163031.0, 1788163031.0, 1.5]})), accepted=1,
             reasons=["missing ticket id", "before 2000"]),
        Kind("truncated.parquet", b"PAR1" + b"\x15\x04" * 50, error="unreadable Parquet file: Parquet magic bytes"),
        Kind("gzipped.json.gz", gzip.compress(zd_doc.encode()), accepted=2),
        Kind("corrupt.csv.gz", gzip.compress(fd_csv(good2()).encode())[:40], error="corrupt or truncated gzip"),
        Kind("zero_tickets.json", json.dumps({"tickets": [], "count": 0, "end_of_stream": True}).encode(),
             reasons=["zero tickets"]),
        Kind("unknown_shape.json", json.dumps({"hello": "world"}).encode(), error="unknown shape"),
        Kind("prose.txt", b"Dear team,\nplease find my complaint below.\nThanks\n", error="unrecognised columns"),
        Kind("non_objects.json", json.dumps([zd(), 42, "oops", zd()]).encode(),
             accepted=2, reasons=["not an object", "not an object"]),
        Kind("missing_ids_and_bot_only.json", json.dumps({"type": "conversation.list", "conversations": [
            ic_conv(nid(), 1788163031), ic_conv(None, 1788163031),  # type: ignore[arg-type]
            ic_conv(nid(), 1788163031, author="bot", parts=[{"author": {"type": "admin"}, "body": "Hi!"}])]}).encode(),
             accepted=1, reasons=["missing ticket id", "no customer message"]),
        Kind("tab_separated.tsv", fd_csv(good2(), delimiter="\t").encode(), accepted=2),
        # A date column saved from a spreadsheet as General: serial day numbers, the time as a fraction.
        Kind("excel_day_numbers.csv", fd_csv([fd_row(None, created="46000.4375"), fd_row(None, created="46001"),
                                              fd_row(None, created="30000")]).encode(),
             accepted=2, reasons=["created_at 1970-01-01 is before 2000"]),
        # Excel's CSV where the decimal separator is a comma (most of Europe), in Windows-1252; a pipe.
        Kind("excel_semicolon.csv", fd_csv([fd_row(None, "Karte abgelehnt, 5,00 \u20ac Geb\u00fchr"), fd_row()],
                                           delimiter=";").encode("cp1252"), accepted=2),
        Kind("pipe_separated.csv", fd_csv(good2(), delimiter="|").encode(), accepted=2),
        Kind("freshdesk.xlsx", _xlsx({  # Freshdesk's Excel export; a second month on a second sheet
            "Tickets": pd.DataFrame([fd_row(), fd_row(None, created="yesterday")]).assign(
                **{"Created time": [datetime(2026, 9, 1, 10), "yesterday"]}),
            "October": pd.DataFrame([fd_row(None, "Top up failed", created="2026-10-05 09:00:00")]),
            "Empty": pd.DataFrame()}), accepted=2, reasons=["unparseable"]),
        Kind("summary_sheet.xlsx", _xlsx({"Tickets": pd.DataFrame(good2()),
                                          "Summary": pd.DataFrame({"Metric": ["open"], "Value": [2]})}),
             accepted=2, reasons=["sheet 'Summary' holds no tickets (columns ['Metric', 'Value'])"]),
        Kind("summary_only.xlsx", _xlsx({"Summary": pd.DataFrame({"Metric": ["open"], "Value": [2]})}),
             error="sheet 'Summary': table with unrecognised columns ['Metric', 'Value']"),
        Kind("truncated.xlsx", _xlsx({"Tickets": pd.DataFrame(good2())})[:300], error="unreadable Excel workbook"),
        Kind("exports_zipped.csv", _zip({"a.csv": fd_csv(good2()).encode()}), error="a zip archive, not an Excel workbook"),
        # Fuzz review: each of these stopped the whole run with a traceback, or lost a file's tickets.
        Kind("mistyped_fields.jsonl", "\n".join(json.dumps(t) for t in (
            {**zd(), "via": "web"}, {**zd(), "tags": 5}, zd())).encode(),
             accepted=2, reasons=["ticket has a field of another type than the export's (AttributeError"]),
        Kind("intercom_mistyped.json", json.dumps({"type": "conversation.list", "conversations": [
            {**ic_conv(nid(), 1788163031), "tags": ["billing"]}, ic_conv(nid(), 1788163031)]}).encode(),
             accepted=1, reasons=["conversation has a field of another type"]),
        Kind("typed_tags.parquet", _parquet(pd.DataFrame([fd_row(), fd_row()]).assign(Tags=[7, 8])), accepted=2),
        Kind("spreadsheet_empty_columns.csv", fd_csv([{**fd_row(), "": ""}, fd_row()], [*FD_HEADER, "", ""]).encode(),
             accepted=2),
        Kind("repeated_header.csv", fd_csv(good2(), [*FD_HEADER, "Created time"]).encode(), accepted=2),
        Kind("one_record.jsonl", (json.dumps(zd()) + "\n").encode(), accepted=1),
        Kind("record_per_line.json", ('{"tickets": [\n' + ",\n".join(json.dumps(zd()) for _ in range(3))
                                      + "\n]}\n").encode(), accepted=3),
        Kind("impossible_times.csv", fd_csv([fd_row(None, created="99999999999999999999"),
                                             fd_row(None, created="2026-09-01T10:00:00+25:00"), fd_row()]).encode(),
             accepted=1, reasons=["unparseable created_at timestamp", "unparseable created_at timestamp"]),
        Kind("deep_nesting.jsonl", "\n".join([json.dumps(zd()), '{"a": ' + "[" * 5000 + "]" * 5000 + "}",
                                              json.dumps(zd())]).encode(),
             accepted=2, reasons=["JSON nested deeper than this reads"]),
        Kind("deep_document.json", ('{"tickets": [' + "[" * 5000 + "]" * 5000 + ", " + json.dumps(zd()) + "]}").encode(),
             accepted=1, reasons=["ticket is a list, not an object"]),  # its rejection re-encoded it: a crash
    ]


GOOD = "good_zendesk.json"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory):
    inbox = tmp_path_factory.mktemp("bad_inbox")
    (inbox / GOOD).write_text(json.dumps({"tickets": [zd_ticket(101), zd_ticket(102), zd_ticket(103)]}))
    for kind in kinds():
        (inbox / kind.name).write_bytes(kind.data)
    paths = sorted(inbox.iterdir())
    return read_exports(paths, earliest=EARLIEST)


def test_corpus_has_at_least_30_kinds():
    assert len({k.name for k in kinds()}) >= 30


def test_good_file_unaffected(corpus):
    files = corpus.files.assign(name=corpus.files["source_file"].map(lambda p: Path(p).name)).set_index("name")
    assert files.loc[GOOD, "accepted"] == 3 and files.loc[GOOD, "rejected"] == 0
    assert {"zendesk:101", "zendesk:102", "zendesk:103"} <= set(corpus.tickets["ticket_id"])


@pytest.mark.parametrize("kind", kinds(), ids=lambda k: k.name)
def test_each_bad_kind(corpus, kind):
    files = corpus.files.assign(name=corpus.files["source_file"].map(lambda p: Path(p).name)).set_index("name")
    entry = files.loc[kind.name]
    rejected = corpus.rejected[corpus.rejected["source_file"].map(lambda p: Path(p).name) == kind.name]
    landed = corpus.tickets[corpus.tickets["source_file"].map(lambda p: Path(p).name) == kind.name]
    if kind.error:
        assert kind.error in str(entry["error"]), entry["error"]
        assert len(rejected) == 1 and rejected.iloc[0]["locator"] == "file"
        assert len(landed) == 0
        return
    assert entry["error"] is None
    assert len(landed) == kind.accepted == entry["accepted"]
    reasons = sorted(rejected["reason"])
    assert len(reasons) == len(kind.reasons), reasons
    for expected in kind.reasons:
        assert any(expected in r for r in reasons), (expected, reasons)
    assert rejected["record"].notna().all() and (rejected["locator"] != "").all()


def _landed(corpus, name: str) -> pd.DataFrame:
    frame = corpus.tickets[corpus.tickets["source_file"].map(lambda p: Path(p).name) == name]
    return frame.assign(order=frame["locator"].str.extract(r"(\d+)", expand=False).astype(int)).sort_values("order")


def test_workbook_rows_are_located_as_excel_numbers_them(corpus):
    rejected = corpus.rejected[corpus.rejected["source_file"].str.endswith("freshdesk.xlsx")]
    assert rejected["locator"].tolist() == ["sheet 'Tickets' row 3"]
    assert _landed(corpus, "freshdesk.xlsx")["locator"].tolist() == ["sheet 'Tickets' row 2", "sheet 'October' row 2"]


def test_decoded_text_and_types_are_faithful(corpus):
    def first(name: str, column: str = "message"):
        return _landed(corpus, name)[column].iloc[0]

    assert first("latin1.csv") == "Café payment £10 refused"
    # one pasted Windows-1252 byte no longer turns every accented letter of a UTF-8 file to mojibake
    assert _landed(corpus, "utf8_stray_cp1252.csv")["message"].tolist()[::2] == ["¿Cuándo llegará mi tarjeta?",
                                                                                 "Café payment"]
    assert first("emoji_rtl.csv") == "بطاقتي لا تعمل 😞"
    assert first("embedded_newlines_quotes.csv") == 'line one\nline "two"\n\nline, three'
    assert first("spreadsheet_formulas.csv") == '=HYPERLINK("http://evil","click")'
    assert len(first("one_mb_body.csv")) >= 1_000_000
    assert first("duplicate_ids.csv") == "second version"
    assert list(_landed(corpus, "timestamp_offsets.json")["created_at"]) == [datetime(2026, 9, 1, 4, 30),
                                                                           datetime(2026, 9, 1, 18, 0)]
    assert _landed(corpus, "epoch_integers.json")["created_at"].nunique() == 1
    assert list(_landed(corpus, "excel_day_numbers.csv")["created_at"]) == [datetime(2025, 12, 9, 10, 30),
                                                                          datetime(2025, 12, 10)]


def test_csv_locators_point_at_the_physical_line(corpus):
    rejected = corpus.rejected[corpus.rejected["source_file"].str.endswith("bad_dates.csv")]
    assert sorted(rejected["locator"]) == ["line 2", "line 3", "line 4"]


def test_an_id_a_spreadsheet_wrote_as_a_float_is_the_same_ticket(tmp_path):
    """Fuzz review: "10000.0" (pandas writes an id column with gaps so) and 10000 were two tickets."""
    (tmp_path / "a_helpdesk.csv").write_text(fd_csv([fd_row("10000", "first version")]))
    (tmp_path / "b_resaved.csv").write_text(fd_csv([fd_row("10000.0", "second version")]))
    result = read_exports(sorted(tmp_path.iterdir()), earliest=EARLIEST)
    assert result.tickets["ticket_id"].tolist() == ["freshdesk:10000"]
    assert result.rejected["reason"].str.startswith("superseded").tolist() == [True]
