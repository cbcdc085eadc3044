"""Street addresses in ticket text: a house number beside a street name, with what follows it (a flat, a
city, a postcode).

A street is told by its type word, from Faker's address vocabularies of the locales a queue writes
in (the library the person-name gazetteer uses): an English street ends in one of its types
("518 Elm Grove", "104 Amphitheatre Parkway"), a Germanic one is a compound ending in one
("Hauptstraße 5", "755 Hauptstraße"), a Romance one opens with one ("Calle Mayor 12", "C/ de Alcalá 45",
"12 rue de la Paix"). A number and a name followed by a city and a postcode is an address whatever its
type word ("514 Kingsway, Bristol BS1 4DJ"), and so is a name and a number followed by a postcode and a
city, the order of continental Europe ("Am Markt 4, 28195 Bremen"). An English type must follow at least one capitalised name word.
Most of the 225 English types are ordinary words too ("502 Bad Gateway", "2 Different Keys", "3
Microsoft Edge", "Swift 6 Sendable Key Path" in GitHub titles): those count only with a city or a
postcode after them; the types below (`STREET_TYPES`) name streets and little else. Type endings
that end ordinary English words (-ring, -pad, -hof) are left out: "String 5", "Keypad 2".
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import import_module

ENGLISH_LOCALES = ("en_US", "en_GB", "en_AU", "en_CA", "en_IE", "en_NZ")
COMPOUND_LOCALES = ("de_DE", "de_AT", "de_CH", "nl_NL", "sv_SE", "da_DK")
PREFIX_LOCALES = ("es_ES", "es_MX", "fr_FR", "it_IT", "pt_BR", "pt_PT")
NOT_A_STREET_ENDING = frozenset({"ring", "pad", "hof", "baan", "street", "boulevard"})
STREET_TYPES = ("Street", "St", "Road", "Rd", "Avenue", "Ave", "Lane", "Ln", "Boulevard", "Blvd", "Crescent", "Cres",
                "Terrace", "Parkway", "Pkwy", "Highway", "Hwy", "Close", "Grove", "Court", "Ct", "Mews", "Place", "Pl",
                "Plaza", "Square", "Sq", "Gardens", "Walk", "Way")

_NAME = r"[A-ZÀ-ÖØ-Þ][\w'’.-]*"
_NUMBER = r"\d{1,5}[A-Za-z]?"
# A city's words end at a word that ends a sentence, unless it is an abbreviation ("St. Louis"): "Düsseldorf.
# MfG Klaus Groß" lost "MfG", "Paris. Merci d'avance" lost "Merci".
_NOT_AFTER_STOP = r"(?<![a-zß-ÿ]{4}\.)"
# A flat: its label and number, or a Spanish floor and door ("3º izq.", "2ª B").
_UNIT = (r"(?:,?\s+(?:(?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|Piso|Appartamento|#)\.?\s*[\w-]+"
         r"|\d{1,2}\s?[º°ª](?:\s*(?:izq(?:uierda)?|dcha|der(?:echa)?|[A-Z])\b)?\.?))?")
# A postcode: a UK or Canadian one, a 4-6 digit code (after a US state, or dashed), or one before a city.
_POSTCODE = (r"(?:[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}|[A-Z]\d[A-Z]\s*\d[A-Z]\d"
             rf"|\d{{4,5}}(?:-\d{{3}})?\s+{_NAME}(?:{_NOT_AFTER_STOP}[ -]{_NAME}){{0,2}}|(?:[A-Z]{{2}},?\s+)?\d{{4,6}}(?:-\d{{3,4}})?\b)")
_CITY = rf"[A-ZÀ-ÖØ-Þ][a-zß-ÿ'’.-]+(?:{_NOT_AFTER_STOP}[ -][A-ZÀ-ÖØ-Þ]?[a-zß-ÿ'’.-]+){{0,2}}"
_TAIL = rf"{_UNIT}(?:,\s*{_CITY}){{0,2}}(?:,?\s*{_POSTCODE})?"
_LINK = r"(?i:(?:de|del|de la|de las|de los|des|du|di|da|do|dos|das|della|degli|la|le|l'|d')\s+)*"


def _vocabulary(locales: tuple[str, ...], *attributes: str) -> list[str]:
    """The words of `attributes` in Faker's address providers of `locales`, longest first (one alternation)."""
    words: set[str] = set()
    for locale in locales:
        provider = import_module(f"faker.providers.address.{locale}").Provider
        for attribute in attributes:
            words.update(w.strip() for w in getattr(provider, attribute, ()) if w.strip())
    return sorted(words, key=lambda w: (-len(w), w))


