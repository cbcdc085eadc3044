"""Per-theme summaries: the offline extractive summariser and the shared summary schema.

Both summarisers (this one and `llm.py`) fill `ThemeSummary`, so ranking and the report never
care which produced a summary. The extractive one labels a theme by its class-based TF-IDF
terms (what is frequent in this theme and rare in the others) turned into the phrase customers
actually use, picks representative tickets nearest the centroid, diverse phrasings by maximal
marginal relevance. Severity and signal type aggregate the theme's tickets: each ticket's own
(from `ticket_triage`, or from the same offline rules when none are given, see `core/triage.py`),
then the level a quarter of the tickets reach and the signal most of them show.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import regex
from pydantic import BaseModel, Field

from ticket_intel.core.common_words import COMMON_ZIPF, zipf
from ticket_intel.core.counts import customer_key, rows_by_key
from ticket_intel.core.meaning import meaning_text, product_words, profane_words, spelling_folds
from ticket_intel.core.review import ReviewState
from ticket_intel.core.triage import praises, signal_and_severity
from ticket_intel.core.triage_rules import ESCALATION_RULES, Escalation, clean, matched
from ticket_intel.core.vocabulary import SEVERITIES, SIGNAL_TYPES, capitalised, plural

# A theme takes the most severe level that at least this share of its tickets reach (its upper
# quartile): one angry ticket does not make a P0, but a quarter of customers blocked is a blocker.
SEVERITY_QUANTILE = 0.25
# The same share of tickets that put the business at risk raises the severity one level: a customer
# leaving, money back, a manager, a lawyer or a public campaign. Anger and waiting are urgency, not
# impact (GUIDE.md), and raise each ticket's urgency only. A raise never makes a theme P0: that is
# harm its tickets describe (fraud, loss, an outage), not a threat.
ESCALATION_SHARE = 0.25
RAISING_SIGNALS = ("churn", "legal_threat", "public_complaint", "refund_chargeback", "manager_request")
RAISE_CEILING = "P1"
RECENT_WEEKS = 4
T = TypeVar("T")
# A word fewer than one ticket in twenty uses does not describe a theme.
MIN_TERM_SHARE = 0.05
# A theme's words (its terms, label and product area) are read from at most this many of its
# tickets: a word at the term floor (MIN_TERM_SHARE) is then measured within one point, 19 times
# in 20 (1.96 * sqrt(0.05 * 0.95 / 2000) = 0.0096), and a window's words cost what its themes'
# samples do, not what its 800k tickets do. Counts, severity, signal and examples read every ticket.
WORD_SAMPLE = 2000
# The tickets nearest a theme's centre checked for being a statement (`a_statement`): its examples
# and typical quote come from them, a few of tens of thousands.
QUOTE_CANDIDATES = 50
# Words of meaning a ticket needs to stand as an example or the typical quote: fewer make a tag or a
# title's stub, not a statement ("[DevTools Bug]: ", an issue whose title was its template's tag).
QUOTE_MIN_WORDS = 3

# Words that say nothing about a product in any helpdesk: greetings, sign-offs, contact
# boilerplate and filler verbs, each verb in all its forms ("tell" and "told": a twcs theme read
# "Service · told", another "Driver · going"; "made" and "keep" are English stop words, "make" and
# "keeps" too), requests ("please help", "please fix this": two twcs themes read "Fix · letter"),
# reporting verbs ("said", "asked") and events ("An error occurred") among them.
# Added to the standard English stop words.
SUPPORT_STOP_WORDS = frozenset({
    "hello", "hi", "hey", "yo", "hiya", "dear", "good", "morning", "afternoon", "evening", "thanks", "thank",
    "cheers", "please", "pls", "plz", "thx", "regards", "kind", "reference", "regarding", "holder", "sure", "ok",
    "okay", "really", "actually", "asap", "guys", "team", "today", "yesterday", "currently", "recently", "way",
    "like", "just", "call", "email", "phone",
    "help", "helped", "helping", "helps", "fix", "fixed", "fixes", "fixing", "know", "knew", "known", "knows",
    "need", "needed", "needing", "needs", "want", "wanted", "wanting", "wants", "think", "thinking", "thinks",
    "thought", "tell", "telling", "tells", "told", "say", "said", "saying", "says", "ask", "asked", "asking",
    "asks", "wonder", "wondered", "wondering", "reach", "reached", "reaching", "contact", "contacted",
    "contacting", "did", "does", "doing", "got", "get", "gets", "getting", "having", "trying", "tried", "tries",
    "goes", "going", "gone", "went", "make", "makes", "making", "keeps", "keeping", "kept", "let", "lets",
    "letting", "happen", "happened", "happening", "happens", "occur", "occurred", "occurring", "occurs",
})
# A word: letters of any script, with inner apostrophes and hyphens ("don't", "top-up", "facturación";
# `[a-z]` alone cut "sesión" into "sesi" and "n").
_WORD = re.compile(r"[^\W\d_]+(?:['\-][^\W\d_]+)*")
# Scripts written without spaces: a run of them was one `_WORD` ("我的密码无法登录"), so a Chinese or
# Japanese theme had no term and stayed unlabelled (`_segmented` splits it into words).
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")
_KANA = regex.compile(r"[\p{Hiragana}\p{Katakana}]")
# A Japanese word in hiragana alone is mostly grammar (particles, endings: "ませ" of "できません"
# labelled a login theme); its nouns are written in kanji or katakana.
_HIRAGANA = regex.compile(r"\p{Hiragana}+")
_MEANING_WORD = re.compile(r"[^\W_]+")  # a word of meaning: warehouse/queries.py counts `[^\s[:punct:]]+`
_SENTENCE_BREAK = re.compile(r"[.!?;:,()\[\]\n\"“”]+")
_ENDS_SENTENCE = re.compile(r"[.!?。！？][\"'”’)\]»]*$")  # a cut-off quote's "…" ends none


class BacklogItem(BaseModel):
    title: str
    user_story: str
    severity: str
    deflection_per_week: float = Field(ge=0)


class ThemeSummary(BaseModel):
    label: str
    shared_issue: str
    phrasings: list[str]
    severity: str
    severity_rationale: str
    signal_type: str
    backlog: BacklogItem
    example_ticket_ids: list[str]
    terms: list[str] = []
    summarizer: str = "extractive"


@dataclass
class ThemeDocs:
    """What a summariser gets for one theme: the redacted tickets over the window that its figures
    count (`series_theme_id`, core/counts.py: where this run's clustering put them, not the tickets
    hysteresis keeps on show in it), and their vectors."""

    theme_id: str
    week: date
    ticket_ids: list[str]
    texts: list[str]
    ticket_weeks: list[date]
    vectors: np.ndarray
    terms: list[str] = field(default_factory=list)
    # Per-ticket signal types and severities from `ticket_triage`, when the caller has them;
    # otherwise computed from the texts by the same offline rules.
    signals: list[str] | None = None
    severities: list[str] | None = None
    # Per ticket, the escalation signals `ticket_triage` found (None: none known, all rules run).
    escalations: list[Sequence[str] | None] | None = None
    # The positions of the tickets whose words stand for the theme (`word_sample`); None: every ticket.
    word_rows: np.ndarray | None = None
    # Each ticket's `meaning_text` as redaction stored it (None where it did not: computed when read),
    # and `_theme_phrases` of the word rows' ones, kept from the terms' computation so labelling need
    # not redo it; computed when None.
    meanings: list[str | None] | None = None
    phrases: list[list[list[str]]] | None = None
    # The theme's product (its tickets' most common): the taxonomy's areas for it apply, and the words
    # of its name (`product_words`) are never evidence of its product area (a brand is not a part of
    # the product), and no term of its own.
    product: str = ""
    # Per ticket, who sent it (None: not known): another customer's wording is another customer's.
    customers: list[str] | None = None
    # The weeks its ranked card counts (`rank.ranking_weeks`: the week, or a small queue's last few);
    # empty: the week alone.
    weeks: list[date] = field(default_factory=list)
    # The languages of its tickets whose word lists apply (`_theme_languages`); empty: English alone.
    languages: frozenset[str] = frozenset()
    # The escalation signals' rules its tickets are read by (`triage_rules.load_escalation`: triage's).
    escalation: Escalation = field(default_factory=lambda: ESCALATION_RULES)

    @property
    def product_words(self) -> frozenset[str]:
        return frozenset(product_words(self.product))

    @property
    def card_weeks(self) -> list[date]:
        return self.weeks or [self.week]

    def of_words(self, per_ticket: Sequence) -> list:
        """The entries of a per-ticket sequence for the tickets whose words stand for the theme."""
        return list(per_ticket) if self.word_rows is None else [per_ticket[i] for i in self.word_rows]

    def meaning(self, row: int) -> str:
        """A ticket's text for meaning."""
        stored = None if self.meanings is None else self.meanings[row]
        return stored if isinstance(stored, str) else meaning_text(self.texts[row])

    def word_meanings(self) -> list[str]:
        """The texts for meaning of the tickets whose words stand for the theme."""
        return [self.meaning(i) for i in (range(len(self.texts)) if self.word_rows is None else self.word_rows)]


def senders(frame: pd.DataFrame) -> np.ndarray | None:
    """Per ticket of a frame, its customer (`customer_key`), or None when the frame names none."""
    if "customer" in frame:
        return frame["customer"].to_numpy()
    return customer_key(frame).to_numpy() if "customer_id" in frame else None


