"""Entity values to stable tokens in the text for meaning (core/entities.py)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ticket_intel.core.entities import AMOUNT, CODE, DATE, NUMBER, TIME, mask_entities


@pytest.mark.parametrize(("text", "masked"), [
    ("Refund of $45.20 for order A1B2C3 on 12 March, please", f"Refund of {AMOUNT} for order {CODE} on {DATE}, please"),
    ("refund of 19 EUR, ordered 2024-03-02 at 3pm", f"refund of {AMOUNT}, ordered {DATE} at {TIME}"),
    ("I paid 1,250.00 dollars on March 3rd, 2024 at 14:30", f"I paid {AMOUNT} on {DATE} at {TIME}"),
    ("Charged GBP 12 twice on 03/04/24", f"Charged {AMOUNT} twice on {DATE}"),
    ("The amount was £2488, then $12345.5", f"The amount was {AMOUNT}, then {AMOUNT}"),  # no digit left over
    ("my card has not arrived after 2 weeks", f"my card has not arrived after {NUMBER} weeks"),
    ("ticket #12345 from [PERSON]", f"ticket {NUMBER} from [PERSON]"),
    ("you may 2 go", f"you may {NUMBER} go"),  # "may" is a verb, not a month
    ("Why is my card declined?", "Why is my card declined?"),  # nothing to mask
    ("no 4G signal since the iOS 17 update", f"no 4G signal since the iOS {NUMBER} update"),  # names stay
])
def test_values_become_tokens(text, masked):
    assert mask_entities(text) == masked


def test_the_same_issue_with_different_values_reads_the_same():
    a = mask_entities("I was charged €12.99 twice on 4 May for order ZX81Q7")
    b = mask_entities("I was charged $1,200 twice on Jan 30 for order QQ19B2")
    assert a == b


def test_masking_is_idempotent():
    text = "Refund of $45.20 for order A1B2C3 on 12 March at 10:15"
    assert mask_entities(mask_entities(text)) == mask_entities(text)


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200))
def test_no_standalone_number_survives(text):
    """Digits inside a word ("4G", "mp3", "2FA") name things and stay; a number on its own is a value."""
    masked = mask_entities(text)
    assert not re.search(r"(?<!\w)[0-9]+(?!\w)", masked)
    assert mask_entities(masked) == masked


def test_the_text_for_meaning_drops_values_and_placeholders():
    from ticket_intel.core.meaning import meaning_text

    assert meaning_text("[PERSON] here. I was charged $45.20 on 12 March for order [ORDER].") == (
        "I was charged on for order.")


def test_values_that_vary_between_tickets_go_and_numbers_that_name_the_issue_stay():
    from ticket_intel.core.entities import drop_values

    assert drop_values("refund of $45.20 for order 1234567 on 12/03/2026") == "refund of for order on"
    assert drop_values("HTTP 500 error after updating to next@14.2.8 on iOS 11") == \
        "HTTP 500 error after updating to next@14.2.8 on iOS 11"
