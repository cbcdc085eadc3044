"""`ticket-intel`: run the pipeline through Dagster, read themes, review and export them.

`run` and `demo` execute the real `weekly_job` on a real Dagster instance (DAGSTER_HOME), so
what they produce is exactly what the UI would produce, with the same run history.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shlex
import shutil
import signal
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from functools import wraps
from pathlib import Path
from typing import Any

import click
import duckdb
import numpy as np
import pandas as pd

from ticket_intel import PROJECT_ROOT, runner, settings
from ticket_intel import warehouse as wh
from ticket_intel.assist_cli import WAREHOUSE_OPTION, PortTaken, check_port, format_option
from ticket_intel.core import export as export_core
from ticket_intel.core import quality
from ticket_intel.core.counts import ranked_weeks
from ticket_intel.core.product_inputs import releases_from
from ticket_intel.core.rank import MIN_WEEK_TICKETS, is_loose, is_unthemed, period_note, several_products
from ticket_intel.core.releases import find_release
from ticket_intel.core.report import LOOSE_RANK, paid_text, trend_text
from ticket_intel.core.review import (
    assignment_text,
    assignment_value,
    review_changes,
    review_state,
    reviews_version,
    split_from_reviewed,
    strayed_from_reviewed,
    validate_action,
    waiting,
    weeks_to_update,
    with_assignments,
)
from ticket_intel.core.sources import file_summary
from ticket_intel.core.vocabulary import plural
from ticket_intel.core.week_config import TAXONOMY, differences, keep_settings, said
from ticket_intel.core.weeks import WEEK_FORMS, parse_week, span, window
from ticket_intel.warehouse import access
from ticket_intel.warehouse.retention import apply_retention, retain
from ticket_intel.warehouse.target import cli_flag

SAMPLE_INBOX = PROJECT_ROOT / "data" / "sample"


class ChecksFailed(RuntimeError):
    """A run that finished, its outputs written, with data-quality checks failed; `plan` is its plan."""

    def __init__(self, message: str, plan: runner.WeekPlan) -> None:
        super().__init__(message)
        self.plan = plan


# The exit codes, one per kind of failure a script acts on differently (README, "Exit codes"); click's
# usage errors exit 2, and any other failure ERROR.
ERROR, PORT_TAKEN, CHECKS_FAILED, NO_INPUT, BUSY, INTERRUPTED = 1, 3, 65, 66, 75, 130  # 130: the shell's 128 + SIGINT
EXIT_CODES: dict[type[BaseException], int] = {
    PortTaken: PORT_TAKEN,  # `dev` or `serve` started nothing (3: uvicorn's own code for a server that could not start)
    ChecksFailed: CHECKS_FAILED,  # sysexits' EX_DATAERR: the data is there and failed a check
    FileNotFoundError: NO_INPUT,  # sysexits' EX_NOINPUT: the warehouse or inbox named is not there,
    access.NotFound: NO_INPUT,  # nor the week, theme, ticket or review asked for
    access.WarehouseBusy: BUSY,  # sysexits' EX_TEMPFAIL: another writer holds the warehouse; retry later
}


class CliError(click.ClickException):
    """One clear line on stderr and the exit code of its kind (`EXIT_CODES`)."""

    def __init__(self, message: str, exit_code: int = ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        click.echo(f"ticket-intel: error: {self.message}", err=True)


def exit_code(exc: BaseException) -> int:
    return next((code for kind, code in EXIT_CODES.items() if isinstance(exc, kind)), ERROR)


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn expected failures (missing files, busy or failing warehouse, bad values, failed checks)
    into one line and the exit code of their kind.

    DuckDB's exceptions all derive from `duckdb.Error` (their module is `_duckdb` since 2.0).
    """

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (FileNotFoundError, ValueError, *EXIT_CODES) as exc:
            raise CliError(str(exc).splitlines()[0], exit_code(exc)) from exc
        except duckdb.Error as exc:
            raise CliError(f"warehouse: {str(exc).splitlines()[0]}") from exc
        except OSError as exc:  # a full disk, a read-only folder: the operating system's reason
            raise CliError(str(exc)) from exc

    return wrapper


HELP_ASKED = "ticket_intel.help_asked"


class _Main(click.Group):
    """The command group, noting whether a command's --help was asked for: help is answered whatever
    the settings (a misspelt TICKET_INTEL_ variable made `themes --help` an error). Ctrl-C and a stop
    signal are one line and exit INTERRUPTED wherever they come: while click parsed, Ctrl-C said
    "Aborted!", exit 1, and SIGTERM outside a run killed the process (143)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is threading.main_thread():  # a run's own handler replaces it while it runs
            signal.signal(signal.SIGTERM, _stopped)
        return super().main(*args, **kwargs)

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with _interruptible():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with _interruptible():  # the commands' own parsing, and their bodies
            return super().invoke(ctx)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[HELP_ASKED] = any(a in ctx.help_option_names for a in args)
        return super().parse_args(ctx, args)


def _stopped(signum: int, frame: Any) -> None:
    """A stop signal outside a run: the command ends at once, as the signal's default ended it (143),
    with one line and exit INTERRUPTED. Raised as Ctrl-C it may land in a `__del__`, where Python
    ignores it: `similar` then ran on to exit 0."""
    os.write(2, f"ticket-intel: error: {STOPPED}\n".encode())
    os._exit(INTERRUPTED)


@contextmanager
def _interruptible() -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt as exc:
        raise CliError(STOPPED, INTERRUPTED) from exc


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """ticket_intel: ranked, evidence-backed product themes from your support queue."""
    try:  # a mistake in ticket_intel.yaml, said before a command's defaults read it
        settings.apply()
    except ValueError as exc:
        if not ctx.meta[HELP_ASKED]:
            raise CliError(str(exc).splitlines()[0]) from exc


class Week(click.ParamType):
    """A week on the command line, as every command reads it (`weeks.parse_week`): its Monday."""

    name = "week"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        try:
            return value if isinstance(value, date) else parse_week(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class Weeks(click.ParamType):
    """`run --weeks`: changed, all, WEEK or WEEK..WEEK, checked as a usage error as `--week` is."""

    name = "weeks"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if value not in (runner.CHANGED, "all"):
            try:
                runner.named_weeks(value)
            except ValueError as exc:
                self.fail(str(exc), param, ctx)
        return value


WEEK_OPTION = click.option("--week", type=Week(), default=None, metavar="WEEK",
                           help=f"The week: {WEEK_FORMS} (default: the latest).")


def _say(line: str) -> None:
    click.echo(f"ticket-intel: {line}", err=True)


def execute(warehouse: Path, start: date, end: date, assets: list[str] | None = None,
            op_config: dict[str, Any] | None = None) -> Any:
    """One real Dagster run of the weekly job (or some of its assets) over a range of weeks, on the
    warehouse's own instance, logging compactly; returns the run's result or raises with the failed step.

    Runs of dead predecessors are failed first (they would hold the queue), and the warehouse's
    writer lock is taken before the run starts: a second writer waits, bounded, saying for whom,
    or gives up with one line.
    """
    import dagster as dg

    from ticket_intel.adapters.processes import ProcessId
    from ticket_intel.definitions import defs
    from ticket_intel.defs.inbox_sensor import RANGE_END, RANGE_START
    from ticket_intel.defs.run_guard import prepare_instance, reap_dead_runs, worker_tags
    from ticket_intel.defs.sources import record_config_versions

    if assets is None or "weekly_report" in assets:  # a DuckLake's reports need a folder: said before the run
        settings.reports_dir(settings.value("TICKET_INTEL_REPORTS_DIR"), str(warehouse))
    instance = prepare_instance()
    for line in reap_dead_runs(instance):
        _say(line)
    wait = settings.number("TICKET_INTEL_WRITER_WAIT_SECONDS", float)
    with access.writer_lock(warehouse, "ticket-intel run", wait, _say):
        record_config_versions(instance)
        result = defs().resolve_job_def("weekly_job").execute_in_process(
            instance=instance,
            run_config={"loggers": {"compact": {"config": {"log_level": "INFO"}}},
                        **({"ops": op_config} if op_config else {})},
            tags={RANGE_START: start.isoformat(), RANGE_END: end.isoformat(), **worker_tags(ProcessId.current())},
            asset_selection=[dg.AssetKey(a) for a in assets] if assets else None,
            raise_on_error=False,
        )
    if not result.success:
        raise failed_run(result, warehouse)
    return result


def failed_run(result: Any, warehouse: Path) -> CliError:
    """A failed run's error: where and why it failed, and exit code INTERRUPTED when it was stopped."""
    said = run_failure(result.all_events)
    return CliError(f"run {result.run_id} failed at {said}; see the run in `ticket-intel dev {cli_flag(warehouse)}`",
                    INTERRUPTED if STOPPED in said else ERROR)


