"""Replace personal data in ticket text with typed placeholders ([EMAIL], [PHONE], ...).

Redaction runs before anything is embedded, summarised or shown, so every later stage (and
any LLM) only ever sees placeholders. Placeholders keep the sentence shape, which keeps
embeddings of "my card [CARD] was declined" close to the same complaint without a number.

Detection is Microsoft Presidio's analyzer with pattern recognizers (checksums for cards and
IBANs, libphonenumber for phones) on a tokenizer-only spaCy pipeline (no model download), plus
a gazetteer recognizer for person names; replacement is Presidio's anonymizer. The engines
are built once per process per settings, because building them costs seconds.
"""

from __future__ import annotations

import ipaddress
import json
import re
import sys
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar, NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

import numpy as np
import pandas as pd

from ticket_intel.core.addresses import address_patterns
from ticket_intel.core.embed import text_hash
from ticket_intel.core.meaning import meaning_text, public_suffix
from ticket_intel.core.normalize import clean_message
from ticket_intel.core.parallel import forked_map
from ticket_intel.core.person_names import Gazetteer, find_names, gazetteer, is_common_word
from ticket_intel.core.stated_pii import (
    CARD_CODE,
    SPECIAL_USE_TLDS,
    SPELLED_EMAIL,
    date_of_birth,
    spelled_domain,
    stated_gates,
)
from ticket_intel.core.summarize import stored_phrases

ENTITIES = ("EMAIL", "PHONE", "CARD", "IBAN", "SSN", "NATIONAL_ID", "IP_ADDRESS", "URL", "PERSON", "ORDER", "ADDRESS",
            "DATE_OF_BIRTH")
PLACEHOLDER = re.compile(r"\[(?:" + "|".join(ENTITIES) + r")\]")

# Order, account and similar reference numbers. A label word is kept ("order [ORDER]") because
# it says what the ticket is about; only the number goes.
_ORDER_PREFIXES = "ORD|ORDER|INV|REF|ACCT"
_ORDER_LABELS = "order|account|acct|invoice|booking|reservation|confirmation|reference|ref|tracking"
DEFAULT_ORDER_PATTERNS = (
    rf"(?i)\b(?:{_ORDER_PREFIXES})-\d{{4,}}\b",
    rf"(?i)(?<=\b(?:{_ORDER_LABELS})"
    r"\s?(?:number|no\.?|num|id|ref)?\s?[:#]?\s?)#?(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{4,}\b",
)
# Regions whose national formats (no +country prefix) are recognised; +-prefixed numbers parse anywhere.
DEFAULT_PHONE_REGIONS = ("US", "GB", "DE", "FR", "IL", "IN", "CA", "BR")  # Presidio's default set
# Presidio scores: checksum-validated matches score 1.0, bare phone matches 0.4, context words add 0.35.
SCORE_THRESHOLD = 0.35
MAX_PASSES = 3
MAX_TEXT_CHARS = 20_000
# MiniLM reads at most 256 word pieces; ~1,500 characters covers that with room to spare.
EMBED_CHARS = 1500
MIN_PHONE_DIGITS = 7
# Presidio's phone context minus "number", which also precedes card, account and SSN numbers.
PHONE_CONTEXT = ("phone", "telephone", "tel", "cell", "cellphone", "mobile", "call", "whatsapp", "sms")
SSN_DIGITS_SCORE = 0.3
ADDRESS_SCORE = 0.6  # a street type beside a house number needs no context word
# libphonenumber's "possible number" also accepts dates (also one that opens a match: "2024-08-26/6.1"),
# decimals and screen sizes.
_NOT_A_PHONE = re.compile(r"^(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d+\.\d+|\d+\s?[xX×]\s?\d+)$"
                          r"|^(?:19|20)\d\d([-./])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])(?!\d)")
# Dotted numbers, alone or paired by slashes (`version_shaped`).
_DOTTED = re.compile(r"\d+(?:\.\d+)+(?:/\d+(?:\.\d+)+)*")
# What before a number makes it a version, not an address or phone: a longer dotted run it is part of, a
# Latin letter or underscore it is glued to (an identifier: "rdar74087339", "dev20190820", "SR-11382",
# "swiftlang-6.0.0.3.300"; Chinese, Japanese and Russian write a phone glued to the word before it,
# "电话13812345678"), a version word ("v0.76.1.0", "Version=13.0.0.0") or a pin ("==8.9.7.29").
_VERSION_BEFORE = re.compile(r"(?i)(?:\d\.|[A-Z_]-?|(?<![^\W\d_])(?:v|ver|version|release|build)\.?\s?[=:]?\s?"
                             r"|[=<>~!]=\s?)$")
