"""Map themes to product areas from a reviewed `taxonomy.yaml`.

Each area has a name, a description, keywords and (optionally) the helpdesk tags that mean
it and the products it belongs to (`products`: an inbox of several products, whose areas differ;
none: every product); `synonyms` folds tag spellings together (billing = payments, follow-up = follow_up). A
theme's area must be named by at least half of its tickets, through a tag of the area (agents
triaged them) or one of its keywords; among the areas that fit, the theme's most distinctive
c-TF-IDF term decides, then the number of tickets. Otherwise the theme is "Unassigned", and the
report says how much of the week the taxonomy covers. `suggest` drafts a taxonomy from the data's
own themes and tags, for a product the shipped example does not describe. The file's content hash versions the taxonomy, so
editing it marks dependent assets stale until the weeks are backfilled.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ticket_intel import PROJECT_ROOT
from ticket_intel.core.meaning import product_words
from ticket_intel.core.week_config import Value
from ticket_intel.core.yaml_text import STRICT, load_model

TAXONOMY_FILE = "taxonomy.yaml"
UNASSIGNED = "Unassigned"
# An area must be named by at least half of a theme's tickets (its tags or keywords).
AREA_MAJORITY = 0.5


@dataclass(frozen=True)
class Area:
    name: str
    description: str
    keywords: tuple[str, ...]
    tags: frozenset[str] = frozenset()
    products: frozenset[str] = frozenset()  # normalised (`normalise_tag`); empty: every product

    def matches(self, text: str) -> bool:
        return _mentions(self.keywords, text.lower())


@dataclass(frozen=True)
class Taxonomy:
    areas: tuple[Area, ...] = ()
    synonyms: dict[str, str] = field(default_factory=dict)  # tag variant -> canonical tag

    def canonical_tag(self, tag: str) -> str:
        key = normalise_tag(tag)
        return self.synonyms.get(key, key)

    def for_product(self, product: str | None) -> Taxonomy:
        """The taxonomy as it applies to one product's tickets: the areas of other products left out,
        and the product's own name no keyword (`without`)."""
        key = normalise_tag(product or "")
        mine = tuple(a for a in self.areas if not a.products or key in a.products)
        scoped = self if len(mine) == len(self.areas) else Taxonomy(mine, self.synonyms)
        return scoped.without(set(product_words(product)))

    def without(self, words: Set[str]) -> Taxonomy:
        """The taxonomy with none of these words as a keyword: a product's own name is no evidence of
        an area within it (Swift compiler bugs all say "Swift", a keyword of the sample's Transfers)."""
        if not any(k in words for a in self.areas for k in a.keywords):
            return self
        areas = tuple(replace(a, keywords=tuple(k for k in a.keywords if k not in words)) for a in self.areas)
        return Taxonomy(areas, self.synonyms)


def normalise_tag(tag: str) -> str:
    """"Follow up", "follow-up" and "follow_up" are one tag."""
    return re.sub(r"[\s\-]+", "_", str(tag).strip().lower())


def locate(path: str | Path) -> Path:
    """A relative path is looked up from the working directory, then from the project root,
    so the bundled taxonomy is found whichever folder a run starts in."""
    path = Path(path)
    if path.is_absolute() or path.exists():
        return path
    bundled = PROJECT_ROOT / path
    return bundled if bundled.exists() else path


def content_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.exists() else "absent"


def version(path: str | Path) -> Value:
    """The taxonomy a setting names as a week records it: its content digest and absolute path (the
    path another shell sets)."""
    found = locate(path)
    return Value(content_hash(found), str(found.resolve()))


class _AreaEntry(BaseModel):
    model_config = ConfigDict(**STRICT, coerce_numbers_to_str=True)  # a keyword or tag such as 404 is text

    name: str = Field(min_length=1)
    description: str | None = None
    keywords: list[str] | None = None
    tags: list[str] | None = None
    products: list[str] | None = None


