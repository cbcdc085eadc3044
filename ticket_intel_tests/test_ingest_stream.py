"""Streaming ingest (issue 12.7): an inbox parsed a few rows at a time into the staging database gives
exactly what one in-memory pass gives — the same tickets, replies, rejections and per-file counts —
including re-exports across files, rows before the partitions, cut rows, bad JSON lines, and a file
that turns out unusable after some of its chunks were already staged."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from ticket_intel.core.sources import read_exports, scan_inbox
from ticket_intel.warehouse.staging import Stage
from ticket_intel_tests.test_bad_inputs import fd_csv, fd_row, zd_ticket

CHUNK = 7  # rows per chunk: every file below spans several chunks
EARLIEST = datetime(2026, 9, 7)


def _inbox(root: Path) -> Path:
    inbox = root / "inbox"
    inbox.mkdir()
    first = [fd_row(str(i), text=f"Card declined {i}", created=f"2026-09-{1 + i % 20:02d} 10:00:00") for i in range(40)]
    rows = fd_csv(first).splitlines(True)
    rows.insert(9, "41,Help,cut here\n")  # a row cut short in the second chunk
    (inbox / "a_first.csv").write_text("".join(rows))
    # Re-exported later: 10 tickets again, 5 of them changed (superseded versions are filed), 5 identical.
    again = [fd_row(str(i), text=f"Card declined {i}" + (" (edited)" if i % 2 else ""),
                    created=f"2026-09-{1 + i % 20:02d} 10:00:00") for i in range(10, 20)]
    (inbox / "b_again.csv").write_text(fd_csv(again))
    lines = [json.dumps(zd_ticket(i, text=f"App crashes {i}", created=f"2026-09-{8 + i % 14:02d}T10:00:00Z"))
             for i in range(1, 31)]
    lines.insert(12, '{"id": 99, "broken')  # a line that is not JSON
    (inbox / "c_zendesk.jsonl").write_text("\n".join(lines) + "\n")
    return inbox


def _staged(inbox: Path, earliest: datetime | None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from ticket_intel.core.sources import stream_exports

    scan, stage = scan_inbox(inbox), Stage()
    try:
        files = stage.resolve(stream_exports(scan.files, stage, (), scan.skipped, chunk_rows=CHUNK), earliest)
        weeks = sorted(stage.week_counts())
        tickets, replies, rejected = (stage.rows(kind, weeks, "run").read_pandas()
                                      for kind in ("tickets", "replies", "rejected"))
    finally:
        stage.close()
    return tickets, replies, rejected, files


def _tickets(frame: pd.DataFrame) -> list[tuple]:
    return sorted(zip(frame["ticket_id"], frame["source_file"], frame["locator"], frame["message"],
                      frame["language"], pd.to_datetime(frame["created_at"]), frame["customer_id"], strict=True))


def _rejected(frame: pd.DataFrame) -> list[tuple]:
    return sorted(zip(frame["source_file"], frame["locator"], frame["reason"], frame["file_hash"].fillna(""),
                      strict=True))


def _staged_as_in_memory(inbox: Path, earliest: datetime | None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The staged tickets, rejections and files, once checked equal to one in-memory pass's."""
    whole = read_exports(scan_inbox(inbox).files, (), earliest)  # unchunked: CSV_CHUNK rows > any file here
    tickets, replies, rejected, files = _staged(inbox, earliest)
    assert _tickets(tickets) == _tickets(whole.tickets) and len(tickets) == len(whole.tickets)
    assert _rejected(rejected) == _rejected(whole.rejected)
    assert sorted(zip(replies["ticket_id"], replies["reply_id"], strict=True)) == \
        sorted(zip(whole.replies["ticket_id"], whole.replies["reply_id"], strict=True))
    columns = ["source_file", "file_hash", "file_bytes", "profile", "accepted", "rejected", "skipped", "repeated", "error"]
    assert files[columns].values.tolist() == whole.files[columns].values.tolist()
    return tickets, rejected, files


