"""`triage.yaml` (what a ticket is about) and `routing.yaml` (who handles it, by when), validated.

Both files are checked by pydantic when loaded; a mistake names the file, the entry and what is
allowed, and nothing runs on a half-valid file. Relative paths resolve like `taxonomy.yaml`'s
(working directory, then the project root), and `taxonomy.content_hash` versions both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import BaseModel, Field, PositiveFloat, model_validator

from ticket_intel.core.taxonomy import locate
from ticket_intel.core.triage_rules import RULE_FAMILIES
from ticket_intel.core.vocabulary import FRUSTRATION_LEVELS, SIGNAL_TYPES, URGENCIES
from ticket_intel.core.yaml_text import STRICT, load_model

TRIAGE_FILE = "triage.yaml"
ROUTING_FILE = "routing.yaml"


class _Strict(BaseModel):
    model_config = STRICT


def _check_rules(rules: list[str]) -> None:
    unknown = sorted(set(rules) - set(RULE_FAMILIES))
    if unknown:
        raise ValueError(f"unknown rule families {unknown}; known: {', '.join(RULE_FAMILIES)}")


def _check_signal(signal: str | None) -> None:
    if signal is not None and signal not in SIGNAL_TYPES:
        raise ValueError(f"signal_type {signal!r} is not one of {', '.join(SIGNAL_TYPES)}")


class Subcategory(_Strict):
    name: str = Field(min_length=1)
    description: list[str] = Field(min_length=1)
    rules: list[str] = []
    signal_type: str | None = None

    @model_validator(mode="after")
    def _known(self) -> Self:
        _check_rules(self.rules)
        _check_signal(self.signal_type)
        return self


class Category(_Strict):
    name: str = Field(min_length=1)
    signal_type: str
    description: list[str] = Field(min_length=1)
    rules: list[str] = []
    subcategories: list[Subcategory] = Field(min_length=1)
    # False: only a rule match assigns this category, never embedding similarity alone (for
    # categories defined by what the ticket explicitly says, such as "please add").
    zero_shot: bool = True

    @model_validator(mode="after")
    def _known(self) -> Self:
        _check_rules(self.rules)
        _check_signal(self.signal_type)
        names = [s.name for s in self.subcategories]
        if len(set(names)) < len(names):
            raise ValueError(f"category {self.name!r} lists a subcategory twice: {names}")
        return self


class TriageTaxonomy(_Strict):
    """Categories in precedence order, each with subcategories; `fallback` takes the unmatched."""

    fallback: str
    categories: list[Category] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = [c.name for c in self.categories]
        if len(set(names)) < len(names):
            raise ValueError(f"a category is listed twice: {names}")
        if self.fallback not in names:
            raise ValueError(f"fallback {self.fallback!r} is not one of the categories {names}")
        if not self.category(self.fallback).zero_shot:
            raise ValueError(f"the fallback category {self.fallback!r} must allow zero_shot")
        return self

    def category(self, name: str) -> Category:
        return next(c for c in self.categories if c.name == name)

    def signal_type(self, category: str, subcategory: str) -> str:
        """The signal type a (category, subcategory) pair stands for; `other` for unknown pairs."""
        cat = next((c for c in self.categories if c.name == category), None)
        if cat is None:
            return "other"
        sub = next((s for s in cat.subcategories if s.name == subcategory), None)
        return sub.signal_type if sub is not None and sub.signal_type else cat.signal_type


class Route(_Strict):
    team: str = Field(min_length=1)
    escalation_team: str = Field(min_length=1)
    sla_hours: dict[str, PositiveFloat]

    @model_validator(mode="after")
    def _all_urgencies(self) -> Self:
        if set(self.sla_hours) != set(URGENCIES):
            raise ValueError(f"sla_hours needs exactly {', '.join(URGENCIES)}, got {sorted(self.sla_hours)}")
        hours = [self.sla_hours[u] for u in URGENCIES]
        if hours != sorted(hours):
            raise ValueError(f"sla_hours must not shrink from P1 to P4, got {hours}")
        return self


class Routing(_Strict):
    """Per category a team, an escalation team and SLA hours per urgency; `default` for the rest."""

    default: Route
    categories: dict[str, Route] = {}
    escalate_at_frustration: str = "high"

    @model_validator(mode="after")
    def _level(self) -> Self:
        if self.escalate_at_frustration not in FRUSTRATION_LEVELS:
            raise ValueError(f"escalate_at_frustration must be one of {', '.join(FRUSTRATION_LEVELS)}")
        return self

    def route(self, category: str) -> Route:
        return self.categories.get(category, self.default)

    def check_categories(self, taxonomy: TriageTaxonomy) -> None:
        """Routes for categories the taxonomy does not have are typos, not configuration."""
        unknown = sorted(set(self.categories) - {c.name for c in taxonomy.categories})
        if unknown:
            raise ValueError(f"routing.yaml routes unknown categories {unknown}; "
                             f"triage categories are {[c.name for c in taxonomy.categories]}")


def parse_taxonomy(text: str, source: str = TRIAGE_FILE) -> TriageTaxonomy:
    return load_model(TriageTaxonomy, text, source)


def parse_routing(text: str, source: str = ROUTING_FILE) -> Routing:
    return load_model(Routing, text, source)


def load_taxonomy(path: str | Path = TRIAGE_FILE) -> TriageTaxonomy:
    found = locate(path)
    if not found.exists():
        raise ValueError(f"triage taxonomy {found} not found (the project ships {TRIAGE_FILE})")
    return parse_taxonomy(found.read_text(encoding="utf-8"), str(found))


def load_routing(path: str | Path = ROUTING_FILE) -> Routing:
    found = locate(path)
    if not found.exists():
        raise ValueError(f"routing file {found} not found (the project ships {ROUTING_FILE})")
    return parse_routing(found.read_text(encoding="utf-8"), str(found))


def load_triage(triage: str | Path = TRIAGE_FILE, routing: str | Path = ROUTING_FILE) -> tuple[TriageTaxonomy, Routing]:
    """The triage taxonomy and its routing, checked against each other (what every triage reads)."""
    taxonomy, routes = load_taxonomy(triage), load_routing(routing)
    routes.check_categories(taxonomy)
    return taxonomy, routes
