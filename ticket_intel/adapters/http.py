"""One HTTP call with bounded retries on rate limits, and status codes mapped to tracker errors.

A 429 (or a tracker's own "rate limited" answer) is retried after the server's `Retry-After`
(seconds or an HTTP date), else after an exponential backoff, at most `max_attempts` times and
never waiting longer than `max_wait` seconds at once: past that the call raises
`TrackerUnavailable` and the action waits in the outbox for the next run instead of blocking
this one. Other answers are not retried here: the next run retries whatever stayed pending.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from ticket_intel.core.backlog import TrackerAuthError, TrackerNotFound, TrackerRejected, TrackerUnavailable


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    max_wait: float = 60.0  # seconds; a longer Retry-After ends the run's calls instead
    backoff: float = 1.0  # first wait without a Retry-After; doubles each attempt


def retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), if any."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def send(session: requests.Session, method: str, url: str, what: str, *, retry: RetryPolicy,
         rate_limited: Callable[[requests.Response], bool] = lambda r: r.status_code == 429,
         sleep: Callable[[float], None] = time.sleep, **kwargs: Any) -> requests.Response:
    """The response to a request, after waiting out rate limits (see module doc)."""
    attempt = 1
    while True:
        try:
            response = session.request(method, url, **kwargs)
        except requests.RequestException as exc:
            raise TrackerUnavailable(f"{what}: cannot reach {url}: {exc}") from exc
        if not rate_limited(response):
            return response
        wait = retry_after(response.headers)
        wait = retry.backoff * 2 ** (attempt - 1) if wait is None else wait
        if attempt >= retry.max_attempts or wait > retry.max_wait:
            raise TrackerUnavailable(f"{what}: still rate limited after {attempt} attempts "
                                     f"(the server asks to wait {wait:.0f} s); the next run retries")
        sleep(wait)
        attempt += 1


def raise_for_status(response: requests.Response, what: str, detail: str, credentials: str) -> None:
    """Map a failed answer to the tracker error the sync understands; 2xx passes."""
    status = response.status_code
    if 200 <= status < 300:
        return
    message = f"{what}: HTTP {status}" + (f": {detail}" if detail else "")
    if status in (401, 403):
        raise TrackerAuthError(f"{message} (check {credentials})")
    if status == 404:
        raise TrackerNotFound(message)
    if status >= 500:
        raise TrackerUnavailable(message)
    raise TrackerRejected(message)
