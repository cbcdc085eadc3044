"""Personal data a customer states in words, which no checksum or format alone finds: a date of
birth, a card's security code, an e-mail address spelled out to dodge filters, and an address on a
private network's domain.

Each pattern needs its cue ("date of birth", "cvv", " at ... dot "), so that a delivery date, a
three-digit error code or "meet at noon" stays as written. The patterns are their own gates in the
redaction pre-filter (core/redact.py).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import import_module

from ticket_intel.core.vocabulary import MONTH

# Top-level domains reserved for documentation and private networks: RFC 6761 (example, test,
# invalid, localhost), RFC 6762 (local, and the private names its appendix G lists), ICANN's
# .internal. No public suffix list holds them, yet an address on one reaches a person.
SPECIAL_USE_TLDS = frozenset({"example", "test", "invalid", "localhost", "local", "internal", "intranet",
                              "private", "corp", "home", "lan"})

# The languages whose months a date of birth is written with, besides English: Faker's date locales of
# those the birth cues are in.
MONTH_LOCALES = ("de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_PT")
# What says a date is one's birth: in English, and in German, French, Spanish, Italian, Dutch and Portuguese
# ("Geburtsdatum", "geboren am", "né le", "fecha de nacimiento", "nacida el", "nato il", "geboren op").
_BIRTH_CUE = (r"(?:date of birth|d\.?o\.?b\.?|birth ?date|birthday|born(?: on)?"
              r"|geburtsdatum|geburtstag|geb\.|geboren(?: am)?|date de naissance|n(?:é|e)e?(?: le)|née?"
              r"|fecha de nacimiento|f\. ?nac\.|nacid[oa](?: el)?|data di nascita|nat[oa](?: il)?"
              r"|geboortedatum|geboren op|data de nascimento|nascid[oa](?: em)?)")
# Only the date goes: "date of birth [DATE_OF_BIRTH]" still says what was asked for. A date without its cue
# ("am 14.02.2024 bestellt") is no personal data, and says when something happened.
_AFTER_BIRTH_CUE = rf"(?<=\b{_BIRTH_CUE}\W{{0,3}}(?:(?:is|ist|est|es|è|der|el|le|il)\W{{0,3}}){{0,2}})"


@lru_cache(maxsize=1)
def date_of_birth() -> str:
    """A date after a birth cue: in digits, or with a month's name in English or the cues' other languages
    ("14. Februar 1987", "1er mars 1987", "14 de febrero de 1987", "14th of February, 1987")."""
    names = {n.lower() for locale in MONTH_LOCALES
             for n in import_module(f"faker.providers.date_time.{locale}").Provider.MONTH_NAMES.values()}
    month = "(?:" + "|".join(sorted(names, key=lambda n: (-len(n), n))) + rf"|{MONTH})"
    day = r"\d{1,2}(?:st|nd|rd|th|er|º|\.)?"
    written = rf"{day}(?: of| de)? {month},? (?:de )?\d{{4}}|{month} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}"
    return rf"(?i){_AFTER_BIRTH_CUE}(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})|\d{{4}}-\d{{1,2}}-\d{{1,2}}|{written})\b"

# A card's security code: only the digits go, as card data.
CARD_CODE = r"(?i)(?<=\b(?:cvv2?|cvc2?|cvn|csc|security code|card code)\W{0,3}(?:is\W{0,3})?)\d{3,4}\b"
# "john dot smith at gmail dot com": a name, " at ", a domain whose dots are spelled out.
# Not followed by " at ": in "email me at john dot smith at gmail dot com" the shorter "me at john
# dot smith" matched first (no real domain, so dropped), and matches do not overlap.
SPELLED_EMAIL = r"(?i)\b[a-z0-9][\w+-]*(?: dot [\w+-]+)* at [a-z0-9][\w-]*(?: dot [a-z0-9][\w-]*)* dot [a-z]{2,}\b(?! at\b)"


def spelled_domain(match: str) -> str:
    """The domain of a spelled-out address ("gmail dot com" -> "gmail.com")."""
    return match.rsplit(" at ", 1)[-1].replace(" dot ", ".").lower()


# The date of birth's gate: its cue alone, looked for where a word starts with a cue's first letter. The
# cue as a lookbehind at every digit, with the other languages' cues, cost twice the English one did.
_BIRTH_GATE = rf"(?i)\b(?=[bdfgn]){_BIRTH_CUE}"


def stated_gates() -> list[tuple[str, str, str]]:
    """(entity, what the text must contain, pattern) for the redaction pre-filter."""
    return [("DATE_OF_BIRTH", r"\d", _BIRTH_GATE), ("CARD", r"\d", CARD_CODE), ("EMAIL", " at ", SPELLED_EMAIL)]
