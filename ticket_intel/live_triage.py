"""The triage `ticket-intel serve` answers with: the ticket_triage asset's own, one message at a time.

The same core/triage.py over the same triage.yaml, routing.yaml and taxonomy.yaml (product
areas), with the same zero-shot index built once from the same encoder, then the configured LLM
over the offline row exactly as the asset does (core/triage_llm.py: escalation signals found by
rules always stay; any failure keeps the offline row). The only differences are the inputs a
single message has: its language is detected here on the redacted text (the asset reads the
language ingest detected on the raw message), and only a body a column mapping reads brings the
ticket's product and helpdesk tags, which decide its product area as they do the asset's
(`taxonomy.ticket_area`); another body's area comes from the text alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ticket_intel import settings
from ticket_intel.core import taxonomy as tax
from ticket_intel.core.drafts import LLM
from ticket_intel.core.language import detect_language
from ticket_intel.core.meaning import meaning_text
from ticket_intel.core.triage import learned_scores, pair_scores, triage_one, zero_shot_index
from ticket_intel.core.triage_config import load_triage
from ticket_intel.core.triage_llm import llm_triage
from ticket_intel.core.triage_rules import load_escalation

Encode = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class TriageRequest:
    """What a triage function sees: the redacted text only, and its vector (of its text for meaning)."""

    text: str
    vector: np.ndarray
    customer_id: str | None
    source: str
    warm_up: bool = False  # the server's start: never sent to the LLM (a paid call, and a provider that is
    # down would hold up the start by 3 times its timeout)
    product: str | None = None  # the product and helpdesk tags a column mapping read from the body
    tags: tuple[str, ...] = ()


Triage = Callable[[TriageRequest], Mapping[str, Any]]


@dataclass(frozen=True)
class TriageFiles:
    """Where the triage categories, the routing, the product areas and a team's escalation phrases are
    configured."""

    triage: str = "triage.yaml"
    routing: str = "routing.yaml"
    taxonomy: str = "taxonomy.yaml"
    escalation: str = ""  # a team's escalation phrases; empty: the shipped ones

    @classmethod
    def from_settings(cls) -> TriageFiles:
        v = settings.value
        return cls(v("TICKET_INTEL_TRIAGE"), v("TICKET_INTEL_ROUTING"), v("TICKET_INTEL_TAXONOMY"),
                   v("TICKET_INTEL_ESCALATION"))


def live_triage(files: TriageFiles, encode: Encode, llm: LLM | None = None) -> Triage:
    """A triage function for single messages; files are read and the descriptions embedded now, once."""
    taxonomy, routing = load_triage(files.triage, files.routing)
    areas = tax.load(files.taxonomy)
    index = zero_shot_index(taxonomy, encode)
    escalation = load_escalation(files.escalation)

    def one(request: TriageRequest) -> dict[str, Any]:
        # core.triage.triage's row for a one-ticket frame, without building frames (7 of its 11 ms)
        sims = dict(zip(index.pairs, pair_scores(index, request.vector[None, :])[0].tolist(), strict=True))
        learned = learned_scores(index, request.vector[None, :])
        row = triage_one(request.text, taxonomy, routing, sims, detect_language(request.text),
                         learned[0] if learned else None, unread=not meaning_text(request.text),
                         escalation=escalation)
        row["product_area"] = tax.ticket_area(areas, request.text, request.tags, request.product)
        if llm is None or request.warm_up:
            return row
        return llm_triage(request.text, row, taxonomy, routing, llm.model, llm.cache, llm.complete)

    return one
