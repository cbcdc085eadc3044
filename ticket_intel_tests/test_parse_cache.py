"""The parse cache (issue 16): a file whose bytes, mappings, accounts and parser are unchanged is never
parsed again, and a staged inbox is the same — tickets, replies, rejections, per-file counts, weeks —
whether its files were parsed or sent from the cache; changed, broken, removed and thread files too."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from ticket_intel.core import sources
from ticket_intel.core.sources import load_mappings, parse_cache
from ticket_intel.warehouse import staging
from ticket_intel_tests.conftest import SAMPLE_DIR
from ticket_intel_tests.test_bad_inputs import fd_csv, fd_row
from ticket_intel_tests.test_ingest_stream import _inbox as mixed_inbox

EARLIEST = datetime(2026, 9, 7)  # some of the mixed inbox's tickets are before it


def _stage(inbox: Path, cache: Path | None, mappings=(), earliest: datetime | None = EARLIEST) -> dict[str, pd.DataFrame]:
    """What a run reads from the staged inbox, in an order that does not depend on how it was staged."""
    with staging.staged_inbox(inbox, mappings, cache) as staged:
        stage = staged.stage
        out = {"files": stage.resolve(staged.files, earliest), "per_week": stage.file_week_counts()}
        weeks = sorted(stage.week_counts())
        for kind in ("tickets", "replies", "rejected"):
            frame = stage.rows(kind, weeks, "run").read_pandas().astype(str)
            out[kind] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out


def _same(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    for name, frame in left.items():
        pd.testing.assert_frame_equal(frame, right[name], obj=name)


@pytest.fixture
def parsed(monkeypatch) -> list[str]:
    """The names of the files actually parsed."""
    calls: list[str] = []
    real = sources._parse_file
    monkeypatch.setattr(sources, "_parse_file", lambda name, *a: calls.append(name) or real(name, *a))
    return calls


def _entries(cache: Path) -> list[Path]:
    return [p for p in cache.glob("*/*") if (p / parse_cache.ENTRY_FILE).is_file()]


def test_the_sample_inbox_stages_the_same_from_the_cache_and_a_second_staging_parses_nothing(tmp_path, parsed):
    inbox, cache = tmp_path / "inbox", tmp_path / "cache"
    shutil.copytree(SAMPLE_DIR, inbox)
    plain = _stage(inbox, None, load_mappings(), None)
    cold = _stage(inbox, cache, load_mappings(), None)
    parsed.clear()
    warm = _stage(inbox, cache, load_mappings(), None)
    assert parsed == [] and len(_entries(cache)) == len(sources.list_exports(inbox)) - 1  # accounts: not an export
    assert len(plain["tickets"]) > 0 and plain["tickets"]["plan"].ne("None").any()  # accounts joined
    _same(plain, cold)
    _same(plain, warm)


def test_a_mixed_inbox_with_a_re_export_and_a_broken_file_stages_the_same_and_the_broken_file_is_parsed_again(
        tmp_path, parsed):
    inbox, cache = mixed_inbox(tmp_path), tmp_path / "cache"
    (inbox / "d_broken.json").write_text('{"tickets": [{"id": 1, "subject": ')  # a file-level error
    plain = _stage(inbox, None)
    assert plain["rejected"]["reason"].str.startswith("superseded").any()
    assert plain["rejected"]["reason"].str.contains("before the first weekly partition").any()
    _stage(inbox, cache)
    parsed.clear()
    _same(plain, _stage(inbox, cache))
    assert parsed == ["d_broken.json"]  # an unreadable file is never kept: it may be readable next run
    assert len(_entries(cache)) == 3


def _kept_tickets(cache: Path) -> dict[str, set[str]]:
    """Per file kept in the cache, the ids of its parsed tickets."""
    out = {}
    for entry in _entries(cache):
        meta = json.loads((entry / parse_cache.ENTRY_FILE).read_text())["meta"]
        parts = [entry / name for table, name, _ in meta["parts"] if table == "tickets"]
        out[Path(meta["entry"]["source_file"]).name] = set(pd.concat(map(pd.read_parquet, parts))["ticket_id"])
    return out


def test_an_erasure_removes_the_kept_parse_of_the_files_that_held_the_tickets_and_no_other(tmp_path, parsed):
    """`erase` removed the whole parse cache, so the next run parsed the whole inbox again; it removes
    the entries whose parse holds an erased ticket (a re-exported one is in two files) or a ticket of
    an erased customer, and the next staging parses those files only."""
    inbox, cache = mixed_inbox(tmp_path), tmp_path / "cache"
    plain = _stage(inbox, cache)
    kept = _kept_tickets(cache)
    again = sorted(kept["b_again.csv"])[0]  # also in a_first.csv
    customer = plain["tickets"].set_index("ticket_id")["customer_id"][sorted(kept["c_zendesk.jsonl"])[0]]
    assert staging.forget_tickets(cache, ["nobody:1"], ["nobody"]) == [] and len(_entries(cache)) == 3

    gone = staging.forget_tickets(cache, [again], [])
    assert sorted(Path(f).name for f in gone) == ["a_first.csv", "b_again.csv"]
    assert list(_kept_tickets(cache)) == ["c_zendesk.jsonl"]
    parsed.clear()
    _same(plain, _stage(inbox, cache))
    assert sorted(parsed) == ["a_first.csv", "b_again.csv"]  # the Zendesk export is read from the cache
    assert [Path(f).name for f in staging.forget_tickets(cache, [], [customer])] == ["c_zendesk.jsonl"]
    (cache / next(cache.iterdir()).name / ".partial-x").mkdir()  # a killed writer's half: none can tell
    assert staging.forget_tickets(cache, ["nobody:1"], []) == [".partial-x"] and len(_entries(cache)) == 2


def test_a_changed_file_is_parsed_again_and_a_removed_file_leaves_the_cache(tmp_path, parsed):
    inbox, cache = mixed_inbox(tmp_path), tmp_path / "cache"
    _stage(inbox, cache)
    # a_first grows, and now ends with the tickets b_again re-exports: b_again, from the cache, must still
    # follow it (its rows' order moved past a_first's new rows), so its versions still win.
    (inbox / "a_first.csv").write_text(fd_csv([fd_row(str(i), text=f"Card declined {i}", created="2026-09-15 10:00:00")
                                               for i in [*range(20, 80), *range(10, 20)]]))
    parsed.clear()
    changed = _stage(inbox, cache)
    assert parsed == ["a_first.csv"]
    _same(_stage(inbox, None), changed)
    assert changed["tickets"]["message"].str.endswith("(edited)").sum() == 5
    (inbox / "b_again.csv").unlink()
    parsed.clear()
    removed = _stage(inbox, cache)
    assert parsed == [] and len(_entries(cache)) == 2
    _same(_stage(inbox, None), removed)


def test_another_mapping_or_accounts_file_misses(tmp_path, parsed):
    inbox, cache = mixed_inbox(tmp_path), tmp_path / "cache"
    _stage(inbox, cache)
    parsed.clear()
    _stage(inbox, cache, load_mappings())
    assert sorted(parsed) == ["a_first.csv", "b_again.csv", "c_zendesk.jsonl"]
    (inbox / "accounts.csv").write_text("account_id,plan\nAcme,enterprise\n")
    parsed.clear()
    _stage(inbox, cache, load_mappings())
    assert sorted(parsed) == ["a_first.csv", "b_again.csv", "c_zendesk.jsonl"]


@pytest.mark.parametrize("damage", ["part", "entry", "count", "missing part"])
def test_a_damaged_entry_is_a_miss_not_an_error(tmp_path, parsed, damage):
    inbox, cache = mixed_inbox(tmp_path), tmp_path / "cache"
    plain = _stage(inbox, cache)
    meta_path = next(p / parse_cache.ENTRY_FILE for p in _entries(cache)
                     if "a_first.csv" in (p / parse_cache.ENTRY_FILE).read_text())
    stored = json.loads(meta_path.read_text())
    part = meta_path.parent / stored["meta"]["parts"][0][1]
    if damage == "part":
        part.unlink()  # a hard link: the new file does not change the stage's own
        part.write_bytes(b"PAR1 not what was kept")
    elif damage == "entry":
        meta_path.write_text(meta_path.read_text()[:40])
    elif damage == "count":  # still JSON, a number changed
        stored["meta"]["entry"]["skipped"] += 1
        meta_path.write_text(json.dumps(stored))
    else:
        part.unlink()
    parsed.clear()
    _same(plain, _stage(inbox, cache))
    assert parsed == ["a_first.csv"]
    parsed.clear()
    _stage(inbox, cache)
    assert parsed == []  # kept again, whole


def test_a_file_whose_conversations_wait_for_other_files_is_not_kept(tmp_path, parsed):
    inbox, cache = tmp_path / "inbox", tmp_path / "cache"
    inbox.mkdir()
    header = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
    (inbox / "tweets.csv").write_text(
        header + "1,u1,True,Tue Sep 15 10:00:00 +0000 2026,@Acme my card was declined,2,\n"
        "2,Acme,False,Tue Sep 15 10:05:00 +0000 2026,@u1 sorry to hear that,,1\n")
    (inbox / "fd.csv").write_text(fd_csv([fd_row("7", created="2026-09-15 10:00:00")]))
    plain = _stage(inbox, None, load_mappings())
    assert len(plain["tickets"]) == 2 and len(plain["replies"]) == 1
    _stage(inbox, cache, load_mappings())
    parsed.clear()
    _same(plain, _stage(inbox, cache, load_mappings()))
    assert parsed == ["tweets.csv"]


def test_a_mapped_file_whose_rows_are_each_a_ticket_is_kept(tmp_path, parsed):
    """A year of weekly GitHub-issue drops (one row, one ticket: no thread) was parsed whole every run,
    no parse-cache folder ever made: every mapped row waited as a message for the other files, as a
    thread's do. A ticket a later drop exports again, edited, is resolved by its id across files."""
    inbox, cache = tmp_path / "inbox", tmp_path / "cache"
    header = "number,title,created_at,creator_name,author_association,state\n"
    for week, rows in (("2022-W01", ["1,Zones reset,2022-01-04T10:00:00Z,ann,NONE,open",
                                     "2,Migrated,2022-01-05T10:00:00Z,swift-ci,NONE,open"]),  # a bot's: skipped
                       ("2022-W02", ["1,Zones reset on wake,2022-01-04T10:00:00Z,ann,NONE,open",
                                     "3,Run crashes,2022-01-11T09:00:00Z,bo,NONE,open"])):
        (inbox / week).mkdir(parents=True)
        (inbox / week / "pt.csv").write_text(header + "\n".join(rows) + "\n")
    plain = _stage(inbox, None, load_mappings(), None)
    assert sorted(plain["tickets"]["message"]) == ["Run crashes", "Zones reset on wake"]
    assert plain["rejected"]["reason"].str.startswith("superseded").sum() == 1
    assert plain["files"]["skipped"].tolist() == [1, 0]
    _same(plain, _stage(inbox, cache, load_mappings(), None))
    parsed.clear()
    _same(plain, _stage(inbox, cache, load_mappings(), None))
    assert parsed == [] and len(_entries(cache)) == 2


