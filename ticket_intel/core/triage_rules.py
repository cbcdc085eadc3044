"""Keyword rules for single tickets: what they report, how badly, and the escalation signals.

Every rule is generic support language a reviewer can read and argue with: no product, brand or
dataset vocabulary beyond the names of common platforms a failure can depend on. Definitions
and borderline cases: bench/labels/GUIDE.md. Rule families vote for triage categories and
subcategories by name (`triage.yaml` lists which); severity takes the first level whose rule
matches; escalation signals are all explicit statements, never tone alone.

The rules are written in lower case and read text through `fold`: compiled case-sensitively over
folded text, they match exactly what they would match with `re.IGNORECASE`, at about a third of
the cost (issue 16: triage must stay small beside embedding). Call them through the functions
here, which fold for you; a pattern of `RULE_FAMILIES` or `ESCALATION_RULES` needs folded text.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel

from ticket_intel.core.meaning import profane_words
from ticket_intel.core.vocabulary import MONTH, SEVERITIES, URGENCIES
from ticket_intel.core.yaml_text import STRICT, load_model

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"(?<!\w)[@.]?@\w+")
_PLACEHOLDER = re.compile(r"\[[A-Z_]+\]|<\d+>|&lt;\d+&gt;")
# A hashtag's words run together in camel case (#WorstRideEver): a word starts at each capital
# after two lower-case letters (a product's "iPhone" or "iOS" stays whole).
_HASHTAG = re.compile(r"#(\w+)")
_CAMEL_BREAK = re.compile(r"(?<=[a-z]{2})(?=[A-Z])")
_LETTERS = re.compile(r"[a-z]+")
# A negation as customers type it: "doesn't", "doesnt", "not" (not "want" or "client").
_NOT = r"(?:(?:do|does|did|is|was|are|were|ca|wo|has|have|had|could|would|should|must)n'?t|not|never|no longer)"
# A negated verb ("doesn't", "is not", "never"), not a negated noun ("AUD not GBP", "not in the UK").
_NEGATED_VERB = (
    r"(?:(?:do|does|did|is|was|are|were|ca|wo|has|have|had|could|would|should|must)n'?t|never|no longer|"
    r"(?:is|are|was|were|does|do|did|has|have|had|will|would|can|could|should|must|being|been) not)"
)
# After a negation, verbs of opinion or need are not a failure: "I don't understand", "I don't need".
_NOT_A_FAILURE = r"(?:know|understand|want|need|think|remember|mind|care|like|sure|have|wish|matter|only|just|even|find (?:where|how|out))\b"
# How long a customer has waited: "3 days", "2-3 weeks", "a few weeks", "over 72 hours" (hours count
# from a day up: an outage of a few hours is not a long wait), "an entire week".
_COUNT = (r"(?:\d+(?:[-/]\d+)?\+?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several|"
          r"many|(?:a )?few|(?:a )?couple(?: of)?)")
_DAYS = rf"{_COUNT} ?(?:days?|weeks?|wks?|fortnights?|months?)"
# A span of days or more without a count: "for weeks", "days now", "it's been months", "a long time".
_UNCOUNTED = r"(?:days|weeks|months|a (?:really |very |so |super )?long time)"
# How many times a customer contacted the company: "five times", "multiple times".
_TIMES = (r"(?:so many|many|several|multiple|countless|numerous|a few|a dozen|\d+|three|four|five|six|seven|"
          r"eight|nine|ten) times")
_NTH = r"(?:second|third|fourth|fifth|sixth|2nd|3rd|4th|5th|6th|\d+th)"
_LONG_HOURS = r"(?:2[4-9]|[3-9]\d|\d{3,}) ?\+? ?(?:hours?|hrs?)"
_SPAN = (rf"(?:(?:over|almost|nearly|more than|at least|about|around|close to|(?:the )?past|(?:the )?last) )?"
         rf"(?:{_DAYS}|{_LONG_HOURS})")
_DATE = rf"(?:\d{{1,2}}(?:st|nd|rd|th)(?: of {MONTH})?|{MONTH} ?\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}(?:st|nd|rd|th)? {MONTH})"
# What comes before a span of days that is a wait ("no signal for 3 days"), not a booking ("a room for 2 days").
_WAITING = (r"(?:wait\w*|not|n't|no|nothing|never|still|pending|stuck|down|out|been|gone|without|delay\w*|late|"
            r"trying|tried|since|already|again|ago|missing|lost|broken|off|outage|problems?|issues?|disrupt\w*|interrupt\w*|"
            r"unable|errors?|fail\w*|crash\w*|loss|losing|dropp\w*|trouble|unusable|mistreat\w*)")
# A wait the customer states: for how long, since when, what still has not come, no reply, again and again.
_LONG_WAIT = "|".join([
    r"(?:still|been|kept|keep) (?:a)?wait\w*", rf"(?:a)?wait\w* (?:for |since )?{_SPAN}",
    rf"wait\w* (?:for|since) (?:over |more than |almost )?{_COUNT} ?(?:hours?|hrs?)",
    rf"{_WAITING}\b[^.!?]{{0,50}}\b(?:for|over|almost|nearly|more than|past|last|at least) {_SPAN}", rf"been {_SPAN}",
    rf"(?:over|almost|nearly|more than|at least) {_DAYS}\b[^.!?]{{0,50}}\b{_WAITING}",
    r"(?:sitting|stuck|waiting|queu\w*|standing|held)\b(?![^.!?]{0,40}\b(?:plane|tarmac|runway|aircraft)\b)"
    r"[^.!?]{0,30}\b(?:for )?(?:over |nearly |almost |about )?\d+\+? ?"
    r"(?:hours?|hrs?)|\d+\+? ?(?:hours?|hrs?) (?:since|and still)",
    r"for (?:an? |the )?(?:entire|whole|full) (?:week|month)", rf"{_DAYS} (?:late|overdue|behind|and counting)(?! fee| charge)",
    r"(?:wait\w*|pending|nothing|no \w+|not \w+|n't \w+|still|stuck|call\w*|try\w*|tried|contact\w*|chas\w*|"
    r"email\w*)\b[^.!?]{0,40}\bsince (?:a while|\d+\w*|last|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*)",
    rf"\bon (?:the )?{_DATE}[^.!?]{{0,60}}\b(?:still|yet|until now|till now)",
    rf"(?:placed|ordered|paid|booked|sent|applied|submitted|bought|purchased|order placed)\b[^.!?]{{0,20}}"
    rf"(?:{_DATE}|\d{{1,2}}[-/.]\d{{1,2}}[-/.]\d{{2,4}})[^!?]{{0,60}}\b(?:still|until now|till now)",
    r"still (?:(?:have|has|did|do|does|is|are|was|were)n'?t|(?:have|has|did|do|does|is|are|was|were) not|not|no|never|"
    r"awaiting) (?:been |even |yet )?(?:\w+ ){0,2}?(?:received?|arrived?|delivered|refunded|credited|fixed|resolved|"
    r"heard|got|gotten|sent|shipped|dispatched|replied|responded|returned|processed|refund|package|parcel|delivery|"
    r"order|money|update|answers?|reply|response|return|pickup|call ?back|news|word)",
    r"(?:for|taking) (?:so|too|this) long|going on (?:for )?too long|how much longer|"
    # "ages" of a device's own slowness ("takes ages to shut down") is no wait for the company.
    r"ages(?! to (?:shut|load|boot|start|open|restart|turn|charge|switch|close|run|update|install|download|upload|"
    r"connect|sync|respond))",
    r"no (?:reply|response|answers?)|(?:never|not) (?:heard back|got a reply|responded|replied)|"
    r"never (?:repl|respond|answer|got back|call\w* back)\w*|(?:bothered|care|cares) to (?:answer|reply|respond)|"
    r"no(?: ?one|body) (?:has |have |is |was |will |even )?(?:repl|respond|answer|got back|get back|call\w* back)\w*|"
    r"(?:zero|no) (?:returned calls|call ?backs?)|ignor(?:e|es|ed|ing) (?:me|us|my (?:messages|emails|calls|tweets|dms))|"
    r"ever going to (?:answer|reply|respond)|still no (?:answer|reply|response|update)s?|"
    r"(?:they|you|u|nobody|no one|support|agents?|reps?|representatives?|staff)(?: guys| all)? "
    r"(?:(?:do|does|did|will|wo)n'?t|(?:do|does|did|will) not|never) (?:even )?(?:answer|respond|reply|pick up|get back)|"
    r"(?:answer|pick up) your (?:\w+ )?(?:phones?|calls?)|(?:hundreds|dozens|countless) of hours|"
    r"not (?:\w+ )?important (?:enough )?to (?:answer|reply|respond|get (?:a )?(?:reply|response|answer))|"
    r"(?:same|this|my) (?:request|question|complaint|message|query|enquiry|inquiry) again|"
    r"(?:asking|requesting|raising|sending) (?:this |it |the same \w+ )?again",
    r"(?:second|third|fourth|fifth|2nd|3rd|4th|5th|\d+th) time (?:i(?:'ve| have)? )?(?:contact|call|ask|messag|tweet|"
    r"email|writ|report)\w*|(?:asked|requested|called|contacted|emailed|messaged|tweeted|written|chased|reported|"
    rf"(?:re)?sen[dt]|chatted)\w*(?:/\w+)? (?:\w+ ){{0,3}}{_TIMES}|"
    r"(?:left|sent) (?:\w+ )?(?:about |over |around )?(?:so many|many|several|multiple|countless|numerous|\d+) "
    r"(?:\w+ )?(?:messages|e?mails|voicemails|calls|tweets|dms)|how many (?:more )?times (?:do|must|have|should|will|am) (?:i|we)",
    # Spans without a count, a wait that is overdue or has lasted too long, a day count of an outage.
    rf"{_WAITING}\b[^.!?]{{0,50}}\bfor {_UNCOUNTED}|for {_UNCOUNTED} (?:now|on end)|"
    rf"{_UNCOUNTED} (?:now|later|and (?:still|no|nothing|counting))|"
    rf"it'?s been {_UNCOUNTED}|{_DAYS} ago\b[^.!?]{{0,60}}\b(?:still|yet|nothing|no (?:sign|word|news|update))|"
    r"(?:refund|delivery|order|package|parcel|payment|transfer|repair|reply|response|money)s? (?:(?:is|are|was|now) )*"
    r"(?:long |way )?overdue|(?:fed up|tired|sick(?: and tired)?) (?:of|with) (?:all )?(?:the |this )?waiting|"
    r"waited (?:long )?enough|(?:can'?t|cannot|won'?t) wait any ?(?:longer|more)|"
    rf"{_DAYS} is (?:so |too |way too |far too |a )?(?:long|much)|{_NTH} day (?:without|of no|with no|in a row)|"
    r"day \d+ (?:without|of no|with no)",
    # Something that still has not come, no reply, the same contact again and again.
    r"still (?:no|nothing|zero) (?:\w+ ){0,2}?(?:activation|sign|word|news|update|reply|response|answer|refund|money|"
    r"package|parcel|delivery|order|call ?back|fix|resolution|solution|confirmation|e?mail|contact|help)|still nothing|"
    r"still (?:not (?:here|back|sorted|done|resolved|in my account)|missing|outstanding|unresolved|unanswered)|(?:have|has)n'?t heard (?:anything|a thing|back)|"
    r"no(?: ?one|body) (?:has |have |had )?(?:ever )?(?:got(?:ten)? back|gets back|answers|picks up|responds|replies|"
    r"calls back)|(?:keep|kept|been|keeps) (?:on )?(?:calling|e?mailing|messaging|tweeting|chasing|contacting|ringing|"
    rf"trying to (?:call|reach|contact|get through))|"
    # The same contact again, counted ("third time I'm asking", "the 4th time I have written").
    rf"{_NTH} time (?:that )?(?:i'?m |i am |i'?ve |i have |we'?re |we are |we'?ve |we have )?(?:been )?(?:asking|writing|"
    r"written|contacting|contacted|calling|called|messaging|messaged|e?mailing|e?mailed|reaching out|chasing|chased|"
    r"requesting|tweeting|tweeted|complaining|raising)|"
    rf"{_NTH} (?:tweet|e?mail|call|message|dm|complaint|letter|chat) "
    r"(?:about|regarding|on|today|this)|(?:asked|called|contacted|e?mailed|messaged|tweeted|chased|written|rang|tried)"
    r"\w* (?:\w+ ){0,3}(?:again and again|over and over|repeatedly|time and again|time after time)",
    r"call\w* (?:me |us )?(?:back )?[^.!?]{0,30}\b(?:as|like) (?:you |they |u )?(?:promised|said)|"
    r"(?:you|they|u|he|she|someone)(?: guys)? (?:said|promised|told (?:me|us))[^.!?]{0,20}\b(?:you|they|u|he|she|someone)"
    r"(?:'d| would|'ll| will) (?:call|ring|phone|contact|get back to) (?:me|us)|"
    r"wasted (?:\w+ ){0,3}(?:hours|an hour|\d+ ?(?:hours?|hrs?))|(?:sick|tired|fed up) (?:of|with) (?:calling|contacting|"
    r"chasing|ringing|e?mailing|messaging|tweeting|phoning)|(?:made|making|placed|after) (?:a bunch of|a lot of|lots of|"
    r"so many|many|several|multiple|countless|numerous|endless|\d+) (?:phone )?(?:calls|e?mails)|"
    r"(?:get|have|receive) (?:a |an |some )?(?:response|reply) (?:re|regarding|to (?:my|our)|about my)\b|"
    r"can'?t (?:seem to )?get through|(?:the|a) run ?-?around|on hold\b[^.!?]{0,25}\b(?:for )?(?:over |more than |nearly |almost |about )?"
    r"(?:an hour|hours|ages|forever|\d+ ?(?:hours?|hrs?))|(?:hours|an hour|ages|forever) on hold|hours? on the phone|\d+ ?(?:hours?|hrs?) (?:of calls|on the phone|on hold)|"
    r"wait (?:time )?to (?:speak|talk|get through)[^.!?]{0,40}\b(?:\d+ ?(?:hours?|hrs?|hr)|an hour)",
    # A span that has gone by ("more than 24hrs passed", "since 3 days", as many write "for"), a
    # contact that came to nothing, a question asked again, "days ago ... Still.", and deliveries
    # that take days ("they take a week to arrive"; not "does it take 3 days to arrive?").
    rf"{_SPAN} (?:have |has |had )?(?:passed|gone by|gone past|elapsed)|since {_SPAN}\b(?! ago)|"
    rf"{_DAYS} ago\b[^!?]{{0,30}}\bstill\b|"
    r"(?:contacted|called|e?mailed|messaged|tweeted|chased|asked|rang|phoned|complained|wrote|dm'?d)\b[^.!?]{0,80}\b"
    r"but (?:still )?(?:no joy|nothing|no (?:reply|response|luck|answer|help|resolution|update|solution))|"
    r"again,? (?:i|we) (?:need|have|had) to (?:ask|contact|write|chase|call|tweet|message|remind)|"
    rf"(?<!it )tak(?:e|es|ing|en) (?:over |more than |almost |about )?{_DAYS} to (?:arrive|come|ship|be delivered|deliver|"
    r"get here|process|respond|reply|refund|dispatch)",
])


def clean(text: str) -> str:
    """The words of a ticket: URLs, @handles and placeholders out, curly quotes straightened,
    hashtags as words ("#WorstRideEver" reads "Worst Ride Ever")."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("&amp;", "&")
    text = _PLACEHOLDER.sub(" ", _HANDLE.sub(" ", _URL.sub(" ", text)))
    text = _HASHTAG.sub(lambda m: " " + _CAMEL_BREAK.sub(" ", m.group(1)), text)
    return " ".join(text.replace("#", " ").split())


