"""`ticket-intel similar`, `draft` and `serve`: help with single tickets from the knowledge base."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from pathlib import Path
from typing import Any

import click

from ticket_intel import settings
from ticket_intel.assist import Assistant, AssistSettings, load_assistant, stored_ticket
from ticket_intel.core.drafts import Draft
from ticket_intel.core.meaning import meaning_text
from ticket_intel.core.normalize import printable
from ticket_intel.core.retrieve import NOTHING_TO_READ, Index, Match
from ticket_intel.warehouse import target


def _configured_warehouse() -> Path:
    """TICKET_INTEL_WAREHOUSE as every setting is read (the environment, then ticket_intel.yaml): a
    hard-coded default sent `export` to the demo warehouse when the setting named another."""
    return Path(settings.value("TICKET_INTEL_WAREHOUSE"))


def _named_warehouse(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    """The warehouse, if its setting names one (`target.parse`): an empty TICKET_INTEL_WAREHOUSE said
    "PosixPath('.') has an empty name"."""
    try:
        target.parse(str(value))
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from exc
    return value


# Every command's --warehouse (cli.py's too).
WAREHOUSE_OPTION = click.option("--warehouse", type=click.Path(path_type=Path), default=_configured_warehouse,
                                callback=_named_warehouse,
                                show_default="TICKET_INTEL_WAREHOUSE, by default data/warehouse.duckdb")


class OutputFormat(click.Choice):
    """`table` for people, `json` for scripts; an `alias` (a name an older version documented) reads
    as its format, with a warning."""

    def __init__(self, **aliases: str) -> None:
        super().__init__(["table", "json"])
        self.aliases = aliases

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value in self.aliases:
            click.echo(f"ticket-intel: warning: --format {value} is deprecated; it reads as --format "
                       f"{self.aliases[value]}", err=True)
        return super().convert(self.aliases.get(value, value), param, ctx)


def format_option(**aliases: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Every command's --format table|json (cli.py's too)."""
    return click.option("--format", "fmt", type=OutputFormat(**aliases), default="table", show_default=True)


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The command line's one-line errors (`cli.friendly`), looked up when the command runs: cli.py
    imports this module to register its commands, so this module cannot import cli.py first."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ticket_intel.cli import friendly as one_line_errors

        return one_line_errors(fn)(*args, **kwargs)

    return wrapper

QUERY_OPTIONS = (
    click.option("--text", default=None, help="A new ticket's text (redacted before use)."),
    click.option("--ticket", "ticket_id", default=None, help="A stored ticket's id, source:id (zendesk:48120, github:facebook_react#12)."),
    click.option("-k", type=click.IntRange(min=1), default=None, help="How many (default: TICKET_INTEL_SIMILAR_K)."),
)


def _with_query_options(fn):
    for option in reversed(QUERY_OPTIONS):
        fn = option(fn)
    return fn


def _ask(warehouse: Path, text: str | None, ticket_id: str | None, k: int | None, drafts: bool = False
         ) -> tuple[Assistant, str, list[Match]]:
    """The assistant, the query's redacted text and its K most similar resolved tickets."""
    if (text is None) == (ticket_id is None):
        raise click.UsageError("give exactly one of --text or --ticket")
    if text is not None and not text.strip():
        raise click.UsageError("--text is empty")
    s = AssistSettings.from_settings()
    if ticket_id is not None:  # its stored vector: nothing is embedded again
        stored, vector = stored_ticket(warehouse, ticket_id, s.key)
        assistant = load_assistant(warehouse, s, encoder=False, llm=drafts)
        return assistant, stored, assistant.similar(vector, k, exclude=ticket_id, text=stored)
    assistant = load_assistant(warehouse, s, llm=drafts)
    redacted = assistant.redact(text or "")
    return assistant, redacted, assistant.similar(assistant.embed(redacted), k, text=redacted)


