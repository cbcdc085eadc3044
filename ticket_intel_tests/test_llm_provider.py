"""LLM calls against a local OpenAI-shaped server (real litellm, real HTTP): a provider that fails
or hangs is given up on after a few calls instead of once per ticket, and a week's tickets, themes
and drafts are asked concurrently, their results in order."""

from __future__ import annotations

import json
import threading

import dagster as dg
import litellm
import numpy as np
import pandas as pd
import pytest

from ticket_intel.adapters.llm import completer, completion_kwargs
from ticket_intel.core.drafts import LLM, draft_frame
from ticket_intel.core.llm import Breaker, LLMCache, ProviderError, Usage, in_parallel
from ticket_intel.core.retrieve import build_index
from ticket_intel.defs import triage as triage_defs
from ticket_intel.defs.resources import LLMConfig
from ticket_intel.warehouse.target import cli_flag
from ticket_intel_tests.fake_apis import SERVER_ERROR, FakeOpenAI, Planned, serve, tokens
from ticket_intel_tests.test_triage import fake_encode
from ticket_intel_tests.test_triage_asset import TEXTS, build_warehouse, materialize, stored

MODEL = "openai/gpt-4o-mini"
TRIAGE = json.dumps({"category": "how-to", "subcategory": "feature usage", "severity": "P3", "sentiment": 0.1,
                     "frustration": "low", "escalation_signals": [], "summary": "A question.", "goal": "Know how.",
                     "confidence": 0.8})


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_breaker_stops_calling_a_failing_provider_and_probes_it_after_the_cooldown():
    calls, clock, answers = [], Clock(), iter(["fail", "ok", "fail", "fail", "fail", "fail", "ok", "ok"])

    def complete(messages):
        calls.append(messages)
        if next(answers) == "fail":
            raise ProviderError("InternalServerError: 500")
        return "{}"

    call = Breaker(complete, limit=3, cooldown=60, clock=clock)
    with pytest.raises(ProviderError):
        call([])
    assert call([]) == "{}"  # a success resets the count: failures must come in a row
    for _ in range(3):
        with pytest.raises(ProviderError):
            call([])
    for _ in range(5):
        with pytest.raises(ProviderError, match="not called: the provider failed 3 times in a row"):
            call([])
    assert len(calls) == 5 and call.not_called == 5 and "500" in call.reason
    clock.now = 61
    with pytest.raises(ProviderError):
        call([])  # one probe after the cooldown, still failing
    with pytest.raises(ProviderError, match="not called"):
        call([])
    clock.now = 122
    assert call([]) == "{}" and call([]) == "{}"  # the provider is back: every call goes through again
    assert len(calls) == 8


def test_a_model_whose_answers_never_validate_is_not_asked_about_every_ticket(tmp_path, instance, monkeypatch,
                                                                              provider):
    monkeypatch.setattr(triage_defs.encoder, "encode", lambda texts, *a, **k: fake_encode(texts))
    provider.reply = lambda messages: "Sure! Here is the triage: category how-to."  # a model too small for the task
    warehouse = build_warehouse(tmp_path / "w.duckdb")  # 2 weeks of the same 4 texts (answers not cached)
    result = materialize(instance, warehouse, llm_config(provider, concurrency=1))
    assert result.success and (stored(warehouse)["triage_source"] == "offline").all()
    assert len(provider.requests) == 5 * 2  # 5 tickets, each answer retried once with the reason, then none
    logged = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any("the model's answers did not validate for 5 items in a row (last: Expecting value" in m for m in logged)


def test_items_without_a_valid_answer_in_a_row_stop_the_calls_and_a_valid_one_resets_the_count():
    calls, clock = [], Clock()
    call = Breaker(lambda messages: calls.append(messages) or "{}", invalid_limit=3, cooldown=60, clock=clock)
    for verdict in ("bad JSON", "bad JSON", None, "bad JSON", "bad JSON"):
        call([])
        call.judged(verdict)
    call([])
    call.judged("category 'root' is not in the taxonomy")
    with pytest.raises(ProviderError, match=r"did not validate for 3 items in a row \(last: category 'root'"):
        call([])
    clock.now = 61
    assert call([]) == "{}" and len(calls) == 7  # one probe after the cooldown


