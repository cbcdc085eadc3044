"""A learned category for tickets no triage rule speaks for, used in place of description similarity.

A multinomial logistic regression over the ticket embeddings, fitted on the `dev` half of the
hand-labelled set (bench/labels/tickets.csv: banking77, twcs, GitHub titles) by
`python -m bench.labels.fit_fallback`, which writes the shipped artefact `models/triage_fallback.npz`.
On `dev` (out-of-fold) it names the category of ticket no rule votes for more often than the
description sentences do (bench/labels/GUIDE.md, docs/triage.md). It applies only where it can be
trusted, so other data degrades to the descriptions, never to a wrong model:

- the encoder must be the one it was fitted with: a few probe sentences, stored with their
  vectors, must embed to the same vectors (cosine >= PROBE_MIN);
- every class it predicts must be a category of the configured `triage.yaml`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Encode = Callable[[Sequence[str]], np.ndarray]
ARTEFACT = Path(__file__).resolve().parent.parent / "models" / "triage_fallback.npz"
PROBE_MIN = 0.99
_FIELDS = ("classes", "coef", "intercept", "probes", "probe_vectors")


@dataclass(frozen=True)
class Fallback:
    """Coefficients (classes x dims) and intercepts of the fitted model, and its encoder probes."""

    classes: tuple[str, ...]
    coef: np.ndarray
    intercept: np.ndarray
    probes: tuple[str, ...]
    probe_vectors: np.ndarray

    def proba(self, vectors: np.ndarray) -> np.ndarray:
        """Class probabilities per row: the softmax of the linear scores, as scikit-learn's
        multinomial `predict_proba`."""
        z = np.asarray(vectors, dtype=np.float64) @ self.coef.T + self.intercept
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)


def fit(vectors: np.ndarray, labels: Sequence[str], probes: Sequence[str], probe_vectors: np.ndarray) -> Fallback:
    """Logistic regression with scikit-learn's defaults and classes weighted by their inverse
    frequency (macro-F1 counts a rare category as much as a common one)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(class_weight="balanced", max_iter=5000).fit(vectors, list(labels))
    return Fallback(tuple(str(c) for c in model.classes_), model.coef_, model.intercept_, tuple(probes),
                    np.asarray(probe_vectors, dtype=np.float32))


def save(fallback: Fallback, path: Path = ARTEFACT) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, classes=np.array(fallback.classes), coef=fallback.coef,
                        intercept=fallback.intercept, probes=np.array(fallback.probes),
                        probe_vectors=fallback.probe_vectors)


def load(path: Path = ARTEFACT) -> Fallback | None:
    """The artefact at `path`, or None when there is none; a damaged one is refused by name."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            parts = {k: data[k] for k in _FIELDS}
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"{path}: not a triage fallback artefact ({exc}); rebuild it with "
                         "python -m bench.labels.fit_fallback") from exc
    return Fallback(tuple(str(c) for c in parts["classes"]), parts["coef"], parts["intercept"],
                    tuple(str(p) for p in parts["probes"]), parts["probe_vectors"])


def usable(fallback: Fallback | None, encode: Encode, categories: Sequence[str]) -> Fallback | None:
    """`fallback` when `encode` is the encoder it was fitted with and the taxonomy has its classes."""
    if fallback is None or not set(fallback.classes) <= set(categories):
        return None
    got = np.asarray(encode(list(fallback.probes)), dtype=np.float32)
    if got.shape != fallback.probe_vectors.shape:
        return None
    cos = (got * fallback.probe_vectors).sum(axis=1) / (
        np.linalg.norm(got, axis=1) * np.linalg.norm(fallback.probe_vectors, axis=1) + 1e-12)
    return fallback if float(cos.min()) >= PROBE_MIN else None