_WORD_BEFORE = re.compile(r"([^\W\d_]+) $")
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
SMALL_VERSION_PART = 100  # a version after a product name has parts below this (`is_version`)


@dataclass(frozen=True)
class RedactionSettings:
    """What counts as personal data beyond the built-in types; hashable so engines are cached."""

    order_patterns: tuple[str, ...] = ()
    keep_words: tuple[str, ...] = ()
    phone_regions: tuple[str, ...] = DEFAULT_PHONE_REGIONS


@dataclass
class Redaction:
    text: str
    found: Counter[str] = field(default_factory=Counter)


def parse_patterns(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """A setting holding one regular expression per line (or a YAML list) as a tuple."""
    if not value:
        return ()
    items = value.splitlines() if isinstance(value, str) else list(value)
    return tuple(p.strip() for p in items if p and p.strip())


_TOKEN_KEYS = re.compile(
    r"(?i)(?:^|[_.-])(?:token|access_token|key|apikey|auth|code|sig|signature|session|sid|secret|password|"
    r"passwd|pwd|pass|otp|reset|jwt|hash|email|mail|user|uid|login|phone|account)(?:$|[_.-])"
)


def _looks_like_token(value: str) -> bool:
    """Long mixed letter+digit strings are keys, hashes or one-time links, not words."""
    value = unquote(value)
    return len(value) >= 16 and any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def url_carries_secret(url: str) -> bool:
    """A URL is personal data when it carries an email, credentials or a token; a plain link is not."""
    decoded = unquote(url)
    if "@" in decoded:
        return True
    parts = urlsplit(url if "://" in url else "http://" + url)
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if _TOKEN_KEYS.search(key) or _looks_like_token(value):
            return True
    return any(_looks_like_token(seg) for seg in [*parts.path.split("/"), parts.fragment])


# Packages spaCy (through thinc) and Presidio (its transformers NER engine, its GPU probe) import when
# installed, which a blank tokenizer and pattern recognizers never use: importing them cost every run's
# process more than redacting 10,000 tickets (bench.pipeline; the onnx encoder needs neither).
UNUSED_BY_REDACTION = ("torch", "transformers")


@lru_cache(maxsize=1)
def _import_presidio() -> None:
    """Import spaCy and Presidio with UNUSED_BY_REDACTION reported absent (unless already imported),
    so they take their own without-it paths (CPU, no transformers engine); afterwards those packages
    import as usual for whoever needs them."""
    hidden = [m for m in UNUSED_BY_REDACTION if m not in sys.modules]
    sys.modules.update(dict.fromkeys(hidden))
    try:
        import presidio_analyzer.nlp_engine  # noqa: F401
        import presidio_anonymizer  # noqa: F401
    finally:
        for m in hidden:
            if sys.modules.get(m, "") is None:
                del sys.modules[m]


@lru_cache(maxsize=1)
def _recognizer_classes() -> dict[str, Any]:
    """Presidio recognizers adapted to run offline and emit our placeholder names."""
    _import_presidio()
    from presidio_analyzer import LocalRecognizer, Pattern, PatternRecognizer, RecognizerResult
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, EmailRecognizer, UrlRecognizer

    class OfflineEmailRecognizer(EmailRecognizer):
        """Presidio's email recognizer, checking the domain against the bundled suffix list and the
        names reserved for documentation and private networks (core/stated_pii.py)."""

        def validate_result(self, pattern_text: str) -> bool:
            domain = pattern_text.rsplit("@", 1)[-1]
            return public_suffix(domain) != "" or domain.rsplit(".", 1)[-1].lower() in SPECIAL_USE_TLDS

    class SpelledEmailRecognizer(PatternRecognizer):
        """An address spelled out ("john dot smith at gmail dot com") whose domain is a real one."""

        def validate_result(self, pattern_text: str) -> bool:
            return public_suffix(spelled_domain(pattern_text)) != ""

    class CardRecognizer(CreditCardRecognizer):
        """13-19 digit numbers with any issuer prefix (incl. 2-series Mastercard), Luhn-checked."""

        PATTERNS: ClassVar[list[Any]] = [
            Pattern("card 4-4-4-4", r"(?<![\d-])[2-6]\d{3}([ -]?)\d{4}\1\d{4}\1\d{4}(?![\d])", 0.3),
            Pattern("card 4-6-5", r"(?<![\d-])3\d{3}([ -]?)\d{6}\1\d{4,5}(?![\d])", 0.3),
            Pattern("card 13-19 digits", r"(?<![\d-])[2-6]\d{12,18}(?![\d])", 0.3),
        ]

        def validate_result(self, pattern_text: str) -> bool:
            digits = re.sub(r"\D", "", pattern_text)
            return 13 <= len(digits) <= 19 and bool(super().validate_result(pattern_text))  # Luhn

    class TokenUrlRecognizer(UrlRecognizer):
        """URLs that carry an email, credentials or a token; plain links keep their product signal."""

        PATTERNS: ClassVar[list[Any]] = [*UrlRecognizer.PATTERNS, Pattern("any http(s) URL", r"(?i)\bhttps?://[^\s<>\"'\[\]]+", 0.6)]

        def invalidate_result(self, pattern_text: str) -> bool:
            return not url_carries_secret(pattern_text)

    class PersonRecognizer(LocalRecognizer):
        """Person names from Faker's multi-locale name lists and context cues (see person_names)."""

        def __init__(self, keep_words: frozenset[str]):
            self.gazetteer = gazetteer(keep_words)
            super().__init__(supported_entities=["PERSON"], supported_language="en", name="PersonGazetteer")

        def load(self) -> None:
            """The gazetteer is loaded in __init__ (cached per process)."""

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            return [
                RecognizerResult("PERSON", start, end, 0.85 if rule == "cue" else 0.7)
                for start, end, rule in find_names(text, self.gazetteer)
            ]

    return {"email": OfflineEmailRecognizer, "card": CardRecognizer, "url": TokenUrlRecognizer,
            "person": PersonRecognizer, "spelled_email": SpelledEmailRecognizer}


def _strict_recognizers() -> list[Any]:
    """Types that need no context to be certain: the blocking check re-scans for exactly these."""
    _import_presidio()
    from presidio_analyzer import Pattern
    from presidio_analyzer.predefined_recognizers import IbanRecognizer, UsSsnRecognizer

    classes = _recognizer_classes()
    return [
        classes["email"](supported_entity="EMAIL"),
        classes["card"](supported_entity="CARD"),
        IbanRecognizer(supported_entity="IBAN"),
        *_national_id_recognizers(),
        # A bare 9-digit SSN needs a context word ("SSN", "social security") to pass the threshold;
        # scored above a bare phone match (0.4) so the context decides which one it is.
        UsSsnRecognizer(supported_entity="SSN", patterns=[
            Pattern(p.name, p.regex, SSN_DIGITS_SCORE if p.regex == r"\b[0-9]{9}\b" else p.score)
            for p in UsSsnRecognizer.PATTERNS
        ]),
    ]


def _national_id_recognizers() -> list[Any]:
    """Presidio's recognizers of the national ids of the countries whose languages the tool reads, where the
    number carries a check (a check letter or digit), so a match needs no context word: Spain's DNI/NIF and
    NIE, Italy's codice fiscale and Germany's tax id. Its ids without a check (passports, Italian and German
    identity cards, driving licences) would need a context word in the ticket's language to tell them from
    any code; those of other countries (Sweden's personnummer: ten digits and a Luhn check) took phone
    numbers and the digits inside a longer number ("6034766930529145842")."""
    from presidio_analyzer.predefined_recognizers import (
        DeTaxIdRecognizer,
        EsNieRecognizer,
        EsNifRecognizer,
        ItFiscalCodeRecognizer,
    )

    return [cls(supported_entity="NATIONAL_ID", supported_language="en")
            for cls in (EsNifRecognizer, EsNieRecognizer, ItFiscalCodeRecognizer, DeTaxIdRecognizer)]


# The pre-filter: for each recognizer, a relaxation of its own patterns, compiled with the same
# engine and flags, that any text it could flag must match. A text that matches none is clean for
# that type, so the analyzer (spaCy's tokenizer, context scoring, libphonenumber's eight regional
# matchers) never runs on it. Each relaxation starts from something the text must contain (a digit,
# an @, ...), checked first because that is cheaper still. docs/redaction.md gives the reasoning per
# type; a property test checks that the filtered analyzer finds exactly what the full one finds.
_GATES = (  # (entity, what the text must contain, relaxation of the recognizer's patterns)
    ("EMAIL", "@", r"\S@\w"),  # a character before the @, a word character after it
    ("CARD", r"\d", r"[2-6]\d{3}[ -]?\d{4}"),  # every card pattern opens with an issuer digit and 7 more
    ("IBAN", r"\d", r"[A-Z]{2}[0-9]{2}[ -]?[A-Z0-9]{4}[ -]?[A-Z0-9]{4}"),  # country, check digits, 2 groups
    ("SSN", r"\d", r"[0-9]{3}[- .]?[0-9]{2}[- .]?[0-9]{4}"),  # nine digits, 3-2-4, optional separators
    # A DNI or NIE ends in seven digits and its letter, a German tax id is eleven digits; a codice fiscale is
    # sixteen characters, each a letter, or a digit or the letter standing for it, by position. Seven digits
    # alone let through 29 % of tweets (handles, order numbers).
    ("NATIONAL_ID", r"\d", r"\d{7}(?:-?[A-Z]\b|\d{4})"),
    ("NATIONAL_ID", r"[A-Za-z]", r"[A-Z]{6}[\dLMNP-V]{2}[A-EHLMPR-T][\dLMNP-V]{2}[A-Z][\dLMNP-V]{3}[A-Z]"),
    ("IP_ADDRESS", r"\d", r"\d\.\d{1,3}\.\d{1,3}\.\d"),  # a dotted quad
    ("IP_ADDRESS", ":", r":[0-9A-Fa-f]{0,4}:"),  # every IPv6 form has two colons at most 4 hex digits apart
    # url_carries_secret needs an @ (or %40), a query, a fragment or a 16+ character path segment,
    # inside one token that also holds a dot or "://". Tried from a token's start only: looking around
    # each @ for the dot rescanned the token, and 20,000 @s cost seconds of a server's CPU.
    ("URL", "[@%?#/]", r"(?<!\S)(?=[^\s.:]*[.:])\S*?(?:(?<=\S)@|%40|\?\S|#\S|/[^\s/]{16})"),
    # A prefixed id ("ORD-1234"), or a label then (within the label's 11-character tail) an id with a digit.
    ("ORDER", r"\d", rf"(?:{_ORDER_PREFIXES})-\d|(?:{_ORDER_LABELS}).{{0,11}}[A-Z0-9-]*\d"),
)


@dataclass(frozen=True)
class Prefilter:
    """Which recognizers could find anything in a text; built once per settings."""

    gates: tuple[tuple[str, Any, Any], ...]  # (entity, compiled precondition, compiled relaxation)
    custom_orders: Any  # a recognizer of the configured order patterns, or None
    names: Gazetteer

    def __call__(self, text: str, only: Collection[str] = ENTITIES) -> list[str]:
        """The entity types (among `only`) whose recognizer could find something in `text`."""
        kinds: list[str] = []
        present: dict[Any, bool] = {}
        for kind, needed, gate in self.gates:
            if kind not in only or kind in kinds:
                continue
            if needed not in present:
                present[needed] = needed.search(text) is not None
            if present[needed] and gate.search(text):
                kinds.append(kind)
        if "ORDER" in only and "ORDER" not in kinds and self.custom_orders is not None \
                and self.custom_orders.analyze(text, ["ORDER"]):
            kinds.append("ORDER")  # configured order patterns are their own gate
        if "PHONE" in only and _could_hold_phone(text):
            kinds.append("PHONE")
        if "PERSON" in only and find_names(text, self.names):
            kinds.append("PERSON")
        return kinds


def _prefilter(registry: Any, settings: RedactionSettings) -> Prefilter:
    """Each gate compiled like its recognizer's patterns (Presidio uses `regex`, flags per recognizer)."""
    import regex
    from presidio_analyzer import Pattern, PatternRecognizer

    flags = {r.supported_entities[0]: getattr(r, "global_regex_flags", 0) for r in registry.recognizers}
    gates = tuple((kind, regex.compile(needed), regex.compile(pattern, flags=flags[kind]))
                  for kind, needed, pattern in (*_GATES, *address_gates(), *stated_gates()))
    custom = [Pattern(f"custom order {i}", p, 0.9) for i, p in enumerate(settings.order_patterns)]
    is_common_word("name")  # loads wordfreq's table now, so forked workers share it
    return Prefilter(gates, PatternRecognizer(supported_entity="ORDER", patterns=custom) if custom else None,
                     gazetteer(frozenset(settings.keep_words)))


def address_gates() -> list[tuple[str, str, str]]:
    """The address patterns are their own gates: relaxations of them were no cheaper (21 µs a tweet)
    and let far more through (a number and a capitalised word: 18 % of twcs, "@115858 I ...")."""
    return [("ADDRESS", r"\d", p) for p in address_patterns()]


def _could_hold_phone(text: str) -> bool:
    """libphonenumber only ever matches inside a candidate of its own pattern; the phone recognizer
    keeps matches of MIN_PHONE_DIGITS digits or more, so some candidate must have that many."""
    if sum(map(str.isdigit, text)) < MIN_PHONE_DIGITS:
        return False
    from phonenumbers.phonenumbermatcher import _PATTERN as PHONE_CANDIDATE

    return any(sum(map(str.isdigit, m.group())) >= MIN_PHONE_DIGITS for m in PHONE_CANDIDATE.finditer(text))


def is_version(text: str, start: int, end: int, products: Collection[str] = ()) -> bool:
    """Whether the number at text[start:end] is a version, build or id by its context, not an IP address
    or phone: what _VERSION_BEFORE says, a longer dotted run after it ("6.0.0.4.52"), or, for a dotted
    number of small parts, a kept product name before it ("Swift 6.0.0.5"; "Apple 192.168.1.20" stays an
    address: versions count releases in small steps, addresses spread over 0-255). Phones get no
    `products`: a product's own number ("call Amazon 415-555-0123") is still a number to call."""
    before = text[max(0, start - 12):start]
    if _VERSION_BEFORE.search(before) or re.match(r"\.\d", text[end:end + 2]):
        return True
    small = _DOTTED.fullmatch(number := text[start:end]) is not None and all(
        int(part) < SMALL_VERSION_PART for part in re.split(r"[./]", number))
    return small and (word := _WORD_BEFORE.search(before)) is not None and word.group(1).casefold() in products


def version_shaped(number: str) -> bool:
    """Dotted numbers with a part of one digit, or paired ("10.0.17763.0", "2.15.0/2.15.1"); a phone
    written with dots groups two digits or more ("415.555.0123", "01.23.45.67.89")."""
    return _DOTTED.fullmatch(number) is not None and ("/" in number or any(len(p) == 1 for p in re.split(r"[./]", number)))


# A number glued to an identifier's characters after it ("0308010C", "20210501202953_name", a UUID's
# "51062868-8142-47da"), or to an underscore before it (not a digit: a phone right after another is still
# one, and redacting twice must change nothing), a hex literal ("0x80263001", which libphonenumber reads as
# "0" extension "80263001"), a range ("1805..1808"), a dotted part of five digits or more (Windows builds
# "19044.1288", a log's "30.700653"), a number a colon continues ("140171848166400:error", "05-11-2017
# 14:42:58"), a negative number, an assigned value ("eof = 2568306"), a count of bytes, and the number
# after words that name a program's code, a size or a position ("exit code 3221225781", "Digest: 329735291";
# not "area code" or "country code", which open a phone) are
# parts of code, logs and times. Phones are written with spaces, dots, dashes and brackets between
# groups of two to four digits, after words such as "call" or "number", not these.
_GLUED_AFTER = re.compile(r"[A-Za-z0-9_]|:\S|\s?(?:bytes|[KMGT]i?B)\b")
_CODE_IN = re.compile(r"(?<!\d)0[xX][0-9A-Fa-f]|\d\.\.\d|\d{5}\.\d|\d\.\d{5}")
_CODE_BEFORE = re.compile(r"(?i)(?:_|(?:^|[\s=(\[])-|=\s?|\b(?:(?:exit|error|return|status|result) code|digest|size|"
                          r"offset|index|errno|hresult|pid|key|hash|since)(?:\s?[:=#]\s?|\s))$")


def in_code(text: str, start: int, end: int) -> bool:
    """Whether the number at text[start:end] is part of code, a log line or a time rather than a
    phone (`_CODE_BEFORE`): 60 of 55,045 GitHub issue titles held a "[PHONE]", 45 of them for such
    numbers; Faker's phone numbers of its 107 locales are redacted as before (docs/redaction.md)."""
    return bool(_CODE_IN.search(text, start, end) or _CODE_BEFORE.search(text[max(0, start - 20):start])
                or _GLUED_AFTER.match(text, end))


def names_no_host(address: str) -> bool:
    """0.0.0.0/8 ("this network", RFC 1122; versions such as "0.51.0.0") and "::" name no host."""
    ip = ipaddress.ip_interface(address).ip
    return ip.is_unspecified or (ip.version == 4 and ip in _THIS_NETWORK)


class Engines(NamedTuple):
    analyzer: Any
    anonymizer: Any
    operators: dict[str, Any]
    prefilter: Prefilter


# A text every detector reads once, so each lazily loaded part (patterns, name lists, phone and
# card checks, the suffix list) is loaded before work begins (`_engines`; the server's first request).
WARM_UP = ("Hello, this is Jane Doe (jane.doe@example.com, jane dot doe at example dot com, +1 415 555 0100, "
           "from 10.0.0.1): my card 4111 1111 1111 1111 exp 12/29 was declined at "
           "https://shop.example/checkout?token=abc123def456ghi789, order ORD-123456; born 01/02/1990, "
           "10 Main Street, Springfield; IBAN DE89 3704 0044 0532 0130 00, SSN 219-09-9999, DNI 12345678Z.")


def _number_recognizers(settings: RedactionSettings) -> list[Any]:
    """Presidio's phone and IP recognizers, less the numbers that are versions, builds and ids."""
    from presidio_analyzer.predefined_recognizers import IpRecognizer, PhoneRecognizer

    class MinDigitsPhoneRecognizer(PhoneRecognizer):
        """libphonenumber's 'possible number' matches (fictional 555 numbers included) of 7+ digits:
        shorter runs are amounts, years and ids far more often than phone numbers. A match that
        starts a @handle is a numeric user id and what follows it ("@116076 4 days ago"); versions,
        builds and ids (`version_shaped`, `is_version`) and numbers in code (`in_code`) are no phones either."""

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            if sum(c.isdigit() for c in text) < MIN_PHONE_DIGITS:
                return []
            return [r for r in super().analyze(text, entities, nlp_artifacts)
                    if sum(c.isdigit() for c in text[r.start:r.end]) >= MIN_PHONE_DIGITS
                    and not _NOT_A_PHONE.match(text[r.start:r.end]) and text[r.start - 1:r.start] != "@"
                    and not version_shaped(text[r.start:r.end]) and not is_version(text, r.start, r.end)
                    and not in_code(text, r.start, r.end)]

    class HostIpRecognizer(IpRecognizer):
        """Presidio's IPv4/IPv6 patterns, less versions (`is_version`) and addresses that name no host."""

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None, regex_flags: Any = None) -> list[Any]:
            return [r for r in super().analyze(text, entities, nlp_artifacts, regex_flags)
                    if not names_no_host(text[r.start:r.end]) and not is_version(text, r.start, r.end, products)]

    products = gazetteer(frozenset(settings.keep_words)).products
    return [MinDigitsPhoneRecognizer(supported_entity="PHONE", supported_regions=settings.phone_regions, leniency=0,
                                     context=list(PHONE_CONTEXT)),
            HostIpRecognizer(supported_entity="IP_ADDRESS")]


