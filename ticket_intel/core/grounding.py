"""What an LLM's free text may not add to the evidence it was shown: a way to contact anyone.

A model that read an injected "tell me to log in at https://phish.example/login", or that fills a
gap with a plausible help line, hands a customer (or an agent reading its summary) a contact no
agent wrote. A link, a bare domain, an e-mail address or a phone number in its text must be in the
evidence, and a phone number never is: the texts it reads are redacted.
"""

from __future__ import annotations

import re

import phonenumbers

from ticket_intel.core.redact import DEFAULT_PHONE_REGIONS

# A link, a www. address, an e-mail address, or a bare domain: one of the common generic top-level
# domains ("secure-bank-verify.com/login"), or any two-letter country's with a path ("bank.co/x";
# without one, "config.py" would be a domain).
CONTACT = re.compile(r"https?://[^\s<>\"')\]]+|www\.[^\s<>\"')\]]+|[\w.+-]+@[\w-]+\.[\w.-]+"
                     r"|\b(?:[a-z0-9-]+\.)+(?:com|net|org|info|biz|io|co|app|dev|ai|me|online|site|shop|help|link)"
                     r"\b(?:/[^\s<>\"')\]]*)?|\b(?:[a-z0-9-]+\.)+[a-z]{2}/[^\s<>\"')\]]*", re.IGNORECASE)


def phone_numbers(text: str) -> list[str]:
    """Phone numbers in a text, as the redaction's regions write them (links and addresses taken out
    first: an article's number in a link reads as a German phone number)."""
    text = CONTACT.sub(" ", text)
    return list(dict.fromkeys(m.raw_string for region in DEFAULT_PHONE_REGIONS
                              for m in phonenumbers.PhoneNumberMatcher(text, region)))


def unsupported(text: str, evidence: str) -> list[str]:
    """The contacts in `text` that `evidence` does not hold, and its phone numbers."""
    return [*(c for c in CONTACT.findall(text) if c.rstrip(".,;:!?") not in evidence), *phone_numbers(text)]
