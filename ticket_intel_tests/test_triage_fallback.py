"""The learned fallback category: its arithmetic, its artefact, and when triage may use it."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from ticket_intel.core import triage_fallback as fb
from ticket_intel.core.triage import choose
from ticket_intel.core.triage_config import load_taxonomy

PROBES = ("first probe", "second probe")


def encoder(seed: int):
    """A deterministic stand-in encoder: each text to a fixed random unit vector per seed."""
    def encode(texts):
        out = np.stack([np.random.default_rng([seed, sum(map(ord, t))]).normal(size=8) for t in texts])
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)
    return encode


def fitted(classes=("bug report", "how-to", "other")) -> fb.Fallback:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 8))
    y = [classes[i % len(classes)] for i in range(60)]
    x[np.arange(60) % len(classes) == 0, 0] += 3  # the first class is separable on dimension 0
    return fb.fit(x, y, PROBES, encoder(1)(list(PROBES)))


def test_probabilities_match_scikit_learn():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(40, 8)), ["a", "b", "c", "d"] * 10
    model = LogisticRegression(class_weight="balanced", max_iter=5000).fit(x, y)
    ours = fb.fit(x, y, PROBES, np.zeros((2, 8)))
    assert np.allclose(ours.proba(x), model.predict_proba(x), atol=1e-9)


def test_artefact_round_trip_and_a_damaged_file_is_refused(tmp_path):
    model = fitted()
    fb.save(model, tmp_path / "f.npz")
    back = fb.load(tmp_path / "f.npz")
    assert back.classes == model.classes and back.probes == PROBES
    assert np.allclose(back.proba(np.eye(8)), model.proba(np.eye(8)))
    assert fb.load(tmp_path / "missing.npz") is None
    (tmp_path / "bad.npz").write_bytes(b"not an npz")
    with pytest.raises(ValueError, match="fit_fallback"):
        fb.load(tmp_path / "bad.npz")


def test_used_only_with_its_encoder_and_a_taxonomy_holding_its_classes():
    model = fitted()
    categories = ["bug report", "how-to", "other", "feature request"]
    assert fb.usable(model, encoder(1), categories) is model
    assert fb.usable(model, encoder(2), categories) is None  # another encoder
    assert fb.usable(model, lambda t: encoder(1)(t)[:, :4], categories) is None  # another dimension
    assert fb.usable(model, encoder(1), ["bug report", "how-to"]) is None  # "other" is not configured
    assert fb.usable(None, encoder(1), categories) is None


def test_decides_only_what_no_rule_speaks_for_and_never_a_rule_only_category():
    taxonomy = load_taxonomy()
    learned = {"how-to": 0.2, "other": 0.1, "bug report": 0.05, "expectation gap": 0.65}
    unvoted = choose(taxonomy, frozenset(), None, learned)
    assert unvoted.category == "how-to"  # expectation gap has zero_shot: false
    assert choose(taxonomy, frozenset({"failure"}), None, learned).category == "bug report"


def test_shipped_artefact_fits_the_bundled_taxonomy():
    model = fb.load()
    assert model is not None, "ticket_intel/models/triage_fallback.npz is missing: python -m bench.labels.fit_fallback"
    assert set(model.classes) <= {c.name for c in load_taxonomy().categories}
    assert model.coef.shape == (len(model.classes), model.probe_vectors.shape[1])
