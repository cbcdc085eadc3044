"""Text for meaning: what embeddings, terms and labels read, next to the text people are shown.

A redacted ticket keeps everything a reader needs: who it was addressed to, the links, the
placeholders where personal data was, the greeting and the sign-off. None of that says what the
customer's problem is, yet it is what tickets of one brand or one helpdesk share most: left in,
"@AmazonHelp ... https://t.co/..." pulls tickets together by addressee and labels themes
"Amazonhelp · https". `meaning_text` removes it; the redacted text stays the text for people.

Removed: @handles, URLs (with a scheme, `www.`, or a public-suffix domain with a path such as
`t.co/x`), source locations (a path to a file with an extension, such as
`libs/dml/src/model.rs:164:14`, or any path with a backslash: a crash report's pointer, whose
segments labelled GitHub panic reports "Error · src"; menu paths such as "Settings/Privacy" and
package names such as "next/image" stay), placeholders (`[PERSON]`, `[ORDER]`, any `[UPPER_CASE]` or
`<UPPER_CASE>`, and a bare `PERSON`), where a mail client put an image ("[cid:image001.png@…]",
"[image: Globex logo]"), ticket-number boilerplate ("ticket #1234", "case 00123", "ref: AB123", "[SR-8740]",
"#1234"), an issue form's leading tag naming the kind of report ("[Bug]: ", "Bug: ", "[Feature
Request] ": it says which form was filled in, not what went wrong, and grouped 5 unrelated jest
bugs, every jest title being "[Bug]: ...", into a theme "Bug · file"; a tag naming a module, such
as "[FancyZones]" or "[DevTools Bug]", stays, and triage reads the text, where the kind stays; a
ticket that says nothing else, such as "Bug" or "Bug report", is left with nothing to read), a
leading greeting ("Hi team,", "Dear Sir or Madam,"; "Hola,", "Bonjour", "Sehr geehrte Damen und Herren,",
"Madame, Monsieur," and the like in the languages of `VALEDICTION`, for a multilingual model's
tickets), a self-introduction ("this is [PERSON]", "[PERSON] here") and a
trailing signature or sign-off ("Sent from my iPhone", "Thanks, [PERSON]", "Merci d'avance",
"Gracias de antemano", "MfG"). Labels words stay:
"order [ORDER]" keeps "order". A helpdesk's text for a chat or call that only names who it was with
("Chat with [PERSON]", "Voicemail from: [PHONE]") and a phone system's record of a call ("Call from:
... Length of phone call: ...") say nothing at all.

The ticket's own product name goes too, when its product is known ("Next.js", "PowerToys", "Power
Toys"): it says which product, never what went wrong, and within one product it pulls together
whichever tickets happen to name it. An eighth of a Next.js window's bug titles name Next.js, and
they drew a theme of 90 unrelated bugs, "Js · build", 36 % of which name it (at most 10 % of any
other theme of 25 or more). Each piece of the name (split at "_": an owner and a repository, or a
handle's words) is removed whole, its words and joined parts written together or apart. A name of
several words goes as a phrase ("Example Bank" or "ExampleBank", never "bank" alone), and so does
each of its words that is no common English word ("Acme" of "Acme Pay"; Zipf under 4, as below).
Never inside a package name ("next/font", "react-dom", "@prisma/client" stay).

`spelling_folds` maps a theme's misspellings ("chcek") and abbreviations ("acct") to the
correctly spelled word the same theme uses ("check", "account"), so a label never shows them;
`profane_words` finds the swearing that says how a customer feels and never what the theme is
about (a twcs theme of food complaints was labelled "Fries · shit").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from ticket_intel.core.common_words import COMMON_ZIPF, zipf
from ticket_intel.core.entities import DIGIT, drop_values
from ticket_intel.core.normalize import CLOSING_ELSEWHERE, VALEDICTION, call_words

_HANDLE = re.compile(r"(?<![\w@])@\w+(?:@\w+)*")
_URL = re.compile(r"(?i)https?:?/+\S*|\bwww\.\S*")
_DOMAIN_LINK = re.compile(r"(?<![\w./-])((?:[\w-]+\.)+[\w-]+)/\S*")
_SOURCE_PATH = re.compile(
    r"(?<![\w/\\.-])(?:[A-Za-z]:)?(?:[\w.@~-]*[/\\]+)+[\w.-]+\.[A-Za-z]\w{0,4}(?::\d+)*(?![\w/\\])"
    r"|(?<!\S)\S*\\\S*"  # from the start of a run of non-spaces: a match starts there anyway,
)  # and a 100 kB run without a backslash was scanned from each of its characters (quadratic)
# The folders of a path into a source tree: a relative path ("./app", "../build/cli") or one from a
# folder every source tree names by convention ("(lib/SymbolGraphGen)", "test/SILOptimizer",
# "node_modules/react-native-aws3-cognito"). They say where, not what: "lib" became half of a Swift label
# ("Implicit copies · lib"). The last segment names the component and stays. A pair of words joined
# by a slash is mostly not a path ("and/or", "CPU/GPU", "copy/paste") or a package ("next/image").
_SOURCE_FOLDERS = ("src", "lib", "libs", "test", "tests", "tools", "utils", "examples", "docs",
                  "scripts", "node_modules", "third_party", "contrib", "stdlib", "packages")
_FOLDERS = re.compile(
    rf"(?<![\w/\\.@-])(?:\.\.?/+|(?i:{'|'.join(_SOURCE_FOLDERS)})/+)(?:[\w.@~+-]+/+)*(?=[\w.@~+-])"
)
# Redaction's ([PERSON], <EMAIL>, PERSON) and a template's slots left unfilled: a named slot
# ({{Order Number}}, {{Website URL}}: generated request sets), a helpdesk's field ({{ticket.id}},
# Zendesk's), ${ACCOUNT}. Not TensorFlow's "{{node IteratorGetNext}}" nor a script's ${width}: they
# name what failed.
_PLACEHOLDER = re.compile(
    r"\[[A-Z][A-Z_]*\]|<[A-Z][A-Z_]*>|\bPERSON\b|\$\{[A-Z][A-Z0-9_]*\}"
    r"|\{\{\s*(?:[A-Z][A-Za-z]*(?: [A-Z][A-Za-z]*)*|[a-z_]+(?:\.[a-z_]+)+)\s*\}\}"
)
# A self-introduction once the name is redacted ("this is [PERSON]", "[PERSON] here"): it says who
# wrote, never what went wrong, and left "this is." in front of every such ticket's issue.
_INTRODUCTION = re.compile(
    r"(?i)\b(?:this is|my name is|my name's|i am|i'm)\s+(?:\[PERSON\]|PERSON\b)(?!['’])(?:\s+(?:here|speaking)\b)?"
    r"|(?:\[PERSON\]|\bPERSON)\s+(?:here|speaking)(?=\s*(?:[,.!:;-]|$))"
)
# "ticket #1234", "case 00123", "ref: AB-123": a reference label and an id holding a digit (4+
# characters, so "in case 2 days" stays), or an id that was redacted.
_REFERENCE = re.compile(
    r"(?i)\b(?:ticket|case|ref|reference|incident|conversation|complaint|sr)\.?"
    r"(?:\s*(?:id|no\.?|num|number))?\s*[:#]?\s*(?:\[ORDER\]|#?(?=[\w-]*\d)[\w-]{4,})"
)
_ISSUE_KEY = re.compile(r"\[[A-Z][A-Z0-9]*-\d+\]")  # [SR-8740]
# Where a mail client put an image or a file the text cannot show: "[cid:image001.png@01D7B2C3…]"
# (Outlook), "[image: Globex logo]" (Gmail), "[Screenshot 2026-09-01 at 10.32.11.png]", "<image001.png>".
# A company's logo is in every mail it sends.
_ATTACHMENT = re.compile(
    r"(?i)\[(?:cid|image):[^\]\n]{0,200}\]|[\[<][^\[\]<>\n]{0,120}\.(?:png|jpe?g|gif|bmp|webp|heic|tiff?)[\]>]"
)
_HASH_NUMBER = re.compile(r"(?<![\w&])#\d+\b")  # #1234 (not an HTML entity's &#39;)
# The words a message opens with to greet, in English and, as VALEDICTION, German, French, Spanish,
# Italian, Portuguese and Dutch (a multilingual model's tickets; an agent's replies); a formal letter's
# opening is one ("Sehr geehrte", "Madame", "Estimados", "To whom it may concern").
GREETING_WORD = (
    r"(?:hi|hello|hey|hiya|dear|greetings|good (?:morning|afternoon|evening)|to whom it may concern"
    r"|hallo|guten (?:tag|morgen|abend)|sehr geehrte[rs]?|liebe[rs]?|moin|servus"
    r"|bonjour|bonsoir|salut|madame|monsieur|mesdames|messieurs|ch(?:e|è)re?s?"
    r"|hola|buen(?:os|as) (?:d[ií]as|tardes|noches)|buenas|estimad[oa]s?|querid[oa]s?|ciao"
    r"|buongiorno|buonasera|salve|gentil[ei]|egregi[oa]|car[oa]|cari|ol[aá]|bom dia|boa (?:tarde|noite)"
    r"|prezad[oa]s?|hoi|goede(?:morgen|middag|navond)|geachte|beste)\b"
)
# Whom a greeting addresses (and, in an agent's sign-off, the team signing: core/drafts.py): "there", "Sir or Madam", "Damen und Herren", "Frau [PERSON]", "Monsieur"
# (after "Madame,"), "señores", "Support-Team", "équipe"; two joined by "and", its translations or "/".
ADDRESSEE = (
    r"(?:there|all|everyone|guys|folks|sir\s*(?:/|or|and)\s*madam|sir|madam|friends|again|damen|herren|frau|herr"
    r"|(?:,\s*)?(?:madame|monsieur|mesdames|messieurs)|se(?:ñ|n)or(?:es|a|as)?|senhor(?:es|a|as)?|signor[aie]?|signore"
    r"|mevrouw|heer|service client|atenci(?:ó|o)n al cliente|(?:[\w-]+[\s-]+)?(?:team|support|service|care"
    r"|kundenservice|kundendienst|(?:é|e)quipe|equipo|equipa|servicio|klantenservice)"
    r"(?:\s+(?:de|du|des|di|da|van)\s+[\w-]+)?)\b"
)
_GREETING = re.compile(
    rf"(?i)^\W*{GREETING_WORD}(?:\s*{ADDRESSEE}(?:(?:\s+(?:and|or|und|oder|et|ou|y|o|e|en)\s+|\s*/\s*){ADDRESSEE})?)?"
    r"\s*[,!.:;-]*\s*"
)
_SIGNATURE = re.compile(
    r"(?i)\b(?:sent (?:from|via) (?:my )?(?:iphone|ipad|android|samsung|galaxy|mobile|phone|blackberry|"
    r"yahoo|mail|outlook|gmail|aol|proton)\b.{0,40}|get outlook for \w+)$"
)
_SIGN_OFF = re.compile(
    rf"(?i)(?:^|(?<=[.!?,;:]))\s*(?:{VALEDICTION}|{CLOSING_ELSEWHERE})\b[\s,.!]*(?:\S+(?:\s+|$)){{0,3}}$"
)
_REPORT_KIND = r"(?:bug(?:\s+report)?|feature(?:\s+request)?|enhancement|question|proposal|suggestion|improvement|docs|documentation)"
_FORM_TAG = re.compile(rf"(?i)^\W*?(?:\[\s*{_REPORT_KIND}\s*\]\s*:?|{_REPORT_KIND}\s*:|{_REPORT_KIND}s?\W*$)\s*")
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]|\{\s*\}")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.!?;:])")
_EDGE_PUNCT = re.compile(r"^[\s,.;:!?)\]-]+|[\s,;:(\[-]+$")


@lru_cache(maxsize=1)
def _offline_domains() -> Any:
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def public_suffix(host: str) -> str:
    """The host's public suffix ("co" for t.co, "" for Next.js) from the list bundled with
    tldextract, never fetched."""
    return _offline_domains()(host).suffix


def _drop_domain_links(text: str) -> str:
    return _DOMAIN_LINK.sub(lambda m: " " if public_suffix(m.group(1)) else m.group(0), text)


def _holds(*needles: str, folded: bool = False) -> Callable[[str], bool]:
    """A test of whether a text may hold a pattern's match: it holds one of `needles` (case-folded,
    for a pattern that ignores case). Most tickets hold no link, path, handle or placeholder, and
    scanning texts a pattern cannot match was half the text for meaning's cost."""
    def test(text: str) -> bool:
        within = text.casefold() if folded else text
        return any(needle in within for needle in needles)

    return test


