"""Similar tickets and reply drafts on demand, for the command line and the `serve` endpoint.

The knowledge base (`staging.resolved_tickets` with its vectors from the embedding cache) is
read once from the warehouse's published snapshot (warehouse/access.py) into an in-memory index,
so a server never keeps a run from writing. A new text is cleaned and redacted before anything
else sees it (the encoder, a log line, an LLM), then its text for meaning (core/meaning.py) is
embedded with the warehouse's own model, as the stored tickets were.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from cachetools import LRUCache

from ticket_intel import settings
from ticket_intel import warehouse as wh
from ticket_intel.core.drafts import LLM, Draft, draft_reply
from ticket_intel.core.embed import cache_key
from ticket_intel.core.llm import LLMCache, utc_day
from ticket_intel.core.meaning import meaning_text
from ticket_intel.core.normalize import clean_message
from ticket_intel.core.redact import EMBED_CHARS, MAX_TEXT_CHARS, RedactionSettings, parse_patterns, redact
from ticket_intel.core.retrieve import Index, Match, build_index, similar
from ticket_intel.warehouse import access
from ticket_intel.warehouse.connection import embeddings_matrix

ANSWERS_KEPT = 10_000  # LLM answers a process keeps for a repeated message: a few MB


@dataclass(frozen=True)
class AssistSettings:
    """What similar tickets and drafts need, resolved from the settings catalogue."""

    model: str
    backend: str
    redaction: RedactionSettings = field(default_factory=RedactionSettings)
    k: int = 5
    llm_model: str = ""
    llm_kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return cache_key(self.model, self.backend)

    @classmethod
    def from_settings(cls) -> AssistSettings:
        from ticket_intel.adapters.llm import completion_kwargs

        v = settings.value
        return cls(
            model=v("TICKET_INTEL_EMBEDDING_MODEL"), backend=v("TICKET_INTEL_EMBEDDING_BACKEND"),
            redaction=RedactionSettings(order_patterns=parse_patterns(v("TICKET_INTEL_ORDER_PATTERNS")),
                                        keep_words=settings.words(v("TICKET_INTEL_KEEP_WORDS"))),
            k=settings.number("TICKET_INTEL_SIMILAR_K"), llm_model=v("TICKET_INTEL_LLM_MODEL"),
            llm_kwargs=completion_kwargs(settings.number("TICKET_INTEL_LLM_TIMEOUT_SECONDS", float), v("TICKET_INTEL_LLM_API_BASE"),
                                         v("TICKET_INTEL_LLM_MOCK_RESPONSE")),
        )


def read_knowledge_base(con: duckdb.DuckDBPyConnection, key: str, until: date | None = None) -> pd.DataFrame:
    """The knowledge base (up to the week `until`) under one embedding key, or a clear error when it
    was built with another."""
    if not wh.table_exists(con, "staging.resolved_tickets"):
        raise ValueError("this warehouse has no knowledge base yet; run `ticket-intel run` with this version")
    kb = wh.knowledge_base(con, key, until) if wh.table_exists(con, "ops.embedding_cache") else None
    if kb is None or kb.empty:
        others = [m for m in wh.knowledge_base_models(con) if m != key]
        if others:
            raise ValueError(f"the knowledge base was embedded as {others[0]}, not {key}; set "
                             "TICKET_INTEL_EMBEDDING_MODEL/_BACKEND to match or re-materialize resolved_tickets")
        return pd.DataFrame(columns=["ticket_id", "week_start", "text", "resolution", "embedding"])
    return kb


def index_of(kb: pd.DataFrame, replies: bool = True) -> Index:
    """The knowledge base's index; `replies`: whether its exports hold an agent reply (`Index.why_empty`)."""
    index = build_index(kb["ticket_id"].tolist(), embeddings_matrix(kb), kb["text"].tolist(), kb["resolution"].tolist())
    return replace(index, replies=replies)


