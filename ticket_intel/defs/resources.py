"""Resources: one per concern, each field a literal `EnvVar("TICKET_INTEL_…")`.

`ticket_intel.settings` resolves every variable (environment, then ticket_intel.yaml, then the
default) before these are built, so a reader sees each variable next to its field and the UI
shows where each value comes from. Numbers that Dagster cannot read from an `EnvVar` (floats,
lists) are strings here and parsed into the core's typed settings, with a clear error.
"""

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import numpy as np
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from ticket_intel import runner, warehouse
from ticket_intel import settings as cfg
from ticket_intel.adapters import encoder
from ticket_intel.adapters.jira import JiraClient
from ticket_intel.adapters.linear import LinearClient
from ticket_intel.adapters.llm import completer, completion_kwargs
from ticket_intel.adapters.notify import deliver
from ticket_intel.core import notify
from ticket_intel.core.anomalies import AlertSettings
from ticket_intel.core.backlog import SelectionPolicy, Tracker
from ticket_intel.core.context import WeekContext
from ticket_intel.core.customers import RiskSettings
from ticket_intel.core.embed import cache_key
from ticket_intel.core.findings import FindingSettings
from ticket_intel.core.llm import Breaker, LLMCache, locked
from ticket_intel.core.placement import RefitPolicy
from ticket_intel.core.policy import PlanPolicy, parse_weights
from ticket_intel.core.product_inputs import ProductInputs, read_product_inputs
from ticket_intel.core.rank import RankSettings
from ticket_intel.core.redact import RedactionSettings, parse_patterns
from ticket_intel.core.releases import FixSettings
from ticket_intel.core.segments import SegmentSettings
from ticket_intel.core.subgroups import GroupSettings
from ticket_intel.core.theme_week import Scopes
from ticket_intel.core.triage_rules import Escalation, load_escalation
from ticket_intel.defs.run_guard import record_worker
from ticket_intel.warehouse import access, target

E = dg.EnvVar
TRACKERS = ("jira", "linear")


def _number(name: str, text: str) -> float:
    with cfg.reading(f"TICKET_INTEL_{name.upper()}"):
        return cfg.parse_number(text, float)


class Warehouse(DuckDBResource):
    """The warehouse (a DuckDB file or a DuckLake); every connection is migrated to the current schema.

    A run holds the warehouse's writer lock from start to end (the CLI, the schedule, sensors and
    UI launches alike, on a file or a DuckLake: one writer at a time), records its worker process
    for `run_guard`, and after a run of a file without failed steps publishes the snapshot that
    readers open (`warehouse.access`). A run reads each week's context once (`week_context`) and hands it to
    every stage after clustering, with what a later stage writes (the themes ranked before) read afresh;
    the cache lives as long as the resource, i.e. one run.
    """

    wait_seconds: int = E.int("TICKET_INTEL_WRITER_WAIT_SECONDS")
    context_cache_mb: int = E.int("TICKET_INTEL_CONTEXT_CACHE_MB")
    _contexts: dict[tuple[date, str], WeekContext] = PrivateAttr(default_factory=dict)
    _context_bytes: int = PrivateAttr(default=0)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["Warehouse"]:
        run, instance = context.run, context.instance
        if run is None or instance is None:
            yield self  # built outside a run
            return
        with access.writer_lock(self.database, f"run {run.run_id} ({run.job_name})", self.wait_seconds,
                                context.log.warning):
            record_worker(instance, run.run_id)
            yield self
            if not target.is_lake_target(self.database) and instance.get_run_stats(run.run_id).steps_failed == 0:
                access.publish_snapshot(self.database)  # a DuckLake's readers read its last commit

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if target.is_lake_target(self.database):  # a DuckLake takes several connections itself
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
        if key in self._contexts:
            # The themes ranked before are written by the ranking, after the stage that first read the
            # context: a backfill's alerts saw none and paged a theme ranked for months as new.
            return replace(self._contexts[key], ranked_before=warehouse.ranked_before(con, week))
        ctx = warehouse.load_week_context(con, week, window_weeks)
        # Kept while the kept ones fit the budget (a weekly run's one week always): a backfill holding
        # every week grew by a window per week (5.8 GB at 200k tickets). Each stage walks the weeks in
        # order, so the first weeks stay and the rest are read again; evicting the oldest would keep
        # none by the time the next stage came back to it.
        # The vectors are a lower bound on the size that costs nothing; measuring the window's strings
        # costs seconds at a million tickets, so it is done only for a context that may be kept.
        room = self.context_cache_mb * 2**20 - self._context_bytes
        if not self._contexts or ctx.vectors.nbytes <= room:
            size = ctx.nbytes
            if not self._contexts or size <= room:
                self._contexts[key] = ctx
                self._context_bytes += size
        return ctx


