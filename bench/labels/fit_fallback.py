"""Fit the learned triage fallback (core/triage_fallback.py) on the `dev` half of the labelled set.

Reads bench/labels/tickets.csv (dev split only; the texts come again from ../shared/datasets),
embeds them with the bundled encoder through the benchmarks' cache, fits a logistic regression of
the labelled category and writes ticket_intel/models/triage_fallback.npz. Before writing it prints,
out of fold on `dev` (5 folds), how often the learned model and the description sentences name the
right category of the tickets no rule votes for, the only tickets it decides. The `test` half is
never read.

    python -m bench.labels.fit_fallback [--out PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

from bench.common import SHARED, cached_embed, table
from bench.labels.evaluate import load_labels
from ticket_intel.adapters.encoder import encode
from ticket_intel.core import triage_fallback as fallback
from ticket_intel.core.triage import choose, pair_scores, zero_shot_index
from ticket_intel.core.triage_config import load_taxonomy
from ticket_intel.core.triage_rules import clean, families

# Sentences whose vectors are stored with the model: an encoder that embeds them differently is
# not the one the model was fitted with, and the fallback is then left unused.
PROBES = (
    "My card payment was declined at the shop.",
    "How do I change the address on my account?",
    "The app crashes when I open the settings page.",
)


def out_of_fold(vectors: np.ndarray, labels: np.ndarray, texts: list[str]) -> list[dict]:
    """Accuracy on the tickets no rule votes for: descriptions vs the learned model (5 folds)."""
    taxonomy = load_taxonomy()
    index = zero_shot_index(taxonomy, lambda s: encode(list(s)), artefact=None)
    sims = [dict(zip(index.pairs, row.tolist(), strict=True)) for row in pair_scores(index, vectors)]
    found = [families(clean(t)) for t in texts]
    unvoted = np.array([not any(f & set(c.rules) for c in taxonomy.categories) for f in found])
    described = np.array([choose(taxonomy, f, s).category for f, s in zip(found, sims, strict=True)])
    learned = np.empty(len(labels), dtype=object)
    for train, held in StratifiedKFold(5, shuffle=True, random_state=0).split(vectors, labels):
        model = fallback.fit(vectors[train], labels[train], PROBES, np.zeros((len(PROBES), 1)))
        probs = model.proba(vectors[held])
        for i, row in zip(held, probs, strict=True):
            scores = dict(zip(model.classes, row.tolist(), strict=True))
            learned[i] = choose(taxonomy, found[i], sims[i], scores).category
    return [{"tickets no rule votes for": int(unvoted.sum()),
             "descriptions_accuracy": float((described[unvoted] == labels[unvoted]).mean()),
             "learned_accuracy": float((learned[unvoted] == labels[unvoted]).mean())}]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=fallback.ARTEFACT)
    args = parser.parse_args()
    if not SHARED.is_dir():
        print(f"{SHARED} not available; the labelled texts cannot be drawn")
        return 1
    dev = load_labels("dev")
    texts = dev["text"].tolist()
    vectors = cached_embed([clean(t) for t in texts])[0]
    labels = dev["category"].to_numpy()
    print(f"\n{len(dev)} dev tickets, out of fold\n" + table(out_of_fold(vectors, labels, texts), "{:.3f}"))
    model = fallback.fit(vectors, labels, PROBES, encode(list(PROBES)))
    fallback.save(model, args.out)
    print(f"\nwrote {args.out} ({len(model.classes)} categories, {model.coef.shape[1]} dimensions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
