"""Turn the first customer message into the plain text that is embedded and summarised.

HTML goes through a real parser; quoted replies, forwarded blocks and signatures are cut,
because they repeat earlier mail and would pull unrelated tickets together.
"""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

_BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "blockquote", "pre")
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


_TAGS_AND_SPACES = re.compile(r"<[^>]*>|&nbsp;|&#160;|\s+")


def has_text(text: str) -> bool:
    """Whether a body says anything once markup is ignored (a cheap test for ingest; the
    full conversion happens once, at redaction)."""
    return bool(_TAGS_AND_SPACES.sub("", text))


def html_to_text(text: str) -> str:
    """Convert HTML to text keeping block boundaries as newlines; plain text passes through."""
    if not _TAG_HINT.search(text):
        return text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(text, "html.parser")
    for bad in soup(["script", "style", "head"]):
        bad.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    return soup.get_text()


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