def _ignorecase_letters() -> dict[int, str]:
    """Every character `re.IGNORECASE` equates with an ASCII letter, mapped to that lower-case
    letter: A-Z, and the few others Python's matcher also folds (dotless i, capital I with a dot,
    long s, the Kelvin sign). The Basic Multilingual Plane holds them all (the tests check every
    code point)."""
    bmp = "".join(map(chr, range(0x10000)))
    found = set(re.findall("[a-z]", bmp, re.IGNORECASE)) - set(string.ascii_lowercase)
    return {ord(c): next(x for x in string.ascii_lowercase if re.fullmatch(x, c, re.IGNORECASE)) for c in found}


_FOLD = _ignorecase_letters()


def fold(text: str) -> str:
    """The text as the rules read it: one character for one (positions are kept), each letter that
    `re.IGNORECASE` would equate with an ASCII letter replaced by that lower-case letter. No rule
    holds another cased letter, so other characters need no change."""
    return text.lower() if text.isascii() else text.translate(_FOLD)


def _rx(pattern: str) -> re.Pattern[str]:
    """A rule over folded text: lower-case letters only (outside escapes such as \\S), so that
    case-sensitive matching of folded text is case-insensitive matching of the text."""
    cased = {c for c in re.sub(r"\\.", "", pattern) if c.lower() != c.upper() and not ("a" <= c <= "z")}
    if cased:
        raise ValueError(f"rule patterns are matched against folded text and must be lower case; found {sorted(cased)}")
    return re.compile(pattern)