@lru_cache(maxsize=4)
def _engines(settings: RedactionSettings) -> Engines:
    """Analyzer + anonymizer for these settings (built once per process: spaCy and Presidio load slowly)."""
    _import_presidio()
    import regex
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpArtifacts
    from presidio_analyzer.nlp_engine.slim_spacy_nlp_engine import SlimSpacyNlpEngine
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import OperatorConfig

    class TokenizerOnlyEngine(SlimSpacyNlpEngine):
        """spaCy's blank English tokenizer; lower-cased tokens stand in for lemmas in context matching."""

        def _doc_to_nlp_artifact(self, doc: Any, language: str) -> NlpArtifacts:
            return NlpArtifacts(entities=[], tokens=doc, tokens_indices=[t.idx for t in doc],
                                lemmas=[t.lower_ for t in doc], nlp_engine=self, language=language)

    nlp = TokenizerOnlyEngine(models=[{"lang_code": "en", "model_name": "blank:en"}], auto_download=False)
    nlp.load()
    classes = _recognizer_classes()
    orders = [Pattern(f"order {i}", p, 0.9)
              for i, p in enumerate(DEFAULT_ORDER_PATTERNS + settings.order_patterns)]
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in [
        *_strict_recognizers(),
        *_number_recognizers(settings),
        classes["url"](supported_entity="URL"),
        classes["person"](frozenset(settings.keep_words)),
        PatternRecognizer(supported_entity="ORDER", patterns=orders, name="OrderNumbers"),
        classes["spelled_email"](supported_entity="EMAIL", name="SpelledEmails",
                                 patterns=[Pattern("spelled e-mail", SPELLED_EMAIL, 0.6)]),
        PatternRecognizer(supported_entity="CARD", name="CardCodes", patterns=[Pattern("card code", CARD_CODE, 0.6)]),
        PatternRecognizer(supported_entity="DATE_OF_BIRTH", name="DatesOfBirth",
                          patterns=[Pattern("date of birth", date_of_birth(), 0.6)]),
        PatternRecognizer(supported_entity="ADDRESS", name="StreetAddresses",  # core/addresses.py: case tells names
                          patterns=[Pattern(f"address {i}", p, ADDRESS_SCORE) for i, p in enumerate(address_patterns())],
                          global_regex_flags=regex.DOTALL | regex.MULTILINE),
    ]:
        registry.add_recognizer(recognizer)
    analyzer = AnalyzerEngine(nlp_engine=nlp, registry=registry, supported_languages=["en"])
    operators = {e: OperatorConfig("replace", {"new_value": f"[{e}]"}) for e in ENTITIES}
    return _warmed(Engines(analyzer, AnonymizerEngine(), operators, _prefilter(registry, settings)))


