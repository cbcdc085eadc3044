"""Agreement of a blind second annotator with the committed labels, beside the offline classifier's.

`second_annotator.csv` labels 150 `test` tickets of `tickets.csv` (50 per source, seed 43) by
GUIDE.md, blind to the committed labels and to every prediction (GUIDE.md, "A second annotator").
Per field: accuracy, Cohen's kappa and macro-F1 of the second annotator against the committed
labels, of the shipped offline triage against them, and of the triage against the second
annotator. Where the classifier scores alike against both labellings, its shortfall is its own,
not label noise; where the two labellings agree far better than either with it, the targets are
below what a careful reader of the guide reaches.

    python -m bench.labels.agreement [--by-source]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
from sklearn.metrics import accuracy_score, cohen_kappa_score

from bench.common import SHARED, skipped_without, table
from bench.labels.evaluate import load_labels, macro_f1, predict

SECOND = Path(__file__).with_name("second_annotator.csv")
FIELDS = ("category", "subcategory", "signal_type", "severity", "urgency", "escalation", "frustration")
PAIRS = (("second", "committed"), ("triage", "committed"), ("triage", "second"))


def labellings() -> dict[str, pd.DataFrame]:
    """The committed labels, the second annotator's and the shipped triage's, on the second
    annotator's tickets in its order, every field as text (signals `;`-joined, sorted)."""
    second = pd.read_csv(SECOND, dtype=str, keep_default_na=False)
    keys = list(zip(second["source"], second["id"], strict=True))
    gold = load_labels("test").set_index(["source", "id"]).loc[keys].reset_index()
    triage, _ = predict(gold)
    triage["source"] = gold["source"]

    def as_text(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame[["source", *FIELDS]].astype(str).apply(lambda c: c.str.lower() if c.name == "escalation" else c)
        signals = frame["escalation_signals"]
        out["escalation_signals"] = [";".join(sorted(s if isinstance(s, list) else [x for x in s.split(";") if x]))
                                     for s in signals]
        return out.reset_index(drop=True)

    return {"committed": as_text(gold), "second": as_text(second), "triage": as_text(triage)}


def rows(frames: dict[str, pd.DataFrame], mask: pd.Series) -> list[dict]:
    out = []
    for field in (*FIELDS, "escalation_signals"):
        for other, truth in PAIRS:
            t, o = list(frames[truth].loc[mask, field]), list(frames[other].loc[mask, field])
            kappa = cohen_kappa_score(t, o) if len(set(t) | set(o)) > 1 else float("nan")
            out.append({"field": field, "labeller": other, "against": truth, "accuracy": accuracy_score(t, o),
                        "kappa": kappa, "macro_f1": macro_f1(t, o)})
    return out


def escalation_recall(frames: dict[str, pd.DataFrame], truth: str, other: str) -> str:
    flagged = frames[truth]["escalation"] == "true"
    found = (frames[other]["escalation"] == "true")[flagged]
    return f"{other} finds {int(found.sum())} of the {int(flagged.sum())} the {truth} labels escalate"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--by-source", action="store_true", help="a table per source as well")
    args = parser.parse_args()
    if skipped_without(SHARED):
        return 0
    frames = labellings()
    scopes = ["all", *(sorted(frames["committed"]["source"].unique()) if args.by_source else [])]
    for scope in scopes:
        mask = frames["committed"]["source"].eq(scope) | (scope == "all")
        print(f"\n{int(mask.sum())} test tickets ({scope}); X against Y scores X with Y as the truth\n"
              + table(rows(frames, mask), "{:.3f}"))
    print("\nescalation: " + "; ".join(escalation_recall(frames, t, o) for o, t in PAIRS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