def matched(pattern: re.Pattern[str], text: str) -> list[str]:
    """Each match of a rule in `text`, as `text` spells it (the rule itself reads the folded text)."""
    return [text[m.start():m.end()] for m in pattern.finditer(fold(text))]


_CREDENTIAL = r"log ?in|logon|log on|sign ?in|password|passcode|pin|verification code|security code"
# The theft, fraud and lost-card words in the other languages the tool reads (German, French,
# Spanish, Italian, Portuguese, Dutch: those of normalize.VALEDICTION; escalation.yaml holds the
# escalation meanings in them): for each meaning the English rule lists, its common words and
# inflections there, no other meaning. Patterns are lower-case ASCII (see `_rx`): an accented letter is written \w, and
# `(?<![a-z])` after it keeps an English word out ("piraté", not "pirate").
_COMPROMISE_ELSEWHERE = (
    r"gestohlen|geklaut|bestohlen|diebstahl\w*|betrug\w*|betr\wger\w*|betr\wgt|gehackt|unbefugt\w*|"
    r"verlor\w* (?:\w+ )?(?:karte|handy|geldb\wrse|brieftasche)|(?:karte|handy|geldb\wrse|brieftasche) (?:\w+ ){0,3}verloren|"
    r"(?:m'a|m'ont|\wt\w) vol\w*|vol de (?:ma|mon|mes|la|le)|(?:carte|t\wl\wphone|portefeuille|portable)s? (?:\w+ ){0,2}vol\w+|"
    r"pirat\w(?<![a-z])\w*|piratage|escroqu\w*|arnaqu\w*|(?:perdu|\wgar\w) (?:ma|mon|mes) (?:\w+ )?"
    r"(?:carte|t\wl\wphone|portefeuille|portable)|"
    r"robad[oa]s?|robaron|robo|me rob\w+|estaf\w+|extravi\w+|"
    r"perd\w+ (?:mi|la|el) (?:\w+ )?(?:tarjeta|m\wvil|cartera|billetera|tel\wfono)|"
    r"rubat[oa]|furto|truff\w+|smarrit[oa]|perso (?:la|il) (?:mia |mio )?(?:carta|telefono|portafoglio)|"
    r"roubad[oa]s?|roubo|roubaram|burla|perdi (?:o|a) (?:meu |minha )?(?:cart\wo|telem\wvel|celular|carteira)|"
    r"gestolen|diefstal|oplichting|opgelicht|(?:pas|telefoon|portemonnee) (?:\w+ ){0,2}kwijt|kwijtgeraakt|"
    # Someone else used the card, a payment the customer never made or does not recognise.
    r"jemand (?:\w+ ){0,3}(?:benutzt|verwendet)|(?:nie|nicht) (?:selbst )?(?:get\wtigt|autorisiert|veranlasst)|"
    r"(?:zahlung|abbuchung|lastschrift|buchung)\w*,? die ich (?:\w+ )?(?:nicht|nie) (?:kenne|erkenne)|"
    r"quelqu'un a (?:utilis\w|us\w)|(?:ne )?reconnais pas|jamais (?:fait|effectu\w|autoris\w)|"
    r"no (?:lo |la )?reconozco|alguien (?:ha )?(?:usado|utilizado)|nunca (?:hice|realic\w|autoric\w)"
)
_MOVEMENT = r"(?:payment|charge|transaction|purchase|debit|withdrawal|transfer)s?"
_COMPROMISE = (
    r"hack\w*|fraud\w*|scam\w*|stole(?! (?:a |the )?bases?\b)|stolen(?! bases?\b)|theft|thief|unauthori[sz]ed|compromised|"
    r"some(?:one|body) (?:else )?(?:has |might have |may have |is |was )?(?:used|using|took|taken|stole|withdrew|"
    r"made|access)|"
    rf"{_MOVEMENT}\b[^.?!]{{0,40}}\b{_NOT} (?:do|make|made|authori[sz]e|approve|recogni[sz]e)|"
    rf"{_NOT} recogni[sz]e (?:this|the|a|that|these|some)? ?(?:\w+ )?{_MOVEMENT}|"
    rf"(?:strange|suspicious|fishy|unknown|unrecogni[sz]ed|unfamiliar) (?:\w+ )?{_MOVEMENT}|"
    r"(?:isn'?t|is not|not|wasn'?t|was not) (?:mine|me)\b|went missing from|(?:lost|found) (?:track of )?my (?:\w+ )?(?:card|phone|wallet|sim)|"
    r"(?:card|phone|wallet) (?:was|is|has been|got) (?:lost|stolen|taken)|"
    rf"{_COMPROMISE_ELSEWHERE}"
)