# How an interrupted step's error reads: Dagster's, Python's, and DuckDB's for a query it stopped.
STOPPED_MARKS = ("DagsterExecutionInterruptedError", "KeyboardInterrupt", "Query interrupted")
STOPPED = "interrupted (Ctrl-C or a stop signal)"


def run_failure(events: Sequence[Any]) -> str:
    """Where and why a run failed, in one line: the failed step and the first error that is not
    Dagster's own wrapper (its cause chain ends at the real reason, e.g. a full disk)."""
    for event in events:
        error = getattr(event.event_specific_data, "error", None)
        if error is None:
            continue
        while error.cause is not None and error.message.startswith("dagster."):
            error = error.cause
        where, said = event.step_key or "run start", error.message.strip().splitlines()[0]
        if any(mark in said for mark in STOPPED_MARKS):  # "RuntimeError: Query interrupted" read as a fault
            return (f"{where}: {STOPPED}; what it finished is kept, and the next "
                    "run runs the weeks it did not complete")
        return f"{where}: {said}"
    return "a step"


def run_pipeline(inbox: Path, warehouse: Path, weeks: str = runner.CHANGED,
                 replace_config: bool = False) -> runner.WeekPlan:
    """Materialize the whole graph for the weeks the inbox touches, as one Dagster run. The inbox is
    read by its absolute path, the one the UI's runs read (`runner.configure`), so a file is one
    `source_file` whichever started the run. Weeks built with other settings that shape themes are run
    only with `replace_config` (`config_change`)."""
    from ticket_intel.warehouse.staging import parse_once

    inbox = inbox.resolve()
    if not inbox.is_dir():  # before the warehouse's instance is made: a typo leaves nothing behind
        raise FileNotFoundError(f"inbox folder not found: {inbox}")
    home = _using(warehouse, inbox)
    with parse_once():  # the run's raw_tickets takes over the week discovery's staged inbox if unchanged
        plan, result = _plan_and_execute(inbox, warehouse, home, weeks, replace_config)
    if result is None:  # an idle run ingested nothing: the last run's files would read as this one's
        return plan
    _print_ingest(warehouse, inbox)
    if not_made := llm_calls_not_made(result):  # said mid-log by each step; a run's last lines are where it is read
        click.echo(not_made_note(not_made, warehouse, plan))
    if failed := failed_checks(result):
        raise ChecksFailed(f"{'; '.join(failed)} (the run finished and its outputs are written)", plan)
    return plan


def run_then(inbox: Path, warehouse: Path, weeks: str, show: Callable[[runner.WeekPlan], None],
             replace_config: bool = False) -> None:
    """Run, `show` what the run made, and only then fail with its failed checks: they fail a CI
    gate, while the weeks' outputs are written either way."""
    try:
        plan = run_pipeline(inbox, warehouse, weeks, replace_config)
    except ChecksFailed as failed:
        show(failed.plan)
        raise
    show(plan)


def failed_checks(result: Any) -> list[str]:
    """The run's failed data-quality checks, each once: a warning in Dagster's event log, which the
    command line did not show ("196 of 749 records rejected (26.2%; ceiling 20%)" with rc 0)."""
    checks = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    failed = {(c.asset_key.to_user_string(), c.check_name, c.description or "") for c in checks if not c.passed}
    return [f"check failed: {asset} {name}: {said}" for asset, name, said in sorted(failed)]


def llm_calls_not_made(result: Any) -> int:
    """The LLM calls a run's steps did not make (`llm_calls_not_made`, once per step: a step over
    several weeks materializes each of them with the step's figure)."""
    per_step = {e.step_key: int(e.event_specific_data.materialization.metadata["llm_calls_not_made"].value)
                for e in result.all_events if e.is_step_materialization
                and "llm_calls_not_made" in e.event_specific_data.materialization.metadata}
    return sum(per_step.values())


def not_made_note(not_made: int, warehouse: Path, plan: runner.WeekPlan) -> str:
    """The run's last word on LLM calls it did not make, with the run that makes them, runnable as
    printed ("ticket-intel run --weeks …" alone was a usage error: no --inbox)."""
    return (f"LLM: {plural(not_made, 'call')} not made (the provider failed, or the run reached "
            f"TICKET_INTEL_LLM_MAX_COST_USD): those results are the offline ones; run "
            f"`{runner.run_command(warehouse, f'--weeks {plan.start}..{plan.end}')}` again once the LLM answers "
            "(answers already given come from the cache)")


def _plan_and_execute(inbox: Path, warehouse: Path, home: Path, weeks: str,
                      replace_config: bool) -> tuple[runner.WeekPlan, Any]:
    """The plan and, unless it is idle, the result of the run of its weeks."""
    runner.check_config(*(settings.value(f"TICKET_INTEL_{name}") for name in ("TAXONOMY", "TRIAGE", "ROUTING", "ESCALATION")))
    counts, files, cut, digests = runner.configured_inbox_weeks(inbox)
    if not counts:
        raise ValueError(runner.no_tickets_reason(files))
    chosen = runner.choose_partitions_start(counts, home)
    if chosen:
        click.echo(chosen)
    # The definitions are imported only now: their partitions begin where the start was just chosen
    # (imported first, they ran a new warehouse's weeks before its start).
    from ticket_intel.defs.partitions import weekly
    from ticket_intel.defs.resources import check_settings

    check_settings()

    keys, origin = set(weekly.get_partition_keys()), runner.partitions_origin(home)
    if weeks == runner.CHANGED:
        from ticket_intel.defs.ingest import last_complete_ingest
        from ticket_intel.defs.run_guard import prepare_instance

        plan, notes = runner.plan_changed(inbox, warehouse, (counts, files, cut, digests), keys, origin,
                                          last_complete_ingest(prepare_instance()),
                                          prune=settings.flag("TICKET_INTEL_PRUNE_GONE_EXPORTS"))
    else:
        plan, notes = runner.plan_weeks(weeks, counts + runner.kept_weeks(warehouse, files), keys, origin, cut), []
    # Refused before the plan is said: its notes told of weeks that "run again with the current ones".
    change = None if plan.idle else config_change(warehouse, plan.start, plan.end, replace_config)
    for line in (*notes, plan.describe()):
        click.echo(line)
    if plan.idle:
        return plan, None
    if change is not None:
        click.echo(change)
    raised = _alerts(warehouse, plan)
    result = execute(warehouse, plan.start, plan.end)
    for line in withdrawn(raised, _alerts(warehouse, plan)):
        click.echo(line)
    return plan, result


REPLACE_CONFIG, REPLACE_TAXONOMY = "--replace-config", "--replace-taxonomy"  # the second: its older name


def config_change(warehouse: Path, start: date, end: date, replace: bool) -> str | None:
    """The line saying which settings that shape themes weeks `start`..`end` (or, none recorded, the
    latest week before) were built with otherwise than this shell has them, or None. Without `replace`
    it is refused: a shell that lacks a backfill's variable would quietly build the weeks it runs
    another way than the weeks around them."""
    current, differ = runner.config_differences(warehouse, start, end)
    if not differ:
        return None
    if replace:
        return f"settings that shape themes: {said(current, differ)}; the weeks run take this shell's"
    raise ValueError(f"settings that shape themes: {said(current, differ)}; nothing run. Run with "
                     f"{keep_settings(differ)} to build them as they were, or pass {REPLACE_CONFIG} to build the "
                     "weeks run with this shell's")


def withdrawn(before: set[tuple[date, str, str, str]], after: set[tuple[date, str, str, str]]) -> list[str]:
    """The alerts an earlier run of the weeks raised and this one did not (by week, kind and theme:
    a label renamed is the same alert), said: a notifier sent them once, and nothing else tells
    their readers they no longer hold (time review)."""
    still = {alert[:3] for alert in after}
    return [f"alert withdrawn: {week} {kind.replace('_', ' ')} “{label}” ({theme_id}), raised by an earlier run of "
            "its week and not by this one (its tickets, settings or code changed)"
            for week, kind, theme_id, label in sorted(before) if (week, kind, theme_id) not in still]


def _alerts(warehouse: Path, plan: runner.WeekPlan) -> set[tuple[date, str, str, str]]:
    """The alerts stored for the plan's weeks (a run replaces them; one no longer raised is said);
    none for a warehouse not made yet (a file, or a DuckLake whose catalog is new), or one a writer
    holds (nothing is said then)."""
    try:
        with access.open_snapshot(warehouse) as con:
            return wh.alerts_between(con, plan.start, plan.end)
    except (FileNotFoundError, access.WarehouseBusy, duckdb.Error):
        return set()


