"""bench.label_coverage: whether a theme's lead terms are in the tickets it counts, on a real run's warehouse."""

from __future__ import annotations

import duckdb

from bench import label_coverage
from ticket_intel.core.summarize import described
from ticket_intel_tests.conftest import PipelineRun


def test_a_text_is_described_when_it_holds_a_term_as_terms_count_words():
    texts = ["My card was declined twice", "Where is my parcel?", "The card works"]
    assert described(texts, ["payment", "card declined"]) == [True, False, False]  # a two-word term needs both
    assert described(texts, ["parcel"]) == [False, True, False]
    assert described(texts, []) == [False, False, False]


def test_the_sample_s_themes_share_their_words_and_none_is_most_of_a_window(sample_run: PipelineRun, capsys):
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        figures = label_coverage.figures(con)
    assert figures["ranked_theme_weeks"] > 50 and figures["described_share"] > 0.8
    assert figures["largest_theme_max"] < 0.5
    label_coverage.main([str(sample_run.warehouse)])
    assert "described_share" in capsys.readouterr().out