Encode = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class Assistant:
    """The knowledge base in memory, the encoder and the LLM: loaded once, used for every request."""

    index: Index
    settings: AssistSettings
    encode: Encode | None  # None: only stored vectors are searched (no model loaded)
    llm: LLM | None = None

    def redact(self, text: str) -> str:
        """What may be embedded, logged or sent anywhere: the cleaned text with PII replaced."""
        return redact(clean_message(text)[:MAX_TEXT_CHARS], self.settings.redaction).text

    def embed(self, redacted: str) -> np.ndarray:
        """The vector of a redacted text's meaning, as ticket_embeddings stores a ticket's."""
        return self.embed_many([redacted])[0]

    def embed_many(self, redacted: list[str]) -> np.ndarray:
        """`embed` of several texts in one forward pass (a server's micro-batch)."""
        if self.encode is None:
            raise RuntimeError("this assistant was loaded without its encoder")
        return self.encode([meaning_text(t)[:EMBED_CHARS] for t in redacted])

    def similar(self, vector: np.ndarray, k: int | None = None, exclude: str | None = None,
                text: str | None = None) -> list[Match]:
        """`core.retrieve.similar`: `text`, the query's redacted text, when it has one."""
        return similar(self.index, vector, k or self.settings.k, exclude, text)

    def draft(self, redacted: str, matches: list[Match]) -> Draft:
        return draft_reply(redacted, matches, self.index.floor, self.llm)


def _encoder(s: AssistSettings, threads: int) -> Encode:
    from ticket_intel.adapters import encoder

    encoder.load_encoder(s.model, s.backend, threads)  # loaded now, not on the first request
    return lambda texts: encoder.encode(texts, s.model, backend=s.backend, threads=threads)


def _llm(path: str | Path, s: AssistSettings, max_cost_usd_per_day: float) -> LLM:
    """The configured LLM. Answers cached by a batch run are reused, and so are the last
    `ANSWERS_KEPT` this process was given: a helpdesk's webhook fires again on every update of a
    ticket, and a repeated message is not paid for twice (nothing is written to the warehouse).
    With `max_cost_usd_per_day` (a server), no day (UTC) spends more."""
    from ticket_intel.adapters.llm import completer

    given: LRUCache[str, str] = LRUCache(maxsize=ANSWERS_KEPT)
    lock = threading.Lock()

    def cached(prompt_hash: str) -> str | None:
        with lock:
            answer = given.get(prompt_hash)
        if answer is not None:
            return answer
        with access.open_snapshot(path) as con:
            return wh.llm_cached(con, prompt_hash)

    def keep(prompt_hash: str, answer: str, tickets: Sequence[str]) -> None:  # kept in memory only
        with lock:
            given[prompt_hash] = answer

    return LLM(s.llm_model, LLMCache(get=cached, put=keep),
               completer(s.llm_model, s.llm_kwargs, max_cost_usd=max_cost_usd_per_day, day=utc_day))


def load_assistant(path: str | Path, s: AssistSettings, encoder: bool = True, llm: bool = False,
                   threads: int = 0, llm_max_cost_usd_per_day: float = 0.0) -> Assistant:
    """Read the knowledge base once and load the encoder (unless only stored vectors are searched;
    `threads`: cores per forward pass, 0 for all) and, with `llm` (drafts, triage), the LLM when
    one is configured."""
    with access.open_snapshot(path) as con:
        index = index_of(read_knowledge_base(con, s.key), wh.holds_agent_replies(con))
    model = _llm(path, s, llm_max_cost_usd_per_day) if llm and s.llm_model else None
    return Assistant(index, s, _encoder(s, threads) if encoder else None, model)


def stored_ticket(path: str | Path, ticket_id: str, key: str) -> tuple[str, np.ndarray]:
    """A ticket's redacted text and stored vector, or a clear error for an unknown id."""
    with access.open_snapshot(path) as con:
        rows = wh.ticket_vectors(con, [ticket_id], key)
        if rows.empty:
            raise access.NotFound(f"no embedded ticket {ticket_id!r} in {path}{_id_hint(con, ticket_id, key)}")
    return str(rows["text"].iloc[0]), embeddings_matrix(rows)[0]


def _id_hint(con: duckdb.DuckDBPyConnection, ticket_id: str, key: str) -> str:
    """The one stored id that ends in the one given (`21447`), else what this warehouse's ids look like:
    a GitHub warehouse's error said "ids look like zendesk:48120"."""
    ending, first = wh.embedded_ids_like(con, ticket_id, key)
    if len(ending) == 1:
        return f": did you mean {ending[0]}?"
    return f" (its ids look like {first})" if first else " (it holds no embedded ticket yet)"