def _using(warehouse: Path, inbox: Path | None = None, err: bool = False) -> Path:
    """Point the process at the warehouse's own Dagster instance, say which it is (on stderr when
    stdout is JSON), and return it."""
    home = runner.configure(warehouse, inbox)
    click.echo(f"warehouse {warehouse}, Dagster instance {home}", err=err)
    return home


def _print_ingest(warehouse: Path, inbox: Path) -> None:
    """What the run ingested: a line per export that fed the weeks run or could not be read, one for
    the rest (a weekly run over a year of drops printed 36 lines, 35 of them "0 accepted … outside
    the weeks run", and as many kept exports); `ops.ingested_files` lists every one."""
    with access.open_snapshot(warehouse) as con:
        files, rejected, products = wh.ingested_files(con), wh.rejection_reasons(con), wh.ticket_products(con)
    click.echo("ingested:")
    left = files["in_inbox"].eq(False)  # NULL: an input that is not a ticket export (help center, releases)
    said = files["accepted"].gt(0) | files["out_of_range"].eq(0) | files["error"].notna() | files["cut_short"]
    for f in files[~left & said].itertuples():
        click.echo(f"  {file_summary(f, inbox)}")
    if len(rest := files[~left & ~said]):
        click.echo(f"  and {plural(len(rest), 'other export')}: {int(rest['out_of_range'].sum())} tickets outside the "
                   f"weeks run, {int(rest['rejected'].sum())} rejected (ops.ingested_files lists every file)")
    if reasons := quality.commonest_reasons(rejected):
        click.echo(f"rejected records, the commonest reasons: {'; '.join(reasons)}")
    if unseen := _unseen_products(products):
        click.echo(unseen)
    if early := int(files["early"].fillna(0).sum()):
        click.echo(f"{plural(early, 'ticket')} before the partitions start {settings.value(runner.PARTITIONS_START)}, "
                   f"not ingested: set {runner.PARTITIONS_START} to an earlier Monday to keep them (a run with it "
                   "records it for this warehouse)")
    gone = files[left]
    if len(gone):
        named = gone["source_file"].iloc[0] if len(gone) == 1 else f"{len(gone)} exports"
        click.echo(f"kept from exports no longer in the inbox (`--prune` removes them): {int(gone['kept'].sum())} "
                   f"tickets of {named} (ops.ingested_files lists them: in_inbox false)")


def _unseen_products(products: set[str]) -> str | None:
    """The taxonomy's areas for products no ticket names (a typo, or a product whose tickets are yet
    to come), said in a line, or None."""
    from ticket_intel.core import taxonomy as tax

    named = settings.value("TICKET_INTEL_TAXONOMY")
    unseen = tax.unseen_products(tax.load(named), products)
    if not unseen:
        return None
    areas = "; ".join(f"“{area}” ({', '.join(names)})" for area, names in unseen.items())
    return (f"taxonomy {tax.locate(named)}: no ticket names the products of {areas}, so those areas apply to none; "
            f"the tickets' products are {', '.join(sorted(products)) or 'none'}")


def _reviewed_splits(con: duckdb.DuckDBPyConnection, log: list[dict]) -> list[str]:
    """The ranked themes the latest window split from reviewed ones, and the reviewed themes whose
    first tickets went to pieces too small to rank, said (`split_from_reviewed`, `strayed_from_reviewed`)."""
    reviewed = sorted({t for r in log for t in (r["theme_id"], r["target_theme_id"]) if t})
    return (split_from_reviewed(log, wh.theme_splits(con, settings.number("TICKET_INTEL_WINDOW_WEEKS")))
            + strayed_from_reviewed(log, wh.first_tickets_now(con, reviewed),
                                    settings.number("TICKET_INTEL_MIN_THEME_TICKETS")))


def _print_waiting(warehouse: Path) -> None:
    """Reviewers' decisions the run left without their theme (an export pruned), or whose theme the
    latest window split: said once, at the end."""
    with access.open_snapshot(warehouse) as con:
        log = wh.reviews(con)
        waits = waiting(log, wh.known_theme_ids(con))
        splits = _reviewed_splits(con, log)
    for line in splits:
        click.echo(f"reviews: {line} (see `ticket-intel review list`)")
    if waits:
        ids = ", ".join(f"#{r['review_id']}" for r in waits)
        click.echo(f"reviews: {plural(len(waits), 'decision')} ({ids}) "
                   f"{'wait' if len(waits) > 1 else 'waits'} for a theme no clustered week holds now; "
                   "see `ticket-intel review list`")


def _print_reports(warehouse: Path, start: date, end: date) -> None:
    """The run's reports, and what to read next: the latest week, or, when it ranks no theme (a small
    queue's last week; React's 2024-09-23 held 3 tickets), the latest week before it that does."""
    with access.open_snapshot(warehouse) as con:
        paths = wh.report_paths(con, start, end)
        ranked = wh.ranked_weeks_near(con, end)[0]
        shown = wh.report_paths(con, ranked, ranked) if ranked is not None and ranked < end else []
    if paths:
        latest = f"latest {Path(paths[-1]).name}" + (f", which ranks no theme; the latest that does: {Path(shown[0]).name}"
                                                      if shown else "")
        click.echo(f"reports: {plural(len(paths), 'week')} in {Path(paths[-1]).parent} ({latest})")
    week = f" --week {ranked}" if ranked is not None and ranked < end else ""
    click.echo(f"next: ticket-intel themes {cli_flag(warehouse)}{week}")


@main.command()
@click.option("--inbox", type=click.Path(path_type=Path), required=True, help="Folder of exports to ingest.")
@WAREHOUSE_OPTION
@click.option("--weeks", type=Weeks(), default=runner.CHANGED, show_default=True, help=runner.WEEKS_HELP)
@click.option("--prune", is_flag=True, help="Remove, in the weeks run, the tickets of exports no longer in INBOX "
              "(by default they are kept and reported).")
@click.option(REPLACE_CONFIG, REPLACE_TAXONOMY, "replace_config", is_flag=True,
              help="Run weeks built with other settings that shape themes (the embedding model, seed, thresholds, "
              "window, taxonomy) than this shell's, building them with this shell's (without it such a run is "
              "refused, naming each setting and its weeks).")
@friendly
def run(inbox: Path, warehouse: Path, weeks: str, prune: bool, replace_config: bool) -> None:
    """Ingest every export in INBOX and materialize the whole graph for the weeks it touches."""
    if prune:
        os.environ["TICKET_INTEL_PRUNE_GONE_EXPORTS"] = "true"

    def show(plan: runner.WeekPlan) -> None:
        _print_waiting(warehouse)
        _print_reports(warehouse, plan.start, plan.end)

    run_then(inbox, warehouse, weeks, show, replace_config)


@main.command()
@WAREHOUSE_OPTION
@friendly
def demo(warehouse: Path) -> None:
    """Run the whole pipeline on the bundled sample and show the latest week's top themes."""
    def show(plan: runner.WeekPlan) -> None:
        click.echo(f"\nTop themes, week of {plan.end}:")
        click.echo(format_themes(load_themes(warehouse, plan.end, not_themed=True).head(10), "table"))
        _print_reports(warehouse, plan.start, plan.end)

    run_then(SAMPLE_INBOX, warehouse, runner.CHANGED, show)


