"""bench.alert_replay replays a warehouse's weeks under the spike rule a run resolves: a team's
TICKET_INTEL_SPIKE_* settings, or the defaults where none is set."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import alert_replay


def _spikes(capsys: pytest.CaptureFixture[str], warehouse: Path, week: str) -> list[list[str]]:
    alert_replay.main([str(warehouse)])
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    return [r for r in rows if r[:2] == [week, "volume_spike"]]


@pytest.mark.e2e
def test_a_replay_takes_the_configured_spike_rule(sample_run, planted, capsys, monkeypatch):
    week = planted["spike"]["week_start"]
    spikes = _spikes(capsys, sample_run.warehouse, week)
    assert spikes, "the planted spike replays under the defaults"
    monkeypatch.setenv("TICKET_INTEL_SPIKE_MIN_COUNT", str(max(int(r[4]) for r in spikes) + 1))
    assert _spikes(capsys, sample_run.warehouse, week) == []
