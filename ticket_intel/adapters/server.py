"""`ticket-intel serve`: `POST /triage` over HTTP, on Starlette and uvicorn (one process, 127.0.0.1).

Everything slow is loaded once, before the first request: the knowledge base (from the
warehouse's published snapshot), the encoder, the redaction engines and the triage function.
Per request: size and signature are checked on the raw bytes, the payload is parsed
(core/webhooks.py; another helpdesk's through its column mapping, loaded at start), the message is cleaned and redacted, embedded once, triaged, and its similar
resolved tickets found; texts in flight share forward passes (microbatch.py). Nothing but the
redacted text is handed on, and logs name the request, never its text. Every refusal is a 4xx
with a message saying what to fix.

The triage comes from `create_app(triage=...)`: a function of the redacted text and its vector
returning the issue-14 triage fields. By default it is the ticket_triage asset's own
(live_triage.py: core/triage.py with triage.yaml and routing.yaml, and the LLM when configured).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ticket_intel.adapters.microbatch import MicroBatcher
from ticket_intel.assist import Assistant, AssistSettings, load_assistant
from ticket_intel.core.redact import WARM_UP
from ticket_intel.core.sources import load_mappings
from ticket_intel.core.webhooks import Ignored, Incoming, RequestError, parse_request, verify
from ticket_intel.live_triage import Triage, TriageFiles, TriageRequest, live_triage

log = logging.getLogger("ticket_intel.serve")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_TICKET_ID = re.compile(r"[a-z_]{1,20}:[\w#./-]{1,80}")  # as `webhooks` names them: source, then the helpdesk's id
# Requests in flight share forward passes (microbatch.py), one thread a pass and one pass a core
# at a time: splitting a short text's pass over two threads costs ~15 % more CPU in hand-offs (9.3
# instead of 8.1 ms a banking77 question) and waits for a busy core. Two texts a pass: a pass pads
# every text to its longest and the rest wait for it; with bench.serve's 8 in flight (3 to 6
# alternating runs of 600 requests) passes of 2 took the least server CPU a request (14.0 ms; 1
# text 15.0, 4 texts 14.9) and p95 matched passes of 1 (~150 ms); 4 texts a pass had the worst p95.
PASS_TEXTS = 2
PASS_THREADS = 1
# The output contract of issue 14: every response carries these keys.
TRIAGE_FIELDS = ("category", "subcategory", "urgency", "sentiment", "frustration", "escalation",
                 "escalation_signals", "churn_risk", "language", "assigned_team", "sla_hours", "confidence",
                 "needs_review")


@dataclass(frozen=True)
class ServeSettings:
    secret: str = ""
    max_bytes: int = 262_144
    llm_max_cost_usd_per_day: float = 0.0
    mappings_dir: str = ""  # a team's column mappings, beside the shipped ones (as ingest reads them)

    @classmethod
    def from_settings(cls, settings: Any) -> ServeSettings:
        per_day = settings.value("TICKET_INTEL_SERVE_LLM_MAX_COST_USD_PER_DAY")
        try:
            limit = float(per_day)
        except ValueError:
            limit = float("nan")
        if not limit >= 0:  # NaN: not a number
            raise ValueError("TICKET_INTEL_SERVE_LLM_MAX_COST_USD_PER_DAY must be 0 (no limit) or a number of US "
                             f"dollars, not {per_day!r}")
        return cls(settings.value("TICKET_INTEL_SERVE_SECRET"), settings.number("TICKET_INTEL_SERVE_MAX_BYTES"),
                   limit, settings.value("TICKET_INTEL_MAPPINGS_DIR"))


async def _body(request: Request, max_bytes: int) -> bytes:
    """The raw body, refused (413) as soon as it is known to be too large."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
        raise RequestError(413, f"the body is larger than {max_bytes} bytes (TICKET_INTEL_SERVE_MAX_BYTES)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise RequestError(413, f"the body is larger than {max_bytes} bytes (TICKET_INTEL_SERVE_MAX_BYTES)")
        chunks.append(chunk)
    return b"".join(chunks)


def _json(body: bytes) -> Any:
    if not body.strip():
        raise RequestError(400, "the body is empty; send a JSON object")
    try:
        return json.loads(body)
    except ValueError as exc:  # not UTF-8, not JSON, or a number past Python's 4,300 digits
        raise RequestError(400, f"the body is not valid JSON ({exc})") from None
    except RecursionError:
        raise RequestError(400, "the body's JSON is nested too deeply") from None


def jsonable(value: Any) -> Any:
    """Plain JSON values from what a triage function may return (numpy scalars and arrays, NaN)."""
    if isinstance(value, np.ndarray | list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    return None if isinstance(value, float) and value != value else value


def answer(assistant: Assistant, triage: Triage, incoming: Incoming) -> dict[str, Any]:
    """The response to one message: triage fields, route and similar resolved tickets."""
    text = assistant.redact(incoming.text)
    return respond(assistant, triage, incoming, text, assistant.embed(text))


def respond(assistant: Assistant, triage: Triage, incoming: Incoming, text: str, vector: np.ndarray) -> dict[str, Any]:
    """`answer` once the message is redacted (`text`) and embedded (`vector`)."""
    asked = TriageRequest(text, vector, incoming.customer_id, incoming.source, product=incoming.product,
                          tags=incoming.tags)
    fields = {k: jsonable(v) for k, v in triage(asked).items()}
    similar = assistant.similar(vector, exclude=incoming.ticket_id, text=text)
    return {"ticket_id": incoming.ticket_id, "source": incoming.source, "customer_id": incoming.customer_id,
            **{f: None for f in TRIAGE_FIELDS}, **fields, "similar": [m.as_dict(assistant.index.floor) for m in similar]}


def _refusal(exc: RequestError, started: float) -> JSONResponse:
    log.info("refused %d: %s (%.0f ms)", exc.status, exc, 1000 * (time.perf_counter() - started))
    return JSONResponse({"error": str(exc)}, status_code=exc.status)


def create_app(warehouse: str | Path, triage: Triage | None = None, settings: ServeSettings | None = None,
               assistant: Assistant | None = None, hosts: Sequence[str] = ("*",)) -> Starlette:
    """The ASGI app; the knowledge base and models are loaded here, once, not per request. Without
    `triage`, the ticket_triage asset's own (with the configured LLM, if any). `hosts`: the Host
    headers it answers (`allowed_hosts`)."""
    settings = settings or ServeSettings()
    mappings = load_mappings(settings.mappings_dir)
    assistant = assistant or load_assistant(warehouse, AssistSettings.from_settings(), llm=triage is None,
                                            threads=PASS_THREADS,
                                            llm_max_cost_usd_per_day=settings.llm_max_cost_usd_per_day)
    if triage is None:
        triage = live_triage(TriageFiles.from_settings(), assistant.encode, assistant.llm)
    if assistant.llm is not None:
        limit = settings.llm_max_cost_usd_per_day
        log.info("LLM: %s, %s", assistant.llm.model, (f"at most ${format(limit, 'f').rstrip('0').rstrip('.')} of LLM "
                 "answers a day" if limit else "no limit") + " (TICKET_INTEL_SERVE_LLM_MAX_COST_USD_PER_DAY)")
    text = assistant.redact(WARM_UP)  # every detector's first-call cost is paid before serving
    vector = assistant.embed(text)
    assistant.similar(vector)
    triage(TriageRequest(text, vector, None, "text", warm_up=True))
    embed = MicroBatcher(assistant.embed_many, max_batch=PASS_TEXTS, workers=os.cpu_count() or 1)

    async def triage_endpoint(request: Request) -> JSONResponse:
        started = time.perf_counter()
        try:
            if "origin" in request.headers:  # a web page's request: helpdesks and programs send none
                raise RequestError(403, "requests from web pages are refused: /triage takes helpdesk webhooks "
                                        "and programs")
            body = await _body(request, settings.max_bytes)
            verify(settings.secret, body, request.headers)
            params = request.query_params  # a mapped body is read in ~1 ms (pandas), a built-in one in µs
            incoming = parse_request(_json(body), body, params.get("source"), params.get("mapping"), mappings)
        except RequestError as exc:
            return _refusal(exc, started)
        if isinstance(incoming, Ignored):
            return JSONResponse({"status": incoming.status, "reason": incoming.reason})
        try:
            text = await run_in_threadpool(assistant.redact, incoming.text)
            result = await run_in_threadpool(respond, assistant, triage, incoming, text, await embed(text))
        except Exception as exc:  # never let one request take the server down, never log its text
            log.error("triage of %s failed: %s", _named(incoming), type(exc).__name__)
            return JSONResponse({"error": "internal error while triaging; see the server log"}, status_code=500)
        log.info("triaged %s (%.0f ms)", _named(incoming), 1000 * (time.perf_counter() - started))
        return JSONResponse(result)

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "knowledge_base": len(assistant.index)})

    return Starlette(routes=[Route("/triage", triage_endpoint, methods=["POST"]),
                             Route("/health", health, methods=["GET"])],
                     middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts))])


def allowed_hosts(host: str) -> list[str]:
    """The Host headers a server bound to `host` answers: on a loopback address only its names, so a
    web page whose domain is made to resolve to 127.0.0.1 (DNS rebinding) cannot read the knowledge
    base; elsewhere any (a proxy or a cluster's service name in front)."""
    return [*LOOPBACK, "[::1]"] if host in LOOPBACK else ["*"]


def _named(incoming: Incoming) -> str:
    """A request's ticket as the log names it: its id when it is one (`zendesk:48120`), else its
    source: an id is the sender's text, and a newline in it forged a log line."""
    ticket = incoming.ticket_id or ""
    return ticket if _TICKET_ID.fullmatch(ticket) else f"a {incoming.source} ticket"


def run(warehouse: str | Path, host: str, port: int, settings: ServeSettings, triage: Triage | None = None) -> None:
    """Serve until interrupted (uvicorn: one process, so the models are in memory once)."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if host not in LOOPBACK and not settings.secret:
        log.warning("serving on %s without TICKET_INTEL_SERVE_SECRET: anyone who can reach it may post", host)
    app = create_app(warehouse, triage, settings, hosts=allowed_hosts(host))
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
