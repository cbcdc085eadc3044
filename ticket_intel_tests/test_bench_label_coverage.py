"""bench.label_coverage: whether a theme's lead terms are in the tickets it counts, on a real run's warehouse."""

from __future__ import annotations

import duckdb

from bench import label_coverage
from ticket_intel_tests.conftest import PipelineRun


def test_a_text_is_described_by_a_term_or_a_variant_of_each_of_its_words():
    assert label_coverage.described("My card was declined twice", ["payment", "card declined"])
    assert label_coverage.described("Transfers are pending", ["transfer"])  # a variant
    assert not label_coverage.described("Where is my parcel?", ["card declined", "refund"])
    assert not label_coverage.described(None, ["card"])


def test_the_sample_s_themes_share_their_words_and_none_is_most_of_a_window(sample_run: PipelineRun, capsys):
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        figures = label_coverage.figures(con)
    assert figures["ranked_theme_weeks"] > 50 and figures["described_share"] > 0.8
    assert figures["largest_theme_max"] < 0.5
    label_coverage.main([str(sample_run.warehouse)])
    assert "described_share" in capsys.readouterr().out
