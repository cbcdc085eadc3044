"""The week's theme step: themes within a product, tickets the model cannot read left out and counted."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from ticket_intel.core import cluster
from ticket_intel.core.context import make_context
from ticket_intel.core.rank import rank_week
from ticket_intel.core.review import ReviewState
from ticket_intel.core.theme_week import LANGUAGE, UNCLAIMED, Scopes, attributed, cluster_window
from ticket_intel.core.vocabulary import NO_PRODUCT

WEEK = date(2026, 3, 9)
DIM = 24


def window(products: tuple[str, ...] = ("Acme", "Globex"), spanish: int = 0, seed: int = 5) -> tuple[pd.DataFrame, np.ndarray]:
    """Three issues that every product has (the same vectors in each), two weeks; `spanish` extra
    tickets of Acme in Spanish sitting right inside the first issue."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(3, DIM))
    rows, vectors = [], []
    for product in products:
        for week in (WEEK - timedelta(weeks=1), WEEK):
            for c, n in enumerate((30, 20, 15)):
                for i in range(n):
                    rows.append({"ticket_id": f"{product}-{week:%d}-{c}-{i}", "ticket_week": week, "product": product,
                                 "language": "en"})
                    vectors.append(centers[c] + 0.3 * rng.normal(size=DIM))
    for i in range(spanish):
        rows.append({"ticket_id": f"es-{i}", "ticket_week": WEEK, "product": products[0], "language": "es"})
        vectors.append(centers[0] + 0.3 * rng.normal(size=DIM))
    x = np.asarray(vectors)
    return pd.DataFrame(rows), (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_each_product_is_clustered_on_its_own_with_unique_ids():
    tickets, x = window()
    step = cluster_window(WEEK, tickets, x, [], seed=3)
    clustered = step.clusters.merge(tickets[["ticket_id", "product"]], on="ticket_id")
    themed = clustered[clustered["theme_id"].notna()]
    assert themed.groupby("theme_id")["product"].nunique().max() == 1  # no theme spans two products
    assert set(step.themes["product"]) == {"Acme", "Globex"} and step.themes["theme_id"].is_unique
    assert step.stats["scopes"] == 2 and len(step.themes) >= 4


def test_products_can_be_clustered_together():
    tickets, x = window()
    step = cluster_window(WEEK, tickets, x, [], seed=3, scopes=Scopes(by_product="off"))
    clustered = step.clusters.merge(tickets[["ticket_id", "product"]], on="ticket_id")
    assert clustered.groupby("theme_id")["product"].nunique().max() == 2 and step.stats["scopes"] == 1


def test_one_product_is_one_scope():
    tickets, x = window(products=("Acme",))
    assert cluster_window(WEEK, tickets, x, [], seed=3).stats["scopes"] == 1


def test_identity_is_tracked_within_a_product():
    tickets, x = window()
    earlier = (tickets["ticket_week"] < WEEK).to_numpy()
    first = cluster_window(WEEK - timedelta(weeks=1), tickets[earlier], x[earlier], [], seed=3)
    second = cluster_window(WEEK, tickets, x, first.as_previous(), seed=3)
    continued = second.events[second.events["event"] == "continued"]["theme_id"]
    product_of = dict(zip(first.themes["theme_id"], first.themes["product"], strict=True))
    now = dict(zip(second.themes["theme_id"], second.themes["product"], strict=True))
    assert len(continued) >= 4 and all(product_of[t] == now[t] for t in continued)


def test_tickets_the_model_cannot_read_are_left_out_and_reported_per_language():
    tickets, x = window(products=("Acme",), spanish=8)
    step = cluster_window(WEEK, tickets, x, [], seed=3)
    spanish = step.clusters[step.clusters["ticket_id"].str.startswith("es-")]
    assert (spanish["assignment"] == LANGUAGE).all() and spanish["theme_id"].isna().all()
    frame = step.clusters.merge(tickets[["ticket_id", "product", "language"]], on="ticket_id").assign(
        customer_id=lambda f: f["ticket_id"], account_id=None, plan=None, monthly_revenue=None)
    ranking = rank_week(make_context(WEEK, 8, frame, ReviewState()), pd.DataFrame())
    row = ranking.not_a_theme.set_index("theme_id").loc["language:es"]
    assert row["tickets"] == 8 and row["label"] == "Spanish tickets" and "multilingual" in row["reason"]
    assert cluster_window(WEEK, tickets, x, [], seed=3, scopes=Scopes(frozenset({"*"}))).stats[
        "left_out_for_language"] == 0


def test_a_ticket_without_a_product_joins_the_product_its_neighbours_clearly_belong_to():
    """Acme's issue, Globex's two (Globex holds most tickets); unknown tickets on Acme's issue, on
    Globex's big one, and scattered."""
    rng = np.random.default_rng(4)
    centers = rng.normal(size=(3, DIM))
    parts = [(centers[0], 40), (centers[1], 40), (centers[2], 200), (centers[0], 6), (centers[2], 6)]
    x = np.concatenate([c + 0.3 * rng.normal(size=(n, DIM)) for c, n in parts] + [rng.normal(size=(6, DIM))])
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    groups = {"Acme": np.arange(40), "Globex": np.arange(40, 280), NO_PRODUCT: np.arange(280, 298)}
    out = attributed(groups, x, cluster.default_params(len(x), 3))
    assert set(range(280, 286)) <= set(out["Acme"]) and len(out["Acme"]) == 46  # Acme's issue joins Acme
    # Globex's own issue stays unknown: with most tickets Globex's, neighbours say little about product.
    assert list(out[NO_PRODUCT]) == list(range(286, 298)) and len(out["Globex"]) == 240
    assert list(out) == sorted(out)  # scopes keep their order (ids are handed out in it)
    assert attributed({"Acme": np.arange(40)}, x, cluster.default_params(len(x), 3)).keys() == {"Acme"}
    lone = {"Acme": np.arange(1), NO_PRODUCT: np.arange(280, 298)}  # one attributed ticket says nothing
    assert attributed(lone, x, cluster.default_params(len(x), 3)) is lone  # unchanged


def test_tickets_no_product_claims_are_left_out_and_reported_when_themes_form_per_product():
    """Acme and Globex each with their issues; 30 tickets naming no product, on an issue of their own
    far from both products' (twcs: tweets to unnamed companies) form no theme of mixed products."""
    tickets, x = window()
    rng = np.random.default_rng(9)
    stray = rng.normal(size=DIM) + 0.3 * rng.normal(size=(30, DIM))
    tickets = pd.concat([tickets, pd.DataFrame({"ticket_id": [f"u-{i}" for i in range(30)], "ticket_week": WEEK,
                                                "product": None, "language": "en"})], ignore_index=True)
    x = np.vstack([x, (stray / np.linalg.norm(stray, axis=1, keepdims=True)).astype(np.float32)])
    step = cluster_window(WEEK, tickets, x, [], seed=3)
    unclaimed = step.clusters[step.clusters["ticket_id"].str.startswith("u-")]
    assert (unclaimed["assignment"] == UNCLAIMED).all() and unclaimed["theme_id"].isna().all()
    assert step.stats["left_out_unclaimed"] == 30 and set(step.themes["product"]) == {"Acme", "Globex"}
    frame = step.clusters.merge(tickets[["ticket_id", "product", "language"]], on="ticket_id").assign(
        customer_id=lambda f: f["ticket_id"], account_id=None, plan=None, monthly_revenue=None)
    row = rank_week(make_context(WEEK, 8, frame, ReviewState()), pd.DataFrame()).not_a_theme.set_index("theme_id")
    assert row.loc[UNCLAIMED, "tickets"] == 30 and "TICKET_INTEL_THEMES_BY_PRODUCT=off" in row.loc[UNCLAIMED, "reason"]
    together = cluster_window(WEEK, tickets, x, [], seed=3, scopes=Scopes(by_product="off"))
    assert together.stats["left_out_unclaimed"] == 0 and together.clusters["theme_id"].notna().sum() > 250


def test_products_known_for_a_minority_do_not_split_the_queue():
    """One export names products, the others do not: splitting would scatter each issue."""
    tickets, x = window()
    tickets.loc[tickets["product"] == "Globex", "product"] = None
    tickets.loc[tickets.index[: len(tickets) // 4], "product"] = "Initech"  # a third, small named product
    share = tickets["product"].notna().mean()
    assert share <= 0.5
    assert cluster_window(WEEK, tickets, x, [], seed=3).stats["scopes"] == 1


def test_a_window_fit_on_a_sample_never_searches_the_whole_window_exactly(monkeypatch):
    """Past the sample limit the new-group scan searches neighbours by theme cells: an exact search
    of the whole window is the quadratic cost the sample avoids."""
    from dataclasses import replace

    from ticket_intel.core import cluster

    tickets, x = window(products=("Acme",))
    sized = cluster.default_params
    monkeypatch.setattr(cluster, "default_params", lambda n, seed=42: replace(sized(n, seed), sample_limit=n // 2))
    searched = cluster.neighbours

    def exact(rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        assert len(rows) < len(x), "exact neighbours of the whole window"
        return searched(rows, k)

    monkeypatch.setattr(cluster, "neighbours", exact)
    step = cluster_window(WEEK, tickets, x, [], seed=3)
    assert step.themes["theme_id"].is_unique and len(step.themes) >= 2


def test_a_new_group_keeps_its_own_rule_only_while_its_birth_week_is_in_the_window():
    """A group holding all of last week's tickets keeps them by its own rule while it is young; once its
    birth week has left the window it is an ordinary theme, and the issues it held are themes again."""
    from ticket_intel.core import identity, subgroups
    from ticket_intel.core.theme_week import PreviousTheme

    tickets, x = window(products=("Acme",))
    earlier = (tickets["ticket_week"] < WEEK).to_numpy()
    centroid = x[earlier].mean(axis=0)
    group = identity.Theme("G", centroid / np.linalg.norm(centroid), frozenset(tickets["ticket_id"][earlier]))

    def earlier_themes(born: date) -> set[str]:
        step = cluster_window(WEEK, tickets, x, [PreviousTheme(group, born, subgroups.NEW_GROUP)], seed=3)
        return set(step.clusters["theme_id"][earlier])

    assert earlier_themes(WEEK - timedelta(weeks=1)) == {"G"}
    assert len(earlier_themes(WEEK - timedelta(weeks=9)) - {None}) >= 3


def test_the_new_group_scan_runs_at_the_level_it_is_given(monkeypatch):
    """TICKET_INTEL_NEW_GROUP_MAX_P_VALUE reaches the scan of every scope (the pipeline passes
    `ClusteringConfig.new_groups`); without it the scan keeps its defaults."""
    import inspect

    from ticket_intel.core import subgroups

    seen = []
    real = subgroups.carve

    def carve(*args, **kwargs):
        seen.append(inspect.signature(real).bind(*args, **kwargs).arguments.get("settings"))
        return real(*args, **kwargs)

    monkeypatch.setattr(subgroups, "carve", carve)
    tickets, x = window()
    cluster_window(WEEK, tickets, x, [], seed=3, new_groups=subgroups.GroupSettings(max_p_value=0.02))
    assert [s.max_p_value for s in seen] == [0.02, 0.02]  # one scan per product
    seen.clear()
    cluster_window(WEEK, tickets, x, [], seed=3)
    assert [s.max_p_value for s in seen] == [subgroups.GroupSettings().max_p_value] * 2


def test_the_new_group_level_is_read_as_a_probability():
    import pytest

    from ticket_intel.defs.resources import ClusteringConfig, RankingConfig

    ranking = RankingConfig(min_theme_tickets=5, min_theme_customers=3)
    assert ClusteringConfig(new_group_max_p_value="0.05").new_groups(ranking).max_p_value == 0.05
    # a group is a theme in the making: the configured theme size and seed reach the scan
    sized = ClusteringConfig(seed=7, new_group_max_p_value="0.1").new_groups(RankingConfig(min_theme_tickets=8, min_theme_customers=4))
    assert (sized.min_tickets, sized.min_customers, sized.seed) == (8, 4, 7)
    with pytest.raises(ValueError, match="TICKET_INTEL_NEW_GROUP_MAX_P_VALUE must be between 0 and 1"):
        ClusteringConfig(new_group_max_p_value="1.5").new_groups(ranking)
    with pytest.raises(ValueError, match="must be a number"):
        ClusteringConfig(new_group_max_p_value="often").new_groups(ranking)
