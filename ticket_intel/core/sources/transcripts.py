"""Chat transcripts that arrive as one message.

A Zendesk Chat ticket's first comment is the whole chat: "Chat started: 2018-05-18 01:51 PM UTC",
then one line per message, "(01:51:14 PM) Nick Moad: getting an over-current fault", with the
account's triggers ("Customer Service: Hi Nick, welcome back!"), "*** Eric joined the chat ***" and
the agent's answers in between. Read whole, the ticket's text would be mostly the agent's words
("Hi Nick, let me check that for you"), which every chat shares. `transcript_turns` splits it into
turns, so that the customer's opening turn is the message and their later lines are follow-ups, as
for any other conversation (`base.opening_turn`).
"""

from __future__ import annotations

import re
from collections import Counter

from ticket_intel.core.normalize import html_to_text

# "(01:51:14 PM) ", "[09:59] ": a line of the transcript starts with the time it was said.
_LINE = re.compile(r"^\s*[(\[]\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp]\.?[Mm]\.?)?[)\]]\s+(?P<rest>.*?)\s*$")
_SAID = re.compile(r"^(?P<who>[^\s:*][^:]{0,79}?):\s+(?P<said>.*)$")
_JOINED = re.compile(r"^\*+\s*(?P<who>.+?)\s+(?:has\s+)?joined the chat\b", re.IGNORECASE)
_STARTED = re.compile(r"^\s*Chat started\b", re.IGNORECASE)
# The subject a helpdesk gives a chat ("Chat with Nick Moad", "Conversation with Visitor 12345"):
# it names the customer and says nothing about the matter ("Chat with support about my refund" does).
CHAT_SUBJECT = re.compile(r"^\s*(?i:chat|conversation)\s+with\s+(?P<who>[A-Z0-9][\w'.-]*(?:\s+[A-Z0-9][\w'.-]*){0,3})\s*$")
_HINT = re.compile(r"Chat started|[(\[]\d{1,2}:\d{2}")
HINT_CHARS = 300
MIN_LINES = 2


def transcript_turns(text: str, subject: str | None = None) -> list[tuple[bool, str]] | None:
    """The transcript's messages in order, each (the customer's?, text); None when `text` is no
    transcript: it must open with "Chat started" or a timed line and hold at least MIN_LINES timed
    messages. A message's untimed lines below it are part of it."""
    if not _HINT.search(text[:HINT_CHARS]):
        return None
    lines = html_to_text(text).splitlines()
    first = next((line for line in lines if line.strip()), "")
    if not (_STARTED.match(first) or _LINE.match(first)):
        return None
    said: list[tuple[str, list[str]]] = []
    joined: set[str] = set()
    for line in lines:
        timed = _LINE.match(line)
        if timed is None:
            if said and line.strip():
                said[-1][1].append(line.strip())
            continue
        if event := _JOINED.match(timed["rest"]):
            joined.add(event["who"])
        elif message := _SAID.match(timed["rest"]):
            said.append((message["who"], [message["said"]]))
    if len(said) < MIN_LINES:
        return None
    customer = _customer([who for who, _ in said], joined, subject)
    return [(who == customer, "\n".join(words)) for who, words in said]


def _customer(speakers: list[str], joined: set[str], subject: str | None) -> str:
    """Who the customer is: the one the subject names; else, of those who never joined the chat
    (agents join it), the one with the most lines, and of equals the one who spoke later (a
    trigger greets the visitor first)."""
    named = CHAT_SUBJECT.match(subject or "")
    if named and named["who"] in speakers:
        return named["who"]
    lines = Counter(speakers)
    visitors = [who for who in lines if who not in joined] or list(lines)
    return max(visitors, key=lambda who: (lines[who], speakers.index(who)))
