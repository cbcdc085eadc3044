"""Extractive summaries on real text: label readability, rule signals, speed.

Labels: banking77's 77 intents (train split) stand in for perfect clusters; a label "names" its
intent when it shares a word (or a variant: arrival/arrive) with the intent's name, e.g.
`card_arrival`. Reference: the bare top c-TF-IDF term that labels used to lead with.

Rules: the share of texts the transparent signal / severity rules call a bug, or blocked (P0/P1),
on bug-labelled GitHub issue titles (../shared/datasets/github_bug_issues) against banking77's
customer questions, where most texts are not bug reports. The ratio is the rules' contrast.

Speed: every intent summarised (terms, label, representatives, MMR, rules, backlog) against
the reference of the c-TF-IDF step alone, on the same texts in the same run.

Window speed (issue 16: summaries must be small beside embedding): a fixed window of 10,000 real
tickets over four weeks (banking77 queries by intent, GitHub titles by repository, first customer
tweets by the company they address, each group standing in for a theme), every theme of its last
week summarised as `cluster_summaries` does, each in a fresh process (cold, as a run's process is):
with what the window carries from earlier stages (each ticket's `ticket_triage` columns: signal
type, severity, escalation signals; and the text for meaning redaction stored), against the
reference of the same summaries without them (every rule and `meaning_text` run again per ticket).

    .venv/bin/python -m bench.summaries [--window-only]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta

import numpy as np
import pandas as pd

from bench.common import SHARED, in_fresh_process, skipped_without
from ticket_intel.core import taxonomy as tax
from ticket_intel.core.meaning import meaning_text
from ticket_intel.core.summarize import (
    ThemeDocs,
    class_tfidf_terms,
    extractive_summary,
    label_from_terms,
    same_stem,
    theme_docs,
    ticket_severity,
    ticket_signal,
)
from ticket_intel.core.theme_triage import attach_triage, with_ticket_triage
from ticket_intel.core.triage import triage
from ticket_intel.core.triage_config import load_routing, load_taxonomy

WEEK = date(2026, 1, 5)
WINDOW_TICKETS = 10_000
WINDOW_WEEKS = 4


def names_intent(label: str, intent: str) -> bool:
    words = [w.strip("·").lower() for w in label.split() if w.strip("·")]
    return any(same_stem(w, i) for w in words for i in intent.lower().split("_") if len(i) > 2)


def table(title: str, rows: list[tuple]) -> None:
    print(f"\n{title}")
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


def real_window(n: int = WINDOW_TICKETS) -> pd.DataFrame:
    """A fixed window of `n` real tickets, a theme per intent, repository or addressed company."""
    from bench.synthetic import real_corpus

    corpus = real_corpus().sample(n, random_state=0).reset_index(drop=True)
    addressee = corpus["text"].str.extract(r"@([A-Za-z]\w*)", expand=False)
    return pd.DataFrame({
        "ticket_id": [f"w{i:06d}" for i in range(n)],
        "ticket_week": [WEEK - timedelta(weeks=i % WINDOW_WEEKS) for i in range(n)],
        "theme_id": corpus["label"].fillna(addressee).fillna("unaddressed").astype(str),
        "text": corpus["text"].astype(str),
    })


def summarise_window(window: pd.DataFrame, vectors: np.ndarray) -> int:
    """Every theme of the window's last week summarised and given its product area (the shipped
    taxonomy.yaml), as `cluster_summaries` does: its tickets' triage taken from the window when it
    carries it."""
    areas = tax.load("taxonomy.yaml")
    docs = with_ticket_triage(theme_docs(window, WEEK, vectors), window)
    return len([(extractive_summary(doc), tax.assign_area(areas, doc.texts, [], doc.terms)) for doc in docs.values()])


def window_speed() -> None:
    """Cold seconds of the window's summaries with and without what earlier stages computed."""
    window = real_window()
    # Vectors only pick representatives and phrasings; fixed random unit vectors keep the figure
    # about the text work (embedding the window is the pipeline's other stage).
    vectors = np.random.default_rng(0).normal(size=(len(window), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    judged = attach_triage(window, triage(window[["ticket_id", "text"]], load_taxonomy(), load_routing()))
    judged["meaning_text"] = [meaning_text(t) for t in window["text"]]  # as redaction stores it
    themes, bare, _ = in_fresh_process(summarise_window, window, vectors)
    _, with_triage, _ = in_fresh_process(summarise_window, judged, vectors)
    table(f"Window speed ({len(window):,} real tickets, {themes} themes this week, fresh process each)", [
        ("summaries", "seconds", "ratio to reference"),
        ("rules run again on every ticket (reference)", f"{bare:.2f}", "1.00"),
        ("with triage's columns and stored meaning_text (as cluster_summaries)", f"{with_triage:.2f}",
         f"{with_triage / bare:.2f}"),
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window-only", action="store_true", help="print only the window speed table")
    args = parser.parse_args()
    if skipped_without(SHARED):
        return 0
    if args.window_only:
        window_speed()
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
    window_speed()
    return 0


if __name__ == "__main__":
    sys.exit(main())
