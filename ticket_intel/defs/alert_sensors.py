"""Alert sensors: each alert in `theme_alerts` metadata is delivered once, failures retried.

They read materialization metadata from the Dagster event log, never the DuckDB file. The
cursor holds the last event seen, the keys already delivered and the alerts still pending.
"""

import json
from typing import Any

import dagster as dg

from ticket_intel.core import anomalies
from ticket_intel.core.notify import DeliveryError
from ticket_intel.defs.resources import Notifier


def _alert_sensor(name: str, kind: str, description: str) -> dg.SensorDefinition:
    @dg.sensor(name=name, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
               description=description)
    def _sensor(context: dg.SensorEvaluationContext, notifier: Notifier) -> dg.SensorResult:
        state: dict[str, Any] = json.loads(context.cursor) if context.cursor else {}
        after, sent = state.get("after"), set(state.get("sent", []))
        pending: dict[str, dict[str, Any]] = state.get("pending", {})
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("theme_alerts"), after_storage_id=after),
            limit=100, ascending=True,
        ).records
        for record in records:
            entry = record.asset_materialization.metadata.get("alerts") if record.asset_materialization else None
            for alert in (entry.value if entry else None) or []:
                if alert["kind"] == kind and alert["alert_key"] not in sent:
                    pending.setdefault(alert["alert_key"], {"alert": alert, "attempts": 0})
            after = record.storage_id
        events = []
        for key in sorted(pending):
            item = pending[key]
            try:
                notifier.send(item["alert"])
            except DeliveryError as exc:
                item["attempts"] += 1
                item["error"] = str(exc)
                context.log.warning(f"{key}: {exc} (attempt {item['attempts']}, retrying next tick)")
                events.append(dg.AssetObservation(
                    asset_key="theme_alerts", partition=item["alert"]["week_start"],
                    metadata={"alert_key": key, "delivery": "failed", "attempts": item["attempts"], "error": str(exc)},
                ))
                continue
            context.log.info(f"delivered {key} via {notifier.kind}")
            events.append(dg.AssetObservation(
                asset_key="theme_alerts", partition=item["alert"]["week_start"],
                metadata={"alert_key": key, "delivery": "sent", "notifier": notifier.kind,
                          "attempts": item["attempts"] + 1},
            ))
            sent.add(key)
            del pending[key]
        cursor = json.dumps({"after": after, "sent": sorted(sent), "pending": pending}, sort_keys=True)
        return dg.SensorResult(cursor=cursor, asset_events=events,
                               skip_reason=None if events else "no new alerts")

    return _sensor


volume_spike_sensor = _alert_sensor(
    "volume_spike_sensor", anomalies.SPIKE,
    "Sends each volume-spike alert from theme_alerts once through the configured notifier.",
)
new_pattern_sensor = _alert_sensor(
    "new_pattern_sensor", anomalies.NEW_PATTERN,
    "Sends each new-pattern alert from theme_alerts once through the configured notifier.",
)
