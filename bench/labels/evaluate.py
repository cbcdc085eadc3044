"""Shared by bench.signal_severity and bench.triage: the labelled set, predictions, metric tables.

Predictions come from `core.triage.triage` exactly as the pipeline runs it: rules, then for tickets
no rule votes for the learned fallback fitted on `dev` (core/triage_fallback.py), with the bundled
embedding model (ticket vectors through the benchmarks' persistent cache); as ablations, the
description sentences in place of the learned fallback, and rules alone. The reference is the
majority class of each field. On `dev` the learned fallback is scored on the tickets it was fitted
on: quote `test`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from bench.common import cached_embed, table
from bench.labels.sample import HELD_OUT_DRAWS, escalation_draw, sample
from ticket_intel.adapters.encoder import encode
from ticket_intel.core.triage import triage, zero_shot_index
from ticket_intel.core.triage_config import load_routing, load_taxonomy
from ticket_intel.core.triage_rules import clean

LABELS = Path(__file__).with_name("tickets.csv")
ESCALATION_LABELS = Path(__file__).with_name("escalation_holdout.csv")


def load_labels(split: str) -> pd.DataFrame:
    """The labelled tickets of one split (`dev`, `test` or `all`) with their text, escalation as bool.

    Only ids and labels are committed (the texts' licences allow no copy in the project); the texts
    are drawn again from ../shared/datasets by the sampling script."""
    labels = pd.read_csv(LABELS, dtype=str, keep_default_na=False)
    frame = labels.merge(sample()[["source", "id", "text"]], on=["source", "id"], how="left", validate="1:1")
    if frame["text"].isna().any():
        raise ValueError("some labelled tickets are not in ../shared/datasets; the set cannot be rebuilt")
    if split != "all":
        frame = frame[frame["split"] == split]
    return _signals(frame.reset_index(drop=True))  # its `escalation` column is true exactly when signals are


def _signals(frame: pd.DataFrame) -> pd.DataFrame:
    """Signals as lists; escalation as whether there are any (GUIDE.md: true when any signal is present)."""
    frame["escalation_signals"] = frame["escalation_signals"].map(lambda s: [x for x in s.split(";") if x])
    frame["escalation"] = frame["escalation_signals"].map(bool)
    return frame


def held_out_labels(draw: int) -> Path:
    """The labels file of a held-out escalation draw (bench.labels.sample.HELD_OUT_DRAWS)."""
    return ESCALATION_LABELS.with_name(f"escalation_draw{draw}.csv")


def load_escalation_labels() -> pd.DataFrame:
    """The twcs draws labelled for escalation signals only (GUIDE.md): the second, then the held-out
    ones (`escalation_draw<N>.csv`), each drawn from the first messages no earlier draw took, with
    their texts and which draw each row is from."""
    taken = set(pd.read_csv(LABELS, dtype=str).query("source == 'twcs'")["id"])
    draws = [(2, ESCALATION_LABELS, escalation_draw(taken))]
    for draw, (seed, size) in sorted(HELD_OUT_DRAWS.items()):
        taken |= set(pd.read_csv(draws[-1][1], dtype=str)["id"])
        draws.append((draw, held_out_labels(draw), escalation_draw(taken, size, seed, dev_share=0.0)))
    parts = []
    for draw, path, drawn in draws:
        labels = pd.read_csv(path, dtype=str, keep_default_na=False)
        if list(drawn["id"]) != list(labels["id"]):
            raise ValueError(f"escalation draw {draw} no longer matches its labels; ../shared/datasets has changed")
        parts.append(labels.assign(text=drawn["text"].to_numpy(), draw=draw))
    return _signals(pd.concat(parts, ignore_index=True))


def predict(frame: pd.DataFrame, zero_shot: bool = True, learned: bool = True) -> tuple[pd.DataFrame, float]:
    """(triage rows aligned with `frame`, seconds spent in triage itself: ticket and description
    embeddings, computed once per deployment, excluded). `learned=False` leaves the shipped
    fallback model out (descriptions only)."""
    taxonomy, routing = load_taxonomy(), load_routing()
    tickets = frame[["id", "text"]].rename(columns={"id": "ticket_id"})
    embed = (lambda s: encode(list(s))) if zero_shot else None
    vectors = cached_embed([clean(t) for t in frame["text"]])[0] if zero_shot else None
    index = zero_shot_index(taxonomy, embed, **({} if learned else {"artefact": None})) if embed else None
    start = time.perf_counter()
    out = triage(tickets, taxonomy, routing, encode=embed, vectors=vectors, index=index)
    return out, time.perf_counter() - start


def predict_variants(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, float]:
    """(shipped triage, descriptions only, rules only, seconds of the shipped triage): the three
    columns every accuracy table of the labelled set compares."""
    ours, seconds = predict(frame)
    return ours, predict(frame, learned=False)[0], predict(frame, zero_shot=False)[0], seconds


def majority(gold: pd.Series) -> pd.Series:
    return pd.Series([gold.mode().iloc[0]] * len(gold), index=gold.index)


def macro_f1(gold: Sequence, pred: Sequence) -> float:
    return float(f1_score(list(gold), list(pred), average="macro", zero_division=0))


def per_class(gold: pd.Series, pred: pd.Series, order: Sequence[str]) -> str:
    """Precision, recall, F1 and support per class (classes in `order` that occur in either)."""
    classes = [c for c in order if c in set(gold) | set(pred)]
    p, r, f, n = precision_recall_fscore_support(gold, pred, labels=classes, zero_division=0)
    rows = [{"class": c, "precision": p[i], "recall": r[i], "f1": f[i], "support": int(n[i])}
            for i, c in enumerate(classes)]
    rows.append({"class": "macro", "precision": float(p.mean()), "recall": float(r.mean()),
                 "f1": macro_f1(gold, pred), "support": len(gold)})
    return table(rows, "{:.3f}")


def confusion(gold: pd.Series, pred: pd.Series, order: Sequence[str]) -> str:
    """Rows: labelled class; columns: predicted class."""
    classes = [c for c in order if c in set(gold) | set(pred)]
    matrix = confusion_matrix(gold, pred, labels=classes)
    rows = [{"label \\ predicted": c, **{k: int(v) for k, v in zip(classes, matrix[i], strict=True)}}
            for i, c in enumerate(classes)]
    return table(rows)


def met(ok: bool) -> str:
    return "met" if ok else "NOT MET"
