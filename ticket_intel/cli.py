"""`ticket-intel`: run the pipeline through Dagster, read themes, review and export them.

`run` and `demo` execute the real `weekly_job` on a real Dagster instance (DAGSTER_HOME), so
what they produce is exactly what the UI would produce, with the same run history.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from datetime import date, datetime
from functools import wraps
from pathlib import Path
from typing import Any

import click
import pandas as pd

from ticket_intel import PROJECT_ROOT
from ticket_intel import warehouse as wh
from ticket_intel.core import export as export_core
from ticket_intel.core.product_inputs import releases_from
from ticket_intel.core.releases import find_release
from ticket_intel.core.report import trend_text
from ticket_intel.core.review import review_state, validate_action
from ticket_intel.core.weeks import monday

DEFAULT_WAREHOUSE = "data/warehouse.duckdb"
SAMPLE_INBOX = PROJECT_ROOT / "data" / "sample"


class CliError(click.ClickException):
    """One clear line on stderr and exit code 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"ticket-intel: error: {self.message}", err=True)


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn expected failures (missing files, locked warehouse, bad values) into one line."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (FileNotFoundError, ValueError) as exc:
            raise CliError(str(exc)) from exc
        except Exception as exc:
            if type(exc).__module__.startswith("duckdb") or "duckdb" in type(exc).__name__.lower():
                raise CliError(f"warehouse: {str(exc).splitlines()[0]}") from exc
            raise

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """ticket_intel: ranked, evidence-backed product themes from your support queue."""


def parse_weeks(spec: str, touched: list[date]) -> tuple[date, date]:
    """`all`, `YYYY-MM-DD` or `YYYY-MM-DD..YYYY-MM-DD` to a Monday-aligned range."""
    if spec == "all":
        if not touched:
            raise ValueError("the inbox holds no usable tickets in any complete week")
        return min(touched), max(touched)
    try:
        parts = [date.fromisoformat(p) for p in spec.split("..")]
    except ValueError as exc:
        raise ValueError(f"--weeks must be all, YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, not {spec!r}") from exc
    if len(parts) not in (1, 2):
        raise ValueError(f"--weeks must be all, YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, not {spec!r}")
    start, end = monday(parts[0]), monday(parts[-1])
    if end < start:
        raise ValueError(f"--weeks range {spec} ends before it starts")
    return start, end


def _configure(inbox: Path | None, warehouse: Path) -> None:
    """Point the definitions at these paths (env vars are what the resources read)."""
    if inbox is not None:
        os.environ["TICKET_INTEL_INBOX"] = str(inbox.resolve())
    os.environ["TICKET_INTEL_WAREHOUSE"] = str(warehouse.resolve())
    home = Path(os.environ.get("DAGSTER_HOME") or (Path.cwd() / ".dagster_home")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists() and (PROJECT_ROOT / "dagster.yaml").exists():
        shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)


def run_pipeline(inbox: Path, warehouse: Path, weeks: str = "all") -> tuple[date, date]:
    """Materialize the whole graph for the weeks the inbox touches, as one Dagster run."""
    if not inbox.is_dir():
        raise FileNotFoundError(f"inbox folder not found: {inbox}")
    _configure(inbox, warehouse)
    import dagster as dg

    from ticket_intel.core.sources import list_exports, read_exports
    from ticket_intel.core.weeks import week_start
    from ticket_intel.definitions import defs
    from ticket_intel.defs.partitions import weekly
    from ticket_intel.defs.sources import record_taxonomy_version

    keys = set(weekly.get_partition_keys())
    tickets = read_exports(list_exports(inbox)).tickets
    touched = sorted(w for w in set(week_start(tickets["created_at"])) if w.isoformat() in keys) if len(tickets) else []
    start, end = parse_weeks(weeks, touched)
    for w in (start, end):
        if w.isoformat() not in keys:
            raise ValueError(f"week {w} is not a complete week inside the partitions (start {min(keys)})")
    record_taxonomy_version(dg.DagsterInstance.get())
    job = defs().resolve_job_def("weekly_job")
    click.echo(f"materializing weeks {start}..{end} into {warehouse} (Dagster home {os.environ['DAGSTER_HOME']})")
    result = job.execute_in_process(
        instance=dg.DagsterInstance.get(),
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        tags={"dagster/asset_partition_range_start": start.isoformat(),
              "dagster/asset_partition_range_end": end.isoformat()},
        raise_on_error=False,
    )
    if not result.success:
        failed = [e.step_key for e in result.all_events if e.is_step_failure]
        raise CliError(f"run {result.run_id} failed at {', '.join(failed) or 'a step'}; see the run in `make dev`")
    _print_ingest(warehouse)
    return start, end


