"""Turn the first customer message into the plain text that is embedded and summarised.

HTML goes through a real parser. Quoted replies, signatures, footers and disclaimers are cut: they
repeat earlier mail or what every mail of one sender shares, and would pull unrelated tickets
together. So are a forward's header (its body is what the customer brings) and a web form's labels
and short answers (`form_answers`), which every notification of that form shares.
"""

from __future__ import annotations

import html
import re

from lxml import etree

_BLOCK_TAGS = frozenset((
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr", "table", "caption",
    "ul", "ol", "dl", "dt", "dd", "section", "article", "header", "footer", "address", "figure", "figcaption",
    "form", "fieldset", "legend", "details", "summary",
))
# A table cell starts after a tab, so that neighbouring cells never run into one word ("Your
# nameJane Doe", which also hid the name from redaction) and a form's "Label | answer" row reads as one.
_CELL_TAGS = frozenset(("td", "th"))
_HIDDEN_TAGS = frozenset(("script", "style", "head"))
# The containers mail clients put a signature in (Gmail, Thunderbird, Apple Mail, Outlook on the web).
_SIGNATURE_BOX = re.compile(r"\b(?:gmail_signature|moz-signature|AppleMailSignature)\b|^Signature$",
                            re.IGNORECASE)
# Markup only HTML writes: a closing tag, a line break, a comment, a document's start. A plain-text
# message may name a tag ("<select> onChange not firing", "When hydrate <Suspense>, it shows loading
# forever": 511 of 55,045 GitHub bug titles), which a parser would drop as markup.
_HTML = re.compile(r"</[a-zA-Z][\w:.-]*\s*>|<br\s*/?>|<!--|<!doctype\b|<\?xml\b|<html\b", re.IGNORECASE)
# A character reference with its semicolon: "&param=2" in a link stays as it is.
_ENTITY = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")

# A line that starts the quoted tail of an email reply: a separator, or a header's "From:".
_QUOTE_SEPARATOR = re.compile(r"^\s*(?:On .{0,200}wrote:\s*$|-{2,}\s*Original Message\s*-{2,}|_{10,}\s*$)",
                              re.IGNORECASE)
_QUOTED_FROM = re.compile(r"^\s*From: .+$")
# The note Zendesk puts over a reply to a closed ticket, which opens a new one: every such ticket
# would share it ("This is a follow-up to your previous request #40155 "Re: Order JJ1414134"").
_FOLLOW_UP_NOTE = re.compile(r'^\s*This is a follow-up to your previous request\s*#?\s*\d*(?:\s*"[^"\n]*")?',
                             re.IGNORECASE)
# A message that only points elsewhere: "Please see attached", "see the attached file", "As per subject",
# "FYI, see below".
POINTER = re.compile(
    r"(?i)^\W*(?:fyi\b\W*)?(?:(?:please\s+)?(?:see|find|check)\s+(?:the\s+)?(?:(?:e-?mail|message|mail)\s+)?"
    r"(?:attached|attachments?|enclosed|screenshots?|subject|below|above)(?:\s+(?:file|files|screenshots?|image|line))?"
    r"|(?:as\s+)?(?:per|in)\s+(?:the\s+)?subject(?:\s+line)?|fyi)\W*$"
)
_FORWARD = re.compile(r"^\s*(?:-{2,}\s*Forwarded message\s*-{2,}|Begin forwarded message:)", re.IGNORECASE)
_HEADER_FIELD = re.compile(r"^\s*(?:From|Sent|Date|To|Cc|Bcc|Subject|Reply-To)\s*:", re.IGNORECASE)
# A line from which on nothing is the customer's: a signature's start, a mailing list's footer, a
# disclaimer, or the mark a helpdesk's notification puts where a reply ends ("##- Please type your
# reply above this line -##").
_TAIL = re.compile(
    r"^(?:--\s*$|\s*Sent from my [\w\s]{2,30}$|\s*Sent (?:from|via) (?:Yahoo|Mail|Outlook|Gmail|AOL|Proton)\b"
    r"|\s*Get Outlook for \w+"
    r"|\s*(?:To unsubscribe|Unsubscribe\b|You are receiving this|You received this|This (?:e-?mail|message) was sent to)"
    r"|\s*(?:CONFIDENTIALITY NOTICE|DISCLAIMER|This (?:e-?mail|message) (?:and any attachments )?(?:is|may be) confidential)"
    r"|\W*(?:please\s+)?(?:(?:type|write)\s+(?:your\s+)?)?reply\s+above\s+this\s+line\W*$)",
    re.IGNORECASE,
)