class IngestConfig(dg.ConfigurableResource):
    """Where exports, help-center articles and releases come from, and how strict ingestion is."""

    inbox: str = E("TICKET_INTEL_INBOX")
    mappings_dir: str = E("TICKET_INTEL_MAPPINGS_DIR")
    timezone: str = E("TICKET_INTEL_TIMEZONE")
    parse_cache_dir: str = E("TICKET_INTEL_PARSE_CACHE_DIR")
    max_rejection_rate: str = E("TICKET_INTEL_MAX_REJECTION_RATE")
    prune_gone_exports: str = E("TICKET_INTEL_PRUNE_GONE_EXPORTS")
    help_center: str = E("TICKET_INTEL_HELP_CENTER")
    releases: str = E("TICKET_INTEL_RELEASES")

    def rejection_ceiling(self) -> float:
        return _number("max_rejection_rate", self.max_rejection_rate)

    def prune(self) -> bool:
        """Whether this run removes the tickets of exports that left the inbox (default: keep them)."""
        return cfg.flag("TICKET_INTEL_PRUNE_GONE_EXPORTS", self.prune_gone_exports)

    def product_inputs(self) -> ProductInputs:
        return read_product_inputs(self.help_center, self.releases, Path(self.inbox))


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

    def cache_key(self) -> str:
        return cache_key(self.model, self.backend)

    def encoder(self, on_batch: Callable[[int], None] | None = None) -> Callable[[list[str]], np.ndarray]:
        """The encoding function (the model loads on its first call, i.e. only for uncached texts);
        `on_batch` hears each batch's size (a progress meter)."""
        return partial(encoder.encode, model=self.model, batch_size=self.batch_size, backend=self.backend,
                       on_batch=on_batch)


