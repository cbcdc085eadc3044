"""Alert delivery (core/notify.py) against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest

from ticket_intel.adapters.notify import deliver
from ticket_intel.core import notify
from ticket_intel.core.notify import DeliveryError, Outbox
from ticket_intel.core.webhooks import SIGNATURE_HEADER
from ticket_intel_tests.fake_apis import http_server

SPIKE = {
    "alert_key": "T20261012-00|2026-11-09|volume_spike", "theme_id": "T20261012-00", "kind": "volume_spike",
    "label": "Declined card payments", "week_start": "2026-11-09", "tickets": 22, "customers": 21,
    "baseline": 5.0, "ratio": 4.4, "p_value": 1.8e-08, "customer_baseline": 5.0, "top_customer_tickets": 2,
    "concentrated": False, "baseline_weeks": 6, "example_ticket_ids": ["zendesk:1", "zendesk:2", "intercom:3"],
}
NEW = {**SPIKE, "alert_key": "T20261102-02|2026-11-02|new_pattern", "theme_id": "T20261102-02",
       "kind": "new_pattern", "label": "Virtual card not working", "week_start": "2026-11-02", "tickets": 26,
       "customers": 26, "baseline": 0.0, "ratio": None, "p_value": None, "baseline_weeks": 0}


@dataclass
class Webhook:
    """A real HTTP endpoint: records every POST and answers with the planned status codes."""

    url: str
    requests: list[dict] = field(default_factory=list)
    statuses: list[int | str] = field(default_factory=list)  # consumed one per request; then 200
    hang_seconds: float = 15.0  # a "hang" status: no answer for this long, then the connection closes
    on_request: Callable[[], object] | None = None  # what the server notes about the world as a request arrives

    @property
    def delivered(self) -> list[dict]:
        return [r for r in self.requests if r["status"] == 200]


@contextmanager
def serve_webhook() -> Iterator[Webhook]:
    """Run a Webhook on a free port of 127.0.0.1 for the duration of the block."""
    hook = Webhook(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                status = hook.statuses.pop(0) if hook.statuses else 200
                noted = hook.on_request() if hook.on_request else None
                hook.requests.append({"path": self.path, "headers": dict(self.headers), "body": body, "status": status,
                                      "noted": noted})
            if status == "hang":
                time.sleep(hook.hang_seconds)
                self.close_connection = True
                return
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"server error")

        def log_message(self, *args: object) -> None:
            pass

    with http_server(Handler) as base:
        hook.url = f"{base}/hook"
        yield hook


@pytest.fixture()
def webhook() -> Iterator[Webhook]:
    with serve_webhook() as hook:
        yield hook


def test_describe_gives_the_evidence():
    text = notify.describe(SPIKE)
    for part in ("Declined card payments", "22 tickets from 21 customers", "2026-11-09", "4.4x", "5.0/week",
                 "p = 1.8e-08", "zendesk:1, zendesk:2, intercom:3"):
        assert part in text
    assert "few customers" not in text
    assert "never seen before" in notify.describe(NEW) and "26 tickets from 26 customers" in notify.describe(NEW)


def test_describe_flags_a_spike_from_one_customer():
    text = notify.describe({**SPIKE, "tickets": 84, "customers": 13, "top_customer_tickets": 72,
                            "customer_baseline": 14.7, "concentrated": True})
    assert "84 tickets from 13 customers" in text and "one filed 72" in text and "14.7/week" in text
    new = notify.describe({**NEW, "tickets": 21, "customers": 6, "top_customer_tickets": 16, "concentrated": True})
    assert "21 tickets from 6 customers in the week of 2026-11-02, never seen before. Mostly one customer's: one " \
           "filed 16 of them." in new
    assert "one filed" not in notify.describe(NEW)


def test_describe_says_a_new_group_found_over_two_weeks_began_the_week_before():
    group = {**NEW, "related_theme_ids": ["T20261005-01"], "tickets": 10, "customers": 10}
    assert "10 tickets from 10 customers in the week of 2026-11-02, a new group of tickets inside theme " \
           "T20261005-01" in notify.describe({**group, "since": "2026-11-02"})
    assert "10 tickets from 10 customers in the weeks of 2026-10-26 and 2026-11-02, a new group" in \
        notify.describe({**group, "since": "2026-10-26"})


def test_a_two_week_new_pattern_without_a_parent_says_both_weeks():
    """twcs' 'Customer service · charging', 4 tickets on 2017-10-23 and 5 on 10-30, found among the
    outliers, read "9 tickets … in the week of 2017-10-30, never seen before"."""
    text = notify.describe({**NEW, "tickets": 9, "customers": 9, "since": "2026-10-26"})
    assert "9 tickets from 9 customers in the weeks of 2026-10-26 and 2026-11-02, never seen before." in text
    earlier = notify.describe({**NEW, "since": "2026-10-26", "baseline": 0.5, "baseline_weeks": 6})
    assert "in the weeks of 2026-10-26 and 2026-11-02, a theme for the first time; 0.5/week before it" in earlier


def test_describe_names_related_themes_by_their_labels():
    """A new group's parent and a split spike's other pieces by their labels, then their ids; an id
    alone where the alert kept no label (stored before alerts kept them)."""
    group = {**NEW, "related_theme_ids": ["T20261005-01"], "related_labels": ["Card · delivery"]}
    assert "a new group of tickets inside theme \u201cCard · delivery\u201d (T20261005-01), with no close" in \
        notify.describe(group)
    spike = {**SPIKE, "related_theme_ids": ["T1", "T2"], "related_labels": ["Top-up · failed", None]}
    assert "Counted together with \u201cTop-up · failed\u201d (T1), T2, split from the same theme." in \
        notify.describe(spike)
    assert "Counted together with T1, T2," in notify.describe({**SPIKE, "related_theme_ids": ["T1", "T2"]})


def test_a_family_spike_says_each_piece_s_count():
    spike = {**SPIKE, "label": "FancyZones · zones", "tickets": 18, "related_theme_ids": ["T20240902-02"],
             "related_labels": ["Mouse · borders"], "related_tickets": [4]}
    assert "Counted as 'FancyZones · zones' 14 + \u201cMouse · borders\u201d (T20240902-02) 4, split from the same " \
        "theme." in notify.describe(spike)


def test_a_page_quotes_each_example_s_first_line():
    """The on-call PM read 'Examples: twcs:2033351, …' and had to click through to learn what broke."""
    alert = {**SPIKE, "example_lines": ["Awake icon doesn't come in side tray <b>", "", "Awake is Unresponsive"]}
    text = notify.describe(alert)
    assert text.endswith("Examples: zendesk:1 \u201cAwake icon doesn't come in side tray <b>\u201d, zendesk:2, "
                         "intercom:3 \u201cAwake is Unresponsive\u201d.")
    assert "tray &lt;b&gt;" in notify.payload("slack", alert, {})["text"]  # Slack reads the ticket's words as text
    assert notify.describe(SPIKE).endswith("Examples: zendesk:1, zendesk:2, intercom:3.")  # stored before lines


REGRESSION = {**SPIKE, "alert_key": "T20261012-00|2026-11-16|regression", "kind": "regression",
              "week_start": "2026-11-16", "tickets": 14, "baseline": 0.5, "ratio": 14.0, "p_value": 2e-09,
              "top_customer_tickets": None, "baseline_weeks": None, "customer_baseline": None, "fix_release": "4.2"}


def test_describe_phrases_a_regression_with_the_release_of_the_fix():
    text = notify.describe(REGRESSION)
    assert text.startswith("Regression: 'Declined card payments' came back after the fix in 4.2: 14 tickets in the "
                           "week of 2026-11-16, against 0.5/week since the fix (p = 2e-09).")
    assert text.endswith("Examples: zendesk:1, zendesk:2, intercom:3.")


def test_describe_says_which_release_an_alert_followed():
    spike = notify.describe({**SPIKE, "after_release": "4.2.1", "after_release_days": 1})
    assert "(p = 1.8e-08). Spiked 1 day after 4.2.1. Examples:" in spike
    new = notify.describe({**NEW, "after_release": "4.2", "after_release_days": 0})
    assert "never seen before. Started the same day as 4.2." in new
    assert "after" not in notify.describe({**SPIKE, "after_release": None, "after_release_days": None})


def test_links_are_the_dagster_partition_route_and_the_report_anchor():
    url = notify.ui_link("http://dagster.local:3000/", "2026-11-09")
    parts = urlsplit(url)
    assert parts.path == "/assets/weekly_report"
    assert parse_qs(parts.query) == {"view": ["partitions"], "partition": ["2026-11-09"]}
    assert notify.report_link("https://intranet/reports/", "2026-11-09", "T20261012-00") == (
        "https://intranet/reports/ticket_intel_2026-11-09.html#T20261012-00")


def test_log_delivery_sends_nothing_over_the_network():
    assert deliver("log", SPIKE, links={"Dagster": "http://ui/x"}).endswith("http://ui/x")


def test_webhook_payload_is_signed_and_names_the_alert(webhook):
    links = {"Dagster": notify.ui_link("http://ui", "2026-11-09")}
    deliver("webhook", SPIKE, webhook.url, secret="s3cret", links=links)
    (request,) = webhook.requests
    body = request["body"]
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert request["headers"][SIGNATURE_HEADER] == expected
    assert request["headers"][notify.ALERT_HEADER] == SPIKE["alert_key"]
    assert request["headers"]["Content-Type"] == "application/json"
    doc = json.loads(body)
    assert doc["alert"] == SPIKE and doc["links"] == links and doc["text"] == notify.describe(SPIKE)


def test_webhook_without_secret_is_unsigned(webhook):
    deliver("webhook", NEW, webhook.url)
    assert SIGNATURE_HEADER not in webhook.requests[0]["headers"]


def test_slack_gets_text_with_slack_links(webhook):
    deliver("slack", SPIKE, webhook.url, links={"Dagster": "http://ui/a", "report": "http://r/b#T"})
    doc = json.loads(webhook.requests[0]["body"])
    assert set(doc) == {"text"}
    assert doc["text"].startswith(notify.describe(SPIKE)) and doc["text"].endswith("<http://ui/a|Dagster> <http://r/b#T|report>")


def test_a_server_error_is_a_delivery_error(webhook):
    webhook.statuses = [500]
    with pytest.raises(DeliveryError, match="HTTP 500"):
        deliver("webhook", SPIKE, webhook.url)


def test_an_unreachable_endpoint_is_a_delivery_error(webhook):
    dead = webhook.url.rsplit(":", 1)[0] + ":9/hook"  # the discard port: nothing listens there
    with pytest.raises(DeliveryError, match="delivery failed"):
        deliver("webhook", SPIKE, dead, timeout=2)


def test_misconfiguration_is_a_delivery_error():
    with pytest.raises(DeliveryError, match="NOTIFY_URL"):
        deliver("slack", SPIKE)
    with pytest.raises(DeliveryError, match="unknown notifier"):
        deliver("pager", SPIKE, "http://x")


def test_outbox_queues_each_key_once_and_keeps_failures():
    box = Outbox()
    box.add([SPIKE, NEW, SPIKE], "volume_spike")
    assert list(box.pending) == [SPIKE["alert_key"]]
    assert box.failed(SPIKE["alert_key"], "HTTP 500") == 1
    box.add([{**SPIKE, "tickets": 23}], "volume_spike")  # re-materialized: newest numbers, same attempts
    assert box.pending[SPIKE["alert_key"]]["alert"]["tickets"] == 23
    assert box.delivered(SPIKE["alert_key"]) == 2
    box.add([SPIKE], "volume_spike")
    assert box.pending == {} and box.sent == {SPIKE["alert_key"]}


def test_a_spike_that_continues_a_paged_event_is_not_paged_again_but_says_it_continues():
    """PowerToys' 'Run · crashes' paged 33 tickets on 2024-07-01 and 23 on 07-08, one crash."""
    later = {**SPIKE, "alert_key": "T20261012-00|2026-11-16|volume_spike", "week_start": "2026-11-16",
             "since": "2026-11-09"}
    box = Outbox()
    box.add([later], "volume_spike")  # its first week was never paged: this is the event's page
    assert list(box.pending) == [later["alert_key"]]
    box, week_three = Outbox(sent={SPIKE["alert_key"]}), {**later, "alert_key": "T20261012-00|2026-11-23|volume_spike",
                                                           "week_start": "2026-11-23"}
    box.add([later, week_three], "volume_spike")
    assert box.pending == {}
    assert notify.describe(later).startswith(
        "Spike continues: 'Declined card payments' — 22 tickets from 21 customers in the week of 2026-11-16, "
        "still 4.4x its baseline of 5.0/week from before the spike began in the week of 2026-11-09 (p = 1.8e-08).")