def _print_ingest(warehouse: Path) -> None:
    with wh.open_warehouse(warehouse, read_only=True) as con:
        files = wh.ingested_files(con)
    for f in files.itertuples():
        skipped = f", {f.skipped} skipped by its mapping" if f.skipped else ""
        note = f" ({f.error})" if f.error else ""
        click.echo(f"  {Path(f.source_file).name}: {f.profile or 'unreadable'}, {f.accepted} accepted, "
                   f"{f.rejected} rejected{skipped}{note}")


@main.command()
@click.option("--inbox", type=click.Path(path_type=Path), required=True, help="Folder of exports to ingest.")
@click.option("--warehouse", type=click.Path(path_type=Path), default=DEFAULT_WAREHOUSE, show_default=True)
@click.option("--weeks", default="all", show_default=True, help="all, YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD")
@friendly
def run(inbox: Path, warehouse: Path, weeks: str) -> None:
    """Ingest every export in INBOX and materialize the whole graph for the weeks it touches."""
    run_pipeline(inbox, warehouse, weeks)
    click.echo(f"done: ticket-intel themes --warehouse {warehouse}")


@main.command()
@click.option("--warehouse", type=click.Path(path_type=Path), default=DEFAULT_WAREHOUSE, show_default=True)
@friendly
def demo(warehouse: Path) -> None:
    """Run the whole pipeline on the bundled sample and show the latest week's top themes."""
    _, end = run_pipeline(SAMPLE_INBOX, warehouse, "all")
    frame = load_themes(warehouse, end)
    click.echo(f"\nTop themes, week of {end}:")
    click.echo(format_themes(frame.head(10), "table"))
    with wh.open_warehouse(warehouse, read_only=True) as con:
        path = wh.report_path(con, end)
    click.echo(f"\nHTML report: {path or 'not written'}")


def load_themes(warehouse: Path, week: date | None) -> pd.DataFrame:
    with wh.open_warehouse(warehouse, read_only=True) as con:
        if week is None:
            week = wh.latest_week(con)
            if week is None:
                raise ValueError(f"{warehouse} has no materialized weeks yet; run `ticket-intel run` first")
        return wh.ranked_themes(con, week)


def format_themes(frame: pd.DataFrame, fmt: str) -> str:
    if fmt == "json":
        records = json.loads(frame.to_json(orient="records", date_format="iso"))
        for r in records:
            r["week_start"] = r["week_start"][:10]
        return json.dumps(records, indent=2)
    from tabulate import tabulate

    if frame.empty:
        return "(no ranked themes this week)"
    show = frame.assign(
        trend=[trend_text(r) for r in frame.to_dict("records")],
        paid=frame["paid_share"].map(lambda v: "–" if pd.isna(v) else f"{v:.0%}"),
        examples=frame["example_ticket_ids"].map(lambda ids: ", ".join(ids)),
    )[["rank", "label", "tickets", "customers", "trend", "paid", "severity", "signal_type", "examples"]]
    return tabulate(show, headers="keys", tablefmt="simple", showindex=False, maxcolwidths=[None, 48])


