"""The planted ticket patterns, in plan order. Adding one is a module with a ``Pattern`` and an entry here.

The order matters for the build: each week's plan draws the patterns' counts in this order.
"""

from ..constants import AREAS
from .base import Pattern
from .deflected import DEFLECTED
from .enterprise import ENTERPRISE
from .new_pattern import NEW_PATTERN
from .spike import SPIKE

PATTERNS: tuple[Pattern, ...] = (SPIKE, NEW_PATTERN, DEFLECTED, ENTERPRISE)
PATTERN_OF = {pattern.intent: pattern for pattern in PATTERNS}
# Triage area of every intent in the sample: the base intents' and the patterns' own.
AREA_OF = {intent: area for area, intents in AREAS.items() for intent in intents} | {
    pattern.intent: pattern.area for pattern in PATTERNS
}