# The patterns each round removes, in order, with what a text must hold for each to match.
_REMOVED = ((_ATTACHMENT, _holds("[", "<")), (_URL, _holds("http", "www.", folded=True)),
            (_SOURCE_PATH, _holds("/", "\\")), (_INTRODUCTION, _holds("person", folded=True)),
            (_PLACEHOLDER, _holds("[", "<", "PERSON", "${", "{{")), (_HANDLE, _holds("@")), (_ISSUE_KEY, _holds("[")),
            (_REFERENCE, lambda text: bool(DIGIT.search(text)) or "[order]" in text.casefold()),
            (_HASH_NUMBER, _holds("#")), (_EMPTY_BRACKETS, _holds("(", "[", "{")))
_MAY_SIGN = _holds("sent", "outlook", folded=True)  # _SIGNATURE's


def _one_round(text: str) -> str:
    for pattern, may_match in _REMOVED:
        if may_match(text):
            text = pattern.sub(" ", text)
    if "/" in text:  # what links to a domain and a source tree's folders hold
        text = _FOLDERS.sub("", _drop_domain_links(text))
    text = " ".join(text.split())
    text = _SIGN_OFF.sub("", _SIGNATURE.sub("", text) if _MAY_SIGN(text) else text).strip()
    text = _FORM_TAG.sub("", _GREETING.sub("", text, count=1), count=1)
    return _EDGE_PUNCT.sub("", _SPACE_BEFORE_PUNCT.sub(r"\1", text))


