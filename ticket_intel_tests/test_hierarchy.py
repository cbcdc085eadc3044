"""Theme hierarchy (core/hierarchy.py): taxonomy areas first, centroid groups for the rest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ticket_intel.core.hierarchy import AREA, GROUP, build_hierarchy, centroid_groups, parent_of, parents


def around(direction: np.ndarray, n: int, rng: np.random.Generator, spread: float = 0.15) -> list[np.ndarray]:
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
    hierarchy = build_hierarchy(themes, {})
    assert parent_of(hierarchy)["A"] == ("area:Cards", "Cards")
    assert set(hierarchy["parent_kind"]) == {AREA}
    summary = parents(hierarchy, themes)
    assert summary[0]["summary"] == "Cards: 2 themes, 73 tickets"
    assert summary[1]["summary"] == "Fees and FX: 1 theme, 12 tickets"


def test_themes_without_an_area_are_grouped_by_centroid() -> None:
    themes, centroids = unassigned_themes(np.random.default_rng(0))
    hierarchy = build_hierarchy(themes, centroids).set_index("theme_id")
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
    hierarchy = build_hierarchy(themes, centroids).set_index("theme_id")
    assert hierarchy.loc["U3", "parent_label"] == "theme 3"  # 20 tickets, the largest of U3-U5


def test_no_structure_no_parents() -> None:
    assert (centroid_groups(np.eye(2)) == 0).all()  # fewer than three themes
    themes = pd.DataFrame({"theme_id": ["X", "Y"], "label": ["x", "y"], "tickets": [5, 5], "product_area": [None, None]})
    assert build_hierarchy(themes, {"X": np.ones(3), "Y": -np.ones(3)})["parent_id"].isna().all()


def test_missing_centroid_is_an_error() -> None:
    themes = pd.DataFrame({"theme_id": ["X"], "label": ["x"], "tickets": [5], "product_area": ["Unassigned"]})
    with pytest.raises(ValueError, match=r"no centroid.*X"):
        build_hierarchy(themes, {})
