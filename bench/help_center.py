"""Help-center matching on real customer language: does each theme find its article, and do
themes without one come out as gaps?

Themes: banking77's 77 intents (train + test, 13,083 real queries) stand in for perfect
clusters. Articles: `bench/data/banking_help_center.json`, a Zendesk Guide export of 20 short
help articles written for 20 of the intents (each names its intent in `label_names`), so 57
intents have no article. A covered intent should match its own article; an uncovered one
should be a gap. Sibling intents (card_arrival / card_delivery_estimate) make this strict: an
article matched to a sibling counts as false.

Methods, same embeddings, same run: the shipped rule (`core.help_center.match_articles`: the
article's nearest theme, if as close as that theme's closest 90% of tickets) against
references: the nearest article always, one global cosine bar (0.5), and the per-theme bar
without the nearest-theme condition; plus other member quantiles, to show the trade-off the
shipped quantile sits on.

    .venv/bin/python -m bench.help_center
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from bench.common import SHARED, cached_embed, read_csvs, skipped_without, table
from ticket_intel import PROJECT_ROOT
from ticket_intel.core.help_center import (
    MEMBER_QUANTILE,
    Article,
    embedding_texts,
    match_articles,
    read_help_center,
)
from ticket_intel.core.retrieve import unit_rows

ARTICLES = PROJECT_ROOT / "bench" / "data" / "banking_help_center.json"
Themes = Mapping[str, tuple[np.ndarray, np.ndarray]]  # intent -> (centroid, member cosines)
Matcher = Callable[[Themes, Sequence[Article], np.ndarray], dict[str, Article | None]]


def shipped(quantile: float) -> Matcher:
    def match(themes: Themes, articles: Sequence[Article], vecs: np.ndarray) -> dict[str, Article | None]:
        found = match_articles({t: c for t, (c, _) in themes.items()}, {t: m for t, (_, m) in themes.items()},
                               articles, vecs, quantile)
        return {t: m.article for t, m in found.items()}
    return match


def per_theme_bar(bar_of: Callable[[np.ndarray], float]) -> Matcher:
    """References: each theme takes its nearest article when it clears the theme's bar."""
    def match(themes: Themes, articles: Sequence[Article], vecs: np.ndarray) -> dict[str, Article | None]:
        out = {}
        for theme, (centroid, members) in themes.items():
            sims = unit_rows(vecs) @ unit_rows(centroid)
            best = int(np.argmax(sims))
            out[theme] = articles[best] if sims[best] >= bar_of(members) else None
        return out
    return match


def score(name: str, found: Mapping[str, Article | None], truth: Mapping[str, str]) -> dict[str, object]:
    right = wrong = missed = gaps = false = 0
    for intent, article in found.items():
        own = truth.get(intent)
        if own is None:
            gaps += article is None
            false += article is not None
        elif article is None:
            missed += 1
        elif article.article_id == own:
            right += 1
        else:
            wrong += 1
    return {"method": name, "own_article": f"{right}/{len(truth)}", "wrong_article": wrong, "missed": missed,
            "gap_correct": f"{gaps}/{len(found) - len(truth)}", "false_match": false,
            "accuracy": round((right + gaps) / len(found), 3)}


def main() -> int:
    if skipped_without(SHARED):
        return 0
    bank = read_csvs([str(SHARED / "banking77" / "train.csv"), str(SHARED / "banking77" / "test.csv")])
    vectors, _ = cached_embed(bank["text"].tolist(), progress=True)
    articles = read_help_center(ARTICLES)
    truth = {a["label_names"][0]: str(a["id"]) for a in json.loads(ARTICLES.read_text())["articles"]}
    article_vecs, _ = cached_embed(embedding_texts(articles))
    themes = {}
    for intent, idx in bank.groupby("category").indices.items():
        unit = unit_rows(vectors[idx])
        centroid = unit.mean(axis=0)
        themes[intent] = (centroid, unit @ unit_rows(centroid))
    methods: list[tuple[str, Matcher]] = [
        (f"shipped: nearest theme + member quantile {MEMBER_QUANTILE:.2f}", shipped(MEMBER_QUANTILE)),
        ("reference: nearest article always", per_theme_bar(lambda m: -1.0)),
        ("reference: global cosine 0.5", per_theme_bar(lambda m: 0.5)),
        (f"ablation: member quantile {MEMBER_QUANTILE:.2f} only", per_theme_bar(lambda m: np.quantile(m, MEMBER_QUANTILE))),
        *((f"nearest theme + member quantile {q:.2f}", shipped(q)) for q in (0.02, 0.05, 0.25, 0.5)),
    ]
    rows = [score(name, matcher(themes, articles, article_vecs), truth) for name, matcher in methods]
    print(f"Help-center matching: {len(themes)} banking77 intents, {len(articles)} articles "
          f"({len(truth)} intents covered)\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