def test_a_days_limit_stops_the_calls_that_day_and_the_next_day_starts_with_nothing_spent(caplog):
    today, usage = ["2026-12-05"], Usage()
    call = Breaker(lambda messages: usage.add(100, 20, 0.4) or "{}", usage=usage, max_cost_usd=1.0,
                   day=lambda: today[0])
    for _ in range(3):  # $0.40, $0.80, then $1.20: the call that passes the limit was admitted under it
        call([])
    for _ in range(2):
        with pytest.raises(ProviderError, match=r"the LLM answers of 2026-12-05 cost \$1.2000, the limit is \$1.0000"):
            call([])
    assert [r.message for r in caplog.records].count(
        "LLM not called until the day ends: the LLM answers of 2026-12-05 cost $1.2000, the limit is $1.0000; "
        "the other items keep their offline results") == 1
    today[0] = "2026-12-06"
    assert call([]) == "{}" and call([]) == "{}" and call([]) == "{}"
    with pytest.raises(ProviderError, match=r"of 2026-12-06 cost \$1.2000"):
        call([])
    assert usage.answers == 6 and call.not_called == 3


def test_in_parallel_runs_calls_at_once_and_keeps_their_order():
    barrier = threading.Barrier(3, timeout=10)  # breaks (and the test fails) unless 3 calls run at once

    def call(i: int):
        return lambda: (barrier.wait(), i)[1]

    assert in_parallel([call(i) for i in range(3)], workers=3) == [0, 1, 2]
    assert in_parallel([lambda: 1, lambda: 2], workers=1) == [1, 2]


