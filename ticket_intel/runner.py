"""Running the pipeline from the command line and the schedule: which instance, partitions and weeks.

A warehouse and its Dagster instance belong together: unless `DAGSTER_HOME` is set, a warehouse's
runs, sensors and reviews live in `<warehouse>_dagster/` beside it, and its reports in
`<warehouse>_reports/`. The partitions follow the data: on the first run, when no partition
start is configured, it is the first week that holds its share of a ranking and from which one window
of weeks holds enough tickets to be ranked (`first_rankable_week`), and it is stored in the warehouse's instance folder (earlier tickets are counted as before
the partitions); a start configured later is stored there too. `--weeks all`
means the weeks that hold tickets, but for a last week its export cut short (core/rates.py `cut_short`);
`--weeks changed`, the default, those of them from the first whose inputs changed since its last
complete run (run_inputs.py), so a weekly `ticket-intel run` over a growing inbox costs the new week;
the Monday schedule plans its runs the same way (`plan_changed`).
"""

from __future__ import annotations

import math
import os
import shlex
import shutil
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from ticket_intel import PROJECT_ROOT, settings
from ticket_intel import warehouse as wh
from ticket_intel.core.quality import commonest_reasons
from ticket_intel.core.rates import CutWeek, cut_short
from ticket_intel.core.sources import whole_reads
from ticket_intel.core.sources.zones import local_zone, zone
from ticket_intel.core.vocabulary import plural
from ticket_intel.core.week_config import Differences, Value, differences, keep_settings, said
from ticket_intel.core.weeks import parse_week, span, week_start
from ticket_intel.warehouse import access, target
from ticket_intel.warehouse.ingest import kept_week_counts
from ticket_intel.warehouse.retention import retired_before

if TYPE_CHECKING:
    from ticket_intel.defs.ingest import CompleteRun
    from ticket_intel.warehouse.staging import Stage

CHANGED = "changed"
WEEKS_HELP = (f"{CHANGED} (the weeks that hold tickets, from the first whose tickets, settings or code changed since "
              "its last complete run), all (every week that holds tickets), a week (YYYY-MM-DD, any day of it, or "
              "YYYY-Www) or WEEK..WEEK")
MAPPINGS_DOC = "docs/sources.md#column-mappings"


# In a warehouse's instance folder: the inbox its last `ticket-intel run` read, and the first weekly
# partition its first run chose from the data.
INBOX_RECORD = "inbox.txt"
PARTITIONS_RECORD = "partitions_start.txt"
PARTITIONS_START = "TICKET_INTEL_PARTITIONS_START"


def configure(warehouse: Path, inbox: Path | None = None) -> Path:
    """Point settings at this warehouse, its instance and its inbox; returns the instance folder.

    The inbox a run is given is recorded in the instance, so that the UI (`ticket-intel dev`), its
    sensors and schedule, and later commands read the exports this warehouse was built from, unless
    an inbox is configured; so is the partitions start its first run chose, so that another
    warehouse (the demo's, say) never imposes its weeks on this one."""
    os.environ["TICKET_INTEL_WAREHOUSE"] = target.absolute(str(warehouse))
    home = settings.dagster_home(warehouse).resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    if inbox is not None:
        os.environ["TICKET_INTEL_INBOX"] = str(inbox.resolve())
        (home / INBOX_RECORD).write_text(str(inbox.resolve()), encoding="utf-8")
    else:
        _recall(home / INBOX_RECORD, "TICKET_INTEL_INBOX")
    _recall(home / PARTITIONS_RECORD, PARTITIONS_START)
    settings.apply()
    return home


def _recall(record: Path, env: str) -> None:
    """What this warehouse's runs recorded, unless the user configured the setting."""
    if not settings.is_chosen(env) and record.exists():
        os.environ[env] = record.read_text(encoding="utf-8").strip()
        settings.DEFAULTED.discard(env)


