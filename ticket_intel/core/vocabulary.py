"""The closed sets of values that themes and triaged tickets carry, defined once, and how a count
or a stored value is written for a reader.

Severity is the impact on the customer (P0 security/outage … P4 no impact); urgency is how soon
support must act (P1 … P4) and follows from severity and escalation (`triage_rules.urgency_of`).
Signal type is the product team's view of a ticket or theme; a triage category maps onto one
(`triage.yaml`). Definitions with examples: bench/labels/GUIDE.md.
"""

from __future__ import annotations

SEVERITIES = ("P0", "P1", "P2", "P3", "P4")
URGENCIES = ("P1", "P2", "P3", "P4")
SIGNAL_TYPES = ("bug", "feature_gap", "ux_friction", "docs_gap", "expectation_mismatch", "billing", "other")
FRUSTRATION_LEVELS = ("low", "medium", "high", "critical")
FRUSTRATED = frozenset({"high", "critical"})  # the levels a report counts as a frustrated customer
CHURN_RISKS = ("low", "medium", "high")
ESCALATION_SIGNALS = (
    "churn", "legal_threat", "public_complaint", "strong_negative", "refund_chargeback",
    "manager_request", "long_wait",
)
# The product of a ticket whose export names none, and the one scope of every ticket when themes
# are not formed within products (core/theme_week.py `Scopes`).
NO_PRODUCT = ""
# A theme's trend against its baseline weeks (core/rank.py `trend`), stored and exported by these names.
NEW, RISING, STEADY, FALLING = "new", "rising", "steady", "falling"
NO_HISTORY = "no history"  # the data starts with the ranked weeks: nothing to compare against
DEFAULT_SEVERITY = "P3"
DEFAULT_SIGNAL = "other"
# A month's name or its abbreviation in lower case ("nov", "november", "sept."), for patterns read
# over folded text or compiled with (?i); core/entities.py's capitalised one tells a name from a word.
MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"


def plural(n: int, noun: str) -> str:
    """`1 ticket`, `2 tickets`: the one way a count is written, in code and in templates."""
    return f"{n} {counted(n, noun)}"


def in_words(name: str) -> str:
    """A value's name as a reader sees it ("strong_negative" -> "strong negative"): signals, signal
    types and escalation signals are stored by name and shown in words."""
    return name.replace("_", " ")


def trend_in_words(trend: str) -> str:
    """A stored trend as a reader sees it. `steady` means the test found no clear rise or fall, yet
    read as "flat" to a PM where a theme went from 4.5 to 10 a week within its baseline weeks' noise;
    scripts read the stored name, so only what people read says "no clear change"."""
    return "no clear change" if trend == STEADY else trend


def counted(n: int, noun: str) -> str:
    """The noun as `n` of it is written (`plural`), for a count set apart from it: a report's figure."""
    return noun if n == 1 else noun + "s"


def capitalised(text: str) -> str:
    """`text` starting with a capital, the one way a label, a title or an area name starts; a first
    word already written with capitals ("iOS", "iPhone", "ATM") stays as customers write it."""
    first = text.split(maxsplit=1)[0] if text.strip() else ""
    return text if first != first.lower() else text[:1].upper() + text[1:]
