"""Turn the first customer message into the plain text that is embedded and summarised.

HTML goes through a real parser; quoted replies, forwarded blocks and signatures are cut,
because they repeat earlier mail and would pull unrelated tickets together.
"""

from __future__ import annotations

import html
import re

from lxml import etree

_BLOCK_TAGS = frozenset(("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "blockquote", "pre"))
_HIDDEN_TAGS = frozenset(("script", "style", "head"))
_TAG_HINT = re.compile(r"<[a-zA-Z/!][^>]*>|&[a-zA-Z#0-9]+;")

# A line that starts the quoted tail of an email reply or a forward.
_QUOTE_HEADERS = [
    re.compile(r"^\s*On .{0,200}wrote:\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*(Original Message|Forwarded message)\s*-{2,}", re.IGNORECASE),
    re.compile(r"^\s*Begin forwarded message:", re.IGNORECASE),
    re.compile(r"^\s*From: .+$"),
    re.compile(r"^\s*_{10,}\s*$"),
]
_SIGNATURE_STARTS = [
    re.compile(r"^--\s*$"),
    re.compile(r"^\s*Sent from my [\w\s]{2,30}$", re.IGNORECASE),
    re.compile(r"^\s*Sent (?:from|via) (?:Yahoo|Mail|Outlook|Gmail|AOL|Proton)\b", re.IGNORECASE),
    re.compile(r"^\s*Get Outlook for \w+", re.IGNORECASE),
]
# Mailing-list and marketing footers: everything after them is boilerplate.
_FOOTER = re.compile(
    r"^\s*(?:To unsubscribe|Unsubscribe\b|You are receiving this|You received this|This (?:e-?mail|message) was sent to)",
    re.IGNORECASE,
)
_DISCLAIMER = re.compile(
    r"^\s*(CONFIDENTIALITY NOTICE|DISCLAIMER|This (e-?mail|message) (and any attachments )?(is|may be) confidential)",
    re.IGNORECASE,
)


_TAGS = re.compile(r"<[^>]*>")
TAGS_AND_SPACES = re.compile(_TAGS.pattern + r"|&nbsp;|&#160;|\s+")


def has_text(text: str) -> bool:
    """Whether a body says anything once markup is ignored (a cheap test for ingest; the
    full conversion happens once, at redaction)."""
    return bool(TAGS_AND_SPACES.sub("", text))


def html_to_text(text: str) -> str:
    """Convert HTML to text keeping block boundaries as newlines; plain text passes through.

    libxml2's parser (lxml) is as forgiving as a browser and ten times faster than Python's
    html.parser, which mattered: every ticket of an HTML export is parsed once, at redaction."""
    if not _TAG_HINT.search(text):
        return text
    # A parser per call (a microsecond) keeps its error log this call's own, whatever the thread.
    parser = etree.HTMLParser(recover=True, no_network=True, huge_tree=True, encoding="utf-8")
    # Bytes, so that an XML declaration or a <meta charset> cannot contradict the text's own encoding.
    root = etree.fromstring(text.encode("utf-8", "replace"), parser)
    if any(e.level == etree.ErrorLevels.FATAL for e in parser.error_log):
        # It gave up (nesting deeper than libxml2 follows): keep the words, drop the tags.
        return html.unescape(_TAGS.sub(" ", text))
    return "" if root is None else "".join(_visible_text(root))


def _visible_text(root: etree._Element) -> list[str]:
    """The text a reader sees, in order: hidden elements skipped, a newline around each block."""
    out: list[str] = []
    hidden = 0
    for event, el in etree.iterwalk(root, events=("start", "end", "comment", "pi")):
        tag = el.tag if isinstance(el.tag, str) else None
        if event == "start" and tag in _HIDDEN_TAGS:
            hidden += 1
        elif event == "end" and tag in _HIDDEN_TAGS:
            hidden -= 1
        elif not hidden and event == "start":
            out.extend(("\n" if tag in _BLOCK_TAGS else "", el.text or ""))
        elif not hidden and event == "end" and tag in _BLOCK_TAGS:
            out.append("\n")
        if event != "start" and not hidden and el is not root and el.tail:
            out.append(el.tail)
    return out


def strip_email_tail(text: str) -> str:
    """Drop quoted replies, `>` lines, forwards, signatures, footers and disclaimers."""
    kept: list[str] = []
    for line in text.splitlines():
        if any(p.match(line) for p in _QUOTE_HEADERS) and kept:
            break
        if any(p.match(line) for p in _SIGNATURE_STARTS) or _DISCLAIMER.match(line) or _FOOTER.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept)


def collapse_whitespace(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def clean_message(text: str | None) -> str:
    """The cleaned first customer message: HTML to text, email tail cut, whitespace collapsed."""
    if not text:
        return ""
    text = html_to_text(text.replace("\x00", ""))
    # A message that is nothing but a quote or signature still says something: keep it whole.
    return collapse_whitespace(strip_email_tail(text)) or collapse_whitespace(text)