_TAGS = re.compile(r"<[^>]*>")
_NBSP_AND_SPACES = re.compile(r"&nbsp;|&#160;|\s+")
TAGS_AND_SPACES = re.compile(_TAGS.pattern + "|" + _NBSP_AND_SPACES.pattern)


def has_text(text: str) -> bool:
    """Whether a body says anything once markup is ignored (a cheap test for ingest; the
    full conversion happens once, at redaction)."""
    return bool((TAGS_AND_SPACES if _HTML.search(text) else _NBSP_AND_SPACES).sub("", text))


def html_to_text(text: str) -> str:
    """Convert HTML to text keeping block boundaries as newlines; plain text passes through, its
    character references decoded (tweets come HTML-escaped: "Q&amp;A").

    libxml2's parser (lxml) is as forgiving as a browser and ten times faster than Python's
    html.parser, which mattered: every ticket of an HTML export is parsed once, at redaction."""
    if not _HTML.search(text):
        return _ENTITY.sub(lambda m: html.unescape(m.group(0)), text) if "&" in text else text
    # A parser per call (a microsecond) keeps its error log this call's own, whatever the thread.
    parser = etree.HTMLParser(recover=True, no_network=True, huge_tree=True, encoding="utf-8")
    # Bytes, so that an XML declaration or a <meta charset> cannot contradict the text's own encoding.
    root = etree.fromstring(text.encode("utf-8", "replace"), parser)
    if any(e.level == etree.ErrorLevels.FATAL for e in parser.error_log):
        # It gave up (nesting deeper than libxml2 follows): keep the words, drop the tags.
        return html.unescape(_TAGS.sub(" ", text))
    return "" if root is None else "".join(_visible_text(root))


def _visible_text(root: etree._Element) -> list[str]:
    """The text a reader sees, in order: hidden elements and signature containers skipped, a newline
    around each block."""
    out: list[str] = []
    hiding: list[etree._Element] = []  # the hidden elements open around this point
    for event, el in etree.iterwalk(root, events=("start", "end", "comment", "pi")):
        tag = el.tag if isinstance(el.tag, str) else None
        hidden = bool(hiding)
        if event == "start" and tag is not None and _hides(tag, el):
            hiding.append(el)
        elif event == "end" and hidden and hiding[-1] is el:
            hiding.pop()
        elif not hidden and event == "start":
            out.extend(("\n" if tag in _BLOCK_TAGS else "\t" if tag in _CELL_TAGS else "", el.text or ""))
        elif not hidden and event == "end" and tag in _BLOCK_TAGS:
            out.append("\n")
        if event != "start" and not hiding and el is not root and el.tail:
            out.append(el.tail)
    return out


def _hides(tag: str, el: etree._Element) -> bool:
    return tag in _HIDDEN_TAGS or bool(_SIGNATURE_BOX.search(el.get("class") or "")
                                       or _SIGNATURE_BOX.search(el.get("id") or ""))


