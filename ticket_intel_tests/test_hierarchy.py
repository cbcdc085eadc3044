"""Theme hierarchy (core/hierarchy.py): taxonomy areas first, centroid groups for the rest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ticket_intel.core.hierarchy import (
    AREA,
    GROUP,
    build_hierarchy,
    centroid_groups,
    parent_of,
    parents,
    typical_radius,
)

SIMS = {f"U{i}": [0.75, 0.8, 0.85] for i in range(7)}  # tickets sit at cosine distance 0.2 from their centre


def around(direction: np.ndarray, n: int, rng: np.random.Generator, spread: float = 0.06) -> list[np.ndarray]:
    return [direction + spread * rng.standard_normal(len(direction)) for _ in range(n)]


def unassigned_themes(rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Seven themes without an area: three near axis 0, three near axis 1, one on its own (axis 2)."""
    axes = np.eye(16)
    vectors = around(axes[0], 3, rng) + around(axes[1], 3, rng) + around(axes[2], 1, rng)
    ids = [f"U{i}" for i in range(7)]
    terms = [["login", "password"], ["login", "sso"], ["login"], ["export"], ["csv", "export"], ["pdf"], ["dark"]]
    frame = pd.DataFrame({"theme_id": ids, "label": [f"theme {i}" for i in range(7)], "tickets": [5, 9, 7, 20, 4, 6, 8],
                          "product_area": ["Unassigned"] * 6 + [None], "terms": terms})
    return frame, dict(zip(ids, vectors, strict=True))


def test_themes_with_an_area_sit_under_it() -> None:
    themes = pd.DataFrame({"theme_id": ["A", "B", "C"], "label": ["PIN", "Card arrival", "Fees"],
                           "tickets": [40, 33, 12], "product_area": ["Cards", "Cards", "Fees and FX"]})
    hierarchy = build_hierarchy(themes, {}, {})
    assert parent_of(hierarchy)["A"] == ("area:Cards", "Cards")
    assert set(hierarchy["parent_kind"]) == {AREA}
    summary = parents(hierarchy, themes)
    assert summary[0]["summary"] == "Cards: 2 themes, 73 tickets"
    assert summary[1]["summary"] == "Fees and FX: 1 theme, 12 tickets"


def test_themes_without_an_area_are_grouped_by_centroid() -> None:
    themes, centroids = unassigned_themes(np.random.default_rng(0))
    assert typical_radius(SIMS) == pytest.approx(0.2)
    hierarchy = build_hierarchy(themes, centroids, SIMS).set_index("theme_id")
    assert hierarchy.loc["U0", "parent_id"] == hierarchy.loc["U1", "parent_id"] == hierarchy.loc["U2", "parent_id"]
    assert hierarchy.loc["U3", "parent_id"] == hierarchy.loc["U4", "parent_id"] == hierarchy.loc["U5", "parent_id"]
    assert hierarchy.loc["U0", "parent_id"] != hierarchy.loc["U3", "parent_id"]
    assert pd.isna(hierarchy.loc["U6", "parent_id"])  # alone: no parent
    assert hierarchy.loc["U0", "parent_id"] == "group:U0" and hierarchy.loc["U0", "parent_kind"] == GROUP
    assert hierarchy.loc["U0", "parent_label"] == "Login"  # the term all three share
    assert hierarchy.loc["U3", "parent_label"] == "Export"  # shared by two of three
    by_label = {p["label"]: p for p in parents(hierarchy.reset_index(), themes)}
    assert by_label["Login"]["summary"] == "Login: 3 themes, 21 tickets"


def test_group_without_shared_terms_takes_its_largest_themes_label() -> None:
    themes, centroids = unassigned_themes(np.random.default_rng(0))
    themes = themes.drop(columns="terms")
    hierarchy = build_hierarchy(themes, centroids, SIMS).set_index("theme_id")
    assert hierarchy.loc["U3", "parent_label"] == "theme 3"  # 20 tickets, the largest of U3-U5


def test_distinct_themes_stay_apart_and_tight_ones_join() -> None:
    assert len(set(centroid_groups(np.eye(4), 0.2))) == 4  # orthogonal: cosine distance 1
    assert len(set(centroid_groups(np.eye(4), 1.01))) == 1  # a bar above every distance joins all
    themes = pd.DataFrame({"theme_id": ["X", "Y"], "label": ["x", "y"], "tickets": [5, 5], "product_area": [None, None]})
    # X and Y are at cosine distance 0.53: apart for themes whose tickets sit 0.2 from their
    # centre, together for diffuse themes whose tickets sit 0.65 from it.
    loose = {"X": [0.3, 0.4], "Y": [0.3, 0.4]}
    assert build_hierarchy(themes, {"X": np.array([1.0, 0.6]), "Y": np.array([1.0, -0.6])}, loose)["parent_id"].notna().all()
    assert build_hierarchy(themes, {"X": np.array([1.0, 0.6]), "Y": np.array([1.0, -0.6])}, SIMS)["parent_id"].isna().all()
    with pytest.raises(ValueError, match="similarities"):
        typical_radius({"X": []})


def test_missing_centroid_is_an_error() -> None:
    themes = pd.DataFrame({"theme_id": ["X"], "label": ["x"], "tickets": [5], "product_area": ["Unassigned"]})
    with pytest.raises(ValueError, match=r"no centroid.*X"):
        build_hierarchy(themes, {}, SIMS)


def test_group_label_is_the_most_distinctive_shared_term_spelled_as_in_the_labels() -> None:
    themes = pd.DataFrame({"theme_id": ["A", "B"], "label": ["ATM fee · cash", "ATM gave · pounds"], "tickets": [9, 4],
                           "product_area": [None, None], "terms": [["atm", "fee", "cash"], ["cash", "atm", "pounds"]]})
    near = {"A": np.array([1.0, 0.05]), "B": np.array([1.0, -0.05])}
    hierarchy = build_hierarchy(themes, near, {"A": [0.8], "B": [0.8]})
    assert set(hierarchy["parent_label"]) == {"ATM"}  # "atm" and "cash" are shared; "atm" ranks higher
