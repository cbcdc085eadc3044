"""Jira and Linear adapters (ticket_intel/adapters/) against local fake servers."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from ticket_intel.adapters.http import RetryPolicy, retry_after
from ticket_intel.adapters.jira import JiraClient, theme_label, to_adf
from ticket_intel.adapters.linear import LinearClient, issue_uuid
from ticket_intel.core.backlog import (
    TrackerAuthError,
    TrackerNotFound,
    TrackerRejected,
    TrackerUnavailable,
    bullets,
    heading,
    paragraph,
    span,
)
from ticket_intel_tests.fake_apis import FakeJira, FakeLinear, Planned, adf_problem, serve

DOC = [paragraph(span("Cards are declined abroad.")), heading("Week of 2026-03-02"),
       bullets([[span("42 tickets")], [span("z:1", "https://acme.zendesk.test/1"), span(": my card fails")]])]


@pytest.fixture()
def jira() -> Iterator[FakeJira]:
    with serve(FakeJira()) as fake:
        yield fake


@pytest.fixture()
def linear() -> Iterator[FakeLinear]:
    with serve(FakeLinear()) as fake:
        yield fake


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def jira_client(fake: FakeJira, **kw: object) -> JiraClient:
    return JiraClient(fake.url, fake.email, fake.token, "SUP", **kw)


def linear_client(fake: FakeLinear, **kw: object) -> LinearClient:
    return LinearClient(fake.api_key, "team-1", url=f"{fake.url}/graphql", **kw)


def test_adf_is_valid_and_keeps_links() -> None:
    adf = to_adf([*DOC, paragraph(span(""), span("marker"))])
    assert adf_problem(adf) is None
    link = adf["content"][2]["content"][1]["content"][0]["content"][0]
    assert link == {"type": "text", "text": "z:1", "marks": [{"type": "link", "attrs": {"href": "https://acme.zendesk.test/1"}}]}


def test_jira_create_update_comment_get_find(jira: FakeJira) -> None:
    client = jira_client(jira)
    ref = client.create("T20260302-01", "Fix declined card payments", DOC)
    assert (ref.key, ref.url) == ("SUP-1", f"{jira.url}/browse/SUP-1")
    sent = jira.requests[-1]
    assert sent["headers"]["Authorization"] == "Basic " + base64.b64encode(b"bot@acme.test:jira-token").decode()
    assert sent["body"]["fields"]["labels"] == ["ticket-intel", theme_label("T20260302-01")]
    client.update("SUP-1", DOC[:1])
    client.comment("SUP-1", [paragraph(span("Spike: 40 tickets"))])
    issue = client.get("SUP-1")
    assert issue["fields"]["description"] == to_adf(DOC[:1])
    assert jira.comments["SUP-1"][0]["body"]["content"][0]["content"][0]["text"] == "Spike: 40 tickets"
    assert client.find("T20260302-01") == ref
    assert client.find("T-other") is None


def test_jira_long_titles_are_cut_to_its_limit(jira: FakeJira) -> None:
    jira_client(jira).create("T1", "x" * 400, DOC)
    assert len(jira.issues["SUP-1"]["fields"]["summary"]) == 255


def test_jira_errors_are_clear(jira: FakeJira) -> None:
    with pytest.raises(TrackerAuthError, match=r"HTTP 401.*authenticated.*TICKET_INTEL_JIRA_EMAIL"):
        JiraClient(jira.url, jira.email, "wrong", "SUP").create("T1", "t", DOC)
    jira.planned.append(Planned(403, body={"errorMessages": ["You do not have permission"], "errors": {}}))
    with pytest.raises(TrackerAuthError, match=r"403.*permission"):
        jira_client(jira).update("SUP-1", DOC)
    with pytest.raises(TrackerNotFound, match=r"404.*Issue does not exist"):
        jira_client(jira).comment("SUP-9", DOC)
    with pytest.raises(TrackerRejected, match="project: valid project is required"):
        JiraClient(jira.url, jira.email, jira.token, "NOPE").create("T1", "t", DOC)
    with pytest.raises(ValueError, match="Jira needs its API token"):
        JiraClient(jira.url, jira.email, "", "SUP")


def test_jira_429_waits_for_retry_after_then_succeeds(jira: FakeJira) -> None:
    sleeps = Sleeps()
    jira.planned += [Planned(429, {"Retry-After": "3"}), Planned(429, {"Retry-After": "1"})]
    ref = jira_client(jira, sleep=sleeps).create("T1", "t", DOC)
    assert ref.key == "SUP-1" and sleeps == [3.0, 1.0]
    assert len(jira.requests) == 3


def test_rate_limit_retries_are_bounded(jira: FakeJira) -> None:
    sleeps = Sleeps()
    jira.planned += [Planned(429, {"Retry-After": "1"})] * 5
    with pytest.raises(TrackerUnavailable, match="still rate limited after 3 attempts"):
        jira_client(jira, sleep=sleeps, retry=RetryPolicy(max_attempts=3)).create("T1", "t", DOC)
    assert sleeps == [1.0, 1.0]
    jira.planned[:] = [Planned(429, {"Retry-After": "3600"})]
    with pytest.raises(TrackerUnavailable, match="wait 3600 s"):
        jira_client(jira, sleep=sleeps).create("T1", "t", DOC)  # too long to wait: give up at once
    assert sleeps == [1.0, 1.0]
    jira.planned[:] = [Planned(429), Planned(429)]
    jira_client(jira, sleep=sleeps).create("T1", "t", DOC)  # no Retry-After: exponential backoff
    assert sleeps[-2:] == [1.0, 2.0]


def test_server_errors_and_a_down_tracker_are_unavailable(jira: FakeJira) -> None:
    jira.planned.append(Planned(503, body={"errorMessages": ["Service unavailable"], "errors": {}}))
    with pytest.raises(TrackerUnavailable, match="503"):
        jira_client(jira).create("T1", "t", DOC)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(TrackerUnavailable, match="cannot reach"):
        JiraClient(f"http://127.0.0.1:{port}", "a@b.c", "t", "SUP", timeout=2).create("T1", "t", DOC)


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert retry_after({"Retry-After": format_datetime(now + timedelta(seconds=30), usegmt=True)}, now) == 30.0
    assert retry_after({"Retry-After": "soon"}, now) is None and retry_after({}, now) is None


def test_linear_create_update_comment_get_find(linear: FakeLinear) -> None:
    client = linear_client(linear)
    ref = client.create("T20260302-01", "Fix declined card payments", DOC)
    assert ref.key == "SUP-1" and ref.url.endswith("/SUP-1") and ref.tracker_id == issue_uuid("team-1", "T20260302-01")
    sent = linear.requests[-1]
    assert sent["headers"]["Authorization"] == "lin_api_test"  # the key itself, no "Bearer"
    assert sent["body"]["operationName"] == "IssueCreate"
    assert "[z:1](https://acme.zendesk.test/1): my card fails" in linear.issues[ref.tracker_id]["description"]
    fresh = linear_client(linear)  # a new run knows only the identifier
    fresh.update("SUP-1", DOC[:1])
    fresh.comment("SUP-1", [paragraph(span("Spike: 40 tickets"))])
    assert fresh.get("SUP-1")["description"] == "Cards are declined abroad.\n"
    assert linear.comments[ref.tracker_id] == ["Spike: 40 tickets\n"]
    assert fresh.find("T20260302-01") == ref and fresh.find("T-other") is None


def test_linear_errors_are_clear(linear: FakeLinear) -> None:
    with pytest.raises(TrackerAuthError, match=r"Authentication required.*TICKET_INTEL_LINEAR_API_KEY"):
        LinearClient("wrong", "team-1", url=f"{linear.url}/graphql").create("T1", "t", DOC)
    with pytest.raises(TrackerNotFound, match="Could not find referenced Issue"):
        linear_client(linear).comment("SUP-404", DOC)
    with pytest.raises(TrackerRejected, match="Team not found"):
        LinearClient(linear.api_key, "team-x", url=f"{linear.url}/graphql").create("T1", "t", DOC)
    linear.planned.append(Planned(403, body={"errors": [{"message": "Forbidden", "extensions": {"type": "forbidden"}}]}))
    with pytest.raises(TrackerAuthError, match="Forbidden"):
        linear_client(linear).create("T1", "t", DOC)


@pytest.mark.parametrize("status", [400, 429])
def test_linear_rate_limit_is_waited_out(linear: FakeLinear, status: int) -> None:
    limited = {"errors": [{"message": "Rate limit exceeded", "extensions": {"type": "ratelimited", "code": "RATELIMITED"}}]}
    linear.planned.append(Planned(status, {"Retry-After": "2"}, limited))
    sleeps = Sleeps()
    assert linear_client(linear, sleep=sleeps).create("T1", "t", DOC).key == "SUP-1"
    assert sleeps == [2.0]
