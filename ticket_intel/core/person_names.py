"""Find person names without a statistical NER model: a gazetteer, word frequencies and cues.

spaCy's English models are not installable from the package registry, so names are found from
three well-kept sources: Faker's first- and last-name lists (86 locales, ~31k given names and
~29k family names), wordfreq's English frequencies (a capitalised word that is common English
and not a name is an ordinary word: "Grace Period", "Star Date"), and context cues ("my name
is", "Regards,", "Mr", "... here"). A given name followed by a surname, or by a rare
capitalised word, is a name anywhere; anything weaker needs a cue.
"""

from __future__ import annotations

import calendar
import importlib
import pkgutil
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

# Words that are also given names or surnames but mean something else in support tickets.
DEFAULT_KEEP_WORDS = frozenset(
    {m.lower() for m in calendar.month_name[1:]}
    | {d.lower() for d in calendar.day_name}
    | {
        "visa", "mastercard", "maestro", "amex", "paypal", "apple", "google", "pay", "monzo",
        "revolut", "wise", "stripe", "venmo", "zelle", "chase", "barclays", "santander", "amazon",
        "prime", "netflix", "spotify", "uber", "lyft", "android", "iphone", "ipad", "windows",
        "excel", "word", "outlook", "teams", "chrome", "safari", "firefox", "edge", "swift",
        "jest", "react", "prisma", "next", "node", "docker", "linux", "mac", "card", "bank",
        "support", "team", "customer", "service", "help", "account", "dear", "sir", "madam",
        "thanks", "thank", "hello", "hi", "hey", "regards", "cheers", "best", "kind", "love",
        "christmas", "easter", "black", "friday", "cyber", "euro", "dollar", "pound",
    }
)  # fmt: skip
# Zipf frequency (log10 of uses per billion words) from which an English word is "common":
# 4 = ten per million words, where Van Heuven et al. (2014) put the start of high-frequency words.
COMMON_ZIPF = 4.0
MAX_NAME_WORDS = 4
PARTICLES = frozenset({"de", "da", "del", "della", "di", "do", "dos", "das", "du", "van", "von", "der", "den",
                       "ter", "te", "ten", "la", "le", "bin", "ibn", "al", "el", "y", "st"})  # fmt: skip

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_STRONG_CUE = re.compile(
    r"(?:\bmy name is|\bmy name's|\bname\s*:|\baccount holder(?: is|:)|\bcard ?holder(?: is|:)|\bsigned,?"
    r"|\b(?:mr|mrs|ms|miss|mx|dr|prof)\.?)\s*$",
    re.IGNORECASE,
)
_WEAK_CUE = re.compile(
    r"(?:\bthis is|\bi am|\bi'm|\bit's|\bregards,?|\bthanks,?|\bthank you,?|\bcheers,?|\bbest,?|\bsincerely,?"
    r"|\bhi,?|\bhello,?|\bdear|\bhey,?|\bspoke (?:to|with)|\btalked (?:to|with)|\bask(?:ed)?|\bcc:?)\s*$",
    re.IGNORECASE,
)
_TRAILING_CUE = re.compile(
    r",?\s+(?:here\b|speaking\b|from (?:your|the) (?:team|support|company|office)\b|said\b|told me\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Gazetteer:
    first: frozenset[str]
    last: frozenset[str]
    names: frozenset[str]  # first | last
    keep: frozenset[str]


def _provider_names(attrs: Iterable[str]) -> set[str]:
    import faker.providers.person as person

    names: set[str] = set()
    for info in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"{person.__name__}.{info.name}").Provider
        for attr in attrs:
            for cls in provider.__mro__:
                if attr in cls.__dict__:
                    value = cls.__dict__[attr]
                    if not isinstance(value, property):
                        names.update(value)
                    break
    return {n.casefold() for n in names if n and " " not in n}


@lru_cache(maxsize=8)
def gazetteer(keep_words: frozenset[str] = frozenset()) -> Gazetteer:
    """Faker's name lists for every locale, minus words that must survive redaction (including
    English stop words: "My" and "Will" are given names somewhere, but not in a ticket)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    keep = DEFAULT_KEEP_WORDS | set(STOP_WORDS) | {w.casefold() for w in keep_words}
    first = frozenset(_provider_names(("first_names", "first_names_male", "first_names_female",
                                       "first_names_nonbinary")) - keep)
    last = frozenset(_provider_names(("last_names", "last_names_male", "last_names_female")) - keep)
    return Gazetteer(first=first, last=last, names=first | last, keep=frozenset(keep))


@lru_cache(maxsize=200_000)
def is_common_word(folded: str) -> bool:
    from wordfreq import zipf_frequency

    return zipf_frequency(folded, "en") >= COMMON_ZIPF


def _capitalised(word: str) -> bool:
    return word[0].isupper() and (len(word) == 1 or not word.isupper())


def _run(text: str, words: list[tuple[int, int, str]], i: int, gaz: Gazetteer, lower: bool) -> list[int]:
    """Indexes of the name-shaped words starting at i: capitalised words one space apart, with
    lowercase particles (van, de) inside; `lower` accepts lowercase gazetteer words instead."""
    run = [i]
    k = i + 1
    while k < len(words) and len(run) < MAX_NAME_WORDS and text[words[k - 1][1]:words[k][0]] == " ":
        word = words[k][2]
        folded = word.casefold()
        if folded in gaz.keep:
            break
        if (lower and folded in gaz.names) or (not lower and _capitalised(word)):
            run.append(k)
        elif not lower and folded in PARTICLES and k + 1 < len(words) and _capitalised(words[k + 1][2]):
            k += 1
            continue
        else:
            break
        k += 1
    return run


def find_names(text: str, gaz: Gazetteer) -> list[tuple[int, int, str]]:
    """Spans (start, end, rule) of person names; rule is `gazetteer` or `cue`."""
    words = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)]
    spans: list[tuple[int, int, str]] = []
    i = 0
    while i < len(words):
        start, _, word = words[i]
        folded = word.casefold()
        capitalised = _capitalised(word)
        if folded in gaz.keep or not (capitalised or folded in gaz.names):  # before the cue search: most words
            i += 1
            continue
        cue = text[max(0, start - 40):start]
        strong = _STRONG_CUE.search(cue) is not None
        lower = strong and not capitalised
        if not (capitalised or lower):
            i += 1
            continue
        run = _run(text, words, i, gaz, lower)
        folds = [words[k][2].casefold() for k in run]
        # A rare capitalised word is name-shaped; a common English word that is no name is not.
        namey = [f in gaz.names or not is_common_word(f) for f in folds]
        prefix = 0  # the name ends at the last of its leading name-shaped words
        while prefix + 1 < len(run) and namey[prefix + 1]:
            prefix += 1
        # Two everyday words ("Star Date", "Will Power") are not a name without a cue.
        everyday = all(is_common_word(f) for f in folds[:prefix + 1])
        if prefix >= 1 and not everyday and (folds[0] in gaz.first or (namey[0] and folds[1] in gaz.last)):
            end_k, rule = prefix, "gazetteer"
        elif strong or (namey[0] and (_WEAK_CUE.search(cue) or _TRAILING_CUE.match(text, words[run[prefix]][1]))):
            end_k, rule = (prefix if namey[0] else 0), "cue"
        else:
            end_k = None
        if end_k is None:
            i += 1
            continue
        spans.append((start, words[run[end_k]][1], rule))
        i = run[end_k] + 1
    return spans
