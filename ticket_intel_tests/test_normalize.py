"""Normalization of the first customer message: HTML, quotes, signatures, footers, whitespace."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticket_intel.core.normalize import clean_message, html_to_text

CASES = [
    ("<div><p>My card&nbsp;is <b>blocked</b></p><p>since today</p></div>", "My card is blocked since today"),
    ("<script>alert(1)</script><p>App crashes</p><style>p{}</style>", "App crashes"),
    ("Card declined again.\n\nOn Tue, 3 Mar 2026 at 10:02, Support <help@bank.com> wrote:\n> old text",
     "Card declined again."),
    ("Still broken\n> quoted line\n> another\nthanks", "Still broken thanks"),
    ("See below\n---------- Forwarded message ---------\nFrom: a@b.c\nold stuff", "See below"),
    ("Where is my refund?\n-- \nJane Doe\nHead of Ops", "Where is my refund?"),
    ("Top up failed\n\nSent from my iPhone", "Top up failed"),
    ("Transfer pending\nGet Outlook for Android", "Transfer pending"),
    ("Refund please\nCONFIDENTIALITY NOTICE: this email is private", "Refund please"),
    ("App freezes\nTo unsubscribe from these emails click here", "App freezes"),
    ("  lots   of\n\n whitespace\t here ", "lots of whitespace here"),
    ("Sent from my iPhone", "Sent from my iPhone"),  # nothing else said: keep it whole
    ("سلام، بطاقتي لا تعمل 😞", "سلام، بطاقتي لا تعمل 😞"),
    ("a < b and c > d in my report", "a < b and c > d in my report"),
    ('<?xml version="1.0" encoding="utf-8"?><p>Export fails</p>', "Export fails"),
    ('<html><head><meta charset="latin-1"><title>Re: case</title></head><body>Café card déclinée</body></html>',
     "Café card déclinée"),
    ("<p>Login <!-- tracking pixel -->loops</p>", "Login loops"),
    ("<ul><li>step one</li><li>step two</li></ul>then it fails", "step one step two then it fails"),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_clean_message(raw, expected):
    assert clean_message(raw) == expected


def test_html_only_body_keeps_block_boundaries():
    assert html_to_text("<p>one</p><p>two</p>").split() == ["one", "two"]


def test_markup_nested_deeper_than_the_parser_follows_keeps_its_words():
    deep = "<div>" * 5000 + "card &amp; pin blocked" + "</div>" * 5000
    assert html_to_text(deep).split() == ["card", "&", "pin", "blocked"]


def test_empty_and_none():
    assert clean_message(None) == ""
    assert clean_message("") == ""
    assert clean_message("\x00\x00") == ""


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
       | st.lists(st.sampled_from(["<p>", "</p>", "<br>", "&amp;", "> ", "\n", "On x wrote:", "-- ", "a"]),
                  max_size=20).map("".join))
def test_clean_message_never_crashes_and_is_stable(text):
    cleaned = clean_message(text)
    assert isinstance(cleaned, str)
    assert "  " not in cleaned and cleaned == cleaned.strip()
