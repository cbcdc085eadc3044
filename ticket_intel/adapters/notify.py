"""Deliver alerts over HTTP: a Slack incoming webhook or a generic signed JSON webhook (or the log).

Delivery raises on any failure (network error or non-2xx answer) so the caller can keep the
alert pending and retry it on the next sensor tick instead of losing or duplicating it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from ticket_intel.core.notify import (
    ALERT_HEADER,
    KINDS,
    DeliveryError,
    describe,
    payload,
)
from ticket_intel.core.webhooks import SIGNATURE_HEADER, sign


def deliver(kind: str, alert: Mapping[str, Any], url: str = "", secret: str = "",
            links: Mapping[str, str] | None = None, timeout: float = 10.0) -> str:
    """Send one alert; returns what was sent. Raises DeliveryError when it did not arrive."""
    links = dict(links or {})
    if kind == "log":
        return " ".join([describe(alert), *links.values()])
    if kind not in KINDS:
        raise DeliveryError(f"unknown notifier {kind!r}; expected one of {', '.join(KINDS)}")
    if not url:
        raise DeliveryError(f"notifier {kind!r} needs TICKET_INTEL_NOTIFY_URL")
    body = json.dumps(payload(kind, alert, links), sort_keys=True, default=str).encode()
    headers = {"Content-Type": "application/json", ALERT_HEADER: str(alert["alert_key"])}
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    try:
        response = requests.post(url, data=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        # A Slack webhook's path is its secret (others put a key in the query), and requests names
        # the URL: the message goes to the run log, the alert's metadata and the sensor's cursor.
        raise DeliveryError(f"{kind} delivery failed: {_without_secrets(str(exc), url)}") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"{kind} delivery failed: HTTP {response.status_code} {response.text[:200]}")
    return body.decode()


def _without_secrets(said: str, url: str) -> str:
    """`said` with the URL's path and query masked wherever they appear, whole or apart."""
    parts = urlsplit(url)
    said = said.replace(url, _shown(url))
    for secret in (f"{parts.path}?{parts.query}" if parts.query else "", parts.query, parts.path):
        if len(secret) > 1:
            said = said.replace(secret, "/…" if secret.startswith("/") else "…")
    return said


def _shown(url: str) -> str:
    """The webhook URL without its path and query (Slack's token): where it goes, not the secret."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…"
