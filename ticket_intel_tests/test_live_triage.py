"""The triage `serve` answers with is the ticket_triage asset's: same rules, files, encoder and LLM path."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ticket_intel.adapters import encoder
from ticket_intel.adapters.llm import completer
from ticket_intel.adapters.server import TRIAGE_FIELDS
from ticket_intel.core import taxonomy as tax
from ticket_intel.core.drafts import LLM
from ticket_intel.core.llm import LLMCache
from ticket_intel.core.meaning import meaning_text
from ticket_intel.core.triage import triage, zero_shot_index
from ticket_intel.core.triage_config import load_routing, load_taxonomy
from ticket_intel.live_triage import TriageFiles, TriageRequest, live_triage

ANGRY = ("I have waited two weeks for an answer. This is ridiculous: refund me today or I cancel my "
         "subscription and my lawyer will hear about it.")
MODEL = "openai/gpt-4o-mini"


def encode(texts) -> np.ndarray:
    return encoder.encode(list(texts))


def request(text: str, product: str | None = None, tags: tuple[str, ...] = ()) -> TriageRequest:
    return TriageRequest(text, encode([meaning_text(text)])[0], "c-1", "text", product=product, tags=tags)


# Two products' areas: a bank's transfers and a compiler's crashes (taxonomy.yaml `products`).
TWO_PRODUCTS = """product_areas:
  - {name: Transfers, description: Sending money., keywords: [transfer, swift, iban], products: [acme_bank]}
  - {name: Compiler, description: The compiler., keywords: [compiler, crash], tags: [frontend],
     products: [swiftlang_swift]}
"""


def test_a_mapped_product_and_tags_decide_the_area_as_they_do_the_asset_s(tmp_path):
    """serve read a mapping's product but took the area from the text alone, over every product's
    areas: Swift's compiler crash that says "transfer" was the bank's Transfers, which the asset,
    reading the same ticket's stored product, never gives it."""
    areas = tmp_path / "taxonomy.yaml"
    areas.write_text(TWO_PRODUCTS, encoding="utf-8")
    one = live_triage(TriageFiles(taxonomy=str(areas)), encode)
    crash = "Swift: the compiler crashes on a transfer of ownership"
    assert one(request(crash, "swiftlang_swift"))["product_area"] == "Compiler"
    assert one(request(crash))["product_area"] == "Unassigned"  # no product: no product's own areas apply
    assert one(request("It fails on this input", "swiftlang_swift", ("frontend",)))["product_area"] == "Compiler"
    frame = pd.DataFrame({"ticket_id": ["t"], "text": [crash], "product": ["swiftlang_swift"], "tags": [["x"]]})
    stored = tax.load(areas)
    asset = triage(frame, load_taxonomy(), load_routing(), area_of=lambda t, g, p: tax.ticket_area(stored, t, g, p))
    assert asset.iloc[0]["product_area"] == "Compiler"


def test_a_message_gets_the_assets_triage_row():
    taxonomy, routing = load_taxonomy(), load_routing()
    row = live_triage(TriageFiles(), encode)(request(ANGRY))
    assert set(TRIAGE_FIELDS) <= set(row) and row["triage_source"] == "offline" and row["language"] == "en"
    # what ticket_triage computes for the same stored ticket (text, language, vector)
    frame = pd.DataFrame({"ticket_id": ["t"], "text": [ANGRY], "language": ["en"]})
    asset = triage(frame, taxonomy, routing, encode=encode, vectors=encode([meaning_text(ANGRY)]),
                   index=zero_shot_index(taxonomy, encode)).iloc[0]
    for field in TRIAGE_FIELDS:
        assert row[field] == pytest.approx(asset[field]) if isinstance(row[field], float) else row[field] == asset[field]
    assert {"churn", "legal_threat", "refund_chargeback"} <= set(row["escalation_signals"]) and row["escalation"]
    assert row["assigned_team"] == routing.route(row["category"]).escalation_team  # escalated: its escalation team


def test_a_message_outside_the_rules_language_is_marked_for_review():
    row = live_triage(TriageFiles(), encode)(request("Mi tarjeta fue rechazada en la tienda y no sé por qué"))
    assert row["language"] == "es" and row["needs_review"] is True


def test_a_message_with_nothing_to_read_is_marked_for_review_as_the_asset_marks_it():
    text = "Bug report"  # the rules alone call it a bug, and it says nothing of one
    frame = pd.DataFrame({"ticket_id": ["t"], "text": [text], "meaning_text": [meaning_text(text)]})
    asset = triage(frame, load_taxonomy(), load_routing(), encode=encode, vectors=encode([""])).iloc[0]
    assert live_triage(TriageFiles(), encode)(request(text))["needs_review"] is True and asset["needs_review"]


def test_with_an_llm_the_model_reads_it_and_rule_signals_stay(monkeypatch):
    import litellm

    prompts = []
    real = litellm.completion
    said = {"category": "account & billing", "subcategory": "technical billing", "severity": "P3",
            "sentiment": 0.2, "frustration": "low", "escalation_signals": [], "summary": "Wants a refund.",
            "goal": "Get the money back.", "confidence": 0.9}

    def spy(*args, **kwargs):
        prompts.append(kwargs["messages"])
        return real(*args, **{**kwargs, "mock_response": json.dumps(said)})

    monkeypatch.setattr(litellm, "completion", spy)
    cache: dict[str, str] = {}
    llm = LLM(MODEL, LLMCache(cache.get, lambda key, answer, _: cache.__setitem__(key, answer)), completer(MODEL))
    row = live_triage(TriageFiles(), encode, llm)(request(ANGRY))
    assert row["triage_source"] == f"llm:{MODEL}" and row["summary"] == "Wants a refund." and len(prompts) == 1
    assert {"churn", "legal_threat"} <= set(row["escalation_signals"]) and row["escalation"]  # rules outvote it
    assert row["churn_risk"] == "high"


def test_a_routing_file_for_unknown_categories_is_refused_at_startup(tmp_path):
    routing = tmp_path / "routing.yaml"
    routing.write_text("default: {team: A, escalation_team: B, sla_hours: {P1: 1, P2: 2, P3: 3, P4: 4}}\n"
                       "categories:\n  bug reports: {team: A, escalation_team: B, sla_hours: {P1: 1, P2: 2, P3: 3, P4: 4}}\n",
                       encoding="utf-8")
    with pytest.raises(ValueError, match="unknown categories"):
        live_triage(TriageFiles(routing=str(routing)), encode)
