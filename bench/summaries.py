"""Extractive summaries on real text: label readability, rule signals, speed.

Labels: banking77's 77 intents (train split) stand in for perfect clusters; a label "names" its
intent when it shares a word (or a variant: arrival/arrive) with the intent's name, e.g.
`card_arrival`. Reference: the bare top c-TF-IDF term that labels used to lead with.

Rules: the share of texts the transparent signal / severity rules call a bug, or blocked (P0/P1),
on bug-labelled GitHub issue titles (../shared/datasets/github_bug_issues) against banking77's
customer questions, where most texts are not bug reports. The ratio is the rules' contrast.

Speed: every intent summarised (terms, label, representatives, MMR, rules, backlog) against
the reference of the c-TF-IDF step alone, on the same texts in the same run.

    .venv/bin/python -m bench.summaries
"""

from __future__ import annotations

import sys
import time
from datetime import date

import numpy as np
import pandas as pd

from ticket_intel import PROJECT_ROOT
from ticket_intel.core.summarize import (
    ThemeDocs,
    class_tfidf_terms,
    extractive_summary,
    label_from_terms,
    same_stem,
    ticket_severity,
    ticket_signal,
)

SHARED = PROJECT_ROOT.parent / "shared" / "datasets"
WEEK = date(2026, 1, 5)


def names_intent(label: str, intent: str) -> bool:
    words = [w.strip("·").lower() for w in label.split() if w.strip("·")]
    return any(same_stem(w, i) for w in words for i in intent.lower().split("_") if len(i) > 2)


def table(title: str, rows: list[tuple]) -> None:
    print(f"\n{title}")
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


def main() -> int:
    if not SHARED.is_dir():
        print("../shared/datasets not available; nothing to measure")
        return 0
    from sklearn.feature_extraction.text import TfidfVectorizer

    bank = pd.read_csv(SHARED / "banking77" / "train.csv")
    by_intent = {k: g["text"].tolist() for k, g in bank.groupby("category")}

    start = time.perf_counter()
    terms = class_tfidf_terms(by_intent)
    t_terms = time.perf_counter() - start
    start = time.perf_counter()
    labels = {k: label_from_terms(terms[k], texts) for k, texts in by_intent.items()}
    vectors = TfidfVectorizer().fit(bank["text"])
    summaries = {}
    for k, texts in by_intent.items():
        x = vectors.transform(texts).toarray().astype(np.float32)
        doc = ThemeDocs(k, WEEK, [f"{k}:{i}" for i in range(len(texts))], texts, [WEEK] * len(texts), x, terms[k])
        summaries[k] = extractive_summary(doc)
    t_all = time.perf_counter() - start + t_terms

    ours = np.mean([names_intent(labels[k], k) for k in by_intent])
    reference = np.mean([names_intent(terms[k][0] if terms[k] else "", k) for k in by_intent])
    words = np.mean([len(labels[k].replace("·", " ").split()) for k in by_intent])
    table("Labels on banking77 intents (77 themes, 10,003 texts)", [
        ("measure", "extractive label", "reference: top term", "ratio"),
        ("labels naming their intent", f"{ours:.1%}", f"{reference:.1%}", f"{ours / reference:.2f}"),
        ("mean words per label", f"{words:.1f}", "1.0", f"{words:.1f}"),
    ])
    print("  e.g. " + "; ".join(f"{k} -> {labels[k]}" for k in ("card_arrival", "exchange_rate", "lost_or_stolen_card",
                                                              "declined_card_payment", "top_up_failed")))

    issues = pd.concat([pd.read_csv(f, usecols=["title"]) for f in sorted((SHARED / "github_bug_issues").glob("*.csv"))])
    titles = issues["title"].dropna().astype(str).tolist()
    bug_gh = np.mean([ticket_signal(t) == "bug" for t in titles])
    bug_bank = np.mean([ticket_signal(t) == "bug" for t in bank["text"]])
    blocked_gh = np.mean([ticket_severity(t)[0] in ("P0", "P1") for t in titles])
    blocked_bank = np.mean([ticket_severity(t)[0] in ("P0", "P1") for t in bank["text"]])
    table(f"Rules on bug-labelled GitHub titles ({len(titles):,}) vs banking77 questions ({len(bank):,})", [
        ("measure", "github bug titles", "reference: banking77", "ratio"),
        ("signal_type = bug", f"{bug_gh:.1%}", f"{bug_bank:.1%}", f"{bug_gh / bug_bank:.2f}"),
        ("severity P0/P1", f"{blocked_gh:.1%}", f"{blocked_bank:.1%}", f"{blocked_gh / blocked_bank:.2f}"),
    ])

    table("Speed (77 themes, 10,003 texts)", [
        ("step", "seconds", "ratio to c-TF-IDF"),
        ("c-TF-IDF terms (reference)", f"{t_terms:.2f}", "1.00"),
        ("full extractive summaries", f"{t_all:.2f}", f"{t_all / t_terms:.2f}"),
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