def said_again(frame: pd.DataFrame, who: np.ndarray | None) -> np.ndarray:
    """Per ticket of a clustered frame, whether its customer (`who`) sent the same message
    (`message_key`) to its theme before (in row order): one voice, whose words count once. A Next.js
    theme was named after the error one customer filed three times in 16 minutes ("Version number
    fetch")."""
    if who is None:
        return np.zeros(len(frame), dtype=bool)
    pairs = pd.DataFrame({"theme": frame["theme_id"].to_numpy(), "who": who})
    several = pairs.duplicated(keep=False).to_numpy()  # only a customer's second ticket in a theme can repeat
    text = frame["text"].to_numpy(dtype=object).copy()
    text[several] = [message_key(t) for t in text[several]]
    return pairs.assign(text=text).duplicated().to_numpy()


def word_sample(ticket_ids: Sequence[str], limit: int) -> np.ndarray:
    """Positions, in order, of the tickets whose words stand for a theme: all of them, or the `limit`
    whose ids hash lowest, so that a theme reads the same tickets week after week while it keeps them."""
    if len(ticket_ids) <= limit:
        return np.arange(len(ticket_ids))
    keys = pd.util.hash_array(np.asarray(ticket_ids, dtype=object))
    return np.sort(np.argpartition(keys, limit)[:limit])


# A backlog item as a product manager writes one: what is wrong in the customers' words, the
# outcome wanted, and when it is done. Per signal type: (tag, the work, the outcome the customer
# wants, why it matters to them).
_BACKLOG = {
    "bug": ("Bug", "find and fix the cause", "problems with the {topic} fixed", "I do not have to ask support"),
    # Account & billing: what a customer pays, and the account itself (a card stolen, a login locked).
    # Its topics are nouns, verbs and adjectives ("direct debit", "change PIN", "stolen"), which no
    # object slot fits: the story says "this", after the customer's words; the title names the topic.
    "billing": ("Billing", "make it self-serve and say what happens", "to sort this out myself",
                "I know where my money and my account stand"),
    "feature_gap": ("Feature", "decide whether to support it", "the product to handle {topic}",
                    "I can do it without a workaround"),
    "ux_friction": ("UX", "remove the steps that confuse", "an obvious way through {topic}", "I do not get stuck"),
    "docs_gap": ("Docs", "publish a step-by-step answer", "to find out about {topic} in the help center",
                 "I can solve it myself"),
    "expectation_mismatch": ("Expectations", "say up front what to expect", "to know in advance what happens with "
                             "{topic}", "nothing surprises me"),
    "other": ("Investigate", "find out what customers need", "{topic} handled without contacting support",
              "I get what I came for"),
}


# The nouns that name a failure: a bug theme whose topic ends in one is the failure itself
# ("compiler crash", "build error"), which a customer wants fixed, not "problems with" it. A topic is
# a bare noun ("order", "parameter pack"): "problems with the order" reads where "I want order to
# work" did not.
_FAILURE_NOUN = re.compile(r"\b(?:crash|error|failure|bug|exception|panic|freeze|hang|outage|leak|regression|"
                           r"problem|issue|segfault)(?:e?s)?$")