def test_alerts_of_weeks_before_the_paging_weeks_are_past_news():
    """A first run over a year of history, or a backfill, must not page last spring's spikes."""
    assert notify.paging_since(["2026-10-26", "2026-11-09", "2026-11-02"], 2) == "2026-11-02"
    assert notify.paging_since(["2026-11-09"], 1) == "2026-11-09"
    assert notify.paging_since(["2026-11-09"], 0) is None and notify.paging_since([], 2) is None
    older = {**SPIKE, "alert_key": "T20261012-00|2026-10-26|volume_spike", "week_start": "2026-10-26"}
    box = Outbox()
    assert box.add([older, SPIKE, NEW], "volume_spike", since="2026-11-02") == 1
    assert list(box.pending) == [SPIKE["alert_key"]]
    assert box.add([NEW], "new_pattern", since="2026-11-09") == 1 and NEW["alert_key"] not in box.pending
    assert box.add([older], "volume_spike", since=None) == 0 and older["alert_key"] in box.pending


def test_an_alert_already_queued_stays_queued_when_its_week_grows_old():
    """A receiver down for weeks: the alert it has not taken yet is still delivered, not dropped."""
    box = Outbox()
    box.add([SPIKE], "volume_spike", since="2026-11-09")
    box.failed(SPIKE["alert_key"], "HTTP 503")
    assert box.add([{**SPIKE, "tickets": 23}], "volume_spike", since="2026-11-23") == 0
    assert box.pending[SPIKE["alert_key"]]["alert"]["tickets"] == 23


