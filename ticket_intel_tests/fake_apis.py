"""Local fake Jira Cloud, Linear and OpenAI servers for the backlog-sync and LLM tests.

Each implements the subset of the real API the adapters use, with the real endpoints, auth
headers, JSON shapes and error answers: Jira REST v3 (basic auth; `POST /rest/api/3/issue`,
`PUT /rest/api/3/issue/{key}`, `POST .../comment`, `GET /rest/api/3/issue/{key}`,
`POST /rest/api/3/search/jql` for `field = "value" AND ...` queries; ADF bodies validated;
errors as `{"errorMessages": [...], "errors": {...}}`), Linear GraphQL (`Authorization:
<api key>`; issueCreate, issueUpdate, commentCreate, issue, issues(filter: {id: {eq}});
errors as GraphQL `errors` with `extensions.type`) and OpenAI chat completions (`Authorization:
Bearer <key>`; `POST /v1/chat/completions`; errors as `{"error": {"message", "type", "code"}}`).
Each can be told to answer the next requests with a rate limit (`Retry-After`), a server error
or a delay, and to take `latency` seconds over every answer (requests are served concurrently).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ADF_BLOCKS = {"paragraph", "heading", "bulletList", "listItem"}


@dataclass
class Planned:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0  # seconds before answering (longer than the client's timeout: a hung server)


@dataclass
class FakeServer:
    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    planned: list[Planned] = field(default_factory=list)  # answered first, one per request
    latency: float = 0.0  # seconds every unplanned answer takes
    in_flight: int = 0
    most_in_flight: int = 0  # the most requests being answered at once
    lock: threading.Lock = field(default_factory=threading.Lock)
    unauthorized: tuple[int, Any] = (401, None)  # the answer to a request without valid credentials

    def next_planned(self) -> Planned | None:
        with self.lock:
            return self.planned.pop(0) if self.planned else None

    def authorized(self, header: str | None) -> bool:
        raise NotImplementedError

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        raise NotImplementedError


def adf_problem(node: Any, top: bool = True) -> str | None:
    """Why `node` is not a valid ADF document (the subset the adapter writes), or None."""
    if top:
        if not isinstance(node, dict) or node.get("type") != "doc" or node.get("version") != 1:
            return "must be an ADF doc node with version 1"
        return next((p for c in node.get("content", []) if (p := adf_problem(c, False))), None)
    kind = node.get("type")
    if kind == "text":
        if not node.get("text"):
            return "text nodes must not be empty"
        bad = [m for m in node.get("marks", []) if m.get("type") != "link" or not m.get("attrs", {}).get("href")]
        return "unsupported mark" if bad else None
    if kind not in ADF_BLOCKS:
        return f"unknown node type {kind!r}"
    if kind == "heading" and node.get("attrs", {}).get("level") not in range(1, 7):
        return "heading needs a level 1-6"
    return next((p for c in node.get("content", []) if (p := adf_problem(c, False))), None)


@dataclass
class FakeJira(FakeServer):
    unauthorized: tuple[int, Any] = (401, {"errorMessages": ["Client must be authenticated to access this resource."],
                                           "errors": {}})
    email: str = "bot@acme.test"
    token: str = "jira-token"
    projects: tuple[str, ...] = ("SUP",)
    issue_types: tuple[str, ...] = ("Task", "Bug")
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    created: int = 0

    def authorized(self, header: str | None) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        return header == expected

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        path = path.split("?", 1)[0]
        if method == "POST" and path == "/rest/api/3/issue":
            return self.create(body)
        if method == "POST" and path == "/rest/api/3/search/jql":
            return self.search(body)
        found = re.fullmatch(r"/rest/api/3/issue/([A-Z]+-\d+)(/comment)?", path)
        if not found:
            return 404, {"errorMessages": [f"No endpoint {method} {path}"], "errors": {}}
        key, comment = found.groups()
        if key not in self.issues:
            return 404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}
        if comment and method == "POST":
            return self.comment(key, body)
        if method == "PUT":
            return self.edit(key, body)
        if method == "GET":
            issue = self.issues[key]
            return 200, {"id": issue["id"], "key": key, "self": f"{self.url}/rest/api/3/issue/{issue['id']}",
                         "fields": issue["fields"]}
        return 405, {"errorMessages": ["Method not allowed"], "errors": {}}

    def create(self, body: Any) -> tuple[int, Any]:
        fields = (body or {}).get("fields", {})
        errors = {}
        if fields.get("project", {}).get("key") not in self.projects:
            errors["project"] = "valid project is required"
        if fields.get("issuetype", {}).get("name") not in self.issue_types:
            errors["issuetype"] = "valid issue type is required"
        if not fields.get("summary") or len(fields["summary"]) > 255:
            errors["summary"] = "You must specify a summary of the issue (at most 255 characters)."
        if (problem := adf_problem(fields.get("description"))) is not None:
            errors["description"] = f"Operation value must be an Atlassian Document: {problem}"
        if any(" " in label for label in fields.get("labels", [])):
            errors["labels"] = "Labels cannot contain spaces."
        if errors:
            return 400, {"errorMessages": [], "errors": errors}
        self.created += 1  # Jira never gives a deleted issue's key or id again
        issue_id = str(10000 + self.created - 1)
        key = f"{fields['project']['key']}-{self.created}"
        self.issues[key] = {"id": issue_id, "fields": fields}
        return 201, {"id": issue_id, "key": key, "self": f"{self.url}/rest/api/3/issue/{issue_id}"}

    def edit(self, key: str, body: Any) -> tuple[int, Any]:
        fields = (body or {}).get("fields", {})
        if "description" in fields and (problem := adf_problem(fields["description"])) is not None:
            return 400, {"errorMessages": [], "errors": {"description": problem}}
        self.issues[key]["fields"].update(fields)
        return 204, None

    def comment(self, key: str, body: Any) -> tuple[int, Any]:
        if (problem := adf_problem((body or {}).get("body"))) is not None:
            return 400, {"errorMessages": [], "errors": {"comment": problem}}
        comments = self.comments.setdefault(key, [])
        comments.append({"id": str(len(comments) + 1), "body": body["body"]})
        return 201, {"id": comments[-1]["id"], "body": body["body"], "self": f"{self.url}/comment/{comments[-1]['id']}"}

    def search(self, body: Any) -> tuple[int, Any]:
        clauses = [c.strip() for c in str((body or {}).get("jql", "")).split(" AND ")]
        parsed = [re.fullmatch(r'(project|labels) = "([^"]*)"', c) for c in clauses]
        if not clauses or not all(parsed):
            return 400, {"errorMessages": ["Error in the JQL Query: unsupported by the fake"], "errors": {}}

        def matches(key: str, fields: dict[str, Any]) -> bool:
            return all((key.split("-")[0] == v) if f == "project" else (v in fields.get("labels", []))
                       for f, v in (m.groups() for m in parsed if m))

        found = [{"id": i["id"], "key": k, "self": f"{self.url}/rest/api/3/issue/{i['id']}",
                  "fields": {"summary": i["fields"]["summary"]}} for k, i in self.issues.items() if matches(k, i["fields"])]
        return 200, {"issues": found[: body.get("maxResults", 50)]}


@dataclass
class FakeLinear(FakeServer):
    unauthorized: tuple[int, Any] = (400, {"data": None, "errors": [{
        "message": "Authentication required, not authenticated",
        "extensions": {"type": "authentication error", "code": "AUTHENTICATION_ERROR"}}]})
    api_key: str = "lin_api_test"
    teams: dict[str, str] = field(default_factory=lambda: {"team-1": "SUP"})  # team id -> key
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)  # issue id -> issue
    comments: dict[str, list[str]] = field(default_factory=dict)  # issue id -> comment bodies

    def authorized(self, header: str | None) -> bool:
        return header == self.api_key

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if method != "POST" or path != "/graphql":
            return 404, {"errors": [{"message": "Not found"}]}
        query, variables = str(body.get("query", "")), body.get("variables") or {}
        mutations = {"issueCreate": self.issue_create, "issueUpdate": self.issue_update,
                     "commentCreate": self.comment_create}
        for name, mutation in mutations.items():
            if re.search(rf"\b{name}\(", query):
                return 200, mutation(variables)
        if re.search(r"\bissues\(filter:", query):
            issue = self.issues.get(variables.get("id", ""))
            return 200, {"data": {"issues": {"nodes": [self.public(issue)] if issue else []}}}
        if re.search(r"\bissue\(id:", query):
            issue = self.lookup(variables.get("id", ""))
            return (200, {"data": {"issue": {**self.public(issue), "title": issue["title"],
                                             "description": issue["description"]}}}) if issue else self.not_found()
        return 400, {"errors": [{"message": "Cannot query this field", "extensions": {"type": "graphql error"}}]}

    def lookup(self, key: str) -> dict[str, Any] | None:
        found = self.issues.get(key) or next((i for i in self.issues.values() if i["identifier"] == key), None)
        return None if found is None or found.get("trashed") else found

    def trash(self, identifier: str) -> None:
        """Delete an issue as Linear does: out of sight, its id still taken (the trash keeps it)."""
        next(i for i in self.issues.values() if i["identifier"] == identifier)["trashed"] = True

    @staticmethod
    def public(issue: dict[str, Any]) -> dict[str, Any]:
        return {"id": issue["id"], "identifier": issue["identifier"], "url": issue["url"]}

    @staticmethod
    def not_found() -> tuple[int, Any]:
        return 200, {"data": None, "errors": [{"message": "Entity not found: Issue", "extensions": {
            "type": "invalid input", "code": "INPUT_ERROR", "userPresentableMessage": "Could not find referenced Issue."}}]}

    @staticmethod
    def invalid(message: str) -> dict[str, Any]:
        return {"data": None, "errors": [{"message": "Argument Validation Error", "extensions": {
            "type": "invalid input", "code": "INPUT_ERROR", "userPresentableMessage": message}}]}

    def issue_create(self, variables: dict[str, Any]) -> dict[str, Any]:
        data = variables.get("input") or {}
        if data.get("teamId") not in self.teams:
            return self.invalid("Team not found or not accessible.")
        if not data.get("title"):
            return self.invalid("title must not be empty")
        issue_id = data.get("id") or f"generated-{len(self.issues)}"
        if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", issue_id):
            return self.invalid("id must be a UUID v4")
        if issue_id in self.issues:
            return self.invalid("An issue with this id already exists.")
        identifier = f"{self.teams[data['teamId']]}-{len(self.issues) + 1}"
        self.issues[issue_id] = {"id": issue_id, "identifier": identifier, "title": data["title"],
                                 "description": data.get("description", ""),
                                 "url": f"https://linear.app/acme/issue/{identifier}"}
        return {"data": {"issueCreate": {"success": True, "issue": self.public(self.issues[issue_id])}}}

    def issue_update(self, variables: dict[str, Any]) -> dict[str, Any]:
        issue = self.lookup(variables.get("id", ""))  # mutations take the issue id
        if issue is None:
            return self.not_found()[1]
        issue.update({k: v for k, v in (variables.get("input") or {}).items() if k in ("title", "description")})
        return {"data": {"issueUpdate": {"success": True}}}

    def comment_create(self, variables: dict[str, Any]) -> dict[str, Any]:
        data = variables.get("input") or {}
        if data.get("issueId") not in self.issues:
            return self.not_found()[1]
        if not data.get("body"):
            return self.invalid("body must not be empty")
        self.comments.setdefault(data["issueId"], []).append(data["body"])
        return {"data": {"commentCreate": {"success": True, "comment": {"id": f"c{len(self.comments)}"}}}}


def tokens(text: str) -> int:
    """The fake's token count: a word is a token."""
    return len(text.split())