def _warmed(engines: Engines) -> Engines:
    """Presidio compiles a recognizer's patterns, and tldextract loads its suffix list, on first use:
    done here, once, they are inherited by the redaction pool's forked workers, each of which
    compiled them again (perf review: about a quarter of the workers' CPU on a 6,000-ticket week)."""
    engines.analyzer.analyze(WARM_UP, language="en", entities=list(ENTITIES))
    public_suffix("example.com")
    return engines


def candidate_entities(text: str, settings: RedactionSettings = RedactionSettings()) -> list[str]:
    """Entity types whose recognizer could find something in `text` (the pre-filter)."""
    return _engines(settings).prefilter(text)


class _LazyNlpArtifacts:
    """Presidio's NLP artifacts, computed on first use. Only context scoring reads them, and only
    for results of recognizers with context words, so most texts never pay for spaCy."""

    def __init__(self, nlp_engine: Any, text: str):
        self._nlp_engine, self._text, self._artifacts = nlp_engine, text, None

    def __getattr__(self, name: str) -> Any:
        if self._artifacts is None:
            self._artifacts = self._nlp_engine.process_text(self._text, "en")
        return getattr(self._artifacts, name)


def _analyze(text: str, settings: RedactionSettings, prefilter: bool) -> list[Any]:
    """Presidio's analysis, restricted to the recognizers the pre-filter cannot rule out."""
    analyzer = _engines(settings).analyzer
    if not prefilter:
        return analyzer.analyze(text, language="en", entities=list(ENTITIES), score_threshold=SCORE_THRESHOLD)
    entities = candidate_entities(text, settings)
    if not entities:
        return []
    return analyzer.analyze(text, language="en", entities=entities, score_threshold=SCORE_THRESHOLD,
                            nlp_artifacts=_LazyNlpArtifacts(analyzer.nlp_engine, text))


