"""Entity values out of the text for meaning: themes count issues, not order numbers.

Two tickets about one issue differ in the values they quote: "refund of $45.20 for order
A1B2C3 on 12 March" and "refund of 19 EUR, ordered 2024-03-02". Each value is a run of rare
tokens to the embedding model, so values pull a ticket towards tickets that quote similar values
and away from its issue. Redaction already replaces personal data and order references with
placeholders ([PERSON], [ORDER], core/redact.py); what it leaves are the values that are not
personal: amounts, dates, times, codes and other numbers. `mask_entities` replaces each with a
token naming its kind ([AMOUNT], [DATE], ...), which people and tests can read.

The text that is embedded drops the values instead of masking them (`drop_values`, used by
`meaning.meaning_text`, which drops redaction placeholders too). A token is one more word shared
by every ticket that quotes an amount, whatever its issue, so kept tokens pull tickets together by
template ("I was charged [AMOUNT] on [DATE]") rather than by issue. On banking77 texts with names,
order numbers, amounts and dates filled in (`python -m bench.entity_themes`), kept placeholders and
tokens lowered ARI against the intents, dropped ones raised it (docs/themes.md has the figures).

Patterns are ordered: amounts before dates before times before codes before bare numbers, so a
number is masked as the most specific kind it is part of. Words such as "2 weeks" keep their
unit ("[NUMBER] weeks"), which carries the meaning.
"""

from __future__ import annotations

import re

AMOUNT, DATE, TIME, CODE, NUMBER = "[AMOUNT]", "[DATE]", "[TIME]", "[CODE]", "[NUMBER]"

# A number ends where its digits do: without the look-ahead "£2488" read as "£248" and left "8".
_NUM = r"(?:\d{1,3}(?:[,.]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?)(?!\d)"
_CURRENCY_SIGN = r"[$€£¥₹₽₩]"
_CURRENCY_WORD = (r"(?:USD|EUR|GBP|CHF|JPY|CAD|AUD|INR|dollars?|euros?|pounds?|quid|bucks|cents?|pence|"
                  r"yen|rupees?|francs?)")
# Capitalised month names and abbreviations, or lower-case full names except "may" (a verb).
_MONTH = (r"(?:(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?|(?:january|february|march|april|"
          r"june|july|august|september|october|november|december))")
_DAY = r"(?:[0-2]?\d|3[01])(?:st|nd|rd|th)?"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"(?:{_CURRENCY_SIGN}\s?(?:{_NUM})|\b(?:{_NUM})\s?(?:{_CURRENCY_SIGN}|{_CURRENCY_WORD}\b)"
                rf"|\b{_CURRENCY_WORD}\s?(?:{_NUM})\b)", re.IGNORECASE), AMOUNT),
    (re.compile(r"\b(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})\b"), DATE),
    (re.compile(rf"\b(?:{_DAY}\s+(?:of\s+)?{_MONTH}|{_MONTH}\s+{_DAY})(?:,?\s+\d{{4}})?\b"), DATE),
    (re.compile(r"\b(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?:\s?[ap]\.?m\.?)?|\b(?:1[0-2]|0?\d)\s?[ap]\.?m\.?\b",
                re.IGNORECASE), TIME),
    (re.compile(r"#?\b(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9][A-Z0-9-]{4,}\b"), CODE),
    (re.compile(rf"#?\b(?:{_NUM})\b"), NUMBER),
)


# What differs from ticket to ticket of one issue: amounts, dates, times, codes, and numbers long
# enough to be an id (5+ digits). Short numbers often name the issue itself ("HTTP 500", "iOS 11",
# "2 days"), so they stay in the text for meaning.
_VALUES = (*_PATTERNS[:-1], (re.compile(r"#?\b\d{5,}\b"), NUMBER))
DIGIT = re.compile(r"\d")  # every value holds one: a text without any is left as it is, unscanned


def drop_values(text: str) -> str:
    """The text without the values that vary between tickets of one issue (see `_VALUES`)."""
    for pattern, _ in _VALUES if DIGIT.search(text) else ():
        text = pattern.sub(" ", text)
    return " ".join(text.split())


def mask_entities(text: str) -> str:
    """Replace amounts, dates, times, codes and numbers with stable tokens ([AMOUNT], [DATE], ...)."""
    for pattern, token in _PATTERNS:
        text = pattern.sub(token, text)
    return text
