"""Per-ticket triage against the hand-labelled set (issue 14, item 1).

The same 600 labelled tickets as bench.signal_severity (bench/labels/GUIDE.md); quote the
held-out `test` split. For each field: accuracy and macro-F1 of the offline triage (rules, then
the learned fallback fitted on `dev` for tickets no rule votes for), with the description
sentences in its place, of rules alone, and of the majority-class reference; per-class figures and
confusion matrices for category, urgency and escalation. Escalation recall counts the tickets
whose labels carry an explicit signal; false positives count the neutral ones (no signal).
Targets: escalation recall >= 95%, false positives <= 10%, category macro-F1 >= 0.7.

    .venv/bin/python -m bench.triage [--split test|dev|all]
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from bench.common import table
from bench.labels.evaluate import confusion, load_labels, macro_f1, majority, met, per_class, predict
from ticket_intel.core.triage_config import load_taxonomy
from ticket_intel.core.vocabulary import ESCALATION_SIGNALS, FRUSTRATION_LEVELS, URGENCIES

FIELDS = ("category", "subcategory", "urgency", "escalation", "frustration")


def signal_recall(gold: pd.DataFrame, pred: pd.DataFrame) -> list[dict]:
    """Per signal: labelled tickets, how many the rules flag with that very signal, and with any."""
    rows = []
    for signal in ESCALATION_SIGNALS:
        has = gold["escalation_signals"].map(lambda s, k=signal: k in s)
        if has.any():
            same = pred.loc[has, "escalation_signals"].map(lambda s, k=signal: k in s)
            rows.append({"signal": signal, "labelled": int(has.sum()), "same_signal": float(same.mean()),
                         "escalated": float(pred.loc[has, "escalation"].mean())})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=["test", "dev", "all"])
    args = parser.parse_args()
    gold = load_labels(args.split)
    ours, _ = predict(gold)
    described, _ = predict(gold, learned=False)
    rules_only, _ = predict(gold, zero_shot=False)
    print(f"\n{len(gold)} labelled tickets ({args.split} split)\n")
    print(table([{
        "field": f, "accuracy": float((gold[f] == ours[f]).mean()), "macro_f1": macro_f1(gold[f], ours[f]),
        "descriptions_f1": macro_f1(gold[f], described[f]), "rules_only_f1": macro_f1(gold[f], rules_only[f]),
        "reference_majority_f1": macro_f1(gold[f], majority(gold[f])),
    } for f in FIELDS], "{:.3f}"))
    categories = [c.name for c in load_taxonomy().categories]
    print("\ncategory per class\n" + per_class(gold["category"], ours["category"], categories))
    print("\ncategory confusion\n" + confusion(gold["category"], ours["category"], categories))
    print("\nurgency confusion\n" + confusion(gold["urgency"], ours["urgency"], URGENCIES))
    print("\nescalation confusion\n" + confusion(gold["escalation"].map(str), ours["escalation"].map(str),
                                                 ["True", "False"]))
    print("\nfrustration confusion\n" + confusion(gold["frustration"], ours["frustration"], FRUSTRATION_LEVELS))
    print("\nescalation signals\n" + table(signal_recall(gold, ours), "{:.3f}"))
    flagged = ours["needs_review"].astype(bool)
    right = gold["category"] == ours["category"]
    print("\nneeds_review\n" + table([
        {"tickets": "flagged needs_review", "share": float(flagged.mean()),
         "category_accuracy": float(right[flagged].mean()) if flagged.any() else float("nan")},
        {"tickets": "not flagged", "share": float((~flagged).mean()),
         "category_accuracy": float(right[~flagged].mean()) if (~flagged).any() else float("nan")},
    ], "{:.3f}"))
    recall = float(ours.loc[gold["escalation"], "escalation"].mean())
    false_pos = float(ours.loc[~gold["escalation"], "escalation"].mean())
    category_f1 = macro_f1(gold["category"], ours["category"])
    print("\ntargets")
    print(table([
        {"target": "escalation recall on explicit signals >= 95%", "value": f"{recall:.1%}",
         "n": int(gold["escalation"].sum()), "status": met(recall >= 0.95)},
        {"target": "escalation false positives on neutral tickets <= 10%", "value": f"{false_pos:.1%}",
         "n": int((~gold["escalation"]).sum()), "status": met(false_pos <= 0.10)},
        {"target": "category macro-F1 >= 0.7", "value": f"{category_f1:.3f}", "n": len(gold),
         "status": met(category_f1 >= 0.7)},
    ]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
