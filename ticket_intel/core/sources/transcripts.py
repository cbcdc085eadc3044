"""Chat transcripts that arrive as one message.

A Zendesk Chat ticket's first comment is the whole chat: "Chat started: 2018-05-18 01:51 PM UTC",
then one line per message, "(01:51:14 PM) Nick Moad: getting an over-current fault", with the
account's triggers ("Customer Service: Hi Nick, welcome back!"), "*** Eric joined the chat ***" and
the agent's answers in between. Read whole, the ticket's text would be mostly the agent's words
("Hi Nick, let me check that for you"), which every chat shares. `transcript_turns` splits it into
turns, so that the customer's opening turn is the message and their later lines are follow-ups, as
for any other conversation (`base.opening_turn`). The lines of agents, who join the chat, are their
replies (`agent_replies`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from dateutil import parser as dateparser

from ticket_intel.core.meaning import CONTACT_SUBJECT
from ticket_intel.core.normalize import html_to_text
from ticket_intel.core.sources.pseudonyms import hashed_id
from ticket_intel.core.sources.zones import parse_time_text

# "(01:51:14 PM) ", "[09:59] ": a line of the transcript starts with the time it was said.
_LINE = re.compile(
    r"^\s*[(\[](?P<at>\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp]\.?[Mm]\.?)?)[)\]]\s+(?P<rest>.*?)\s*$"
)
_SAID = re.compile(r"^(?P<who>[^\s:*][^:]{0,79}?):\s+(?P<said>.*)$")
_JOINED = re.compile(r"^\*+\s*(?P<who>.+?)\s+(?:has\s+)?joined the chat\b", re.IGNORECASE)
_STARTED = re.compile(r"^\s*Chat started\b:?\s*(?P<at>.*)$", re.IGNORECASE)
_HINT = re.compile(r"Chat started|[(\[]\d{1,2}:\d{2}")
HINT_CHARS = 300
MIN_LINES = 2


@dataclass(frozen=True)
class Turn:
    who: str
    text: str
    said_at: str  # the time of day, as written
    mine: bool  # the customer's
    agent: bool  # an agent's: one who joined the chat


def transcript(text: str, subject: str | None = None) -> list[Turn] | None:
    """The transcript's messages in order; None when `text` is no transcript: it must open with
    "Chat started" or a timed line and hold at least MIN_LINES timed messages. A message's untimed
    lines below it are part of it."""
    lines = _lines(text)
    return None if lines is None else _turns(lines, subject)


def _lines(text: str) -> list[str] | None:
    """The text's lines from its first that says something, when that opens a transcript."""
    if not _HINT.search(text[:HINT_CHARS]):
        return None
    lines = html_to_text(text).splitlines()
    lines = lines[next((i for i, line in enumerate(lines) if line.strip()), len(lines)):]
    return lines if lines and (_STARTED.match(lines[0]) or _LINE.match(lines[0])) else None


def _turns(lines: list[str], subject: str | None) -> list[Turn] | None:
    said: list[tuple[str, str, list[str]]] = []
    joined: set[str] = set()
    for line in lines:
        timed = _LINE.match(line)
        if timed is None:
            if said and line.strip():
                said[-1][2].append(line.strip())
            continue
        if event := _JOINED.match(timed["rest"]):
            joined.add(event["who"])
        elif message := _SAID.match(timed["rest"]):
            said.append((message["who"], timed["at"], [message["said"]]))
    if len(said) < MIN_LINES:
        return None
    customer = _customer([who for who, _, _ in said], joined, subject)
    return [Turn(who, "\n".join(words), at, who == customer, who in joined and who != customer)
            for who, at, words in said]


def transcript_turns(text: str, subject: str | None = None) -> list[tuple[bool, str]] | None:
    """The transcript's messages in order, each (the customer's?, text), as `base.opening_turn`
    reads a conversation; None when `text` is no transcript."""
    turns = transcript(text, subject)
    return None if turns is None else [(turn.mine, turn.text) for turn in turns]


def agent_replies(text: str, subject: str | None, fallback_start: datetime) -> list[tuple[Turn, datetime]]:
    """The agents' messages with when each was said: the day the chat started ("Chat started:
    2026-09-02 08:00 AM UTC", else `fallback_start`, naive UTC) at the line's time of day, a day on
    when the time goes back past midnight, in UTC."""
    lines = _lines(text)
    turns = None if lines is None else _turns(lines, subject)
    if not turns:
        return []
    started = _STARTED.match(lines[0])
    try:
        start = parse_time_text(started["at"]) if started and started["at"] else fallback_start
    except (ValueError, OverflowError):
        start = fallback_start
    offset = start.utcoffset() or timedelta(0)
    day, last, out = start.replace(tzinfo=None), None, []
    for turn in turns:
        try:
            at = datetime.combine(day.date(), dateparser.parse(turn.said_at).time())
        except (ValueError, OverflowError):
            continue
        if last is not None and at < last:
            day, at = day + timedelta(days=1), at + timedelta(days=1)
        last = at
        if turn.agent:
            out.append((turn, at - offset))
    return out


def speaker_id(who: str) -> str:
    """An id for a chat's speaker that never shows their display name, which is a person's."""
    return hashed_id("chat", who)


def _customer(speakers: list[str], joined: set[str], subject: str | None) -> str:
    """Who the customer is: the one the subject names; else, of those who never joined the chat
    (agents join it), the one with the most lines, and of equals the one who spoke later (a
    trigger greets the visitor first)."""
    named = CONTACT_SUBJECT.match(subject or "")
    if named and named["who"] and named["who"] in speakers:
        return named["who"]
    lines = Counter(speakers)
    visitors = [who for who in lines if who not in joined] or list(lines)
    return max(visitors, key=lambda who: (lines[who], speakers.index(who)))