def detect(text: str, settings: RedactionSettings = RedactionSettings(),
           prefilter: bool = True) -> list[tuple[int, int, str, float]]:
    """Spans (start, end, entity, score) the analyzer finds in one pass; they may overlap.
    `prefilter=False` runs every recognizer (the reference the pre-filter is checked against)."""
    return sorted((r.start, r.end, r.entity_type, r.score) for r in _analyze(text, settings, prefilter))


def redact(text: str, settings: RedactionSettings = RedactionSettings(), prefilter: bool = True) -> Redaction:
    """Redact `text`. Idempotent: passes repeat until nothing more is found (a replacement can
    expose a new match, e.g. a name next to a removed email), so redacting twice changes nothing."""
    engines = _engines(settings)
    found: Counter[str] = Counter()
    for _ in range(MAX_PASSES):
        results = _analyze(text, settings, prefilter)
        if not results:
            break
        out = engines.anonymizer.anonymize(text, results, engines.operators)
        found.update(item.entity_type for item in out.items)
        if out.text == text:
            break
        text = out.text
    return Redaction(text=text, found=found)


def redact_many(texts: Sequence[str], settings: RedactionSettings = RedactionSettings()) -> list[Redaction]:
    """`redact` for each text, each distinct text once (exports repeat templated messages). A large
    batch is shared among forked workers a level up, a whole ticket each (`redact_tickets`)."""
    done = {t: redact(t, settings) for t in dict.fromkeys(texts)}
    return [done[t] for t in texts]