def backlog_item(signal: str, topic: str, quote: str, tickets: int, rate: float, severity: str,
                 deflection: float) -> BacklogItem:
    """The theme as a backlog item: title, a user story grounded in a customer's words, and a measurable
    done-when (the weekly rate halved, at least to the level a theme stops being one)."""
    _, _, goal, benefit = _BACKLOG[signal]
    if signal == "bug" and _FAILURE_NOUN.search(topic.lower()):
        goal = "the {topic} fixed"
    target = max(1, int(rate // 2))
    who = f"As a customer who wrote \u201c{quote}\u201d," if quote.strip() else "As a customer,"
    story = (f"{who} I want {goal.format(topic=topic)} so that {benefit}. "
             f"Evidence: {plural(tickets, 'ticket')} in the window, {rate:.1f}/week lately. "
             f"Done when this theme falls to {target}/week or fewer.")
    return BacklogItem(title=backlog_title(signal, topic), user_story=story, severity=severity,
                       deflection_per_week=deflection)


def backlog_title(signal: str, topic: str) -> str:
    """A backlog item's title: "[Bug] Card payment declined: find and fix the cause". A reviewer's
    name for the theme is its topic too (the tracker's issue kept the extractive one)."""
    tag, work, _, _ = _BACKLOG[signal]
    return f"[{tag}] {capitalised(topic)}: {work}"


def _normalise(text: str) -> str:
    """Composed accents (a decomposed "é" is two characters, and `_WORD` stops at the second) and
    straight apostrophes."""
    return unicodedata.normalize("NFC", text).replace("\u2019", "'").replace("\u2018", "'")


@lru_cache(maxsize=64)
def _stop_words(languages: frozenset[str] = frozenset()) -> frozenset[str]:
    """English's stop words and the support ones, and spaCy's stop words of each other language in
    `languages` (a multilingual model's themes: a Spanish login theme read "Iniciar sesi · la", a German
    one "Meine berweisung · nicht"). Only the theme's own languages: a union of all would drop English
    words that are another language's stop words ("die", "final", "local")."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    words = frozenset(ENGLISH_STOP_WORDS) | SUPPORT_STOP_WORDS
    return words.union(*(_language_stop_words(code) for code in sorted(languages)))


def _language_stop_words(code: str) -> frozenset[str]:
    """spaCy's stop words of an ISO 639 language (shipped in spaCy's package, no model needed); none
    for English (sklearn's are used), `und` or a language spaCy has no list for. The list's file is
    read on its own (it imports nothing): importing it as `spacy.lang.xx.stop_words` imports spaCy
    and the language's package first, 2.1 s of a summaries run that does not redact."""
    if code == "en" or not re.fullmatch(r"[a-z]{2,3}", code):
        return frozenset()
    found = importlib.util.find_spec("spacy")  # finds the package without importing it
    if found is None or found.origin is None:
        return frozenset()
    path = Path(found.origin).parent / "lang" / code / "stop_words.py"
    if not path.is_file():
        return frozenset()
    spec = importlib.util.spec_from_file_location(f"{__name__}._stop_words_{code}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return frozenset(_normalise(w).lower() for w in module.STOP_WORDS)


def _common_in(word: str, languages: frozenset[str]) -> bool:
    """Whether `word` is common (`COMMON_ZIPF`) in one of `languages` other than English, by wordfreq."""
    from wordfreq import zipf_frequency

    return any(zipf_frequency(word, code) >= COMMON_ZIPF for code in (languages - {"en"}) & _wordfreq_languages())


@lru_cache(maxsize=1)
def _wordfreq_languages() -> frozenset[str]:
    from wordfreq import available_languages

    return frozenset(available_languages())


def _theme_languages(languages: Sequence[object]) -> frozenset[str]:
    """The languages of a theme's tickets whose stop words apply to it: each with at least
    `MIN_TERM_SHARE` of them, the share a term needs. A language's stop words could reach that share
    from its own tickets only, and one misdetected English ticket must not drop "die" or "final"
    from an English theme's words."""
    counts = Counter(code for code in languages if isinstance(code, str))
    return frozenset(c for c, n in counts.items() if n >= max(1.0, MIN_TERM_SHARE * len(languages)))


_NEGATION = re.compile(r"\b(\w+n't|not|no|never|without)\b")
# A preposition ends a phrase: "fee on my cash withdrawal" holds "fee" and "cash withdrawal",
# never "fee cash".
_PREPOSITION = re.compile(
    r"\b(about|above|across|after|against|along|among|around|at|before|behind|below|beside|between|beyond|by|"
    r"during|for|from|in|inside|into|near|of|off|on|onto|out|outside|over|since|through|till|to|toward|towards|"
    r"under|until|upon|via|with|within)\b"
)


# A question's frame: "how long", "how much", "how many" ask for a duration, an amount or a count;
# their second word says what form the question takes, not what it is about (banking questions "How
# long until my friend receives my transaction?" made a theme "Long · transaction").
_QUESTION_FRAME = re.compile(r"\bhow (?:long|much|many|often|soon|far)\b")
# What ends a phrase besides punctuation, in one pass: each is a whole word (or two) whose ends are
# word boundaries, so none can start or end inside another, and one pass splits as three would.
_PHRASE_BREAK = re.compile("|".join(p.pattern for p in (_QUESTION_FRAME, _NEGATION, _PREPOSITION)))


def _words(text: str) -> list[str]:
    """The `_WORD`s of a text, a run of Chinese or Japanese split into its words (an ASCII text, a
    flag Python keeps, holds none: searching it cost a fifth of the time of splitting a window into words)."""
    words = _WORD.findall(text)
    if text.isascii() or not _UNSPACED.search(text):
        return words
    return [w for run in words for w in (_segmented(run) if _UNSPACED.search(run) else (run,))]


@lru_cache(maxsize=2**14)
def _segmented(run: str) -> tuple[str, ...]:
    """A run of letters with Chinese or Japanese in it, as words: wordfreq's tokenizer, with jieba's or
    MeCab's dictionary (kana say Japanese), each shipped in its package (`wordfreq[cjk]`)."""
    from wordfreq import chinese, tokenize  # noqa: F401 (chinese imports jieba, whose logger this quiets)

    logging.getLogger("jieba").setLevel(logging.WARNING)  # its dictionary's loading is no news on stderr
    return tuple(w for w in tokenize(run, "ja" if _KANA.search(run) else "zh")
                 if _WORD.fullmatch(w) and not _HIRAGANA.fullmatch(w))


def _meanings(texts: Sequence[str], meanings: Sequence[str] | None = None) -> Sequence[str]:
    """The texts for meaning: `meanings` when the caller has them (redaction stores each ticket's),
    else `meaning_text` of each text."""
    return [meaning_text(t) for t in texts] if meanings is None else meanings


@lru_cache(maxsize=2**15)
def _sentences(meaning: str) -> tuple[tuple[str, ...], ...]:
    """Words per phrase of a text for meaning (`meaning_text`: no handles, links, placeholders or
    sign-offs), stop words included, question frames not (`_QUESTION_FRAME`). Punctuation, negations
    and prepositions split phrases (so
    "payment didn't work" never yields "payment work"); `card's` counts as `card`, and other
    contractions (I'm, we've) carry no topic. Cached: the summaries read each ticket of a window
    again for every week that window covers."""
    text = _PHRASE_BREAK.sub(" . ", _normalise(meaning).lower())
    words_of = ([w.removesuffix("'s") for w in _words(part) if len(w) > 1] for part in _SENTENCE_BREAK.split(text))
    return tuple(tuple(w for w in words if "'" not in w) for words in words_of)


@lru_cache(maxsize=1)
def _phrases_key() -> str:
    """What made a stored phrase split (`stored_phrases`): the splitting's code, its patterns and
    wordfreq's version (its tokenizer splits Chinese and Japanese), so a split other code stored is
    made again rather than read."""
    from importlib.metadata import version

    code = [inspect.getsource(f) for f in (_normalise, _words, _segmented, _sentences)]
    patterns = [p.pattern for p in (_WORD, _UNSPACED, _KANA, _HIRAGANA, _PHRASE_BREAK, _SENTENCE_BREAK)]
    return hashlib.sha256("\0".join([*code, *patterns, version("wordfreq")]).encode()).hexdigest()[:12]


def stored_phrases(meaning: str) -> str:
    """A text for meaning's `_sentences` as staging.redacted_tickets keeps them (`meaning_phrases`),
    made once when the ticket arrives: a summarized window split each of its 81,000 tickets again
    every week (2.4 s of a 100k warehouse's weekly run; reading them back 0.2 s). The key of what
    split it, then a line per phrase, its words spaced (a word holds no space)."""
    return "\n".join([_phrases_key(), *(" ".join(phrase) for phrase in _sentences(meaning))])


def _read_phrases(stored: object, meaning: str) -> tuple[tuple[str, ...], ...]:
    """`_sentences(meaning)`, read from the ticket's `stored_phrases` when this code made them."""
    if isinstance(stored, str):
        key, _, lines = stored.partition("\n")
        if key == _phrases_key():
            return tuple(tuple(line.split()) for line in lines.split("\n"))
    return _sentences(meaning)


def _theme_phrases(meanings: Sequence[str], languages: frozenset[str] = frozenset(),
                   escalation: Escalation = ESCALATION_RULES) -> list[list[list[str]]]:
    """`_sentences` of each of one theme's texts for meaning, as `_content_phrases` keeps them."""
    return _content_phrases([_sentences(t) for t in meanings], languages, escalation)


def _content_phrases(phrases: Sequence[tuple[tuple[str, ...], ...]], languages: frozenset[str] = frozenset(),
                     escalation: Escalation = ESCALATION_RULES) -> list[list[list[str]]]:
    """One theme's `_sentences` (stop words too: "neeed" misspells "need"), misspellings folded into
    the correctly spelled word the theme also uses ("chcek" -> "check"), so no term or label shows
    the misspelling, and without stop words (of English and the theme's other `languages`),
    profanity or words of strong feeling (`_tone`, by the `escalation` rules). A word common in one
    of those languages is no misspelling of an English one ("problema", "servicio" are not
    "problem", "service")."""
    counts = Counter(w for doc in phrases for phrase in doc for w in phrase)
    folds = {w: to for w, to in spelling_folds(counts).items() if not _common_in(w, languages)}
    words = {folds.get(w, w) for w in counts}
    strong = escalation["strong_negative"]
    drop = _stop_words(languages) | profane_words(words) | {w for w in words if _tone(w, strong)}
    kept = {w: folded for w in counts if (folded := folds.get(w, w)) not in drop}
    return [[[kept[w] for w in phrase if w in kept] for phrase in doc] for doc in phrases]


@lru_cache(maxsize=2**16)
def _tone(word: str, strong_negative: re.Pattern[str]) -> bool:
    """A word of strong feeling on its own ("worst", "wtf", "useless": triage's strong_negative
    rule): it says how customers feel, not what a theme is about (a twcs theme read "Wtf · sending")."""
    return strong_negative.fullmatch(word) is not None


def same_stem(a: str, b: str) -> bool:
    """rate/rates, verify/verification, charge/charged: one is not news next to the other."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return long_.startswith(short) or (len(short) >= 5 and long_[:5] == short[:5])


def class_tfidf_terms(docs_by_theme: Mapping[str, Sequence[str]], top_n: int = 8) -> dict[str, list[str]]:
    """Class-based TF-IDF (as in BERTopic): terms frequent in a theme and rare across themes.

    A term must occur in at least `MIN_TERM_SHARE` of the theme's tickets (and two of them), so
    one customer repeating a name or a typo never labels a theme; a term overlapping one already
    chosen (same words, or a variant of a word) is skipped, so the list says different things.
    """
    return _tfidf_terms({t: _theme_phrases(_meanings(texts)) for t, texts in docs_by_theme.items()}, top_n)


def _tfidf_terms(phrases_by_theme: Mapping[str, list[list[list[str]]]], top_n: int = 8,
                 unsaid: Mapping[str, Set[str]] | None = None, held: Mapping[str, Sequence[Set[str]]] | None = None
                 ) -> dict[str, list[str]]:
    """`class_tfidf_terms` from each theme's `_theme_phrases` (one entry per ticket); a word in a
    theme's `unsaid` is no term of its own (it may still be part of a two-word term). With `held` (per
    theme, the words of each ticket its card counts) a term must also be in one of those: the label
    names what the counted tickets say, not only what the theme's earlier weeks said."""
    from scipy import sparse

    theme_ids = list(phrases_by_theme)

    def grams(phrases: list[list[str]]) -> list[str]:
        out = []
        for words in phrases:
            out += words
            out += [f"{a} {b}" for a, b in pairwise(words) if not same_stem(a, b)]
        return out

    docs = [grams(doc) for t in theme_ids for doc in phrases_by_theme[t]]
    owner = np.repeat(np.arange(len(theme_ids)), [len(phrases_by_theme[t]) for t in theme_ids])
    if not any(docs):
        return {t: [] for t in theme_ids}
    per_doc, vocab = _gram_counts(docs)
    membership = sparse.csr_matrix((np.ones(len(docs)), (owner, np.arange(len(docs)))),
                                   shape=(len(theme_ids), len(docs)))
    counts = (membership @ per_doc).tocsr().astype(float)
    doc_freq = (membership @ (per_doc > 0).astype(float)).tocsr()
    totals = np.asarray(counts.sum(axis=1)).ravel()
    idf = np.log(1 + (counts.sum() / len(theme_ids)) / np.maximum(np.asarray(counts.sum(axis=0)).ravel(), 1))
    out = {}
    for i, theme in enumerate(theme_ids):
        # Only a term in enough of the theme's tickets can be chosen, so only those are scored (a
        # dense themes x vocabulary matrix cost most of the summaries of a 100k-ticket window).
        floor = max(2.0, MIN_TERM_SHARE * len(phrases_by_theme[theme]))
        row = doc_freq.getrow(i)
        columns = row.indices[row.data >= floor]
        scores = counts[i, columns].toarray().ravel() / max(totals[i], 1) * idf[columns]
        terms: list[str] = []
        for j in columns[np.lexsort((columns, -scores))]:
            if len(terms) == top_n:
                break
            words = vocab[j].split()
            if vocab[j] in (unsaid or {}).get(theme, ()) or any(
                    same_stem(w, c) for w in words for chosen in terms for c in chosen.split()):
                continue
            if held is not None and held.get(theme) and not any(_holds(t, vocab[j]) for t in held[theme]):
                continue
            terms.append(vocab[j])
        out[theme] = terms
    return out


def _gram_counts(docs: Sequence[Sequence[str]]) -> tuple[Any, np.ndarray]:
    """(docs x grams count matrix, the grams in sorted order): scikit-learn's `CountVectorizer` of
    already split docs, its vocabulary numbered by pandas' hash table in C rather than a Python dict
    (0.87 -> 0.41-0.50 s over 80,000 tickets' grams, the same matrix and vocabulary)."""
    from scipy import sparse

    flat = np.fromiter((g for doc in docs for g in doc), dtype=object, count=sum(map(len, docs)))
    codes, vocab = pd.factorize(flat, sort=True)
    rows = np.repeat(np.arange(len(docs)), [len(doc) for doc in docs])
    return sparse.csr_matrix((np.ones(len(flat)), (rows, codes)), shape=(len(docs), len(vocab))), vocab


# A capital no sentence or title starts: after a letter (iOS, iPhone, FancyZones, TypeError, ATM) or
# starting a part in capitals after a hyphen (Objective-C, non-ASCII); not title case after a hyphen
# ("Toys-Color").
_INNER_CAPITAL = re.compile(r"[A-Za-z][A-Z]|-[A-Z](?![a-z])")
_CAPITALS_WORD = re.compile(r"[A-Z][A-Z'\-]*[A-Z]")  # in any word all in capitals: a text without it shouts nothing


# Languages that write every noun with a capital: there a capital first letter is the word's own,
# even where a sentence starts.
NOUNS_CAPITALISED = frozenset({"de", "lb"})
# Where a part of a text ends: a sentence, a heading ("Crash:"), a tag ("[DevTools Bug]"), a line, a dash.
_PART_END = re.compile(r"((?<=[.!?:;])\s+|\]|\n+|\s[-–—]+\s)")
_TITLE_WORD = 4  # letters a word needs to tell a title's style ("on", "the" are lower case in one)


def _written(texts: Iterable[str], nouns: bool = False) -> Counter[str]:
    """Per form of a word (`_as_meant`), how many of the normalised texts write it: a form counts
    once a text, as a term does, so one crash log naming `llvm::` a dozen times does not outvote
    the tickets that write "LLVM"."""
    written: Counter[str] = Counter()
    for text in texts:
        written.update(set(_as_meant(text, nouns)))
    return written


def _as_meant(text: str, nouns: bool) -> list[str]:
    """A text's words with the capitals its writer did not mean for the word in lower case: shouted
    words (`_unshouted`) and, but for `nouns`, a capital first letter that starts a part (a sentence),
    or is a heading's or a tag's ("Compiler Crash: …", "[DevTools Bug]: …") or a title's ("Compiler
    Crash When Building On Linux"); iOS, ATM and a name inside a sentence keep theirs."""
    pieces = _PART_END.split(text)
    parts = [(_words(part), part.endswith(":") or end == "]") for part, end in
             zip(pieces[::2], [*pieces[1::2], ""], strict=True)]
    long = [w for words, _ in parts for w in words[1:] if len(w) >= _TITLE_WORD and w.isalpha()]
    title = len(long) >= 3 and 4 * sum(map(_first_capital, long)) >= 3 * len(long)  # names are fewer
    words = []
    for part, heading in parts:
        words += [w.lower() if _first_capital(w) and not nouns and (title or heading or i == 0) else w
                  for i, w in enumerate(part)]
    return _unshouted(words) if _CAPITALS_WORD.search(text) else words


def _first_capital(word: str) -> bool:
    """A capital first letter and no other ("Linux", not "iOS", "ATM" or "Objective-C")."""
    return word[:1].isupper() and word[1:] == word[1:].lower()


def _surface_form(low: str, written: Counter[str]) -> str | None:
    """The form of the lower-case word `low` its writings in `written` take (see `SurfaceForms`);
    None when it is not written there."""
    forms = {word: k for word, k in written.items() if word.lower() == low}
    if not forms:
        return None
    n = sum(forms.values())
    if len(low) > 1 and _capitals_hold(low.upper(), forms.get(low.upper(), 0), n):
        return low.upper()
    capitals = {word: k for word, k in forms.items()  # Xcode, XCode, iOS
                if word != low.upper() and (_first_capital(word) or _INNER_CAPITAL.search(word))}
    if capitals and _capitals_hold(form := max(capitals, key=capitals.__getitem__), sum(capitals.values()), n):
        return form
    return low


def _capitals_hold(form: str, k: int, n: int) -> bool:
    """Whether a form with capitals no sentence starts, written in `k` of the `n` writings of its word,
    is the word's. Half of them will do: a writer means such capitals, where lower case is also any
    hurried writer's (Swift's "Lldb · fails" held "lldb crash" and "LLDB test", one each). A common
    English word all in capitals needs most of them: stress or a tool's output writes it so ("FAIL:
    …", "TEST '…' FAILED" made Swift themes "Debug · FAIL" and "TEST · update-checkout"), and so does
    a capital first letter alone, from two tickets at least: a tweet capitalises words at whim, and
    twcs' "Console · Game" rested on one "Game DVR" against one "game"."""
    if _first_capital(form):
        return k > n / 2 and k >= 2
    stressed = form.isupper() and zipf(form.lower()) >= COMMON_ZIPF
    return k > n / 2 or (k == n / 2 and not stressed)


class SurfaceForms:
    """Acronyms and names as customers write them (in the texts for meaning): ATM, PIN, UK and ATMs
    keep their capitals in a label, and so do iOS, iPhone, FancyZones and TypeError, capitals inside
    a word ("Ios · iphone" labelled a twcs theme) or a part in capitals after a hyphen (Swift's
    "Objective-c · protocol"). A capitalised word next to another is shouted, not an acronym ("FIX
    THIS GLITCH" made a twcs theme "App · FIX"): it counts as lower case. Such capitals need half
    the texts that write the word (`_capitals_hold`), and so does a capital first letter where no
    sentence or title starts: Linux, Xcode and Windows are names in Swift's issues ("linux" stood in
    22 of its ranked labels), while "Crash" is a writer's emphasis in 22 % of them. In a language
    that capitalises its nouns (`NOUNS_CAPITALISED`) a sentence's first capital is the noun's too
    ("Bitte bestätigen kündigung" named a German theme).

    A label asks for a few words' forms, so each is read only from the texts that hold it (every
    text for a word that is not ASCII, and every text with Chinese or Japanese, whose words the
    segmenter may rewrite), not from every word of every text."""

    def __init__(self, meanings: Sequence[str], languages: frozenset[str] = frozenset()) -> None:
        self._texts = [_normalise(t) for t in meanings]
        self._lowered = [t.lower() for t in self._texts]
        # the texts with Chinese or Japanese, read for every word (ASCII ones are found at once)
        self._unspaced = [not t.isascii() and _UNSPACED.search(t) is not None for t in self._texts]
        self._nouns = bool(languages & NOUNS_CAPITALISED)
        self._known: dict[str, str | None] = {}

    def get(self, low: str, default: str) -> str:
        """The form of the lower-case word `low`; `default` when no text writes it."""
        if low not in self._known:
            texts = self._texts if not low.isascii() else [
                t for t, lowered, unspaced in zip(self._texts, self._lowered, self._unspaced, strict=True)
                if unspaced or low in lowered]
            self._known[low] = _surface_form(low, _written(texts, self._nouns))
        found = self._known[low]
        return default if found is None else found


def _loud(words: Sequence[str]) -> list[bool]:
    """Per word, whether it is shouted: capitalised next to another capitalised word ("FIX THIS"),
    where an acronym stands among lower-case words ("my PIN")."""
    caps = [len(w) > 1 and w.isupper() for w in words]
    return [c and ((i > 0 and caps[i - 1]) or (i + 1 < len(caps) and caps[i + 1])) for i, c in enumerate(caps)]


def _unshouted(words: list[str]) -> list[str]:
    """`words` with the shouted ones in lower case."""
    return [w.lower() if loud else w for w, loud in zip(words, _loud(words), strict=True)]


def shouted(text: str) -> bool:
    """Mostly shouted (three words or more): quoted as a theme's typical wording in the report and
    in its backlog item it reads as the shouting, not the issue ("STOP PLAYING AND FIX Y'ALL
    PHONES" stood for a twcs theme)."""
    words = [w for w in _WORD.findall(_normalise(text)) if len(w) > 1]
    loud = sum(_loud(words))
    return loud >= 3 and 2 * loud > len(words)


def head_phrase(terms: Sequence[str], texts: Sequence[str], phrases: list[list[list[str]]] | None = None,
                forms: SurfaceForms | None = None) -> str:
    """The theme's top term as customers phrase it: "payment declined", "cash withdrawal".

    Among runs of two or three consecutive content words that contain the top term, take the
    one most tickets use (the longer one on a tie); keep the top term alone when fewer than a
    tenth of the tickets use any such phrase. `phrases` (`_theme_phrases` of the texts) and `forms`
    (`SurfaceForms`), when the caller has them, spare computing them again.
    """
    if not terms:
        return ""
    top = set(terms[0].split())
    df: Counter[tuple[str, ...]] = Counter()
    docs = phrases if phrases is not None else _theme_phrases(_meanings(texts))
    for doc in docs if len(top) < 3 else ():  # a phrase must be longer than the term, and three words at most
        seen = set()
        for words in doc:
            if top.isdisjoint(words):  # no run of it holds the term: most phrases
                continue
            for n in (2, 3):
                for i in range(len(words) - n + 1):
                    gram = tuple(words[i:i + n])
                    if len(set(gram)) == n and top <= set(gram) and len(top) < n:
                        seen.add(gram)
        df.update(seen)
    best = max(df, key=lambda g: (df[g], len(g), g), default=None)
    words = list(best) if best is not None and df[best] >= max(2, 0.1 * len(texts)) else terms[0].split()
    forms = SurfaceForms(_meanings(texts)) if forms is None else forms
    return " ".join(forms.get(w, w) for w in words)


LABEL_SEPARATOR = " \u00b7 "  # between a label's head phrase and its next term: "Payment declined · card"

# A clause ends at punctuation or a conjunction: "my card doesn't arrive and the top-up worked" does
# not negate "worked".
_CLAUSE_BREAK = re.compile(r"[.!?;:,()\[\]\n\"“”]+|\b(?:and|but|or|so|because|though|although)\b")
_NOT = re.compile(r"\w+n't|not|no|never")  # "without" too splits phrases, but "Mouse Without Borders" is a name
_AUXILIARY = frozenset({"do", "does", "did", "is", "are", "was", "were", "am", "has", "have", "had", "can", "could",
                        "will", "would", "should", "may", "might", "must"})
_BETWEEN = frozenset({"be", "been", "even", "yet", "always", "ever", "really", "properly", "fully"})
NEGATED_REACH = 4  # words after a negation it still negates: "why doesn't the card payment work"


def _written_negation(before: Sequence[str], word: str) -> str | None:
    """The negation written next to `word` ("didn't work", "does not work", "not working", "hasn't
    been working"), given the words before it in its clause; None when it is not next to it."""
    at = len(before) - (1 if before and _NOT.fullmatch(before[-1]) else
                        2 if len(before) > 1 and before[-1] in _BETWEEN and _NOT.fullmatch(before[-2]) else 0)
    if at == len(before):
        return None
    if before[at] != "not" or word.endswith(("ing", "ed")):
        return " ".join([*before[at:], word])  # "didn't work", "no signal", "not working", "not allowed"
    if at > 0 and before[at - 1] in _AUXILIARY:
        return " ".join([*before[at - 1:], word])  # "did not work"
    return None  # "not transfer" ("why can I not transfer") reads wrong without its auxiliary


def _inflected(word: str) -> str:
    """A word without its inflection: work, works, worked, working -> work; recognize(d) -> recogniz;
    "receiver" stays itself (another word than "receive")."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word.removesuffix(suffix).removesuffix("e")
    return word.removesuffix("e")


@lru_cache(maxsize=2**15)
def _clauses(meaning: str) -> tuple[tuple[str, ...], ...]:
    """The words of each clause of a text for meaning, in lower case (cached as `_sentences`)."""
    return tuple(tuple(_words(c)) for c in _CLAUSE_BREAK.split(_normalise(meaning).lower()))


def _may_hold(meaning: str, base: str) -> bool:
    """Whether a word of the text's clauses (`_clauses`) may be an inflection of `base`: such a word
    starts with it (`_inflected` only cuts an ending), so the normalised text holds it, unless the
    segmenter rewrote a run of Chinese or Japanese."""
    return base in _normalise(meaning).lower() or (not meaning.isascii() and _UNSPACED.search(meaning) is not None)


def negated_form(meanings: Sequence[str], term: str) -> str | None:
    """The one-word `term` as the theme's customers negate it ("didn't work", "isn't working", "no
    signal") when most of the tickets that use it (or an inflection, `_inflected`) negate it: what fails,
    where the word alone says the opposite ("Card payment · work" named tickets saying "my card
    payment didn't work"). None when they do not, or fewer than two write it next to it."""
    using, negating, spans, base = 0, 0, Counter(), _inflected(term)
    for meaning in meanings:
        if not _may_hold(meaning, base):  # nothing to count, and most tickets are so
            continue
        found, negates, written = False, False, set()
        for words in _clauses(meaning):
            for i, word in enumerate(words):
                if not word.startswith(base[:3]) or _inflected(word) != base:  # a prefix first: cheap
                    continue
                before = words[max(0, i - NEGATED_REACH):i]
                found, negates = True, negates or any(_NOT.fullmatch(w) for w in before)
                written.add(_written_negation(before, word))
        using, negating = using + found, negating + negates
        spans.update(written - {None})
    best = max(spans, key=lambda span: (spans[span], span), default=None)
    return best if best is not None and spans[best] >= 2 and 2 * negating > using else None  # as terms: 2 tickets


def label_parts(terms: Sequence[str], texts: Sequence[str], head: str | None = None,
                forms: SurfaceForms | None = None, meanings: Sequence[str] | None = None
                ) -> tuple[str, str]:
    """What a theme is about and what more its label says: the head phrase and the next distinct term,
    a word its customers mostly negate written as they negate it (`negated_form`: "Card payment ·
    didn't work"). A head of one negated word says what fails, so it goes second ("Working ·
    contactless" -> "Contactless · isn't working"). The head phrase, the `SurfaceForms` and the
    texts for meaning are computed unless given; ("", "") without terms."""
    if not terms:
        return "", ""
    head = head_phrase(terms, texts) if head is None else head
    used = head.lower().split()
    rest = [t for t in terms[1:] if not any(same_stem(w, u) for w in t.split() for u in used)]
    if not rest or len(used) >= 3:
        return head, ""
    meanings = _meanings(texts, meanings)
    forms = SurfaceForms(meanings) if forms is None else forms
    second = (" " not in rest[0] and negated_form(meanings, rest[0])) or rest[0]
    failing = len(used) == 1 and second == rest[0] and negated_form(meanings, used[0])
    head, second = (second, failing) if failing else (head, second)
    return " ".join(forms.get(w, w) for w in head.split()), " ".join(forms.get(w, w) for w in second.split())


def label_from_terms(terms: Sequence[str], texts: Sequence[str], head: str | None = None,
                     forms: SurfaceForms | None = None) -> str:
    """`Payment declined · card`: the `label_parts` joined."""
    return joined_label(*label_parts(terms, texts, head, forms))


def joined_label(head: str, second: str) -> str:
    return capitalised(head + (LABEL_SEPARATOR + second if second else "")) if head else "Unlabelled theme"


# A label names a theme by its leading terms: the head phrase and the next term are at most three.
LEAD_TERMS = 3
# A theme whose leading terms are in fewer than about a third of its tickets is loose: its label names
# a minority of them (the bundled sample's themes: 0.89 on average; twcs 0.60; docs/report.md).
LOOSE_SHARE = 0.35


def kept_label(earlier: str | None, label: str, tickets: Sequence[Set[str]]) -> str:
    """The theme's earlier label while it describes (`label_share`) some of the tickets its card
    counts (`tickets`: their words) and about as many of them as `label`, today's, would (`_as_many`),
    saying as much (as many parts: "Flight" holds wherever "Flight · stuck" does, and says less);
    else `label`. Terms trade places and near-tied words take turns from week to week, so labels did
    ("Compiler · crash", then "Crash · compiler"; "Raw ops · check", "Raw ops · core", "Raw ops ·
    large"), and a theme renamed every week cannot be followed from one report to the next; a label
    that describes clearly fewer of this week's tickets than today's would, or none, has become the
    wrong name."""
    words, today = _named(earlier or ""), _named(label)
    renegated = _same_words(words, today) and _negates(earlier or "") != _negates(label)
    if not earlier or renegated:
        return label  # the same name as today negates it ("Top-up · worked" -> "… didn't work")
    kept = label_share(earlier, tickets)
    same = sorted(words) == sorted(today)  # the same name, its terms perhaps trading places
    says_as_much = earlier.count(LABEL_SEPARATOR) >= label.count(LABEL_SEPARATOR)  # fewer parts hold more easily
    holds = kept > 0 and _as_many(kept, label_share(label, tickets), len(tickets)) and says_as_much
    return _recased(earlier, label) if same or holds else label


def _as_many(kept: float, fresh: float, n: int) -> bool:
    """Whether a kept label's share of a card's `n` tickets is no less than a fresh label's `fresh`
    within its standard error (sqrt(p(1 - p) / n)): closer, n tickets cannot tell the two apart. Swift's
    labels changed in 36 % of a theme's consecutive ranked weeks, 65 of 316 times for one ticket
    more ("Code · build", 3 of 15 tickets, then "Code · crash", 4)."""
    return kept >= fresh - math.sqrt(fresh * (1 - fresh) / max(n, 1))


def label_share(label: str, tickets: Sequence[Set[str]]) -> float:
    """How much of `tickets` (each one's words as terms count them) a label describes: the share
    holding its least held part, every word the part names (`_named`; a stop word, which terms never
    count, is no evidence either way). A label is as true as its weakest part: "Keras · model" is no
    truer of tickets about models for gaining a second word most of them use. 0 for none."""
    stop = _stop_words()
    parts = [words for part in label.split(LABEL_SEPARATOR) if (words := [w for w in _named(part) if w not in stop])]
    if not parts or not tickets:
        return 0.0
    return min(sum(all(any(same_stem(w, t) for t in ticket) for w in part) for ticket in tickets)
               for part in parts) / len(tickets)


def _named(label: str) -> list[str]:
    """A label's words that name something, in lower case: not a negation or the words that go with
    it ("did not", "hasn't been")."""
    return [w for part in label.lower().split(LABEL_SEPARATOR) for w in part.split()
            if not _NOT.fullmatch(w) and w not in _AUXILIARY | _BETWEEN]


def _negates(label: str) -> bool:
    return any(_NOT.fullmatch(w) for w in label.lower().split())


def _same_words(words: Sequence[str], others: Sequence[str]) -> bool:
    return len(words) == len(others) and all(same_stem(a, b) for a, b in zip(words, others, strict=True))


def _recased(earlier: str, label: str) -> str:
    """The earlier label with the capitals today's label writes for its words ("Ios · iphone" and
    "Build · linux", kept from before names kept them, read "iOS · iPhone" and "Build · Linux"); a
    label's first capital is its start's, not the word's."""
    words = label.split()
    cased = {w.lower(): w for i, w in enumerate(words) if _INNER_CAPITAL.search(w) or (i and w != w.lower())}
    return capitalised(re.sub(r"\S+", lambda m: cased.get(m.group().lower(), m.group()), earlier))


def stable_labels(fresh: Mapping[str, str], earlier: Mapping[str, str], docs: Mapping[str, ThemeDocs]
                  ) -> dict[str, str]:
    """Per theme, its `kept_label` judged by the tickets its card counts, or its fresh label where the
    kept one is another theme's label this week: two twcs themes both read "Driver · ride" once one
    kept the label the other was given."""
    kept = {t: kept_label(earlier.get(t), label, card_tickets(docs[t], docs[t].card_weeks)) for t, label in fresh.items()}
    uses = Counter(kept.values())
    return {t: label if uses[label] == 1 or label == fresh[t] else fresh[t] for t, label in kept.items()}


def week_labels(fresh: Mapping[str, str], earlier: Mapping[str, str], docs: Mapping[str, ThemeDocs],
                review: ReviewState) -> dict[str, str]:
    """The label each theme of a week shows: a reviewer's name, else the label it was confirmed as
    while that describes some of its card's tickets (confirmed twcs "Flight · luggage" read "Flight ·
    plane", "· crew", then "· gate": the review seemed not to hold), else its fresh label kept from
    `earlier` (`stable_labels`) and told apart from the week's others (`told_apart`)."""
    labels = told_apart(stable_labels(fresh, earlier, docs), docs)
    return {t: review.labels.get(t) or _confirmed_label(review.confirmed.get(t), docs[t]) or label
            for t, label in labels.items()}


def reviewed_topic(review: ReviewState, theme_id: str, label: str) -> str | None:
    """The backlog topic a reviewer gave: the theme's name, or the head of the label it was confirmed
    as while it shows (an extractive topic is its label's head too); None when neither holds."""
    if theme_id in review.labels:
        return review.labels[theme_id]
    return label.split(LABEL_SEPARATOR)[0] if label == review.confirmed.get(theme_id) else None


def _confirmed_label(given: str | None, doc: ThemeDocs) -> str | None:
    """The label a theme was confirmed as, unless its tickets no longer hold its words (`label_share`
    0): then the review status says it now reads otherwise (`ReviewState.status`)."""
    return given if given and label_share(given, card_tickets(doc, doc.card_weeks)) > 0 else None


def told_apart(labels: Mapping[str, str], docs: Mapping[str, ThemeDocs]) -> dict[str, str]:
    """A label that several of the week's themes share gains, for each of them, the term that tells
    it from the others (`_telling_term`): banking77's two "Exchange rate · wrong" themes read
    "… · bought" and "… · cash", not the same words twice in one report."""
    sharing: dict[str, list[str]] = {}
    for theme, label in labels.items():
        sharing.setdefault(label, []).append(theme)
    out = dict(labels)
    for label, themes in sharing.items():
        words = {t: _ticket_words(docs[t]) for t in themes} if len(themes) > 1 else {}
        for theme in words:
            term = _telling_term(docs[theme], words[theme], [words[t] for t in themes if t != theme], label)
            out[theme] = label + LABEL_SEPARATOR + term if term else label
    return out


def _telling_term(doc: ThemeDocs, mine: Sequence[set[str]], theirs: Sequence[Sequence[set[str]]], label: str) -> str:
    """The theme's term, not already in `label`, whose share of the theme's tickets (`mine`: their
    words) most exceeds its largest share among the other themes' (`theirs`), as customers write it;
    "" when no term is more the theme's."""
    used = label.lower().replace(LABEL_SEPARATOR.strip(), " ").split()
    # praise says how customers feel ("Internet · service · happy"), not what tells the theme apart
    fresh = [t for t in doc.terms if not any(praises(w) or any(same_stem(w, u) for u in used) for w in t.split())]
    shares = {t: _share(mine, t) - max(_share(words, t) for words in theirs) for t in fresh}
    best = max(fresh, key=lambda t: shares[t], default=None)
    if best is None or shares[best] <= 0:
        return ""
    forms = SurfaceForms(doc.word_meanings(), doc.languages)
    return " ".join(forms.get(w, w) for w in best.split())


def _ticket_words(doc: ThemeDocs) -> list[set[str]]:
    """The words (as terms count them) of each of a theme's word-sampled tickets."""
    return _word_sets(doc.phrases if doc.phrases is not None
                      else _theme_phrases(doc.word_meanings(), doc.languages, doc.escalation))


def _word_sets(phrases: Sequence[Sequence[Sequence[str]]]) -> list[set[str]]:
    return [{w for phrase in ticket for w in phrase} for ticket in phrases]


def _holds(words: Set[str], term: str) -> bool:
    """Whether a ticket's words hold a term (a two-word term needs both words)."""
    return set(term.split()) <= words


def _holds_any(words: Set[str], terms: Sequence[str]) -> bool:
    return any(_holds(words, term) for term in terms)


def described(meanings: Sequence[str], terms: Sequence[str]) -> list[bool]:
    """Per text for meaning of one theme's tickets, whether it holds one of `terms`, words counted
    as terms count them (`_theme_phrases`: stop words out, misspellings folded)."""
    return [_holds_any(words, terms) for words in _word_sets(_theme_phrases(meanings))]


def _words_by_row(doc: ThemeDocs) -> dict[int, set[str]]:
    """The words (`_ticket_words`) of each of the theme's word-sampled tickets, by its row."""
    rows = doc.word_rows if doc.word_rows is not None else range(len(doc.texts))
    return dict(zip(rows, _ticket_words(doc), strict=True))


def card_tickets(doc: ThemeDocs, weeks: Sequence[date]) -> list[set[str]]:
    """The words of the theme's word-sampled tickets in `weeks` (those its card counts)."""
    counted = set(weeks)
    return [words for row, words in _words_by_row(doc).items() if doc.ticket_weeks[row] in counted]


def described_share(doc: ThemeDocs, terms: Sequence[str], weeks: Sequence[date]) -> float | None:
    """The share of a theme's tickets in `weeks` (those its card counts; of its word sample) holding
    one of its leading terms; None without terms or such tickets."""
    tickets = card_tickets(doc, weeks)
    if not terms or not tickets:
        return None
    return sum(_holds_any(words, terms[:LEAD_TERMS]) for words in tickets) / len(tickets)


def _share(tickets: Sequence[set[str]], term: str) -> float:
    return sum(_holds(ticket, term) for ticket in tickets) / max(len(tickets), 1)


def _centrality(vectors: np.ndarray) -> np.ndarray:
    """Each row's cosine to the rows' normalised mean."""
    centroid = vectors.mean(axis=0)
    return vectors @ (centroid / (np.linalg.norm(centroid) or 1.0))


def distinct_first(ids: Sequence[T], texts: Sequence[str], senders: Sequence[object] | None = None,
                   limit: int | None = None) -> list[T]:
    """`ids` in order, those that bring a new message from a new sender first (senders unknown:
    each is new), then those that bring a new message, then the repeats: a theme's examples are
    different messages from different customers while it has them (one customer's error filed
    three times is one message; one reporter's five accessibility issues are one voice). With
    `limit`, the first `limit` of them, reading no further than it needs (a theme's examples are a
    few of its tens of thousands of tickets)."""
    want = len(ids) if limit is None else limit
    picked: list[T] = []
    said: set[str] = set()
    heard: set[object] = set()
    left: list[tuple[T, str]] = []
    for i, text, who in zip(ids, texts, senders if senders is not None else [None] * len(ids), strict=True):
        key = message_key(text)
        if key in said or (who is not None and who in heard):
            left.append((i, key))
            continue
        picked.append(i)
        said.add(key)
        heard.add(who)
        if len(picked) >= want:
            return picked
    new: list[T] = []  # a new message, whoever sent it
    repeats: list[T] = []
    for i, key in left:
        (repeats if key in said else new).append(i)
        said.add(key)
    return [*picked, *new, *repeats][:want]


def message_key(text: str) -> str:
    """What makes two tickets the same message: their words, whatever the case and spacing."""
    return " ".join(str(text).lower().split())


def representatives(vectors: np.ndarray, k: int) -> list[int]:
    """Rows nearest the theme centroid."""
    return [int(i) for i in np.argsort(-_centrality(vectors), kind="stable")[:k]]


def mmr(vectors: np.ndarray, k: int, diversity: float = 0.5, typical: float = 0.5) -> list[int]:
    """Maximal marginal relevance among the theme's typical rows (the `typical` share nearest its
    centroid, and at least k): central to them but mutually different. Over all rows it picked the
    theme's fringe: on banking77 themes 68% of its phrasings had the theme's main intent, no more
    than any ticket of the theme (71%); among the nearer half, 81%."""
    if len(vectors) == 0:
        return []
    rows = np.argsort(-_centrality(vectors), kind="stable")[:max(k, math.ceil(typical * len(vectors)))]
    kept = vectors[rows]
    relevance = _centrality(kept)
    chosen = [int(np.argmax(relevance))]
    while len(chosen) < min(k, len(kept)):
        redundancy = (kept @ kept[chosen].T).max(axis=1)
        score = (1 - diversity) * relevance - diversity * redundancy
        score[chosen] = -np.inf
        chosen.append(int(np.argmax(score)))
    return [int(rows[i]) for i in chosen]


def ticket_severity(text: str, escalation: Escalation = ESCALATION_RULES) -> tuple[str, str]:
    """(level, reason) of one ticket by the offline triage rules."""
    return signal_and_severity(text, escalation=escalation)[1:]


def escalates(text: str, topic: Sequence[str] = (), signals: Sequence[str] | None = None,
              escalation: Escalation = ESCALATION_RULES) -> bool:
    """Carries an escalation signal (churn, legal threat, refund, long wait, ...) unless the words
    that signal it are what the theme is about (a refund theme is not an escalation of itself).
    `signals`: the escalation signals triage found in the text, when known; only their rules can
    match, so only they run, and a ticket without any costs nothing. A signal whose rule finds no
    words in the text (an LLM's judgement) is not the topic's, so it counts. `escalation`: the
    signals' rules triage read them by (`triage_rules.load_escalation`)."""
    if signals is not None and not len(signals):
        return False
    topic_words = [w for term in topic for w in term.split()]

    def beyond_topic(words: Sequence[str]) -> bool:
        return any(not any(same_stem(word, w) for w in topic_words) for word in words)

    if signals is None:
        return beyond_topic(_escalation_words(text, tuple(escalation.values())))
    found = [_escalation_words(text, (escalation[name],)) if name in escalation else () for name in set(signals)]
    return any(not words or beyond_topic(words) for words in found)


@lru_cache(maxsize=2**15)
def _escalation_words(text: str, rules: tuple[re.Pattern[str], ...]) -> tuple[str, ...]:
    """The first word of each match of the escalation `rules`; cached, as a window's tickets recur
    every week."""
    text = clean(text)
    return tuple(m.lower().split()[0] for rule in rules for m in matched(rule, text))


def severity_of(
    texts: Sequence[str], topic: Sequence[str] = (), severities: Sequence[str] | None = None,
    reasons: Sequence[str] | None = None, escalations: Sequence[Sequence[str] | None] | None = None,
    escalation: Escalation = ESCALATION_RULES, weighed: str = "tickets",
) -> tuple[str, str]:
    """The most severe level reached by at least a quarter of the tickets, raised one level when
    a quarter of them put the business at risk (`RAISING_SIGNALS`), to `RAISE_CEILING` at most.
    `topic`: the theme's own terms, which never count as escalation;
    `severities` (and their `reasons`): the tickets' own levels when the caller has them (else
    the offline rules'); `escalations`: each ticket's escalation signals from triage, when known;
    `escalation`: the signals' rules; `weighed`: the tickets, as the rationale names its share's base."""
    if not texts:
        return "P4", "no tickets to weigh"
    if severities is None:
        per_ticket = [ticket_severity(t, escalation) for t in texts]
    else:
        per_ticket = list(zip(severities, reasons or [""] * len(severities), strict=True))
    counts = Counter(level for level, _ in per_ticket)
    reasons = {level: why for level, why in per_ticket if why}
    reached, level = 0, "P4"
    for candidate in SEVERITIES:
        reached += counts[candidate]
        if reached >= SEVERITY_QUANTILE * len(texts):
            level = candidate
            break
    rationale = f"{reached / len(texts):.0%} of {weighed} at {level} or worse"
    if level in reasons:
        rationale += f": {reasons[level]}"
    known = escalations if escalations is not None else [None] * len(texts)
    raising = [[x for x in RAISING_SIGNALS if _escalation_words(t, (escalation[x],))] if s is None
               else [x for x in s if x in RAISING_SIGNALS] for t, s in zip(texts, known, strict=True)]
    escalating = sum(escalates(t, topic, s, escalation) for t, s in zip(texts, raising, strict=True))
    if escalating >= ESCALATION_SHARE * len(texts) and SEVERITIES.index(level) > SEVERITIES.index(RAISE_CEILING):
        level = SEVERITIES[SEVERITIES.index(level) - 1]
        rationale += (f"; raised one level: {escalating / len(texts):.0%} threaten to leave, want money back, "
                      "a manager, a lawyer or a public complaint")
    return level, rationale


def ticket_signal(text: str) -> str:
    """The signal type of one ticket by the offline triage rules (category -> signal type)."""
    return signal_and_severity(text)[0]


def signal_type_of(texts: Sequence[str], signals: Sequence[str] | None = None) -> str:
    """The signal most tickets show, among tickets that show one (ties go to the earlier type in
    SIGNAL_TYPES); "other" when fewer than a quarter of the tickets show any. `signals`: the
    tickets' signal types, when the caller already has them."""
    votes = Counter([ticket_signal(t) for t in texts] if signals is None else signals)
    signalled = {k: v for k, v in votes.items() if k != "other"}
    if sum(signalled.values()) < SEVERITY_QUANTILE * max(len(texts), 1) or not signalled:
        return "other"
    return min(signalled, key=lambda k: (-signalled[k], SIGNAL_TYPES.index(k)))


def recent_weekly_rate(ticket_weeks: Sequence[date], week: date, recent_weeks: int = RECENT_WEEKS) -> float:
    """Tickets per week over the last `recent_weeks` weeks, or since the theme first appeared."""
    if not ticket_weeks:
        return 0.0
    first = max(min(ticket_weeks), week - timedelta(weeks=recent_weeks - 1))
    span = (week - first).days // 7 + 1
    recent = sum(first <= w <= week for w in ticket_weeks)
    return recent / span


def evidence_rows(severities: Sequence[str] | None, n: int) -> np.ndarray:
    """The rows that may stand as a theme's evidence: its tickets that report an impact (above P4,
    so not praise, thanks or chit-chat that the theme absorbed), unless fewer than half do (then
    the theme is about those, and every row is evidence). All rows when severities are unknown."""
    rows = np.arange(n)
    if severities is None:
        return rows
    impact = rows[np.array([s != SEVERITIES[-1] for s in severities], dtype=bool)]
    return impact if 2 * len(impact) >= n else rows


def judged(tickets: ThemeDocs, topic: Sequence[str]) -> tuple[str, float, str, str]:
    """A theme's signal type and the share of its tickets that show it, its severity and the
    severity's reason, from the tickets it counts: the window's, so the reason names them ("44% of its
    39 tickets over 8 weeks at P1 or worse"), where "44% of tickets" sat on a card of 5 this week."""
    signals, severities, reasons = tickets.signals, tickets.severities, None
    if signals is None or severities is None:
        per_ticket = [signal_and_severity(t, escalation=tickets.escalation) for t in tickets.texts]
        signals = signals if signals is not None else [s for s, _, _ in per_ticket]
        if severities is None:
            severities, reasons = [lvl for _, lvl, _ in per_ticket], [why for _, _, why in per_ticket]
    weighed = f"its {plural(len(tickets.texts), 'ticket')} {weeks_said(tickets.ticket_weeks, tickets.card_weeks)}"
    severity, why = severity_of(tickets.texts, topic, severities, reasons, tickets.escalations, tickets.escalation,
                                weighed)
    signal = signal_type_of(tickets.texts, signals)
    return signal, sum(s == signal for s in signals) / max(len(signals), 1), severity, why


def extractive_summary(doc: ThemeDocs, n_examples: int = 3, n_phrasings: int = 4) -> ThemeSummary:
    """A summary with the same fields as the LLM's, from statistics and rules only."""
    severities = (doc.severities if doc.severities is not None
                  else [ticket_severity(t, doc.escalation)[0] for t in doc.texts])
    evidence = evidence_rows(severities, len(doc.texts))
    central = [int(evidence[i]) for i in representatives(doc.vectors[evidence], len(evidence))]
    by_centrality = statements_first(central, doc.meaning)
    reps = _voices(doc, by_centrality, n_examples)
    diverse = [int(evidence[i]) for i in mmr(doc.vectors[evidence], n_phrasings)]
    telling = [i for i in diverse if a_statement(doc.meaning(i))]
    phrasing_rows = _voices(doc, list(dict.fromkeys([*telling, *by_centrality])), len(diverse))
    phrasings = list(dict.fromkeys(_shorten(doc.texts[i], 200) for i in phrasing_rows))
    signal, addressed, severity, why = judged(doc, doc.terms[:3])
    worded = doc.of_words(doc.texts)
    meanings = doc.word_meanings()
    forms = SurfaceForms(meanings, doc.languages)
    head, second = label_parts(doc.terms, worded, head_phrase(doc.terms, worded, doc.phrases, forms), forms, meanings)
    label = joined_label(head, second)
    topic = head or "this issue"
    quoted = next((i for i in described_first(doc, by_centrality) if not shouted(doc.texts[i])),
                  reps[0] if reps else None)
    central = _shorten(doc.texts[quoted], 160) if quoted is not None else ""
    other = next((_shorten(doc.texts[i], 200) for i in [*phrasing_rows, *by_centrality]
                  if another_customer(doc, i, quoted)), "") if quoted is not None else ""
    counted = doc.ticket_weeks  # what the card's trend counts
    shared = f"{tickets_said(counted, doc.card_weeks)}, typically: {quoted_sentence(central)}"
    if other:
        shared += f" Another customer put it as: {quoted_sentence(other)}"
    rate = recent_weekly_rate(counted, doc.week)
    return ThemeSummary(
        label=label,
        shared_issue=shared,
        phrasings=phrasings,
        severity=severity,
        severity_rationale=why,
        signal_type=signal,
        backlog=backlog_item(signal, topic, _shorten(central, 120), len(counted), rate, severity,
                             round(rate * addressed, 1)),
        example_ticket_ids=[doc.ticket_ids[i] for i in reps],
        terms=list(doc.terms),
        summarizer="extractive",
    )


def quoted_sentence(text: str) -> str:
    """`text` in quotes that end a sentence: a full stop after them unless it ends its own. An issue's
    title has no final punctuation, and the sentence after it ran on: "…Windows ARM toolchain” Another
    customer put it as: …" (Swift's crash theme)."""
    return f"\u201c{text}\u201d" + ("" if _ENDS_SENTENCE.search(text) else ".")


def tickets_said(ticket_weeks: Sequence[date], card_weeks: Sequence[date]) -> str:
    """How many tickets a theme's card counts, over which weeks, and, where its window's weeks hold
    more, how many they hold: "11 tickets in the last 3 weeks (31 over 8 weeks)". The card's count
    and the window's had stood side by side unexplained ("tickets 11" beside "31 tickets over 8 weeks")."""
    counted = set(card_weeks)
    card = [w for w in ticket_weeks if w in counted]
    said = f"{plural(len(card), 'ticket')} {weeks_said(card, card_weeks)}"
    return said if len(card) == len(ticket_weeks) else f"{said} ({len(ticket_weeks)} {weeks_said(ticket_weeks, card_weeks)})"


def weeks_said(ticket_weeks: Sequence[date], card_weeks: Sequence[date]) -> str:
    """The weeks tickets of a theme fall in, as its card says them: "this week" or "in the last 3 weeks"
    when they are the card's, else "over 8 weeks". The weeks are the calendar's, from its first ticket's:
    a sparse theme's weeks that held one read "14 tickets in the last 6 weeks (16 over 6 weeks)"."""
    counted = set(card_weeks)
    if all(w in counted for w in ticket_weeks):
        return "this week" if len(counted) == 1 else f"in the last {len(counted)} weeks"
    weeks = (max(max(ticket_weeks), *counted) - min(ticket_weeks)).days // 7 + 1
    return f"over {plural(weeks, 'week')}"


def a_statement(meaning: str) -> bool:
    """Whether a text for meaning has `QUOTE_MIN_WORDS` words (runs of letters and digits, as the
    new-group test counts them): a GitHub title that was only its template's tag ("[DevTools Bug]: ")
    sat nearest the centre of React's DevTools theme (its words are the theme's), and was quoted as
    typical of it and given as its first example."""
    return len(_MEANING_WORD.findall(meaning)) >= QUOTE_MIN_WORDS


def statements_first(items: list[T], meaning: Callable[[T], str]) -> list[T]:
    """`items` (by centrality), of the first `QUOTE_CANDIDATES` those whose text for `meaning` is no
    statement (`a_statement`) after the others: examples and the typical quote come from the centre,
    and say something ("error" and "Crash" were a catch-all's examples)."""
    return _near_centre_first(items, lambda i: a_statement(meaning(i)))


def _near_centre_first(items: list[T], wanted: Callable[[T], bool]) -> list[T]:
    """`items` (by centrality), of the first `QUOTE_CANDIDATES` those `wanted` holds for first, each
    part kept in its order."""
    head = sorted(items[:QUOTE_CANDIDATES], key=lambda i: not wanted(i))  # stable
    return [*head, *items[QUOTE_CANDIDATES:]]


def described_first(doc: ThemeDocs, rows: list[int]) -> list[int]:
    """`rows` (by centrality), of the first `QUOTE_CANDIDATES` those holding one of the theme's leading
    terms (the label's words, `described_share`) before the others: the typical quote says what the label
    says. Prisma's ranked themes quoted a ticket holding none of the label's words in 145 of 833 weeks
    ("Binary compatibility", typically: "prisma2 init wizard ends at the introspect step")."""
    words, terms = _words_by_row(doc), doc.terms[:LEAD_TERMS]
    return _near_centre_first(rows, lambda i: _holds_any(words.get(i, set()), terms))


def _voices(doc: ThemeDocs, rows: list[int], limit: int) -> list[int]:
    """A theme's `rows`, new messages from new customers first (`distinct_first`): its examples and
    the ways customers put it come from as many customers as it has (one reporter's fuzzing finds
    were all four phrasings of TensorFlow's "Check failed errors", a theme of six reporters)."""
    return distinct_first(rows, [doc.texts[i] for i in rows],
                          None if doc.customers is None else [doc.customers[i] for i in rows], limit)


def another_customer(doc: ThemeDocs, row: int, quoted: int) -> bool:
    """Whether a ticket is another customer's wording of the quoted one: other words, and another
    sender where senders are known."""
    return (row != quoted and message_key(doc.texts[row]) != message_key(doc.texts[quoted])
            and (doc.customers is None or doc.customers[row] != doc.customers[quoted]))


def counted_membership(window: pd.DataFrame) -> pd.DataFrame:
    """A clustered window with each ticket's `theme_id` where the figures count it (`series_theme_id`,
    when the window has it), not where hysteresis shows it: a theme's words, examples and severity
    describe the tickets its card counts. TensorFlow's "Keras · fault" took "fault" from nine fuzzing
    segfaults it showed and another theme counted."""
    return window.assign(theme_id=window["series_theme_id"]) if "series_theme_id" in window else window


def counted_similarity(window: pd.DataFrame, vectors: np.ndarray) -> pd.Series:
    """Each ticket's cosine to the centroid of the theme that counts it (`counted_membership`, over the
    window, as `extractive_summary` picks its central tickets), NaN for none; the window's stored
    `similarity`, to the theme hysteresis shows it in, when it has no vectors. The card's examples were
    ordered by that one: a fuzzing segfault shown in another theme stood first among the examples of
    TensorFlow's "Keras · model", which counted it."""
    if vectors.ndim < 2 or not vectors.shape[1]:
        return window["similarity"]
    themes = counted_membership(window)["theme_id"]
    out = np.full(len(window), np.nan)
    for theme, rows in rows_by_key(themes.fillna("").to_numpy()).items():
        if theme:
            out[rows] = _centrality(vectors[rows])
    return pd.Series(out, index=window.index)


def theme_docs(window: pd.DataFrame, week: date, vectors: np.ndarray, weeks: Sequence[date] = (),
               escalation: Escalation = ESCALATION_RULES) -> dict[str, ThemeDocs]:
    """Group a clustered window (ticket_id, ticket_week, theme_id, optionally series_theme_id, text, the
    stored meaning_text and product; one vector per row) by the tickets each theme counts
    (`counted_membership`) into one `ThemeDocs` per theme that counts tickets in `week`, or in the
    `weeks` its card counts (`rank.ranking_weeks`), with c-TF-IDF terms over all themes, each in one of
    the card's tickets at least (`_tfidf_terms`' `held`): Swift's "Windows · code" counted 8 tickets in
    its ranked weeks, none about Windows. A word of a theme's product's name is no term of
    its own: against other products' themes it sets every theme of the product apart (Next.js bug
    themes were "Js · component"), and within one product it says only which product. The text for
    meaning has the name removed, but not from package names ("swift-numerics", "next/font"), whose
    words made Swift's crash theme "Swift · crash". `escalation`: the signals' rules the docs' tickets
    are read by (triage's: `triage_rules.load_escalation`)."""
    window = counted_membership(window)
    themed = window["theme_id"].notna().to_numpy()
    frame = window[themed]
    vectors = vectors[themed]
    groups = rows_by_key(frame["theme_id"].to_numpy())
    ids, texts = frame["ticket_id"].to_numpy(), frame["text"].to_numpy()
    who = senders(frame)
    voiced = ~said_again(frame, who)
    sampled = {t: np.flatnonzero(voiced[rows])[word_sample(ids[rows][voiced[rows]], WORD_SAMPLE)]
               for t, rows in groups.items()}
    every = _every_meaning(frame, groups, sampled)
    language = frame["language"].to_numpy() if "language" in frame else np.full(len(frame), None)
    languages = {t: _theme_languages(language[groups[t][at]]) for t, at in sampled.items()}
    # Each ticket split once, when it arrived (`stored_phrases`), or here where it was not stored.
    stored = frame["meaning_phrases"].to_numpy() if "meaning_phrases" in frame else np.full(len(frame), None)
    sentences = {t: [_read_phrases(stored[groups[t][i]], every[t][i]) for i in at] for t, at in sampled.items()}
    # The window's words judged for profanity in one call: each call of the model costs milliseconds,
    # and a window has hundreds of themes.
    profane_words(w for theme in sentences.values() for doc in theme for phrase in doc for w in phrase)
    phrases = {t: _content_phrases(theme, languages[t], escalation) for t, theme in sentences.items()}
    products = theme_products(frame, groups)
    card = frame["ticket_week"].isin(weeks or [week]).to_numpy()
    held = {t: [words for i, words in zip(at, _word_sets(phrases[t]), strict=True) if card[groups[t][i]]]
            for t, at in sampled.items()}
    terms = _tfidf_terms(phrases, unsaid={t: frozenset(product_words(p)) for t, p in products.items()}, held=held)
    active = set(frame.loc[card, "theme_id"])
    return {
        t: ThemeDocs(
            theme_id=t, week=week, ticket_ids=ids[rows].tolist(), texts=texts[rows].tolist(),
            ticket_weeks=frame["ticket_week"].iloc[rows].tolist(), vectors=vectors[rows], terms=terms[t],
            word_rows=None if len(sampled[t]) == len(rows) else sampled[t], meanings=every[t],
            phrases=phrases[t], product=products.get(t, ""), customers=None if who is None else who[rows].tolist(),
            weeks=list(weeks), languages=languages[t], escalation=escalation,
        )
        for t, rows in groups.items() if t in active
    }


def _every_meaning(frame: pd.DataFrame, groups: Mapping[str, np.ndarray], sampled: Mapping[str, np.ndarray]
                   ) -> dict[str, list[object]]:
    """Each theme's texts for meaning as stored, computed where not stored for its word rows (and kept:
    the card reads them again)."""
    texts = frame["text"].to_numpy()
    stored = frame["meaning_text"].to_numpy() if "meaning_text" in frame else np.full(len(frame), None)
    every = {t: stored[rows].tolist() for t, rows in groups.items()}
    for t, at in sampled.items():
        for i in at:
            if not isinstance(every[t][i], str):
                every[t][i] = meaning_text(texts[groups[t][i]])
    return every


def theme_products(frame: pd.DataFrame, groups: Mapping[str, np.ndarray] | None = None) -> dict[str, str]:
    """Per theme of a clustered frame (theme_id, product; `groups`: its rows per theme, when the caller
    has them), its tickets' most common product ("" for none)."""
    if "product" not in frame:
        return {}
    groups = rows_by_key(frame["theme_id"].to_numpy()) if groups is None else groups
    product = frame["product"].fillna("").to_numpy()
    return {t: Counter(product[rows]).most_common(1)[0][0] for t, rows in groups.items()}


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "\u2026"