_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
# The text a helpdesk gives a chat or a call ("Chat with Nick Moad"; Zendesk messaging's "Conversation
# with Web User 697395f1e2…" as subject and description; Zendesk Talk's "Call from: +1 …", "Voicemail
# from: …"): it names the customer and says nothing about the matter ("Chat with support about my
# refund" does).
CONTACT_SUBJECT = re.compile(
    r"^\s*(?i:(?:chat|conversation)\s+with|(?:(?:missed|inbound|incoming|outbound|outgoing)\s+)?(?:phone\s+)?call"
    r"\s+(?:from|to|with)|voicemail\s+from)\s*:?(?:\s+(?i:caller\s+)?"
    r"(?P<who>[A-Z0-9][\w'.-]*(?:\s+[A-Z0-9][\w'.-]*){0,3}|\+?[\d\s().-]{7,}))?\s*$"
)
_NAME_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


# The parts of a product name that are words: `vercel_next.js` -> vercel, next, js.
_NAME_PART = re.compile(r"[^\W\d_]{2,}")
# The words a joined name is made of: `PowerToys` -> Power, Toys; `UPSHelp` -> UPS, Help.
_JOINED = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def product_words(product: str | None) -> list[str]:
    """The words that stand for a product's name alone, lower-cased: no theme's term and no evidence
    of its area. Within the product's tickets they are what every ticket shares, not what a theme
    is about. A joined name counts with its parts, which customers write apart ("Power Toys": a
    PowerToys theme read "Powertoys run · toys"), and so do its initials (`_initials`). Of a name
    of several words, as in the text for meaning, only the words that are no common English word
    ("acme" of "Acme Pay"; "bank" of "Example Bank" is what customers say about a bank's transfers
    too)."""
    words = []
    for piece in (product or "").split("_"):
        several = len(piece.split()) > 1
        for part in _NAME_PART.findall(piece):
            if several and zipf(part.lower()) >= COMMON_ZIPF:
                continue
            joined = [w for w in _JOINED.findall(part) if len(w) >= 2]
            words += [part, *joined, *_initials(joined)] if len(joined) > 1 else [part]
    return list(dict.fromkeys(w.lower() for w in words))