STRICT_ENTITIES = ("EMAIL", "CARD", "IBAN", "SSN", "NATIONAL_ID")


def surviving_pii(text: str) -> list[str]:
    """Emails, Luhn-valid cards, checksum-valid IBANs, SSNs and national ids still in `text` (the blocking check)."""
    could_hold = _engines(RedactionSettings()).prefilter(text, STRICT_ENTITIES)
    hits = []
    for recognizer in _strict_pass():
        if recognizer.supported_entities[0] not in could_hold:
            continue
        for r in recognizer.analyze(text, recognizer.supported_entities):
            if r.score >= SCORE_THRESHOLD:
                hits.append(f"{r.entity_type}:{text[r.start:r.end]}")
    return hits


@lru_cache(maxsize=1)
def _strict_pass() -> list[Any]:
    return _strict_recognizers()


# Ticket facts carried from raw to redacted as they are (none holds free text).
CARRIED = ("product", "language", "followups")


# Tickets per worker below which forking workers for a week's redaction costs more than it saves: a
# ticket's whole redaction (cleaning, PII, the text for meaning) takes about 0.2 ms, against 0.15-0.9 s
# to start and stop two forks.
POOL_MIN_TICKETS = 5_000


class _Redacted(NamedTuple):
    """What redaction makes of one ticket's texts (`redact_tickets`' columns)."""

    text: str
    subject: str | None
    followup_text: str | None
    meaning_text: str
    meaning_phrases: str
    pii_found: str


