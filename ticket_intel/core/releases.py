"""Releases: "did it start after our release?" and "did our fix work?".

Input is `releases.csv` (`released_at,version,notes`) or a GitHub releases JSON export
(`[{"tag_name", "name", "published_at", "body", "draft"}]`; drafts have no date and are
skipped). Times are UTC; a date alone means midnight.

**After a release.** A theme started (or spiked) after release R when R is the latest release
at or before the moment it started and at most `within_days` earlier. A new theme starts at
its first ticket; a spike starts when the week's tickets passed the theme's normal weekly
volume (`spike_onset`), which places it inside its week.

**Fix status** after `review fixed THEME --release V` compares full weeks: up to
`before_weeks` weeks before the release's week against the weeks after it (the release week
mixes both and is left out), with the exact rate test of core/rates.py, its counts scaled by
the theme's dispersion before the release.

- `fixed`: the rate over all weeks since the release is lower than before (p < `alpha`,
  one-sided). It is judged afresh each week on all weeks since, not kept from the first week
  it held: looking every week and keeping any success would call noise a fix far more often.
- `regressed`: after the fix was first seen to hold, a week whose count is above the rate of
  the post-fix weeks before it (p < `regression_max_p`, the alerting level) and not below the
  pre-fix rate (p >= `alpha`): the theme came back to where it was. This is kept, and that
  week raises one `regression` alert.
- `not yet`: neither, including when no full week has passed since the release.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from ticket_intel.core.anomalies import alert_key
from ticket_intel.core.csv_dialect import delimiter_of
from ticket_intel.core.rates import RateComparison, compare_rates, dispersion, theme_weeks
from ticket_intel.core.weeks import monday

FIXED, NOT_YET, REGRESSED = "fixed", "not yet", "regressed"
REGRESSION = "regression"  # the alert kind
CSV_COLUMNS = ("released_at", "version", "notes")


@dataclass(frozen=True)
class Release:
    version: str
    released_at: datetime  # naive UTC
    notes: str = ""


@dataclass(frozen=True)
class AfterRelease:
    version: str
    released_at: datetime
    days_after: int  # whole days from the release to the start


@dataclass(frozen=True)
class FixSettings:
    alpha: float = 0.05
    regression_max_p: float = 0.01
    before_weeks: int = 8
    within_days: int = 7  # "started N days after a release" looks back this far


@dataclass(frozen=True)
class FixResult:
    status: str  # fixed | not yet | regressed
    version: str
    before_rate: float | None
    after_rate: float | None
    p_value: float | None  # of "lower after the release", over all weeks since
    confirmed_week: date | None = None  # the first week the fix was seen to hold
    regressed_week: date | None = None
    regressed_count: int | None = None
    post_fix_rate: float | None = None  # weekly rate from the release to the week it came back
    regression_p_value: float | None = None
    note: str = ""


def _utc(value: Any, where: str) -> datetime:
    """A timestamp or date as naive UTC, or a clear error naming where it came from."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {value!r} is not a date or timestamp") from exc
    if ts is pd.NaT or pd.isna(ts):
        raise ValueError(f"{where}: missing release date")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.to_pydatetime()


def parse_releases_csv(text: str, source: str = "releases.csv") -> list[Release]:
    """Rows of `released_at,version,notes` (or separated as core/csv_dialect.py reads); any bad row is
    an error naming its line."""
    text = text.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter_of(text.split("\n", 1)[0]))
    header = {c.strip() for c in reader.fieldnames or []}
    missing = [c for c in CSV_COLUMNS[:2] if c not in header]
    if missing:
        raise ValueError(f"{source}: missing column(s) {', '.join(missing)}; expected released_at,version,notes")
    releases = []
    for line, row in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        if not row["version"]:
            raise ValueError(f"{source} line {line}: empty version")
        releases.append(Release(row["version"], _utc(row["released_at"], f"{source} line {line}"), row.get("notes", "")))
    return _checked(releases, source)