class _CopiedConfigNotice(logging.Filter):
    """`dg dev` warns that the repository's dagster.yaml "will not be used" because DAGSTER_HOME is the
    warehouse's instance; `runner.configure` copied that very file there, so the warning is wrong here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will not be used to configure Dagster" not in record.getMessage()


@main.command()
@WAREHOUSE_OPTION
@click.option("--port", type=int, default=3000, show_default=True)
@friendly
def dev(warehouse: Path, port: int) -> None:
    """Serve the Dagster UI (`dg dev`, on 127.0.0.1) over WAREHOUSE and its own instance."""
    check_port("127.0.0.1", port)
    home = runner.configure(warehouse)
    inbox = Path(os.environ["TICKET_INTEL_INBOX"])
    if not (home / runner.PARTITIONS_RECORD).exists() and inbox.is_dir():  # as `run` would: the UI listed 2015 on
        chosen = runner.choose_partitions_start(runner.configured_inbox_weeks(inbox)[0], home)
        if chosen:
            click.echo(chosen)
    if not settings.is_chosen("TICKET_INTEL_UI_URL"):
        os.environ["TICKET_INTEL_UI_URL"] = f"http://127.0.0.1:{port}"  # alert links point at this UI
    click.echo(f"Dagster UI on http://127.0.0.1:{port}: warehouse {warehouse}, instance {home}, "
               f"inbox {os.environ['TICKET_INTEL_INBOX']}")
    if not (PROJECT_ROOT / "workspace.yaml").exists():
        raise FileNotFoundError(f"`dev` serves the project folder's workspace.yaml; {PROJECT_ROOT} has none "
                                "(install from a clone: pip install -e .)")
    settings.anchor_paths()
    # The schedule stages the inbox to plan its run, as `ticket-intel run` does: seconds with the
    # parse cache, minutes for a first parse of millions of tickets (Dagster's default allows 60 s).
    os.environ.setdefault("DAGSTER_SCHEDULE_GRPC_TIMEOUT_SECONDS", "600")
    os.chdir(PROJECT_ROOT)  # `dg dev` finds the project by its pyproject.toml
    logging.getLogger("dagster").addFilter(_CopiedConfigNotice())
    # Dagster's dev process answers SIGTERM as it answers SIGINT, and a shell starts a background
    # command (`ticket-intel dev &`) with SIGINT ignored: SIGTERM (docker stop, a script's kill) then
    # left the UI, the daemon and the code server running. A server stops on a stop signal.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from dagster_dg_cli.cli.dev import dev_command

    dev_command.main(["--host", "127.0.0.1", "--port", str(port), "--log-format",
                      dagster_log_format(os.environ, sys.stdout.isatty())], prog_name="dg dev")


def dagster_log_format(env: Mapping[str, str], tty: bool) -> str:
    """Dagster's coloured logs for a terminal, else its JSON lines (it has no plain format): `dev`
    wrote 23 colour codes into a file under NO_COLOR (https://no-color.org: set and not empty)."""
    return "colored" if tty and not env.get("NO_COLOR") else "json"


def _week_of(con: duckdb.DuckDBPyConnection, warehouse: Path, week: date | None) -> date:
    """The week asked for (default: the latest), or a clear error for a week without data."""
    first, last = wh.week_range(con)
    if last is None:
        raise access.NotFound(f"{warehouse} has no materialized weeks yet; run `{runner.run_command(warehouse)}` first")
    if week is not None and not wh.has_week(con, week):
        if (cut := wh.cut_week(con)) is not None and cut.week == week:  # it said "no data" of a week the run left out
            raise access.NotFound(f"no data for the week of {week} in {warehouse}: the run left it out, as "
                                  f"{runner.left_out(cut, warehouse)}")
        if week < first and (held := (wh.inbox_counts(con) or {}).get(week)):  # it said only "it holds 2020-11-02..."
            raise access.NotFound(f"no data for the week of {week} in {warehouse}: {_not_taken_in(warehouse, week, held, last)}; "
                                  f"it holds {first}..{last}")
        if first < week < last:  # "it holds 2015-11-02..2024-09-23" of 2015-11-16 read as a contradiction
            before, after = wh.weeks_around(con, week)
            raise access.NotFound(f"no data for the week of {week} in {warehouse}: no ticket that week (a quiet week "
                                  f"of the exports); the nearest weeks with data are {before} and {after}")
        raise access.NotFound(f"no data for the week of {week} in {warehouse}; it holds {first}..{last}")
    return week or last


def _not_taken_in(warehouse: Path, week: date, held: int, last: date) -> str:
    """Why the inbox's `held` tickets of a week before the warehouse's first are not in it, and the run
    that takes them in: Next.js's 9 issues of 2019-07..2020-09 fell before the partitions its first run chose."""
    start = runner.partitions_start_of(warehouse)
    taken = f"no run took in the inbox's {plural(held, 'ticket')} of that week"
    if week < start:
        return (f"{taken}, which {'falls' if held == 1 else 'fall'} before the partitions start {start}; "
                f"`{runner.PARTITIONS_START}={week} {runner.run_command(warehouse)}` takes {'it' if held == 1 else 'them'} in")
    return f"{taken}; `{runner.run_command(warehouse, f'--weeks {week}..{last}')}` takes {'it' if held == 1 else 'them'} in"


def chosen_week(warehouse: Path, week: date | None) -> date:
    with access.open_snapshot(warehouse) as con:
        return _week_of(con, warehouse, week)


def load_themes(warehouse: Path, week: date | None, not_themed: bool = False, command: str = "themes") -> pd.DataFrame:
    """A week's ranked themes (default: the latest week) with their examples' redacted texts
    (`example_texts`); when it has none, `attrs["empty_note"]`
    says why and which week nearest it has some, to read with `command`; with `not_themed`, `attrs["not_themed"]`
    holds the week's tickets in no ranked theme (for the table, never an export's metadata). A week without
    themes goes the same way, so that its export has the same columns (it had 37 of 40)."""
    with access.open_snapshot(warehouse) as con:
        week = _week_of(con, warehouse, week)
        frame = wh.ranked_themes(con, week)
        if not_themed:
            frame.attrs["not_themed"] = wh.week_rows(con, "marts.not_a_theme", week, order="tickets DESC, theme_id")
        if frame.empty:
            frame.attrs["empty_note"] = _no_themes_note(con, week, warehouse, command)
        texts = wh.ticket_texts(con, [t for ids in frame["example_ticket_ids"] for t in ids])
        state = review_state(wh.reviews(con))
    return export_core.themes_with_examples(with_assignments(frame, state), texts)


def _no_themes_note(con: duckdb.DuckDBPyConnection, week: date, warehouse: Path, command: str) -> str:
    return _empty_note(week, wh.week_warning(con, week), wh.ranked_weeks_near(con, week), warehouse, command)


def write_output(path: Path, data: bytes) -> None:
    """A command's output file (`export -o`, `mapping suggest --out`), its folder made as most tools make
    it: a missing one was "[Errno 2] No such file or directory", exit 66, as if the input were missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def say_why_empty(table: pd.DataFrame) -> None:
    """Why a table printed or written holds no row, on stderr: the output stays what it is (`[]`, a
    CSV header), where the table said why and `--format json` printed `[]` alone."""
    if table.empty and (note := table.attrs.get("empty_note")):
        click.echo(note.removeprefix("(").removesuffix(")"), err=True)


def _empty_note(week: date, warning: str | None, near: tuple[date | None, date | None, date | None],
                warehouse: Path, command: str) -> str:
    why = warning or "every group was too small, an outlier group or marked not-a-theme"
    # a warning that names the setting already says what it would take ("TICKET_INTEL_MIN_WEEK_TICKETS=16,
    # or ..., ranks them", or "so no lower TICKET_INTEL_MIN_WEEK_TICKETS ranks any"): the hint after it named
    # the setting a second time
    fix = ("" if warning and MIN_WEEK_TICKETS in warning else
           f" ({MIN_WEEK_TICKETS} sets that minimum)" if warning else
           " (see `ticket-intel review list` and the report's not-a-theme list)")
    return f"(no ranked themes in the week of {week}: {why}{fix}; {_ranked_elsewhere(near, warehouse, command)})"


def _ranked_elsewhere(near: tuple[date | None, date | None, date | None], warehouse: Path, command: str) -> str:
    """The week with ranked themes nearest before (`wh.ranked_weeks_near`), else the first, and `command`
    on it; and the latest, when later: "the latest week with ranked themes is 2022-05-23" was said of
    the nearest earlier one while 2024-07-15 had some."""
    before, first, latest = near
    shown = before or first
    if shown is None:
        return "no week has ranked themes yet"
    which = ("the first week with ranked themes" if before is None else "the latest week with ranked themes"
             if before == latest else "the nearest earlier week with ranked themes")
    later = f"; the latest is {latest}" if before is not None and before != latest else ""
    return f"{which} is {shown}: ticket-intel {command} {cli_flag(warehouse)} --week {shown}{later}"


# Wrapping widths of the table's text columns when its lines are wider than the terminal (a week of
# the demo's several products printed 265-column lines; wrapped, with one example id per line, 174).
WRAP = {"label": 24, "trend": 14, "products": 24, "example": 36}
def format_themes(frame: pd.DataFrame, fmt: str) -> str:
    if fmt == "json":
        records = export_core.json_records(frame)
        for r in records:
            r["week_start"] = r["week_start"][:10]
        return json.dumps(records, indent=2)
    from tabulate import tabulate

    if frame.empty:
        return frame.attrs.get("empty_note", "(no ranked themes this week)") + _not_themed_line(frame)
    show = frame.assign(
        label=[f"{r['label']} ({LOOSE_RANK})" if is_loose(r.get("described_share")) else r["label"]
               for r in frame.to_dict("records")],  # why it ranks below themes of lower impact
        trend=[trend_text(r) for r in frame.to_dict("records")],
        paid=[paid_text(r, short=True) for r in frame.to_dict("records")],
        examples=frame["example_ticket_ids"].map(lambda ids: ", ".join(ids)),
        example=frame["example_texts"].map(_quote) if "example_texts" in frame else None,
    )
    columns = ["rank", "theme_id", "label", "tickets", "customers", *(["impact"] if "impact" in frame else []),
               "trend", "paid", "severity", "signal_type"]
    if "product_names" in frame and several_products(frame["product_names"]):
        columns.append("products")
    columns += [*(["example"] if "example_texts" in frame else []), "examples"]
    table = tabulate(show[columns], headers="keys", tablefmt="simple", showindex=False)
    width = shutil.get_terminal_size().columns
    if max(map(len, table.splitlines())) > width:
        show["examples"] = frame["example_ticket_ids"].map(lambda ids: "\n".join(ids))
        table = tabulate(show[columns], headers="keys", tablefmt="simple", showindex=False,
                         maxcolwidths=[WRAP.get(c) for c in columns])
        if max(map(len, table.splitlines())) > width:
            table = _cards(show.assign(examples=frame["example_ticket_ids"]), "products" in columns, width)
    return f"week of {frame['week_start'].iloc[0]}\n" + _period_line(frame) + table + _not_themed_line(frame)


def _cards(show: pd.DataFrame, products: bool, width: int) -> str:
    """The themes as a few lines each, for a terminal too narrow for the wrapped table (on 80 columns
    its 174-column rows broke into four or five lines each)."""
    def fill(text: str, indent: str = "     ") -> str:
        return textwrap.fill(text, width, initial_indent=indent, subsequent_indent="     ")

    cards = []
    for r in show.to_dict("records"):
        facts = [plural(r["tickets"], "ticket"), plural(r["customers"], "customer"),
                 *([f"impact {r['impact']:g}"] if "impact" in r else []), r["trend"].replace("\n", " "),
                 f"{r['severity']} {r['signal_type']}",
                 # no plan known (twcs, GitHub): "– paid" said nothing
                 *([paid_text(r)] if not pd.isna(r["paid_share"]) else [])]
        lines = [fill(f"{r['label']}  [{r['theme_id']}]", f"{r['rank']:>3}. "), fill(" · ".join(facts))]
        lines += [fill(r["products"])] if products and isinstance(r.get("products"), str) else []
        lines += [fill(f"“{r['example']}”")] if r.get("example") else []
        cards.append("\n".join([*lines, fill("e.g. " + ", ".join(r["examples"]))]))
    return "\n".join(cards)


def _quote(texts: Sequence[str]) -> str:
    """A theme's first example as one short line: the table showed only ids ("e.g.
    github:swiftlang_swift#75999"), which say nothing until looked up."""
    first = next((t for t in texts if t and t.strip()), "")
    return textwrap.shorten(first, 72, placeholder=" …")


def _not_themed_line(frame: pd.DataFrame) -> str:
    """The week's tickets in no ranked theme, by why (another language, no product, outliers) and
    in groups too small to rank: a third of a queue written in other languages was otherwise left
    out of the table without a word."""
    rows = frame.attrs.get("not_themed")
    if rows is None or rows.empty:
        return ""
    unthemed = rows["theme_id"].map(is_unthemed)
    parts = [f"{r.label} ({r.tickets})" for r in rows[unthemed].itertuples()]
    if (~unthemed).any():
        small = rows[~unthemed]
        parts.append(f"{plural(len(small), 'group')} too small to rank ({plural(int(small['tickets'].sum()), 'ticket')})")
    return "\nnot in a ranked theme: " + ", ".join(parts) + ' (the report\'s "Not a theme" says why)'


def _period_line(frame: pd.DataFrame) -> str:
    """The line a small queue's ranked week needs above its table (`rank.period_note`), or nothing."""
    note = period_note(pd.Timestamp(frame["week_start"].iloc[0]).date(), ranked_weeks(frame.iloc[0]))
    return f"{note}\n" if note else ""


@main.command()
@WAREHOUSE_OPTION
@WEEK_OPTION
@format_option()
@friendly
def themes(warehouse: Path, week: date | None, fmt: str) -> None:
    """Print the ranked themes of a week."""
    frame = load_themes(warehouse, week, not_themed=fmt == "table")
    click.echo(format_themes(frame, fmt))
    if fmt == "json":  # the table says it in place of its rows
        say_why_empty(frame)


@main.group()
def review() -> None:
    """Human review of themes; decisions survive re-clustering (keyed by theme id)."""


def _record_review(warehouse: Path, theme_id: str, action: str, value: str | None = None,
                   target: str | None = None, reviewer: str | None = None, note: str | None = None) -> int:
    _using(warehouse)
    wait = settings.number("TICKET_INTEL_WRITER_WAIT_SECONDS", float)
    with access.open_writer(warehouse, f"ticket-intel review {action}", wait, _say) as con:
        validate_action(action, value, target, theme_id, review_state(wh.reviews(con)))
        known = wh.known_theme_ids(con)
        for t in filter(None, [theme_id if action != "undo" else None, target]):
            if t not in known:
                raise unknown_theme(t)
        review_id = wh.add_review(con, theme_id, action, value, target, reviewer or os.environ.get("USER", "unknown"),
                                  note)
    _report_review_version(warehouse)
    return review_id


def unknown_theme(theme_id: str) -> access.NotFound:
    return access.NotFound(f"unknown theme id {theme_id!r}; see `ticket-intel review list`")


def _report_review_version(warehouse: Path) -> None:
    """Tell Dagster the review log changed, so summaries and rankings show as stale until updated."""
    runner.configure(warehouse)
    from ticket_intel.defs.run_guard import prepare_instance
    from ticket_intel.defs.sources import observation

    with access.open_snapshot(warehouse) as con:
        version = reviews_version(wh.reviews(con))
    prepare_instance().report_runless_asset_event(observation("theme_reviews", version))


WAITS = "waits: no clustered week holds its theme now"
INSIGHT_ASSETS = ["cluster_summaries", "ranked_themes", "theme_alerts", "weekly_report"]
NOT_CLUSTERED_YET = "no clustered week holds these themes yet; the next run applies the decision"


def _apply_review(warehouse: Path, theme_ids: list[str], every_week: bool = False) -> None:
    """Re-materialize summaries, ranking, alerts and report of the weeks holding these themes (never the
    clustering), through Dagster, and say what changed in the latest of them: the latest window of
    those weeks, or with `every_week` the ones not yet showing every decision."""
    with access.open_snapshot(warehouse) as con:
        held = wh.theme_week_span(con, theme_ids)
    if held is None:
        click.echo(NOT_CLUSTERED_YET)
        return
    weeks = _weeks_behind_reviews(warehouse, held) if every_week else weeks_to_update(
        held, settings.number("TICKET_INTEL_WINDOW_WEEKS"))
    if weeks is None:
        click.echo(f"weeks {held[0]}..{held[1]} already show every review decision")
        return
    start, end = weeks
    with access.open_snapshot(warehouse) as con:
        before = wh.ranked_themes(con, end)
    if before is None:
        click.echo(NOT_CLUSTERED_YET)
        return
    if (other := _other_taxonomy(warehouse, start, end)) is not None:
        raise ValueError(other)
    click.echo(f"updating {span(start, end)}: summaries, ranking, alerts and reports (no re-clustering)")
    with access.open_snapshot(warehouse) as con:
        written_by = wh.summarizers(con, start, end)
    if (line := summarizer_change(written_by, settings.value("TICKET_INTEL_LLM_MODEL"))) is not None:
        click.echo(line)
    execute(warehouse, start, end, INSIGHT_ASSETS)
    with access.open_snapshot(warehouse) as con:
        after = wh.ranked_themes(con, end)
    for line in review_changes(before, after, theme_ids) or ["no visible change in the ranking"]:
        click.echo(f"  week {end}: {line}")
    if not every_week and start > held[0]:
        click.echo(f"weeks {held[0]}..{start - timedelta(weeks=1)} show the decision after "
                   "`ticket-intel review apply` (Dagster lists them as stale until then)")


def _other_taxonomy(warehouse: Path, start: date, end: date) -> str | None:
    """Why the review must not run here: these weeks' summaries read another taxonomy than the one
    this shell names, named as the warehouse recorded it. Written again, their ranked themes took this
    shell's product areas while the next `run`, its inputs unchanged, found nothing to do (backfill review)."""
    from ticket_intel.core import taxonomy as tax
    from ticket_intel.defs.run_guard import prepare_instance
    from ticket_intel.defs.sources import weeks_behind

    current = {TAXONOMY: tax.version(settings.value(TAXONOMY))}
    weeks = [w.isoformat() for w in window(end, (end - start).days // 7 + 1)]
    if not (behind := weeks_behind(prepare_instance(), "cluster_summaries", "taxonomy", current[TAXONOMY].value,
                                   weeks, unknown=False)):
        return None
    with access.open_snapshot(warehouse) as con:
        built = wh.week_configs(con, date.fromisoformat(behind[0]), date.fromisoformat(behind[-1]))
    differ = differences(current, {w: {TAXONOMY: c[TAXONOMY]} for w, c in built.items() if TAXONOMY in c})
    theirs = said(current, differ) if differ else (f"theirs not recorded (summarized before the warehouse recorded "
                                                   f"it), not this shell's {current[TAXONOMY]}")
    return (f"weeks {behind[0]}..{behind[-1]} were summarized with another taxonomy than this shell's: {theirs}; "
            "the decision is "
            f"recorded, not applied. Run `ticket-intel review apply` with "
            f"{keep_settings(differ) or 'TICKET_INTEL_TAXONOMY as the weeks had it'}, or "
            f"`{runner.run_command(warehouse, f'--weeks all {REPLACE_CONFIG}')}` to give every week this shell's "
            "taxonomy instead (undoing theirs).")


def summarizer_change(written_by: set[str], model: str) -> str | None:
    """A warning when the summaries about to be written again were written by another LLM, or by one
    where this shell has none: `review` summarizes with the settings it is run with."""
    now = f"llm:{model}" if model else "extractive"
    others = sorted(s for s in written_by if s.startswith("llm:") and s != now)
    if not others:
        return None
    by = f"the LLM {model}" if model else "the extractive summarizer (TICKET_INTEL_LLM_MODEL is not set here)"
    return (f"note: these weeks' summaries were written by {', '.join(o[4:] for o in others)}; they are written again "
            f"by {by}. Set TICKET_INTEL_LLM_MODEL as the weeks' runs had it to keep their labels.")


def _weeks_behind_reviews(warehouse: Path, span: tuple[date, date]) -> tuple[date, date] | None:
    """The first and last of the weeks in `span` whose summaries or ranking were made before the
    review log's current version; None when every week is up to date."""
    from ticket_intel.defs.run_guard import prepare_instance
    from ticket_intel.defs.sources import weeks_behind

    with access.open_snapshot(warehouse) as con:
        version = reviews_version(wh.reviews(con))
    instance = prepare_instance()
    weeks = [w.isoformat() for w in window(span[1], (span[1] - span[0]).days // 7 + 1)]
    behind = sorted({w for asset in ("cluster_summaries", "ranked_themes")
                     for w in weeks_behind(instance, asset, "theme_reviews", version, weeks)})
    return (date.fromisoformat(behind[0]), date.fromisoformat(behind[-1])) if behind else None


REVIEWER_OPTION = click.option("--reviewer", default=None, help="Who decided (default: $USER).")
NO_APPLY_OPTION = click.option(
    "--no-apply", "no_apply", is_flag=True,
    help="Record the decision only: `ticket-intel review apply` then applies a session's decisions in one "
         "run (each applied decision writes the latest window again, 30-75 s on the sample).")


@review.command("list")
@WAREHOUSE_OPTION
@WEEK_OPTION
@format_option()
@friendly
def review_list(warehouse: Path, week: date | None, fmt: str) -> None:
    """Themes of a week with their review status, and the review log."""
    week = chosen_week(warehouse, week)
    frame = load_themes(warehouse, week, command="review list")
    with access.open_snapshot(warehouse) as con:
        log = wh.reviews(con)
        waits = {r["review_id"] for r in waiting(log, wh.known_theme_ids(con))}
        splits = _reviewed_splits(con, log)
    state = review_state(log)
    if fmt == "json":
        themes = [{"rank": int(r.rank), "theme_id": r.theme_id, "label": r.label, "tickets": int(r.tickets),
                   "review": state.status(r.theme_id, r.label)} for r in frame.itertuples()]
        decisions = [{**r, "waits": r["review_id"] in waits} for r in export_core.json_records(pd.DataFrame(log))]
        click.echo(json.dumps({"week_start": week.isoformat(), "themes": themes, "reviews": decisions,
                               "split_from_reviewed": splits}, indent=2, ensure_ascii=False))
        say_why_empty(frame)
        return
    from tabulate import tabulate

    rows = [[r.rank, r.theme_id, r.label, r.tickets, state.status(r.theme_id, r.label)] for r in frame.itertuples()]
    # the week heads the table, as `themes` says it: a reviewer deciding on ids read a table of no week
    click.echo(f"week of {week}\n" + _period_line(frame)
               + tabulate(rows, headers=["rank", "theme_id", "label", "tickets", "review"], tablefmt="simple")
               if rows else frame.attrs["empty_note"])
    if log:
        click.echo("\nreview log:")
        for r in log:
            into = f"into {r['target_theme_id']}" if r["target_theme_id"] else ""
            value = assignment_text(r["value"]) if r["action"] == "assign" else r["value"] or ""
            said = f"{r['action']} {r['theme_id']} {value} {into}".replace("  ", " ").rstrip()
            click.echo(f"  #{r['review_id']} {r['created_at']:%Y-%m-%d %H:%M} {r['reviewer']}: {said}"
                       + (f"  ({WAITS})" if r["review_id"] in waits else ""))
    if splits:
        click.echo("\nreviewed themes the latest window split or scattered:\n" + "\n".join(f"  {line}" for line in splits))


def _decide(warehouse: Path, theme_id: str, action: str, said: str, value: str | None = None,
            target: str | None = None, reviewer: str | None = None, also: str | None = None,
            apply: bool = True) -> None:
    """Record a decision, say so, and make it visible in the affected weeks right away, or (`apply`
    False) leave it for one `review apply` of the session's decisions."""
    rid = _record_review(warehouse, theme_id, action, value, target, reviewer)
    if not apply:
        click.echo(f"review #{rid}: {said}; recorded; apply with `ticket-intel review apply`")
        return
    click.echo(f"review #{rid}: {said}")
    _apply_review(warehouse, [t for t in (theme_id, target, also) if t])


@review.command("apply")
@WAREHOUSE_OPTION
@friendly
def review_apply(warehouse: Path) -> None:
    """Bring every week holding a reviewed theme up to date (a decision updates the latest window of
    them at once; weeks that already show every decision are left alone)."""
    _using(warehouse)
    with access.open_snapshot(warehouse) as con:
        log = wh.reviews(con)
    themes = sorted({t for r in log for t in (r["theme_id"], r["target_theme_id"]) if t})
    if not themes:
        click.echo("no review decisions yet")
        return
    _apply_review(warehouse, themes, every_week=True)


@review.command("rename")
@WAREHOUSE_OPTION
@REVIEWER_OPTION
@NO_APPLY_OPTION
@click.argument("theme_id")
@click.argument("name")
@friendly
def review_rename(warehouse: Path, reviewer: str | None, no_apply: bool, theme_id: str, name: str) -> None:
    """Give THEME_ID a human name that later runs keep."""
    _decide(warehouse, theme_id, "rename", f"renamed {theme_id}", value=name, reviewer=reviewer,
            apply=not no_apply)


@review.command("confirm")
@WAREHOUSE_OPTION
@REVIEWER_OPTION
@NO_APPLY_OPTION
@click.argument("theme_id")
@friendly
def review_confirm(warehouse: Path, reviewer: str | None, no_apply: bool, theme_id: str) -> None:
    """Mark THEME_ID as a real, checked theme, under the label it shows now: later runs keep that
    label while its tickets hold its words, and say so when they no longer do."""
    with access.open_snapshot(warehouse) as con:
        label = wh.theme_label(con, theme_id)
    _decide(warehouse, theme_id, "confirm", f"confirmed {theme_id}" + (f" as '{label}'" if label else ""),
            value=label, reviewer=reviewer, apply=not no_apply)


@review.command("merge")
@WAREHOUSE_OPTION
@REVIEWER_OPTION
@NO_APPLY_OPTION
@click.argument("theme_id")
@click.argument("into_theme_id")
@friendly
def review_merge(warehouse: Path, reviewer: str | None, no_apply: bool, theme_id: str, into_theme_id: str) -> None:
    """Merge THEME_ID into INTO_THEME_ID: its tickets count as INTO_THEME_ID's in the weeks the
    decision updates, and in the others after `review apply`."""
    _decide(warehouse, theme_id, "merge", f"{theme_id} merged into {into_theme_id}", target=into_theme_id,
            reviewer=reviewer, apply=not no_apply)


@review.command("not-a-theme")
@WAREHOUSE_OPTION
@REVIEWER_OPTION
@NO_APPLY_OPTION
@click.argument("theme_id")
@friendly
def review_not_a_theme(warehouse: Path, reviewer: str | None, no_apply: bool, theme_id: str) -> None:
    """Take THEME_ID out of the ranking (it stays listed as not-a-theme)."""
    _decide(warehouse, theme_id, "not-a-theme", f"{theme_id} marked not-a-theme", reviewer=reviewer,
            apply=not no_apply)


@review.command("undo")
@WAREHOUSE_OPTION
@REVIEWER_OPTION
@NO_APPLY_OPTION
@click.argument("review_id", type=int)
@friendly
def review_undo(warehouse: Path, reviewer: str | None, no_apply: bool, review_id: int) -> None:
    """Cancel review decision REVIEW_ID."""
    with access.open_snapshot(warehouse) as con:
        original = next((r for r in wh.reviews(con) if r["review_id"] == review_id), None)
    if original is None:
        raise access.NotFound(f"no review #{review_id}")
    _decide(warehouse, original["theme_id"], "undo", f"undid #{review_id}", value=str(review_id),
            reviewer=reviewer, also=original.get("target_theme_id") or None, apply=not no_apply)


@review.command("assign")
@WAREHOUSE_OPTION
@REVIEWER_OPTION
@NO_APPLY_OPTION
@click.argument("theme_id")
@click.option("--owner", default=None, help="Who owns the theme (a person or team).")
@click.option("--area", default=None, help="Its product area, one of the taxonomy's, over the one it assigned.")
@friendly
def review_assign(warehouse: Path, reviewer: str | None, no_apply: bool, theme_id: str, owner: str | None,
                  area: str | None) -> None:
    """Give THEME_ID an owner and/or a product area; later runs keep them (an assign sets the fields it names)."""
    from ticket_intel.core import taxonomy as tax

    areas = [a.name for a in tax.load(tax.locate(settings.value("TICKET_INTEL_TAXONOMY"))).areas]
    if area is not None and area not in areas:
        raise ValueError(f"area {area!r} is not in the taxonomy; its areas: {', '.join(areas)}")
    value = assignment_value(owner, area)
    _decide(warehouse, theme_id, "assign", f"{theme_id} assigned {assignment_text(value)}", value=value,
            reviewer=reviewer, apply=not no_apply)


@review.command("fixed")
@WAREHOUSE_OPTION
@REVIEWER_OPTION
@click.argument("theme_id")
@click.option("--release", "version", required=True, help="The release (version) that shipped the fix.")
@friendly
def review_fixed(warehouse: Path, reviewer: str | None, theme_id: str, version: str) -> None:
    """Mark THEME_ID as fixed in release VERSION: from then on its rate before and after the release
    is compared each week ("fixed", "not yet" or "regressed"), and a comeback raises an alert."""
    rid = _record_review(warehouse, theme_id, "fixed", version, reviewer=reviewer)
    click.echo(f"review #{rid}: {theme_id} fixed in {version}")
    with access.open_snapshot(warehouse) as con:
        releases = releases_from(wh.stored_releases(con))
    if find_release(releases, version) is None:
        known = ", ".join(r.version for r in releases[-5:]) or "none"
        click.echo(f"ticket-intel: warning: release {version} is not in the releases file yet (latest: {known}); "
                   "its fix status stays 'not yet' until it is", err=True)


def export_customers(warehouse: Path, week: date | None, theme_id: str | None, command: str) -> pd.DataFrame:
    """The affected customers of a week's ranked themes, or of one of them, over the week's window: what
    the report's "Customers to tell" counts, in its order. `theme_id` without a week: that theme's over
    its whole history with the themes merged into it: when a fix ships, those who reported it first have
    waited longest. `week_start` is the last week counted: the week, or the theme's last week. A week
    without ranked themes points `command` at the nearest that has some."""
    with access.open_snapshot(warehouse) as con:
        if theme_id is not None and theme_id not in wh.known_theme_ids(con):  # it "has no affected customers"
            raise unknown_theme(theme_id)
        if theme_id is not None and week is None:
            return _theme_history_customers(con, theme_id)
        week = _week_of(con, warehouse, week)  # a week without data printed [], exit 0
        if theme_id is not None and theme_id not in set(wh.week_rows(con, "marts.ranked_themes", week)["theme_id"]):
            # the window's customers are stored for ranked themes only: none is not "no customers"
            raise access.NotFound(f"theme {theme_id!r} is not ranked in the week of {week}: a week's window counts the "
                                  "customers of its ranked themes only; leave out --week for the theme's whole history")
        frame = wh.theme_customers(con, week, theme_id).assign(week_start=week.isoformat())
        if frame.empty:  # said on stderr: `[]` said nothing
            ranked = not wh.ranked_themes(con, week).empty
            frame.attrs["empty_note"] = (f"no affected customers in the week of {week}: no ticket its ranked themes "
                                         "count carries a customer id" if ranked else
                                         _no_themes_note(con, week, warehouse, command))
        return frame


def _theme_history_customers(con: duckdb.DuckDBPyConnection, theme_id: str) -> pd.DataFrame:
    """One theme's affected customers over its whole history, with the themes merged into it."""
    from ticket_intel.core.customers import affected_customers

    group = [theme_id, *review_state(wh.reviews(con)).merged_from(theme_id)]
    last = wh.theme_week_span(con, group)[1]  # where its history ends, as a week's window ends at its week
    frame = affected_customers(wh.counted_tickets(con, group).assign(theme_id=theme_id))
    if frame.empty:
        raise ValueError(f"theme {theme_id!r} has no affected customers (no ticket it counts carries a customer id)")
    return frame.assign(label=wh.theme_label(con, theme_id) or theme_id, week_start=last.isoformat())[
        ["theme_id", "label", *frame.columns[1:], "week_start"]]


@main.command()
@WAREHOUSE_OPTION
@WEEK_OPTION
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet", "json"]), required=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write, its folder made if missing (default: stdout for csv/json).")
@click.option("--customers", is_flag=True, help="Export the affected customers (id, plan, revenue, tickets) instead.")
@click.option("--theme", "theme_id", default=None, help="With --customers: this theme's customers, over its whole "
              "history; with --week too, over that week's window, as its report lists them.")
@friendly
def export(warehouse: Path, week: date | None, fmt: str, output: Path | None, customers: bool,
           theme_id: str | None) -> None:
    """Export a week's ranked themes with their example tickets, or (--customers) their affected customers."""
    # usage errors (exit 2), said before the warehouse is read: these two exited 1, as a broken
    # warehouse does, and a missing -o was said only after the week's themes were loaded
    if theme_id is not None and not customers:
        raise click.UsageError("--theme needs --customers")
    if fmt == "parquet" and output is None:
        raise click.UsageError("parquet export needs --output FILE")
    again = f"export{' --customers' if customers else ''} --format {fmt}" + (f" -o {shlex.quote(str(output))}"
                                                                             if output else "")  # an empty week's hint
    table = (export_customers(warehouse, week, theme_id, again) if customers
             else load_themes(warehouse, week, command=again))
    with access.open_snapshot(warehouse) as con:
        stored = wh.export_schema(con) if fmt == "parquet" else None
    data = export_core.serialize(table, fmt, stored)
    if output is None:
        sys.stdout.write(data.decode("utf-8"))
    else:
        write_output(output, data)
        click.echo(f"wrote {len(table)} {'customer rows' if customers else 'themes'} to {output}", err=True)
    say_why_empty(table)


@main.group()
def backlog() -> None:
    """Top themes as Jira or Linear issues (TICKET_INTEL_TRACKER and its credentials)."""


@backlog.command("sync")
@WAREHOUSE_OPTION
@WEEK_OPTION
@click.option("--dry-run", is_flag=True, help="Print what would change; call no tracker, write nothing "
              "(it reads the last published snapshot, and never waits for a run).")
@format_option()
@friendly
def backlog_sync(warehouse: Path, week: date | None, dry_run: bool, fmt: str) -> None:
    """Materialize `backlog_sync` for a week (the same asset the weekly job runs) and print its plan;
    with --dry-run, only make the plan."""
    from ticket_intel.defs.backlog import dry_run_metadata

    with access.open_snapshot(warehouse) as con:  # a week before the data failed a Dagster run at its partitions
        day = _week_of(con, warehouse, week)
        metadata = dry_run_metadata(con, day) if dry_run else None
    if metadata is None:
        _using(warehouse, err=fmt == "json")
        result = execute(warehouse, day, day, ["backlog_sync"])
        metadata = result.asset_materializations_for_node("backlog_sync")[0].metadata
    plan = str(metadata["plan"].value).strip().strip("`").strip()
    said = {k: v.value for k, v in metadata.items() if k != "plan"}
    if fmt == "table":
        click.echo(plan)
        return
    click.echo(json.dumps({"week_start": said.pop("week"), **said}, indent=2, ensure_ascii=False))
    if not said["actions"]:  # why: no tracker, an older week, or nothing to change
        click.echo(plan, err=True)


@main.group()
def taxonomy() -> None:
    """Product areas: draft a taxonomy.yaml from your own data."""


@taxonomy.command("suggest")
@WAREHOUSE_OPTION
@WEEK_OPTION
@friendly
def taxonomy_suggest(warehouse: Path, week: date | None) -> None:
    """Print a draft taxonomy.yaml drafted from WAREHOUSE's themes and tags (review it before use)."""
    from ticket_intel.core.summarize import theme_products
    from ticket_intel.core.taxonomy_draft import DRAFT_TEXTS, draft, render

    chosen = chosen_week(warehouse, week)
    with access.open_snapshot(warehouse) as con:
        ctx = wh.load_week_context(con, chosen, settings.number("TICKET_INTEL_WINDOW_WEEKS"))
        themed = ctx.window.assign(row=range(len(ctx.window)))[ctx.window["theme_id"].notna()]
        if themed.empty:  # it said "run the pipeline first", exit 1, of a warehouse the pipeline had filled
            raise access.NotFound(f"no theme in the window ending {chosen} to draft a taxonomy from (none of its "
                                  f"{plural(len(ctx.window), 'ticket')} is in a theme); "
                                  + _ranked_elsewhere(wh.ranked_weeks_near(con, chosen), warehouse, "taxonomy suggest"))
        by_theme = themed.groupby("theme_id")
        summaries = wh.latest_summaries(con, list(by_theme.groups), chosen)  # every theme of the window
    centroids = {t: ctx.vectors[g["row"]].mean(axis=0) for t, g in by_theme}
    themes = summaries.assign(tickets=lambda f: f["theme_id"].map(by_theme.size()))
    if ctx.products_apart:  # themes formed within each product: areas are drafted within each too
        themes["product"] = themes["theme_id"].map(theme_products(themed.reset_index(drop=True)))
    document = draft(themes.dropna(subset=["tickets"]), {t: v / np.linalg.norm(v) for t, v in centroids.items()},
                     by_theme["similarity"].agg(list).to_dict(),
                     by_theme["tags"].agg(lambda s: [list(t) for t in s if t is not None]).to_dict(),
                     settings.number("TICKET_INTEL_MIN_THEME_TICKETS"),
                     by_theme["text"].agg(lambda s: list(s)[:DRAFT_TEXTS]).to_dict())
    click.echo(render(document, f"{warehouse}, window ending {chosen}"), nl=False)


@main.group()
def mapping() -> None:
    """Column mappings: draft one for an export no profile reads."""


@mapping.command("suggest")
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the draft here (e.g. into your mappings folder), its folder made if missing, instead "
              "of printing it.")
@friendly
def mapping_suggest(export: Path, out: Path | None) -> None:
    """Draft a column mapping for EXPORT from its columns and first rows (check it before use)."""
    from ticket_intel.core.sources import load_mappings, reader_of, unread_sample
    from ticket_intel.core.sources.mapping_draft import draft_mapping

    mappings = load_mappings(settings.value("TICKET_INTEL_MAPPINGS_DIR"))
    sample = unread_sample(export, mappings)
    if sample is None:  # no failure, and said on stderr: `mapping suggest X > maps/x.yaml` made the line a mapping
        click.echo(f"{export.name} needs no mapping: {reader_of(export, mappings)} reads it"
                   f"{f', so nothing is written to {out}' if out else ''}; put it in the inbox folder and run "
                   "`ticket-intel run --inbox DIR --warehouse FILE`", err=True)
        return
    drafted = draft_mapping(sample, export)
    if out is None:
        click.echo(drafted.yaml, nl=False)
        return
    write_output(out, drafted.yaml.encode("utf-8"))
    chosen = ", ".join(f"{field}: {column}" for field, column in drafted.columns.items())
    click.echo(f"wrote {out} ({chosen}); check it, then keep it in TICKET_INTEL_MAPPINGS_DIR")


def _rewrite_reports(warehouse: Path, weeks: Sequence[date]) -> None:
    """The reports of `weeks` written again from what an erasure or a retention left (a run of
    `weekly_report`, which publishes the snapshot)."""
    if weeks:
        execute(warehouse, weeks[0], weeks[-1], ["weekly_report"])


@main.command()
@WAREHOUSE_OPTION
@click.option("--keep-weeks", type=click.IntRange(min=1), required=True,
              help="Weeks of ticket-level rows to keep, counted back from the newest week with tickets.")
@click.option("--dry-run", is_flag=True, help="Print what would be deleted; delete nothing.")
@friendly
def retention(warehouse: Path, keep_weeks: int, dry_run: bool) -> None:
    """Delete the tickets of weeks older than the newest KEEP_WEEKS (texts, vectors, triage, clusters,
    customers, drafts) and their report files, and write again the kept weeks' reports whose window showed
    them; every week's themes, alerts and counts stay. Irreversible."""
    window = settings.number("TICKET_INTEL_WINDOW_WEEKS")
    _using(warehouse)  # whose run writes the kept reports again
    reports = settings.reports_dir(settings.value("TICKET_INTEL_REPORTS_DIR"), warehouse)
    if dry_run:
        with access.open_snapshot(warehouse) as con:
            lines, _ = apply_retention(con, keep_weeks, window, reports, dry_run=True)
    else:
        lines = retain(warehouse, keep_weeks, window, reports, settings.number("TICKET_INTEL_WRITER_WAIT_SECONDS", float),
                       _say, functools.partial(_rewrite_reports, warehouse))
    for line in lines:
        click.echo(line)


@main.command(short_help="Erase customers or tickets and every row derived from them (GDPR Art. 17).")
@WAREHOUSE_OPTION
@click.option("--customer", "customers", multiple=True, metavar="ID",
              help="A customer id as the warehouse holds it (the helpdesk's id, or a pseudonym). Repeatable.")
@click.option("--email", "emails", multiple=True, metavar="ADDR",
              help="A customer's e-mail address, looked up as the pseudonym the sources give it. Repeatable.")
@click.option("--ticket", "tickets", multiple=True, metavar="ID",
              help="A ticket id as the warehouse holds it (source:id, e.g. zendesk:4521). Repeatable.")
@click.option("--dry-run", is_flag=True, help="Print what would be erased, per table; erase nothing.")
@format_option()
@friendly
def erase(warehouse: Path, customers: tuple[str, ...], emails: tuple[str, ...], tickets: tuple[str, ...],
          dry_run: bool, fmt: str) -> None:
    """Erase customers or tickets (GDPR Art. 17): their tickets and every row derived from them, quotes of
    them in rows that stay, their reports written again and the file compacted; their ticket ids are
    denylisted so a re-export does not bring them back. Irreversible."""
    from ticket_intel.core.erasure import Erasure, erasure_lines
    from ticket_intel.core.sources.base import pseudonymize
    from ticket_intel.warehouse.erasure import erase as erase_rows
    from ticket_intel.warehouse.erasure import plan_erasure
    from ticket_intel.warehouse.retention import drop_deleted_bytes
    from ticket_intel.warehouse.staging import forget_tickets

    if not (customers or emails or tickets):
        raise click.UsageError("name what to erase: --customer ID, --email ADDR or --ticket ID")
    who = [*customers, *(pseudonymize(e.strip()) or "" for e in emails)]
    window = settings.number("TICKET_INTEL_WINDOW_WEEKS")
    _using(warehouse, err=fmt == "json")
    e: Erasure
    if dry_run:
        with access.open_snapshot(warehouse) as con:
            e = plan_erasure(con, who, tickets, window)
    else:
        wait = settings.number("TICKET_INTEL_WRITER_WAIT_SECONDS", float)
        reports = settings.reports_dir(settings.value("TICKET_INTEL_REPORTS_DIR"), warehouse)
        with access.writer_lock(warehouse, "ticket-intel erase", wait, _say), wh.open_warehouse(warehouse) as con:
            e = erase_rows(con, who, tickets, window, reports)
        _rewrite_reports(warehouse, e.report_weeks)
        with access.writer_lock(warehouse, "ticket-intel erase", wait, _say):
            drop_deleted_bytes(warehouse)
        cache = settings.parse_cache_dir(settings.value("TICKET_INTEL_PARSE_CACHE_DIR"), warehouse)
        if cache is not None and cache.exists():  # the exports as parsed, unredacted: those files are parsed again
            e.caches = forget_tickets(cache, e.tickets, e.customers)
    if fmt == "json":
        click.echo(json.dumps(e.as_json(dry_run), indent=2))
        return
    for line in erasure_lines(e, dry_run):
        click.echo(line)


# Help with single tickets (similar, draft, serve) lives in its own module.
from ticket_intel.assist_cli import draft, serve, similar  # noqa: E402

for _command in (similar, draft, serve):
    main.add_command(_command)


if __name__ == "__main__":
    main()