def inbox_tickets(inbox: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(tickets, per-file outcomes) of the inbox, read with the configured mappings, as ingest reads it."""
    from ticket_intel.core.sources import load_mappings, read_inbox

    with local_zone(settings.value("TICKET_INTEL_TIMEZONE")):
        result = read_inbox(inbox, load_mappings(settings.value("TICKET_INTEL_MAPPINGS_DIR")))
    return result.tickets, result.files


def week_counts(tickets: pd.DataFrame) -> Counter[date]:
    return Counter(week_start(tickets["created_at"])) if len(tickets) else Counter()


InboxWeeks = tuple[Counter[date], pd.DataFrame, CutWeek | None, dict[date, str]]


def inbox_weeks(inbox: Path, mappings_dir: str, cache: Path | None) -> InboxWeeks:
    """(tickets per week, per-file outcomes, the last week when the export cut it short, each week's
    ticket digest) of the inbox read with the mappings in `mappings_dir` through the parse cache
    `cache`, as the run's ingest reads it, streamed into a staging database (inside
    `staging.parse_once` the run's own ingest takes it over instead of parsing the inbox again)."""
    from ticket_intel.core.sources import load_mappings
    from ticket_intel.warehouse.staging import staged_inbox

    timezone = settings.value("TICKET_INTEL_TIMEZONE")
    with settings.reading("TICKET_INTEL_TIMEZONE"):
        zone(timezone)
    with local_zone(timezone), staged_inbox(inbox, load_mappings(mappings_dir), cache) as staged:
        files = staged.stage.resolve(staged.files, None)
        reasons = staged.stage.rejection_reasons()  # said when no ticket is left: no warehouse holds them then
        files = files.assign(reason=files["source_file"].map(
            lambda f: next(iter(commonest_reasons(reasons[reasons["source_file"] == f], 1)), None)))
        return staged.stage.week_counts(), files, cut_week(staged.stage), staged.stage.week_digests()


def cut_week(stage: Stage) -> CutWeek | None:
    """The staged inbox's last week when its export cut it short (`rates.cut_short`), judged over a
    window of weeks, as its report reads them: the plan leaves it out, and the ingest records it."""
    return cut_short(stage.latest_weeks_offsets(settings.number("TICKET_INTEL_WINDOW_WEEKS")))


def partitions_start_of(warehouse: Path) -> date:
    """The first weekly partition of this warehouse's runs, as `configure` sets it (configured, else
    recorded by its first run), without pointing the process at it."""
    record = settings.dagster_home(warehouse) / PARTITIONS_RECORD
    recorded = record.exists() and not settings.is_chosen(PARTITIONS_START)
    return date.fromisoformat(record.read_text(encoding="utf-8").strip() if recorded else settings.value(PARTITIONS_START))


def run_command(warehouse: Path, options: str = "") -> str:
    """`ticket-intel run` as a hint gives it, with this warehouse and the inbox its runs read (configured,
    else recorded by `configure`; `--inbox` is required): "ticket-intel run --weeks …" alone is a usage
    error. A DuckLake is named `W`: its URL may hold a password, and its instance is wherever DAGSTER_HOME says."""
    lake = target.is_lake_target(str(warehouse))
    record = None if lake else settings.dagster_home(warehouse) / INBOX_RECORD
    inbox = (settings.value("TICKET_INTEL_INBOX") if settings.is_chosen("TICKET_INTEL_INBOX") else
             record.read_text(encoding="utf-8").strip() if record is not None and record.exists() else "DIR")
    where = "--warehouse W" if lake else target.cli_flag(warehouse)
    return f"ticket-intel run --inbox {shlex.quote(inbox)} {where}{f' {options}' if options else ''}"


def left_out(cut: CutWeek, warehouse: Path | None = None) -> str:
    """Why a run leaves out a week its export cut short, and the run that runs it once it is over: of
    `warehouse`, by default the configured one ("`ticket-intel run --weeks 2024-09-30`" was a usage
    error, `--inbox` missing, and named no warehouse)."""
    where = Path(settings.value("TICKET_INTEL_WAREHOUSE")) if warehouse is None else warehouse
    return (f"its export stopped before the week ended ({cut.ends()}); run it with "
            f"`{run_command(where, f'--weeks {cut.week}')}` once the export covers it")


def configured_inbox_weeks(inbox: Path) -> InboxWeeks:
    """`inbox_weeks` with the mappings folder and parse cache the settings name (the command line's)."""
    cache = settings.parse_cache_dir(settings.value("TICKET_INTEL_PARSE_CACHE_DIR"),
                                     settings.value("TICKET_INTEL_WAREHOUSE"))
    return inbox_weeks(inbox, settings.value("TICKET_INTEL_MAPPINGS_DIR"), cache)


def check_config(taxonomy: str, triage: str, routing: str, escalation: str = "") -> None:
    """Parse the configuration files a run reads before it starts: a mistake in one is named at once
    (file, line, column), not after the run has ingested, redacted and embedded the inbox, at the
    step that reads it. The command line passes the settings' files, a sensor its resources'."""
    from ticket_intel.core import taxonomy as tax
    from ticket_intel.core.triage_config import load_triage
    from ticket_intel.core.triage_rules import load_escalation

    tax.load(taxonomy)
    load_triage(triage, routing)
    load_escalation(escalation)


def held_for_config(taxonomy: str, triage: str, routing: str, escalation: str = "") -> str | None:
    """Why an unattended run would fail at its first step that reads configuration, or None. The
    sensor and the schedule request nothing until it is fixed, so an export is not ingested and
    embedded for a run that cannot finish; the next tick after the fix requests it."""
    try:
        check_config(taxonomy, triage, routing, escalation)
    except ValueError as exc:
        return f"waiting for the configuration to be fixed: {exc}"
    return None


def built_with(warehouse: str | Path, start: date, end: date) -> dict[date, dict[str, Value]]:
    """The configuration each week of `start`..`end` recorded, or, none did, the latest week's before
    `start` (a new week continues it); none for a warehouse not made, busy, or whose weeks were built
    before it was recorded."""
    try:
        with access.open_snapshot(warehouse) as con:
            found = wh.week_configs(con, start, end)
            before = wh.week_configs(con, None, start - timedelta(weeks=1)) if not found else {}
    except (FileNotFoundError, access.WarehouseBusy, duckdb.Error):
        return {}
    return found or dict(sorted(before.items())[-1:])


def config_differences(warehouse: str | Path, start: date, end: date) -> tuple[dict[str, Value], Differences]:
    """This process's settings that shape themes, and those of them weeks `start`..`end` (or the
    latest week before) were built with otherwise: one comparison for `run` and the daemon."""
    from ticket_intel.run_inputs import theme_config

    current = theme_config()
    return current, differences(current, built_with(warehouse, start, end))


def held_for_week_config(warehouse: str | Path, inbox: str | Path, start: date, end: date) -> str | None:
    """Why an unattended run of `start`..`end` must not start: the daemon's settings that shape themes
    differ from those the weeks (or the latest week before) were built with, said with the command
    that rebuilds every week with the daemon's. A forgotten variable would mix weeks built two ways."""
    current, differ = config_differences(warehouse, start, end)
    if not differ:
        return None
    return (f"{span(start, end)} not run: settings that shape themes: {said(current, differ, 'the daemon')}. Set "
            f"{keep_settings(differ)} for the daemon to build them as the weeks were, or rebuild every week with "
            f"the daemon's: ticket-intel run --inbox {shlex.quote(str(inbox))} {target.cli_flag(warehouse)} "
            "--weeks all --replace-config")


def first_rankable_week(counts: Counter[date], min_week_tickets: int, window_weeks: int) -> date:
    """The first week that holds its share of a ranking (`min_week_tickets` over `window_weeks`) and
    from which one window holds enough tickets to rank: a small queue's history (16-30 tickets a
    week, ranked by pooling weeks) is kept whole, while a sparse tail of old tickets (one a week,
    or one a year) makes no near-empty weeks; the first week with any when none does."""
    weeks, share = sorted(counts), min_week_tickets / window_weeks
    for week in weeks:
        held = sum(counts[w] for w in weeks if week <= w < week + timedelta(weeks=window_weeks))
        if counts[week] >= share and held >= min_week_tickets:
            return week
    return weeks[0]


def choose_partitions_start(counts: Counter[date], home: Path) -> str | None:
    """Fit the partitions to the data once per warehouse, recorded in its instance folder `home`:
    returns what was chosen and why, or None if recorded. A start the user configured is recorded
    too when it differs, so that the weeks it let in stay in the next run's partitions."""
    path = home / PARTITIONS_RECORD
    if settings.is_chosen(PARTITIONS_START):
        chosen = settings.value(PARTITIONS_START)
        if path.exists() and path.read_text(encoding="utf-8").strip() == chosen:
            return None
        path.write_text(chosen, encoding="utf-8")
        key = settings.BY_ENV[PARTITIONS_START].yaml_key
        where = (f"`{key}` in {settings.config_file()}, which releases before 2026-12-03 wrote themselves: remove "
                 "it to let a new warehouse start at its data"
                 if str(settings.file_values(settings.config_file()).get(key)) == chosen else PARTITIONS_START)
        return f"partitions start {chosen}, as configured ({where}; stored in {path} for this warehouse's later runs)"
    if not counts:
        return None
    minimum, window = settings.number("TICKET_INTEL_MIN_WEEK_TICKETS"), settings.number("TICKET_INTEL_WINDOW_WEEKS")
    start = first_rankable_week(counts, minimum, window)
    path.write_text(start.isoformat(), encoding="utf-8")
    _recall(path, PARTITIONS_START)
    before = sum(n for w, n in counts.items() if w < start)
    held = sum(n for w, n in counts.items() if start <= w < start + timedelta(weeks=window))
    why = (f"the first week with {math.ceil(minimum / window)} tickets or more from which {window} weeks hold {minimum}"
           if held >= minimum and counts[start] >= minimum / window
           else f"no {window} weeks hold {minimum} tickets, so the first week with any")
    return (f"partitions start {start}: {why} (stored in {path}; "
            f"{plural(before, 'earlier ticket')} counted as before the partitions)")


def no_tickets_reason(files: pd.DataFrame) -> str:
    """Why an inbox gave no usable ticket, from what each file said (an accounts file holds none)."""
    from ticket_intel.core.sources.accounts import ACCOUNTS

    files = files[files["profile"] != ACCOUNTS]
    unusable = [(Path(f.source_file).name, f.error) for f in files.itertuples() if f.error]
    if not len(files):
        return "the inbox holds no export files (.csv, .json, .jsonl, .parquet)"
    # No run follows, so no warehouse keeps the rejections: the commonest reasons are said here.
    reasons = list(files["reason"].dropna())
    # Three reasons are read; the rest are named, not dropped (a fourth file vanished from the message).
    rest = [name for name, _ in unusable[3:]]
    more = f"; and {plural(len(rest), 'more unusable file')}: {', '.join(rest)}" if rest else ""
    detail = "; ".join(f"{name}: {error}" for name, error in unusable[:3]) + more if unusable else (
        f"every record was rejected{': ' + '; '.join(reasons[:2]) if reasons else ''}")
    hint = f" (see {MAPPINGS_DOC})" if any("column mapping" in e for _, e in unusable) else ""
    return f"the inbox holds no usable tickets: {detail}{hint}"


@dataclass(frozen=True)
class WeekPlan:
    start: date
    end: date
    with_tickets: int
    without: int
    cut: CutWeek | None = None  # the inbox's last week, cut short by its export, when left out or run
    current: int = 0  # weeks with tickets before `start` left as they are: unchanged since their last complete run

    @property
    def idle(self) -> bool:
        """Nothing to run: every week with tickets is unchanged since its last complete run."""
        return self.with_tickets == 0 and self.current > 0

    def describe(self, again: str = "--weeks all runs them again") -> str:
        """The plan in a line or two; `again` says how to run unchanged weeks anyway."""
        if self.idle:
            dates = f"{self.start}" if self.start == self.end else f"{self.start}..{self.end}"
            return (f"nothing to run: the {plural(self.current, 'week')} with tickets, {dates}, "
                    f"{_are(self.current)} unchanged since {'its' if self.current == 1 else 'their'} last complete run "
                    f"({again}){self._cut_note()}")
        skipped = f"; skipped {plural(self.without, 'week')} with no tickets" if self.without else ""
        kept = (f"; the {plural(self.current, 'week')} before {_are(self.current)} unchanged since their last complete run"
                if self.current else "")
        return f"{span(self.start, self.end)}: {self.with_tickets} with tickets{skipped}{kept}{self._cut_note()}"

    def _cut_note(self) -> str:
        if (cut := self.cut) is None:
            return ""
        if self.start <= cut.week <= self.end:
            return (f"\nthe week of {cut.week} is partial: {cut.ends()}; its report compares part of a week "
                    "with whole ones")
        return f"\nleft out the week of {cut.week}: {left_out(cut)}"


def partitions_origin(home: Path) -> str:
    """Where the first weekly partition came from: the file or variable to change to move it."""
    record = home / PARTITIONS_RECORD
    if record.exists() and record.read_text(encoding="utf-8").strip() == os.environ.get(PARTITIONS_START):
        return f"chosen by this warehouse's first run: {record}"
    if settings.BY_ENV[PARTITIONS_START].yaml_key in settings.file_values(settings.config_file()):
        return f"`partitions_start` in {settings.config_file()}"
    return PARTITIONS_START


def plan_weeks(spec: str, counts: Counter[date], partition_keys: set[str], origin: str = "",
               cut: CutWeek | None = None, changed: Collection[date] = ()) -> WeekPlan:
    """`changed`, `all`, `YYYY-MM-DD` or `YYYY-MM-DD..YYYY-MM-DD` to a Monday-aligned range inside the
    partitions; `origin` names where their start was set, for the errors. `all` runs every week with
    tickets, but leaves out a last week its export `cut` short: its report would rank part of a week
    against whole ones. `changed` runs those weeks from the first in `changed` (whose inputs differ
    from their last complete run's) on, as each week's themes follow from the weeks before; none
    changed, it runs nothing (`WeekPlan.idle`). Named weeks run as named, and the plan says when one
    of them is that partial week; named weeks none of which holds a ticket are an error, as a week
    without data is to every other command (a mistyped year ran a week of nothing, exit 0)."""
    if not partition_keys and counts:  # weekly partitions end with the last whole week
        raise access.NotFound(f"every ticket is in the week of {max(counts)}, which has not ended: a week is run "
                              "once it is over (run again next week, or set TICKET_INTEL_PARTITIONS_START earlier "
                              "if older tickets belong in the warehouse)")
    weeks = sorted(w for w in counts if w.isoformat() in partition_keys)
    begin = f"start {min(partition_keys)}" + (f", {origin}" if origin else "")
    whole = spec in ("all", CHANGED)
    left_out = whole and cut is not None and len(weeks) > 1 and weeks[-1] == cut.week
    current = 0
    if whole:
        weeks = weeks[:-1] if left_out else weeks
        if not weeks:
            raise ValueError(f"no tickets fall inside the weekly partitions ({begin}); "
                             "see `partitions_start` in the README")
        first = weeks[0] if spec == "all" else min((w for w in weeks if w in changed), default=None)
        if first is None:
            return WeekPlan(weeks[0], weeks[-1], 0, 0, cut if left_out else None, len(weeks))
        start, end, current = first, weeks[-1], sum(w < first for w in weeks)
    else:
        start, end = named_weeks(spec)
        for w in (start, end):
            if w.isoformat() not in partition_keys:
                raise ValueError(f"week {w} is not a complete week inside the partitions ({begin})")
    inside = sum(1 for w in weeks if start <= w <= end)
    if not inside:
        held = f"its weeks with tickets are {weeks[0]}..{weeks[-1]}" if weeks else f"none is inside the partitions ({begin})"
        raise access.NotFound(f"no tickets in the {span(start, end)} (--weeks {spec}) in the inbox: {held}")
    weeks_run = sum(1 for k in partition_keys if start <= date.fromisoformat(k) <= end)
    told = cut if cut and (left_out or start <= cut.week <= end) else None
    return WeekPlan(start, end, inside, weeks_run - inside, told, current)


def plan_changed(inbox: Path, warehouse: str | Path, staged: InboxWeeks, partition_keys: set[str], origin: str,
                 last: Callable[[date], CompleteRun], data_only: bool = False,
                 in_flight: Mapping[date, str] | None = None, prune: bool = False) -> tuple[WeekPlan, list[str]]:
    """The `changed` plan of an inbox `staged` by `inbox_weeks`, given each week's last complete run,
    and notes for people: an export new to the warehouse that holds no ticket in a changed week runs
    the newest week (every run records every export's rejections). With `data_only` (the unattended
    schedule), weeks whose tickets are as their last complete run read them but whose settings,
    files or code changed are named, not run: after an upgrade that would be the whole history.
    Weeks `in_flight` (week -> id of a queued or running run that covers it) are named, not run twice.
    Weeks holding tickets of exports gone from the inbox hold tickets; with `prune` they change. Weeks
    before a retention's cutoff are never run: their exports may still be in the inbox."""
    counts, files, cut, digests = staged
    reports, listed, kept, retired = _recorded(warehouse, _read_exports(files))
    counts = Counter({w: n for w, n in (counts + kept).items() if retired is None or w >= retired})
    changed, stale, edited = _week_changes(inbox, counts, digests, reports, last, set(kept) - set(digests))
    changed = sorted({*changed, *kept}) if prune else changed
    in_flight = in_flight or {}
    flying = sorted(w for w in {*changed, *stale} if w in in_flight)
    changed, stale = [w for w in changed if w not in flying], [w for w in stale if w not in flying]
    plan = plan_weeks(CHANGED, counts, partition_keys, origin, cut, changed if data_only else changed + stale)
    notes = [f"{plural(len(flying), 'week')} with tickets, {flying[0]}..{flying[-1]}, in a run not finished "
             f"yet ({', '.join(sorted({in_flight[w] for w in flying}))}): not requested again"] if flying else []
    past = [w for w in edited if w < max(counts) and plan.start <= w and w not in flying]
    notes += [f"the tickets of {plural(len(past), 'earlier week')} changed since {'its' if len(past) == 1 else 'their'} "
              f"last complete run, the first {past[0]} (a late or re-exported ticket, a reply joining an earlier "
              "conversation, or a product read again from the whole inbox's handles): it and every week after it run "
              "again, as each week's themes follow from the weeks before"] if past and not plan.idle else []
    said = f"{plural(len(stale), 'week')} with tickets, {min(stale)}..{max(stale)}," if stale else ""
    notes += [f"{said} hold the tickets their last complete run read but ran with other settings, files or code: a "
              "backfill of them applies the current ones"] if data_only and stale else []
    notes += [f"{said} ran with other settings, files or code (an upgrade, a changed setting or configuration "
              "file): they run again with the current ones, and their figures, themes and reports may change"
              ] if stale and not data_only else []
    unrecorded = [Path(f.source_file).name for f in files.itertuples() if _read_as(f.source_file, f.file_hash) not in listed]
    if not (plan.idle and unrecorded) or plan.end in in_flight:  # the run in flight records them
        return plan, notes
    return plan_weeks(plan.end.isoformat(), counts, partition_keys, origin, cut), [
        *notes, f"{', '.join(unrecorded)}: no ticket in a week that changed, but new to the warehouse; "
        "running the newest week to record what it holds"]


def _read_as(path: str, file_hash: str | None) -> str:
    """An export as a run reads it: its content (a moved or renamed copy was read), or its path when
    it could not be read."""
    return path if pd.isna(file_hash) else file_hash


def kept_weeks(warehouse: str | Path, files: pd.DataFrame) -> Counter[date]:
    """Per week, the tickets the warehouse keeps from exports the inbox (its `files`) no longer gives:
    gone, or unreadable now (both keep their tickets until a prune)."""
    return _recorded(warehouse, _read_exports(files))[2]


def _read_exports(files: pd.DataFrame) -> list[str]:
    """The exports the inbox listing read whole: an unreadable one gives no ticket and one cut short
    part of them; both keep their old ones."""
    return whole_reads(files)


def _recorded(warehouse: str | Path, present: list[str]
              ) -> tuple[dict[date, str], set[str], Counter[date], date | None]:
    """What the warehouse holds from earlier runs: the run of each week's report, the exports runs
    listed, as read, the tickets it keeps of exports not `present`, and the cutoff of its latest
    retention by age (nothing without a warehouse)."""
    where = target.parse(str(warehouse))
    file = where if isinstance(where, Path) else where.catalog_file()
    if file is not None and not file.exists():
        return {}, set(), Counter(), None
    try:
        with access.open_snapshot(Path(warehouse)) as con:
            files = wh.ingested_files(con)
            return (wh.report_runs(con), set(map(_read_as, files["source_file"], files["file_hash"])),
                    Counter(kept_week_counts(con, present)), retired_before(con))
    # A PostgreSQL catalog its first run has yet to create a DuckLake in holds nothing (but that run
    # needs a data path); a catalog database that does not exist (a typo) is an error. Both are said
    # before a run is made: they failed the run at its first step.
    except duckdb.InvalidInputException as exc:
        if not (isinstance(where, target.Lake) and target.NOT_CREATED in str(exc)):
            raise
        if not where.data_path:
            raise ValueError(target.NO_DATA_PATH) from None
        return {}, set(), Counter(), None


def _week_changes(inbox: Path, counts: Counter[date], digests: dict[date, str], reports: dict[date, str],
                  last: Callable[[date], CompleteRun], kept: Collection[date] = ()
                  ) -> tuple[list[date], list[date], list[date]]:
    """(changed, stale, edited) among the weeks with tickets. Changed: its tickets differ from what
    its last complete run recorded (edited, too), it never completed a run, or the warehouse does not
    hold its report from that run (a warehouse file deleted, or restored from a backup, beside the
    instance that remembers it). Stale: its tickets are the same, but the settings, files or code
    that shape results are not. A week whose tickets are all `kept` from exports gone from the inbox
    holds what it held: its digest, of the inbox's tickets only, is no longer comparable."""
    from ticket_intel.run_inputs import RUN_INPUTS, WEEK_TICKETS, inputs_digest

    now, changed, stale, edited = inputs_digest(inbox), [], [], []
    for week in sorted(counts):
        run = last(week)
        recorded = run.metadata.get(WEEK_TICKETS)  # None: recorded before ticket digests were, it cannot tell
        other = (bool(run.run_id) and recorded is not None and week not in kept
                 and recorded.get(week.isoformat()) != digests.get(week, ""))
        if not run.run_id or reports.get(week) != run.report_run or other:
            changed.append(week)
            edited += [week] if other else []
        elif recorded is None or run.metadata.get(RUN_INPUTS) != now:
            stale.append(week)  # named, not run unattended
    return changed, stale, edited


def named_weeks(spec: str) -> tuple[date, date]:
    """The first and last Monday of `--weeks WEEK` or `WEEK..WEEK` (`weeks.parse_week`)."""
    message = f"{spec!r} is not {WEEKS_HELP}"
    try:
        parts = [parse_week(p) for p in spec.split("..")]
    except ValueError as exc:
        raise ValueError(message) from exc
    if len(parts) not in (1, 2):
        raise ValueError(message)
    start, end = parts[0], parts[-1]
    if end < start:
        raise ValueError(f"the range {spec} ends before it starts")
    return start, end


def _are(n: int) -> str:
    return "is" if n == 1 else "are"