def _alternation(words: list[str]) -> str:
    return "(?:" + "|".join(re.escape(w) for w in words) + ")"


def _compound() -> str:
    return _alternation([w for w in _vocabulary(COMPOUND_LOCALES, "street_suffixes_short", "street_suffixes")
                         if w.lower() not in NOT_A_STREET_ENDING and w.islower()])


def _germanic_word() -> str:
    """A Germanic street type written as a word of its own ("Nassauische Straße")."""
    return _alternation([w for w in _vocabulary(COMPOUND_LOCALES, "street_suffixes_long")
                         if w.lower() not in NOT_A_STREET_ENDING])


def _romance() -> str:
    prefix = _vocabulary(PREFIX_LOCALES, "street_prefixes", "street_suffixes")
    # as Faker writes them ("Calle", "rue"), and capitalised ("Rue"): "via" in English is no street
    written = {v for w in prefix if w != "Street" for v in (w, w[0].upper() + w[1:])} | {"C/"}  # Calle, as written
    return _alternation(sorted(written, key=lambda w: (-len(w), w)))


@lru_cache(maxsize=1)
def address_patterns() -> tuple[str, ...]:
    """The regular expressions (for Presidio's `regex` engine) an address matches. None ends in a full stop:
    the sentence's, even after an abbreviation ("... 10115 Berlin. MfG" was "[ADDRESS] MfG", "12 Baker St."
    is "[ADDRESS].")."""
    return tuple(rf"(?:{p})(?<!\.)" for p in _patterns())


def _patterns() -> tuple[str, ...]:
    english = _alternation(_vocabulary(ENGLISH_LOCALES, "street_suffixes"))
    strong = _alternation(sorted(STREET_TYPES, key=lambda w: (-len(w), w)))
    compound, romance = _compound(), _romance()
    street = rf"(?:[A-ZÀ-ÖØ-Þ][\w-]*{compound}|{_NAME}(?:\s+{_NAME})?\s+{_germanic_word()})"
    named = rf"{_NAME}(?:\s+{_NAME}){{0,3}}"
    return (
        rf"\b{_NUMBER},?\s+(?:{_NAME}\s+){{1,3}}{strong}\b\.?{_TAIL}",
        rf"\b{_NUMBER},?\s+(?:{_NAME}\s+){{1,3}}{english}\b\.?{_UNIT}(?:(?:,\s*{_CITY}){{1,2}}|,?\s*{_POSTCODE})"
        rf"(?:,?\s*{_POSTCODE})?",
        rf"\b{_NUMBER}\s+{street}{_TAIL}",
        rf"\b{street}\s+{_NUMBER}\b{_TAIL}",
        rf"\b(?:{_NUMBER},?\s+)?{romance}\s+{_LINK}{named},?\s+{_NUMBER}\b{_TAIL}",
        rf"\b{_NUMBER},?\s+{romance}\s+{_LINK}{named}{_TAIL}",
        rf"\b{_NUMBER}\s+{named},\s*{_CITY},?\s*{_POSTCODE}\b",
        # the continental order, whatever the street's type: name, number, then postcode and city
        rf"\b{named}\s+{_NUMBER}{_UNIT},\s*\d{{4,5}}\s+{_CITY}\b",
    )
