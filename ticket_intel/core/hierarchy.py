"""Group related themes under a parent: "Cards: 4 themes, 73 tickets".

A theme whose product area the taxonomy decided (core/taxonomy.py) sits under that area: a
person chose those groups. The remaining themes are grouped by their centroids: average-linkage
agglomerative clustering on cosine distance, cut where groups are no longer closer to each
other than a typical ticket is to its own theme's centre (the median over themes of their
tickets' mean cosine distance to the centroid). Themes that close overlap, so they are related;
the bar comes from the data, not from a number tuned to one embedding model or product. (The
silhouette-best cut, tried first, put 15 of the sample's 17 themes into one group: on themes
that are all fairly distinct the silhouette curve is flat and favours two groups.) A theme alone
after the cut has no parent.

A group's label is the term that most of its themes share among their distinctive terms, else
the label of its largest theme; its id is `group:` + its smallest theme id, so it is stable as
long as that theme stays in it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist

from ticket_intel.core.taxonomy import UNASSIGNED
from ticket_intel.core.vocabulary import capitalised

COLUMNS = ["theme_id", "parent_id", "parent_label", "parent_kind"]
AREA, GROUP = "area", "group"


def typical_radius(member_similarity: Mapping[str, Sequence[float]]) -> float:
    """The median over themes of their tickets' mean cosine distance to the centroid."""
    radii = [1.0 - float(np.mean(sims)) for sims in member_similarity.values() if len(sims)]
    if not radii:
        raise ValueError("no theme has its tickets' similarities to its centroid")
    return float(np.median(radii))


def centroid_groups(centroids: np.ndarray, radius: float) -> np.ndarray:
    """Group numbers (1..k) per row: average linkage on cosine distance, cut at `radius`."""
    if len(centroids) < 2:
        return np.ones(len(centroids), dtype=int)
    return fcluster(linkage(pdist(centroids, "cosine"), "average"), radius, "distance")


def group_label(members: pd.DataFrame) -> str:
    """The term most member themes share (at least half of them, and two), the most distinctive
    of those first, as customers spell it in the labels; else the largest theme's label."""
    lists = [list(row) for row in members.get("terms", []) if isinstance(row, list | tuple | np.ndarray)]
    shared = Counter(t for row in lists for t in set(row))
    needed = max(2, -(-len(members) // 2))
    candidates = [t for t, n in shared.items() if n >= needed]
    if candidates:
        rank = {t: (-shared[t], np.mean([row.index(t) for row in lists if t in row]), t) for t in candidates}
        term = min(candidates, key=rank.__getitem__)
        words = {w.lower(): w for label in members["label"] for w in str(label).split()}
        return words.get(term.lower(), capitalised(term))
    return str(members.sort_values(["tickets", "theme_id"], ascending=[False, True])["label"].iloc[0])


def build_hierarchy(themes: pd.DataFrame, centroids: Mapping[str, np.ndarray],
                    member_similarity: Mapping[str, Sequence[float]]) -> pd.DataFrame:
    """Each theme's parent (`COLUMNS`; parent columns None when it has none).

    `themes`: theme_id, label, tickets, product_area (None or Unassigned: not decided), and
    optionally terms; `centroids`: the vector of every theme without an area;
    `member_similarity`: per theme, its tickets' cosine to its centroid (sets the cut).
    """
    rows: list[dict[str, Any]] = []
    decided = themes["product_area"].notna() & (themes["product_area"] != UNASSIGNED)
    for row in themes[decided].itertuples():
        rows.append({"theme_id": row.theme_id, "parent_id": f"area:{row.product_area}",
                     "parent_label": row.product_area, "parent_kind": AREA})
    rest = themes[~decided].sort_values("theme_id")
    missing = [t for t in rest["theme_id"] if t not in centroids]
    if missing:
        raise ValueError(f"no centroid for themes without a product area: {missing[:5]}")
    groups = (centroid_groups(np.stack([centroids[t] for t in rest["theme_id"]]), typical_radius(member_similarity))
              if len(rest) > 1 else [])
    for group in sorted(set(groups)):
        members = rest[np.asarray(groups) == group]
        if len(members) < 2:
            continue
        parent = {"parent_id": f"group:{members['theme_id'].min()}", "parent_label": group_label(members),
                  "parent_kind": GROUP}
        rows += [{"theme_id": t, **parent} for t in members["theme_id"]]
    placed = {r["theme_id"] for r in rows}
    rows += [{"theme_id": t, "parent_id": None, "parent_label": None, "parent_kind": None}
             for t in themes["theme_id"] if t not in placed]
    return pd.DataFrame(rows, columns=COLUMNS)


def parents(hierarchy: pd.DataFrame, themes: pd.DataFrame) -> list[dict[str, Any]]:
    """Each parent with its theme count and tickets, largest first, and its one-line summary."""
    joined = hierarchy.dropna(subset=["parent_id"]).merge(themes[["theme_id", "tickets"]], on="theme_id")
    out = []
    for (parent_id, label, kind), group in joined.groupby(["parent_id", "parent_label", "parent_kind"]):
        n, tickets = len(group), int(group["tickets"].sum())
        out.append({"parent_id": parent_id, "label": label, "kind": kind, "themes": n, "tickets": tickets,
                    "theme_ids": sorted(group["theme_id"]),
                    "summary": f"{label}: {n} theme{'' if n == 1 else 's'}, {tickets} tickets"})
    return sorted(out, key=lambda p: (-p["tickets"], p["parent_id"]))


def parent_of(hierarchy: pd.DataFrame) -> dict[str, tuple[str | None, str | None]]:
    """theme_id -> (parent_id, parent_label), for the per-theme output."""
    return {r.theme_id: (r.parent_id, r.parent_label) for r in hierarchy.itertuples()}
