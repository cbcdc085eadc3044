"""Alerts as messages: what each says, how it is signed, and the sensors' outbox of deliveries.

The HTTP delivery itself is adapters/notify.py. Each request names its alert in a header, so a
receiver can drop a repeat if a tick that sent it crashed before recording that it had.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from ticket_intel.core.anomalies import (
    NEW_PATTERN,
    QUEUE_SURGE,
    began_before,
    continuing,
    first_key,
    listed,
    related_counts,
    related_names,
    rose_with_queue,
    scope_name,
)
from ticket_intel.core.releases import REGRESSION, describe_after_release, describe_regression
from ticket_intel.core.report import report_file

KINDS = ("log", "slack", "webhook")
ALERT_HEADER = "X-Ticket-Intel-Alert"
REPORT_ASSET = "weekly_report"


class DeliveryError(RuntimeError):
    pass


SENT, FAILED = "sent", "failed"


@dataclass
class Outbox:
    """A sensor's memory between ticks (its cursor): the last alert event read, the keys already
    delivered, the alerts still to deliver with their failed attempts, and the last delivery
    record read.

    Keys, not events, decide what is sent: a re-materialized week repeats its alerts under the
    same keys, so they are not sent again; a failed alert stays pending until it goes through.
    Each delivery is also recorded durably the moment it happens (`replay` reads those records),
    because the cursor is saved only when a tick ends, and a tick can die first.
    """

    after: int | None = None
    sent: set[str] = field(default_factory=set)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    noted: int | None = None

    @classmethod
    def load(cls, cursor: str | None) -> Outbox:
        state = json.loads(cursor) if cursor else {}
        return cls(state.get("after"), set(state.get("sent", [])), state.get("pending", {}), state.get("noted"))

    def dump(self) -> str:
        return json.dumps({"after": self.after, "sent": sorted(self.sent), "pending": self.pending,
                           "noted": self.noted}, sort_keys=True)

    def replay(self, key: str, delivery: str, attempts: int, error: str | None = None) -> None:
        """Apply a recorded delivery, possibly one this cursor has not seen (its tick died)."""
        if delivery == SENT:
            self.sent.add(key)
            self.pending.pop(key, None)
        elif key in self.pending and attempts > self.pending[key]["attempts"]:
            self.pending[key].update(attempts=attempts, error=error)

    def add(self, alerts: Iterable[Mapping[str, Any]], kind: str, since: str | None = None) -> int:
        """Queue the alerts of `kind` not delivered yet (the newest numbers win), but a spike that
        continues an event whose first week was delivered, or rose with a surge of its queue (told in
        the surge's alert): one event, one page. An alert of a week before `since` (`paging_since`)
        is past news and not queued; returns how many of `kind` were so."""
        old = 0
        for alert in (a for a in alerts if a["kind"] == kind):
            key = alert["alert_key"]
            if key in self.sent or (continuing(alert) and first_key(alert) in self.sent) or rose_with_queue(alert):
                continue
            if since is not None and alert["week_start"] < since and key not in self.pending:
                old += 1
            else:
                self.pending[key] = {**self.pending.get(key, {"attempts": 0}), "alert": dict(alert)}
        return old

    def delivered(self, key: str) -> int:
        """Mark `key` sent; returns the attempts it took."""
        self.sent.add(key)
        return self.pending.pop(key)["attempts"] + 1

    def failed(self, key: str, error: str) -> int:
        """Keep `key` pending for the next tick; returns the attempts so far."""
        item = self.pending[key]
        item["attempts"] += 1
        item["error"] = error
        return item["attempts"]


def paging_since(weeks: Iterable[str], max_age_weeks: int) -> str | None:
    """The first week whose alerts still page: the newest of `weeks` (those the alerts were
    materialized for) and the `max_age_weeks` - 1 before it; None (every week) when `max_age_weeks`
    is 0 or no week is known. A run over a warehouse's history, or a backfill of past weeks after a
    taxonomy change, writes alerts of weeks long gone: the report and `ops.alerts` keep them, but a
    page says "look now"."""
    newest = max(weeks, default=None)
    if not max_age_weeks or newest is None:
        return None
    return (date.fromisoformat(newest) - timedelta(weeks=max_age_weeks - 1)).isoformat()


def ui_link(ui_url: str, week: str, asset: str = REPORT_ASSET) -> str:
    """The asset's page for that week in the Dagster UI (its route for one partition)."""
    query = urlencode({"view": "partitions", "partition": week})
    return f"{ui_url.rstrip('/')}/assets/{quote(asset)}?{query}"


def report_link(reports_url: str, week: str, theme_id: str | None) -> str:
    """The theme's card in the week's HTML report, where the reports are published; the report's alerts
    for an alert of no theme, the queue surge heading its volume spikes."""
    anchor = quote(theme_id) if theme_id else "queue-surge"
    return f"{reports_url.rstrip('/')}/{report_file(week, 'html')}#{anchor}"


def _pieces(alert: Mapping[str, Any], related: list[str]) -> str:
    """A family spike's pieces, each with its tickets of the week where the alert kept them: "Counted as
    'FancyZones · zones' 14 + “Mouse · borders” (T20240902-02) 4, split from the same theme."""
    if not related:
        return ""
    counts = related_counts(alert)
    if counts is None:  # stored before alerts kept their pieces' counts
        return f" Counted together with {', '.join(related)}, split from the same theme."
    pieces = [f"'{alert['label']}' {int(alert['tickets']) - sum(counts)}", *(f"{r} {n}" for r, n in zip(
        related, counts, strict=True))]
    return f" Counted as {' + '.join(pieces)}, split from the same theme."


def _examples(alert: Mapping[str, Any]) -> str:
    """The example ids, each with its redacted first line where the alert kept one (`example_lines`)."""
    ids, lines = listed(alert, "example_ticket_ids"), listed(alert, "example_lines")
    lines += [""] * (len(ids) - len(lines))
    said = [f"{t} \u201c{line}\u201d" if line else str(t) for t, line in zip(ids, lines, strict=True)]
    return f" Examples: {', '.join(said)}." if said else ""


# The spikes a surge's message names; the rest are counted ("+2").
SURGE_NAMES = 3


def describe_surge(alert: Mapping[str, Any]) -> str:
    """A queue surge as one sentence, with the theme spikes that rose with it, the largest first: "The
    whole queue is 2.6x its usual volume in the week of 2024-06-10 (55 vs 21.2/week), across 3 themes
    that rose with it: …"."""
    names, counts = related_names(alert), related_counts(alert) or []
    said = [f"{name} {n}" for name, n in zip(names, counts, strict=True)] if counts else names
    more = f" (+{len(said) - SURGE_NAMES})" if len(said) > SURGE_NAMES else ""
    across = (f", across {len(said)} theme{'s' if len(said) != 1 else ''} that rose with it: "
              f"{', '.join(said[:SURGE_NAMES])}{more}; they are not paged on their own" if said else
              "; no theme spiked with it (a spike beyond it is paged on its own)")
    still = f"still {alert['ratio']:.1f}x its usual volume, since the week of {alert['since']}, in" if continuing(
        alert) else f"{alert['ratio']:.1f}x its usual volume in"
    one = (f" Mostly one customer's: one filed {alert['top_customer_tickets']} of them, and without them the queue "
           "is not a surge." if alert.get("concentrated") else "")
    return (f"Queue surge: {scope_name(alert)[:1].lower()}{scope_name(alert)[1:]} is {still} the week of "
            f"{alert['week_start']} ({alert['tickets']} vs {alert['baseline']:.1f}/week, p = {alert['p_value']:.2g})"
            f"{across}.{one}")


def describe(alert: Mapping[str, Any]) -> str:
    """One human sentence with the evidence, e.g. for Slack or a log line; an alert that followed a
    release says so ("Spiked 1 day after 4.2.1.")."""
    if alert["kind"] == QUEUE_SURGE:
        return describe_surge(alert)
    week, label, related = alert["week_start"], alert["label"], related_names(alert)
    who = f"{alert['tickets']} tickets from {alert['customers']} customers"
    if alert["kind"] == "volume_spike":
        ratio, baseline, p = f"{alert['ratio']:.1f}x", f"{alert['baseline']:.1f}/week", f"p = {alert['p_value']:.2g}"
        text = (f"Spike continues: '{label}' — {who} in the week of {week}, still {ratio} its baseline of {baseline}"
                f" from before the spike began in the week of {alert['since']} ({p})."
                if continuing(alert) else
                f"Spike: '{label}' — {who} in the week of {week}, {ratio} its baseline of {baseline} ({p}).")
        if alert.get("concentrated"):
            text += (f" Driven by few customers: one filed {alert['top_customer_tickets']}, and the customer count "
                     f"did not spike (usually {alert['customer_baseline']:.1f}/week).")
        text += _pieces(alert, related)
    elif alert["kind"] == REGRESSION:
        text = describe_regression(alert, alert.get("fix_release") or "its release")
    else:  # a new pattern; a new group found over two weeks counts both
        when = (f"in the weeks of {alert['since']} and {week}" if began_before(alert.get("since"), week)
                else f"in the week of {week}")
        text = (f"New pattern: '{label}' — {who} {when}, a new group of tickets inside theme "
                f"{related[0]}, with no close neighbours in earlier weeks." if related else
                f"New pattern: '{label}' — {who} {when}, a theme for the first time; {alert['baseline']:.1f}/week "
                f"before it in the {alert['baseline_weeks']} weeks of data." if alert.get("baseline") else
                f"New pattern: '{label}' — {who} {when}, never seen before.")
    if alert["kind"] == NEW_PATTERN and alert.get("concentrated"):
        text += f" Mostly one customer's: one filed {alert['top_customer_tickets']} of them."
    if alert.get("after_release"):
        event = "spiked" if alert["kind"] == "volume_spike" else "started"
        sentence = describe_after_release(alert["after_release"], int(alert["after_release_days"]), event)
        text += f" {sentence[:1].upper()}{sentence[1:]}."
    return text + _examples(alert)


def payload(kind: str, alert: Mapping[str, Any], links: Mapping[str, str]) -> dict[str, Any]:
    """The JSON body: Slack's `text` (with its <url|label> links), or the whole alert. Slack reads
    `<...>` as a link or a mention, so the alert's own words are escaped as Slack asks: an LLM's
    label `<!channel> ... <https://evil.example|SSO>` would have pinged the channel."""
    text = describe(alert)
    if kind == "slack":
        said = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return {"text": " ".join([said, *(f"<{url}|{name}>" for name, url in links.items())])}
    return {"alert": dict(alert), "text": text, "links": dict(links)}
