"""Escalation phrases are data (ticket_intel/escalation.yaml) a team extends or replaces with its own
file (TICKET_INTEL_ESCALATION), checked before a run starts."""

from __future__ import annotations

import pandas as pd
import pytest

from ticket_intel import runner
from ticket_intel.core import triage_rules as rules
from ticket_intel.core.summarize import severity_of
from ticket_intel.core.theme_triage import theme_triage
from ticket_intel.core.triage import triage_one
from ticket_intel.core.triage_config import load_triage

POLISH = "Chcę zamknąć konto, rezygnuję z usług."
MINE = "mode: extend\nsignals:\n  churn:\n    pl: ['rezygnuję z usług']\n"


def test_a_team_s_file_adds_its_own_words_in_another_language(tmp_path):
    """A Polish queue's "rezygnuję z usług" (I quit your services) was no churn, and only an edit of
    triage_rules.py could make it one."""
    mine = tmp_path / "mine.yaml"
    mine.write_text(MINE, encoding="utf-8")
    extended = rules.load_escalation(mine)
    assert rules.escalation_signals(POLISH) == []
    assert rules.escalation_signals(POLISH, signals=extended) == ["churn"]
    assert rules.escalation_signals("I will cancel my account", signals=extended) == ["churn"]  # shipped kept
    assert rules.escalation_signals("REZYGNUJĘ Z USŁUG", signals=extended) == ["churn"]
    taxonomy, routing = load_triage()
    row = triage_one(POLISH, taxonomy, routing, language="pl", escalation=extended)
    assert row["escalation_signals"] == ["churn"] and row["churn_risk"] == "high" and row["escalated"]


def test_replace_mode_replaces_only_the_signals_the_file_names(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("mode: replace\nsignals:\n  churn:\n    en: ['moving my business elsewhere']\n", encoding="utf-8")
    replaced = rules.load_escalation(mine)
    assert rules.escalation_signals("please cancel my account", signals=replaced) == []
    assert rules.escalation_signals("I am moving my business elsewhere", signals=replaced) == ["churn"]
    assert rules.escalation_signals("my lawyer will call you", signals=replaced) == ["legal_threat"]


def test_the_shipped_file_is_the_rules_and_every_signal_is_read():
    assert list(rules.ESCALATION_RULES) == list(rules.SIGNALS)
    assert rules.load_escalation("").keys() == rules.ESCALATION_RULES.keys()
    for text, signal in [("Mein Anwalt wird sich melden", "legal_threat"), ("Veuillez résilier mon compte", "churn"),
                         ("¿Dónde está mi reembolso?", "refund_chargeback"), ("waiting for 3 days now", "long_wait")]:
        assert signal in rules.escalation_signals(text), text


@pytest.mark.parametrize(("text", "says"), [
    ("signals:\n  chrun:\n    en: ['x']\n", "signals.chrun"),
    ("signals:\n  churn:\n    de: ['k(ündig']\n", "signals.churn.de: 'k(ündig': missing ), unterminated subpattern"),
    ("signals:\n  churn:\n    de: ['Kündigung']\n", "signals.churn.de: 'Kündigung': write phrases in lower case"),
    ("mode: merge\nsignals: {}\n", "mode: Input should be 'extend' or 'replace'"),
    ("signals:\n  churn: [x\n", "not valid YAML"),
])
def test_a_mistake_in_a_team_s_file_is_named_in_one_line(tmp_path, text, says):
    mine = tmp_path / "mine.yaml"
    mine.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as err:
        rules.load_escalation(mine)
    assert str(err.value).startswith(str(mine)) and says in str(err.value) and "\n" not in str(err.value)


def test_a_run_stops_before_it_starts_on_a_missing_or_broken_file(tmp_path):
    with pytest.raises(ValueError, match=r"escalation file .*nope\.yaml not found"):
        runner.check_config("taxonomy.yaml", "triage.yaml", "routing.yaml", str(tmp_path / "nope.yaml"))
    broken = tmp_path / "broken.yaml"
    broken.write_text("signals:\n  chrun: {}\n", encoding="utf-8")
    held = runner.held_for_config("taxonomy.yaml", "triage.yaml", "routing.yaml", str(broken))
    assert held.startswith("waiting for the configuration to be fixed:") and "chrun" in held


REFUNDS = "mode: extend\nsignals:\n  refund_chargeback:\n    pl: ['zwrot\\w*']\n"


def test_theme_severity_and_escalation_share_read_the_team_s_phrases(tmp_path):
    """Summaries and ranking read the shipped phrases only: a Polish refund theme ("zwrot", which the
    team's file makes a refund signal) was raised a level and 100% escalating for its own topic, and
    a theme of "rezygnuję z usług" tickets without triage rows was never raised."""
    mine = tmp_path / "mine.yaml"
    mine.write_text(REFUNDS, encoding="utf-8")
    refunds = rules.load_escalation(mine)
    (tmp_path / "leaving.yaml").write_text(MINE, encoding="utf-8")
    leaving = rules.load_escalation(tmp_path / "leaving.yaml")
    asked = ["Kiedy dostanę zwrot pieniędzy?"] * 4
    signalled = [["refund_chargeback"]] * 4
    assert severity_of(asked, ["zwrot"], escalations=signalled)[0] == "P2"  # the shipped words find none: counted
    assert severity_of(asked, ["zwrot"], escalations=signalled, escalation=refunds)[0] == "P3"  # its topic
    group = pd.DataFrame({"ticket_id": list("abcd"), "customer": list("abcd"), "category": ["account & billing"] * 4,
                          "text": asked, "escalation_signals": signalled, "sentiment": [0.0] * 4,
                          "frustration": ["low"] * 4, "churn_risk": ["low"] * 4})
    assert theme_triage(group, ["zwrot"])["escalation_share"] == 1.0
    assert theme_triage(group, ["zwrot"], refunds)["escalation_share"] == 0.0
    quitting = ["Jak zmienić PIN? Rezygnuję z usług."] * 4  # no triage rows: the rules run
    assert severity_of(quitting)[0] == "P3"
    level, why = severity_of(quitting, escalation=leaving)
    assert level == "P2" and "raised one level" in why


def test_every_stage_that_reads_escalation_phrases_takes_the_configured_ones():
    """Triage read TICKET_INTEL_ESCALATION; the theme summaries and the ranking did not take it."""
    from ticket_intel.defs.ranking import ranked_themes
    from ticket_intel.defs.summaries import cluster_summaries
    from ticket_intel.defs.triage import ticket_triage

    for asset in (ticket_triage, cluster_summaries, ranked_themes):
        assert "triage_config" in asset.required_resource_keys, asset.key
