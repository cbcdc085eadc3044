"""Backlog sync (core/backlog.py): planning, and applying through the real adapters to fake trackers."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest

from ticket_intel.adapters.jira import JiraClient
from ticket_intel.adapters.linear import LinearClient
from ticket_intel.core import backlog as bl
from ticket_intel.core.review import ReviewState
from ticket_intel_tests.fake_apis import FakeJira, FakeLinear, Planned, serve

WEEK = date(2026, 3, 2)
NOW = datetime(2026, 3, 9, 6, 0)


def theme(theme_id: str, rank: int, tickets: int, **extra: object) -> dict[str, object]:
    return {"theme_id": theme_id, "rank": rank, "label": f"Theme {theme_id}", "tickets": tickets,
            "customers": tickets - 1, "impact": 10.0 * tickets, "trend": "steady", "wow_change": 0.1,
            "severity": "P2", "signal_type": "bug", "product_area": "Cards", "paid_share": 0.5,
            "summary": f"Customers report {theme_id}.", **extra}


def contents(week: date = WEEK, bump: int = 0) -> list[bl.IssueContent]:
    themes = [theme("A", 1, 40 + bump, backlog_title="Fix declined card payments"), theme("B", 2, 30), theme("C", 3, 12)]
    customers = [{"customer_id": "c1", "plan": "enterprise", "monthly_revenue": 900.0, "tickets": 3}]
    examples = [{"id": "zendesk:1", "text": "My card is declined at every shop", "url": "https://z.test/1"}]
    return [bl.issue_content(week, t, customers, examples, ["62% Enterprise vs 18% of all tickets, p = 0.001"],
                             f"https://reports.test/ticket_intel_{week}.html#{t['theme_id']}") for t in themes]


@pytest.fixture()
def jira() -> Iterator[FakeJira]:
    with serve(FakeJira()) as fake:
        yield fake


def jira_client(fake: FakeJira) -> JiraClient:
    return JiraClient(fake.url, fake.email, fake.token, "SUP", sleep=lambda s: None)


TOP2 = bl.SelectionPolicy(bl.TOP, top_n=2)


def test_issue_content_reads_well() -> None:
    content = contents()[0]
    assert content.title == "Fix declined card payments"
    text = bl.to_markdown(content.doc)
    assert "- 40 tickets from 39 customers · rank 1 · impact 400" in text
    assert "- Trend: no clear change, +10% on last week" in text and "- 62% Enterprise vs 18% of all tickets" in text
    assert "- c1 (enterprise, 900/month): 3 tickets" in text
    assert "- [zendesk:1](https://z.test/1): My card is declined at every shop" in text
    assert text.rstrip().endswith(r"[Weekly report](https://reports.test/ticket_intel_2026-03-02.html#A) · ticket\_intel theme A")


def test_an_issue_of_a_small_queue_says_how_many_weeks_its_numbers_cover() -> None:
    ranked = {**theme("A", 1, 18), "ranked_weeks": 3, "wow_change": 0.5}
    text = bl.to_markdown(bl.issue_content(WEEK, ranked, [], [], [], "https://reports.test/r.html#A").doc)
    assert "- 18 tickets from 17 customers in 3 weeks · rank 1" in text
    assert "- Trend: no clear change, +50% on the 3 weeks before" in text


def test_top_n_creates_and_dry_run_prints_the_plan() -> None:
    actions = bl.plan(WEEK, contents(), ReviewState(), {}, TOP2)
    assert [(a.kind, a.theme_id) for a in actions] == [("create", "A"), ("create", "B")]
    dry = bl.format_plan(actions, {})
    assert dry.startswith("backlog: 2 create, 0 update, 0 comment")
    assert "create  A  new issue  'Fix declined card payments'" in dry and "    - 40 tickets from 39 customers" in dry
    assert bl.format_plan([], {}) == "backlog: nothing to change"


def test_confirmed_policy_follows_review_and_merges() -> None:
    review = ReviewState(confirmed={"C": "", "Z": ""}, merged_into={"Z": "B"})
    actions = bl.plan(WEEK, contents(), review, {}, bl.SelectionPolicy(bl.CONFIRMED))
    assert sorted(a.theme_id for a in actions) == ["B", "C"]
    # renamed or merged into, a theme a reviewer acted on never reached the tracker (review report, C)
    named = ReviewState(labels={"A": "Declined card payments"}, merged_into={"Z": "C"})
    assert sorted(a.theme_id for a in bl.plan(WEEK, contents(), named, {}, bl.SelectionPolicy(bl.CONFIRMED))) == ["A", "C"]
    with pytest.raises(ValueError, match="must be 'top' or 'confirmed'"):
        bl.SelectionPolicy("all")


def test_sync_creates_once_updates_weekly_and_comments_on_spikes(jira: FakeJira) -> None:
    client = jira_client(jira)
    first = bl.apply(bl.plan(WEEK, contents(), ReviewState(), {}, TOP2), client, {}, NOW)
    assert first.error is None and not first.pending
    links = first.links
    assert {t: link.issue_key for t, link in links.items()} == {"A": "SUP-1", "B": "SUP-2"}
    assert links["A"].issue_url == f"{jira.url}/browse/SUP-1" and links["A"].last_synced_week == WEEK
    assert bl.plan(WEEK, contents(), ReviewState(), links, TOP2) == []  # re-running the week sends nothing

    week2 = WEEK + timedelta(weeks=1)
    spike = {"alert_key": f"A|{week2}|volume_spike", "theme_id": "A", "kind": "volume_spike", "label": "Theme A"}
    new = {"alert_key": f"C|{week2}|new_pattern", "theme_id": "C", "kind": "new_pattern", "label": "Theme C"}
    actions = bl.plan(week2, contents(week2, bump=20), ReviewState(), links, TOP2, [spike, new],
                      {spike["alert_key"]: "Spike: 60 tickets, 2.1x its baseline"})
    assert [(a.kind, a.theme_id) for a in actions] == [("update", "A"), ("update", "B"), ("comment", "A")]
    second = bl.apply(actions, client, links, NOW + timedelta(weeks=1))
    assert "60 tickets from 59 customers" in json.dumps(jira.issues["SUP-1"]["fields"]["description"])
    assert jira.comments["SUP-1"][0]["body"]["content"][0]["content"][0]["text"].startswith("Spike: 60 tickets")
    assert second.links["A"].created_at == NOW and second.links["A"].last_synced_week == week2
    assert len(jira.issues) == 2  # theme C never made the top 2: no issue


def test_tracker_down_loses_nothing_and_the_next_run_retries(jira: FakeJira) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    down = JiraClient(dead, "a@b.c", "t", "SUP", timeout=2)
    result = bl.apply(bl.plan(WEEK, contents(), ReviewState(), {}, TOP2), down, {}, NOW)
    assert "cannot reach" in result.error and not result.links
    assert [(a.key, a.attempts) for a in result.pending] == [("create|A", 1), ("create|B", 0)]  # stopped after one

    outbox = [bl.Action.from_record(json.loads(json.dumps(a.to_record()))) for a in result.pending]
    assert outbox == result.pending  # survives the outbox table
    week2 = WEEK + timedelta(weeks=1)
    retried = bl.plan(week2, contents(week2), ReviewState(), {}, TOP2, pending=outbox)
    assert [(a.key, a.attempts, a.week) for a in retried] == [("create|A", 1, week2), ("create|B", 0, week2)]
    done = bl.apply(retried, jira_client(jira), {}, NOW)
    assert not done.pending and sorted(done.links) == ["A", "B"]


def test_rate_limited_run_stops_and_keeps_the_rest(jira: FakeJira) -> None:
    jira.planned.append(Planned(429, {"Retry-After": "900"}))
    result = bl.apply(bl.plan(WEEK, contents(), ReviewState(), {}, TOP2), jira_client(jira), {}, NOW)
    assert "rate limited" in result.error and len(result.pending) == 2 and not jira.issues


def test_bad_credentials_stop_the_run_with_a_clear_error(jira: FakeJira) -> None:
    wrong = JiraClient(jira.url, jira.email, "nope", "SUP")
    result = bl.apply(bl.plan(WEEK, contents(), ReviewState(), {}, TOP2), wrong, {}, NOW)
    assert "HTTP 401" in result.error and "TICKET_INTEL_JIRA_API_TOKEN" in result.error
    assert len(result.pending) == 2 and len(jira.requests) == 1


def test_issue_created_by_a_crashed_run_is_adopted_not_duplicated(jira: FakeJira) -> None:
    client = jira_client(jira)
    client.create("A", "Fix declined card payments", contents()[0].doc)  # the link was never written
    result = bl.apply(bl.plan(WEEK, contents(), ReviewState(), {}, TOP2), client, {}, NOW)
    assert result.links["A"].issue_key == "SUP-1" and len(jira.issues) == 2


def test_a_deleted_issue_is_made_again_and_a_refused_request_stays_pending(jira: FakeJira) -> None:
    client = jira_client(jira)
    links = bl.apply(bl.plan(WEEK, contents(), ReviewState(), {}, TOP2), client, {}, NOW).links
    del jira.issues["SUP-1"]  # someone deleted it in Jira
    week2 = WEEK + timedelta(weeks=1)
    result = bl.apply(bl.plan(week2, contents(week2, 5), ReviewState(), links, TOP2), client, links, NOW)
    assert result.error is None and not result.pending and [a.key for a in result.applied] == ["update|A", "update|B"]
    assert result.links["A"].issue_key == "SUP-3" and "ticket-intel-A" in jira.issues["SUP-3"]["fields"]["labels"]
    jira.planned.append(Planned(400, body={"errors": {"description": "Field too long"}}))
    week3 = week2 + timedelta(weeks=1)
    refused = bl.apply(bl.plan(week3, contents(week3, 9), ReviewState(), result.links, TOP2), client, result.links, NOW)
    assert refused.error is None and [a.key for a in refused.refused] == [a.key for a in refused.pending] == ["update|A"]
    assert "HTTP 400: description: Field too long" in refused.pending[0].error
    assert [a.key for a in refused.applied] == ["update|B"]


def test_a_deleted_linear_issue_is_made_again_under_another_id() -> None:
    with serve(FakeLinear()) as linear:
        client = LinearClient(linear.api_key, "team-1", url=f"{linear.url}/graphql", sleep=lambda s: None)
        links = bl.apply(bl.plan(WEEK, contents(), ReviewState(), {}, TOP2), client, {}, NOW).links
        linear.trash("SUP-1")
        week2 = WEEK + timedelta(weeks=1)
        result = bl.apply(bl.plan(week2, contents(week2, 5), ReviewState(), links, TOP2), client, links, NOW)
        assert not result.pending and result.links["A"].issue_key == "SUP-3"


def test_each_applied_action_is_recorded_as_it_succeeds(jira: FakeJira) -> None:
    """A run killed after its first create must not create it again, nor lose the second."""
    client = jira_client(jira)
    recorded: list[tuple[list[str], list[str]]] = []
    bl.apply(bl.plan(WEEK, contents(), ReviewState(), {}, TOP2), client, {}, NOW,
             lambda r: recorded.append((sorted(r.links), [a.key for a in r.pending])))
    assert recorded == [(["A"], ["create|B"]), (["A", "B"], [])]


def test_a_merge_undone_gives_the_theme_merged_away_an_issue_of_its_own(jira: FakeJira) -> None:
    client = jira_client(jira)
    links = bl.apply(bl.plan(WEEK, contents(), ReviewState(), {}, TOP2), client, {}, NOW).links
    merged = ReviewState(merged_into={"B": "A"})
    week2 = WEEK + timedelta(weeks=1)
    moved = bl.apply(bl.plan(week2, [c for c in contents(week2, 30) if c.theme_id != "B"], merged, links, TOP2),
                     client, links, NOW + timedelta(weeks=1)).links
    assert moved["B"].issue_key == "SUP-1"
    week3 = week2 + timedelta(weeks=1)
    apart = bl.detach_shared(moved, ReviewState())  # the merge undone
    actions = bl.plan(week3, contents(week3, 3), ReviewState(), apart, TOP2)
    assert [(a.kind, a.theme_id, a.issue_key) for a in actions] == [("create", "B", None), ("update", "A", "SUP-1")]
    after = bl.apply(actions, client, apart, NOW).links
    assert (after["A"].issue_key, after["B"].issue_key) == ("SUP-1", "SUP-2")  # B's own, found by its label


def test_merged_themes_end_up_on_one_issue(jira: FakeJira) -> None:
    client = jira_client(jira)
    links = bl.apply(bl.plan(WEEK, contents(), ReviewState(), {}, TOP2), client, {}, NOW).links
    review = ReviewState(merged_into={"B": "A"})
    week2 = WEEK + timedelta(weeks=1)
    merged_contents = [c for c in contents(week2, 30) if c.theme_id != "B"]  # ranking counts B under A
    actions = bl.plan(week2, merged_contents, review, links, TOP2)
    assert [(a.kind, a.issue_key) for a in actions] == [("update", "SUP-1"), ("comment", "SUP-2")]
    result = bl.apply(actions, client, links, NOW)
    assert {t: link.issue_key for t, link in result.links.items()} == {"A": "SUP-1", "B": "SUP-1"}
    note = jira.comments["SUP-2"][0]["body"]["content"][0]["content"]
    assert note[0]["text"].startswith("This theme was merged into A") and note[1]["text"] == "SUP-1"
    assert bl.plan(week2, merged_contents, review, result.links, TOP2) == []  # said once


def test_merge_into_a_theme_without_an_issue_adopts_the_oldest(jira: FakeJira) -> None:
    client = jira_client(jira)
    links = bl.apply(bl.plan(WEEK, contents(), ReviewState(), {}, TOP2), client, {}, NOW).links
    review = ReviewState(merged_into={"A": "C", "B": "C"})
    week2 = WEEK + timedelta(weeks=1)
    only_c = [bl.issue_content(week2, theme("C", 1, 80))]
    actions = bl.plan(week2, only_c, review, links, TOP2)
    assert [(a.kind, a.issue_key) for a in actions] == [("update", "SUP-1"), ("comment", "SUP-2")]
    result = bl.apply(actions, client, links, NOW)
    assert {t: link.issue_key for t, link in result.links.items()} == {"A": "SUP-1", "B": "SUP-1", "C": "SUP-1"}


def test_linear_sync_end_to_end() -> None:
    with serve(FakeLinear()) as linear:
        client = LinearClient(linear.api_key, "team-1", url=f"{linear.url}/graphql", sleep=lambda s: None)
        links = bl.apply(bl.plan(WEEK, contents(), ReviewState(), {}, TOP2), client, {}, NOW).links
        assert {t: link.issue_key for t, link in links.items()} == {"A": "SUP-1", "B": "SUP-2"}
        alert = {"alert_key": "A|2026-03-09|regression", "theme_id": "A", "kind": "regression", "label": "Theme A"}
        week2 = WEEK + timedelta(weeks=1)
        result = bl.apply(bl.plan(week2, contents(week2, 1), ReviewState(), links, TOP2, [alert]), client, links, NOW)
        assert not result.pending
        issue_a = next(i for i in linear.issues.values() if i["identifier"] == "SUP-1")
        assert "41 tickets from 40 customers" in issue_a["description"]
        assert linear.comments[issue_a["id"]] == ["regression: Theme A\n"]


def test_queued_create_of_a_theme_merged_since_is_dropped() -> None:
    queued = bl.plan(WEEK, contents(), ReviewState(), {}, TOP2)  # A and B, never sent
    review = ReviewState(merged_into={"B": "A"})
    week2 = WEEK + timedelta(weeks=1)
    actions = bl.plan(week2, [c for c in contents(week2) if c.theme_id != "B"], review, {}, TOP2, pending=queued)
    assert [(a.key, a.relink) for a in actions] == [("create|A", ("A", "B"))]


def test_a_customer_s_markdown_reaches_a_linear_issue_as_text():
    """A ticket holding `[Reset your password](https://evil.example/login)` and a tracking image
    became a live link and an image in a Linear issue; the weekly report escaped the same text."""
    doc = [{"type": "paragraph", "spans": [{"text": "[Reset your password](https://evil.example/login) "
                                                    "![pixel](https://evil.example/p.png) <b>hi</b>"}]},
           {"type": "paragraph", "spans": [{"text": "Weekly report", "url": "https://reports.test/r.html"}]}]
    text = bl.to_markdown(doc)
    assert "](https://evil.example" not in text.replace("\\]", "") and "<b>" not in text
    assert r"\[Reset your password\](`https://evil.example/login`)" in text  # the address as code, no link
    assert "[Weekly report](https://reports.test/r.html)" in text  # our own link stays a link