def why_none(query: str, index: Index) -> str:
    """Why a query has no similar ticket: it says nothing, or the knowledge base is empty."""
    return f"{NOTHING_TO_READ if not meaning_text(query) else index.why_empty}; see docs/assist.md"


def format_matches(matches: list[Match], fmt: str, query: str, index: Index) -> str:
    """The matches as JSON or a table; none: why. The table marks a match no closer than the knowledge
    base's relatedness `floor`: as close as unrelated tickets often are, so drafts never cite it."""
    if fmt == "json":
        return json.dumps([m.as_dict(index.floor) for m in matches], indent=2, ensure_ascii=False)
    if not matches:
        return f"({why_none(query, index)})"
    from tabulate import tabulate

    floor, below = index.floor, [not m.related(index.floor) for m in matches]
    rows = [[printable(m.ticket_id), f"{m.similarity:.3f}{' *' if b else ''}", printable(m.text), printable(m.resolution)]
            for m, b in zip(matches, below, strict=True)]
    table = tabulate(rows, headers=["ticket_id", "similarity", "text", "resolution"], tablefmt="simple",
                     maxcolwidths=[None, None, 50, 60])
    return table + (f"\n* no closer than the relatedness floor ({floor:.3f}): as close as unrelated tickets often "
                    "are, no evidence of the same issue (drafts never cite it)" if any(below) else "")


@click.command()
@WAREHOUSE_OPTION
@_with_query_options
@format_option()
@friendly
def similar(warehouse: Path, text: str | None, ticket_id: str | None, k: int | None, fmt: str) -> None:
    """The K most similar past resolved tickets, with how they were solved."""
    assistant, query, matches = _ask(warehouse, text, ticket_id, k)
    click.echo(format_matches(matches, fmt, query, assistant.index))
    if fmt == "json" and not matches:  # the list stays the output; why it is empty goes beside it
        click.echo(why_none(query, assistant.index), err=True)


def format_draft(draft: Draft, matches: list[Match], fmt: str, floor: float) -> str:
    if fmt == "json":
        return json.dumps({**draft.as_dict(), "similar": [m.as_dict(floor) for m in matches]}, indent=2,
                          ensure_ascii=False)
    cited = ", ".join(draft.cited_ticket_ids) or "none"
    return printable(f"[{draft.method}] {draft.note}\ncites: {cited}\n\n{draft.text or '(no draft)'}")


@click.command()
@WAREHOUSE_OPTION
@_with_query_options
@format_option(text="table")  # `text`: draft's name for it, documented until its --format was every command's
@friendly
def draft(warehouse: Path, text: str | None, ticket_id: str | None, k: int | None, fmt: str) -> None:
    """A reply draft grounded in the most similar resolved tickets (LLM if configured, else a template)."""
    assistant, redacted, matches = _ask(warehouse, text, ticket_id, k, drafts=True)
    made = assistant.draft(redacted, matches)
    if not matches:  # as `similar` says: nothing to read, or no resolved ticket to search, not "none close enough"
        made = replace(made, note=why_none(redacted, assistant.index))
    click.echo(format_draft(made, matches, fmt, assistant.index.floor))


class PortTaken(OSError):
    """A server's address cannot be bound: nothing is started, nor announced."""


def check_port(host: str, port: int) -> None:
    """Bind `host:port` as the server will (SO_REUSEADDR, as uvicorn does), or raise PortTaken: `dev`
    announced its UI on a taken port and ran on without one."""
    family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise PortTaken(f"cannot serve on {host}:{port}: {exc.strerror} (choose another with --port)") from exc


@click.command()
@WAREHOUSE_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (keep it local).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@friendly
def serve(warehouse: Path, host: str, port: int) -> None:
    """Real-time triage and similar tickets over HTTP: POST /triage (see docs/assist.md)."""
    from ticket_intel.adapters import server

    check_port(host, port)
    server.run(warehouse, host, port, server.ServeSettings.from_settings(settings))