def parse_github_releases(records: Any, source: str = "releases.json") -> list[Release]:
    """A GitHub releases export; drafts (never published) are skipped."""
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ValueError(f"{source}: expected a JSON list of GitHub releases (objects with tag_name, published_at)")
    releases = []
    for i, rec in enumerate(records):
        if rec.get("draft") or not rec.get("published_at"):
            continue
        version = str(rec.get("tag_name") or rec.get("name") or "").strip()
        if not version:
            raise ValueError(f"{source} item {i}: no tag_name or name")
        releases.append(Release(version, _utc(rec["published_at"], f"{source} item {i}"), str(rec.get("body") or "")))
    return _checked(releases, source)


def _checked(releases: list[Release], source: str) -> list[Release]:
    seen: dict[str, Release] = {}
    for r in releases:
        if version_key(r.version) in seen:
            raise ValueError(f"{source}: version {r.version!r} is listed twice")
        seen[version_key(r.version)] = r
    return sorted(releases, key=lambda r: (r.released_at, r.version))


def read_releases(path: Path) -> list[Release]:
    """`releases.csv`, or a `.json` GitHub releases export."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path.name}: not valid JSON ({exc})") from exc
        return parse_github_releases(records, path.name)
    return parse_releases_csv(text, path.name)


def version_key(version: str) -> str:
    """`v4.2`, `V4.2` and `4.2` name one release."""
    v = version.strip().lower()
    return v[1:] if v.startswith("v") and v[1:2].isdigit() else v


def find_release(releases: Sequence[Release], version: str) -> Release | None:
    return next((r for r in releases if version_key(r.version) == version_key(version)), None)


def release_before(releases: Sequence[Release], at: datetime, within_days: int) -> AfterRelease | None:
    """The latest release at or before `at`, if at most `within_days` earlier."""
    earlier = [r for r in releases if r.released_at <= at]
    if not earlier:
        return None
    latest = max(earlier, key=lambda r: r.released_at)
    gap = at - latest.released_at
    if gap > timedelta(days=within_days):
        return None
    return AfterRelease(latest.version, latest.released_at, gap.days)


def spike_onset(timestamps: Sequence[datetime], baseline: float) -> datetime:
    """When the week's tickets passed the theme's normal weekly volume: the time of ticket
    number floor(baseline) + 1 in time order (the first ticket when the baseline is below 1)."""
    ordered = sorted(timestamps)
    if not ordered:
        raise ValueError("a spike has tickets")
    return ordered[min(math.floor(max(baseline, 0.0)), len(ordered) - 1)]


def describe_after_release(version: str, days_after: int, event: str = "started") -> str:
    """'started 2 days after 4.2' ('the same day as' when under a day)."""
    if days_after == 0:
        return f"{event} the same day as {version}"
    return f"{event} {days_after} day{'' if days_after == 1 else 's'} after {version}"


def fix_status(counts: pd.Series, release: Release, week: date, settings: FixSettings = FixSettings()) -> FixResult:
    """The status of a fix in `release` as of `week`.

    `counts`: the theme's tickets per week (index: week start dates), holding exactly the
    weeks that say something about it: from its first week on, zeros included.
    """
    release_week = monday(release.released_at.date())
    counts = counts[[w <= week for w in counts.index]].sort_index()
    before = counts[[w < release_week for w in counts.index]].iloc[-settings.before_weeks:]
    after = counts[[w > release_week for w in counts.index]]
    base = FixResult(NOT_YET, release.version, None, None, None)
    if not len(before):
        return replace(base, note=f"no tickets in the weeks before {release.version}: nothing to compare")
    if not len(after):
        rate = float(before.mean())
        return replace(base, before_rate=rate, note=f"no full week since {release.version} yet")
    spread = dispersion(before.to_numpy())

    def lower(weeks: pd.Series) -> RateComparison:
        return compare_rates(int(before.sum()), len(before), int(weeks.sum()), len(weeks), "less", spread)

    overall = lower(after)
    result = replace(base, before_rate=overall.before, after_rate=overall.after, p_value=overall.p_value,
                     status=FIXED if overall.p_value < settings.alpha else NOT_YET)
    confirmed = next((j for j in range(1, len(after) + 1) if lower(after.iloc[:j]).p_value < settings.alpha), None)
    if confirmed is None:
        return result
    result = replace(result, confirmed_week=after.index[confirmed - 1])
    return _regression(result, before, after, confirmed, spread, settings)


def _regression(result: FixResult, before: pd.Series, after: pd.Series, confirmed: int, spread: float,
                settings: FixSettings) -> FixResult:
    """The first week after the fix was first seen in which the theme came back (see module doc)."""
    for k in range(confirmed, len(after)):
        count = int(after.iloc[k])
        up = compare_rates(int(after.iloc[:k].sum()), k, count, 1, "greater", spread)
        down = compare_rates(int(before.sum()), len(before), count, 1, "less", spread)
        if up.p_value < settings.regression_max_p and down.p_value >= settings.alpha:
            return replace(result, status=REGRESSED, regressed_week=after.index[k], regressed_count=count,
                            post_fix_rate=up.before, regression_p_value=up.p_value)
    return result


def regression_alert(theme: Mapping[str, Any], result: FixResult) -> dict[str, Any]:
    """The `regression` alert of a theme that came back after its fix, with the fields of every
    alert (core/anomalies.py COLUMNS); one per theme and week it came back."""
    if result.status != REGRESSED or result.regressed_week is None:
        raise ValueError("only a regressed fix raises a regression alert")
    week, theme_id = result.regressed_week, str(theme["theme_id"])
    rate = result.post_fix_rate or 0.0
    return {
        "alert_key": alert_key(theme_id, week, REGRESSION), "week_start": week, "theme_id": theme_id,
        "kind": REGRESSION, "label": theme.get("label"), "tickets": result.regressed_count,
        "customers": theme.get("customers"), "baseline": rate, "ratio": result.regressed_count / max(rate, 1.0),
        "p_value": result.regression_p_value, "customer_baseline": None, "top_customer_tickets": None,
        "concentrated": False, "baseline_weeks": None, "related_theme_ids": [], "related_labels": [],
        "since": None, "related_tickets": [], "example_lines": [], "with_queue": False,
        "example_ticket_ids": [str(t) for t in theme.get("example_ticket_ids") or []][:3],
    }


def describe_regression(alert: Mapping[str, Any], version: str) -> str:
    """The alert as one sentence, e.g. for Slack or a tracker comment."""
    return (f"Regression: '{alert['label']}' came back after the fix in {version}: {alert['tickets']} tickets "
            f"in the week of {alert['week_start']}, against {alert['baseline']:.1f}/week since the fix "
            f"(p = {alert['p_value']:.2g}).")


def fix_statuses(counts: pd.DataFrame, births: Mapping[str, date], fixed_in: Mapping[str, str],
                 releases: Sequence[Release], week: date, settings: FixSettings = FixSettings()) -> dict[str, FixResult]:
    """The fix status of every theme marked fixed (`fixed_in`: theme -> version, after merges).

    `counts`: tickets per theme (rows) and week (columns, week starts) over the history kept.
    """
    out = {}
    for theme_id, version in fixed_in.items():
        release = find_release(releases, version)
        if release is None:
            known = ", ".join(r.version for r in releases[-5:]) or "none"
            out[theme_id] = FixResult(NOT_YET, version, None, None, None,
                                      note=f"release {version} is not in the releases file (latest: {known})")
            continue
        out[theme_id] = fix_status(theme_weeks(counts, theme_id, births.get(theme_id)), release, week, settings)
    return out


def after_release_links(releases: Sequence[Release], starts: Mapping[str, datetime],
                        within_days: int) -> dict[str, AfterRelease]:
    """Per theme, the release it started (or spiked) after; `starts`: theme -> when it began."""
    links = {theme_id: release_before(releases, at, within_days) for theme_id, at in starts.items()}
    return {theme_id: link for theme_id, link in links.items() if link is not None}
