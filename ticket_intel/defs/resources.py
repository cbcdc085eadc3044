"""Resources: one per concern, each field a literal `EnvVar("TICKET_INTEL_…")`.

`ticket_intel.settings` resolves every variable (environment, then ticket_intel.yaml, then the
default) before these are built, so a reader sees each variable next to its field and the UI
shows where each value comes from. Numbers that Dagster cannot read from an `EnvVar` (floats,
lists) are strings here and parsed into the core's typed settings, with a clear error.
"""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from typing import Any

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from ticket_intel import settings as cfg
from ticket_intel import warehouse
from ticket_intel.adapters.llm import completion_kwargs
from ticket_intel.adapters.notify import deliver
from ticket_intel.core import notify
from ticket_intel.core.anomalies import AlertSettings
from ticket_intel.core.context import WeekContext
from ticket_intel.core.policy import PlanPolicy, parse_weights
from ticket_intel.core.rank import RankSettings
from ticket_intel.core.redact import RedactionSettings, parse_patterns
from ticket_intel.core.theme_week import Scopes
from ticket_intel.defs.run_guard import record_worker
from ticket_intel.warehouse import access, target

E = dg.EnvVar


def _number(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError as exc:
        raise ValueError(f"TICKET_INTEL_{name.upper()} must be a number, not {text!r}") from exc


class Warehouse(DuckDBResource):
    """The DuckDB file; every connection is migrated to the current schema.

    A run holds the warehouse's writer lock from start to end (the CLI, the schedule, sensors and
    UI launches alike: one writer at a time), records its worker process for `run_guard`, and
    after a run without failed steps publishes the snapshot that readers open
    (`warehouse.access`). A run reads each week's context once (`week_context`) and hands it to
    every stage after clustering; the cache lives as long as the resource, i.e. one run.
    """

    wait_seconds: int = E.int("TICKET_INTEL_WRITER_WAIT_SECONDS")
    _contexts: dict[tuple[date, str], WeekContext] = PrivateAttr(default_factory=dict)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["Warehouse"]:
        run, instance = context.run, context.instance
        if run is None or instance is None or target.is_lake_target(self.database):
            yield self  # built outside a run, or a DuckLake (it serializes its writers itself)
            return
        with access.writer_lock(self.database, f"run {run.run_id} ({run.job_name})", self.wait_seconds,
                                context.log.warning):
            record_worker(instance, run.run_id)
            yield self
            if instance.get_run_stats(run.run_id).steps_failed == 0:
                access.publish_snapshot(self.database)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if target.is_lake_target(self.database):  # a DuckLake takes readers and writers itself
            with warehouse.open_warehouse(self.database) as con:
                yield con
            return
        opened = ExitStack()
        try:
            con = opened.enter_context(self.get_connection())
        except duckdb.IOException as exc:
            if "lock" not in str(exc):
                raise
            raise access.WarehouseBusy(f"{str(exc).splitlines()[0]}: readers must open "
                                       f"{access.snapshot_path(self.database)}, not the warehouse") from exc
        with opened:
            warehouse.migrate(con)
            yield con

    def week_context(self, con: duckdb.DuckDBPyConnection, week: date, run_id: str, window_weeks: int) -> WeekContext:
        key = (week, run_id)
        if key not in self._contexts:
            self._contexts[key] = warehouse.load_week_context(con, week, window_weeks)
        return self._contexts[key]


class IngestConfig(dg.ConfigurableResource):
    """Where exports come from and how strict ingestion is."""

    inbox: str = E("TICKET_INTEL_INBOX")
    mappings_dir: str = E("TICKET_INTEL_MAPPINGS_DIR")
    max_rejection_rate: str = E("TICKET_INTEL_MAX_REJECTION_RATE")

    def rejection_ceiling(self) -> float:
        return _number("max_rejection_rate", self.max_rejection_rate)


class RedactionConfig(dg.ConfigurableResource):
    """Extra patterns and protected words for PII redaction."""

    order_patterns: str = E("TICKET_INTEL_ORDER_PATTERNS")
    keep_words: str = E("TICKET_INTEL_KEEP_WORDS")

    def settings(self) -> RedactionSettings:
        return RedactionSettings(
            order_patterns=parse_patterns(self.order_patterns),
            keep_words=cfg.words(self.keep_words),
        )


class EmbeddingConfig(dg.ConfigurableResource):
    """Which sentence-embedding model, run how."""

    model: str = E("TICKET_INTEL_EMBEDDING_MODEL")
    backend: str = E("TICKET_INTEL_EMBEDDING_BACKEND")
    batch_size: int = E.int("TICKET_INTEL_EMBEDDING_BATCH_SIZE")


class ClusteringConfig(dg.ConfigurableResource):
    """The clustering seed and scopes (the window length is a load-time setting: it shapes the graph)."""

    seed: int = E.int("TICKET_INTEL_SEED")
    embedding_languages: str = E("TICKET_INTEL_EMBEDDING_LANGUAGES")
    themes_by_product: str = E("TICKET_INTEL_THEMES_BY_PRODUCT")

    def scopes(self) -> Scopes:
        return Scopes.parse(self.embedding_languages, self.themes_by_product)


class RankingConfig(dg.ConfigurableResource):
    """What counts as a theme, how impact is weighed, and the taxonomy of product areas."""

    taxonomy: str = E("TICKET_INTEL_TAXONOMY")
    min_theme_tickets: int = E.int("TICKET_INTEL_MIN_THEME_TICKETS")
    min_theme_customers: int = E.int("TICKET_INTEL_MIN_THEME_CUSTOMERS")
    min_week_tickets: int = E.int("TICKET_INTEL_MIN_WEEK_TICKETS")
    severity_weights: str = E("TICKET_INTEL_SEVERITY_WEIGHTS")
    plan_weights: str = E("TICKET_INTEL_PLAN_WEIGHTS")
    paid_plans: str = E("TICKET_INTEL_PAID_PLANS")

    def plans(self) -> PlanPolicy:
        return PlanPolicy.parse(self.plan_weights, self.paid_plans)

    def settings(self) -> RankSettings:
        return RankSettings(
            min_tickets=self.min_theme_tickets,
            min_customers=self.min_theme_customers,
            min_week_tickets=self.min_week_tickets,
            severity_weights=parse_weights(self.severity_weights),
            plans=self.plans(),
        )


class AlertConfig(dg.ConfigurableResource):
    """The spike rule and where alerts are delivered."""

    spike_min_ratio: str = E("TICKET_INTEL_SPIKE_MIN_RATIO")
    spike_max_p_value: str = E("TICKET_INTEL_SPIKE_MAX_P_VALUE")
    spike_min_count: int = E.int("TICKET_INTEL_SPIKE_MIN_COUNT")
    spike_baseline_weeks: int = E.int("TICKET_INTEL_SPIKE_BASELINE_WEEKS")
    spike_min_baseline_weeks: int = E.int("TICKET_INTEL_SPIKE_MIN_BASELINE_WEEKS")
    spike_distribution: str = E("TICKET_INTEL_SPIKE_DISTRIBUTION")
    notifier: str = E("TICKET_INTEL_NOTIFIER")
    notify_url: str = E("TICKET_INTEL_NOTIFY_URL")
    notify_secret: str = E("TICKET_INTEL_NOTIFY_SECRET")
    notify_timeout_seconds: str = E("TICKET_INTEL_NOTIFY_TIMEOUT_SECONDS")
    notify_budget_seconds: str = E("TICKET_INTEL_NOTIFY_BUDGET_SECONDS")
    ui_url: str = E("TICKET_INTEL_UI_URL")
    reports_url: str = E("TICKET_INTEL_REPORTS_URL")

    def settings(self, ranking: RankingConfig) -> AlertSettings:
        """The spike rule; a new pattern must be big enough to be a theme (the ranking's rule)."""
        return AlertSettings(
            min_ratio=_number("spike_min_ratio", self.spike_min_ratio),
            max_p_value=_number("spike_max_p_value", self.spike_max_p_value),
            min_count=self.spike_min_count,
            baseline_weeks=self.spike_baseline_weeks,
            min_baseline_weeks=self.spike_min_baseline_weeks,
            distribution=self.spike_distribution,
            new_min_tickets=ranking.min_theme_tickets,
            new_min_customers=ranking.min_theme_customers,
        )

    def links(self, alert: dict[str, Any]) -> dict[str, str]:
        """The week's report in the Dagster UI and, when published, the theme's card in the HTML report."""
        out = {"Dagster": notify.ui_link(self.ui_url, alert["week_start"])}
        if self.reports_url:
            out["report"] = notify.report_link(self.reports_url, alert["week_start"], alert["theme_id"])
        return out

    def timeout_seconds(self) -> float:
        return _number("notify_timeout_seconds", self.notify_timeout_seconds)

    def budget_seconds(self) -> float:
        """Delivery time per sensor tick; at least one request must fit."""
        budget = _number("notify_budget_seconds", self.notify_budget_seconds)
        if budget < self.timeout_seconds():
            raise ValueError(f"TICKET_INTEL_NOTIFY_BUDGET_SECONDS ({budget:g}) must be at least "
                             f"TICKET_INTEL_NOTIFY_TIMEOUT_SECONDS ({self.timeout_seconds():g})")
        return budget

    def send(self, alert: dict[str, Any]) -> str:
        return deliver(self.notifier, alert, self.notify_url, self.notify_secret, self.links(alert),
                       timeout=self.timeout_seconds())


class ReportConfig(dg.ConfigurableResource):
    """Where reports are written and how example tickets link to the helpdesk."""

    reports_dir: str = E("TICKET_INTEL_REPORTS_DIR")
    ticket_url_template: str = E("TICKET_INTEL_TICKET_URL_TEMPLATE")


class TriageConfig(dg.ConfigurableResource):
    """The triage categories and the routing of each category to a team and its SLAs."""

    triage: str = E("TICKET_INTEL_TRIAGE")
    routing: str = E("TICKET_INTEL_ROUTING")


class LLMConfig(dg.ConfigurableResource):
    """Any litellm model (e.g. `openai/gpt-4o-mini`, `ollama/llama3`); empty = offline only."""

    model: str = E("TICKET_INTEL_LLM_MODEL")
    api_base: str = E("TICKET_INTEL_LLM_API_BASE")
    timeout_seconds: int = E.int("TICKET_INTEL_LLM_TIMEOUT_SECONDS")
    mock_response: str = E("TICKET_INTEL_LLM_MOCK_RESPONSE")

    def completion_kwargs(self) -> dict[str, Any]:
        return completion_kwargs(self.timeout_seconds, self.api_base, self.mock_response)


class AssistConfig(dg.ConfigurableResource):
    """Similar tickets, reply drafts and the real-time endpoint (`ticket-intel serve`)."""

    similar_k: int = E.int("TICKET_INTEL_SIMILAR_K")
    serve_secret: str = E("TICKET_INTEL_SERVE_SECRET")
    serve_max_bytes: int = E.int("TICKET_INTEL_SERVE_MAX_BYTES")


def build_resources() -> dict[str, Any]:
    cfg.apply()
    return {
        "warehouse": Warehouse(database=E("TICKET_INTEL_WAREHOUSE"), connection_config=dict(target.OFFLINE)),
        "ingest": IngestConfig(), "redaction": RedactionConfig(), "embedding": EmbeddingConfig(),
        "clustering": ClusteringConfig(), "ranking": RankingConfig(), "alerts": AlertConfig(),
        "report": ReportConfig(), "triage_config": TriageConfig(), "llm": LLMConfig(), "assist": AssistConfig(),
    }


@dg.definitions
def resources() -> dg.Definitions:
    """Built when the code location loads, so env vars set before loading take effect.

    Runs use the in-process executor: every step would otherwise pay the model and numba
    start-up cost in its own process, which costs more than the work itself.
    """
    return dg.Definitions(resources=build_resources(), executor=dg.in_process_executor)
