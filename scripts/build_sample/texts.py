"""The customer texts: real banking77 queries, each handed out at most once."""

import csv
import random
from collections import defaultdict
from pathlib import Path

SPLITS = ("train.csv", "test.csv")
COLUMNS = ("text", "category")


class SourceError(Exception):
    """The banking77 folder is missing or not in the expected layout."""


def read_banking77(folder: Path) -> dict[str, list[str]]:
    """Texts by intent, whitespace collapsed, with repeats (ignoring case) dropped.

    A few texts differ from another one only by stray whitespace or a stray quote (e.g. a train text with an
    embedded newline that repeats a test text), so no text can appear twice in the sample.
    """
    by_intent: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    for split in SPLITS:
        path = folder / split
        if not path.is_file():
            raise SourceError(f"{path} not found: --banking77 names the folder with {' and '.join(SPLITS)}")
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if not set(COLUMNS) <= set(reader.fieldnames or ()):
                raise SourceError(f"{path} needs the columns {COLUMNS}; its header is {reader.fieldnames}")
            for row in reader:
                text = " ".join(row["text"].split()).strip('"')
                if text.casefold() not in seen:
                    seen.add(text.casefold())
                    by_intent[row["category"]].append(text)
    return by_intent


class TextPool:
    """banking77 texts by intent, shuffled once, handed out at most once each."""

    def __init__(self, by_intent: dict[str, list[str]], rng: random.Random) -> None:
        self._texts = {intent: rng.sample(texts, len(texts)) for intent, texts in sorted(by_intent.items())}

    def take(self, intent: str) -> str:
        """Next unused text of ``intent``; running out is a design error, so it raises."""
        if not self._texts.get(intent):
            raise SourceError(f"banking77 has no unused text left for {intent}")
        return self._texts[intent].pop()