# What failed to happen, after a negation: "doesn't work", "hasn't arrived", "why hasn't my card arrived".
_DID_NOT_HAPPEN = (
    r"(?:work\w*|load\w*|receiv\w*|arriv\w*|accept\w*|allow\w*|let|go(?:ne)? through|able|give|found|increas\w*|"
    r"reflect\w*|appear\w*|accessible|respond\w*|open\w*|show(?:ing)?(?: up)?|call\w*|run\w*|pick\w*|cover\w*|"
    r"recogni[sz]\w*|return\w*|available|send\w*|connect\w*|start\w*|boot\w*|install\w*|download\w*|upload\w*|"
    r"play\w*|(?:been )?(?:credited|delivered|activated|added|booked|confirmed|processed|shipped|dispatched|despatched))"
)
# What a customer cannot do (severity P1) and what works badly (P2): one vocabulary for the
# "failure" family that votes for bug reports and for the severity levels.
_BLOCKED = (
    # Not asked of the company ("other banks do, why can't you?"): that is a capability, nothing broken.
    r"(?:can'?t|cannot)(?! find (?:where|how|out))(?! you\b)|can not|couldn'?t|could not|unable|won'?t|not able|blocked|"
    r"locked out|declined?|rejected|denied|deny|revoked|reverted|refused|fail\w*|errors?|exception|crash\w*|"
    r"segfault|panic\w*|assert\w*|broken|breaks?|stuck|stopped|freez\w*|hang\w*|forgot\w*|lost|typeerror|"
    r"(?:does|did) nothing when|nothing happens|"
    r"undefined|violation|no attribute|not (?:defined|a function)|unresolved|invalid|where is my|where'?s my|"
    r"where (?:is|are) (?:the|my) (?:money|funds|cash|order|package|parcel|delivery|refund|payment|transfer|"
    r"deposit|item)s?|no (?:internet|service|signal|connection)|unusable|(?:internet|wifi|connection|phone|cable|"
    r"power|line|landline|broadband|service|app|site|website|network|server|system|signal|tv|email) "
    r"(?:is|was|went|has gone|keeps going|has been) down|(?:is|are|was|were) not (?:getting |being )?\w+ed|"
    r"(?:was|were|got|been|is|has|have) (?:been )?(?:my |the |our )?(?:\w+ )?cancel+ed|"
    rf"unblock|cann'?t|{_NOT} (?:(?:my|i|it|the|this|you|your|we|they) (?:\w+ )?)?{_DID_NOT_HAPPEN}"
)
_DEGRADED = (
    r"slow\w*|lag\w*|sluggish|delay\w*|late|pending|random\w*|inconsistent\w*|incorrect\w*|wrong\w*|"
    r"unexpected\w*|mismatch\w*|missing|issues?|problems?|trouble|bug\w*|glitch\w*|drain\w*|leak\w*|time ?out|"
    r"timed out|damaged|messed up|keeps? (?:on )?\w+ing|(?:been|was|were|got) reset|"
    r"los(?:e|es|ing)|packet loss|barely|flaky|unstable|unreliable|overflow|prevents?|misses|mistakenly|"
    r"regressions?|nans?|out of memory|oom|ignor(?:e|es|ed|ing)|no effect|behaves? differently|"
    r"different(?:ly)? (?:results?|values?|outputs?|behaviou?r|to|from|than)|disappear\w*|unwanted|wrongly|"
    r"misbehav\w*|not (?:updated|updating|correct|right|reliable|properly)|"
    r"warn(?:s|ed|ing|ings)?|not (?:being |getting )?[a-z]+(?:ing|ed)|work\w* (?:\w+ ){0,6}but not|"
    rf"{_NEGATED_VERB} (?:(?:my|i|it|the|this|you|your|we|they) (?:\w+ )?)?(?!{_NOT_A_FAILURE})(?!(?:you|we|they)\b)[a-z]\w+"
)
_BROKEN_OTHERWISE = r"outages?|null\w*|fix|(?:is|are|was|went|goes) down"

# What a company promised: a delivery speed, an offer for signing up.
_PROMISED_DELIVERY = r"(?:one|two|2|1|next|same|\d+[-–]\d+)[- ](?:business )?day (?:prime )?(?:delivery|shipping|ship)\w*"
_OFFER = (r"free (?:trial|months?|for \d+)|\d+ (?:days?|months?) (?:of )?free|(?:credit|offer|deal|discount|promo\w*|bonus) "
          r"for (?:first[- ]time|new) (?:users|customers)|signed up (?:for|to get) (?:the |a )?\S+ (?:credit|offer|deal|discount)")
# "Why ..." asks about something that happened: a report, never a how-to question (GUIDE.md, rule 3).
_WHY = _rx(r"\b(why|how come|is there (?:a|any) reason(?: why)?|what is the reason)\b")
_ASKS_HOW = _rx(
    r"\b(how (?:do|can|to|does|long|much|many|would|should)|what (?:is|are|do|does|should|kind|happens|if)|"
    r"where (?:can|do|is|are)|when (?:can|will|do|does)|can (?:i|we)|could (?:i|we)|is it possible|do you|is there|"
    r"are there|will (?:i|it|my)|tell me|wondering|explain|can'?t find|cannot find)\b")