def _completion(model: str, messages: list[dict[str, Any]], content: str) -> dict[str, Any]:
    prompt = sum(tokens(m["content"]) for m in messages)
    return {"id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": tokens(content),
                      "total_tokens": prompt + tokens(content)}}


@dataclass
class FakeOpenAI(FakeServer):
    """Chat completions answered by `reply(messages)` (litellm's `openai/` models with `api_base`
    set to this server's `url` + "/v1")."""

    unauthorized: tuple[int, Any] = (401, {"error": {"message": "Incorrect API key provided.",
                                                     "type": "invalid_request_error", "code": "invalid_api_key"}})
    api_key: str = "sk-test"
    reply: Callable[[list[dict[str, Any]]], str] = lambda messages: "{}"

    def authorized(self, header: str | None) -> bool:
        return header == f"Bearer {self.api_key}"

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if (method, path.split("?", 1)[0]) != ("POST", "/v1/chat/completions"):
            return 404, {"error": {"message": f"Unknown request URL: {method} {path}",
                                   "type": "invalid_request_error", "code": "unknown_url"}}
        return 200, _completion(body["model"], body["messages"], self.reply(body["messages"]))


SERVER_ERROR = Planned(500, body={"error": {"message": "The server had an error while processing your request.",
                                            "type": "server_error", "code": None}})


def _handler(fake: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str, body: Any) -> tuple[int, dict[str, str], Any]:
            planned = fake.next_planned()
            if planned is not None:
                time.sleep(planned.delay)
                return planned.status, planned.headers, planned.body
            time.sleep(fake.latency)
            if not fake.authorized(self.headers.get("Authorization")):
                return *fake.unauthorized[:1], {}, fake.unauthorized[1]
            with fake.lock:
                status, payload = fake.handle(method, self.path, body)
            return status, {}, payload

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            with fake.lock:
                fake.requests.append({"method": method, "path": self.path, "headers": dict(self.headers), "body": body})
                fake.in_flight += 1
                fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
            try:
                status, headers, payload = self._answer(method, body)
            finally:
                with fake.lock:
                    fake.in_flight -= 1
            data = json.dumps(payload).encode() if payload is not None else b""
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and left (a hung server's planned answer)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded HTTP server on a free port of 127.0.0.1 for the duration of the block (its base URL);
    a request still hanging at the end does not hold it up."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads, server.block_on_close = True, False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def serve(fake: FakeServer) -> Iterator[FakeServer]:
    """Run `fake` on a free port of 127.0.0.1 for the duration of the block."""
    with http_server(_handler(fake)) as fake.url:
        yield fake
