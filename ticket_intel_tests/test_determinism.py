"""Same input and seed, same themes and ids: in the core, and through the Dagster asset."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd

from ticket_intel import warehouse as wh
from ticket_intel.core import cluster, identity

WEEKS = [date(2026, 3, 2), date(2026, 3, 9)]


def window_vectors(seed: int = 3, dim: int = 24) -> tuple[np.ndarray, list[str], list[date]]:
    """Four themes of uneven size over two weeks, plus scattered noise."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(4, dim))
    rows, ids, weeks = [], [], []
    for w, week in enumerate(WEEKS):
        for c, n in enumerate((40, 25, 15, 12)):
            rows.append(centers[c] + 0.35 * rng.normal(size=(n, dim)))
            ids += [f"w{w}-c{c}-{i}" for i in range(n)]
            weeks += [week] * n
        rows.append(rng.normal(size=(6, dim)))
        ids += [f"w{w}-noise-{i}" for i in range(6)]
        weeks += [week] * 6
    x = np.concatenate(rows)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), ids, weeks


def test_core_clustering_and_tracking_repeat_exactly():
    x, ids, weeks = window_vectors()
    first_week = np.array([w == WEEKS[0] for w in weeks])
    runs = []
    for _ in range(2):
        a = cluster.cluster(x[first_week], cluster.default_params(int(first_week.sum()), seed=7))
        b = cluster.cluster(x, cluster.default_params(len(x), seed=7))
        ids0 = [t for t, keep in zip(ids, first_week, strict=True) if keep]
        t0 = identity.track(WEEKS[0], x[first_week], ids0, a.labels, [], 5)
        previous = identity.themes_of(x[first_week], ids0, t0.theme_of)
        t1 = identity.track(WEEKS[1], x, ids, b.labels, previous, 5)
        runs.append((a.labels.tolist(), a.assignment, b.labels.tolist(), t0.theme_of, t1.theme_of, t1.events))
    assert runs[0] == runs[1]
    assert len(set(runs[0][4]) - {None}) >= 3


def _materialize_twice(tmp_path: Path, name: str) -> dict[str, pd.DataFrame]:
    from ticket_intel.defs.clusters import ticket_clusters
    from ticket_intel.defs.resources import AlertConfig, ClusteringConfig, RankingConfig, Warehouse

    x, ids, weeks = window_vectors()
    path = tmp_path / f"{name}.duckdb"
    with wh.open_warehouse(path) as con:
        wh.ensure_embedding_schema(con, x.shape[1])
        frame = pd.DataFrame({"week_start": weeks, "ticket_id": ids, "model": "synthetic", "text_hash": ids,
                              "embedding": list(x), "run_id": "seed"})
        redacted = pd.DataFrame({"ticket_id": ids, "week_start": weeks, "created_at": pd.to_datetime(weeks),
                                 "text": ids, "text_hash": ids})
        wh.replace(con, [wh.Replace("staging.ticket_embeddings", frame, "week_start", WEEKS),
                         wh.Replace("staging.redacted_tickets", redacted, "week_start", WEEKS)])
    resources = {"warehouse": Warehouse(database=str(path)), "clustering": ClusteringConfig(seed=11),
                 "alerts": AlertConfig(), "ranking": RankingConfig()}
    for week in WEEKS:
        result = dg.materialize([ticket_clusters], partition_key=week.isoformat(), resources=resources)
        assert result.success
    with wh.open_warehouse(path, read_only=True) as con:
        return {
            "clusters": wh.read(con, "SELECT week_start, ticket_id, theme_id, assignment, cluster "
                                     "FROM staging.ticket_clusters ORDER BY ALL"),
            "themes": wh.read(con, "SELECT week_start, theme_id, size, event, first_seen FROM staging.themes ORDER BY ALL"),
            "events": wh.read(con, "SELECT week_start, theme_id, event, related_theme_ids::VARCHAR AS related "
                                   "FROM ops.theme_events ORDER BY ALL"),
        }


def test_asset_writes_the_same_themes_and_ids_on_a_rerun(tmp_path):
    first, second = _materialize_twice(tmp_path, "a"), _materialize_twice(tmp_path, "b")
    for table in first:
        pd.testing.assert_frame_equal(first[table], second[table])
    themes = first["themes"]
    assert len(themes[themes["week_start"] == WEEKS[1]]) >= 3
    continued = first["events"].query("event == 'continued'")
    assert set(continued["week_start"]) == {WEEKS[1]}
