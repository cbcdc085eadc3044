"""theme_alerts: volume spikes, new patterns and regressions for each week, recorded once in ops.alerts.

Each week's alerts also go into that partition's materialization metadata: the alert sensors
read them from the event log, so they never wait for the warehouse. Their examples (ticket ids and
quotes) stay out of it: the event log is kept for ever, out of reach of retention and erasure; a
delivery reads them from the published snapshot (defs/alert_sensors.py).
"""

from datetime import date

import dagster as dg
import duckdb
import pandas as pd

from ticket_intel import warehouse as wh
from ticket_intel.core import anomalies, families
from ticket_intel.core.context import WeekContext
from ticket_intel.core.findings import ALERT_COLUMNS, with_releases
from ticket_intel.core.product_inputs import releases_from
from ticket_intel.core.releases import REGRESSION, FixSettings
from ticket_intel.core.report import md_escape
from ticket_intel.defs.partitions import WINDOW_WEEKS, week_key, weekly_asset, weeks_with_tickets
from ticket_intel.defs.resources import AlertConfig, FindingsConfig, RankingConfig, Warehouse


def alerts_for_week(con: duckdb.DuckDBPyConnection, ctx: WeekContext, settings: anomalies.AlertSettings,
                    run_id: str, fix: FixSettings) -> pd.DataFrame:
    themes = anomalies.week_themes(ctx, wh.week_rows(con, "marts.ranked_themes", ctx.week, order="rank").to_dict("records"))
    releases = releases_from(wh.stored_releases(con))
    found = with_releases(ctx, families.detect(ctx, themes, settings), themes, releases, fix)
    related = wh.latest_summaries(con, [str(t) for a in found for t in a["related_theme_ids"]], ctx.week)
    label_of = {**dict(zip(related["theme_id"], related["label"], strict=True)),
                **{str(t["theme_id"]): t["label"] for t in themes if t.get("label")}}  # may be a reviewer's
    found = anomalies.named(found, label_of)
    out = pd.DataFrame(found, columns=ALERT_COLUMNS).assign(run_id=run_id)
    wh.replace(con, [wh.Replace("ops.alerts", out, "week_start", [ctx.week])])
    return out


def _number(value: object, digits: int | None = None) -> float | None:
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return None
    return round(float(value), digits) if digits is not None else float(value)  # type: ignore[arg-type]


def _count(value: object) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def alert_payload(alerts: pd.DataFrame) -> list[dict]:
    """JSON-safe alerts for the event log, where the sensors read them: counts, labels and ids of
    themes, no ticket's id or words."""
    return [{
        "alert_key": a["alert_key"], "theme_id": _text(a["theme_id"]), "kind": a["kind"], "label": a["label"],
        "week_start": a["week_start"].isoformat(), "tickets": int(a["tickets"]), "customers": int(a["customers"]),
        "baseline": _number(a["baseline"], 3), "ratio": _number(a["ratio"], 3), "p_value": _number(a["p_value"]),
        "customer_baseline": _number(a["customer_baseline"], 3), "top_customer_tickets": _count(a["top_customer_tickets"]),
        "concentrated": bool(a["concentrated"]), "baseline_weeks": _count(a["baseline_weeks"]),
        "after_release": _text(a["after_release"]),
        "after_release_days": _count(a["after_release_days"]), "fix_release": _text(a["fix_release"]),
        "related_theme_ids": list(a["related_theme_ids"]) if a["related_theme_ids"] is not None else [],
        "related_labels": list(a["related_labels"]) if a["related_labels"] is not None else [],
        "since": a["since"].isoformat() if isinstance(a["since"], date) else None,
        "related_tickets": anomalies.related_counts(a) or [],
        "with_queue": anomalies.rose_with_queue(a),
    } for a in alerts.to_dict("records")]


def alerts_table(payload: list[dict]) -> str:
    """The week's alerts as Markdown, for the asset page in the UI; labels, releases and ids escaped, as a
    `|` in any of them split the row."""
    if not payload:
        return "No alerts this week."
    lines = ["| kind | theme | tickets | customers | baseline | ratio | p | release |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for a in payload:
        ratio = (f"{a['ratio']:.1f}x" if a["ratio"] is not None else "new") + (  # a spike's continues its event
            f" since {a['since']}" if anomalies.began_before(a.get("since"), a["week_start"]) else "")
        p = f"{a['p_value']:.1g}" if a["p_value"] is not None else ""
        who = f"{a['customers']}" + (f" (one has {a['top_customer_tickets']})" if a["concentrated"] else "")
        release = (f"fixed in {a['fix_release']}" if a["fix_release"] else
                   f"{a['after_release_days']} d after {a['after_release']}" if a["after_release"] else "")
        counts = anomalies.related_counts(a)
        names = [f"{r} {n}" for r, n in zip(anomalies.related_names(a), counts, strict=True)] if counts else \
            anomalies.related_names(a)
        related = f" (with {md_escape(', '.join(names))})" if a["related_theme_ids"] else ""
        theme = anomalies.scope_name(a) if a["kind"] == anomalies.QUEUE_SURGE else \
            f"{md_escape(a['label'])} `{a['theme_id']}`" + (" (rose with the queue)" if a.get("with_queue") else "")
        lines.append(f"| {a['kind']} | {theme}{related} | {a['tickets']} | "
                     f"{who} | {a['baseline']:.1f} | {ratio} | {p} | {md_escape(release)} |")
    return "\n".join(lines)


@weekly_asset(
    group_name="insight",
    deps=["ranked_themes", "ticket_clusters"],
    description="Volume spikes (>= 2x trailing baseline and statistically unlikely), surges of the whole queue "
    "(one alert naming the spikes that rose with it), new patterns and regressions of fixed themes, each with the release it followed, written to ops.alerts once per "
    "(theme, week, kind); the sensors notify from this metadata.",
)
def theme_alerts(context: dg.AssetExecutionContext, warehouse: Warehouse, alerts: AlertConfig,
                 ranking: RankingConfig, findings: FindingsConfig):
    settings, fix = alerts.settings(ranking), findings.settings(alerts).fix
    with warehouse.connect() as con:
        for week in weeks_with_tickets(context, con):
            ctx = warehouse.week_context(con, week, context.run.run_id, WINDOW_WEEKS)
            payload = alert_payload(alerts_for_week(con, ctx, settings, context.run.run_id, fix))
            context.add_asset_metadata({
                "alerts": dg.MetadataValue.json(payload),
                "spikes": dg.MetadataValue.int(sum(a["kind"] == anomalies.SPIKE for a in payload)),
                "new_patterns": dg.MetadataValue.int(sum(a["kind"] == anomalies.NEW_PATTERN for a in payload)),
                "regressions": dg.MetadataValue.int(sum(a["kind"] == REGRESSION for a in payload)),
                "queue_surges": dg.MetadataValue.int(sum(a["kind"] == anomalies.QUEUE_SURGE for a in payload)),
                "table": dg.MetadataValue.md(alerts_table(payload)),
            }, partition_key=week_key(week))
    return dg.MaterializeResult()