@pytest.mark.parametrize("earliest", [None, EARLIEST])
def test_staged_chunks_match_one_pass_in_memory(tmp_path, earliest):
    tickets, rejected, files = _staged_as_in_memory(_inbox(tmp_path), earliest)
    # Nothing lost: every data row of every file is a ticket, a rejection (a superseded version counts
    # where it was filed) or repeated (an identical re-export is one ticket; the earlier copy is counted
    # in its file: it was counted nowhere before 2026-12-06).
    reasons = " ".join(rejected["reason"])
    assert "row cut short" in reasons and "invalid JSON" in reasons and "superseded" in reasons
    assert files.set_index(files["source_file"].map(lambda p: Path(p).name))["repeated"].to_dict() == \
        {"a_first.csv": 5, "b_again.csv": 0, "c_zendesk.jsonl": 0}
    assert len(tickets) + len(rejected) + files["repeated"].sum() == 41 + 10 + 31
    assert (earliest is not None) == ("before the first weekly partition" in reasons)


def test_tickets_removed_in_the_helpdesk_are_set_aside_and_supersede_earlier_exports(tmp_path):
    """Zendesk's incremental export keeps deleted tickets (status `deleted`), Freshdesk's API flags spam:
    set aside alike in memory and staged, and the deleted version still supersedes ticket 3's export."""
    inbox = _inbox(tmp_path)
    removed = [{**zd_ticket(i, text=f"App crashes {i}", created="2026-09-11T10:00:00Z"), "status": "deleted"}
               for i in (3, 40)]
    (inbox / "d_incremental.json").write_text(json.dumps({"tickets": removed, "end_of_stream": True}))
    api = [{"id": 500 + i, "requester_id": 7 + i, "created_at": "2026-09-15T09:00:00Z", "status": 2,
            "description_text": f"Win a prize {i}" if i else "Export to PDF fails", "spam": bool(i)} for i in range(2)]
    (inbox / "e_freshdesk_api.json").write_text(json.dumps(api))
    tickets, rejected, _ = _staged_as_in_memory(inbox, None)
    set_aside = rejected[rejected["reason"].str.startswith("removed in the helpdesk")]
    assert sorted(set_aside["reason"].str.split().str[5]) == ["3", "40", "501"]
    assert not {"zendesk:3", "zendesk:40", "freshdesk:501"} & set(tickets["ticket_id"])
    assert "freshdesk:500" in set(tickets["ticket_id"])
    assert rejected["reason"].str.startswith("superseded: ticket 3 exported again in d_incremental.json").any()


