"""What makes triage and the theme summaries cheap must not change what they say (issue 16).

The rules read folded text case-sensitively: they must match exactly what they matched with
`re.IGNORECASE`, on every code point. Triage calls VADER once when no word names a problem. The
summaries take each ticket's escalation signals from triage and run only those rules, and read
the text for meaning redaction stored; what they say must be what recomputing everything says.
"""

from __future__ import annotations

import re
import string
import sys
from datetime import date

import numpy as np
import pandas as pd
import pytest

from ticket_intel.core import taxonomy
from ticket_intel.core import triage as triage_mod
from ticket_intel.core import triage_rules as rules
from ticket_intel.core.meaning import meaning_text
from ticket_intel.core.summarize import ThemeDocs, escalates, extractive_summary, severity_of, theme_docs
from ticket_intel.core.taxonomy import Area
from ticket_intel.core.theme_triage import with_ticket_triage

EVERY_CHARACTER = "".join(map(chr, range(sys.maxunicode + 1)))
TEXTS = [
    "My App CRASHED again and I want a REFUND!!!",
    "İstanbul branch: my card DOESN'T WORK, ſtill waiting for 3 weeks",
    "The Kelvin sign K and dotless ı are letters too; I will SUE you",
    "Worst service ever, I'm cancelling my account and going to a competitor",
    "How do I change my PIN? Thanks 😡",
    "WHY HASN'T MY PACKAGE ARRIVED?? It's been TWO WEEKS",
    "Where is my refund from the merchant?",
    "ÉTÉ: le paiement a échoué, ERROR 500",
]


def test_folding_keeps_every_code_point_where_ignorecase_puts_it():
    folded = rules.fold(EVERY_CHARACTER)
    assert len(folded) == len(EVERY_CHARACTER)
    for letter in string.ascii_lowercase:
        insensitive = [m.start() for m in re.finditer(letter, EVERY_CHARACTER, re.IGNORECASE)]
        assert [m.start() for m in re.finditer(letter, folded)] == insensitive, letter
    for cls in (r"\w", r"\d", r"\s", r"\b", "[a-z]", "[^a-z]"):
        insensitive = [m.start() for m in re.finditer(cls, EVERY_CHARACTER, re.IGNORECASE)]
        assert [m.start() for m in re.finditer(cls, folded)] == insensitive, cls


def test_a_rule_with_a_capital_letter_is_refused():
    with pytest.raises(ValueError, match="lower case"):
        rules._rx(r"\b(Refund)\b")
    assert rules._rx(r"\b(refund)\W\S+").search(rules.fold("REFUND NOW"))  # escapes may be upper case


@pytest.mark.parametrize("text", TEXTS)
def test_every_rule_matches_as_it_did_case_insensitively(text):
    words = rules.clean(text)
    patterns = [*rules.RULE_FAMILIES.values(), *rules.ESCALATION_RULES.values()]
    for pattern in patterns:
        before = re.compile(pattern.pattern, re.IGNORECASE)
        assert [m.span() for m in pattern.finditer(rules.fold(words))] == [m.span() for m in before.finditer(words)]
    problem = re.compile(rules._PROBLEM_WORDS.pattern, re.IGNORECASE)
    assert rules.without_problem_words(words) == problem.sub(" ", words)  # case kept: VADER reads capitals


def test_vader_runs_once_when_no_word_names_a_problem(monkeypatch):
    calls = []
    monkeypatch.setattr(triage_mod, "sentiment", lambda text: calls.append(text) or -0.5)
    assert triage_mod._emotion("Thanks, you are great", 0.9) == 0.9 and calls == []
    assert triage_mod._emotion("The app CRASHED, thanks", 0.2) == -0.5 and calls == ["The app  , thanks"]


@pytest.mark.parametrize("text", TEXTS)
def test_escalation_from_triage_signals_is_escalation_from_the_rules(text):
    signals = rules.escalation_signals(rules.clean(text))
    for topic in ((), ("refund",), ("account", "wait"), ("sue",)):
        assert escalates(text, topic, signals) == escalates(text, topic)
    assert escalates(text, (), []) is False


def test_summaries_from_triage_and_stored_meaning_say_what_recomputing_says():
    texts = TEXTS * 3
    ids = [f"t{i}" for i in range(len(texts))]
    week = date(2026, 11, 16)
    window = pd.DataFrame({"ticket_id": ids, "ticket_week": week, "theme_id": "A", "text": texts})
    vectors = np.random.default_rng(0).normal(size=(len(texts), 8)).astype(np.float32)
    triage = triage_mod.triage(window[["ticket_id", "text"]], triage_mod.default_taxonomy(), _routing())
    judged = window.merge(triage, on="ticket_id").assign(meaning_text=[meaning_text(t) for t in texts])
    judged.loc[0, "meaning_text"] = None  # a row redacted before meaning_text was stored
    docs = with_ticket_triage(theme_docs(judged, week, vectors), judged)
    doc = docs["A"]
    assert doc.escalations == [list(s) for s in triage["escalation_signals"]]
    assert doc.meanings == [meaning_text(t) for t in texts] and doc.phrases is not None
    bare = ThemeDocs(doc.theme_id, week, ids, texts, doc.ticket_weeks, doc.vectors, doc.terms,
                     doc.signals, doc.severities)
    assert extractive_summary(doc) == extractive_summary(bare)
    assert severity_of(texts, ["refund"], doc.severities, None, doc.escalations) == severity_of(
        texts, ["refund"], doc.severities)


def _routing():
    from ticket_intel.core.triage_config import load_routing

    return load_routing()


@pytest.mark.parametrize("text", [*TEXTS, "my CARDHOLDER name", "my CARDS", "PINNED", "ping", "discard it",
                                  "C++ build fails", ""])
def test_an_area_matches_in_one_scan_what_each_keyword_matched(text):
    area = Area("Cards", "", ("card", "pin", "c++", "account"))
    alone = any(taxonomy.mentions((k,), text) for k in area.keywords)
    assert area.matches(text) == alone
    assert not Area("Nothing", "", ()).matches(text)