@pytest.fixture
def provider(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with serve(FakeOpenAI(reply=lambda messages: TRIAGE)) as fake:
        yield fake


def llm_config(fake: FakeOpenAI, **kwargs) -> LLMConfig:
    return LLMConfig(model=MODEL, api_base=fake.url + "/v1", timeout_seconds=5, **kwargs)


def test_a_failing_provider_costs_a_few_calls_not_one_per_ticket(tmp_path, instance, monkeypatch, provider):
    monkeypatch.setattr(triage_defs.encoder, "encode", lambda texts, *a, **k: fake_encode(texts))
    provider.planned = [SERVER_ERROR] * 1000
    warehouse = build_warehouse(tmp_path / "w.duckdb")
    result = materialize(instance, warehouse, llm_config(provider, concurrency=1))
    assert result.success
    rows = stored(warehouse)
    assert len(rows) == 2 * len(TEXTS) and (rows["triage_source"] == "offline").all()
    # 3 failed calls (each retried by the provider's client), then none: 8 tickets, 2 weeks
    assert 3 <= len(provider.requests) <= 3 * 3
    meta = result.asset_materializations_for_node("ticket_triage")[0].metadata
    assert meta["llm_calls_not_made"].value == 2 * len(TEXTS) - 3
    logged = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any(m.startswith("LLM not called 5 times (the provider failed 3 times in a row (last: "
                            "litellm.InternalServerError") and "`ticket-intel run --inbox " in m  # runnable as printed
               and f"{cli_flag(warehouse)} --weeks 2026-01-05..2026-01-12`" in m
               for m in logged)
    assert not any(m.startswith("LLM: ") for m in logged)  # nothing answered, nothing used


def test_a_step_stops_asking_once_its_answers_cost_its_limit(tmp_path, instance, monkeypatch, provider):
    monkeypatch.setattr(triage_defs.encoder, "encode", lambda texts, *a, **k: fake_encode(texts))
    warehouse = build_warehouse(tmp_path / "w.duckdb")
    # One answer costs more than a millionth of a dollar: after it, no call is made.
    result = materialize(instance, warehouse, llm_config(provider, concurrency=1, max_cost_usd="0.000001"))
    assert result.success and len(provider.requests) == 1
    rows = stored(warehouse)  # that ticket's answer serves both weeks (cache); the others are offline
    assert (rows["triage_source"] == f"llm:{MODEL}").sum() == 2 and len(rows) == 2 * len(TEXTS)
    meta = result.asset_materializations_for_node("ticket_triage")[0].metadata
    assert meta["llm_calls_not_made"].value == 2 * len(TEXTS) - 2 and meta["llm_cost_usd"].value > 0.000001
    logged = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any("(the run's LLM answers cost $0.0000" in m and "TICKET_INTEL_LLM_MAX_COST_USD" in m for m in logged)
    with pytest.raises(ValueError, match="TICKET_INTEL_LLM_MAX_COST_USD must be 0"):
        llm_config(provider, max_cost_usd="-1").caller()


def test_a_step_left_offline_by_the_llm_steps_setting_asks_nothing(tmp_path, instance, monkeypatch, provider):
    """A cost limit is spent per ticket first; TICKET_INTEL_LLM_STEPS=summaries keeps the LLM for
    the themes' few calls a week and leaves triage offline."""
    monkeypatch.setattr(triage_defs.encoder, "encode", lambda texts, *a, **k: fake_encode(texts))
    warehouse = build_warehouse(tmp_path / "w.duckdb")
    assert materialize(instance, warehouse, llm_config(provider, steps="summaries")).success
    assert provider.requests == [] and (stored(warehouse)["triage_source"] == "offline").all()
    assert llm_config(provider, steps="triage, drafts").asks("ticket_triage")
    with pytest.raises(ValueError, match="TICKET_INTEL_LLM_STEPS names no step"):
        llm_config(provider, steps="summary").asks("cluster_summaries")


@pytest.mark.parametrize(("earlier", "calls"), [(0.30, len(TEXTS)), (0.50, 0)])
def test_the_spending_limit_holds_for_the_run_not_each_step(tmp_path, instance, monkeypatch, provider, earlier, calls):
    """A step earlier in the run spent `earlier` dollars (recorded on each of its two weeks'
    materializations, counted once): triage, the next step, asks only while the run is under its
    $0.50 limit (its own answers cost a few millionths)."""
    monkeypatch.setattr(triage_defs.encoder, "encode", lambda texts, *a, **k: fake_encode(texts))

    @dg.asset(key="routing", partitions_def=triage_defs.ticket_triage.partitions_def)
    def earlier_llm_step() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"llm_cost_usd": earlier})

    warehouse = build_warehouse(tmp_path / "w.duckdb")
    result = materialize(instance, warehouse, llm_config(provider, concurrency=1, max_cost_usd="0.5"), earlier_llm_step)
    assert result.success and len(result.asset_materializations_for_node("routing")) == 2
    assert len(provider.requests) == calls  # each text asked once; week 2 answered from the cache
    logged = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any("the run's LLM answers cost $0.5000, the limit is $0.5000" in m for m in logged) == (calls == 0)


def test_a_hung_provider_is_given_up_on_after_3_timeouts(provider):
    provider.planned = [Planned(200, body={}, delay=8)] * 50
    call = completer(MODEL, {**completion_kwargs(1, api_base=provider.url + "/v1"), "max_retries": 0})
    for _ in range(3):
        with pytest.raises(ProviderError, match="Timeout"):
            call([{"role": "user", "content": "hi"}])
    with pytest.raises(ProviderError, match="not called"):
        call([{"role": "user", "content": "hi"}])
    assert len(provider.requests) == 3


