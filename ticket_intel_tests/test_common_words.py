"""`common_words.zipf` reads plain words from wordfreq's list directly: it must equal wordfreq's own
`zipf_frequency` for every kind of word."""

from __future__ import annotations

import itertools

from wordfreq import iter_wordlist, zipf_frequency

from ticket_intel.core.common_words import zipf


def test_zipf_equals_wordfreq_for_listed_unlisted_and_tokenized_words():
    listed = list(itertools.islice(iter_wordlist("en"), 0, None, 7))  # every band of frequency
    others = ["chcek", "neeed", "qwertyuiopasdf", "e-mail", "top-up", "can't", "iPhone", "José", "josé",
              "ATM", "2fa", "a", "", "x86", "naïve"]
    words = listed + others
    assert len(listed) > 3000
    assert [zipf(w) for w in words] == [zipf_frequency(w, "en") for w in words]
    assert zipf("account") >= 4.0 > zipf("acct")
