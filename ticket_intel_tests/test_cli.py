"""The command-line contract scripts rely on: names, flags, --help, one-line errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ticket_intel.cli import main, parse_weeks

COMMANDS = [[], ["demo"], ["run"], ["themes"], ["export"], ["review"], ["review", "list"], ["review", "rename"],
            ["review", "confirm"], ["review", "merge"], ["review", "not-a-theme"], ["review", "undo"]]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a) or "main")
def test_help_on_every_command(args):
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_run_documents_its_flags():
    out = CliRunner().invoke(main, ["run", "--help"]).output
    for flag in ("--inbox", "--warehouse", "--weeks"):
        assert flag in out


def test_missing_warehouse_is_one_clear_line(tmp_path):
    result = CliRunner().invoke(main, ["themes", "--warehouse", str(tmp_path / "none.duckdb")])
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ticket-intel: error:")
    assert "warehouse not found" in lines[0]


def test_missing_inbox_is_one_clear_line(tmp_path):
    result = CliRunner().invoke(main, ["run", "--inbox", str(tmp_path / "nope"), "--warehouse", str(tmp_path / "w.duckdb")])
    assert result.exit_code != 0
    assert result.stderr.strip().splitlines() == [f"ticket-intel: error: inbox folder not found: {tmp_path / 'nope'}"]


def test_bad_weeks_value_is_rejected():
    import datetime as dt

    with pytest.raises(ValueError, match="--weeks"):
        parse_weeks("last-tuesday", [])
    assert parse_weeks("2026-11-18", []) == (dt.date(2026, 11, 16), dt.date(2026, 11, 16))
    assert parse_weeks("2026-11-02..2026-11-20", []) == (dt.date(2026, 11, 2), dt.date(2026, 11, 16))
    with pytest.raises(ValueError, match="ends before"):
        parse_weeks("2026-11-20..2026-11-02", [])


def test_themes_json_and_table(sample_run):
    runner = CliRunner()
    result = runner.invoke(main, ["themes", "--warehouse", str(sample_run.warehouse), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    themes = json.loads(result.stdout)
    assert themes and themes[0]["rank"] == 1 and themes[0]["week_start"] == sample_run.end
    assert {"label", "tickets", "customers", "trend", "paid_share", "impact", "example_ticket_ids"} <= set(themes[0])
    table = runner.invoke(main, ["themes", "--warehouse", str(sample_run.warehouse), "--week", sample_run.start])
    assert table.exit_code == 0 and "rank" in table.stdout


def test_duckdb_errors_are_one_line(tmp_path):
    """DuckDB 2.0 raises from the module `_duckdb`; the handler catches its base class."""
    broken = tmp_path / "w.duckdb"
    broken.write_bytes(b"not a database" * 100)
    result = CliRunner().invoke(main, ["themes", "--warehouse", str(broken)])
    assert result.exit_code == 1 and result.exception.__class__.__name__ == "SystemExit"
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("ticket-intel: error: warehouse: ")
