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

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

import pandas as pd

from ticket_intel.core.embed import text_hash
from ticket_intel.core.normalize import clean_message
from ticket_intel.core.person_names import find_names, gazetteer

ENTITIES = ("EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IP_ADDRESS", "URL", "PERSON", "ORDER")
PLACEHOLDER = re.compile(r"\[(?:" + "|".join(ENTITIES) + r")\]")

# Order, account and similar reference numbers. A label word is kept ("order [ORDER]") because
# it says what the ticket is about; only the number goes.
DEFAULT_ORDER_PATTERNS = (
    r"(?i)\b(?:ORD|ORDER|INV|REF|ACCT)-\d{4,}\b",
    r"(?i)(?<=\b(?:order|account|acct|invoice|booking|reservation|confirmation|reference|ref|tracking)"
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
# libphonenumber's "possible number" also accepts dates, decimals and screen sizes.
_NOT_A_PHONE = re.compile(r"^(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d+\.\d+|\d+\s?[xX×]\s?\d+)$")


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


@lru_cache(maxsize=1)
def _recognizer_classes() -> dict[str, Any]:
    """Presidio recognizers adapted to run offline and emit our placeholder names."""
    import tldextract
    from presidio_analyzer import LocalRecognizer, Pattern, RecognizerResult
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, EmailRecognizer, UrlRecognizer

    offline_tlds = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):
        """Presidio's email recognizer, checking the domain against the bundled suffix list."""

        def validate_result(self, pattern_text: str) -> bool:
            return offline_tlds(pattern_text.rsplit("@", 1)[-1]).suffix != ""

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
            "person": PersonRecognizer}


def _strict_recognizers() -> list[Any]:
    """Types that need no context to be certain: the blocking check re-scans for exactly these."""
    from presidio_analyzer import Pattern
    from presidio_analyzer.predefined_recognizers import IbanRecognizer, UsSsnRecognizer

    classes = _recognizer_classes()
    return [
        classes["email"](supported_entity="EMAIL"),
        classes["card"](supported_entity="CARD"),
        IbanRecognizer(supported_entity="IBAN"),
        # A bare 9-digit SSN needs a context word ("SSN", "social security") to pass the threshold;
        # scored above a bare phone match (0.4) so the context decides which one it is.
        UsSsnRecognizer(supported_entity="SSN", patterns=[
            Pattern(p.name, p.regex, SSN_DIGITS_SCORE if p.regex == r"\b[0-9]{9}\b" else p.score)
            for p in UsSsnRecognizer.PATTERNS
        ]),
    ]


@lru_cache(maxsize=4)
def _engines(settings: RedactionSettings) -> tuple[Any, Any, dict[str, Any]]:
    """Analyzer + anonymizer for these settings (built once per process: spaCy and Presidio load slowly)."""
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpArtifacts
    from presidio_analyzer.nlp_engine.slim_spacy_nlp_engine import SlimSpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import IpRecognizer, PhoneRecognizer
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import OperatorConfig

    class TokenizerOnlyEngine(SlimSpacyNlpEngine):
        """spaCy's blank English tokenizer; lower-cased tokens stand in for lemmas in context matching."""

        def _doc_to_nlp_artifact(self, doc: Any, language: str) -> NlpArtifacts:
            return NlpArtifacts(entities=[], tokens=doc, tokens_indices=[t.idx for t in doc],
                                lemmas=[t.lower_ for t in doc], nlp_engine=self, language=language)

    class MinDigitsPhoneRecognizer(PhoneRecognizer):
        """libphonenumber's 'possible number' matches (fictional 555 numbers included) of 7+ digits:
        shorter runs are amounts, years and ids far more often than phone numbers."""

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            if sum(c.isdigit() for c in text) < MIN_PHONE_DIGITS:
                return []
            return [r for r in super().analyze(text, entities, nlp_artifacts)
                    if sum(c.isdigit() for c in text[r.start:r.end]) >= MIN_PHONE_DIGITS
                    and not _NOT_A_PHONE.match(text[r.start:r.end])]

    nlp = TokenizerOnlyEngine(models=[{"lang_code": "en", "model_name": "blank:en"}], auto_download=False)
    nlp.load()
    classes = _recognizer_classes()
    orders = [Pattern(f"order {i}", p, 0.9)
              for i, p in enumerate(DEFAULT_ORDER_PATTERNS + settings.order_patterns)]
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in [
        *_strict_recognizers(),
        MinDigitsPhoneRecognizer(supported_entity="PHONE", supported_regions=settings.phone_regions, leniency=0,
                                 context=list(PHONE_CONTEXT)),
        IpRecognizer(supported_entity="IP_ADDRESS"),
        classes["url"](supported_entity="URL"),
        classes["person"](frozenset(settings.keep_words)),
        PatternRecognizer(supported_entity="ORDER", patterns=orders, name="OrderNumbers"),
    ]:
        registry.add_recognizer(recognizer)
    analyzer = AnalyzerEngine(nlp_engine=nlp, registry=registry, supported_languages=["en"])
    operators = {e: OperatorConfig("replace", {"new_value": f"[{e}]"}) for e in ENTITIES}
    return analyzer, AnonymizerEngine(), operators