_CAPITALISED = re.compile(r"[A-Z][a-z]+")


def _initials(joined: list[str]) -> list[str]:
    """The initials of a name joined from capitalised words, as its users shorten it ("tf" of
    TensorFlow, in 28 % of its bug titles), unless they are a common English word ("as" of
    AppleSupport). A term only: the text for meaning keeps them, since "tf.keras" and "tf.data"
    are API names the embedding model reads."""
    initials = "".join(w[0] for w in joined).lower()
    if all(_CAPITALISED.fullmatch(w) for w in joined) and zipf(initials) < COMMON_ZIPF:
        return [initials]
    return []


PRODUCT_NAME_CHARS = 100  # a longer "product" is no name a ticket writes (and its pattern would cost seconds)


@lru_cache(maxsize=1024)
def product_name(product: str) -> re.Pattern[str] | None:
    """The ways a ticket writes its product's name (see the module docstring), as one pattern."""
    if len(product) > PRODUCT_NAME_CHARS:
        return None
    forms = []
    for piece in product.split("_"):
        parts = _NAME_WORD.findall(piece)
        if sum(map(len, parts)) >= 2:
            forms.append(r"[\s.-]?".join(map(re.escape, parts)))
        if len(words := piece.split()) > 1:  # a brand's own coinage alone: "Acme" of "Acme Pay"
            forms += [re.escape(w) for w in words if len(w) >= 3 and zipf(w.lower()) < COMMON_ZIPF]
    return re.compile(rf"(?i)(?<![\w/@.-])(?:{'|'.join(forms)})(?![\w/-])") if forms else None


