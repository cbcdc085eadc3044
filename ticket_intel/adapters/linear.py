"""Linear, GraphQL API: issueCreate, issueUpdate, commentCreate, and issue look-ups.

Auth is a personal API key sent as-is in the `Authorization` header (`TICKET_INTEL_LINEAR_API_KEY`);
issues go to one team (`TICKET_INTEL_LINEAR_TEAM_ID`). Descriptions and comments are Markdown.
Linear accepts a client-chosen issue id (UUID v4 format) on create; the id is derived from the
team and the theme, so `find` can look the issue up by it and a crashed run's issue is adopted
instead of duplicated.

Linear answers errors as GraphQL `errors` whose `extensions.type` says what happened
("authentication error", "forbidden", "ratelimited", "invalid input", ...), with HTTP 200 or
4xx; both are read. Rate limits are waited out per `Retry-After` (core retry policy).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from ticket_intel.adapters.http import RetryPolicy, send
from ticket_intel.core.backlog import (
    Doc,
    IssueRef,
    TrackerAuthError,
    TrackerNotFound,
    TrackerRejected,
    TrackerUnavailable,
    to_markdown,
)

API_URL = "https://api.linear.app/graphql"
CREDENTIALS = "TICKET_INTEL_LINEAR_API_KEY"
ISSUE_FIELDS = "id identifier url"
CREATE = f"""mutation IssueCreate($input: IssueCreateInput!) {{
  issueCreate(input: $input) {{ success issue {{ {ISSUE_FIELDS} }} }} }}"""
UPDATE = """mutation IssueUpdate($id: String!, $input: IssueUpdateInput!) {
  issueUpdate(id: $id, input: $input) { success } }"""
COMMENT = """mutation CommentCreate($input: CommentCreateInput!) {
  commentCreate(input: $input) { success comment { id } } }"""
ISSUE = f"""query Issue($id: String!) {{ issue(id: $id) {{ {ISSUE_FIELDS} title description }} }}"""
FIND = f"""query FindIssue($id: ID!) {{
  issues(filter: {{ id: {{ eq: $id }} }}, first: 1, includeArchived: true) {{ nodes {{ {ISSUE_FIELDS} }} }} }}"""


def issue_uuid(team_id: str, theme_id: str, replacing: str = "") -> str:
    """The theme's issue id in this team: stable, and shaped as a UUID v4 as Linear requires. An
    issue made again for one that was deleted (`replacing` its identifier) gets another: Linear
    keeps deleted issues, ids included, in its trash."""
    seed = f"ticket_intel:{team_id}:{theme_id}" + (f":{replacing}" if replacing else "")
    digest = hashlib.sha256(seed.encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _error_kind(errors: list[Mapping[str, Any]]) -> tuple[str, str]:
    first = errors[0] if errors else {}
    ext = first.get("extensions") or {}
    kind = str(ext.get("type") or ext.get("code") or "").lower().replace("_", " ")
    return kind, str(ext.get("userPresentableMessage") or first.get("message") or "unknown error")


def _is_rate_limited(response: requests.Response) -> bool:
    if response.status_code == 429:
        return True
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and _error_kind(body.get("errors") or [])[0] == "ratelimited"


def _raise(what: str, status: int, errors: list[Mapping[str, Any]]) -> None:
    kind, message = _error_kind(errors)
    text = f"Linear {what}: {message}" + (f" (HTTP {status})" if status != 200 else "")
    if kind in ("authentication error", "forbidden") or status in (401, 403):
        raise TrackerAuthError(f"{text} (check {CREDENTIALS})")
    if "not found" in message.lower() or "could not find" in message.lower() or status == 404:
        raise TrackerNotFound(text)
    if status >= 500 or kind in ("internal error", "network error", "lock timeout"):
        raise TrackerUnavailable(text)
    raise TrackerRejected(text)



@dataclass
class LinearClient:
    api_key: str
    team_id: str
    url: str = API_URL
    label_ids: tuple[str, ...] = ()
    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)
    name: str = "linear"
    _ids: dict[str, str] = field(default_factory=dict)  # identifier (ENG-12) -> issue id

    def __post_init__(self) -> None:
        if not self.api_key or not self.team_id:
            raise ValueError("Linear needs an API key and a team id (TICKET_INTEL_LINEAR_API_KEY, _TEAM_ID)")
        self.session.headers.update({"Authorization": self.api_key, "Content-Type": "application/json"})

    def _call(self, query: str, variables: Mapping[str, Any], what: str) -> dict[str, Any]:
        operation = query.split("(", 1)[0].split()[-1]
        response = send(self.session, "POST", self.url, f"Linear {what}", retry=self.retry, sleep=self.sleep,
                        rate_limited=_is_rate_limited, timeout=self.timeout,
                        json={"query": query, "variables": dict(variables), "operationName": operation})
        try:
            body = response.json()
        except ValueError:
            body = {"errors": [{"message": response.text[:200] or response.reason}]}
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors or not 200 <= response.status_code < 300:
            _raise(what, response.status_code, errors or [{"message": response.text[:200]}])
        return body["data"]

    def _payload(self, data: dict[str, Any], field_name: str, what: str) -> dict[str, Any]:
        payload = data[field_name]
        if not payload.get("success"):
            raise TrackerRejected(f"Linear {what}: the mutation did not succeed")
        return payload

    def _id(self, issue_key: str) -> str:
        """The issue's id for mutations (its identifier resolved once per run)."""
        if issue_key not in self._ids:
            self._ids[issue_key] = self._call(ISSUE, {"id": issue_key}, f"get {issue_key}")["issue"]["id"]
        return self._ids[issue_key]

    def create(self, theme_id: str, title: str, doc: Doc, replacing: str = "") -> IssueRef:
        fields = {"id": issue_uuid(self.team_id, theme_id, replacing), "teamId": self.team_id, "title": title,
                  "description": to_markdown(doc), **({"labelIds": list(self.label_ids)} if self.label_ids else {})}
        what = f"create issue for {theme_id}"
        issue = self._payload(self._call(CREATE, {"input": fields}, what), "issueCreate", what)["issue"]
        self._ids[issue["identifier"]] = issue["id"]
        return IssueRef(issue["identifier"], issue["url"], issue["id"])

    def update(self, issue_key: str, doc: Doc) -> None:
        what = f"update {issue_key}"
        data = self._call(UPDATE, {"id": self._id(issue_key), "input": {"description": to_markdown(doc)}}, what)
        self._payload(data, "issueUpdate", what)

    def comment(self, issue_key: str, doc: Doc) -> None:
        what = f"comment on {issue_key}"
        data = self._call(COMMENT, {"input": {"issueId": self._id(issue_key), "body": to_markdown(doc)}}, what)
        self._payload(data, "commentCreate", what)

    def get(self, issue_key: str) -> dict[str, Any]:
        return self._call(ISSUE, {"id": issue_key}, f"get {issue_key}")["issue"]

    def find(self, theme_id: str) -> IssueRef | None:
        nodes = self._call(FIND, {"id": issue_uuid(self.team_id, theme_id)}, f"find issue of {theme_id}")["issues"]["nodes"]
        return IssueRef(nodes[0]["identifier"], nodes[0]["url"], nodes[0]["id"]) if nodes else None
