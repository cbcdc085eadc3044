"""Every benchmark that reads ../shared skips cleanly, with one line, on a clone without it."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from bench import common

# (module, its entry point, arguments); the benchmarks that read nothing under ../shared are left out.
BENCHMARKS = [
    ("bench.adjacent", "report", ()), ("bench.alerts", "main", ()), ("bench.embed", "main", ()),
    ("bench.entity_themes", "main", ()), ("bench.fix_status", "main", ()), ("bench.help_center", "main", ()),
    ("bench.helpdesk_export", "main", ("--out", "unused.json")),
    ("bench.language", "main", ()), ("bench.opening_turn", "main", ()), ("bench.parse_cache", "main", ()), ("bench.pipeline", "main", ()),
    ("bench.redaction", "main", ()), ("bench.retrieval", "main", ()), ("bench.scale", "main", ()),
    ("bench.serve", "main", ()), ("bench.signal_severity", "main", ()), ("bench.summaries", "main", ()),
    ("bench.synthetic", "main", ()), ("bench.theme_stability", "main", ()), ("bench.triage", "main", ()),
    ("bench.message_shapes", "main", ()), ("bench.rerun_stability", "main", ()),
    ("bench.labels.sample", "main", ("--out", "unused.csv")), ("bench.labels.agreement", "main", ()),
]


def _without_shared(module: object, missing: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point every path the module holds under ../shared/datasets into `missing`."""
    for name, value in vars(module).items():
        if isinstance(value, Path) and value.is_relative_to(common.SHARED):
            monkeypatch.setattr(module, name, missing / value.relative_to(common.SHARED))


@pytest.mark.parametrize(("name", "entry", "args"), BENCHMARKS, ids=[b[0] for b in BENCHMARKS])
def test_benchmark_skips_without_shared(name: str, entry: str, args: tuple[str, ...], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    module = importlib.import_module(name)
    missing = tmp_path / "shared" / "datasets"
    _without_shared(module, missing, monkeypatch)
    monkeypatch.setattr(sys, "argv", [name, *args])
    monkeypatch.chdir(tmp_path)
    assert getattr(module, entry)() in (None, 0)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("skipped: ") and str(missing) in out[0]
    assert not (tmp_path / "unused.csv").exists() and not (tmp_path / "unused.json").exists()
