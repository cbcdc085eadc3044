"""Resources, configured from environment variables (or an optional ticket_intel.yaml).

Every setting is `TICKET_INTEL_<NAME>`; when the variable is set the resource reads it through
`EnvVar` (shown as such in the UI), otherwise the value from ticket_intel.yaml, otherwise the
default. Nothing is edited in code to point at a new export, model or notifier.
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg
import duckdb
import yaml
from dagster_duckdb import DuckDBResource

from ticket_intel import warehouse, warehouse_target
from ticket_intel.core import notify
from ticket_intel.core.anomalies import AlertSettings
from ticket_intel.core.embed import DEFAULT_BACKEND as DEFAULT_EMBEDDING_BACKEND
from ticket_intel.core.quality import DEFAULT_PLANS
from ticket_intel.core.rank import DEFAULT_PLAN_WEIGHTS, DEFAULT_SEVERITY_WEIGHTS, RankSettings, parse_weights

CONFIG_FILE_ENV = "TICKET_INTEL_CONFIG"
R = TypeVar("R", bound=dg.ConfigurableResource)


@lru_cache(maxsize=1)
def _file_config() -> dict[str, Any]:
    path = Path(os.environ.get(CONFIG_FILE_ENV, "ticket_intel.yaml"))
    if not path.exists():
        return {}
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(doc, dict):
        raise ValueError(f"{path} must be a mapping of setting: value")
    return doc


def setting(name: str, default: Any) -> Any:
    env = f"TICKET_INTEL_{name.upper()}"
    if env in os.environ:
        if isinstance(default, bool):
            return dg.EnvVar(env).get_value() in {"1", "true", "True", "yes"}
        if isinstance(default, int):
            return dg.EnvVar.int(env)
        if isinstance(default, float):
            return float(dg.EnvVar(env).get_value())
        return dg.EnvVar(env)
    return _file_config().get(name, default)


class Warehouse(DuckDBResource):
    """The DuckDB file or DuckLake (see warehouse_target); every connection has the base schema in place."""

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if warehouse_target.is_lake_target(self.database):
            with warehouse.open_warehouse(self.database) as con:
                yield con
            return
        with self.get_connection() as con:
            warehouse.ensure_schema(con)
            yield con


class PipelineConfig(dg.ConfigurableResource):
    """Where exports and reports live and how the pipeline behaves."""

    inbox_dir: str = "data/inbox"
    reports_dir: str = "data/reports"
    taxonomy_path: str = "taxonomy.yaml"
    embedding_model: str = "all-MiniLM-L6-v2"
    embedding_backend: str = DEFAULT_EMBEDDING_BACKEND  # torch, onnx or onnx-int8 (see core/embed.py)
    embedding_batch_size: int = 64
    seed: int = 42
    ticket_url_template: str = ""
    min_theme_tickets: int = 5
    min_theme_customers: int = 3
    min_week_tickets: int = 30
    severity_weights: str = DEFAULT_SEVERITY_WEIGHTS
    plan_weights: str = DEFAULT_PLAN_WEIGHTS
    max_rejection_rate: float = 0.2
    mappings_dir: str = ""  # extra YAML column mappings (docs/sources.md); the shipped ones always load
    order_patterns: str = ""  # extra ORDER regular expressions for redaction, one per line
    keep_words: str = ""  # comma-separated words never redacted as names (product names)
    allowed_plans: str = ",".join(DEFAULT_PLANS)
    spike_min_ratio: float = 2.0
    spike_max_p_value: float = 0.01
    spike_min_count: int = 10
    spike_baseline_weeks: int = 6
    spike_min_baseline_weeks: int = 4
    spike_distribution: str = "poisson"  # or negative_binomial (see core/anomalies.py)

    def rank_settings(self) -> RankSettings:
        return RankSettings(
            min_tickets=self.min_theme_tickets,
            min_customers=self.min_theme_customers,
            min_week_tickets=self.min_week_tickets,
            severity_weights=parse_weights(self.severity_weights),
            plan_weights=parse_weights(self.plan_weights),
        )

    def alert_settings(self) -> AlertSettings:
        return AlertSettings(
            min_ratio=self.spike_min_ratio,
            max_p_value=self.spike_max_p_value,
            min_count=self.spike_min_count,
            baseline_weeks=self.spike_baseline_weeks,
            min_baseline_weeks=self.spike_min_baseline_weeks,
            distribution=self.spike_distribution,
            new_min_tickets=self.min_theme_tickets,
            new_min_customers=self.min_theme_customers,
        )


class LLM(dg.ConfigurableResource):
    """Any litellm model (e.g. `openai/gpt-4o-mini`, `ollama/llama3`); empty = extractive only."""

    model: str = ""
    api_base: str = ""
    timeout_seconds: float = 60.0
    mock_response: str = ""  # litellm's offline test hook; never set in production

    def completion_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"timeout": self.timeout_seconds}
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self.mock_response:
            kwargs["mock_response"] = self.mock_response
        return kwargs


class Notifier(dg.ConfigurableResource):
    """Where alerts go: `log` (default), `slack` (incoming webhook) or `webhook` (signed JSON)."""

    kind: str = "log"
    url: str = ""
    secret: str = ""
    ui_url: str = "http://127.0.0.1:3000"
    reports_url: str = ""  # where the HTML reports are published (e.g. file:///srv/reports); empty = no link

    def links(self, alert: dict[str, Any]) -> dict[str, str]:
        """The week's report in the Dagster UI and, when published, the theme's card in the HTML report."""
        out = {"Dagster": notify.ui_link(self.ui_url, alert["week_start"])}
        if self.reports_url:
            out["report"] = notify.report_link(self.reports_url, alert["week_start"], alert["theme_id"])
        return out

    def send(self, alert: dict[str, Any]) -> str:
        return notify.deliver(self.kind, alert, self.url, self.secret, self.links(alert))


def configured(cls: type[R], env_names: Mapping[str, str] | None = None) -> R:
    """`cls` with each field read through `setting` (env name defaults to the field name)."""
    names = env_names or {}
    return cls(**{f: setting(names.get(f, f), info.default) for f, info in cls.model_fields.items()})


def build_resources() -> dict[str, Any]:
    return {
        "warehouse": Warehouse(database=setting("warehouse", "data/warehouse.duckdb"),
                               connection_config=dict(warehouse_target.OFFLINE)),
        "settings": configured(PipelineConfig, {"inbox_dir": "inbox", "taxonomy_path": "taxonomy"}),
        "llm": configured(LLM, {f: f"llm_{f}" for f in LLM.model_fields}),
        "notifier": configured(Notifier, {"kind": "notifier", "url": "notify_url", "secret": "notify_secret"}),
    }


@dg.definitions
def resources() -> dg.Definitions:
    """Built when the code location loads, so env vars set before loading take effect.

    Runs use the in-process executor: every step would otherwise pay the model and numba
    start-up cost in its own process, which costs more than the work itself.
    """
    return dg.Definitions(resources=build_resources(), executor=dg.in_process_executor)
