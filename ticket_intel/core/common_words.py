"""How common an English word is: wordfreq's Zipf frequency (log10 of uses per billion words)."""

from __future__ import annotations

import re
from functools import lru_cache

# From this Zipf frequency an English word is common: 4 = ten per million words, where Van Heuven
# et al. (2014) put the start of high-frequency words.
COMMON_ZIPF = 4.0
_LETTERS = re.compile(r"[a-z]+")


@lru_cache(maxsize=200_000)
def zipf(word: str) -> float:
    """wordfreq's `zipf_frequency(word, "en")`. A word of the letters a-z alone is its own only token,
    so its frequency is read from the word list directly (equal for all 289,023 such words of the
    list): ten times faster than through wordfreq's tokenizer, and a window's summaries judge tens
    of thousands of words."""
    from wordfreq import freq_to_zipf, get_frequency_dict, zipf_frequency

    if not _LETTERS.fullmatch(word):
        return zipf_frequency(word, "en")
    freq = get_frequency_dict("en").get(word)
    if freq is None:
        return 0.0
    return round(freq_to_zipf(freq), 2)