@main.command()
@click.option("--warehouse", type=click.Path(path_type=Path), default=DEFAULT_WAREHOUSE, show_default=True)
@click.option("--week", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Any day of the week (default: latest).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@friendly
def themes(warehouse: Path, week: datetime | None, fmt: str) -> None:
    """Print the ranked themes of a week."""
    frame = load_themes(warehouse, monday(week.date()) if week else None)
    click.echo(format_themes(frame, fmt))


@main.group()
def review() -> None:
    """Human review of themes; decisions survive re-clustering (keyed by theme id)."""


def _record_review(warehouse: Path, theme_id: str, action: str, value: str | None = None,
                   target: str | None = None, reviewer: str | None = None, note: str | None = None) -> int:
    with wh.open_warehouse(warehouse) as con:
        validate_action(action, value, target, theme_id, review_state(wh.reviews(con)))
        known = wh.known_theme_ids(con)
        for t in filter(None, [theme_id if action != "undo" else None, target]):
            if t not in known:
                raise ValueError(f"unknown theme id {t!r}; see `ticket-intel review list`")
        review_id = wh.add_review(con, theme_id, action, value, target, reviewer or os.environ.get("USER", "unknown"),
                                  note)
    _report_review_version(warehouse)
    return review_id


def _report_review_version(warehouse: Path) -> None:
    """Tell Dagster the review log changed, so summaries and rankings show as stale."""
    _configure(None, warehouse)
    import dagster as dg

    from ticket_intel.defs.sources import observation, reviews_version

    with wh.open_warehouse(warehouse, read_only=True) as con:
        version = reviews_version(wh.reviews(con))
    dg.DagsterInstance.get().report_runless_asset_event(observation("theme_reviews", version))


WAREHOUSE_OPTION = click.option("--warehouse", type=click.Path(path_type=Path), default=DEFAULT_WAREHOUSE, show_default=True)
REVIEWER_OPTION = click.option("--reviewer", default=None, help="Who decided (default: $USER).")


@review.command("list")
@WAREHOUSE_OPTION
@click.option("--week", type=click.DateTime(["%Y-%m-%d"]), default=None)
@friendly
def review_list(warehouse: Path, week: datetime | None) -> None:
    """Themes of a week with their review status, and the review log."""
    frame = load_themes(warehouse, monday(week.date()) if week else None)
    with wh.open_warehouse(warehouse, read_only=True) as con:
        log = wh.reviews(con)
    state = review_state(log)
    from tabulate import tabulate

    rows = [[r.rank, r.theme_id, r.label, r.tickets, state.status(r.theme_id)] for r in frame.itertuples()]
    click.echo(tabulate(rows, headers=["rank", "theme_id", "label", "tickets", "review"], tablefmt="simple"))
    if log:
        click.echo("\nreview log:")
        for r in log:
            click.echo(f"  #{r['review_id']} {r['created_at']:%Y-%m-%d %H:%M} {r['reviewer']}: {r['action']} "
                       f"{r['theme_id']} {r['value'] or ''} {r['target_theme_id'] or ''}".rstrip())


@review.command("rename")
@WAREHOUSE_OPTION
@REVIEWER_OPTION
@click.argument("theme_id")
@click.argument("name")
@friendly
def review_rename(warehouse: Path, reviewer: str | None, theme_id: str, name: str) -> None:
    """Give THEME_ID a human name that later runs keep."""
    click.echo(f"review #{_record_review(warehouse, theme_id, 'rename', name, reviewer=reviewer)}: renamed {theme_id}")


@review.command("confirm")
@WAREHOUSE_OPTION
@REVIEWER_OPTION
@click.argument("theme_id")
@friendly
def review_confirm(warehouse: Path, reviewer: str | None, theme_id: str) -> None:
    """Mark THEME_ID as a real, checked theme."""
    click.echo(f"review #{_record_review(warehouse, theme_id, 'confirm', reviewer=reviewer)}: confirmed {theme_id}")


@review.command("merge")
@WAREHOUSE_OPTION
@REVIEWER_OPTION
@click.argument("theme_id")
@click.argument("into_theme_id")
@friendly
def review_merge(warehouse: Path, reviewer: str | None, theme_id: str, into_theme_id: str) -> None:
    """Merge THEME_ID into INTO_THEME_ID from now on."""
    rid = _record_review(warehouse, theme_id, "merge", target=into_theme_id, reviewer=reviewer)
    click.echo(f"review #{rid}: {theme_id} merged into {into_theme_id}")


@review.command("not-a-theme")
@WAREHOUSE_OPTION
@REVIEWER_OPTION
@click.argument("theme_id")
@friendly
def review_not_a_theme(warehouse: Path, reviewer: str | None, theme_id: str) -> None:
    """Take THEME_ID out of the ranking (it stays listed as not-a-theme)."""
    rid = _record_review(warehouse, theme_id, "not-a-theme", reviewer=reviewer)
    click.echo(f"review #{rid}: {theme_id} marked not-a-theme")


@review.command("undo")
@WAREHOUSE_OPTION
@REVIEWER_OPTION
@click.argument("review_id", type=int)
@friendly
def review_undo(warehouse: Path, reviewer: str | None, review_id: int) -> None:
    """Cancel review decision REVIEW_ID."""
    with wh.open_warehouse(warehouse, read_only=True) as con:
        theme_id = wh.review_theme(con, review_id)
    if theme_id is None:
        raise ValueError(f"no review #{review_id}")
    rid = _record_review(warehouse, theme_id, "undo", str(review_id), reviewer=reviewer)
    click.echo(f"review #{rid}: undid #{review_id}")


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
    with wh.open_warehouse(warehouse, read_only=True) as con:
        releases = releases_from(wh.stored_releases(con))
    if find_release(releases, version) is None:
        known = ", ".join(r.version for r in releases[-5:]) or "none"
        click.echo(f"ticket-intel: warning: release {version} is not in the releases file yet (latest: {known}); "
                   "its fix status stays 'not yet' until it is", err=True)


def export_customers(warehouse: Path, week: date | None, theme_id: str | None) -> pd.DataFrame:
    """The affected customers of a week's ranked themes (or one theme), for outreach when a fix ships."""
    with wh.open_warehouse(warehouse, read_only=True) as con:
        week = week or wh.latest_week(con)
        if week is None:
            raise ValueError(f"{warehouse} has no materialized weeks yet; run `ticket-intel run` first")
        frame = wh.theme_customers(con, week, theme_id)
    if theme_id is not None and frame.empty:
        raise ValueError(f"theme {theme_id!r} has no affected customers in the week of {week} "
                         "(not ranked that week, or no ticket carries a customer id)")
    return frame.assign(week_start=week.isoformat())


@main.command()
@WAREHOUSE_OPTION
@click.option("--week", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Any day of the week (default: latest).")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet", "json"]), required=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None, help="File to write (default: stdout for csv/json).")
@click.option("--customers", is_flag=True, help="Export the affected customers (id, plan, revenue, tickets) instead.")
@click.option("--theme", "theme_id", default=None, help="With --customers: only this theme's customers.")
@friendly
def export(warehouse: Path, week: datetime | None, fmt: str, output: Path | None, customers: bool,
           theme_id: str | None) -> None:
    """Export a week's ranked themes with their example tickets, or (--customers) their affected customers."""
    if theme_id is not None and not customers:
        raise ValueError("--theme needs --customers")
    if customers:
        table = export_customers(warehouse, monday(week.date()) if week else None, theme_id)
    else:
        frame = load_themes(warehouse, monday(week.date()) if week else None)
        ids = [t for ids in frame["example_ticket_ids"] for t in ids]
        with wh.open_warehouse(warehouse, read_only=True) as con:
            texts = wh.ticket_texts(con, ids)
        table = export_core.themes_with_examples(frame, texts)
    if fmt == "parquet" and output is None:
        raise ValueError("parquet export needs --output FILE")
    data = export_core.serialize(table, fmt)
    if output is None:
        sys.stdout.write(data.decode("utf-8"))
    else:
        output.write_bytes(data)
        click.echo(f"wrote {len(table)} {'customer rows' if customers else 'themes'} to {output}", err=True)


