"""The build: plan the world, render every file, write the truth, verify the lot."""

from pathlib import Path

from .common import JSONDict, dump_json, stream
from .constants import FILES, SOURCES
from .freshdesk import render_freshdesk
from .intercom import render_intercom
from .messages import compose_messages
from .model import Export, World
from .plan import plan_malformed, plan_tickets
from .population import build_accounts, build_agents, build_customers
from .side_files import SIDE_FILES
from .texts import TextPool, read_banking77
from .truth import planted_truth
from .verify import verify
from .zendesk import render_zendesk


def plan_world(banking77: Path) -> World:
    """Accounts, customers, agents and every ticket with its message; each stage draws from its own stream."""
    pool = TextPool(read_banking77(banking77), stream("texts"))
    accounts = build_accounts(stream("accounts"))
    customers = build_customers(stream("customers"), accounts)
    agents = build_agents(stream("agents"))
    tickets = plan_tickets(stream("tickets"), pool, customers)
    tickets += plan_malformed(stream("malformed"), pool, customers)
    compose_messages(stream("messages"), tickets)
    return World(accounts, agents, tickets)


def render_exports(world: World) -> tuple[list[Export], list[JSONDict]]:
    """The three helpdesk exports, in ``SOURCES`` order, and the e-mail tails planted in Freshdesk's."""
    by_source = {source: [t for t in world.tickets if t.source == source] for source in SOURCES}
    zendesk = render_zendesk(stream("zendesk"), by_source["zendesk"], world.agents)
    intercom = render_intercom(stream("intercom"), by_source["intercom"], world.agents)
    freshdesk, tails = render_freshdesk(stream("freshdesk"), by_source["freshdesk"], world.agents)
    return [zendesk, intercom, freshdesk], tails


def write(path: Path, text: str) -> None:
    """Write UTF-8 exactly as given: no newline translation on any platform."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def build_sample(banking77: Path, out: Path, truth_path: Path) -> tuple[JSONDict, list[str]]:
    """Build, write and verify the sample; returns planted.json's content and the names of the files in ``out``."""
    world = plan_world(banking77)
    exports, tails = render_exports(world)
    files = {FILES[export.source]: export.text for export in exports}
    files |= {side_file.name: side_file.render(world) for side_file in SIDE_FILES}
    truth = planted_truth(exports, tails)
    for side_file in SIDE_FILES:
        truth |= side_file.truth(world)
    for name, text in files.items():
        write(out / name, text)
    write(truth_path, dump_json(truth))
    verify(out, truth, [t.text.casefold() for t in world.tickets if t.text])
    return truth, sorted(files)