def test_a_file_with_a_ticket_dated_in_the_future_is_parsed_again_once_its_time_has_come(tmp_path, parsed, monkeypatch):
    """Time review: "created_at … is in the future" was kept with the parse, so the ticket stayed
    rejected after its time had passed (a clock behind, a day and month read the other way)."""
    from ticket_intel.core.sources import base

    inbox, cache = tmp_path / "inbox", tmp_path / "cache"
    inbox.mkdir()
    (inbox / "now.csv").write_text(fd_csv([fd_row("1", created="2026-11-20 10:00:00")]))
    (inbox / "ahead.csv").write_text(fd_csv([fd_row("2", created="2026-11-20 10:00:00"),
                                             fd_row("3", created="2026-11-25 12:00:00")]))
    real = base.parse_timestamp
    monkeypatch.setattr(base, "parse_timestamp", lambda v, now=None: real(v, now or datetime(2026, 11, 23)))
    early = _stage(inbox, cache, earliest=None)
    assert early["rejected"]["reason"].tolist() == ["created_at 2026-11-25 12:00 is in the future"]
    assert len(_entries(cache)) == 1  # now.csv only
    monkeypatch.setattr(base, "parse_timestamp", lambda v, now=None: real(v, now or datetime(2026, 11, 30)))
    parsed.clear()
    later = _stage(inbox, cache, earliest=None)
    assert parsed == ["ahead.csv"] and sorted(later["tickets"]["ticket_id"]) == ["freshdesk:1", "freshdesk:2", "freshdesk:3"]


