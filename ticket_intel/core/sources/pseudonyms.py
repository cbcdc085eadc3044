"""The one recipe for an id that stands for a person without naming them: a customer id that is an
e-mail address, a phone number or a name (`base.pseudonymize`), and a chat speaker's display name
(`transcripts.speaker_id`). The same words give the same id whichever export they came from."""

from __future__ import annotations

import hashlib


def hashed_id(kind: str, said: str) -> str:
    """`kind:` and a hash of what was said, whitespace and case aside."""
    return f"{kind}:" + hashlib.sha256(" ".join(said.split()).lower().encode()).hexdigest()[:16]
