"""Jira Cloud, REST API v3: create an issue, rewrite its description, comment, get, search.

Auth is basic: the account's email and an API token (`TICKET_INTEL_JIRA_EMAIL`,
`TICKET_INTEL_JIRA_API_TOKEN`). Descriptions and comments are Atlassian Document Format
(ADF), built from the core's issue document. Each issue carries the label
`ticket-intel-<theme id>`, which `find` searches (`POST /rest/api/3/search/jql`) so an issue
whose link was lost is adopted instead of duplicated.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from ticket_intel.adapters.http import RetryPolicy, raise_for_status, send
from ticket_intel.core.backlog import Doc, IssueRef, Span

CREDENTIALS = "TICKET_INTEL_JIRA_EMAIL and TICKET_INTEL_JIRA_API_TOKEN"
SUMMARY_LIMIT = 255


def theme_label(theme_id: str) -> str:
    """The label naming the theme (Jira labels have no spaces)."""
    return "ticket-intel-" + re.sub(r"[^A-Za-z0-9_.-]", "_", theme_id)


def _text(spans: Sequence[Span]) -> list[dict[str, Any]]:
    nodes = []
    for s in spans:
        if not s["text"]:
            continue  # ADF refuses empty text nodes
        node: dict[str, Any] = {"type": "text", "text": s["text"]}
        if s.get("url"):
            node["marks"] = [{"type": "link", "attrs": {"href": s["url"]}}]
        nodes.append(node)
    return nodes


def to_adf(doc: Doc) -> dict[str, Any]:
    """The core's issue document as an ADF `doc` node."""
    content: list[dict[str, Any]] = []
    for block in doc:
        if block["type"] == "heading":
            content.append({"type": "heading", "attrs": {"level": 3}, "content": _text([{"text": block["text"]}])})
        elif block["type"] == "paragraph":
            content.append({"type": "paragraph", "content": _text(block["spans"])})
        else:
            content.append({"type": "bulletList", "content": [
                {"type": "listItem", "content": [{"type": "paragraph", "content": _text(item)}]}
                for item in block["items"]]})
    return {"type": "doc", "version": 1, "content": content}


def _detail(response: requests.Response) -> str:
    """Jira's error body: {"errorMessages": [...], "errors": {field: message}}."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if not isinstance(body, dict):
        return str(body)[:200]
    messages = [*body.get("errorMessages", []), *(f"{k}: {v}" for k, v in (body.get("errors") or {}).items())]
    return "; ".join(str(m) for m in messages)[:300]


@dataclass
class JiraClient:
    base_url: str  # https://acme.atlassian.net
    email: str
    api_token: str
    project_key: str
    issue_type: str = "Task"
    labels: tuple[str, ...] = ("ticket-intel",)
    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)
    name: str = "jira"

    def __post_init__(self) -> None:
        missing = [n for n, v in (("URL", self.base_url), ("email", self.email), ("API token", self.api_token),
                                  ("project key", self.project_key)) if not v]
        if missing:
            raise ValueError(f"Jira needs its {', '.join(missing)} (TICKET_INTEL_JIRA_URL, _EMAIL, _API_TOKEN, _PROJECT)")
        self.session.auth = (self.email, self.api_token)
        self.session.headers.update({"Accept": "application/json"})

    def _call(self, method: str, path: str, what: str, body: Any = None) -> Any:
        response = send(self.session, method, f"{self.base_url.rstrip('/')}{path}", f"Jira {what}",
                        retry=self.retry, sleep=self.sleep, json=body, timeout=self.timeout)
        raise_for_status(response, f"Jira {what}", _detail(response), CREDENTIALS)
        return response.json() if response.content else None

    def browse_url(self, key: str) -> str:
        return f"{self.base_url.rstrip('/')}/browse/{key}"

    def create(self, theme_id: str, title: str, doc: Doc, replacing: str = "") -> IssueRef:
        fields = {"project": {"key": self.project_key}, "issuetype": {"name": self.issue_type},
                  "summary": title[:SUMMARY_LIMIT], "description": to_adf(doc),
                  "labels": [*self.labels, theme_label(theme_id)]}
        created = self._call("POST", "/rest/api/3/issue", f"create issue for {theme_id}", {"fields": fields})
        return IssueRef(created["key"], self.browse_url(created["key"]), str(created["id"]))

    def update(self, issue_key: str, doc: Doc) -> None:
        self._call("PUT", f"/rest/api/3/issue/{issue_key}", f"update {issue_key}", {"fields": {"description": to_adf(doc)}})

    def comment(self, issue_key: str, doc: Doc) -> None:
        self._call("POST", f"/rest/api/3/issue/{issue_key}/comment", f"comment on {issue_key}", {"body": to_adf(doc)})

    def get(self, issue_key: str) -> dict[str, Any]:
        return self._call("GET", f"/rest/api/3/issue/{issue_key}?fields=summary,labels,description", f"get {issue_key}")

    def search(self, jql: str, fields: Sequence[str] = ("summary",), page_size: int = 50) -> list[dict[str, Any]]:
        """Every issue matching `jql`, page by page (`nextPageToken`)."""
        issues: list[dict[str, Any]] = []
        token = None
        while True:
            body = {"jql": jql, "fields": list(fields), "maxResults": page_size,
                    **({"nextPageToken": token} if token else {})}
            page = self._call("POST", "/rest/api/3/search/jql", "search", body)
            issues += page.get("issues", [])
            token = page.get("nextPageToken")
            if not token:
                return issues

    def find(self, theme_id: str) -> IssueRef | None:
        found = self.search(f'project = "{self.project_key}" AND labels = "{theme_label(theme_id)}"')
        return IssueRef(found[0]["key"], self.browse_url(found[0]["key"]), str(found[0]["id"])) if found else None