def test_a_run_killed_while_writing_leaves_no_entry(tmp_path):
    cache = parse_cache.ParseCache(tmp_path / "cache")
    with pytest.raises(KeyboardInterrupt), cache.writing("k") as temp:
        (temp / "tickets.parquet").write_bytes(b"PAR1")
        raise KeyboardInterrupt
    assert cache.entry("k") is None and list(cache.folder.iterdir()) == []


def test_the_parser_is_named_by_every_module_the_parse_imports():
    names = {p.relative_to(Path(sources.__file__).parents[3]).as_posix() for p in parse_cache.parser_files()}
    assert {"ticket_intel/core/sources/mapped.py", "ticket_intel/core/normalize.py", "ticket_intel/core/language.py",
            "ticket_intel/core/weeks.py", "ticket_intel/warehouse/staging.py", "ticket_intel/warehouse/target.py",
            "ticket_intel/warehouse/__init__.py"} <= names


def test_code_the_parse_never_calls_is_no_part_of_the_parser():
    """`warehouse/__init__` imports the week's context (clustering, summaries), and the inbox listing
    once imported the product inputs (releases, alerts): a change to any of them re-parsed every export."""
    names = {p.name for p in parse_cache.parser_files()}
    assert not names & {"subgroups.py", "summarize.py", "cluster.py", "context.py", "anomalies.py", "releases.py",
                        "product_inputs.py", "triage.py"}


