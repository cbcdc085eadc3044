"""The hand-labelled set behind bench.signal_severity and bench.triage is well-formed and consistent
with the definitions it was labelled by (bench/labels/GUIDE.md)."""

from __future__ import annotations

import pandas as pd
import pytest

from bench.labels.sample import ESCALATION_DRAW, HELD_OUT_DRAWS, PER_SOURCE, SHARED, sample
from ticket_intel import PROJECT_ROOT
from ticket_intel.core.triage_config import load_taxonomy
from ticket_intel.core.triage_rules import urgency_of
from ticket_intel.core.vocabulary import (
    ESCALATION_SIGNALS,
    FRUSTRATION_LEVELS,
    SEVERITIES,
    SIGNAL_TYPES,
    URGENCIES,
)

LABELS = PROJECT_ROOT / "bench" / "labels" / "tickets.csv"
COLUMNS = ["source", "id", "split", "category", "subcategory", "signal_type", "severity", "urgency",
           "escalation", "escalation_signals", "frustration"]


@pytest.fixture(scope="module")
def labels() -> pd.DataFrame:
    return pd.read_csv(LABELS, dtype=str, keep_default_na=False)


SECOND = PROJECT_ROOT / "bench" / "labels" / "second_annotator.csv"


@pytest.fixture(scope="module", params=["committed", "second annotator"])
def labellings(request, labels) -> pd.DataFrame:
    return labels if request.param == "committed" else pd.read_csv(SECOND, dtype=str, keep_default_na=False)


def test_columns_sizes_and_splits(labels):
    assert list(labels.columns) == COLUMNS
    assert labels["id"].is_unique
    counts = labels.groupby(["source", "split"]).size()
    assert set(labels["source"]) == {"banking77", "twcs", "github"}
    assert labels.groupby("source").size().to_dict() == PER_SOURCE
    assert all(counts[source, split] == n // 2 for source, n in PER_SOURCE.items() for split in ("dev", "test"))


def test_values_are_in_the_vocabularies(labellings):
    assert set(labellings["severity"]) <= set(SEVERITIES) and set(labellings["urgency"]) <= set(URGENCIES)
    assert set(labellings["signal_type"]) <= set(SIGNAL_TYPES)
    assert set(labellings["frustration"]) <= set(FRUSTRATION_LEVELS)
    assert set(labellings["escalation"]) == {"true", "false"}
    signals = {s for cell in labellings["escalation_signals"] for s in cell.split(";") if s}
    assert signals <= set(ESCALATION_SIGNALS)


def test_the_second_annotator_labels_test_tickets_of_the_set(labels):
    second = pd.read_csv(SECOND, dtype=str, keep_default_na=False)
    assert list(second.columns) == COLUMNS and second["id"].is_unique
    test = labels[labels["split"] == "test"]
    assert set(zip(second["source"], second["id"], strict=True)) <= set(zip(test["source"], test["id"], strict=True))
    assert second.groupby("source").size().to_dict() == {"banking77": 50, "github": 50, "twcs": 50}


def test_derived_labels_follow_their_definitions(labellings):
    taxonomy = load_taxonomy()
    subcategories = {c.name: {s.name for s in c.subcategories} for c in taxonomy.categories}
    for row in labellings.itertuples():
        assert row.subcategory in subcategories[row.category], row.id
        assert row.signal_type == taxonomy.signal_type(row.category, row.subcategory), row.id
        escalating = bool(row.escalation_signals)
        assert row.escalation == str(escalating).lower(), row.id
        assert row.urgency == urgency_of(row.severity, escalating), row.id


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/datasets not available")
def test_the_sampling_script_reproduces_the_set(labels):
    drawn = sample()
    assert drawn[["source", "id", "split"]].to_dict("records") == labels[["source", "id", "split"]].to_dict("records")
    assert (drawn["text"].str.strip() != "").all()


ESCALATION_LABELS = PROJECT_ROOT / "bench" / "labels" / "escalation_holdout.csv"


def test_the_escalation_draws_are_well_formed_and_new(labels):
    second = pd.read_csv(ESCALATION_LABELS, dtype=str, keep_default_na=False)
    from bench.labels.evaluate import held_out_labels

    held_out = [pd.read_csv(held_out_labels(d), dtype=str, keep_default_na=False) for d in sorted(HELD_OUT_DRAWS)]
    taken = set(labels["id"])
    for draw in (second, *held_out):
        assert list(draw.columns) == ["source", "id", "split", "escalation_signals"]
        assert set(draw["source"]) == {"twcs"} and draw["id"].is_unique
        assert not set(draw["id"]) & taken  # every draw is new
        taken |= set(draw["id"])
        signals = [s for cell in draw["escalation_signals"] for s in cell.split(";") if s]
        assert set(signals) <= set(ESCALATION_SIGNALS) and len(signals) > 0
    assert second["split"].value_counts().to_dict() == {"dev": ESCALATION_DRAW // 2, "test": ESCALATION_DRAW // 2}
    for d, (_, size) in zip(held_out, (HELD_OUT_DRAWS[k] for k in sorted(HELD_OUT_DRAWS)), strict=True):
        assert d["split"].value_counts().to_dict() == {"test": size}


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/datasets not available")
def test_the_escalation_draws_are_reproduced_with_their_texts(labels):
    from bench.labels.evaluate import load_escalation_labels

    drawn = load_escalation_labels()
    assert drawn["draw"].value_counts().to_dict() == {2: ESCALATION_DRAW, **{d: size for d, (_, size) in HELD_OUT_DRAWS.items()}}
    assert (drawn["text"].str.strip() != "").all()
    assert drawn["escalation"].tolist() == drawn["escalation_signals"].map(bool).tolist()
