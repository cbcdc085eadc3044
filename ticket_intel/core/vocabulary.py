"""The words every stage shares: severity levels, signal types, and how a count is written."""

from __future__ import annotations

# Most severe first: P0 blocks customers outright, P4 is cosmetic.
SEVERITIES = ("P0", "P1", "P2", "P3", "P4")
SIGNAL_TYPES = ("bug", "feature_gap", "ux_friction", "docs_gap", "expectation_mismatch", "billing", "other")
DEFAULT_SEVERITY = "P3"
DEFAULT_SIGNAL = "other"


def plural(n: int, noun: str) -> str:
    """`1 ticket`, `2 tickets`: the one way a count is written, in code and in templates."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