def detect(text: str, settings: RedactionSettings = RedactionSettings()) -> list[tuple[int, int, str, float]]:
    """Spans (start, end, entity, score) the analyzer finds in one pass; they may overlap."""
    analyzer, _, _ = _engines(settings)
    results = analyzer.analyze(text, language="en", entities=list(ENTITIES), score_threshold=SCORE_THRESHOLD)
    return sorted((r.start, r.end, r.entity_type, r.score) for r in results)


def redact(text: str, settings: RedactionSettings = RedactionSettings()) -> Redaction:
    """Redact `text`. Idempotent: passes repeat until nothing more is found (a replacement can
    expose a new match, e.g. a name next to a removed email), so redacting twice changes nothing."""
    analyzer, anonymizer, operators = _engines(settings)
    found: Counter[str] = Counter()
    for _ in range(MAX_PASSES):
        results = analyzer.analyze(text, language="en", entities=list(ENTITIES), score_threshold=SCORE_THRESHOLD)
        if not results:
            break
        out = anonymizer.anonymize(text, results, operators)
        found.update(item.entity_type for item in out.items)
        if out.text == text:
            break
        text = out.text
    return Redaction(text=text, found=found)


def surviving_pii(text: str) -> list[str]:
    """Emails, Luhn-valid cards, checksum-valid IBANs and SSNs still in `text` (the blocking check)."""
    hits = []
    for recognizer in _strict_pass():
        for r in recognizer.analyze(text, recognizer.supported_entities):
            if r.score >= SCORE_THRESHOLD:
                hits.append(f"{r.entity_type}:{text[r.start:r.end]}")
    return hits


@lru_cache(maxsize=1)
def _strict_pass() -> list[Any]:
    return _strict_recognizers()


# Ticket facts carried from raw to redacted as they are (none holds free text).
CARRIED = ("product", "language", "followups")


def redact_tickets(raw: pd.DataFrame, settings: RedactionSettings, embed_chars: int = EMBED_CHARS) -> pd.DataFrame:
    """staging.redacted_tickets rows: cleaned, redacted message and subject, the hash of the text
    prefix that is embedded, and the lengths (stored text and the part the model reads).

    Text past MAX_TEXT_CHARS (a pasted log or thread) is cut before redaction: no later stage
    reads that far, and it bounds redaction time; raw.tickets keeps the whole message."""
    texts, subjects, found = [], [], []
    for message, subject in zip(raw["message"], raw["subject"], strict=True):
        red = redact(clean_message(message)[:MAX_TEXT_CHARS], settings)
        texts.append(red.text)
        subjects.append(redact(clean_message(subject), settings).text if isinstance(subject, str) else None)
        found.append(json.dumps(dict(red.found), sort_keys=True))
    out = raw[["ticket_id", "week_start", "created_at", "source", "customer_id", "account_id", "plan",
               "monthly_revenue", "channel", "tags", "priority", *[c for c in CARRIED if c in raw]]].copy()
    if "followup_text" in raw:  # later customer messages inform severity, so they are redacted too
        out["followup_text"] = [redact(clean_message(t)[:MAX_TEXT_CHARS], settings).text if isinstance(t, str) and t
                                else None for t in raw["followup_text"]]
    out["subject"] = subjects
    out["text"] = texts
    out["text_hash"] = [text_hash(t[:embed_chars]) for t in texts]
    out["n_chars"] = out["text"].str.len()
    out["embed_chars"] = out["n_chars"].clip(upper=embed_chars)
    out["pii_found"] = found
    return out