def test_a_file_that_fails_after_some_chunks_leaves_nothing_staged(tmp_path):
    """A JSON array of tickets, cut off in its third chunk: the file becomes one rejected file, and the
    chunks it had already sent are taken back; the other files are whole."""
    inbox = _inbox(tmp_path)
    text = json.dumps([zd_ticket(i, text=f"Refund missing {i}") for i in range(100, 130)])
    (inbox / "d_cut.json").write_text(text[: len(text) * 2 // 3])
    tickets, _, rejected, files = _staged(inbox, None)
    whole = read_exports(scan_inbox(inbox).files, ())
    bad = files.set_index(files["source_file"].map(lambda p: Path(p).name)).loc["d_cut.json"]
    assert bad["error"].startswith("invalid or truncated JSON") and bad["accepted"] == 0
    assert not tickets["source_file"].str.endswith("d_cut.json").any()
    assert rejected.loc[rejected["source_file"].str.endswith("d_cut.json"), "locator"].tolist() == ["file"]
    assert _tickets(tickets) == _tickets(whole.tickets)


def test_a_field_past_csvs_limit_rejects_its_row_not_the_file(tmp_path):
    """A pasted log past the csv module's field limit, in the file's third chunk: that row is rejected
    with the reason, the rows around it are staged (the whole file was lost before 2026-12-06)."""
    inbox = _inbox(tmp_path)
    limit = csv.field_size_limit()
    rows = [fd_row(str(100 + i), text="x" * (5000 if i == 20 else 10)) for i in range(30)]
    (inbox / "d_long.csv").write_text(fd_csv(rows))
    try:
        csv.field_size_limit(1000)
        tickets, _, rejected, files = _staged(inbox, None)
    finally:
        csv.field_size_limit(limit)
    entry = files.set_index(files["source_file"].map(lambda p: Path(p).name)).loc["d_long.csv"]
    assert entry["error"] is None and (entry["accepted"], entry["rejected"]) == (29, 1)
    row = rejected[rejected["source_file"].str.endswith("d_long.csv")].iloc[0]
    assert row["locator"] == "line 22" and row["reason"].startswith("malformed CSV on line 22: field larger than")
    ids = set(tickets.loc[tickets["source_file"].str.endswith("d_long.csv"), "ticket_id"])
    assert len(ids) == 29 and not any(i.endswith(":120") for i in ids) and any(i.endswith(":121") for i in ids)


def test_json_documents_stream_their_ticket_list_as_parsed_whole(tmp_path):
    """A Zendesk document (side-loaded organizations after the tickets), a top-level array and an object
    with one list, streamed 3 items at a time, give what parsing each document whole gives."""
    from ticket_intel.core import sources

    tickets = [zd_ticket(i, text=f"App crashes {i}") for i in range(1, 12)]
    tickets[4] = "not an object"
    tickets[7]["organization_id"] = 77
    docs = {"zd.json": {"tickets": tickets, "count": 11, "organizations": [{"id": 77, "name": "Acme Corp"}]},
            "array.json": [t for t in tickets if isinstance(t, dict)],
            "wrapped.json": {"results": [t for t in tickets if isinstance(t, dict)], "next_page": None}}
    results = {}
    for name, doc in docs.items():
        (tmp_path / name).write_text(json.dumps(doc))
        streamed = results[name] = read_exports([tmp_path / name], (), chunk_rows=3)
        whole = sources._parse_document(doc, name, ())
        assert sorted(zip(streamed.tickets["ticket_id"], streamed.tickets["locator"], streamed.tickets["account_id"],
                          strict=True)) == sorted((t["ticket_id"], t["locator"], t["account_id"]) for t in whole.tickets)
        assert sorted(zip(streamed.rejected["locator"], streamed.rejected["reason"], strict=True)) == \
            sorted((r["locator"], r["reason"]) for r in whole.rejections)
    zd = results["zd.json"]
    assert zd.rejected["locator"].tolist() == ["tickets[4]"] and "tickets[10]" in zd.tickets["locator"].tolist()
    assert sorted(results["wrapped.json"].tickets["locator"])[:2] == ["results[0]", "results[1]"]


def test_broken_json_document_is_one_rejected_file_with_jsons_reason(tmp_path):
    text = json.dumps({"tickets": [zd_ticket(i) for i in range(1, 9)]})
    (tmp_path / "cut.json").write_text(text[: len(text) // 2])
    result = read_exports([tmp_path / "cut.json"], (), chunk_rows=3)
    assert result.tickets.empty
    assert result.files["error"].iloc[0].startswith("invalid or truncated JSON: ")


def test_a_new_stage_removes_the_folders_of_runs_that_died(tmp_path, monkeypatch):
    """A run killed mid-ingest leaves its stage folder (a copy of the inbox's rows); the next stage
    removes it, and never one of a process that still runs."""
    import subprocess
    import sys
    import tempfile

    import psutil

    from ticket_intel.warehouse.staging import STAGE_PREFIX

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    started = round(psutil.Process(child.pid).create_time() * 1000)
    running = tmp_path / f"{STAGE_PREFIX}{child.pid}_{started}_abc"
    dead = tmp_path / f"{STAGE_PREFIX}{child.pid + 1_000_000}_{started}_abc"  # no such pid
    reused = tmp_path / f"{STAGE_PREFIX}{child.pid}_{started - 60_000}_abc"  # its pid, an older process
    for folder in (running, dead, reused):
        (folder / "tickets").mkdir(parents=True)
    try:
        stage = Stage()
        assert running.exists() and not dead.exists() and not reused.exists()
        assert stage.folder.parent == tmp_path and stage.folder.name.startswith(STAGE_PREFIX)
        stage.close()
        assert not stage.folder.exists()
    finally:
        child.kill()
        child.wait()


def test_the_inputs_read_beside_the_exports_commit_with_the_tickets_or_not_at_all(tmp_path):
    """The help center and releases go in the ingest's one transaction: a write that fails among
    them leaves the tickets as they were, and one that succeeds writes all of it."""
    import duckdb

    from ticket_intel.core.sources import stream_exports
    from ticket_intel.warehouse import Replace, open_warehouse
    from ticket_intel.warehouse.ingest import IngestWrite, write_ingest

    inbox = _inbox(tmp_path)
    scan, stage = scan_inbox(inbox), Stage()
    try:
        files = stage.resolve(stream_exports(scan.files, stage, (), scan.skipped, chunk_rows=CHUNK), None)
        weeks = sorted(stage.week_counts())
        releases = pd.DataFrame({"version": ["4.2.1"], "released_at": [datetime(2026, 11, 3)], "notes": ["fix"]})

        def write(inputs: list[Replace]) -> IngestWrite:
            return IngestWrite(weeks=weeks, read_files=files["source_file"].tolist(),
                               listed_files=files["source_file"].tolist(), stage=stage, run_id="r1",
                               files=files.assign(run_id="r1", in_inbox=True, out_of_range=0), inputs=inputs)

        with open_warehouse(tmp_path / "w.duckdb") as con:
            with pytest.raises(duckdb.Error):
                write_ingest(con, write([Replace("raw.releases", releases.assign(nonsense=1), "version", ["4.2.1"])]))
            assert con.execute("SELECT count(*) FROM raw.tickets").fetchone() == (0,)
            write_ingest(con, write([Replace("raw.releases", releases, "version", ["4.2.1"])]))
            assert con.execute("SELECT count(*) FROM raw.tickets").fetchone()[0] > 0
            assert con.execute("SELECT version FROM raw.releases").fetchall() == [("4.2.1",)]
    finally:
        stage.close()


def test_conversations_of_mapped_files_reach_the_stage_a_chunk_at_a_time(tmp_path):
    """A mapped file's conversations are assembled once every file is read, all at once: they are
    still handed on `chunk_rows` at a time (the staging database's buffer is bounded, and seven
    GitHub exports, 50,361 issues at once, overflowed it), and stage what one pass in memory gives."""
    from ticket_intel.core.sources import load_mappings, stream_exports
    from ticket_intel_tests.test_conversations import TWCS_HEADER

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rows = [[str(10 * i + k), author, inbound, f"Mon Oct 02 10:{i:02d}:00 +0000 2017", text, "", reply_to]
            for i in range(30) for k, author, inbound, text, reply_to in (
                (1, str(500 + i), "True", f"@AmazonHelp order {i} never arrived", ""),
                (2, "AmazonHelp", "False", f"@{500 + i} Sorry! Which order?", f"{10 * i + 1}.0"))]
    with (inbox / "twcs.csv").open("w", newline="") as f:
        csv.writer(f).writerows([TWCS_HEADER, *rows])
    mappings, scan, stage, sizes = load_mappings(), scan_inbox(inbox), Stage(), []
    adding = stage.add
    stage.add = lambda chunk: (sizes.append((len(chunk.tickets), len(chunk.replies))), adding(chunk))[1]
    try:
        stage.resolve(stream_exports(scan.files, stage, mappings, scan.skipped, chunk_rows=CHUNK), None)
        tickets = stage.rows("tickets", sorted(stage.week_counts()), "run").read_pandas()
    finally:
        stage.close()
    whole = read_exports(scan.files, mappings)
    assert len(whole.tickets) == 30 and len(whole.replies) == 30
    assert max(max(pair) for pair in sizes) == CHUNK and sum(t for t, _ in sizes) == 30
    assert _tickets(tickets) == _tickets(whole.tickets)