@lru_cache(maxsize=2**15)
def meaning_text(text: str, product: str | None = None) -> str:
    """The redacted text without what does not say what the ticket is about (see the module
    docstring), nor the values that vary between tickets of one issue (amounts, dates, codes, ids:
    core/entities.py), which split one issue into as many themes as it has values; empty when no letter or digit is left. Idempotent: rounds repeat until nothing
    changes (removing a greeting can expose a handle); after the first, each change shortens the text.
    Cached: the summaries read each ticket of a window again for every week that window covers.
    `product`: the ticket's product, whose name is removed too. A call's record without a
    transcription (`normalize.call_words`) says nothing."""
    if call_words(text) == "":
        return ""
    if product and (name := product_name(product)):
        text = name.sub(" ", text)
    while (cleaned := drop_values(_one_round(text))) != text:
        text = cleaned
    # "👋", "?" and "🐛🪲" say nothing to read either, nor does "Chat with [PERSON]".
    return text if _LETTER_OR_DIGIT.search(text) and not CONTACT_SUBJECT.match(text) else ""


def unread(frame: Any) -> np.ndarray:
    """Per row of a frame that may carry the stored `meaning_text`, whether the ticket has nothing to
    read (its text for meaning is empty); a frame without the column, or a missing value, reads."""
    if "meaning_text" not in frame:
        return np.zeros(len(frame), dtype=bool)
    return (frame["meaning_text"].fillna("?") == "").to_numpy()


# A word is a misspelling of another word in the same theme when it is rare in English (under one
# use per million words), the other is common (ten per million, where Van Heuven et al. 2014 start
# high-frequency words), and they are at most Elasticsearch's "AUTO" fuzziness apart: one edit for
# words of 3-5 letters, two for longer ones (a transposition counts as one edit).
RARE_ZIPF = 3.0