def test_from_a_package_importing_a_module_names_the_module_and_not_the_package(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("from ticket_intel.warehouse import target\nfrom ticket_intel.core.weeks import monday\n")
    assert parse_cache._imports(source) == {"ticket_intel.warehouse.target", "ticket_intel.core.weeks"}


def test_a_change_to_a_parse_module_or_an_installed_version_changes_the_parser_digest(tmp_path, monkeypatch):
    assert any(name.startswith("pandas-") for name in parse_cache.installed())
    module = tmp_path / "module.py"
    module.write_text("LIMIT = 1\n")
    monkeypatch.setattr(parse_cache, "parser_files", lambda: [module])
    digests = []
    for change in (lambda: None, lambda: module.write_text("LIMIT = 2\n"),
                   lambda: monkeypatch.setattr(parse_cache, "installed", lambda: ["pandas-0.0.1.dist-info"])):
        change()
        parse_cache.parser_digest.cache_clear()
        digests.append(parse_cache.parser_digest())
    parse_cache.parser_digest.cache_clear()
    assert len(set(digests)) == 3


def test_processes_of_one_install_name_it_alike_wherever_they_start(tmp_path):
    """The UI's code server has the project folder, holding `ticket_intel.egg-info`, on its path, and
    `ticket-intel` does not: both must record the same code digest and parse cache keys, or each would
    re-run every week the other ran and re-parse every export the other parsed."""
    from ticket_intel_tests.processes import child_env, python

    (tmp_path / "ticket_intel.egg-info").mkdir()  # `python -c` puts its working folder on the path
    code = ("from ticket_intel.core.sources import parse_cache; from ticket_intel.run_inputs import code_digest; "
            "print(parse_cache.parser_digest(), code_digest())")
    env = child_env()
    env.pop("PYTHONPATH")  # the installed package, as the command line imports it
    outputs = []
    for cwd in (tmp_path, tmp_path.parent):
        out, err = python(code, env, cwd=cwd).communicate(timeout=120)
        assert out.strip(), err[-2000:]
        outputs.append(out.strip())
    assert outputs[0] == outputs[1]


def test_a_cache_folder_that_cannot_be_written_only_costs_the_parse(tmp_path, parsed):
    inbox, cache = mixed_inbox(tmp_path), tmp_path / "cache"
    cache.write_text("a file where the folder should be")
    plain = _stage(inbox, None)
    _same(plain, _stage(inbox, cache))
    parsed.clear()
    _same(plain, _stage(inbox, cache))
    assert len(parsed) == 3


def test_the_cache_sits_beside_the_warehouse_unless_configured():
    from ticket_intel import settings

    assert settings.parse_cache_dir("", "data/x.duckdb") == Path("data/x_parse_cache")
    assert settings.parse_cache_dir("/srv/cache", "data/x.duckdb") == Path("/srv/cache")
    assert settings.parse_cache_dir("", "ducklake:postgres:dbname=x") is None


def test_raw_tickets_keeps_its_parse_beside_the_warehouse_and_the_next_run_reads_it(tmp_path, monkeypatch, parsed):
    import dagster as dg

    from ticket_intel.defs.ingest import raw_tickets
    from ticket_intel.defs.resources import build_resources

    inbox = mixed_inbox(tmp_path)
    monkeypatch.setenv("TICKET_INTEL_INBOX", str(inbox))
    monkeypatch.setenv("TICKET_INTEL_WAREHOUSE", str(tmp_path / "wh.duckdb"))
    monkeypatch.delenv("TICKET_INTEL_PARSE_CACHE_DIR", raising=False)
    metadata = []
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        for _ in range(2):
            parsed.clear()
            result = dg.materialize([raw_tickets], partition_key="2026-09-07", resources=build_resources(),
                                    instance=instance)
            metadata.append({k: v.value for k, v in result.asset_materializations_for_node("raw_tickets")[0]
                             .metadata.items() if k != "files"})
    assert parsed == [] and metadata[0] == metadata[1] and metadata[0]["tickets"] > 0
    assert len(_entries(tmp_path / "wh_parse_cache")) == 3