def strip_email_tail(text: str) -> str:
    """Drop quoted replies, `>` lines, signatures, footers, disclaimers and a helpdesk's follow-up
    note. A forwarded mail is what the customer brings ("see below", or nothing, over the bank's
    "Your payment failed"): its header goes and its body stays, and so does that of a quoted mail
    the message opens with (a bare forward read "Forwarded message")."""
    kept: list[str] = []
    in_header = False
    for line in text.splitlines():
        if in_header and (not line.strip() or _HEADER_FIELD.match(line)):
            continue
        in_header = False
        separator = _QUOTE_SEPARATOR.match(line)
        if _FORWARD.match(line) or (separator and not any(k.strip() for k in kept)):
            in_header = True
            kept = [] if POINTER.match(" ".join(kept)) else kept  # "FYI, see below" says nothing of it
            continue
        if separator or (_QUOTED_FROM.match(line) and kept) or _TAIL.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(_FOLLOW_UP_NOTE.sub("", line, count=1))
    return "\n".join(_without_sign_off(kept))


# The words that close a mail ("Best regards", "Thanks"), at the end of a message's text for meaning
# (`meaning`) and on a line of their own (`SIGN_OFF_LINE`).
VALEDICTION = (r"(?:many thanks|thanks(?: again| in advance)?|thank you(?: again| in advance)?|thx|ty|regards|"
               r"kind regards|best regards|warm regards|warmest regards|best wishes|all the best|best|cheers|"
               r"sincerely|yours sincerely|yours truly|respectfully|"
               # German, French, Spanish, Italian, Portuguese and Dutch, for a multilingual model's tickets
               r"mit freundlichen gr(?:ü|ue|u)(?:ß|ss)en|(?:freundliche|viele|beste|liebe) gr(?:ü|ue|u)(?:ß|ss)e|"
               r"(?:bien )?cordialement|bien à vous|(?:un )?saludos?(?: cordiales)?|atentamente|cordiali saluti|"
               r"distinti saluti|atenciosamente|met vriendelijke groet(?:en)?)")
# Thanks and wishes that close a message in the other languages of VALEDICTION ("Danke", "Merci d'avance",
# "Gracias de antemano", "MfG", "Bonne journée"): they end the text for meaning as "Thanks" does (`meaning`)
# and cue the name of a signature (`person_names`), but a line of them does not end a mail's text
# (`SIGN_OFF_LINE`) as a valediction does.
CLOSING_ELSEWHERE = (
    r"(?:(?:vielen |herzlichen |besten )?dank(?:e(?: sch(?:ö|oe)n| sehr)?)?(?: im voraus)?|mfg"
    r"|(?:herzliche|sch(?:ö|oe)ne) gr(?:ü|ue|u)(?:ß|ss)e|merci(?: beaucoup| d['’]avance| par avance)?"
    r"|(?:sinc(?:è|e)res |meilleures )?salutations(?: distingu(?:é|e)es)?|bonne (?:journ(?:é|e)e|soir(?:é|e)e)"
    r"|(?:muchas )?gracias(?: de antemano| por adelantado)?|(?:un )?cordial(?:es)? saludos?"
    r"|grazie(?: mille| in anticipo)?|obrigad[oa]|(?:alvast )?bedankt|(?:met vriendelijke )?groet(?:en|jes)?)"
)
# A line that closes a mail: the words, then at most a name or a team ("Thanks, Maria", "Best regards,
# The Acme Team"); "Thanks for waiting" and "Thanks, that fixed it" say more. "Take care" closes a
# mail only on its own line.
SIGN_OFF_LINE = re.compile(rf"^\s*(?i:{VALEDICTION}|take care)\b\s*[,.!-]*\s*(?:[A-Z][\w'.-]*\s*){{0,3}}[,.!]*\s*$")
# How long the block below a sign-off may be to be a signature: a name, a title, a company, phones,
# a link, an address.
SIGNATURE_LINES = 8
SIGNATURE_LINE_CHARS = 72


