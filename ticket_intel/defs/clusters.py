"""ticket_clusters: themes over a rolling window of weeks (core/cluster.py), with ids that carry over
from the previous week (core/identity.py). Tickets kept in last week's theme by hysteresis are
marked `assignment = 'kept'`; `series_theme_id` is where this run's clustering alone put each ticket,
which weekly counts use (see core/identity.py)."""

from collections import Counter
from datetime import date

import dagster as dg
import duckdb
import numpy as np
import pandas as pd

from ticket_intel import warehouse as wh
from ticket_intel.core import cluster, identity
from ticket_intel.core.weeks import window
from ticket_intel.defs.partitions import WINDOW_WEEKS, weekly, weeks_of
from ticket_intel.defs.resources import PipelineConfig, Warehouse

WINDOW_DEP = dg.TimeWindowPartitionMapping(
    start_offset=-(WINDOW_WEEKS - 1), allow_nonexistent_upstream_partitions=True
)
PREVIOUS_WEEK = dg.TimeWindowPartitionMapping(
    start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True
)


def previous_themes(con: duckdb.DuckDBPyConnection, week: date) -> tuple[list[identity.Theme], dict[str, date]]:
    """The themes of the latest clustered week before `week`, with their tickets and birth week."""
    prev = con.execute("SELECT max(week_start) FROM staging.themes WHERE week_start < ?", [week]).fetchone()[0]
    if prev is None:
        return [], {}
    themes = wh.read(con, "SELECT theme_id, centroid, first_seen FROM staging.themes WHERE week_start = ? ORDER BY theme_id", [prev])
    members = wh.read(con, "SELECT theme_id, ticket_id FROM staging.ticket_clusters WHERE week_start = ? AND theme_id IS NOT NULL", [prev])
    by_theme = members.groupby("theme_id")["ticket_id"].agg(frozenset).to_dict()
    out = [
        identity.Theme(r.theme_id, np.asarray(r.centroid, dtype=np.float32), by_theme.get(r.theme_id, frozenset()))
        for r in themes.itertuples()
    ]
    return out, dict(zip(themes["theme_id"], themes["first_seen"], strict=True))


def cluster_week(con: duckdb.DuckDBPyConnection, week: date, settings: PipelineConfig, run_id: str) -> dict[str, int]:
    weeks = window(week, WINDOW_WEEKS)
    frame = wh.read(
        con,
        "SELECT ticket_id, week_start AS ticket_week, embedding FROM staging.ticket_embeddings "
        "WHERE week_start IN (SELECT unnest(?)) ORDER BY ticket_id",
        [weeks],
    )
    x = wh.embeddings_matrix(frame)
    ids = frame["ticket_id"].tolist()
    params = cluster.default_params(len(x), settings.seed)
    result = cluster.cluster(x, params)
    previous, first_seen = previous_themes(con, week)
    tracked = identity.track(week, x, ids, result.labels, previous, params.min_cluster_size)
    themes = identity.themes_of(x, ids, tracked.theme_of)
    number = {t.theme_id: k for k, t in enumerate(themes)}
    centroid = {t.theme_id: t.centroid for t in themes}
    this_week = (frame["ticket_week"] == week).to_numpy()
    theme_of = np.array(tracked.theme_of, dtype=object)
    clusters = pd.DataFrame({
        "week_start": week, "ticket_id": ids, "ticket_week": frame["ticket_week"], "theme_id": theme_of,
        "series_theme_id": tracked.series_of,
        "cluster": pd.array([number.get(t) for t in theme_of], dtype="Int64"),
        "probability": np.where(tracked.kept, 0.0, result.probabilities),
        "similarity": [float(x[i] @ centroid[t]) if t else np.nan for i, t in enumerate(theme_of)],
        "assignment": ["kept" if k else a for k, a in zip(tracked.kept, result.assignment, strict=True)],
        "run_id": run_id,
    })
    event_of = {e["theme_id"]: e["event"] for e in tracked.events}
    theme_rows = pd.DataFrame([{
        "week_start": week, "theme_id": t.theme_id, "cluster": number[t.theme_id],
        "size": int((theme_of == t.theme_id).sum()),
        "week_tickets": int(((theme_of == t.theme_id) & this_week).sum()),
        "centroid": t.centroid.astype(np.float32), "event": event_of[t.theme_id],
        "first_seen": first_seen.get(t.theme_id, week), "run_id": run_id,
    } for t in themes])
    events = pd.DataFrame([{**e, "week_start": week, "run_id": run_id} for e in tracked.events])
    wh.replace(con, [
        wh.Replace("staging.ticket_clusters", clusters, "week_start", [week]),
        wh.Replace("staging.themes", theme_rows, "week_start", [week]),
        wh.Replace("ops.theme_events", events, "week_start", [week]),
    ])
    counts = Counter(e["event"] for e in tracked.events)
    return {"window_tickets": len(frame), "themes": len(themes),
            "outliers": int(sum(t is None for t in tracked.theme_of)), "kept": int(tracked.kept.sum()), **counts}


@dg.asset(
    partitions_def=weekly,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb",
    group_name="themes",
    kinds={"duckdb", "python"},
    deps=[
        dg.AssetDep("ticket_embeddings", partition_mapping=WINDOW_DEP),
        dg.AssetDep("ticket_clusters", partition_mapping=PREVIOUS_WEEK),
    ],
    description="Themes over the trailing window of weeks (UMAP + HDBSCAN, seeded; pieces of one theme "
    "merged, near-outliers soft-assigned), matched to the previous week's themes with hysteresis so ids, "
    "reviews and history carry over.",
)
def ticket_clusters(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: PipelineConfig):
    stats = {}
    with warehouse.connect() as con:
        for week in weeks_of(context):
            stats[week.isoformat()] = cluster_week(con, week, settings, context.run.run_id)
            context.log.info(f"{week}: {stats[week.isoformat()]}")
    last = stats[max(stats)]
    return dg.MaterializeResult(metadata={
        "themes": dg.MetadataValue.int(last["themes"]),
        "outliers": dg.MetadataValue.int(last["outliers"]),
        "weeks": dg.MetadataValue.json(stats),
    })
