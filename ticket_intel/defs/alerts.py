"""theme_alerts: volume spikes and new patterns for each week, recorded once in ops.alerts."""

from datetime import date

import dagster as dg
import duckdb
import pandas as pd

from ticket_intel import warehouse as wh
from ticket_intel.core import anomalies
from ticket_intel.core.rank import weekly_counts
from ticket_intel.core.review import review_state
from ticket_intel.core.weeks import window
from ticket_intel.defs.partitions import WINDOW_WEEKS, weekly, weeks_of
from ticket_intel.defs.ranking import new_theme_ids
from ticket_intel.defs.resources import PipelineConfig, Warehouse


def alerts_for_week(con: duckdb.DuckDBPyConnection, week: date, settings: PipelineConfig, run_id: str) -> pd.DataFrame:
    ranked = wh.read(con, "SELECT * FROM marts.ranked_themes WHERE week_start = ? ORDER BY rank", [week])
    frame = wh.window_tickets(con, week)
    state = review_state(wh.reviews(con))
    frame["theme_id"] = [state.canonical(t) if isinstance(t, str) else None for t in frame["theme_id"]]
    themed = frame[frame["theme_id"].notna()]
    weeks = window(week, WINDOW_WEEKS)[:-1]
    counts = weekly_counts(themed, weeks) if len(themed) else pd.DataFrame(columns=weeks)
    history = {t: [int(v) for v in row] for t, row in counts.iterrows()}
    found = anomalies.detect(week, ranked.to_dict("records"), history, new_theme_ids(con, week), settings.alert_settings())
    out = pd.DataFrame(found, columns=[
        "alert_key", "week_start", "theme_id", "kind", "label", "tickets", "customers", "baseline", "ratio",
        "p_value", "example_ticket_ids",
    ]).assign(run_id=run_id)
    wh.replace(con, [wh.Replace("ops.alerts", out, "week_start", [week])])
    return out


def alert_payload(alerts: pd.DataFrame) -> list[dict]:
    """JSON-safe alerts for the event log, where the sensors read them."""
    records = []
    for a in alerts.to_dict("records"):
        records.append({
            **{k: a[k] for k in ("alert_key", "theme_id", "kind", "label", "tickets", "customers")},
            "week_start": a["week_start"].isoformat(),
            "baseline": None if pd.isna(a["baseline"]) else round(float(a["baseline"]), 3),
            "ratio": None if a["ratio"] is None or pd.isna(a["ratio"]) else round(float(a["ratio"]), 3),
            "p_value": None if a["p_value"] is None or pd.isna(a["p_value"]) else float(a["p_value"]),
            "example_ticket_ids": list(a["example_ticket_ids"]),
        })
    return records


@dg.asset(
    partitions_def=weekly,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb",
    group_name="insight",
    kinds={"duckdb", "python"},
    deps=["ranked_themes", "ticket_clusters"],
    description="Volume spikes (>= 2x trailing baseline and Poisson-unlikely) and new patterns, "
    "written to ops.alerts once per (theme, week, kind); the sensors notify from this metadata.",
)
def theme_alerts(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: PipelineConfig):
    frames = []
    with warehouse.connect() as con:
        for week in weeks_of(context):
            frames.append(alerts_for_week(con, week, settings, context.run.run_id))
    alerts = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    payload = alert_payload(alerts) if len(alerts) else []
    return dg.MaterializeResult(metadata={
        "alerts": dg.MetadataValue.json(payload),
        "spikes": dg.MetadataValue.int(sum(a["kind"] == anomalies.SPIKE for a in payload)),
        "new_patterns": dg.MetadataValue.int(sum(a["kind"] == anomalies.NEW_PATTERN for a in payload)),
    })
