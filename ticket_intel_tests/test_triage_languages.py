"""Triage reads German, French, Spanish, Italian, Portuguese and Dutch tickets as it reads English ones:
the rule families and the P1/P2 severity rules in those languages (ticket_intel/families.yaml), read in the tickets detected in
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
      "es": "Mi tarjeta fue rechazada en el supermercado, ¿qué pasa?",
      "it": "La mia carta è stata rifiutata al supermercato, cosa succede?",
      "pt": "O meu cartão foi recusado no supermercado, o que se passa?",
      "nl": "Mijn kaart werd geweigerd in de supermarkt, wat is er aan de hand?"}, ("bug report", "functional", "P2")),
    ({"en": "I forgot my password and cannot log in",
      "de": "Ich habe mein Passwort vergessen und kann mich nicht anmelden",
      "fr": "J'ai oublié mon mot de passe et je ne peux pas me connecter",
      "es": "Olvidé mi contraseña y no puedo iniciar sesión",
      "it": "Ho dimenticato la password e non riesco ad accedere",
      "pt": "Esqueci-me da senha e não consigo entrar na minha conta",
      "nl": "Ik ben mijn wachtwoord vergeten en kan niet inloggen"}, ("account & billing", "account management", "P2")),
    ({"en": "There is a fee on my statement I don't understand.",
      "fr": "Il y a des frais sur mon relevé que je ne comprends pas.",
      "es": "Hay una comisión en mi extracto que no entiendo.",
      "it": "C'è una commissione nel mio estratto conto che non capisco.",
      "pt": "Há uma taxa no meu extrato que não percebo.",
      "nl": "Er staan kosten op mijn afschrift die ik niet begrijp."}, ("account & billing", "technical billing", "P3")),
])
def test_the_same_request_in_six_languages_is_triaged_as_in_english(texts, reading):
    """A reviewer's de/fr/es queue: 'Meine Karte wurde … abgelehnt' was how-to at P4, 'mot de passe'
    and 'contraseña' bug reports at P3, while the English ticket read bug report P2 and account P2.
    Italian, Portuguese and Dutch had no words: the declined card was how-to at P4 in all three, the
    password 'other' P4 in Portuguese and Dutch, the fee 'other' P4."""
    assert {language: read(text, language) for language, text in texts.items()} == dict.fromkeys(texts, reading)


@pytest.mark.parametrize(("text", "signals"), [
    ("Sto ancora aspettando la carta, da due settimane. Voglio parlare con un responsabile.",
     ["manager_request", "long_wait"]),
    ("Ainda estou à espera do reembolso. É inaceitável, vou mudar de banco.", ["churn", "strong_negative",
                                                                               "refund_chargeback", "long_wait"]),
    ("Ik wacht al drie weken op mijn geld. Belachelijk, ik ga naar de geschillencommissie.",
     ["legal_threat", "strong_negative", "long_wait"]),
])
def test_escalation_is_read_in_italian_portuguese_and_dutch(text, signals):
    assert rules.escalation_signals(text) == signals


def test_a_language_s_words_are_read_only_in_its_tickets():
    german = "Ich habe mein Passwort vergessen und kann mich nicht anmelden"
    assert read(german, "en")[0] == "other" and read(german, "de")[0] == "account & billing"
    assert rules.families("the problem is a pin", "en") == rules.families("the problem is a pin")


def test_someone_else_s_payment_and_a_long_wait_are_read_in_german():
    assert read("Jemand hat meine Karte benutzt.", "de") == ("account & billing", "account management", "P1")
    assert "long_wait" in rules.escalation_signals("Ich warte immer noch auf meine Karte, seit zwei Wochen.")
    assert "long_wait" in rules.escalation_signals("J'attends toujours ma carte, ça fait deux semaines.")


def test_the_shipped_words_name_known_families_and_levels():
    assert set(rules.FAMILY_WORDS) == {"de", "fr", "es", "it", "pt", "nl"}
    assert all(set(found) <= set(rules.RULE_FAMILIES) for found in rules.FAMILY_WORDS.values())
    assert rules.severity("Meine Karte wurde abgelehnt", language="de") == ("P1", "customers are blocked from a core task")
    assert rules.severity("Die Überweisung ist noch ausstehend", language="de")[0] == "P2"