def _without_sign_off(lines: list[str]) -> list[str]:
    """The lines above the sign-off, when something is above it and all below it is a signature
    block: a customer's title and company ("Senior Data Engineer | Globex Corporation") would pull
    together every ticket from that company, as a brand did tweets."""
    said = [i for i, line in enumerate(lines) if line.strip()]
    for n in range(max(1, len(said) - SIGNATURE_LINES - 1), len(said)):  # the first line said is never one
        below = said[n + 1:]
        if SIGN_OFF_LINE.match(lines[said[n]]) and all(len(lines[j].strip()) <= SIGNATURE_LINE_CHARS for j in below):
            return lines[:said[n]]
    return lines


# A web form's field, as its notification e-mail writes it: "Label: answer", a row of two table
# cells ("Label<tab>answer"), or a label alone (a Markdown heading, a bold line) over its answer.
_FIELD = re.compile(
    r"^\s*(?:\*\*|__)?(?P<label>[^\W\d_][^:：\t*_]{0,39}?)\s*(?:(?:\*\*|__)?[:：](?:\*\*|__)?(?=\s|$)|\t)"
    r"\s*(?P<answer>.*?)\s*$"
    r"|^\s*(?:#{1,6}\s+(?P<heading>[^#]{1,60}?)\s*#*|(?:\*\*|__)(?P<bold>[^*_]{1,60}?)(?:\*\*|__)\s*[:：]?)\s*$"
)
_LABEL_WORDS = 6
_CONTACT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\+?(?=(?:\D*\d){7})[\d\s().-]{7,}")
# The line a form's notification opens with ("You have received a new submission from the Contact us
# form", "New Entry: Contact Form", "NEW FORM SUBMISSION:", "Form details below.", "Here is the
# message:"): the same on every notification of that form, none of the customer's words.
_FORM_PREAMBLE = re.compile(
    r"(?i)^\W*(?:(?:you(?:'ve|\s+have)?\s+)?(?:just\s+)?(?:received|got)\s+an?\s+|an?\s+)?new\s+(?:\w+\s+){0,3}?"
    r"(?:submission|entry|message|enquiry|inquiry|response|lead)s?\b"
    r"(?:\s*[:.!-].{0,80}|\s+(?:from|for|on|via|to|at|in|has)\b.{0,100})?$"
    r"|^\W*(?:(?:the\s+)?form\s+details(?:\s+(?:are\s+)?below)?"
    r"|here\s+(?:are|is)\s+the\s+(?:details|message|submission|information)|(?:the\s+)?details\s+(?:are\s+)?below"
    r"|someone\s+(?:has\s+)?(?:submitted|filled\s+(?:in|out)|sent))\b.{0,100}$"
)
FORM_FIELDS = 3  # one or two "Note: ..." lines occur in prose; three labelled lines that ask who you are make a form
FREE_TEXT_WORDS = 4  # a shorter answer is a name, a choice from a list ("Topic: Other") or a contact detail


def _fields(lines: list[str]) -> tuple[list[str], list[list[str]]]:
    """The lines before a form's first field, and each field's answer lines (a label alone takes
    the lines below it, up to the next field)."""
    before: list[str] = []
    answers: list[list[str]] = []
    for line in filter(str.strip, lines):
        m = _FIELD.match(line)
        label = m and (m["label"] or m["heading"] or m["bold"])
        if m and len(label.split()) <= _LABEL_WORDS and not (m["answer"] and "\t" in m["answer"]):
            answers.append([m["answer"]] if m["answer"] else [])
        elif answers:
            answers[-1].append(line)
        else:
            before.append(line)
    return before, answers


