"""bench.label_churn: labels replayed on a warehouse's stored clusters, week after week."""

from __future__ import annotations

import duckdb

from bench import label_churn
from ticket_intel_tests.conftest import PipelineRun


def test_the_sample_s_labels_replay_as_stored_and_most_stay_from_week_to_week(sample_run: PipelineRun, capsys):
    """The replay measures a labelling change on the same clusters only if, with the code that wrote
    them, it gives every stored label back."""
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        figures = label_churn.figures(con)
    assert figures["replayed_differ_from_stored"] == 0
    assert figures["consecutive_pairs"] > 50 and figures["label_changed"] < figures["consecutive_pairs"] / 2
    label_churn.main([str(sample_run.warehouse)])
    assert "label_changed" in capsys.readouterr().out