class _TaxonomyFile(BaseModel):
    """taxonomy.yaml as written: strict as triage.yaml and routing.yaml are, since a misspelt key
    (`product_area:`, `keyword:`) or a string for a list (`tags: billing`) silently emptied an area."""

    model_config = ConfigDict(**STRICT, coerce_numbers_to_str=True)

    product_areas: list[_AreaEntry]
    synonyms: dict[str, list[str] | None] = {}

    @model_validator(mode="after")
    def _unique(self) -> Self:
        names = [a.name for a in self.product_areas]
        if twice := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"an area is listed twice: {twice}")
        return self


def parse(text: str, source: str = TAXONOMY_FILE) -> Taxonomy:
    doc = load_model(_TaxonomyFile, text, source)
    synonyms: dict[str, str] = {}
    for canonical, variants in doc.synonyms.items():
        for variant in [canonical, *(variants or [])]:
            synonyms[normalise_tag(variant)] = normalise_tag(canonical)
    areas = tuple(Area(a.name, a.description or "", tuple(k.lower() for k in a.keywords or []),
                       frozenset(synonyms.get(normalise_tag(t), normalise_tag(t)) for t in a.tags or []),
                       frozenset(normalise_tag(p) for p in a.products or []))
                  for a in doc.product_areas)
    return Taxonomy(areas, synonyms)


def load(path: str | Path) -> Taxonomy:
    """The taxonomy a setting names (`locate`d); a file that is not there is an error, as a missing
    triage.yaml is: a misspelt path ran every week with no product areas, silently."""
    found = locate(path)
    if not found.is_file():
        raise ValueError(f"taxonomy {found} not found (the project ships {TAXONOMY_FILE})")
    return parse(found.read_text(encoding="utf-8"), str(found))


def unseen_products(taxonomy: Taxonomy, products: Iterable[str]) -> dict[str, list[str]]:
    """Per area, the `products` it lists that no ticket names: it applies to none of them. Said, not
    refused: the file is checked before the inbox is read, and a product's tickets may come later."""
    seen = {normalise_tag(p) for p in products}
    return {a.name: sorted(a.products - seen) for a in taxonomy.areas if a.products - seen}


# What a keyword's word may add and still be that word: plurals, tenses, agents, nouns of action
# (cards, charged, refunding, transferred, withdrawal, activation). Not any ending: "fee" is not in
# "feel" or "feed", "age" not in "agent", "pin" not in "ping" or "pines", "close" not in "closet".
_ENDINGS = r"(?:s|'s|’s|ed|ing|er|ers|al|als|ion|ions)?"
_CONSONANT = frozenset("bcdfghjklmnpqrstvwxz")


def _forms(keyword: str) -> tuple[str, str]:
    """(letters every form holds, a pattern of the keyword's forms): "close" also as "closing" and
    "closed", "address" as "addresses", "verify" as "verified", "pin" as "pinned"."""
    forms, stem = [re.escape(keyword) + _ENDINGS], keyword
    if keyword.endswith(("s", "x", "z", "ch", "sh")):
        forms.append(re.escape(keyword) + "es")
    if keyword.endswith("e") and not keyword.endswith("ee"):
        forms.append(re.escape(keyword) + "d")
    if len(keyword) >= 3 and keyword[-1] in _CONSONANT:
        forms.append(re.escape(keyword + keyword[-1]) + r"(?:ed|ing|er|ers)")
    if len(keyword) >= 3 and keyword[-1] in "ey":
        stem = keyword[:-1]
        forms.append(re.escape(stem) + (r"(?:ing|ion|ions|ation|ations)" if keyword[-1] == "e"
                                        else r"(?:ies|ied|ier|iers|ication|ications)"))
    return stem, "|".join(forms)


@lru_cache(maxsize=4096)
def _keyword_finder(keywords: tuple[str, ...]) -> tuple[tuple[str, ...], re.Pattern[str]]:
    """Letters each keyword's forms hold, and any form as a whole word (`_forms`): one scan of the
    lower-cased text per area rather than one per keyword, and no case-insensitive matching (twice
    the cost), as triage asks this of every ticket."""
    stems, forms = zip(*(_forms(k.lower()) for k in keywords), strict=True) if keywords else ((), ())
    return tuple(stems), re.compile(r"\b(?:" + "|".join(forms) + r")(?!\w)")