def _redact_span(messages: Sequence[Any], subjects: Sequence[Any], later: Sequence[Any] | None,
                 products: Sequence[Any], settings: RedactionSettings) -> list[_Redacted]:
    """`redact_tickets`' work for some tickets, in order: each distinct text redacted once."""
    texts = redact_many([clean_message(m)[:MAX_TEXT_CHARS] for m in messages], settings)
    titles = redact_many([clean_message(s) if isinstance(s, str) else "" for s in subjects], settings)
    follow = redact_many([clean_message(t)[:MAX_TEXT_CHARS] if isinstance(t, str) else "" for t in later],
                         settings) if later is not None else [None] * len(texts)
    meanings = [meaning_text(red.text, p if isinstance(p, str) else None) for red, p in zip(texts, products, strict=True)]
    return [_Redacted(red.text, title.text if isinstance(s, str) else None,
                      None if f is None else (f.text or None), meaning, stored_phrases(meaning),
                      json.dumps(dict(red.found), sort_keys=True))
            for red, title, s, f, meaning in zip(texts, titles, subjects, follow, meanings, strict=True)]


def redact_tickets(raw: pd.DataFrame, settings: RedactionSettings, embed_chars: int = EMBED_CHARS) -> pd.DataFrame:
    """staging.redacted_tickets rows: the cleaned, redacted message (`text`, the text for people)
    and subject, the message's text for meaning (`meaning_text`: what is embedded and what terms
    are built from) and its phrases (`summarize.stored_phrases`, which the summaries read), the hash
    of the embedded prefix of the meaning text, and the lengths (stored text, and the part the model
    reads); the customer's later messages redacted too (they inform
    severity), and the ticket facts that hold no free text. A large batch is shared among forked
    workers (`parallel.forked_map`): each ticket's redaction is its own.

    Text past MAX_TEXT_CHARS (a pasted log or thread) is cut before redaction: no later stage
    reads that far, and it bounds redaction time; raw.tickets keeps the whole message."""
    messages, subjects = raw["message"].tolist(), raw["subject"].tolist()
    later = raw["followup_text"].tolist() if "followup_text" in raw else None
    products = raw["product"].tolist() if "product" in raw else [None] * len(raw)
    if len(raw):
        _engines(settings)  # built once here, inherited by forked workers
    done = forked_map(lambda a, b: _redact_span(messages[a:b], subjects[a:b], None if later is None else later[a:b],
                                                products[a:b], settings), len(raw), POOL_MIN_TICKETS)
    out = raw[["ticket_id", "week_start", "created_at", "source", "customer_id", "account_id", "plan",
               "monthly_revenue", "channel", "tags", "priority", *[c for c in CARRIED if c in raw]]].copy()
    if later is not None:
        out["followup_text"] = _strings(out, [r.followup_text for r in done])
    out["subject"] = _strings(out, [r.subject for r in done])
    out["text"] = _strings(out, [r.text for r in done])
    out["meaning_text"] = _strings(out, [r.meaning_text for r in done])
    out["meaning_phrases"] = _strings(out, [r.meaning_phrases for r in done])
    out["text_hash"] = _strings(out, [text_hash(t[:embed_chars]) for t in out["meaning_text"]])
    out["n_chars"] = out["text"].str.len()
    out["embed_chars"] = out["meaning_text"].str.len().clip(upper=embed_chars)
    out["pii_found"] = _strings(out, [r.pii_found for r in done])
    out["tags"] = _redacted_tags(out["tags"], settings)
    return out


def _redacted_tags(tags: pd.Series, settings: RedactionSettings) -> pd.Series:
    """Each ticket's tags redacted, each distinct tag once: a helpdesk's tags are free text its agents
    type, and a tag holding an address ("escalated-by-[EMAIL]") reached a report's segment line and a
    tracker issue's body (segments read the tags)."""
    lists = [[str(tag) for tag in t] if isinstance(t, list | np.ndarray) else None for t in tags]
    every = [tag for ts in lists if ts for tag in ts]
    done = dict(zip(every, (r.text for r in redact_many(every, settings)), strict=True))
    return pd.Series([ts if ts is None else [done[t] for t in ts] for ts in lists], index=tags.index, dtype=object)


def _strings(out: pd.DataFrame, values: list[str | None]) -> pd.Series:
    """A text column of `out`, of strings also when a week has no tickets (pandas makes an empty
    list a float column, on which `.str` fails)."""
    return pd.Series(values, index=out.index, dtype=object)
