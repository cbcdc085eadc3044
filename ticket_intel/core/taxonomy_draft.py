"""Draft a taxonomy.yaml from the data's own themes, for a product the shipped example does not describe.

Related themes are grouped exactly as the theme hierarchy groups them (core/hierarchy.py: centroid
groups cut at the typical theme radius). Each group of at least two themes, and each theme large
enough to stand alone, becomes an area: named by the term its themes share, described by their
labels, with their most distinctive terms as keywords and the helpdesk tags most of their tickets
carry. A keyword is kept only where most of the themed tickets it names in passing, as the taxonomy
reads keywords (a word start: "rep" names "reply" and "report"), are the area's own: "time", "day"
or "rep" would count other themes' tickets for the area. Themes formed within each product are
drafted within each product, each area listing its product. It is a draft for a person to edit, never
applied on its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import yaml

from ticket_intel.core.hierarchy import centroid_groups, group_label, typical_radius
from ticket_intel.core.summarize import LABEL_SEPARATOR
from ticket_intel.core.taxonomy import AREA_MAJORITY, mentions
from ticket_intel.core.vocabulary import capitalised

TERMS_PER_THEME = 3
MAX_KEYWORDS = 10
KEYWORD_PRECISION = 0.5  # of the themed tickets a keyword names in passing, the share that must be the area's
LEFT_OUT = "left_out"  # the draft's groups of themes without a telling keyword or a carried tag
DRAFT_TEXTS = 500  # tickets per theme read to judge keywords: a draft of a large window stays quick


def _telling(keyword: str, members: Sequence[str], texts: Mapping[str, Sequence[str]]) -> bool:
    """Whether the area's tickets name the keyword, and most of the themed tickets that mention it in
    passing are the area's: a theme most of whose tickets name it is about it (login trouble in
    another product) and would rightly join the area; mentions scattered through themes about other
    things are what make a keyword too generic ("time", "day", "rep" for reply and report)."""
    area = scattered = 0
    for theme, theme_texts in texts.items():
        named = sum(mentions((keyword,), text) for text in theme_texts)
        if theme in members:
            area += named
        elif named < AREA_MAJORITY * len(theme_texts):
            scattered += named
    return area > 0 and area >= KEYWORD_PRECISION * (area + scattered)


def _area(members: pd.DataFrame, tags: Mapping[str, Sequence[Sequence[str]]],
          texts: Mapping[str, Sequence[str]]) -> dict[str, object]:
    keywords = [k for k in dict.fromkeys(t for terms in members["terms"] for t in list(terms)[:TERMS_PER_THEME])
                if not texts or _telling(k, list(members["theme_id"]), texts)]
    tickets = [list(ticket) for theme in members["theme_id"] for ticket in tags.get(theme, [])]
    common = Counter(t for ticket in tickets for t in set(ticket))
    area: dict[str, object] = {
        "name": group_label(members),
        "description": "Drafted from: " + "; ".join(members.sort_values("tickets", ascending=False)["label"]),
        "keywords": keywords[:MAX_KEYWORDS],
    }
    carried = sorted(t for t, n in common.items() if n >= 0.5 * len(tickets))
    if carried:
        area["tags"] = carried
    return area


def area_name(label: str) -> str:
    """An area is named like one, not like a theme: "Transfer" for a group labelled by its largest
    theme "Transfer · failed", "Payment" for the shared term "payment" (acronyms as written)."""
    return capitalised(label.split(LABEL_SEPARATOR)[0].strip())


def draft(themes: pd.DataFrame, centroids: Mapping[str, np.ndarray],
          member_similarity: Mapping[str, Sequence[float]], tags: Mapping[str, Sequence[Sequence[str]]],
          min_tickets: int, texts: Mapping[str, Sequence[str]] | None = None) -> dict[str, object]:
    """`themes`: theme_id, label, terms, tickets[, product]; `texts`: each theme's ticket texts (a sample
    will do), which keep a keyword only where it names mostly the area's tickets; the draft as a taxonomy
    document. Themes of several products (formed within each) are drafted product by product, each
    area scoped to its product (`products`): one product's "Build" is not another's."""
    themes = themes[themes["theme_id"].isin(list(centroids))].sort_values("theme_id").reset_index(drop=True)
    if themes.empty:
        raise ValueError("no themes to draft a taxonomy from; run the pipeline first")
    radius = typical_radius(member_similarity)
    product = themes["product"].fillna("") if "product" in themes else pd.Series("", index=themes.index)
    apart = product[product != ""].nunique() > 1
    areas = []
    for name, mine in themes.groupby(product.to_numpy() if apart else np.zeros(len(themes)), sort=True):
        own = {t: (texts or {})[t] for t in mine["theme_id"] if t in (texts or {})}  # keywords judged in the product
        groups = centroid_groups(np.stack([centroids[t] for t in mine["theme_id"]]), radius)
        for group in sorted(set(groups)):
            members = mine[np.asarray(groups) == group]
            if len(members) >= 2 or int(members["tickets"].sum()) >= min_tickets:
                scope = {"products": [name]} if apart and name else {}  # a list of its own: no YAML alias
                areas.append((int(members["tickets"].sum()), _area(members, tags, own) | scope))
    ordered = [a for _, a in sorted(areas, key=lambda x: -x[0])]
    _name(ordered)
    named = [a for a in ordered if a["keywords"] or a.get("tags")]
    return {"product_areas": named, "synonyms": {}, LEFT_OUT: [a["description"] for a in ordered if a not in named]}


def _name(areas: Sequence[dict[str, object]]) -> None:
    """Each area named like one (`area_name`); where two share that name, by their product when that
    tells them apart, else by the group's label."""
    short = [area_name(str(a["name"])) for a in areas]
    product = [(a.get("products") or [""])[0] for a in areas]
    uses, per_product = Counter(short), Counter(zip(short, product, strict=True))
    for area, name, owner in zip(areas, short, product, strict=True):
        if uses[name] == 1:
            area["name"] = name
        elif owner and per_product[name, owner] == 1:
            area["name"] = f"{name} ({owner})"


def render(document: Mapping[str, object], source: str) -> str:
    """The draft as taxonomy.yaml; the groups no keyword or tag could name are listed as comments."""
    header = (f"# Drafted by `ticket-intel taxonomy suggest` from {source}.\n"
              "# Review every area: rename, merge, reorder (earlier areas win ties) and prune keywords.\n")
    left_out = "".join(f"# Left out, no word of theirs names them apart: {d.removeprefix('Drafted from: ')}\n"
                       for d in document.get(LEFT_OUT) or [])
    body = {k: v for k, v in document.items() if k != LEFT_OUT}
    return header + left_out + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)