def form_answers(text: str) -> str:
    """What the customer wrote into a web form whose notification is the message: the lines before
    its first field (after the form's preamble), and its free-text answers (or, with neither, its
    short answers but the contact details). Labels, contact details and short answers go: every
    ticket from that form shares them ("Name: Email: Topic: Other Message: ..." halved the agreement of banking questions' themes with
    their intents). Empty when the text is no such form: fewer than FORM_FIELDS fields, or no short
    answer holding an e-mail address or a phone number (a form that asks who you are; a customer's
    own "Steps: / Expected: / Actual:" report stays whole)."""
    if is_call_record(text):
        return ""
    lines = text.splitlines()
    opening = next((i for i, line in enumerate(lines) if line.strip() and not _FORM_PREAMBLE.match(line)), len(lines))
    before, answers = _fields(lines[opening:])
    said = [" ".join(a).strip() for a in answers]
    free = [a for a in said if len(a.split()) >= FREE_TEXT_WORDS]
    contact = [a for a in said if a not in free and _CONTACT.search(a)]
    if len(said) < FORM_FIELDS or not contact:
        return ""
    # No free text: the customer wrote above the fields (contact details under a mail), or a short answer.
    return "\n".join(before + (free or ([] if before else [a for a in said if a and a not in contact])))


# A phone system's record of a call, the message of a ticket it opens (Zendesk Talk: "Call from: /
# Time of call: / Called: / Location: / Length of phone call: / Answered by:", other phone
# integrations alike): who called whom, when, for how long. Only a voicemail's or a call's
# transcription, when the record holds one, is the customer's words; the rest is the same on every
# call ("Length of phone call: 2 minutes, 19 seconds") and would make one theme of all of them.
_CALL_LABEL = re.compile(
    r"(?i)(?<![\w-])(?P<label>time\s+of\s+(?:the\s+)?call|(?:length|duration)\s+of\s+(?:the\s+)?(?:phone\s+)?"
    r"(?:call|voicemail)|answered\s+by|called|voicemail(?:\s+from)?|(?:(?:missed|inbound|incoming|outbound|outgoing)"
    r"\s+)?(?:phone\s+)?call(?:er)?(?:\s+(?:from|to|with|id|number|duration|length|recording|direction|status|"
    r"started|ended|time|type))?)\s*[:：]")
CALL_LABELS = 2  # two different ones: "Best time to call:" alone is a call-back form's question
CALL_RECORD_CHARS = 400  # a record opens the message
_TRANSCRIPTION = re.compile(r"(?i)(?<![\w-])(?:(?:voicemail|call)\s+)?transcri(?:ption|pt)(?:\s+text)?\s*[:：]")


def is_call_record(text: str) -> bool:
    """Whether a text (lines or one collapsed line, markup or not) is a phone system's record of a
    call: CALL_LABELS different call labels in its start."""
    start = text[:CALL_RECORD_CHARS]
    lower = start.lower()
    if "call" not in lower and "voicemail" not in lower:  # most texts, at a tenth of the labels' pattern
        return False
    labels = {" ".join(m["label"].lower().split()) for m in _CALL_LABEL.finditer(start)}
    return len(labels) >= CALL_LABELS


def call_words(text: str) -> str | None:
    """The customer's words in a call's record: its transcription (up to the record's next field),
    "" without one; None when the text is no call record."""
    if not is_call_record(text):
        return None
    if not (said := _TRANSCRIPTION.search(text)):
        return ""
    end = next((m.start() for m in _CALL_LABEL.finditer(text, said.end())), len(text))
    return html_to_text(text[said.end():end]).strip()


# Control characters other than line breaks and tabs (C0, DEL, C1): no customer types them as text,
# and printed to a terminal they run (clear the screen, retitle the window, hide a link's target).
_CONTROL = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """The text without control characters, so no ticket, reply or id can drive the reader's terminal."""
    return _CONTROL.sub("", text)


def collapse_whitespace(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def clean_message(text: str | None) -> str:
    """The cleaned first customer message: HTML to text, a call's record read to its transcription,
    email tail cut, a web form read to its answers, whitespace collapsed."""
    if not text:
        return ""
    text = printable(html_to_text(printable(text)))  # a character reference (&#27;) decodes to one
    if said := call_words(text):
        return collapse_whitespace(said)  # a voicemail: what the caller said
    own = strip_email_tail(text)
    # A message that is nothing but a quote or signature still says something: keep it whole.
    return collapse_whitespace(form_answers(own) or own) or collapse_whitespace(text)
