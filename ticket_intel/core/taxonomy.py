"""Map themes to product areas from a reviewed `taxonomy.yaml`.

Each area lists keywords; ticket tags are first mapped through synonyms (billing = payments).
A theme gets the area whose keywords and tags cover most of its tickets, or "Unassigned".
The file's content hash versions the taxonomy, so editing it marks dependent assets stale.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

UNASSIGNED = "Unassigned"


@dataclass(frozen=True)
class Area:
    name: str
    description: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    areas: tuple[Area, ...] = ()
    synonyms: dict[str, str] = field(default_factory=dict)  # variant -> canonical tag


def content_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.exists() else "absent"


def parse(text: str) -> Taxonomy:
    doc = yaml.safe_load(text) or {}
    if not isinstance(doc, dict):
        raise ValueError("taxonomy.yaml must be a mapping with product_areas and synonyms")
    areas = []
    for i, raw in enumerate(doc.get("product_areas") or []):
        if not isinstance(raw, dict) or not raw.get("name"):
            raise ValueError(f"taxonomy.yaml: product_areas[{i}] needs a name")
        keywords = tuple(str(k).lower() for k in raw.get("keywords") or [])
        areas.append(Area(str(raw["name"]), str(raw.get("description") or ""), keywords))
    synonyms = {}
    for canonical, variants in (doc.get("synonyms") or {}).items():
        for v in [canonical, *(variants or [])]:
            synonyms[str(v).lower()] = str(canonical).lower()
    return Taxonomy(tuple(areas), synonyms)


def load(path: Path) -> Taxonomy:
    return parse(path.read_text(encoding="utf-8")) if path.exists() else Taxonomy()


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    return re.compile(r"\b" + re.escape(keyword) + r"\w*", re.IGNORECASE)


def assign_area(taxonomy: Taxonomy, texts: Sequence[str], tags: Iterable[str] = (), terms: Sequence[str] = ()) -> str:
    """The area whose keywords appear in most tickets (tags and theme terms count too)."""
    if not taxonomy.areas:
        return UNASSIGNED
    canonical_tags = {taxonomy.synonyms.get(t.lower(), t.lower()) for t in tags}
    scores: Counter[str] = Counter()
    for area in taxonomy.areas:
        patterns = [_keyword_pattern(k) for k in area.keywords]
        hits = sum(any(p.search(t) for p in patterns) for t in texts)
        hits += 2 * sum(any(p.search(term) for p in patterns) for term in terms)
        area_tags = {taxonomy.synonyms.get(k, k) for k in area.keywords} | {area.name.lower()}
        hits += len(canonical_tags & area_tags)
        if hits:
            scores[area.name] = hits
    if not scores:
        return UNASSIGNED
    order = [a.name for a in taxonomy.areas]
    return min(scores, key=lambda name: (-scores[name], order.index(name)))
