"""The alert sensors on a real Dagster instance, delivering to a real webhook on 127.0.0.1.

Alerts reach the sensors only as `theme_alerts` materializations in the event log: reported
runless events, real materializations of the asset, and the sample's end-to-end run.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Iterator

import dagster as dg
import duckdb
import pytest

from ticket_intel.core import anomalies, notify
from ticket_intel.core.webhooks import SIGNATURE_HEADER
from ticket_intel.defs.alert_sensors import new_pattern_sensor, volume_spike_sensor
from ticket_intel.defs.resources import AlertConfig
from ticket_intel_tests.test_alerts_asset import WEEKS, build_warehouse, materialize
from ticket_intel_tests.test_notify import NEW, SPIKE, Webhook, serve_webhook

SPIKE_2 = {**SPIKE, "alert_key": "T20260831-09|2026-11-09|volume_spike", "theme_id": "T20260831-09"}
SPIKE_3 = {**SPIKE, "alert_key": "T20260831-09|2026-11-16|volume_spike", "theme_id": "T20260831-09",
           "week_start": "2026-11-16"}


@pytest.fixture()
def webhook() -> Iterator[Webhook]:
    with serve_webhook() as hook:
        yield hook


def report(instance: dg.DagsterInstance, week: str, alerts: list[dict]) -> None:
    """A theme_alerts materialization of `week` carrying `alerts`, as the asset records it."""
    instance.report_runless_asset_event(dg.AssetMaterialization(
        "theme_alerts", partition=week, metadata={"alerts": dg.MetadataValue.json(alerts)}))


class Ticker:
    """Evaluates a sensor tick after tick, keeping only what Dagster keeps: the cursor."""

    def __init__(self, sensor: dg.SensorDefinition, instance: dg.DagsterInstance, notifier: AlertConfig):
        self.sensor, self.instance, self.notifier = sensor, instance, notifier
        self.cursor: str | None = None

    def tick(self) -> dg.SensorResult:
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor,
                                          resources={"alerts": self.notifier})
        result = self.sensor(context)
        self.cursor = result.cursor
        return result


def attempts(instance: dg.DagsterInstance) -> list[dg.AssetObservation]:
    """Every delivery attempt recorded in the event log, oldest first."""
    records = instance.fetch_observations(dg.AssetKey("theme_alerts"), limit=1000, ascending=True).records
    return [r.asset_observation for r in records if "delivery" in r.asset_observation.metadata]


def delivered_keys(hook: Webhook) -> Counter:
    return Counter(json.loads(r["body"])["alert"]["alert_key"] for r in hook.delivered)


def test_sensors_need_only_the_alert_config():
    """No warehouse resource: the alerts come from the event log, never from DuckDB."""
    assert volume_spike_sensor.required_resource_keys == {"alerts"}
    assert new_pattern_sensor.required_resource_keys == {"alerts"}


def test_each_alert_is_delivered_exactly_once(instance, webhook):
    notifier = AlertConfig(notifier="webhook", notify_url=webhook.url)
    spikes, news = Ticker(volume_spike_sensor, instance, notifier), Ticker(new_pattern_sensor, instance, notifier)
    report(instance, "2026-11-02", [NEW])
    report(instance, "2026-11-09", [SPIKE, SPIKE_2])
    for _ in range(3):
        spikes.tick()
        news.tick()
    assert delivered_keys(webhook) == {SPIKE["alert_key"]: 1, SPIKE_2["alert_key"]: 1, NEW["alert_key"]: 1}

    report(instance, "2026-11-09", [SPIKE, SPIKE_2])  # the weeks re-materialized: same alerts
    report(instance, "2026-11-02", [NEW])
    recorded = len(attempts(instance))
    for ticker in (spikes, news):
        result = ticker.tick()
        assert result.skip_reason.skip_message == "no new alerts"
    assert len(attempts(instance)) == recorded == 3

    restarted = Ticker(volume_spike_sensor, instance, AlertConfig(notifier="webhook", notify_url=webhook.url))
    restarted.cursor = spikes.cursor  # a restart keeps only the stored cursor
    report(instance, "2026-11-16", [SPIKE_3])
    restarted.tick()
    restarted.tick()
    assert delivered_keys(webhook) == {k: 1 for k in (SPIKE["alert_key"], SPIKE_2["alert_key"], NEW["alert_key"],
                                                      SPIKE_3["alert_key"])}
    assert len(webhook.requests) == 4


def test_a_failed_delivery_is_retried_next_tick_and_recorded(instance, webhook):
    webhook.statuses = [500]
    spikes = Ticker(volume_spike_sensor, instance, AlertConfig(notifier="webhook", notify_url=webhook.url))
    report(instance, "2026-11-09", [SPIKE])

    first = spikes.tick()
    (failed,) = attempts(instance)
    assert failed.metadata["delivery"].value == "failed" and failed.metadata["attempts"].value == 1
    assert "HTTP 500" in failed.metadata["error"].value and failed.partition == "2026-11-09"
    assert failed.metadata["alert_key"].value == SPIKE["alert_key"]
    assert [r["status"] for r in webhook.requests] == [500]

    assert first.skip_reason.skip_message == "sent 0, failed 1 (pending: 1)"
    second = spikes.tick()
    assert second.skip_reason.skip_message == "sent 1, failed 0 (pending: 0)"
    (_, sent) = attempts(instance)
    assert sent.metadata["delivery"].value == "sent" and sent.metadata["attempts"].value == 2
    spikes.tick()
    assert len(attempts(instance)) == 2
    assert [r["status"] for r in webhook.requests] == [500, 200]
    assert delivered_keys(webhook) == {SPIKE["alert_key"]: 1}


def test_an_unreachable_notifier_keeps_alerts_pending(instance, webhook):
    """Delivery failing for good never raises out of the tick: the sensor keeps trying."""
    dead = AlertConfig(notifier="webhook", notify_url=webhook.url.rsplit(":", 1)[0] + ":9/hook")
    spikes = Ticker(volume_spike_sensor, instance, dead)
    report(instance, "2026-11-09", [SPIKE, SPIKE_2])
    for attempt in (1, 2):
        spikes.tick()
        events = attempts(instance)[-2:]
        assert [e.metadata["attempts"].value for e in events] == [attempt, attempt]
    spikes.notifier = AlertConfig(notifier="webhook", notify_url=webhook.url)
    spikes.tick()
    assert delivered_keys(webhook) == {SPIKE["alert_key"]: 1, SPIKE_2["alert_key"]: 1}


def test_a_tick_that_dies_before_its_cursor_is_saved_repeats_nothing(instance, webhook):
    """Each delivery is recorded as it happens; the next tick replays the records first."""
    report(instance, "2026-11-09", [SPIKE, SPIKE_2])
    spikes = Ticker(volume_spike_sensor, instance, AlertConfig(notifier="webhook", notify_url=webhook.url))
    spikes.tick()
    spikes.cursor = None  # Dagster kept nothing of that tick: it passed the deadline
    assert spikes.tick().skip_reason.skip_message == "no new alerts"
    assert delivered_keys(webhook) == {SPIKE["alert_key"]: 1, SPIKE_2["alert_key"]: 1}


def test_the_log_notifier_s_tick_says_it_logged_not_sent(instance):
    """With the default notifier nothing leaves the machine; its ticks read "sent 4"."""
    report(instance, "2026-11-09", [SPIKE])
    result = Ticker(volume_spike_sensor, instance, AlertConfig(notifier="log")).tick()
    assert result.skip_reason.skip_message == "logged 1, failed 0 (pending: 0)"


def test_a_slow_receiver_is_bounded_by_the_tick_budget(instance, webhook):
    """A request starts only while its timeout still fits in the budget; the rest waits."""
    webhook.statuses, webhook.hang_seconds = ["hang"] * 3, 5.0
    report(instance, "2026-11-09", [SPIKE, SPIKE_2])
    report(instance, "2026-11-16", [SPIKE_3])
    notifier = AlertConfig(notifier="webhook", notify_url=webhook.url, notify_timeout_seconds="1",
                           notify_budget_seconds="2.5")
    result = Ticker(volume_spike_sensor, instance, notifier).tick()
    assert result.skip_reason.skip_message == "sent 0, failed 2 (pending: 3)"  # a third would pass the budget
    recorded = attempts(instance)
    assert [e.metadata["delivery"].value for e in recorded] == ["failed", "failed"]
    assert all("timed out" in e.metadata["error"].value for e in recorded)


def test_the_budget_must_fit_one_request():
    with pytest.raises(ValueError, match="BUDGET_SECONDS"):
        AlertConfig(notify_timeout_seconds="10", notify_budget_seconds="5").budget_seconds()


def test_the_payload_is_signed_and_links_to_the_week(instance, webhook):
    notifier = AlertConfig(notifier="webhook", notify_url=webhook.url, notify_secret="s3cret", ui_url="http://dagster.local:3000",
                        reports_url="https://intranet/reports")
    report(instance, "2026-11-02", [NEW])
    Ticker(new_pattern_sensor, instance, notifier).tick()
    (request,) = webhook.requests
    body = request["body"]
    assert request["headers"][SIGNATURE_HEADER] == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert request["headers"][notify.ALERT_HEADER] == NEW["alert_key"]
    doc = json.loads(body)
    assert doc["alert"] == NEW and doc["text"] == notify.describe(NEW)
    assert doc["links"] == {
        "Dagster": "http://dagster.local:3000/assets/weekly_report?view=partitions&partition=2026-11-02",
        "report": "https://intranet/reports/ticket_intel_2026-11-02.html#T20261102-02",
    }


def test_slack_notifier_posts_text(instance, webhook):
    report(instance, "2026-11-09", [SPIKE])
    Ticker(volume_spike_sensor, instance, AlertConfig(notifier="slack", notify_url=webhook.url)).tick()
    doc = json.loads(webhook.requests[0]["body"])
    assert doc["text"].startswith(notify.describe(SPIKE))


def test_log_notifier_is_the_default(instance):
    report(instance, "2026-11-09", [SPIKE])
    Ticker(volume_spike_sensor, instance, AlertConfig()).tick()
    (event,) = attempts(instance)
    assert event.metadata["delivery"].value == "sent" and event.metadata["notifier"].value == "log"


def test_alerts_of_real_materializations_are_delivered_once(tmp_path, instance, webhook, monkeypatch):
    warehouse = build_warehouse(tmp_path / "w.duckdb")
    monkeypatch.setenv("TICKET_INTEL_WAREHOUSE", str(warehouse))
    materialize(instance, warehouse, WEEKS[0], WEEKS[-1])
    notifier = AlertConfig(notifier="webhook", notify_url=webhook.url)
    spikes, news = Ticker(volume_spike_sensor, instance, notifier), Ticker(new_pattern_sensor, instance, notifier)
    spikes.tick(), news.tick()
    materialize(instance, warehouse, WEEKS[6], WEEKS[6])  # recomputed: the same spike again
    spikes.tick(), news.tick()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        stored = {r[0] for r in con.execute("SELECT alert_key FROM ops.alerts").fetchall()}
    assert delivered_keys(webhook) == dict.fromkeys(stored, 1) and len(stored) == 2
    # the examples are read from the warehouse at delivery, never from the event log
    spike = next(json.loads(r["body"])["alert"] for r in webhook.delivered
                 if json.loads(r["body"])["alert"]["kind"] == anomalies.SPIKE)
    assert spike["example_lines"] == ["my card was declined"] * 3 and len(spike["example_ticket_ids"]) == 3


def test_a_first_start_over_a_history_pages_only_its_newest_weeks(instance, webhook):
    """The daemon started after a run over months of history (or a backfill of past weeks): the old
    weeks' alerts are in their reports; only the newest two weeks' page, and the tick says so."""
    autumn = {**NEW, "alert_key": "T20261005-01|2026-10-05|new_pattern", "theme_id": "T20261005-01",
              "week_start": "2026-10-05"}
    report(instance, "2026-10-05", [autumn])
    report(instance, "2026-11-02", [NEW])
    report(instance, "2026-11-09", [SPIKE])
    news = Ticker(new_pattern_sensor, instance, AlertConfig(notifier="webhook", notify_url=webhook.url))
    assert news.tick().skip_reason.skip_message == (
        "sent 1, failed 0 (pending: 0); 1 alert of weeks before 2026-11-02 not paged, past news "
        "(TICKET_INTEL_ALERT_MAX_AGE_WEEKS; the reports have them)")
    assert delivered_keys(webhook) == {NEW["alert_key"]: 1}
    report(instance, "2026-10-05", [autumn])  # a backfill of that week: still past news
    assert news.tick().skip_reason.skip_message.startswith("no new alerts; 1 alert of weeks before 2026-11-02")

    every = AlertConfig(notifier="webhook", notify_url=webhook.url, alert_max_age_weeks=0)
    Ticker(new_pattern_sensor, instance, every).tick()
    assert delivered_keys(webhook)[autumn["alert_key"]] == 1
    with pytest.raises(ValueError, match="TICKET_INTEL_ALERT_MAX_AGE_WEEKS"):
        AlertConfig(alert_max_age_weeks=-1).max_age_weeks()


@pytest.mark.e2e
def test_sample_run_alerts_are_each_delivered_once(sample_copy, webhook):
    """The sample's real run history: every alert of its newest two weeks in ops.alerts reaches the
    webhook once, the older ones none; then, with no age limit, the older ones once (a delivery the
    event log records is never repeated)."""
    instance = dg.DagsterInstance.get()
    with duckdb.connect(str(sample_copy.warehouse), read_only=True) as con:
        stored = {k: (kind, str(week)) for k, kind, week in
                  con.execute("SELECT alert_key, kind, week_start FROM ops.alerts").fetchall()}
    since = notify.paging_since({week for _, week in stored.values()} | {sample_copy.end}, 2)
    fresh = {k for k, (_, week) in stored.items() if week >= since}
    for max_age, expected in ((2, fresh), (0, set(stored) - fresh)):
        with serve_webhook() as hook:
            notifier = AlertConfig(notifier="webhook", notify_url=hook.url, alert_max_age_weeks=max_age)
            for sensor in (volume_spike_sensor, new_pattern_sensor):
                ticker = Ticker(sensor, instance, notifier)
                for _ in range(3):
                    ticker.tick()
        assert expected and delivered_keys(hook) == dict.fromkeys(expected, 1)
    assert {anomalies.NEW_PATTERN, anomalies.SPIKE} <= {kind for kind, _ in stored.values()}
