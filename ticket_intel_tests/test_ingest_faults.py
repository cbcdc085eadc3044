"""Bad files stay bad files (issue 12.6), each fault injected for real: a file the reading process may
not open, symlink loops and symlinked folders, and a second process appending to an export while it
is read. One bad file is one rejected file with its reason; every other file is read, and every row
of the bytes read is counted once."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ticket_intel import PROJECT_ROOT
from ticket_intel.core.sources import read_inbox, scan_inbox
from ticket_intel.core.sources.mapped import load_mappings
from ticket_intel_tests.test_bad_inputs import fd_csv, fd_row

PYTHON = sys.executable
HEADER = fd_csv([fd_row("1")]).splitlines()[0]


def _good_inbox(root: Path) -> Path:
    inbox = root / "inbox"
    inbox.mkdir()
    for name in ("a.csv", "b.csv"):
        (inbox / name).write_text(fd_csv([fd_row(), fd_row()]))
    return inbox


def _unprivileged(code: str) -> subprocess.CompletedProcess:
    """Run `code` in a Python process that permissions bind: as root, with every capability dropped
    (no CAP_DAC_OVERRIDE), so a mode-000 file really cannot be opened."""
    prefix = ["setpriv", "--inh-caps=-all", "--bounding-set=-all"] if os.geteuid() == 0 else []
    if prefix and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot drop the permission override")
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run([*prefix, PYTHON, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=env, timeout=300, check=False)


def test_unreadable_file_is_one_rejected_file_for_ingest_cli_and_sensor(tmp_path):
    inbox = _good_inbox(tmp_path)
    locked = inbox / "locked.csv"
    locked.write_text(fd_csv([fd_row()]))
    locked.chmod(0)
    code = f"""
        import json
        from pathlib import Path
        import dagster as dg
        from ticket_intel import runner
        from ticket_intel.core.sources import read_inbox
        from ticket_intel.defs.inbox_sensor import inbox_sensor
        from ticket_intel.defs.resources import IngestConfig, RankingConfig, TriageConfig, Warehouse

        inbox = Path({str(inbox)!r})
        try:
            open(inbox / "locked.csv").close()
            print(json.dumps({{"privileged": True}}))
            raise SystemExit(0)
        except PermissionError:
            pass
        result = read_inbox(inbox)
        tickets, files = runner.inbox_tickets(inbox)
        with dg.instance_for_test() as instance:
            with dg.build_sensor_context(instance=instance, resources={{
                    "ingest": IngestConfig(inbox=str(inbox)), "ranking": RankingConfig(), "triage_config": TriageConfig(),
                    "warehouse": Warehouse(database=str(inbox.parent / "w.duckdb"))}}) as ctx:
                requests = inbox_sensor(ctx).run_requests
        print(json.dumps({{
            "errors": {{Path(f).name: e for f, e in zip(result.files.source_file, result.files.error) if e}},
            "accepted": int(result.files.accepted.sum()), "cli_tickets": len(tickets),
            "cli_errors": [e for e in files.error if e], "sensor_runs": len(requests),
        }}))
    """
    done = _unprivileged(code)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert "privileged" not in out, "the reader could still open a mode-000 file"
    assert out["errors"] == {"locked.csv": "cannot read the file: Permission denied"}
    assert out["accepted"] == 4 and out["cli_tickets"] == 4
    assert out["cli_errors"] == ["cannot read the file: Permission denied"]
    assert out["sensor_runs"] == 1  # the readable files' weeks share a run; the locked one is logged, not fatal


def test_symlink_loops_and_symlinked_folders_are_reported(tmp_path):
    inbox = _good_inbox(tmp_path)
    (inbox / "self.csv").symlink_to("self.csv")  # a link to itself: ELOOP
    (inbox / "ping.csv").symlink_to("pong.csv")
    (inbox / "pong.csv").symlink_to("ping.csv")
    (inbox / "broken.csv").symlink_to(tmp_path / "nowhere.csv")
    (inbox / "sub").mkdir()
    (inbox / "sub" / "up").symlink_to(inbox, target_is_directory=True)  # a folder loop
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "c.csv").write_text(fd_csv([fd_row()]))
    (inbox / "linked").symlink_to(outside, target_is_directory=True)  # a symlinked folder: followed once
    (inbox / "linked_again").symlink_to(outside, target_is_directory=True)
    (inbox / "tickets.xls").write_bytes(b"\xd0\xcf\x11\xe0")  # an export format that is not read: said so
    (inbox / "notes.md").write_text("not an export")  # anything else: not a ticket file at all

    scan = scan_inbox(inbox)
    assert [p.relative_to(inbox).as_posix() for p in scan.files] == ["a.csv", "b.csv", "linked/c.csv"]
    reasons = {Path(k).relative_to(inbox).as_posix(): v for k, v in scan.skipped.items()}
    assert set(reasons) == {"self.csv", "ping.csv", "pong.csv", "broken.csv", "sub/up", "linked_again", "tickets.xls"}
    assert reasons["tickets.xls"] == "not read: an Excel 97-2003 workbook: save it as .xlsx or CSV"
    assert all("Too many levels of symbolic links" in reasons[n] for n in ("self.csv", "ping.csv", "pong.csv"))
    assert "broken symlink" in reasons["broken.csv"]
    assert "already read" in reasons["sub/up"] and "already read" in reasons["linked_again"]

    result = read_inbox(inbox)
    files = result.files.set_index(result.files["source_file"].map(lambda p: Path(p).relative_to(inbox).as_posix()))
    assert files.loc[["a.csv", "b.csv", "linked/c.csv"], "accepted"].tolist() == [2, 2, 1]
    assert files.loc[list(reasons), "error"].notna().all()
    assert len(result.rejected[result.rejected["locator"] == "file"]) == len(reasons)


APPENDER = """
import sys, time
path, rows, pause = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "pause"
def row(i):
    return f'{i},Help,My card was declined {i},Open,Low,Email,2026-09-01 10:00:00,card,c{i},Acme\\n'
