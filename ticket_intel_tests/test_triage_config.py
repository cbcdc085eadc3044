"""triage.yaml and routing.yaml: the shipped files load and agree; mistakes get clear errors."""

from __future__ import annotations

import re

import pytest

from ticket_intel.core.triage_config import (
    load_routing,
    load_taxonomy,
    parse_routing,
    parse_taxonomy,
)
from ticket_intel.core.vocabulary import SIGNAL_TYPES, URGENCIES

TAXONOMY = """
fallback: other
categories:
  - name: bug report
    signal_type: bug
    rules: [failure]
    description: [It is broken.]
    subcategories:
      - {name: functional, description: [It fails.]}
      - {name: UI, signal_type: ux_friction, rules: [ui], description: [The button is hidden.]}
  - name: other
    signal_type: other
    description: [Thanks.]
    subcategories:
      - {name: general, description: [Hello.]}
"""
ROUTE = "{team: T, escalation_team: E, sla_hours: {P1: 1, P2: 2, P3: 3, P4: 4}}"


def test_shipped_files_load_and_agree():
    taxonomy, routing = load_taxonomy(), load_routing()
    names = [c.name for c in taxonomy.categories]
    assert names[:5] == ["account & billing", "expectation gap", "bug report", "feature request", "how-to"]
    assert taxonomy.fallback in names
    routing.check_categories(taxonomy)
    for cat in taxonomy.categories:
        assert all(taxonomy.signal_type(cat.name, s.name) in SIGNAL_TYPES for s in cat.subcategories)
        assert list(routing.route(cat.name).sla_hours) == list(URGENCIES)


def test_signal_type_comes_from_the_subcategory_else_the_category():
    taxonomy = parse_taxonomy(TAXONOMY)
    assert taxonomy.signal_type("bug report", "functional") == "bug"
    assert taxonomy.signal_type("bug report", "UI") == "ux_friction"
    assert taxonomy.signal_type("nonsense", "x") == "other"


@pytest.mark.parametrize(("edit", "message"), [
    (("rules: [failure]", "rules: [failures]"), "unknown rule families ['failures']"),
    (("signal_type: bug\n", "signal_type: bugs\n"), "signal_type 'bugs' is not one of"),
    (("fallback: other", "fallback: misc"), "fallback 'misc' is not one of the categories"),
    (("{name: UI,", "{name: functional,"), "lists a subcategory twice"),
    (("description: [It fails.]", "description: []"), "categories.0.subcategories.0.description"),
    (("    signal_type: other\n", "    signal_type: other\n    colour: red\n"), "colour: Extra inputs"),
    (("    signal_type: other\n", "    signal_type: other\n    zero_shot: false\n"), "must allow zero_shot"),
])
def test_taxonomy_mistakes_are_named(edit, message):
    with pytest.raises(ValueError, match=r"triage\.yaml") as err:
        parse_taxonomy(TAXONOMY.replace(*edit))
    assert message in str(err.value)


@pytest.mark.parametrize(("text", "message"), [
    ("default: [unclosed", "not valid YAML"),
    ("- a list", "expected a mapping"),
    ("categories: {}", "default: Field required"),
    ("default: {team: T, escalation_team: E, sla_hours: {P1: 1, P2: 2, P3: 3}}", "needs exactly P1, P2, P3, P4"),
    ("default: {team: T, escalation_team: E, sla_hours: {P1: 8, P2: 2, P3: 3, P4: 4}}", "must not shrink"),
    ("default: {team: T, escalation_team: E, sla_hours: {P1: 0, P2: 2, P3: 3, P4: 4}}", "greater than 0"),
    (f"default: {ROUTE}\nescalate_at_frustration: furious", "escalate_at_frustration must be one of"),
])
def test_routing_mistakes_are_named(text, message):
    with pytest.raises(ValueError, match=r"routing\.yaml") as err:
        parse_routing(text)
    assert message in str(err.value)


def test_routes_for_unknown_categories_are_rejected():
    routing = parse_routing(f"default: {ROUTE}\ncategories:\n  bugs: {ROUTE}")
    assert routing.route("bugs").team == "T" and routing.route("anything").team == "T"
    with pytest.raises(ValueError, match=r"unknown categories \['bugs'\]"):
        routing.check_categories(parse_taxonomy(TAXONOMY))


def test_missing_files_say_which(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_taxonomy(tmp_path / "triage.yaml")
    with pytest.raises(ValueError, match="not found"):
        load_routing(tmp_path / "routing.yaml")


def test_the_docs_list_every_rule_family():
    """A new user writing triage.yaml found the family names only in triage_rules.py."""
    from ticket_intel import PROJECT_ROOT
    from ticket_intel.core.triage_rules import RULE_FAMILIES

    docs = (PROJECT_ROOT / "docs" / "triage.md").read_text(encoding="utf-8")
    listed = re.findall(r"^  - `(\w+)`: ", docs, re.M)
    assert listed == list(RULE_FAMILIES)
