"""Calls to any LLM through litellm: the one place the network is reached for a completion."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ticket_intel.core.llm import Breaker, ProviderError, Usage


def completion_kwargs(timeout_seconds: float, api_base: str = "", mock_response: str = "") -> dict[str, Any]:
    """litellm options from the LLM settings (empty ones left out)."""
    kwargs: dict[str, Any] = {"timeout": timeout_seconds}
    if api_base:
        kwargs["api_base"] = api_base
    if mock_response:
        kwargs["mock_response"] = mock_response
    return kwargs


def completer(model: str, kwargs: Mapping[str, Any] | None = None, max_cost_usd: float = 0.0,
              spent_usd: float = 0.0, day: Callable[[], str] | None = None) -> Breaker:
    """A function from chat messages to the model's JSON text (deterministic, JSON mode).

    Every provider failure (timeouts, rate limits, refusals, network) becomes `ProviderError`,
    which the core answers with its offline fallback; a provider failing call after call is not
    called again for a while, nor any provider once the run's answers cost `max_cost_usd` (0: no
    limit), `spent_usd` of it by the run's earlier steps, or with `day` each day's (`Breaker`).
    """
    import litellm

    litellm.suppress_debug_info = True  # its "Give Feedback / Get Help" banner after every failed call
    options = {"timeout": 60, **(kwargs or {})}
    usage = Usage()

    def complete(messages: list[dict[str, str]]) -> str:
        try:
            response = litellm.completion(model=model, messages=messages, temperature=0,
                                          response_format={"type": "json_object"}, drop_params=True, **options)
        except Exception as exc:  # litellm raises many provider-specific types
            message = str(exc)  # litellm's messages name their type ("litellm.Timeout: ...")
            raise ProviderError(message if type(exc).__name__ in message else f"{type(exc).__name__}: {message}") from exc
        tokens = getattr(response, "usage", None)
        usage.add(getattr(tokens, "prompt_tokens", 0) or 0, getattr(tokens, "completion_tokens", 0) or 0,
                  getattr(response, "_hidden_params", {}).get("response_cost"))
        return response.choices[0].message.content or ""

    return Breaker(complete, usage=usage, max_cost_usd=max_cost_usd, spent_usd=spent_usd, day=day)
