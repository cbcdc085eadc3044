"""LLM triage of a week's tickets against a provider that answers, fails or hangs.

A local OpenAI-shaped server (`ticket_intel_tests/fake_apis.py`, the real litellm and HTTP path)
answers every request after a latency, answers 500, or never answers. The shipped path (the
step's one `Breaker`, `TICKET_INTEL_LLM_CONCURRENCY` requests at once) is measured against the
reference in the same run: one request at a time, a fresh call per ticket (nothing gives up on the
provider), as ticket_intel called it before. Texts: the bundled sample's Freshdesk subjects.

`python -m bench.llm_provider [--tickets 20] [--latency 0.3] [--timeout 2] [--concurrency 4]`
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable

import pandas as pd

from bench.common import table
from ticket_intel import PROJECT_ROOT
from ticket_intel.adapters.llm import completer, completion_kwargs
from ticket_intel.core.llm import LLMCache
from ticket_intel.core.triage import triage_one
from ticket_intel.core.triage_config import load_routing, load_taxonomy
from ticket_intel.core.triage_llm import llm_triage_frame
from ticket_intel_tests.fake_apis import SERVER_ERROR, FakeOpenAI, Planned, serve

MODEL = "openai/gpt-4o-mini"
ANSWER = json.dumps({"category": "bug report", "subcategory": "functional", "severity": "P2", "sentiment": -0.3,
                     "frustration": "medium", "escalation_signals": [], "summary": "A payment fails.",
                     "goal": "Pay again.", "confidence": 0.9})


def _triage(texts: list[str], kwargs: dict, shipped: bool, workers: int) -> pd.DataFrame:
    taxonomy, routing = load_taxonomy(), load_routing()
    offline = pd.DataFrame([triage_one(t, taxonomy, routing) for t in texts])
    cache: dict[str, str] = {}
    answers = LLMCache(cache.get, cache.__setitem__)
    if shipped:
        return llm_triage_frame(texts, offline, taxonomy, routing, MODEL, answers, completer(MODEL, kwargs), workers)
    return pd.concat([llm_triage_frame([text], offline.iloc[[i]], taxonomy, routing, MODEL, answers,
                                       completer(MODEL, kwargs)) for i, text in enumerate(texts)], ignore_index=True)


def _scenario(name: str, prepare: Callable[[FakeOpenAI], None], texts: list[str], timeout: float, workers: int
              ) -> list[dict]:
    rows = []
    for shipped in (False, True):
        with serve(FakeOpenAI(reply=lambda messages: ANSWER)) as fake:
            prepare(fake)
            kwargs = {"api_key": fake.api_key, **completion_kwargs(timeout, api_base=fake.url + "/v1")}
            start = time.perf_counter()
            out = _triage(texts, kwargs, shipped, workers)
            seconds = time.perf_counter() - start
        rows.append({"provider": name, "path": f"shipped ({workers} at once, breaker)" if shipped
                     else "reference (one at a time, no breaker)", "tickets": len(texts),
                     "seconds": round(seconds, 1), "requests": len(fake.requests),
                     "llm_answers": int((out["triage_source"] != "offline").sum())})
    rows[0]["x_reference"], rows[1]["x_reference"] = 1.0, round(rows[1]["seconds"] / rows[0]["seconds"], 2)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.3, help="seconds the answering provider takes")
    parser.add_argument("--timeout", type=float, default=2.0, help="TICKET_INTEL_LLM_TIMEOUT_SECONDS")
    parser.add_argument("--concurrency", type=int, default=4, help="TICKET_INTEL_LLM_CONCURRENCY")
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    subjects = pd.read_csv(PROJECT_ROOT / "data" / "sample" / "freshdesk_tickets.csv")["Subject"]
    texts = subjects.drop_duplicates().head(args.tickets).tolist()

    def answers(fake: FakeOpenAI) -> None:
        fake.latency = args.latency

    def fails(fake: FakeOpenAI) -> None:
        fake.planned = [SERVER_ERROR] * (10 * len(texts))

    def hangs(fake: FakeOpenAI) -> None:
        fake.planned = [Planned(200, body={}, delay=args.timeout + 5)] * (10 * len(texts))

    _scenario("warm-up", answers, texts[:2], args.timeout, 1)  # litellm's first call imports and sets up a client
    rows = [row for name, prepare in ((f"answers in {args.latency} s", answers), ("answers 500", fails),
                                      (f"hangs (timeout {args.timeout} s)", hangs))
            for row in _scenario(name, prepare, texts, args.timeout, args.concurrency)]
    print(table(rows))


if __name__ == "__main__":
    main()
