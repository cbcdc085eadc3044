"""Language detection on real customer tweets: accuracy against hand labels, speed and memory.

The labels (`bench/labels/twcs_language.csv`, tweet ids only: the tweets stay in
../shared/datasets/twcs_sample) are the 280 inbound tweets of twcs_small.csv on which at least one
of py3langid, fastText lid.176 and lingua did not say English (one mixed German/English tweet
left out), plus 200 random inbound tweets on which all three said English: a set enriched with
the hard cases. `und` labels mark texts with no language (emoji, numbers, addresses, hashtags).

Rows: the project's detector (words only, `und` below MIN_LETTERS letters or MIN_PROBABILITY),
the same fastText model on the raw tweet without those rules (the reference), and, when they are
importable, py3langid and lingua under the project's rules. Each runs in a fresh process; speed is
measured on all 2,718 inbound tweets repeated to `--texts`.

    .venv/bin/python -m bench.language [--texts 20000]
"""

from __future__ import annotations

import argparse
import importlib.util
import re
from collections.abc import Callable, Sequence

import pandas as pd

from bench.common import SHARED, in_fresh_process, skipped_without, table
from ticket_intel import PROJECT_ROOT
from ticket_intel.core import language

LABELS = PROJECT_ROOT / "bench" / "labels" / "twcs_language.csv"
TWCS = SHARED / "twcs_sample" / "twcs_small.csv"
_LETTER = re.compile(r"[^\W\d_]")


def _fasttext_raw(texts: Sequence[str]) -> list[str]:
    return [language._best(t.replace("\n", " "))[0] for t in texts]


def _under_rules(best: Callable[[str], tuple[str, float]]) -> Callable[[str], str]:
    """Another library behind the project's cleaning and `und` rules, for a like-for-like comparison."""
    def detect(text: str) -> str:
        words = language.language_text(text)
        if len(_LETTER.findall(words)) < language.MIN_LETTERS:
            return language.UNDETERMINED
        lang, probability = best(words)
        return lang if probability >= language.MIN_PROBABILITY else language.UNDETERMINED
    return detect


def _py3langid(texts: Sequence[str]) -> list[str]:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return [_under_rules(identifier.classify)(t) for t in texts]


def _lingua(texts: Sequence[str]) -> list[str]:
    from lingua import LanguageDetectorBuilder

    detector = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()

    def best(words: str) -> tuple[str, float]:
        [top, *_] = detector.compute_language_confidence_values(words)
        return top.language.iso_code_639_1.name.lower(), top.value
    return [_under_rules(best)(t) for t in texts]


METHODS: dict[str, tuple[Callable[[Sequence[str]], list[str]], str | None]] = {
    "fastText lid.176, raw text (reference)": (_fasttext_raw, None),
    "ticket_intel detect_languages": (language.detect_languages, None),
    "py3langid under the same rules": (_py3langid, "py3langid"),
    "lingua (high accuracy) under the same rules": (_lingua, "lingua"),
}


def _scores(predicted: pd.Series, truth: pd.Series) -> dict[str, float]:
    foreign, english, noise = ~truth.isin(["en", "und"]), truth == "en", truth == "und"
    return {
        "foreign_recall": float((predicted[foreign] == truth[foreign]).mean()),
        "foreign_as_en": float((predicted[foreign] == "en").mean()),
        "en_as_foreign": float((~predicted[english].isin(["en", "und"])).mean()),
        "en_as_und": float((predicted[english] == "und").mean()),
        "noise_as_foreign": float((~predicted[noise].isin(["en", "und"])).mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=20_000)
    args = parser.parse_args()
    if skipped_without(TWCS):
        return
    tweets = pd.read_csv(TWCS, dtype=str, keep_default_na=False)
    inbound = tweets.loc[tweets["inbound"] == "True", "text"].tolist()
    labels = pd.read_csv(LABELS, dtype=str).merge(tweets[["tweet_id", "text"]], on="tweet_id")
    speed_texts = (inbound * (args.texts // len(inbound) + 1))[: args.texts]
    rows, reference_s = [], None
    for name, (fn, package) in METHODS.items():
        if package and importlib.util.find_spec(package) is None:
            print(f"{name}: not installed, skipped")
            continue
        predicted, _, _ = in_fresh_process(fn, labels["text"].tolist())
        _, seconds, rss = in_fresh_process(fn, speed_texts)
        reference_s = reference_s or seconds
        rows.append({"method": name, **_scores(pd.Series(predicted), labels["language"]),
                     "texts_per_s": round(len(speed_texts) / seconds), "x_reference_time": seconds / reference_s,
                     "peak_rss_mb": round(rss)})
    print(f"{len(labels)} labelled tweets ({(~labels['language'].isin(['en', 'und'])).sum()} not English, "
          f"{(labels['language'] == 'en').sum()} English, {(labels['language'] == 'und').sum()} no language); "
          f"speed on {len(speed_texts):,} tweets\n")
    print(table(rows, "{:.3f}"))


if __name__ == "__main__":
    main()