def test_outbox_survives_its_cursor():
    box = Outbox(after=41)
    box.add([SPIKE], "volume_spike")
    box.failed(SPIKE["alert_key"], "timeout")
    box.sent.add("old|2026-01-05|volume_spike")
    again = Outbox.load(box.dump())
    assert again == box
    assert Outbox.load(None) == Outbox()


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/services/T000/B000/SLACKSECRETtoken123",
                                 "http://127.0.0.1:9/v1/spaces/AAA/messages?key=SECRETkey&token=SECRETtoken"])
def test_a_failed_delivery_never_names_the_webhook_s_secret(url):
    """A Slack webhook's path is its token, a Google Chat webhook's query holds its key and token:
    the error of a dead URL put them in the run log, the alert's metadata and the sensor's cursor."""
    with pytest.raises(DeliveryError) as info:  # nothing listens on port 9
        deliver("webhook", NEW, url, timeout=2)
    assert "SECRET" not in str(info.value) and "127.0.0.1" in str(info.value)


def test_a_label_s_markup_reaches_slack_as_text():
    """An LLM label obeying an injected ticket, `<!channel> ... <https://evil.example/sso|SSO>`."""
    alert = {**NEW, "label": "<!channel> log in at <https://evil.example/sso|SSO> & more"}
    text = notify.payload("slack", alert, {"report": "https://reports.test/r.html"})["text"]
    assert "<!channel>" not in text and "<https://evil.example" not in text and "&lt;!channel&gt;" in text
    assert text.endswith("<https://reports.test/r.html|report>")  # our own link stays a link
