"""Alert sensors: each alert in `theme_alerts` metadata is delivered once, failures retried.

They read materialization metadata from the Dagster event log, never the DuckDB file, so they
never wait for the warehouse lock. The cursor (`notify.Outbox`) holds the last event read, the
keys already delivered and the alerts still pending; a tick that cannot deliver leaves them
pending for the next one. Every attempt is recorded as an observation of the alert's week.
"""

import dagster as dg

from ticket_intel.core import anomalies
from ticket_intel.core.notify import DeliveryError, Outbox
from ticket_intel.core.releases import REGRESSION
from ticket_intel.defs.resources import AlertConfig

ALERTS_ASSET = dg.AssetKey("theme_alerts")
EVENTS_PER_TICK = 100


def _observation(alert: dict, metadata: dict) -> dg.AssetObservation:
    return dg.AssetObservation(asset_key=ALERTS_ASSET, partition=alert["week_start"],
                               metadata={"alert_key": alert["alert_key"], **metadata})


def _alert_sensor(name: str, kind: str, description: str) -> dg.SensorDefinition:
    @dg.sensor(name=name, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
               description=description)
    def _sensor(context: dg.SensorEvaluationContext, alerts: AlertConfig) -> dg.SensorResult:
        box = Outbox.load(context.cursor)
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=ALERTS_ASSET, after_storage_id=box.after),
            limit=EVENTS_PER_TICK, ascending=True,
        ).records
        for record in records:
            entry = record.asset_materialization.metadata.get("alerts") if record.asset_materialization else None
            box.add(entry.value if entry else [], kind)
            box.after = record.storage_id
        events = []
        for key in sorted(box.pending):
            alert = box.pending[key]["alert"]
            try:
                sent = alerts.send(alert)
            except DeliveryError as exc:
                attempts = box.failed(key, str(exc))
                context.log.warning(f"{key}: {exc} (attempt {attempts}; retrying next tick)")
                events.append(_observation(alert, {"delivery": "failed", "attempts": attempts, "error": str(exc)}))
                continue
            attempts = box.delivered(key)
            context.log.info(sent if alerts.notifier == "log" else f"delivered {key} via {alerts.notifier}")
            events.append(_observation(alert, {"delivery": "sent", "notifier": alerts.notifier, "attempts": attempts}))
        failed = sum(e.metadata["delivery"].value == "failed" for e in events)
        summary = (f"sent {len(events) - failed}, failed {failed} (pending: {len(box.pending)})" if events
                   else "no new alerts")
        # a tick requests no runs, so Dagster lists it as skipped: the reason says what it did
        return dg.SensorResult(cursor=box.dump(), asset_events=events, skip_reason=summary)

    return _sensor


volume_spike_sensor = _alert_sensor(
    "volume_spike_sensor", anomalies.SPIKE,
    "Sends each volume-spike alert from theme_alerts once through the configured notifier.",
)
new_pattern_sensor = _alert_sensor(
    "new_pattern_sensor", anomalies.NEW_PATTERN,
    "Sends each new-pattern alert from theme_alerts once through the configured notifier.",
)
regression_sensor = _alert_sensor(
    "regression_sensor", REGRESSION,
    "Sends each regression alert (a theme fixed in a release that came back) from theme_alerts once.",
)
