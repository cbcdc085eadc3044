"""Replace personal data in ticket text with typed placeholders ([EMAIL], [PHONE], ...).

Redaction runs before anything is embedded, summarised or shown, so every later stage (and
any LLM) only ever sees placeholders. Placeholders keep the sentence shape, which keeps
embeddings of "my card [CARD] was declined" close to the same complaint without a number.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

# Order matters: longer, more specific patterns first so a card is not read as a phone.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("URL", re.compile(r"https?://\S+")),
    ("CARD", re.compile(r"\b(?:\d[ -]?){12,18}\d\b")),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")),
    ("SSN", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
    ("IP_ADDRESS", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")),
    ("PHONE", re.compile(r"(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,4}){1,4}\b")),
    ("ORDER", re.compile(r"\b(?:ORD-\d{4,}|order\s*(?:number|no\.?|#)?\s*#?\s*\d{5,})", re.IGNORECASE)),
    (
        "PERSON",
        re.compile(
            r"\b(?:name is|This is|I am|I'm|Regards,|Thanks,|Cheers,)\s+"
            r"(?P<pii>[A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2})"
        ),
    ),
]
PLACEHOLDER = re.compile(r"\[(?:EMAIL|URL|CARD|IBAN|SSN|IP_ADDRESS|PHONE|ORDER|PERSON)\]")


@dataclass
class Redaction:
    text: str
    found: Counter[str] = field(default_factory=Counter)


def _luhn_ok(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _should_replace(kind: str, value: str) -> bool:
    if kind == "CARD":
        return _luhn_ok(re.sub(r"\D", "", value))
    if kind == "PHONE":
        return len(re.sub(r"\D", "", value)) >= 7
    if kind == "ORDER":
        return True
    return True


def redact(text: str) -> Redaction:
    """Redact `text`; idempotent because placeholders match no pattern."""
    found: Counter[str] = Counter()
    for kind, pattern in _PATTERNS:
        def _sub(m: re.Match[str], kind: str = kind) -> str:
            # Patterns with a `pii` group match context too; only the group is replaced.
            value = m.group("pii") if "pii" in m.re.groupindex else m.group(0)
            if not _should_replace(kind, value):
                return m.group(0)
            found[kind] += 1
            start, end = (m.start("pii"), m.end("pii")) if "pii" in m.re.groupindex else (m.start(), m.end())
            whole = m.group(0)
            return whole[: start - m.start()] + f"[{kind}]" + whole[end - m.start():]

        text = pattern.sub(_sub, text)
    return Redaction(text=text, found=found)


def surviving_pii(text: str) -> list[str]:
    """PII-looking values still in `text`: the blocking data-quality check uses this."""
    hits = []
    for kind in ("EMAIL", "CARD", "SSN", "IBAN"):
        pattern = dict(_PATTERNS)[kind]
        hits += [f"{kind}:{m.group(0)}" for m in pattern.finditer(text) if _should_replace(kind, m.group(0))]
    return hits
