"""Deliver alerts: to the log, a Slack incoming webhook, or a generic signed JSON webhook.

Delivery raises on any failure (network error or non-2xx answer) so the caller can keep the
alert pending and retry it on the next sensor tick instead of losing or duplicating it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import requests

KINDS = ("log", "slack", "webhook")
SIGNATURE_HEADER = "X-Ticket-Intel-Signature"


class DeliveryError(RuntimeError):
    pass


def describe(alert: Mapping[str, Any], link: str = "") -> str:
    """One human sentence with the evidence, e.g. for Slack or a log line."""
    who = f"{alert['tickets']} tickets from {alert['customers']} customers"
    if alert["kind"] == "volume_spike":
        text = (f"Spike: '{alert['label']}' — {who} in the week of {alert['week_start']}, "
                f"{alert['ratio']:.1f}x its baseline of {alert['baseline']:.1f}/week (p = {alert['p_value']:.2g}).")
    else:
        text = f"New pattern: '{alert['label']}' — {who} in the week of {alert['week_start']}, never seen before."
    examples = ", ".join(alert.get("example_ticket_ids") or [])
    if examples:
        text += f" Examples: {examples}."
    return text + (f" {link}" if link else "")


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(kind: str, alert: Mapping[str, Any], url: str = "", secret: str = "", link: str = "",
            timeout: float = 10.0) -> str:
    """Send one alert; returns what was sent. Raises DeliveryError when it did not arrive."""
    if kind == "log":
        return describe(alert, link)
    if kind not in KINDS:
        raise DeliveryError(f"unknown notifier {kind!r}; expected one of {', '.join(KINDS)}")
    if not url:
        raise DeliveryError(f"notifier {kind!r} needs TICKET_INTEL_NOTIFY_URL")
    payload: dict[str, Any] = (
        {"text": describe(alert, link)} if kind == "slack" else {"alert": dict(alert), "text": describe(alert, link), "link": link}
    )
    body = json.dumps(payload, sort_keys=True, default=str).encode()
    headers = {"Content-Type": "application/json"}
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    try:
        response = requests.post(url, data=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise DeliveryError(f"{kind} delivery failed: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"{kind} delivery failed: HTTP {response.status_code} {response.text[:200]}")
    return body.decode()