@main.group()
def backlog() -> None:
    """Top themes as Jira or Linear issues (TICKET_INTEL_TRACKER and its credentials)."""


@backlog.command("sync")
@WAREHOUSE_OPTION
@click.option("--week", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Any day of the week (default: latest).")
@click.option("--dry-run", is_flag=True, help="Print what would change; call no tracker, write nothing.")
@friendly
def backlog_sync(warehouse: Path, week: datetime | None, dry_run: bool) -> None:
    """Materialize `backlog_sync` for a week (the same asset the weekly job runs) and print its plan."""
    with wh.open_warehouse(warehouse, read_only=True) as con:
        day = monday(week.date()) if week else wh.latest_week(con)
    if day is None:
        raise ValueError(f"{warehouse} has no materialized weeks yet; run `ticket-intel run` first")
    _configure(None, warehouse)
    import dagster as dg

    from ticket_intel.definitions import defs

    result = defs().resolve_job_def("weekly_job").execute_in_process(
        instance=dg.DagsterInstance.get(), partition_key=day.isoformat(), raise_on_error=False,
        asset_selection=[dg.AssetKey("backlog_sync")],
        run_config={"ops": {"backlog_sync": {"config": {"dry_run": dry_run}}}},
    )
    failure = next((e.step_failure_data for e in result.all_events if e.is_step_failure), None)
    if failure is not None:
        raise CliError(failure.user_failure_data.description if failure.user_failure_data
                       else failure.error.message.strip().splitlines()[-1])
    metadata = result.asset_materializations_for_node("backlog_sync")[0].metadata
    click.echo(str(metadata["plan"].value).strip().strip("`").strip())


if __name__ == "__main__":
    main()