@lru_cache(maxsize=2**18)
def _mentioned(keyword_sets: tuple[tuple[str, ...], ...], text: str) -> tuple[bool, ...]:
    """Which areas (by their keywords) the text mentions. Cached per text, all areas at once: the
    summaries ask it of each ticket of a window again for every week the window covers, and a
    100k-ticket warehouse's window outgrew a cache of one entry per (area, ticket)."""
    lowered = text.lower()
    return tuple(_mentions(k, lowered) for k in keyword_sets)


def _mentions(keywords: tuple[str, ...], lowered: str) -> bool:
    """A keyword's letters in the text first: a match holds them, and most texts hold none, which
    a substring test finds in a fraction of the pattern's scan."""
    words, pattern = _keyword_finder(keywords)
    return any(k in lowered for k in words) and bool(pattern.search(lowered))


def mentions(keywords: tuple[str, ...], text: str) -> bool:
    """Whether the text names any of the keywords, as an area's keywords are read."""
    return _mentions(keywords, text.lower())


def area_evidence(taxonomy: Taxonomy, texts: Sequence[str], tags_per_ticket: Sequence[Iterable[str]] = ()
                  ) -> Counter[str]:
    """Per area, how many of the tickets carry one of its tags or mention one of its keywords."""
    ticket_tags = [{taxonomy.canonical_tag(t) for t in tags} for tags in tags_per_ticket]
    keyword_sets = tuple(a.keywords for a in taxonomy.areas)
    evidence: Counter[str] = Counter()
    for i, text in enumerate(texts):
        tags = ticket_tags[i] if i < len(ticket_tags) else set()
        for area, mentioned in zip(taxonomy.areas, _mentioned(keyword_sets, text), strict=True):
            if mentioned or area.tags & tags:
                evidence[area.name] += 1
    return evidence


def assign_area(
    taxonomy: Taxonomy,
    texts: Sequence[str],
    tags_per_ticket: Sequence[Iterable[str]] = (),
    terms: Sequence[str] = (),
) -> str:
    """The product area of a theme, only where the taxonomy really fits it: an area must be named
    (by a tag or a keyword) by at least half of the theme's tickets. Among the areas that fit, the
    one named by the theme's most distinctive term wins, then the one most tickets name, then the
    earlier in the file. Otherwise the theme is Unassigned: a taxonomy written for another product
    assigns nothing rather than something wrong."""
    if not taxonomy.areas or not texts:
        return UNASSIGNED
    evidence = area_evidence(taxonomy, texts, tags_per_ticket)
    fit = [a for a in taxonomy.areas if evidence[a.name] >= AREA_MAJORITY * len(texts)]
    if not fit:
        return UNASSIGNED
    named = next((i for i, term in enumerate(terms) for a in fit if a.matches(term)), len(terms))
    by_term = [a for a in fit if named < len(terms) and a.matches(terms[named])]
    order = {a.name: i for i, a in enumerate(taxonomy.areas)}
    return min(by_term or fit, key=lambda a: (-evidence[a.name], order[a.name])).name


def ticket_area(taxonomy: Taxonomy, text: str, tags: Iterable[str] = (), product: str | None = None) -> str:
    """One ticket's product area: among the areas of its product (`for_product`: the product a mapping
    or the source names decides which areas apply, and its name is no keyword), the one its text or
    tags name (`assign_area`)."""
    return assign_area(taxonomy.for_product(product), [text], [list(tags)])


def coverage(areas: Sequence[str | None], tickets: Sequence[int]) -> float | None:
    """The share of ranked tickets whose theme has a product area (None without tickets)."""
    total = sum(tickets)
    covered = sum(n for a, n in zip(areas, tickets, strict=True) if a and a != UNASSIGNED)
    return covered / total if total else None