def test_tickets_are_asked_concurrently_and_answered_in_order(tmp_path, instance, monkeypatch, provider):
    monkeypatch.setattr(triage_defs.encoder, "encode", lambda texts, *a, **k: fake_encode(texts))
    provider.latency = 0.3
    warehouse = build_warehouse(tmp_path / "w.duckdb")
    result = materialize(instance, warehouse, llm_config(provider, concurrency=4))
    assert result.success
    rows = stored(warehouse)
    assert (rows["triage_source"] == f"llm:{MODEL}").all() and (rows["goal"] == "Know how.").all()
    assert provider.most_in_flight > 1
    assert len(provider.requests) == len(TEXTS)  # the second week's same texts are answered from the cache
    angry = rows[rows["ticket_id"] == "z:0:2"].iloc[0]
    assert "churn" in angry["escalation_signals"]  # each answer merged with its own ticket's offline row
    meta = result.asset_materializations_for_node("ticket_triage")[0].metadata
    used = sum(tokens(m["content"]) for r in provider.requests for m in r["body"]["messages"]) + 4 * tokens(TRIAGE)
    assert meta["llm_answers"].value == 4 and meta["llm_tokens"].value == used
    price = litellm.model_cost["gpt-4o-mini"]  # litellm's own price list, read offline
    assert meta["llm_cost_usd"].value > 0 and meta["llm_cost_usd"].value <= used * max(
        price["input_cost_per_token"], price["output_cost_per_token"])
    assert any(e.user_message.startswith(f"LLM: 4 answers, {used - 4 * tokens(TRIAGE):,} prompt")
               for e in instance.all_logs(result.run_id))


def test_drafts_are_asked_concurrently_each_for_its_own_ticket(provider):
    def reply(messages):
        ticket = json.loads(messages[1]["content"].split("\n", 1)[1])
        used = [t["id"] for t in ticket["past_tickets"]][:1]
        return json.dumps({"reply": f"About {ticket['new_ticket']}: see the steps we gave before.", "used_ticket_ids": used})

    provider.reply, provider.latency = reply, 0.2
    index = build_index([f"z:{i}" for i in range(4)], np.eye(4, dtype=np.float32), [f"question {i}" for i in range(4)],
                        [f"Answer {i}." for i in range(4)])
    waiting = pd.DataFrame({"ticket_id": [f"new:{i}" for i in range(4)], "text": [f"ticket {i}" for i in range(4)]})
    cache: dict[str, str] = {}
    llm = LLM(MODEL, LLMCache(cache.get, lambda key, answer, _: cache.__setitem__(key, answer)),
              completer(MODEL, completion_kwargs(5, api_base=provider.url + "/v1")))
    out = draft_frame(waiting, np.eye(4, dtype=np.float32), index, k=2, llm=llm, workers=4)
    assert provider.most_in_flight > 1 and len(cache) == 4
    assert out["draft"].tolist() == [f"About ticket {i}: see the steps we gave before." for i in range(4)]
    assert [c[0] for c in out["cited_ticket_ids"]] == [f"z:{i}" for i in range(4)]


def test_the_server_starts_without_asking_the_llm_then_asks_it_per_request(tmp_path, monkeypatch, provider):
    """The start's warm-up triage stays offline: a paid call at every start, and a provider that is
    down would hold up the start (and a liveness probe) by 3 times its timeout."""
    from starlette.testclient import TestClient

    from ticket_intel.adapters.server import ServeSettings, create_app
    from ticket_intel_tests.test_serve import build_warehouse as build_knowledge_base

    build_knowledge_base(tmp_path / "w.duckdb")
    for name, value in {"TICKET_INTEL_CONFIG": "", "TICKET_INTEL_LLM_MODEL": MODEL,
                        "TICKET_INTEL_LLM_API_BASE": provider.url + "/v1"}.items():
        monkeypatch.setenv(name, value)
    app = create_app(tmp_path / "w.duckdb", settings=ServeSettings())
    assert provider.requests == []
    with TestClient(app) as client:
        answer = client.post("/triage", json={"text": "How do I change my home address?"})
    assert answer.status_code == 200 and answer.json()["triage_source"] == f"llm:{MODEL}"
    assert len(provider.requests) == 1