# Rule families named in triage.yaml: category-level first, then subcategory-level.
RULE_FAMILIES: dict[str, re.Pattern[str]] = {
    "money": _rx(
        r"\b(charged|charges|(?<!hold )(?<!holds )(?<!keep )(?<!keeps )(?:a|an|the|extra|this|that) charge|charge (?:on|for|of|me)|charging (?:me|us|customers|for|to)|fees?|refund\w*|pric(?:e|es|ing)|costs?|costing|bill(?:s|ed|ing)?|invoice\w*|"
        r"subscription\w*|overcharg\w*|exchange rates?|money back|chargeback|dispute\w*|payouts?|commission|"
        r"(?:took|taken|take|taking|debited|deducted) (?:my |our |the )?money|money (?:was |been |got )?(?:taken|"
        r"debited|deducted)|charging \$?\d+|compensat\w*|reimburs\w*|[$£€]?\d+(?:\.\d+)? (?:charge|fee)s?|"
        r"(?:have|had|got|made me|make me|forced) to pay)\b"),
    "account": _rx(
        rf"\b({_CREDENTIAL}|verif(?:y|ied|ication)|(?:my|prove|confirm) identity|(?:prove|confirm|show|verify) (?:my |your )?id|identity (?:check|verification|documents?)|id check|forgot\w* (?:my |the )?(?:\w+ )?(?:code|details|username)|personal (?:details|information|info)|"
        r"(?:change|update|edit) (?:my |the )?(?:name|surname|last name|address|details|email|phone number)|"
        r"(?:unlock|recover|access|get into|get back) (?:to )?(?:my |the )?account|account (?:is |was |got |has been )?"
        r"(?:locked|blocked|suspended|disabled|hacked)|"
        r"(?:close|delete|terminate|deactivate|get rid of) (?:my |the |an? )?account|open (?:an |a new )?account|"
        rf"account (?:name|details|blocked|locked|suspended)|source of (?:my )?funds|"
        rf"{_COMPROMISE})\b"),
    "docs_misled": _rx(
        r"\b((?:docs|documentation|guide|tutorial|instructions|manual|readme)\b[^.?!]{0,60}\b(?:say|says|said|"
        r"states?|stated|claims?|suggests?|recommends?|match(?:es)?|inconsistent|differs?|contradicts?|wrong|"
        r"incorrect|outdated|misleading|lead to|led to|doesn'?t work|does not work|not work(?:ing)?|broken|fails?)|"
        r"(?:inconsistent with|according to|contrary to|as per|differs? from|doesn'?t match|does not match) (?:the |"
        r"your )?(?:docs|documentation|guide|spec\w*|instructions)|followed (?:the |your )?(?:guide|instructions|"
        r"docs|documentation|tutorial|steps)|(?:was|were) told|told me|(?:support|agent|rep) (?:said|suggested|told)|"
        r"assurances?|(?:i was|we were|i'?ve been|we'?ve been) (?:informed|advised|assured)|"
        r"(?:representative|staff|employee|advis[eo]r|customer (?:service|care)|someone) (?:on the phone |in (?:the )?store |"
        r"at the (?:desk|counter) )?(?:said|told|assured|advised|promised)|"
        r"(?:your |the )(?:website|site|faq|help (?:page|cent(?:er|re))|terms|policy|listing|product page) (?:clearly )?"
        r"(?:says|said|states|stated|claims|claimed))\b"),
    "marketing": _rx(
        r"\b(advertis\w*|promised|as promised|(?:broke|breaking|broken) (?:a |the |your |their )?promises?|"
        r"promise (?:me|us|that|to deliver)|price promise|guarantee[ds]?|price match|as described|"
        r"(?:offer|deal|promo\w*|discount|coupon|voucher)s? (?:was |were |is |are )?(?:not|n'?t|never) "
        rf"(?:applied|honou?red|valid|working)|{_PROMISED_DELIVERY}[^?]{{0,80}}\b(?:late|delayed|still|not|n'?t|already|"
        rf"until|after|now)|(?:{_OFFER})[^.?!]{{0,80}}\b(?:but|yet|didn'?t|did not|not|never|instead|invoice\w*|charged|"
        rf"expired)|(?:but|why|didn'?t)\b[^.?!]{{0,40}}\b(?:{_OFFER})|"
        r"(?:offer|deal|promo\w*|discount|coupon|voucher)s? codes? (?:\w+ )?(?:\w+n'?t|not|never) (?:work\w*|appl\w*|valid|"
        r"honou?r\w*)|why (?:am i|do i|are we|do we|should i|would i) (?:even |still )?pay(?:ing)? for|"
        r"(?:paying|paid|pay) for (?:\d+\+? ?(?:mbps|mb|gb)|(?:a |the )?(?:speed|unlimited|premium|express|next[- ]day|"
        r"fast|guaranteed)\w*)[^.!?]{0,60}\b(?:only|not|n'?t|barely|never))\b"),
    "competitor": _rx(
        r"\b(competitors?|no other (?:\w+ )?(?:has|have|does)|other (?:airlines?|banks?|carriers?|companies|providers?|"
        r"stores?|shops?|brands?|networks?|apps?|services?) (?:do|does|have|let|allow|offer)|unlike (?:other|your)|"
        r"better than you|(?:lets?|allows?) (?:me|us|you) [^.?!]{1,60}[.,;!]? *why (?:can'?t|cannot|don'?t|won'?t) (?:you|u)|"
        r"(?:every|all(?: the)?|any|most) other (?:airlines?|banks?|carriers?|compan(?:y|ies)|providers?|"
        r"stores?|shops?|brands?|networks?|retailers?|operators?))\b"),
    "assumed": _rx(
        r"\b(why (?:don'?t|do not|doesn'?t|won'?t) (?:you|u|y'?all)|why (?:isn'?t|aren'?t) there|why is there no|"
        r"why (?:can|do) (?:i|we) only|not allowed to|"
        r"i (?:thought|assumed|expected)|why (?:must|do|should) (?:i|we) (?:have to|need to|always)|why must (?:i|we)|"
        r"why can'?t (?:i|we) (?:\w+ ){0,6}but (?:i |we )?can|(?:you(?:'ll| will)?|they) only (?:price match|accept|allow|"
        r"offer|ship|sell|let|take|support)|why (?:is|are|isn'?t|aren'?t) (?:\w+ ){1,5}?(?:not )?(?:allowed|accessible|"
        r"available|possible|supported|an option) (?:in|on|for|to|from|with)|why (?:did|would|do) (?:you|u|y'?all|they) "
        r"(?:remove|get rid of|take away|discontinue|stop (?:offering|selling|allowing|supporting|letting)))\b"),
    "failure": _rx(rf"\b({_BLOCKED}|{_DEGRADED}|{_BROKEN_OTHERWISE})\b"),
    "request": _rx(
        r"\b(please add|add (?:support|an? option|a way|the ability)|feature request|"
        r"would (?:be|love|like) (?:great|nice|good|helpful|useful|cool|awesome|amazing|handy|ideal|it if|to see|to have)|"
        r"it'?d be (?:great|nice|cool|awesome|amazing|handy|helpful|useful)|i'?d (?:love|like) (?:it if|to see|to have|"
        r"an? (?:option|way|setting|feature|button))|(?:any|are there|are you|is there) (?:any )?(?:plans?|planning|going) "
        r"to (?:add|support|bring|offer|release|launch|introduce|open|expand|allow)|give (?:us|me) (?:the |an? )?(?:option|"
        r"ability|choice) to|(?:can|could|will|would) you (?:guys |please |pls )*(?:allow|enable|let us|implement|include|"
        r"create)|"
        r"wish (?:you|there|i could|(?:it|they|the app|this) (?:would|could|had|did))|could you (?:please )?(?:add|make)|"
        r"(?:should|needs? to) (?:hurry up and )?(?:support|allow|offer|"
        r"come|add|be able)|support for|option to|ability to|allow (?:me|us|users|people) to|bring back|"
        r"instead of|suggest\w*|improve\w*|enhancement|"
        r"(?:can|could|will|would) you (?:guys |please |pls )*(?:add|bring|offer|start|consider|introduce|stock|sell|carry|"
        r"release|launch|expand)|when (?:will|are|is|do|does) (?:\w+ ){1,2}(?:ever )?(?:going to |gonna )?(?:support|add|"
        r"bring|offer|release|launch|allow|introduce|implement|integrate)|(?:any )?(?:news|word|updates?|plans?|eta) "
        r"(?:on|about|regarding|for) (?:\w+ ){0,3}?(?:support|feature|option|integration|version)|"
        r"(?:you|u|please|pls|plz) (?:guys )?bring (?:\w+ ){1,3}to|i(?:'d| would) (?:gladly |happily |love to |be happy to )?"
        r"pay (?:\$?\d+ |a bit |a little )?(?:extra|more)|(?:can i |i'?d like to |i want to )?request that you|"
        r"(?:there )?should be (?:a|an) (?:option|feature|setting|button|way|filter)|"
        r"needs? (?:a|an) (?:option|feature|setting|button|way) to|"
        r"please (?:bring|create|introduce|offer|consider|implement|start|sell|stock|carry|open|come|release))\b|"
        r"^\s*(?:\[[^\]]*\]\s*)?(?:add|use|support|allow|implement|introduce|provide|expose)\b"),
    "question": _rx(
        r"\?|^\W*(how|what|where|which|who|can|could|is|are|do|does|will|would|should|am)\b|"
        r"\b(how (?:do|can|to|does|long|much|many)|what (?:is|are|do|does|should|kind|happens|if)|"
        r"where (?:can|do|is|are)|when (?:can|will|do|does)|can (?:i|we|you)|could (?:i|we|you)|is it possible|"
        r"do you|is there|are there|will (?:i|it|my)|tell me|wondering|explain|can'?t find|cannot find)\b"),
    "why": _WHY,
    "feedback": _rx(
        r"\b(thanks?|thank you|thx|love|loved|lovely|great|awesome|amazing|excellent|fantastic|brilliant|"
        r"wonderful|kudos|appreciate\w*|happy|glad|rude|worst|awful|terrible|horrible|disappoint\w*|sucks|"
        r"pathetic|incompetent|customer service|staff)\b"),
    "billing_problem": _rx(
        r"\b(charged|overcharg\w*|double|twice|refund\w*|money back|dispute\w*|chargeback|fees? (?:on|for|i)|"
        r"(?:got|get|pay|paid|had to pay) (?:an? )?(?:extra )?(?:fee|charge)|(?:there'?s|there is|there was) (?:an? )?"
        r"(?:fee|charge)|charge on|unexpected|wrong|incorrect|more than|extra|late fee|payouts?|shouldn'?t)\b"),
    "pricing": _rx(r"\b(how much|cost\w*|pric(?:e|es|ing)|rates?|fees?|charg\w*|commission|free)\b"),
    "performance": _rx(
        r"\b(slow\w*|lag\w*|sluggish|freez\w*|hang\w*|time ?out|timed out|latency|battery|memory|cpu|speeds?|"
        r"performance|drop(?:s|ping)?|packet loss|losing (?:service|signal|connection)|takes? (?:so |too )?long|"
        r"forever|unresponsive|stopping at|barely)\b"),
    "data": _rx(
        r"\b(los(?:e|es|t|ing) (?:all )?(?:of )?(?:my |the |our )?(?:data|points|files|settings?|history|progress|"
        r"photos|contacts|messages|custom \w+)|(?:data|points|settings?|history|list|layout\w*|timestamps?|records?|"
        r"balance) (?:\w+ )?(?:lost|reset|deleted|wiped|missing|vanished|disappeared|wrong|incorrect|not updated|wasn'?t updated)|"
        r"(?:been|was|were|is) reset|duplicat\w*|out of sync|corrupt\w*|overwritten|(?:wrong|incorrect) information|"
        r"(?:does not|doesn'?t|not) update (?:the )?\w+ (?:timestamps?|records?|fields?))\b"),
    "integration": _rx(
        r"\b(integrat\w*|compatib\w*|interop\w*|third[- ]party|plugin|extension|"
        r"(?:with|on|in|using|between) (?:my |the |an? )?(?:car|tv|watch|printer|router|alexa|windows|mac ?os|macos|"
        r"linux|ubuntu|debian|android|ios|docker\w*|node(?:\.js)?|typescript|webpack|babel|postgres\w*|mysql|"
        r"mongo\w*|sqlite|numpy|keras|npm|yarn|chrome|safari|firefox|ie|edge|arm|arc|vercel|"
        r"netlify|aws|azure|heroku|tensorboard|c\+\+|objc|objective-c|github|ci)|"
        r"(?:node(?:\.js)?|typescript|ios|android|windows|ubuntu|python) (?:version )?\d)\b"),
    "ui": _rx(r"\b(ui|ux|layout|button|menu|font|dark mode|design|wording|icon|navigation|accessib\w*)\b"),
    "enhancement": _rx(
        r"\b(improve\w*|better|instead of|enhance\w*|should (?:be|use)|more (?:options|control)|"
        r"(?:for|to) (?:all|every))\b|^\s*use\b"),
    "location": _rx(
        r"\b(where (?:can|do|is|are|would|should)|where'?s|can'?t find|cannot find|find (?:the|my|a)|locate)\b"),
    "workflow": _rx(
        r"\b(how long|when (?:will|can|do|does|should)|what happens|what (?:documents|do i need|is needed)|"
        r"process\w*|steps?|status|pending|expir\w*|before|until|deadline|go about|follow(?:ed)? up|dealt with|"
        r"what (?:should|do) i do)\b"),
    "discovery": _rx(
        r"\b(can (?:i|we|you)|could (?:i|we)|is it possible|do you (?:have|offer|support|accept|ship|sell|stock|"
        r"carry|operate)|does (?:it|this|your)|are there|is there|available|availability|support(?:ed|s)?|"
        r"accept\w*|limit\w*|which|what (?:countries|currencies|cards|kind|speeds?)|stock|any chance|how many|"
        r"will (?:i|you)|difference)\b"),
}

