"""Signal type and severity of single tickets against the hand-labelled set (issue 11, item 7).

600 tickets labelled by hand (bench/labels/GUIDE.md): banking77 queries, twcs first customer
messages and GitHub bug titles. Rules and descriptions were developed on the `dev` half; the
figures to quote are the held-out `test` half. Predictions are the offline triage (rules, then
the learned fallback fitted on `dev` for tickets no rule votes for, with the bundled embedding
model); "descriptions" uses the description sentences in place of the learned fallback; "rules
only" drops the embeddings; the reference predicts each field's majority class. Targets: macro-F1 >= 0.7 for both fields, and no
predicted signal type takes more than 60% of a source's tickets unless its labels do.

    .venv/bin/python -m bench.signal_severity [--split test|dev|all]
"""

from __future__ import annotations

import argparse
import sys
import time

import pandas as pd

from bench.common import SHARED, skipped_without, table
from bench.labels.evaluate import load_labels, macro_f1, majority, met, per_class, predict_variants
from ticket_intel.core.triage import sentiment
from ticket_intel.core.vocabulary import SEVERITIES, SIGNAL_TYPES

TARGET_F1 = 0.7
MAX_SHARE = 0.6
FIELDS = {"signal_type": SIGNAL_TYPES, "severity": SEVERITIES}


def shares(gold: pd.DataFrame, pred: pd.DataFrame) -> tuple[list[dict], bool]:
    """Per source and signal type: labelled and predicted share; whether no predicted class
    exceeds MAX_SHARE where its labels stay below it."""
    rows, ok = [], True
    for source, rows_of in gold.groupby("source").groups.items():
        labelled = gold.loc[rows_of, "signal_type"].value_counts(normalize=True)
        predicted = pred.loc[rows_of, "signal_type"].value_counts(normalize=True)
        for kind in SIGNAL_TYPES:
            got, want = float(predicted.get(kind, 0.0)), float(labelled.get(kind, 0.0))
            if got or want:
                rows.append({"source": source, "signal_type": kind, "labelled": want, "predicted": got})
            ok &= got <= MAX_SHARE or want > MAX_SHARE
    return rows, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=["test", "dev", "all"])
    args = parser.parse_args()
    if skipped_without(SHARED):
        return 0
    gold = load_labels(args.split)
    ours, described, rules_only, seconds = predict_variants(gold)
    start = time.perf_counter()
    for text in gold["text"]:
        sentiment(text)
    vader = time.perf_counter() - start
    print(f"\n{len(gold)} labelled tickets ({args.split} split); triage {len(gold) / seconds:,.0f} tickets/s with "
          f"cached vectors, {seconds / vader:.1f}x the time of VADER sentiment alone (reference)\n")
    summary = []
    for field in FIELDS:
        reference = macro_f1(gold[field], majority(gold[field]))
        f1 = macro_f1(gold[field], ours[field])
        summary.append({"field": field, "macro_f1": f1, "accuracy": float((gold[field] == ours[field]).mean()),
                        "descriptions_f1": macro_f1(gold[field], described[field]),
                        "rules_only_f1": macro_f1(gold[field], rules_only[field]),
                        "reference_majority_f1": reference, "x_reference": f1 / reference})
    print(table(summary, "{:.3f}"))
    for field, order in FIELDS.items():
        print(f"\n{field} per class\n" + per_class(gold[field], ours[field], order))
    rows, spread = shares(gold, ours)
    print("\nsignal type share per source\n" + table(rows, "{:.1%}"))
    print("\ntargets")
    print(table([
        {"target": "signal_type macro-F1 >= 0.7", "value": f"{summary[0]['macro_f1']:.3f}",
         "status": met(summary[0]["macro_f1"] >= TARGET_F1)},
        {"target": "severity macro-F1 >= 0.7", "value": f"{summary[1]['macro_f1']:.3f}",
         "status": met(summary[1]["macro_f1"] >= TARGET_F1)},
        {"target": "no predicted class > 60% of a source unless labelled so", "value": "", "status": met(spread)},
    ]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