with open(path, "a", buffering=1) as fh:
    for i in range(rows):
        line = row(10_000 + i)
        half = len(line) // 3  # cut inside the row: the customer and company fields are not written yet
        fh.write(line[:half]); fh.flush()
        if pause and i == rows - 1:
            print("half", flush=True)
            sys.stdin.readline()
        else:
            time.sleep(0.001)
        fh.write(line[half:]); fh.flush()
"""


def _appender(path: Path, rows: int, pause: bool) -> subprocess.Popen:
    return subprocess.Popen([PYTHON, "-c", APPENDER, str(path), str(rows), "pause" if pause else "go"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def test_row_cut_in_the_middle_by_a_writer_is_rejected(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    export = inbox / "growing.csv"
    export.write_text(HEADER + "\n")
    writer = _appender(export, 5, pause=True)
    try:
        assert writer.stdout.readline().strip() == "half"  # the writer stopped inside its last row
        result = read_inbox(inbox)
    finally:
        writer.communicate("go\n", timeout=30)
    entry = result.files.iloc[0]
    assert (entry.accepted, entry.rejected) == (4, 1)
    assert result.tickets["customer_id"].notna().all()
    assert "cut short" in result.rejected["reason"].iloc[0]
    # The content hash is that of the bytes read: a prefix of the file as it is now.
    assert hashlib.sha256(export.read_bytes()[:entry.file_bytes]).hexdigest() == entry.file_hash


def test_a_value_holding_the_delimiter_unquoted_is_rejected_not_cut(tmp_path):
    """"Hello, I found my card" unquoted in the last column read as "Hello" before: the row is rejected
    with its whole text; a trailing empty field (a trailing comma) is no value and passes."""
    (tmp_path / "plain.csv").write_text("id,created,customer,text\n"
                                        "u1,2026-09-01 10:00:00,c1,Hello, I found the card I misplaced\n"
                                        "u2,2026-09-01 11:00:00,c2,My card was declined,\n"
                                        "u3,2026-09-01 12:00:00,c3,Where is my refund\n")
    mapping = tmp_path / "mappings"
    mapping.mkdir()
    (mapping / "plain.yaml").write_text("name: plain\nsource: plain\ndetect: [id, created, customer, text]\n"
                                        "columns: {ticket_id: id, created_at: created, customer_id: customer, message: text}\n")
    result = read_inbox(tmp_path, load_mappings(mapping))
    assert sorted(result.tickets["message"]) == ["My card was declined", "Where is my refund"]
    bad = result.rejected.iloc[0]
    assert (bad["locator"], bad["reason"]) == ("line 2", "5 fields where the header names 4: a value holding the "
                                               "delimiter without quotes?")
    assert bad["record"] == "u1,2026-09-01 10:00:00,c1,Hello, I found the card I misplaced\n"


def test_a_quote_left_open_is_one_rejected_record_and_the_rows_after_it_are_read(tmp_path):
    """A quote opened on line 3 and never closed ran its message into line 4's row, which vanished from
    every count: both lines are now one rejection with their text, and line 5 on is read as before."""
    rows = [fd_row(str(i), text=f"Question {i}, please") for i in range(1, 6)]  # quoted: they hold a comma
    lines = fd_csv(rows).splitlines(True)
    lines[2] = lines[2].replace('"Question 2, please"', '"Question 2 please')  # the quote is never closed
    (tmp_path / "fd.csv").write_text("".join(lines))
    result = read_inbox(tmp_path)
    assert sorted(result.tickets["message"]) == ["Question 1, please", "Question 4, please", "Question 5, please"]
    bad = result.rejected.iloc[0]
    assert bad["locator"] == "line 3" and bad["reason"].startswith("malformed CSV on lines 3-4: ")
    assert "Question 2" in bad["record"] and "Question 3" in bad["record"]
    entry = result.files.iloc[0]
    assert (entry.accepted, entry.rejected) == (3, 1)


def _data_lines(prefix: bytes) -> int:
    """Rows in the bytes read: complete lines after the header, plus a half-written last one."""
    return prefix.count(b"\n") - 1 + (0 if prefix.endswith(b"\n") else 1)


def test_every_row_of_a_file_read_while_appended_is_counted_once(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    export = inbox / "growing.csv"
    export.write_text(HEADER + "\n")
    writer = _appender(export, 3000, pause=False)
    reads = []
    try:
        while writer.poll() is None and len(reads) < 8:
            reads.append(read_inbox(inbox))
            time.sleep(0.02)
    finally:
        writer.communicate(timeout=120)
    final = export.read_bytes()
    assert len(reads) >= 2
    for result in reads:
        entry = result.files.iloc[0]
        prefix = final[:entry.file_bytes]
        assert hashlib.sha256(prefix).hexdigest() == entry.file_hash
        rows = result.rejected[result.rejected["locator"] != "file"]  # a header-only read is a file error
        assert entry.accepted + len(rows) == _data_lines(prefix)
        assert len(result.tickets) == entry.accepted and result.tickets["customer_id"].notna().all()
        assert rows["reason"].str.contains("cut short|incomplete").all()
    assert sum(r.files.iloc[0].accepted for r in reads) > 0


def _outcome(result) -> tuple:
    tickets = result.tickets[["ticket_id", "locator", "message", "followups", "customer_id"]]
    return (tickets.sort_values("ticket_id").values.tolist(),
            sorted(zip(result.rejected["locator"], result.rejected["reason"], strict=True)),
            sorted(zip(result.replies["ticket_id"], result.replies["reply_id"], strict=True)),
            result.files[["accepted", "rejected", "skipped"]].values.tolist())


def test_csv_chunks_join_up_exactly(tmp_path, monkeypatch):
    """A CSV parsed 3 rows at a time gives what one pass gives: conversations across chunk edges,
    cut rows, physical-line locators."""
    from ticket_intel.core import sources
    from ticket_intel_tests.test_conversations import TWCS_ROWS, _write_twcs

    twcs = _write_twcs(tmp_path / "tweets.csv", TWCS_ROWS)
    rows = fd_csv([fd_row(text="line one\nline two"), fd_row(), fd_row(), fd_row(), fd_row()]).splitlines(True)
    fd = tmp_path / "fd.csv"
    fd.write_text("".join([*rows[:4], "77,Help,cut here\n", *rows[4:]]))
    whole = [_outcome(read_inbox(tmp_path))]
    monkeypatch.setattr(sources, "CSV_CHUNK", 3)
    assert [_outcome(read_inbox(tmp_path))] == whole
    assert ("line 5", "row cut short: 3 of the header's 10 fields") in whole[0][1]
    assert twcs.exists() and whole[0][3] == [[5, 1, 0], [3, 0, 8]]


def test_large_csv_every_row_counted_across_chunks(tmp_path):
    """A real file of several chunks: every row lands once, each with its own physical line."""
    from ticket_intel.core import sources

    n = sources.CSV_CHUNK * 2 + 123
    body = [f"{i},Help,Card declined {i},Open,Low,Email,2026-09-01 10:00:00,card,c{i},Acme\n" for i in range(n)]
    body[sources.CSV_CHUNK] = "cut,short\n"  # the first row of the second chunk
    (tmp_path / "big.csv").write_text(HEADER + "\n" + "".join(body))
    result = read_inbox(tmp_path)
    assert (result.files.accepted.iloc[0], result.files.rejected.iloc[0]) == (n - 1, 1)
    assert result.rejected["locator"].tolist() == [f"line {sources.CSV_CHUNK + 2}"]
    lines = result.tickets["locator"].str.removeprefix("line ").astype(int)
    assert sorted(lines) == [i + 2 for i in range(n) if i != sources.CSV_CHUNK]
    assert (result.tickets["source_id"].astype(int) + 2 == lines).all()


def test_parse_once_hands_the_staged_inbox_to_the_next_reader_of_the_same_bytes(tmp_path, monkeypatch):
    """Inside parse_once the CLI's week discovery and the run share one staged parse of the inbox, as long
    as every file keeps its content hash; a changed file means a fresh parse."""
    from ticket_intel.core import sources
    from ticket_intel.warehouse import staging

    inbox = _good_inbox(tmp_path)
    calls = []
    real = sources._parse_file
    monkeypatch.setattr(sources, "_parse_file", lambda name, *a: calls.append(name) or real(name, *a))
    with staging.parse_once():
        with staging.staged_inbox(inbox, ()) as first:
            first_files = first.stage.resolve(first.files, None)
        with staging.staged_inbox(inbox, ()) as second:
            assert second is first and calls == ["a.csv", "b.csv"]
        (inbox / "b.csv").write_text(fd_csv([fd_row()]))  # changed bytes: parsed anew
        with staging.staged_inbox(inbox, ()) as third:
            third_files = third.stage.resolve(third.files, None)
        folder = third.stage.folder
    assert calls == ["a.csv", "b.csv", "a.csv", "b.csv"]
    assert first_files["accepted"].tolist() == [2, 2] and third_files["accepted"].tolist() == [2, 1]
    assert not folder.exists()  # the staging database goes with the block