# The escalation signals, in the order they are reported: their phrases are data (escalation.yaml
# beside this package), so that a support team adds its own words, or another language's, without
# editing code (TICKET_INTEL_ESCALATION); the wait's counts and spans are this module's vocabulary.
SIGNALS = ("churn", "legal_threat", "public_complaint", "strong_negative", "refund_chargeback", "manager_request",
           "long_wait")
SHIPPED_SIGNALS = Path(__file__).resolve().parents[1] / "escalation.yaml"
_File = TypeVar("_File", bound=BaseModel)
_IN_CODE = {"long_wait": [_LONG_WAIT]}


class _SignalsFile(BaseModel):
    """escalation.yaml as written: per signal, per language, the phrases."""

    model_config = STRICT

    mode: Literal["extend", "replace"] = "extend"
    signals: dict[Literal[SIGNALS], dict[str, list[str]]]  # type: ignore[valid-type]


def _either_case(phrase: str) -> str:
    """A lower-case phrase as a pattern over folded text, which keeps an accented capital (`fold`):
    each accented letter matches in either case ("kündigung" reads "KÜNDIGUNG"). Raises ValueError
    for a capital letter, re.error for no valid pattern."""
    if any(c != c.lower() for c in re.sub(r"\\.", "", phrase)):
        raise ValueError("write phrases in lower case (capitals are matched anyway)")
    out, in_class, escaped = [], False, False
    for c in phrase:
        both = c + c.upper() if not c.isascii() and len(c.upper()) == 1 and c.upper() != c and not escaped else ""
        out.append(c if not both else both if in_class else f"[{both}]")
        in_class = (in_class and (c != "]" or escaped)) or (c == "[" and not escaped)
        escaped = c == "\\" and not escaped
    re.compile(pattern := "".join(out))
    return pattern


def _phrases(path: Path, model: type[_File], kind: str) -> _File:
    """A file of phrases per name and language (`model`), each phrase checked: a valid pattern in lower
    case (the rules read folded text); a mistake names the file and the phrase's place."""
    if not path.exists():
        raise ValueError(f"{kind} file {path} not found (the project ships {path.name})")
    found = load_model(model, path.read_text(encoding="utf-8"), str(path))
    sections = {s: getattr(found, s) for s in model.model_fields if isinstance(getattr(found, s), dict)}
    for section, names in sections.items():
        for name, languages in names.items():
            for language, phrase in ((language, p) for language, words in languages.items() for p in words):
                try:
                    _either_case(phrase)
                except (re.error, ValueError) as exc:
                    raise ValueError(f"{path}: {section}.{name}.{language}: {phrase!r}: {exc}") from None
    return found


