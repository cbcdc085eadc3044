"""Alert sensors: each alert in `theme_alerts` metadata is delivered once, failures retried.

They read materialization metadata from the Dagster event log, so they never wait for the
warehouse lock. The metadata holds no ticket's id or words (the event log is kept for ever): a
delivery's examples are read from the warehouse's published snapshot, as stored at that moment, so
a ticket erased since is not sent. The cursor (`notify.Outbox`) holds the last event read, the
keys already delivered and the alerts still pending. Only the newest weeks' alerts page
(`notify.paging_since`): a run over history or a backfill writes alerts of weeks long gone.

A slow receiver must not break "exactly once". Dagster ends a tick after 60 s and then saves
nothing of it, not even the cursor. So each request has a timeout, a tick starts a delivery only
while the request still fits in its time budget (the rest waits for the next tick), and every
attempt is recorded the moment it ends, as an observation of the alert's week keyed by its
alert_key, in the same event log. The next tick replays those records before sending anything,
so a delivery made by a tick that died is never repeated. (A receiver that answers only after
the request timed out may still get the alert again; each request names its alert in a header
for it to drop the repeat.)
"""

import time
from typing import Any

import dagster as dg

from ticket_intel import settings
from ticket_intel import warehouse as wh
from ticket_intel.core import anomalies
from ticket_intel.core.notify import FAILED, SENT, DeliveryError, Outbox, paging_since
from ticket_intel.core.releases import REGRESSION
from ticket_intel.core.vocabulary import plural
from ticket_intel.defs.resources import AlertConfig
from ticket_intel.warehouse import access

ALERTS_ASSET = dg.AssetKey("theme_alerts")
EVENTS_PER_TICK = 100


def _read_alerts(instance: dg.DagsterInstance, box: Outbox, kind: str, max_age_weeks: int) -> tuple[int, str | None]:
    """Queue the alerts of the materializations since the cursor; returns how many were of weeks
    before the first that pages (`paging_since`, looked up only when there is something to read:
    most ticks have nothing), and that week."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=ALERTS_ASSET, after_storage_id=box.after), limit=EVENTS_PER_TICK, ascending=True,
    ).records
    if not records:
        return 0, None
    since, old = paging_since(instance.get_materialized_partitions(ALERTS_ASSET), max_age_weeks), 0
    for record in records:
        entry = record.asset_materialization.metadata.get("alerts") if record.asset_materialization else None
        old += box.add(entry.value if entry else [], kind, since)
        box.after = record.storage_id
    return old, since


def _replay_deliveries(instance: dg.DagsterInstance, box: Outbox, kind: str) -> None:
    """Apply every delivery recorded since the cursor was last saved."""
    while True:
        records = instance.fetch_observations(
            dg.AssetRecordsFilter(asset_key=ALERTS_ASSET, after_storage_id=box.noted), limit=EVENTS_PER_TICK,
            ascending=True,
        ).records
        for record in records:
            meta = record.asset_observation.metadata if record.asset_observation else {}
            if "delivery" in meta and "kind" in meta and meta["kind"].value == kind:
                box.replay(meta["alert_key"].value, meta["delivery"].value, meta["attempts"].value,
                           meta["error"].value if "error" in meta else None)
            box.noted = record.storage_id
        if len(records) < EVENTS_PER_TICK:
            return


def _record(instance: dg.DagsterInstance, alert: dict, metadata: dict) -> None:
    instance.report_runless_asset_event(dg.AssetObservation(
        asset_key=ALERTS_ASSET, partition=alert["week_start"],
        metadata={"alert_key": alert["alert_key"], "kind": alert["kind"], **metadata}))


def _examples(context: dg.SensorEvaluationContext, keys: list[str]) -> dict[str, dict[str, Any]]:
    """The pending alerts' examples from the published snapshot (never blocked by a run); none when
    it cannot be read: the alert goes without them rather than not at all."""
    if not keys:
        return {}
    try:
        with access.open_snapshot(settings.value("TICKET_INTEL_WAREHOUSE")) as con:
            return wh.alert_examples(con, keys)
    except Exception as exc:  # any reason not to read them is the same for the alert
        context.log.warning(f"alerts go without their example tickets: the warehouse could not be read ({exc})")
        return {}


def _deliver(context: dg.SensorEvaluationContext, alerts: AlertConfig, box: Outbox) -> tuple[int, int]:
    """Send pending alerts while a request still fits in the tick's budget; returns (sent, failed)."""
    budget, timeout = alerts.budget_seconds(), alerts.timeout_seconds()
    started, sent, failed = time.monotonic(), 0, 0
    examples = _examples(context, sorted(box.pending))
    for key in sorted(box.pending):
        if time.monotonic() - started + timeout > budget:
            context.log.info(f"delivery budget of {budget:g} s used; the rest waits for the next tick")
            break
        alert = {**box.pending[key]["alert"], **examples.get(key, {})}
        try:
            text = alerts.send(alert)
        except DeliveryError as exc:
            attempts = box.failed(key, str(exc))
            _record(context.instance, alert, {"delivery": FAILED, "attempts": attempts, "error": str(exc)})
            context.log.warning(f"{key}: {exc} (attempt {attempts}; retrying next tick)")
            failed += 1
            continue
        attempts = box.delivered(key)
        _record(context.instance, alert, {"delivery": SENT, "notifier": alerts.notifier, "attempts": attempts})
        context.log.info(text if alerts.notifier == "log" else f"delivered {key} via {alerts.notifier}")
        sent += 1
    return sent, failed


INTERVAL_SECONDS = settings.number("TICKET_INTEL_ALERT_INTERVAL_SECONDS")


def _alert_sensor(name: str, kind: str, description: str) -> dg.SensorDefinition:
    @dg.sensor(name=name, minimum_interval_seconds=INTERVAL_SECONDS, default_status=dg.DefaultSensorStatus.RUNNING,
               description=description)
    def _sensor(context: dg.SensorEvaluationContext, alerts: AlertConfig) -> dg.SensorResult:
        box = Outbox.load(context.cursor)
        old, since = _read_alerts(context.instance, box, kind, alerts.max_age_weeks())
        _replay_deliveries(context.instance, box, kind)
        sent, failed = _deliver(context, alerts, box)
        verb = "logged" if alerts.notifier == "log" else "sent"  # the log notifier sends nothing anywhere
        summary = f"{verb} {sent}, failed {failed} (pending: {len(box.pending)})" if sent or failed else "no new alerts"
        if old:
            summary += (f"; {plural(old, 'alert')} of weeks before {since} not paged, past news "
                        "(TICKET_INTEL_ALERT_MAX_AGE_WEEKS; the reports have them)")
        # a tick requests no runs, so Dagster lists it as skipped: the reason says what it did
        return dg.SensorResult(cursor=box.dump(), skip_reason=summary)

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
queue_surge_sensor = _alert_sensor(
    "queue_surge_sensor", anomalies.QUEUE_SURGE,
    "Sends each queue-surge alert (the whole queue, or a product's, spiked; naming the theme spikes that rose "
    "with it, which are not paged on their own) from theme_alerts once.",
)
