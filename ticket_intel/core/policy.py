"""Weights that turn customers into impact: severity levels and customer plans.

Each severity level and each plan tier counts twice the one below it by default, a scale a
reader can check in their head. Plans are one policy: the known plans (the data-quality check
flags others), their weights, and which count as paid (by default every plan weighted above the
lowest tier, so a plan's weight and its paid status cannot disagree).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ticket_intel.core.vocabulary import SEVERITIES


def parse_weights(spec: str | Mapping[str, float]) -> dict[str, float]:
    """`P0=16,P1=8` (an env var) or a mapping (ticket_intel.yaml) to {key: weight}; keys lower-
    cased except severities, which are upper-cased to match P0..P4."""
    items = spec.items() if isinstance(spec, Mapping) else (
        part.split("=", 1) for part in str(spec).split(",") if part.strip()
    )
    out: dict[str, float] = {}
    for item in items:
        if len(item) != 2:
            raise ValueError(f"weights must look like 'name=number,name=number', not {spec!r}")
        key, value = str(item[0]).strip(), item[1]
        try:
            weight = float(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"weight for {key!r} is not a number: {value!r}") from exc
        if weight < 0:
            raise ValueError(f"weight for {key!r} must not be negative")
        out[key.upper() if key.upper() in SEVERITIES else key.lower()] = weight
    return out


@dataclass(frozen=True)
class PlanPolicy:
    weights: Mapping[str, float]
    paid: frozenset[str]

    @classmethod
    def parse(cls, weights: str | Mapping[str, float], paid: str = "") -> PlanPolicy:
        """From settings: `free=1,pro=2,...` and an optional comma list of paid plans."""
        table = parse_weights(weights)
        if not table:
            raise ValueError("plan weights must name at least one plan")
        listed = frozenset(p.strip().lower() for p in paid.split(",") if p.strip())
        unknown = listed - set(table)
        if unknown:
            raise ValueError(f"paid plan(s) {', '.join(sorted(unknown))} are not in the plan weights")
        lowest = min(table.values())
        return cls(table, listed or frozenset(p for p, w in table.items() if w > lowest))

    @property
    def allowed(self) -> tuple[str, ...]:
        return tuple(self.weights)

    def weight(self, plan: str | None) -> float:
        """A plan's weight; an unknown or missing plan counts like the lowest tier."""
        return self.weights.get((plan or "").lower(), min(self.weights.values()))

    def is_paid(self, plan: str) -> bool:
        return plan.lower() in self.paid