def _rule(phrases: list[str]) -> re.Pattern[str]:
    """One rule of phrases: any of them, as whole words."""
    return re.compile(rf"\b({'|'.join(phrases)})\b") if phrases else re.compile(r"(?!)")


# Each escalation signal's rule (`load_escalation`): what every reader of escalation phrases takes, the
# configured set (the shipped phrases with a team's file) passed from the one place that loads it.
Escalation = Mapping[str, re.Pattern[str]]


def load_escalation(path: str | Path | None = None) -> dict[str, re.Pattern[str]]:
    """Each signal's rule: the shipped phrases, extended by the file at `path` (a team's), or for each
    signal that file names replaced by its phrases when it says `mode: replace`."""
    phrases = {name: list(_IN_CODE.get(name, [])) for name in SIGNALS}
    for name, languages in _phrases(SHIPPED_SIGNALS, _SignalsFile, "escalation").signals.items():
        phrases[name] += [_either_case(p) for words in languages.values() for p in words]
    if path:
        extra = _phrases(Path(path), _SignalsFile, "escalation")
        for name, languages in extra.signals.items():
            mine = [_either_case(p) for words in languages.values() for p in words]
            phrases[name] = mine if extra.mode == "replace" else phrases[name] + mine
    return {name: _rule(found) for name, found in phrases.items()}


ESCALATION_RULES = load_escalation()


class _FamiliesFile(BaseModel):
    """families.yaml: per rule family, per language, the phrases."""

    model_config = STRICT

    families: dict[Literal[tuple(RULE_FAMILIES)], dict[str, list[str]]]  # type: ignore[valid-type]
    severity: dict[Literal["P1", "P2"], dict[str, list[str]]] = {}


def _by_language(names: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, re.Pattern[str]]]:
    """Per language, each name's rule in it."""
    found: dict[str, dict[str, list[str]]] = {}
    for name, languages in names.items():
        for language, words in languages.items():
            found.setdefault(language, {})[name] = [_either_case(p) for p in words]
    return {language: {name: _rule(words) for name, words in rules.items()} for language, rules in found.items()}


_SEVERITY_WHY = {"P1": "customers are blocked from a core task", "P2": "a degraded or surprising experience"}
# The rule families and the P1 and P2 severity rules in other languages, read in the tickets detected
# in each (families.yaml).
_ELSEWHERE = _phrases(Path(__file__).resolve().parents[1] / "families.yaml", _FamiliesFile, "families")
FAMILY_WORDS = _by_language(_ELSEWHERE.families)
_SEVERITY_WORDS = {language: [(level, levels[level], _SEVERITY_WHY[level]) for level in sorted(levels)]
                   for language, levels in _by_language(_ELSEWHERE.severity).items()}

# Per-ticket severity: the first rule that matches, most severe first (a rule may refine a
# broader one below it: "doesn't work properly" is degraded, not blocked).
_SEVERITY_RULES: list[tuple[str, re.Pattern[str], str]] = [
    ("P0", _rx(
        rf"\b({_COMPROMISE}|security (?:breach|hole|issue|problem|vulnerability|flaw)|vulnerabilit(?:y|ies)|"
        r"data (?:leak|breach|loss)|server issues?|down for (?:everyone|everybody|all)|"
        # A vulnerability by its name, secrets exposed, data deleted for good (GUIDE.md: P0).
        r"xss|cross[- ]site (?:scripting|request forgery)|remote code execution|rce|(?:sql|code|command) injection|"
        r"(?:expos\w*|leak\w*) (?:\w+ ){0,2}(?:secrets?|credentials|api keys?|access tokens?|passwords?|private keys?)|"
        r"(?:secrets?|credentials|api keys?|access tokens?|passwords?|private keys?) (?:\w+ ){0,2}(?:exposed|leaked|leaking)|"
        r"(?:deleted|wiped|erased) (?:all )?(?:of )?(?:my|our) (?:\w+ ){0,2}(?:data|database|files|photos|records)|"
        # An outage is P0 when the text says it is broad (GUIDE.md): "the site is down", "a massive outage";
        # the customer's own service being down, or a question whether there is an outage, is P1.
        r"(?:massive|major|widespread|nationwide|national|global|huge|total|complete|regional|area|network) outages?|"
        r"outages? (?:across|all over|everywhere|for (?:everyone|everybody|all))|"
        r"(?<!my )(?<!our )(?:site|app|service|server|servers|system|website|network) (?:is|are|was|were|went|seems?) down)\b"),
     "fraud, theft, a security problem or a broad outage"),
    ("P2", _rx(
        rf"\b({_NOT} work\w* (?:correctly|properly|well|right|reliably)|only (?:after|when|until)|"
        r"work\w* (?:\w+ ){0,4}(?:until|unless)|"
        r"workaround|randomly|sometimes|intermittent\w*|flaky|unstable|unreliable)\b"),
     "it works, but wrongly, late or only sometimes"),
    ("P1", _rx(rf"\b({_BLOCKED}|outages?)\b"), _SEVERITY_WHY["P1"]),
    ("P4", _rx(r"\b(typos?|translation|misaligned|cosmetic|colou?rs?|icons?|font|spacing)\b"),
     "a cosmetic issue"),
    ("P2", _rx(
        rf"\b({_DEGRADED}|twice|double|extra|overcharg\w*|charged|(?:got|get|pay|paid|had to pay) (?:an? )?"
        r"(?:fee|charge)|(?:there'?s|there is|there was) (?:an? )?(?:fee|charge)|fees? (?:on|for) my|charge on my|"
        r"rather than|instead of|again|still|fix)\b"),
     _SEVERITY_WHY["P2"]),
]
_MINOR = _rx(r"\b(warn(?:s|ed|ing|ings)?|deprecat\w*|typos?|misleading|unclear|confusing|docs|documentation)\b")
_QUESTION_OR_REQUEST = _rx(
    r"\?|\b(how|what|where|when|which|why|can i|could i|is it possible|do you|is there|will i|please|need|want|"
    r"would like|add|support|should|warning|docs|documentation)\b")
# Without a cue of impact, a ticket weighs what its kind usually weighs: a bug of unknown impact
# degrades (P2), a complaint is a minor annoyance (P3), praise and chit-chat have none (P4).
_NOTHING_BROKEN = ("P3", "a question, request or annoyance with nothing broken")
_DEFAULT_SEVERITY = {"bug": ("P2", "a bug of unknown impact"), **dict.fromkeys(
    ("feature_gap", "ux_friction", "docs_gap", "expectation_mismatch", "billing"), _NOTHING_BROKEN)}
_HYPOTHETICAL = _rx(r"\b(what (?:should|do|can) i do if|what happens (?:if|when|to)|if (?:i|my|a|the)|in case)\b")
_P4_WHY = "no sign of impact on the customer"
# Thanks for a problem already solved ("thank you for sorting out my hacked account, all good now"),
# unless something is still or again wrong: a hacked account read as P0 there.
_THANKED_FOR_A_FIX = _rx(
    r"\b(?:thanks?|thank you|thx|ty)\b[^.!?]{0,60}?\b(?:for (?:\w+ ){0,3}(?:sorting|fixing|resolving|recovering|"
    r"restoring|securing|unlocking)\b|(?:quick|fast|speedy|swift) (?:resolution|fix)\b)")
