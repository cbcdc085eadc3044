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

from ticket_intel.core.common_words import COMMON_ZIPF, zipf
from ticket_intel.core.normalize import CLOSING_ELSEWHERE, VALEDICTION

# Words that are also given names or surnames but mean something else in support tickets.
_CALENDAR_WORDS = frozenset({m.lower() for m in calendar.month_name[1:]} | {d.lower() for d in calendar.day_name})
DEFAULT_KEEP_WORDS = _CALENDAR_WORDS | frozenset(
    {
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
# Words of a letter, mostly in the other languages the tool reads (German, French, Spanish, Italian, Dutch,
# Portuguese), that are capitalised, or first names somewhere, yet never a name: the formal "you" ("Können
# Sie Ihre Antwort ..." was "Können [PERSON] ...": Sie is a Faker first name, Ihre no common English word),
# the titles that open a name ("Frau", "Mme", "Sr.", "Dr": its cue, `_STRONG_CUES`; "Herr Dr. Schmidt" was
# "Herr [PERSON]. [PERSON]") and one-word closings ("MfG", "Merci": "Merci! Oliver Brown" lost "Merci"). Italian
# "Lei" is the formal you and a Chinese given name: before a surname it is a name (`FORMAL_GIVEN_NAMES`). "Ich",
# "Soy", "Sono", "Sou" ("I am") open a sentence: "Ich bin Koch", "Soy Herrero" were names (a word no common
# English word, the particle "bin", a surname).
LETTER_WORDS = frozenset(
    {
        "sie", "ihr", "ihre", "ihrem", "ihren", "ihrer", "ihres", "ihnen", "vous", "votre", "vos", "usted",
        "ustedes", "ud", "uds", "vd", "vds", "u", "uw", "lei", "ich", "soy", "sono", "sou",
        "herr", "herrn", "frau", "fräulein", "madame", "monsieur", "mademoiselle", "mme", "mlle", "señor", "señora",
        "señorita", "sr", "sra", "srta", "signor", "signora", "signorina", "sig", "dott", "meneer", "mevrouw",
        "dhr", "mevr", "senhor", "senhora", "damen", "herren", "mr", "mrs", "ms", "mx", "dr", "prof",
        "danke", "merci", "gracias", "grazie", "obrigado", "obrigada", "bedankt", "cordialement", "saludos",
        "saludo", "atentamente", "atenciosamente", "mfg", "grüße", "grüßen", "gruß", "groet", "groeten",
        "salutations",
    }
)  # fmt: skip
# The formal you that is a given name too, which Faker's lists lack (they write Chinese names in
# characters): a name before a surname ("Lei Zhang"), as a kept product's name that is a first name is.
FORMAL_GIVEN_NAMES = frozenset({"lei"})
MAX_NAME_WORDS = 4
PARTICLES = frozenset({"de", "da", "del", "della", "di", "do", "dos", "das", "du", "van", "von", "der", "den",
                       "ter", "te", "ten", "la", "le", "bin", "ibn", "al", "el", "y", "st"})  # fmt: skip

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# A cue is a word of prose, not a file's extension or a domain's label glued to a word by a dot: "propagate_fixed_
# sizes.cc Unhandled operator" cued "Unhandled" as the e-mail's "Cc".
_NOT_IN_FILE_NAME = r"(?<!\w\.)"
# The alternatives (of these, the weak cues and the introductions) are tried only where a word starts with one
# of their first letters, or two where the first is a frequent one ("i": "ich", "il", "ik"; the lookahead: keep
# it in step with them), which keeps the scan of every text as fast as it was with the English cues alone.
_STRONG_CUES = (
    rf"\b{_NOT_IN_FILE_NAME}(?=[acdfhmnps]|i[ckl]|je)(?:my name is|my name's|account holder(?: is|:)"
    r"|card ?holder(?: is|:)|signed,?"
    # A form's label is written "Name:" or opens a line; a lowercase "name:" after other words is a program's
    # key or prose ("(device: 0, name: Tesla T4, pci bus id", "two metrics with the same name: Dense_xx").
    r"|(?-i:N(?:ame|AME)|(?<![^\n])name)\s*:"
    # A title written in capitals needs its dot: "MS Configuration Manager", "MX Master 3S" and "DR site" name a
    # product or an abbreviation, as "SR-11382" below does.
    r"|(?-i:[Mm](?:rs?|s|iss|x)|[Dd]r|[Pp]rof)\.?|(?:mrs?|ms|miss|mx|dr|prof)\."
    # the same titles in German, French, Spanish, Italian, Dutch and Portuguese ("Frau Weber", "Mme Dupont",
    # "Sr. García"); an abbreviation needs its dot, so that "SR-11382" or "Sig Sauer" cue nothing
    r"|(?:herrn?|frau|madame|monsieur|mademoiselle|mme|mlle|se(?:ñ|n)or(?:a|ita)?|signor(?:a|ina)?|meneer"
    r"|mevrouw|senhora?|sig\.ra|sig\.na|dott\.ssa)\b|(?:sra?|srta|sig|dott|dhr|mevr)\."
    # and their "my name is" ("Ich heiße Jürgen", "je m'appelle Marie", "me llamo Lucía", "mi chiamo Giulia")
    r"|mein name ist|ich hei(?:ß|ss)e|je m['’]appelle|mon nom est|me llamo|mi nombre es|mi chiamo"
    r"|il mio nome è|mijn naam is|ik heet|meu nome é|me chamo|chamo-me"
    # "I am" in those languages (group `intro`). Every German noun is capitalised ("ich bin Kunde") and a product
    # in any language ("je suis Premium"), so the word after it names a person only when the gazetteer knows it
    # as a first name, as a sign-off's does ("ich bin Jürgen", "soy Lucía"). One scan with the cues above.
    r"|(?P<intro>ich bin|je suis|soy|sono|ik ben|sou))"
)
# Introductions: after them a state or a thing ("it's Redundant") is as likely as a name ("it's Louise").
_INTRODUCTIONS = r"this is|i am|i'm|it's"
_INTRODUCTION = re.compile(_INTRODUCTIONS, re.IGNORECASE)
_WEAK_CUES = (
    rf"\b{_NOT_IN_FILE_NAME}(?=[abcdhirst])(?:{_INTRODUCTIONS}|regards,?|thanks,?|thank you,?|cheers,?|best,?|sincerely,?"
    r"|sorry,?|apologies,?|hi,?|hello,?|dear|hey,?|spoke (?:to|with)|talked (?:to|with)|ask(?:ed)?|cc:?)"
)
# A cue counts when it ends right before a word (a letter not right after a letter) and starts
# at most CUE_WINDOW characters before it.
CUE_WINDOW = 40
_STRONG_CUE = re.compile(rf"(?:{_STRONG_CUES})\s*(?<![^\W\d_])(?=[^\W\d_])", re.IGNORECASE)
_WEAK_CUE = re.compile(rf"(?:{_WEAK_CUES})\s*(?<![^\W\d_])(?=[^\W\d_])", re.IGNORECASE)
_TRAILING_CUES = r",?\s+(?:here\b|speaking\b|from (?:your|the) (?:team|support|company|office)\b|said\b|told me\b)"
_TRAILING_CUE = re.compile(_TRAILING_CUES, re.IGNORECASE)
_LABEL_END = re.compile(r"[ \t]*:")
# A sign-off: a line's last word after a dash ("... let you know. - Isolde", "-Shawn" closing an agent's
# tweet), or the last words of a line after a closing in any language the tool reads, whatever follows
# the closing ("Thanks.\nAmy", "Merci! Julie", "Danke\nJürgen", "Cordialement,\nMartin Bernard";
# `_closing_sign_offs`). It names a person only when the gazetteer knows its first word as a first name:
# GitHub titles end in "- FancyZones", "- Regression", "-Onone", and a German closing is followed by
# "Kundenservice" as often as by a name.
_SIGN_OFF = re.compile(r"(?<!\S)[-–—~]\s?(?=[^\W\d_]+[.!]?[ \t]*$)", re.MULTILINE)
# A dash signs a message: the text before it ends a sentence or speaks as or to a person ("we will look into this
# for you ~ Vicky"). A bug title says neither, and its last words after a dash name a part or a language: "Chinese
# Translation issues - General", "Mouse without Borders feature description - German".
_MESSAGE = re.compile(r"[.!?…](?:\s|$)|\b(?i:i|me|my|we|us|our|you|your)\b")
_CLOSING_BEFORE = re.compile(rf"(?i)\b(?:{VALEDICTION}|{CLOSING_ELSEWHERE})[ \t]*[,.!]*\s+\Z")
# A letter str.isupper() could accept: an ASCII capital or any non-ASCII character.
_CAPITAL = r"[A-Z\x80-\U0010FFFF]"
_CAPITALISED_WORD = rf"{_CAPITAL}(?:[^\W\d_]|['’-])*"
# A CamelCase identifier (TensorFlow, SwiftDriver, ExtractImagePatches, XCode, GPUDelegate): a capital after
# three lowercase letters, or a lowercase letter after two capitals. A name's inner capital follows at most
# two lowercase letters (MacArthur, DuBuque, LaToya): 3 of Faker's 56,412 names have either shape.
_IDENTIFIER = re.compile(r"[a-z]{3}[A-Z]|[A-Z]{2}[a-z]")
# A title-cased line (every word but small words capitalised, as many bug titles are) says nothing by its
# capitals; it needs at least this many capitalised words to count as one.
TITLE_CASE_WORDS = 3
# Below this Zipf frequency (about 3 per million words, wordfreq) a word is no English word a reader knows: it
# may be a given name or a surname the gazetteer lacks ("Zanele", "Rutgers"), where "Router" or "Raspberry" is not.
KNOWN_ZIPF = 3.5
# A word too rare in wordfreq's counts for that can still be one every reader knows: a known word with one of
# English's productive prefixes or its -ing ending ("Unsupported" 3.0: "supported"; "Revisit", "Preprocess",
# "Multiplying"). Its base counts from MIN_BASE_LETTERS letters and when no list holds it as a name, so that
# names are not split into a prefix and a word ("Renate", "Relinda", "Resat", "Browning"). The -s, -ed and -er
# endings are left out: many surnames end so ("Morales", "Pitts", "Dieter").
PREFIXES = ("un", "re", "pre", "non", "dis", "mis", "over", "under")
MIN_BASE_LETTERS = 4
# Without a strong cue, a name is two capitalised words one space apart (particles between), or a
# capitalised word after a weak cue or before a trailing one: a text with none of these has no name.
_NAME_SHAPE = re.compile(
    rf"{_CAPITALISED_WORD} (?:(?i:{'|'.join(sorted(PARTICLES))}) )*{_CAPITAL}"
    rf"|(?i:{_WEAK_CUES})\s*(?<![^\W\d_]){_CAPITAL}"
    rf"|{_CAPITALISED_WORD}(?i:{_TRAILING_CUES})"
    rf"|{_SIGN_OFF.pattern}{_CAPITAL}", re.MULTILINE
)


@dataclass(frozen=True)
class Gazetteer:
    first: frozenset[str]
    last: frozenset[str]
    names: frozenset[str]  # first | last
    keep: frozenset[str]
    # Words kept as product names that are first names too ("Chase", a user's "Tabitha"): before a
    # surname they are a person's ("I spoke to Chase Miller" kept the whole name).
    keep_first: frozenset[str] = frozenset()
    products: frozenset[str] = frozenset()  # the kept product names (built in and TICKET_INTEL_KEEP_WORDS)


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

    products = (DEFAULT_KEEP_WORDS - _CALENDAR_WORDS) | {w.casefold() for w in keep_words}
    keep = products | set(STOP_WORDS) | _CALENDAR_WORDS | {w.casefold() for w in LETTER_WORDS}
    every_first = _provider_names(("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"))
    first = frozenset(every_first - keep)
    last = frozenset(_provider_names(("last_names", "last_names_male", "last_names_female")) - keep)
    return Gazetteer(first=first, last=last, names=first | last, keep=frozenset(keep),
                     keep_first=frozenset((products & every_first) - set(STOP_WORDS)) | FORMAL_GIVEN_NAMES,
                     products=frozenset(products))


def is_common_word(folded: str) -> bool:
    return zipf(folded) >= COMMON_ZIPF


def _capitalised(word: str) -> bool:
    """A word written as a name is: a capital, not all capitals, and no CamelCase identifier."""
    return word[0].isupper() and (len(word) == 1 or not word.isupper()) and not _IDENTIFIER.search(word)


def _title_cased(text: str, at: int, gaz: Gazetteer, until: int | None = None) -> bool:
    """Whether the line holding text[at] is in title case: its capitals then mark no name ("Swift 6
    Sendable Key Path Dynamic Member Lookup Regression"). Words from `at` to `until` are left out (a cue
    and the name after it: "Hi, It's Olga Mensah" is no title)."""
    first, last = text.rfind("\n", 0, at) + 1, (end if (end := text.find("\n", at)) >= 0 else len(text))
    line = text[first:last] if until is None else text[first:at] + " " + text[until:last]
    words = [w for w in _WORD.findall(line) if w.casefold() not in gaz.keep]
    return len(words) >= TITLE_CASE_WORDS and all(w[0].isupper() for w in words)


Word = tuple[int, int, str]  # start, end, text


# Where _WORD could start a word that str.isupper() opens: an ASCII capital or any non-ASCII
# character (checked again on the word), not after a letter, nor after a letter and an apostrophe
# or hyphen (those continue the word). Scanning for these skips the many lowercase words.
_CAPITAL_START = re.compile(r"[A-Z\x80-\U0010FFFF](?<![^\W\d_].)(?<![^\W\d_]['’-].)")


def _words_at(text: str, starts: Iterable[int]) -> list[Word]:
    matches = (_WORD.match(text, i) for i in starts)
    return [(m.start(), m.end(), m.group()) for m in matches if m is not None and not _in_identifier(text, m)]


# A digit or underscore glued to a word makes it part of an identifier, a link's slug or a model's code, never a
# name's word: "https://t.co/0Es97NbnOj Hope" was "NbnOj Hope", "name: Dense_xx Accuracy" and "Tesla T4" went on.
_IDENTIFIER_CHAR = re.compile(r"[\d_]")


def _in_identifier(text: str, word: re.Match[str]) -> bool:
    return bool(_IDENTIFIER_CHAR.match(text, word.end()) or (word.start() and _IDENTIFIER_CHAR.match(text, word.start() - 1)))


def _starts(text: str, gaz: Gazetteer, lowercase: bool) -> list[Word]:
    """The words a name could start at: capitalised words other than words to keep, and (when
    `lowercase`: a strong cue is somewhere in the text) lowercase gazetteer names too."""
    if lowercase:
        words = _words_at(text, (m.start() for m in _WORD.finditer(text)))
        return [w for w in words if (_capitalised(w[2]) or w[2].casefold() in gaz.names) and w[2].casefold() not in gaz.keep]
    words = _words_at(text, (m.start() for m in _CAPITAL_START.finditer(text)))
    return [w for w in words if _capitalised(w[2]) and (w[2].casefold() not in gaz.keep or w[2].casefold() in gaz.keep_first)]


def _cue_before(cues: dict[int, int], start: int) -> bool:
    return start in cues and cues[start] >= start - CUE_WINDOW


def _speaker_label(text: str, start: int, end: int) -> bool:
    """Whether the words at text[start:end] open a line and end in a colon, as a chat transcript's
    speaker does ("Crystal Bailey: my card is due to expire")."""
    before = text[:start].rstrip(" \t")
    return (not before or before.endswith("\n")) and _LABEL_END.match(text, end) is not None


def _run(text: str, first: Word, gaz: Gazetteer, lower: bool) -> list[Word]:
    """The name-shaped words starting at `first`: capitalised words one space apart, with lowercase
    particles (van, de) inside; `lower` accepts lowercase gazetteer words instead."""
    run, end = [first], first[1]
    while len(run) < MAX_NAME_WORDS and (m := _WORD.search(text, end)) is not None and text[end:m.start()] == " ":
        word = m.group()
        folded = word.casefold()
        if folded in gaz.keep:
            break
        if _in_identifier(text, m):
            break
        if (lower and folded in gaz.names) or (not lower and _capitalised(word)):
            run.append((m.start(), m.end(), word))
        elif not (not lower and folded in PARTICLES and (n := _WORD.search(text, m.end())) and _capitalised(n.group())):
            break
        end = m.end()
    return run


def _name_at(text: str, first: Word, gaz: Gazetteer, cues: tuple[dict[int, int], dict[int, int], set[int]]
             ) -> tuple[int, int, str] | None:
    """The span (start, end, rule) of the name starting at word `first`, if one does; `cues`: the
    strong and weak cues of the text (word start -> cue start), and the words a sign-off or an
    introduction opens."""
    start, _, word = first
    capitalised = _capitalised(word)
    if word.casefold() in gaz.keep_first:  # a product's name unless a surname follows it
        run = _run(text, first, gaz, lower=False)
        return (start, run[1][1], "gazetteer") if len(run) > 1 and run[1][2].casefold() in gaz.last else None
    strong = _cue_before(cues[0], start)
    if not (capitalised or strong):
        return None
    # after a title, a particle opens a capitalised name ("Mevrouw de Vries")
    run = _run(text, first, gaz, lower=not capitalised and word.casefold() not in PARTICLES)
    folds = [w.casefold() for _, _, w in run]
    # A rare capitalised word is name-shaped; a common English word that is no name is not.
    namey = [f in gaz.names or not is_common_word(f) for f in folds]
    prefix = 0  # the name ends at the last of its leading name-shaped words
    while prefix + 1 < len(run) and namey[prefix + 1]:
        prefix += 1
    end = run[prefix][1]
    pair = prefix >= 1 and _in_role(folds, gaz)
    # In a title-cased line capitals mark no name: a pair there, or a word after an introduction, is a known
    # given name and no everyday word ("Sendable Key Path", "Poor Constant Propagation", "Says It's Redundant",
    # "Unless It's Manually Copied" are none; "Filed By Lauren Duprat" is one).
    known_given = folds[0] in gaz.first and not any(is_common_word(f) for f in folds[:prefix + 1])
    if pair and not known_given and not _speaker_label(text, start, end) and _title_cased(text, start, gaz):
        pair = False
    # Two everyday words ("Star Date", "Will Power") are not a name without a cue; a chat's speaker
    # label ("John Smith: my card ...") is one.
    if pair and (not all(is_common_word(f) for f in folds[:prefix + 1]) or _speaker_label(text, start, end)):
        return start, end, "gazetteer"
    # After a title an initial is a name's ("Mr. J. Smith"), an everyday word that is no name a job's or a
    # product's ("Sr. Engineer", "MS Office").
    shaped = namey[0] or (strong and len(word) == 1)
    cue = cues[1][start] if _cue_before(cues[1], start) else None
    weak = cue is not None or _TRAILING_CUE.match(text, end)
    if (cue is not None and _INTRODUCTION.match(text, cue) and not known_given
            and _title_cased(text, cue, gaz, run[prefix][1])):
        weak = False  # the introduction is a word of a title
    if shaped and (strong or weak):
        return start, run[prefix][1], "cue"
    if start in cues[2] and folds[0] in gaz.first:
        return start, run[prefix][1], "cue"
    return None


def _in_role(folds: list[str], gaz: Gazetteer) -> bool:
    """Whether a pair's two words could be a given name and a surname. A given name that is no English
    word a reader knows ("Marijn", "Lauren": `_known_word`) opens one before any name-shaped word; one
    that is also such a word ("Page", "Dev", "Media") only before a listed surname or a word no reader
    knows; a word the gazetteer does not know as a given name only before a listed surname, and when no
    reader knows it either ("Zanele Brown"). 148 of 55,045 GitHub titles held a "[PERSON]", none a
    person's ("Page Router", "Dev Server", "Raspberry Pi", "Adobe Reader", "Invalid Date"): 79, then 67
    with words known by their base ("Unsupported Bridge", "Bert Preprocess"; docs/redaction.md)."""
    first, second = folds[0], folds[1]
    if first in gaz.first:
        return not _known_word(first, gaz) or second in gaz.last or not _known_word(second, gaz)
    return second in gaz.last and not _known_word(first, gaz)


def _known_word(folded: str, gaz: Gazetteer) -> bool:
    """Whether a reader knows the word: from its own frequency, or from its base's (PREFIXES). A rare
    English word read as no word at all made "[DevTools Bug] Unsupported Bridge operation" a name:
    "Unsupported" as a given name the lists lack, before the surname "Bridge"."""
    if zipf(folded) >= KNOWN_ZIPF:
        return True
    words = [folded, *(folded[len(p):] for p in PREFIXES if folded.startswith(p))]
    bases = {b for w in words for b in (w, *_ing_stems(w))} - {folded}
    return any(len(b) >= MIN_BASE_LETTERS and b not in gaz.names and zipf(b) >= KNOWN_ZIPF for b in bases)


def _ing_stems(word: str) -> list[str]:
    """The words `word` may be the -ing form of ("importing": import, "making": make, "stopping": stop)."""
    if not word.endswith("ing"):
        return []
    stem = word[:-3]
    return [stem, stem + "e", *([stem[:-1]] if len(stem) > 1 and stem[-1] == stem[-2] else [])]


def _closing_sign_offs(text: str, gaz: Gazetteer) -> set[int]:
    """Where a known first name opens a line's last words (at most MAX_NAME_WORDS, nothing but words)
    right after a closing. Read from each line's end, which is cheaper than looking for the closings'
    alternation at every character of the text."""
    found: set[int] = set()
    start = 0
    for line in text.split("\n"):
        end = start + len(line.rstrip(" \t.!"))
        words: list[tuple[int, str]] = []
        for token in reversed(text[start:end].split()[-MAX_NAME_WORDS:]):
            end = text.rfind(token, start, end)
            if not _WORD.fullmatch(token):
                break
            words.insert(0, (end, token))
        for at, word in words:
            if word[0].isupper() and word.casefold() in gaz.first and _CLOSING_BEFORE.search(text, max(0, at - CUE_WINDOW), at):
                found.add(at)
                break
        start += len(line) + 1
    return found


def find_names(text: str, gaz: Gazetteer) -> list[tuple[int, int, str]]:
    """Spans (start, end, rule) of person names; rule is `gazetteer` or `cue`."""
    cued = list(_STRONG_CUE.finditer(text))
    strong = {m.end(): m.start() for m in cued if m.group("intro") is None}
    # the words a closing or an introduction opens: a name when the gazetteer knows them as first names
    known_first = _closing_sign_offs(text, gaz) | {m.end() for m in cued if m.group("intro") and text[m.end()].isupper()}
    if not strong and not known_first and not _NAME_SHAPE.search(text):
        return []
    starts = _starts(text, gaz, lowercase=bool(strong))
    if not starts:
        return []
    cues = (strong, {m.end(): m.start() for m in _WEAK_CUE.finditer(text)},
            known_first | {m.end() for m in _SIGN_OFF.finditer(text) if _MESSAGE.search(text, 0, m.start())})
    spans: list[tuple[int, int, str]] = []
    for first in starts:
        found = _name_at(text, first, gaz, cues) if not spans or first[0] >= spans[-1][1] else None
        if found is not None:
            spans.append(found)
    return spans
