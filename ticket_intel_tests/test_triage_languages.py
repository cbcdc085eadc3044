"""Triage reads German, French and Spanish tickets as it reads English ones: the rule families and the
P1/P2 severity rules in those languages (ticket_intel/families.yaml), read in the tickets detected in
each; an English ticket is read by the English rules alone, as before."""

from __future__ import annotations

import pytest

from ticket_intel.core import triage_rules as rules
from ticket_intel.core.triage import triage_one
from ticket_intel.core.triage_config import load_triage

TAXONOMY, ROUTING = load_triage()


def read(text: str, language: str) -> tuple[str, str, str]:
    row = triage_one(text, TAXONOMY, ROUTING, language=language)
    return row["category"], row["subcategory"], row["urgency"]


@pytest.mark.parametrize(("texts", "reading"), [
    ({"en": "My card was declined at the supermarket, what is going on?",
      "de": "Meine Karte wurde im Supermarkt abgelehnt, was ist los?",
      "fr": "Ma carte a été refusée au supermarché, que se passe-t-il ?",
      "es": "Mi tarjeta fue rechazada en el supermercado, ¿qué pasa?"}, ("bug report", "functional", "P2")),
    ({"en": "I forgot my password and cannot log in",
      "de": "Ich habe mein Passwort vergessen und kann mich nicht anmelden",
      "fr": "J'ai oublié mon mot de passe et je ne peux pas me connecter",
      "es": "Olvidé mi contraseña y no puedo iniciar sesión"}, ("account & billing", "account management", "P2")),
    ({"en": "There is a fee on my statement I don't understand.",
      "fr": "Il y a des frais sur mon relevé que je ne comprends pas.",
      "es": "Hay una comisión en mi extracto que no entiendo."}, ("account & billing", "technical billing", "P3")),
])
def test_the_same_request_in_german_french_and_spanish_is_triaged_as_in_english(texts, reading):
    """A reviewer's de/fr/es queue: 'Meine Karte wurde … abgelehnt' was how-to at P4, 'mot de passe'
    and 'contraseña' bug reports at P3, while the English ticket read bug report P2 and account P2."""
    assert {language: read(text, language) for language, text in texts.items()} == dict.fromkeys(texts, reading)


def test_a_language_s_words_are_read_only_in_its_tickets():
    german = "Ich habe mein Passwort vergessen und kann mich nicht anmelden"
    assert read(german, "en")[0] == "other" and read(german, "de")[0] == "account & billing"
    assert rules.families("the problem is a pin", "en") == rules.families("the problem is a pin")


def test_someone_else_s_payment_and_a_long_wait_are_read_in_german():
    assert read("Jemand hat meine Karte benutzt.", "de") == ("account & billing", "account management", "P1")
    assert "long_wait" in rules.escalation_signals("Ich warte immer noch auf meine Karte, seit zwei Wochen.")
    assert "long_wait" in rules.escalation_signals("J'attends toujours ma carte, ça fait deux semaines.")


def test_the_shipped_words_name_known_families_and_levels():
    assert set(rules.FAMILY_WORDS) == {"de", "fr", "es"}
    assert all(set(found) <= set(rules.RULE_FAMILIES) for found in rules.FAMILY_WORDS.values())
    assert rules.severity("Meine Karte wurde abgelehnt", language="de") == ("P1", "customers are blocked from a core task")
    assert rules.severity("Die Überweisung ist noch ausstehend", language="de")[0] == "P2"