_STILL_WRONG = _rx(r"\b(?:again|still|but|however|though|yet)\b")


def hypothetical(text: str) -> bool:
    """A one-sentence "what if" question: it reports nothing that has happened."""
    return bool(_HYPOTHETICAL.search(fold(text))) and len(re.findall(r"[.?!]+(?=\s|$)", text)) <= 1


def why_question(text: str) -> bool:
    """Asks why something happened and asks nothing else: what a customer reports, not a how-to."""
    text = fold(text)
    return bool(_WHY.search(text)) and not _ASKS_HOW.search(_WHY.sub(" ", text))


def families(text: str, language: str | None = None) -> frozenset[str]:
    """Names of the rule families whose pattern occurs in the (cleaned) text, or whose words in the
    ticket's `language` do (`FAMILY_WORDS`); a "what if" question reports no failure; a why-question
    is a report (`why`), not a how-to question."""
    text = fold(text)
    found = frozenset(name for name, pattern in RULE_FAMILIES.items() if pattern.search(text))
    if "why" in found:
        found -= {"question"} if why_question(text) else {"why"}
    found |= {name for name, pattern in FAMILY_WORDS.get(language or "", {}).items() if pattern.search(text)}
    return found - {"failure"} if hypothetical(text) else found


def judge_swearing(cleaned: Iterable[str]) -> None:
    """Judge every word of a batch of cleaned texts for profanity in one model call (each call costs
    milliseconds); `escalation_signals` then reads the judged words."""
    profane_words(w for text in cleaned for w in _LETTERS.findall(fold(text)))


def escalation_signals(text: str, mood: float = 0.0, signals: Escalation = ESCALATION_RULES) -> list[str]:
    """The explicit escalation signals in the (cleaned) text, in `SIGNALS` order; `mood`: its
    sentiment (neutral when unknown); `signals`: the rules (`load_escalation`, the shipped by default).
    Swearing is strongly negative (GUIDE.md) whether or not the rule lists the word: a word the
    shared profanity model judges profane (`meaning.profane_words`: "hell", "stupid") counts too,
    unless the text is positive ("what the hell is this beautiful creation")."""
    text = fold(text)
    found = [name for name, pattern in signals.items() if pattern.search(text)]
    if "strong_negative" not in found and mood <= 0 and profane_words(_LETTERS.findall(text)):
        found = [n for n in signals if n in found or n == "strong_negative"]
    return found


def severity(
    text: str, signal_type: str | None = None, sentiment: float = 0.0, escalating: bool = False,
    language: str | None = None,
) -> tuple[str, str]:
    """(level, reason) of one cleaned ticket: the first impact rule that matches, else what its
    signal type usually weighs (GUIDE.md: a question, request or annoyance is P3), else P3 for a
    complaint, a question or request and P4 for the rest: without an impact cue, a ticket carrying
    an escalation signal (`escalating`) is a complaint (P3), never "no impact". A one-sentence
    "what if" question is at most P3. The P1 and P2 rules of the ticket's `language`
    (families.yaml) are read after the first, of fraud, theft and broad outages."""
    text = fold(text)
    if _THANKED_FOR_A_FIX.search(text) and not _STILL_WRONG.search(text):
        return "P4", "thanks for a problem already solved"
    for level, pattern, why in [_SEVERITY_RULES[0], *_SEVERITY_WORDS.get(language or "", ()), *_SEVERITY_RULES[1:]]:
        if pattern.search(text):
            if hypothetical(text) and SEVERITIES.index(level) < SEVERITIES.index("P3"):
                return "P3", "a question about what would happen"
            return level, why
    if _MINOR.search(text):
        return "P3", "a minor annoyance: a warning, a misleading message, a documentation error"
    if signal_type in _DEFAULT_SEVERITY:
        return _DEFAULT_SEVERITY[signal_type]
    if escalating or (signal_type == "other" and sentiment < -0.05):
        return "P3", "a complaint with nothing broken"
    if signal_type == "other":
        return "P4", _P4_WHY
    if _QUESTION_OR_REQUEST.search(text):
        return "P3", "a question or request with nothing broken"
    return "P4", _P4_WHY


def urgency_of(severity_level: str, escalation: bool) -> str:
    """How soon support must act: severity shifted to P1..P4, one level more urgent when escalating."""
    index = min(SEVERITIES.index(severity_level), len(URGENCIES) - 1) - int(escalation)
    return URGENCIES[max(index, 0)]


_PROFANITY = _rx(r"\b(shit\w*|fuck\w*|wtf|damn\w*|crap\w*|bullshit|stfu|piss\w*|bitch\w*|ass(?:hole)?s?)\b")
_ANNOYED = _rx(
    r"\b(again|still|seriously|come on|annoy\w*|frustrat\w*|disappoint\w*|upset|unhappy|sad|joke|"
    r"please fix|not cool|smh|ugh|agh)\b|[😡😤🙄😭😩😒🤬😠👎]|\?!|!\?|\?\?|:'?\(")


def _shouting(raw: str) -> bool:
    words = re.findall(r"[A-Za-z']{3,}", raw)
    caps = [w for w in words if w.isupper()]
    return len(caps) >= 4 and len(caps) >= 0.5 * len(words)


_PROBLEM_WORDS = _rx(rf"\b({_BLOCKED}|{_DEGRADED}|{_BROKEN_OTHERWISE})\b")


def without_problem_words(text: str) -> str:
    """The text minus the words that name the problem ("error", "declined", "slow"): what is left
    carries the emotion, so a calm bug report does not read as an angry one. The text keeps its
    case (sentiment reads capitals as emphasis): the rule finds the words in the folded text, at the
    same positions."""
    kept, end = [], 0
    for m in _PROBLEM_WORDS.finditer(fold(text)):
        kept += [text[end:m.start()], " "]
        end = m.end()
    return "".join(kept) + text[end:]


def frustration(raw: str, emotion: float, signals: Iterable[str]) -> str:
    """low / medium / high / critical from the sentiment of the words around the problem
    (`emotion`), shouting, profanity and the escalation signals."""
    signals = set(signals)
    text = clean(raw)
    shouting, profane = _shouting(text), bool(_PROFANITY.search(fold(text)))
    threat = bool(signals & {"legal_threat", "public_complaint"})
    angry = "strong_negative" in signals or profane or shouting or emotion <= -0.6
    if (threat and angry) or (shouting and (profane or emotion < -0.3)):
        return "critical"
    if angry or (threat and emotion < 0) or (re.search(r"!!|\?!|!\?", text) and emotion < 0):
        return "high"
    if emotion <= -0.4 or _ANNOYED.search(fold(raw)) or signals - {"refund_chargeback"}:
        return "medium"
    return "low"


def churn_risk(signals: Iterable[str], frustration_level: str) -> str:
    """high when the customer says they will leave; medium when angry or threatening; else low."""
    signals = set(signals)
    if "churn" in signals:
        return "high"
    if frustration_level in ("high", "critical") or signals & {"legal_threat", "public_complaint"}:
        return "medium"
    return "low"