def _max_edits(word: str) -> int:
    return 0 if len(word) < 3 else 1 if len(word) <= 5 else 2


def spelling_folds(word_counts: Mapping[str, int] | Iterable[str]) -> dict[str, str]:
    """Misspelling -> the common word it misspells, among one theme's lower-case words (with
    their counts: the one the theme uses most is preferred when several are in reach). Every
    rare word is compared with every common one, in rapidfuzz's C loop: a theme of a large window
    has thousands of each."""
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import cdist

    counts = dict(word_counts) if isinstance(word_counts, Mapping) else dict.fromkeys(word_counts, 1)
    common = [w for w in counts if zipf(w) >= COMMON_ZIPF]
    rare = [w for w in counts if _max_edits(w) > 0 and zipf(w) < RARE_ZIPF]
    near: dict[str, list[str]] = {}
    for edits in {_max_edits(w) for w in rare} if common else ():
        words = [w for w in rare if _max_edits(w) == edits]
        within = cdist(words, common, scorer=OSA.distance, score_cutoff=edits, dtype=np.int32) <= edits
        near.update({w: [common[j] for j in np.flatnonzero(row)] for w, row in zip(words, within, strict=True)})
    near.update(abbreviated(rare, common))  # "acct" is "account" where the theme says so, not "act"
    known = set(common)
    near.update({w: [s for s in _singulars(w) if s in known] for w in rare if _plural_of_known(w)})
    return {w: max(near[w], key=lambda c: (counts[c], zipf(c), c)) for w in rare if near.get(w)}


def _singulars(word: str) -> list[str]:
    return [word[:-1], *([word[:-2]] if word.endswith("es") else [])] if word.endswith("s") else []


def _plural_of_known(word: str) -> bool:
    """A rare form that is the plural of a known word ("atms": "atm", "compilers": "compiler") is that
    word, folded into it or left as it is, never into another: banking77's ATM questions were labelled
    "Atmosphere" after one "atmosphere", and Swift's "compilers" were counted as "computers"."""
    return any(zipf(s) >= RARE_ZIPF for s in _singulars(word))


_VOWELS = frozenset("aeiou")


def abbreviated(rare: Iterable[str], common: Iterable[str]) -> dict[str, list[str]]:
    """Abbreviation -> the common words it may shorten, for the rare words written as writers shorten
    a word: its first letter, then consonants of it in order, at least one letter fewer ("acct" for
    account, "appt" for appointment, "thnks" for thanks). One edit from "acct" is "act", which a
    theme of bank accounts was labelled with; a misspelling keeps its vowels ("teh", "neeed")."""
    by_letter: dict[str, list[str]] = {}
    for word in common:
        by_letter.setdefault(word[0], []).append(word)
    out = {}
    for short in (w for w in rare if not _VOWELS & set(w[1:])):
        longer = [w for w in by_letter.get(short[0], []) if len(w) > len(short) and _in_order(short[1:], w[1:])]
        if longer:
            out[short] = longer
    return out


def _in_order(letters: str, word: str) -> bool:
    rest = iter(word)
    return all(letter in rest for letter in letters)


# A word is profane when alt-profanity-check's model is near-certain that it offends on its own
# ("shit", "fucking", "hell"). A word dropped wrongly would be a topic lost, so words that name
# things products have stay below the bar: "shut" 0.98, "kill" 0.95, "sex" 0.92.
PROFANE_PROBABILITY = 0.99
_profane: dict[str, bool] = {}


def profane_words(words: Iterable[str]) -> set[str]:
    """The profane ones of `words` (lower case); each distinct word is judged once per process.
    Looked up word by word: a set minus the judged words' keys walks every word ever judged, which
    cost a quarter of triage (a call per ticket) once the process had judged a window's words."""
    distinct = set(words)
    new = sorted(w for w in distinct if w not in _profane)
    if new:
        from profanity_check import predict_prob

        _profane.update(zip(new, (predict_prob(new) >= PROFANE_PROBABILITY).tolist(), strict=True))
    return {w for w in distinct if _profane[w]}