class ClusteringConfig(dg.ConfigurableResource):
    """The clustering seed, scopes and refit policy (the window length is a load-time setting: it shapes
    the graph)."""

    seed: int = E.int("TICKET_INTEL_SEED")
    embedding_languages: str = E("TICKET_INTEL_EMBEDDING_LANGUAGES")
    themes_by_product: str = E("TICKET_INTEL_THEMES_BY_PRODUCT")
    refit_weeks: str = E("TICKET_INTEL_REFIT_WEEKS")
    new_group_max_p_value: str = E("TICKET_INTEL_NEW_GROUP_MAX_P_VALUE")

    def new_groups(self, ranking: "RankingConfig") -> GroupSettings:
        """The new-group scan, at the configured level (a value outside (0, 1) is refused), with this
        clustering's seed and a theme's size: a group is a theme in the making."""
        level = _number("new_group_max_p_value", self.new_group_max_p_value)
        if not 0 < level < 1:
            raise ValueError(f"{cfg.where('TICKET_INTEL_NEW_GROUP_MAX_P_VALUE')} must be between 0 and 1, not {level}")
        return GroupSettings(min_tickets=ranking.min_theme_tickets, min_customers=ranking.min_theme_customers,
                             max_p_value=level, seed=self.seed)

    def scopes(self) -> Scopes:
        with cfg.reading("TICKET_INTEL_THEMES_BY_PRODUCT"):
            return Scopes.parse(self.embedding_languages, self.themes_by_product)

    def refit(self, window_weeks: int, spikes: AlertSettings) -> RefitPolicy:
        with cfg.reading("TICKET_INTEL_REFIT_WEEKS"):
            return RefitPolicy.parse(self.refit_weeks, window_weeks, spikes)


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
        with cfg.reading("TICKET_INTEL_PLAN_WEIGHTS"):
            PlanPolicy.parse(self.plan_weights)
        with cfg.reading("TICKET_INTEL_PAID_PLANS"):
            return PlanPolicy.parse(self.plan_weights, self.paid_plans)

    def settings(self) -> RankSettings:
        with cfg.reading("TICKET_INTEL_SEVERITY_WEIGHTS"):
            severity = parse_weights(self.severity_weights)
        return RankSettings(
            min_tickets=self.min_theme_tickets,
            min_customers=self.min_theme_customers,
            min_week_tickets=self.min_week_tickets,
            severity_weights=severity,
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
    alert_max_age_weeks: int = E.int("TICKET_INTEL_ALERT_MAX_AGE_WEEKS")
    ui_url: str = E("TICKET_INTEL_UI_URL")
    reports_url: str = E("TICKET_INTEL_REPORTS_URL")

    def settings(self, ranking: RankingConfig) -> AlertSettings:
        """The spike rule; a new pattern must be big enough to be a theme (the ranking's rule)."""
        ratio, level = _number("spike_min_ratio", self.spike_min_ratio), _number("spike_max_p_value", self.spike_max_p_value)
        with cfg.reading("TICKET_INTEL_SPIKE_DISTRIBUTION"):  # its baseline weeks are checked with it
            return AlertSettings(
                min_ratio=ratio,
                max_p_value=level,
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
            raise ValueError(f"{cfg.where('TICKET_INTEL_NOTIFY_BUDGET_SECONDS')} ({budget:g}) must be at least "
                             f"{cfg.where('TICKET_INTEL_NOTIFY_TIMEOUT_SECONDS')} ({self.timeout_seconds():g})")
        return budget

    def max_age_weeks(self) -> int:
        """The newest weeks of alerts that still page (`notify.paging_since`); 0: all."""
        if self.alert_max_age_weeks < 0:
            raise ValueError(f"{cfg.where('TICKET_INTEL_ALERT_MAX_AGE_WEEKS')} must be 0 (every week) or more, "
                             f"not {self.alert_max_age_weeks}")
        return self.alert_max_age_weeks

    def send(self, alert: dict[str, Any]) -> str:
        return deliver(self.notifier, alert, self.notify_url, self.notify_secret, self.links(alert),
                       timeout=self.timeout_seconds())


class FindingsConfig(dg.ConfigurableResource):
    """How a theme is judged against releases, fixes, the help center and segments (docs/loop.md)."""

    release_window_days: int = E.int("TICKET_INTEL_RELEASE_WINDOW_DAYS")
    fix_alpha: str = E("TICKET_INTEL_FIX_ALPHA")
    segment_min_tickets: int = E.int("TICKET_INTEL_SEGMENT_MIN_TICKETS")
    segment_max_p_value: str = E("TICKET_INTEL_SEGMENT_MAX_P_VALUE")

    def settings(self, alerts: AlertConfig) -> FindingSettings:
        """Regressions and unusual ticket volumes per customer are judged at the alerting level."""
        level = _number("spike_max_p_value", alerts.spike_max_p_value)
        return FindingSettings(
            fix=FixSettings(alpha=_number("fix_alpha", self.fix_alpha), regression_max_p=level,
                            within_days=self.release_window_days),
            segments=SegmentSettings(min_tickets=self.segment_min_tickets,
                                     max_p_value=_number("segment_max_p_value", self.segment_max_p_value)),
            risk=RiskSettings(max_p_value=level),
        )


class TrackerConfig(dg.ConfigurableResource):
    """The issue tracker `backlog_sync` keeps one issue per top theme in; credentials from the environment."""

    tracker: str = E("TICKET_INTEL_TRACKER")
    select: str = E("TICKET_INTEL_BACKLOG_SELECT")
    top_n: int = E.int("TICKET_INTEL_BACKLOG_TOP_N")
    jira_url: str = E("TICKET_INTEL_JIRA_URL")
    jira_email: str = E("TICKET_INTEL_JIRA_EMAIL")
    jira_api_token: str = E("TICKET_INTEL_JIRA_API_TOKEN")
    jira_project: str = E("TICKET_INTEL_JIRA_PROJECT")
    jira_issue_type: str = E("TICKET_INTEL_JIRA_ISSUE_TYPE")
    linear_api_key: str = E("TICKET_INTEL_LINEAR_API_KEY")
    linear_team_id: str = E("TICKET_INTEL_LINEAR_TEAM_ID")
    linear_label_ids: str = E("TICKET_INTEL_LINEAR_LABEL_IDS")
    linear_url: str = E("TICKET_INTEL_LINEAR_URL")
    reports_url: str = E("TICKET_INTEL_REPORTS_URL")

    def name(self) -> str | None:
        """The configured tracker, or None for no sync."""
        if self.tracker and self.tracker not in TRACKERS:
            raise ValueError(f"{cfg.where('TICKET_INTEL_TRACKER')} must be one of {', '.join(TRACKERS)} or empty, "
                             f"not {self.tracker!r}")
        return self.tracker or None

    def policy(self) -> SelectionPolicy:
        with cfg.reading("TICKET_INTEL_BACKLOG_SELECT"):
            return SelectionPolicy(self.select, self.top_n)

    def client(self) -> Tracker:
        """The tracker's client; missing credentials are an error naming the variables."""
        if self.name() == "jira":
            return JiraClient(self.jira_url, self.jira_email, self.jira_api_token, self.jira_project, self.jira_issue_type)
        labels = cfg.words(self.linear_label_ids)
        return LinearClient(self.linear_api_key, self.linear_team_id, url=self.linear_url, label_ids=labels)


class ReportConfig(dg.ConfigurableResource):
    """Where reports are written and how example tickets link to the helpdesk."""

    reports_dir: str = E("TICKET_INTEL_REPORTS_DIR")
    ticket_url_template: str = E("TICKET_INTEL_TICKET_URL_TEMPLATE")


class TriageConfig(dg.ConfigurableResource):
    """The triage categories, the routing of each category to a team and its SLAs, and a team's own
    escalation phrases (empty: the shipped ones)."""

    triage: str = E("TICKET_INTEL_TRIAGE")
    routing: str = E("TICKET_INTEL_ROUTING")
    escalation: str = E("TICKET_INTEL_ESCALATION")

    def escalation_rules(self) -> Escalation:
        """The escalation signals' rules every stage reads tickets by: triage, theme severity and
        labels, ranking's escalation share (the shipped phrases with the team's file)."""
        return load_escalation(self.escalation)


class LLMConfig(dg.ConfigurableResource):
    """Any litellm model (e.g. `openai/gpt-4o-mini`, `ollama/llama3`); empty = offline only."""

    model: str = E("TICKET_INTEL_LLM_MODEL")
    api_base: str = E("TICKET_INTEL_LLM_API_BASE")
    timeout_seconds: int = E.int("TICKET_INTEL_LLM_TIMEOUT_SECONDS")
    mock_response: str = E("TICKET_INTEL_LLM_MOCK_RESPONSE")
    concurrency: int = E.int("TICKET_INTEL_LLM_CONCURRENCY")
    max_cost_usd: str = E("TICKET_INTEL_LLM_MAX_COST_USD")
    steps: str = E("TICKET_INTEL_LLM_STEPS")

    def completion_kwargs(self) -> dict[str, Any]:
        return completion_kwargs(self.timeout_seconds, self.api_base, self.mock_response)

    def caller(self, context: dg.AssetExecutionContext | None = None) -> Breaker | None:
        """The step's provider call, made once per step so that a failing provider is given up on
        once, not once per week; its spending limit counts what the `context`'s run spent in earlier
        steps (`run_llm_spend`; core/llm.py `Breaker`). None without a model, or for a step that
        TICKET_INTEL_LLM_STEPS leaves offline (a cost limit is spent in the order steps run: per-ticket
        triage first, which left the themes' summaries none)."""
        if not self.model or (context is not None and not self.asks(context.asset_key.to_user_string())):
            return None
        limit = _number("llm_max_cost_usd", self.max_cost_usd)
        if limit < 0:
            raise ValueError(f"{cfg.where('TICKET_INTEL_LLM_MAX_COST_USD')} must be 0 (no limit) or more, "
                             f"not {self.max_cost_usd!r}")
        spent = run_llm_spend(context) if limit and context is not None else 0.0
        return completer(self.model, self.completion_kwargs(), max_cost_usd=limit, spent_usd=spent)

    def asks(self, asset: str) -> bool:
        """Whether the weekly step materializing `asset` asks the LLM (TICKET_INTEL_LLM_STEPS)."""
        chosen = set(cfg.words(self.steps))
        unknown = chosen - set(LLM_STEPS.values())
        if unknown:
            raise ValueError(f"{cfg.where('TICKET_INTEL_LLM_STEPS')} names no step {sorted(unknown)}: "
                             f"use {', '.join(LLM_STEPS.values())}")
        return LLM_STEPS.get(asset) in chosen

    def answers(self, con: duckdb.DuckDBPyConnection) -> LLMCache:
        """The model's answers cached in the warehouse by prompt hash; the step's one connection is
        used by one of its LLM threads at a time (`locked`)."""
        return locked(LLMCache(get=lambda key: warehouse.llm_cached(con, key),
                               put=lambda key, answer, tickets: warehouse.llm_store(con, key, self.model, answer, tickets)))


LLM_COST = "llm_cost_usd"  # a step's LLM spend in its materialization's metadata
LLM_STEPS = {"ticket_triage": "triage", "cluster_summaries": "summaries", "reply_drafts": "drafts"}  # asset -> name


def run_llm_spend(context: dg.AssetExecutionContext) -> float:
    """What the run's finished steps spent on LLM answers (the `llm_cost_usd` of their
    materializations, once per step: a step over several weeks materializes each week), so that
    TICKET_INTEL_LLM_MAX_COST_USD holds for a run. Steps running at the same time (a multiprocess
    run) see each other's spend only once it is recorded."""
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    per_step: dict[str | None, float] = {}
    for record in records:
        entry = record.event_log_entry
        cost = entry.asset_materialization.metadata.get(LLM_COST) if entry.asset_materialization else None
        if cost is not None:
            per_step[entry.step_key] = float(cost.value)
    return sum(per_step.values())


def llm_outcome(context: dg.AssetExecutionContext, call: Breaker | None,
                warehouse: Warehouse) -> dict[str, dg.MetadataValue]:
    """What the step's LLM calls used and cost, and the calls a failing provider was not asked
    (their results are offline), in the run's log and the materialization, with the run that runs
    them again on `warehouse`."""
    if call is None:
        return {}
    used = call.usage
    if used.answers:
        context.log.info(f"LLM: {used.line()} (cached answers cost nothing)")
    if call.not_called:
        window = context.partition_time_window
        first, last = window.start.date(), (window.end - timedelta(weeks=1)).date()
        weeks = f"{first}..{last}" if last > first else f"{first}"
        again = runner.run_command(Path(warehouse.database), f"--weeks {weeks}")
        context.log.warning(f"LLM not called {call.not_called} times ({call.reason}): those results are the offline "
                            f"ones; run weeks {weeks} again once the LLM works or TICKET_INTEL_LLM_MAX_COST_USD "
                            f"allows more (`{again}`; answers already given come from the cache)")
    return {"llm_answers": dg.MetadataValue.int(used.answers),
            "llm_tokens": dg.MetadataValue.int(used.prompt_tokens + used.completion_tokens),
            LLM_COST: dg.MetadataValue.float(round(used.cost_usd, 6)),
            "llm_calls_not_made": dg.MetadataValue.int(call.not_called)}


class AssistConfig(dg.ConfigurableResource):
    """Similar tickets, reply drafts and the real-time endpoint (`ticket-intel serve`)."""

    similar_k: int = E.int("TICKET_INTEL_SIMILAR_K")
    serve_secret: str = E("TICKET_INTEL_SERVE_SECRET")
    serve_max_bytes: int = E.int("TICKET_INTEL_SERVE_MAX_BYTES")
    serve_llm_max_cost_usd_per_day: str = E("TICKET_INTEL_SERVE_LLM_MAX_COST_USD_PER_DAY")


_CHECKED: set[tuple[tuple[str, str], ...]] = set()


def check_settings() -> None:
    """Every setting a run reads, read as its steps read it, before the run starts: a bad value is one
    line naming where it came from (the file's key or the variable). "abc" for a whole number failed
    as a page of Dagster traceback, and `plan_weights: prepaid:1` at raw_tickets, naming no setting.
    The time zone is checked earlier, when the inbox is read (`runner.inbox_weeks`). Once per set
    of values in a process: `ticket-intel run` checks before it plans, then loads the code location,
    which checked again (0.5 s)."""
    cfg.apply()
    values = tuple((name, os.environ.get(name, "")) for name in (cfg.CONFIG_FILE_ENV, *(s.env for s in cfg.SETTINGS)))
    if values in _CHECKED:
        return
    built = build_resources()
    for resource in {type(r) for r in built.values()}:
        for field in resource.model_fields.values():
            name = getattr(field.default, "env_var_name", None)
            if field.annotation is int and name:
                with cfg.reading(name):
                    cfg.parse_number(os.environ.get(name, ""), int)
    # One instance for them all: each resource initialized alone built its own (0.3 s apiece).
    with dg.DagsterInstance.ephemeral() as instance, dg.build_resources(
            {key: res for key, res in built.items() if key != "warehouse"}, instance=instance) as r:
        r.ingest.rejection_ceiling(), r.ingest.prune(), r.redaction.settings()
        spikes = r.alerts.settings(r.ranking)
        r.clustering.new_groups(r.ranking), r.clustering.scopes(), r.clustering.refit(1, spikes)
        r.ranking.settings(), r.alerts.budget_seconds(), r.findings.settings(r.alerts)
        r.tracker.name(), r.tracker.policy(), r.llm.asks(""), r.llm.caller()
    _CHECKED.add(values)


def build_resources() -> dict[str, Any]:
    cfg.apply()
    return {
        "warehouse": Warehouse(database=E("TICKET_INTEL_WAREHOUSE"), connection_config=dict(target.OFFLINE)),
        "ingest": IngestConfig(), "redaction": RedactionConfig(), "embedding": EmbeddingConfig(),
        "clustering": ClusteringConfig(), "ranking": RankingConfig(), "alerts": AlertConfig(),
        "findings": FindingsConfig(), "tracker": TrackerConfig(), "report": ReportConfig(),
        "triage_config": TriageConfig(), "llm": LLMConfig(), "assist": AssistConfig(),
    }


@dg.definitions
def resources() -> dg.Definitions:
    """Built when the code location loads, so env vars set before loading take effect, and checked
    then (`check_settings`): a bad setting fails the load with its one line in the UI, where runs
    launched from the UI, a schedule or a sensor would each have failed at the step that read it.

    Runs use the in-process executor: every step would otherwise pay the model and numba
    start-up cost in its own process, which costs more than the work itself.
    """
    check_settings()
    return dg.Definitions(resources=build_resources(), executor=dg.in_process_executor)
