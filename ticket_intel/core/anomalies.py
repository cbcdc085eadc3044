"""Volume spikes and new patterns, as plain statistics on weekly theme counts.

A spike needs all of: a count of at least `min_count`, at least `min_ratio` times the
theme's baseline (mean of its last `baseline_weeks` eligible weeks), and an upper-tail
probability of that count under the baseline below `max_p_value`. Ratio alone alerts on tiny
themes (1 -> 3); the p-value alone alerts on big themes moving by a few percent; together they
flag what a person would call a spike.

Only weeks that say something about the theme form its baseline: weeks that hold data (a week
before the first export is unknown, not zero) and, for a theme born without an ancestor, weeks
since its birth (before it, the theme did not exist). With fewer than `min_baseline_weeks` such
weeks there is no baseline, so no spike: a theme must first show what normal looks like. Nor does a
week that spiked (`spiked`): the baseline is the theme's normal weeks, and a spike that follows spiked
weeks, with at most `EVENT_GAP_WEEKS` quiet week between, continues their event (`event_start`;
`since`: the week it began).

Weekly counts are burstier than Poisson (releases, outages, one customer filing many tickets).
The ratio and count floors carry most of that: on large themes the ratio decides, and the tail
only decides near the floor, where counts are small. The tail is a setting: `poisson` (default)
or `negative_binomial`, whose variance is the baseline weeks' own variance (never below the
mean) widened by the uncertainty of a mean of n weeks (x (1 + 1/n)). On real series Poisson
keeps within the false-alert budget and finds the 3x spikes; the negative binomial alerts less
but misses many 3x spikes, since six weeks give a noisy variance (`docs/alerts.md`).

Distinct customers are tested the same way beside tickets. A ticket spike whose customer count
does not spike is still sent (someone must triage the tickets) but flagged `concentrated`, with
the largest customer's ticket count, so a reader sees "13 customers", not "84 tickets". A new
pattern is flagged the same way when one customer filed most of its tickets (one GitHub reporter
filed 16 of a new TensorFlow theme's 21 issues).

A new pattern is a theme born without an ancestor (not a split, unless it is born apart:
`born_apart`, core/families.py) after theme tracking began (in
the first week every theme is born, so none is new), the first week it is a theme: ranked now
with enough tickets from enough customers, never ranked before, and its tickets never that
many in an earlier week of the window (else the pattern was there all along and only its
clustering is new).

A week whose whole queue surged (a release, a conference, an outage of everything) is one alert,
`queue_surge`, one per week and scope (the product when themes form per product, else the whole
queue): the scope's tickets spiked against its own usual weeks by the spike test (`queue_surges`).
A theme spike that week is also tested against its baseline scaled by the growth of the queue
around it (`queue_scale`): one that passes pages as any spike; one that does not rose with the
queue (`with_queue`), and is recorded and told in the surge alert, not paged on its own. A week
whose queue did not surge takes the spike path alone.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import nbinom, poisson

from ticket_intel.core import counts as tc
from ticket_intel.core.context import WeekContext
from ticket_intel.core.subgroups import NEW_GROUP

SPIKE = "volume_spike"
NEW_PATTERN = "new_pattern"
QUEUE_SURGE = "queue_surge"
POISSON = "poisson"
NEGATIVE_BINOMIAL = "negative_binomial"
DISTRIBUTIONS = (POISSON, NEGATIVE_BINOMIAL)
# Weeks in a row without a spike that an event continues across: one quiet week between spiked weeks may be
# a lull of the same issue, so an event ends only when a second week confirms the return (docs/alerts.md).
EVENT_GAP_WEEKS = 1

COLUMNS = [
    "alert_key", "week_start", "theme_id", "kind", "label", "tickets", "customers", "baseline", "ratio",
    "p_value", "customer_baseline", "top_customer_tickets", "concentrated", "baseline_weeks", "example_ticket_ids",
    "related_theme_ids", "related_labels", "since", "related_tickets", "example_lines", "with_queue",
]
# An example's first line quoted in a page, shortened to this many characters: three of them keep a
# page's text near 1,000 characters, well inside Slack's 4,000 for a message's text.
EXAMPLE_CHARS = 100


def began_before(since: Any, week: Any) -> bool:
    """Whether an alert's tickets count from before its week (`since`: a new group found over two
    weeks), whichever way the alert carries its dates: `datetime.date` in the warehouse, ISO strings
    in the UI's and the webhooks' payloads, a missing value (None, NaT) for an alert of one week."""
    return since is not None and not pd.isna(since) and pd.Timestamp(since).date() < pd.Timestamp(week).date()


def continuing(alert: Mapping[str, Any]) -> bool:
    """Whether an alert is a spike or a queue surge that continues the event of the weeks before it
    (`since`, the week it began): reported, and a spike told to the theme's tracker issue, but not paged
    again when its first week was (docs/alerts.md)."""
    return alert["kind"] in (SPIKE, QUEUE_SURGE) and began_before(alert.get("since"), alert["week_start"])


def first_key(alert: Mapping[str, Any]) -> str:
    """The key of the first week's alert of the event a continuing alert belongs to."""
    began = pd.Timestamp(alert["since"]).date()
    if alert["kind"] == QUEUE_SURGE:
        return surge_key(alert["label"] if isinstance(alert.get("label"), str) else "", began)
    return alert_key(alert["theme_id"], began, alert["kind"])


def rose_with_queue(alert: Mapping[str, Any]) -> bool:
    """Whether an alert is a spike that rose with a surge of its queue (`with_queue`): reported, and
    told in the week's `queue_surge` alert, not paged on its own; False for a row stored before."""
    value = alert.get("with_queue")
    return alert["kind"] == SPIKE and value is not None and not pd.isna(value) and bool(value)


def scope_name(alert: Mapping[str, Any]) -> str:
    """A queue surge's scope as a sentence names it: the whole queue, or a product's (its `label`)."""
    label = alert.get("label")
    return f"Product {label}'s queue" if isinstance(label, str) and label else "The whole queue"


def named(alerts: Sequence[Mapping[str, Any]], label_of: Mapping[str, str]) -> list[dict[str, Any]]:
    """Each alert with its related themes' labels (`label_of`: their labels in the alert's week, or
    the last week they had tickets), in the order of their ids, None where a theme has none: "a new
    group inside T20171016-00" tells a reader nothing of what that is."""
    return [{**a, "related_labels": [label_of.get(str(t)) for t in a["related_theme_ids"]]} for a in alerts]


def listed(alert: Mapping[str, Any], key: str) -> list[Any]:
    """An alert's list field as a list, whichever way it arrives: a list, an array read back from the
    warehouse, or missing (None, NaN) in a row stored before the field existed."""
    value = alert.get(key)
    return [] if value is None or (isinstance(value, float) and pd.isna(value)) else list(value)


def related_counts(alert: Mapping[str, Any]) -> list[int] | None:
    """A family spike's other pieces' tickets of its week, in the order of `related_theme_ids`; None when
    the alert counts none of its related themes' tickets (a new group's parent) or was stored before
    alerts kept them. The lead piece holds the rest of `tickets`."""
    counts, ids = listed(alert, "related_tickets"), listed(alert, "related_theme_ids")
    return [int(n) for n in counts] if counts and len(counts) == len(ids) else None


def related_themes(alert: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """An alert's related themes, each with its label where the alert kept one (None for a theme
    without one, or an alert stored before alerts kept labels)."""
    ids, labels = (listed(alert, k) for k in ("related_theme_ids", "related_labels"))
    labels += [None] * (len(ids) - len(labels))  # lists or, read back from the warehouse, arrays
    return [(str(t), label) for t, label in zip(ids, labels, strict=True)]


def related_names(alert: Mapping[str, Any]) -> list[str]:
    """An alert's related themes as a sentence names them: "label" (id), or the id alone."""
    return [f"\u201c{label}\u201d ({t})" if label else t for t, label in related_themes(alert)]


@dataclass(frozen=True)
class AlertSettings:
    min_ratio: float = 2.0
    max_p_value: float = 0.01
    min_count: int = 10
    baseline_weeks: int = 6
    min_baseline_weeks: int = 4
    distribution: str = POISSON
    baseline_floor: float = 1.0  # a baseline below 1 ticket a week is treated as 1
    new_min_tickets: int = 5
    new_min_customers: int = 3

    def __post_init__(self) -> None:
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {', '.join(DISTRIBUTIONS)}, not {self.distribution!r}")
        if not 1 <= self.min_baseline_weeks <= self.baseline_weeks:
            raise ValueError("need 1 <= min_baseline_weeks <= baseline_weeks")


@dataclass(frozen=True)
class SpikeTest:
    count: int
    baseline: float  # mean of the baseline weeks (0 when there are none)
    ratio: float | None  # count / max(baseline, floor); None without a baseline
    p_value: float | None  # P(X >= count) under the baseline; None without a baseline
    weeks: int  # baseline weeks used
    is_spike: bool


def tail_probability(count: int, baseline: Sequence[float], settings: AlertSettings = AlertSettings(),
                     weeks: int = 1) -> float:
    """P(X >= count) for the count X of the next `weeks` weeks given the baseline weeks' counts: X
    expects `weeks` times their mean, so a count of two weeks is not held to one week's rate."""
    if count <= 0:
        return 1.0
    values = np.asarray(baseline, dtype=float)
    rate = max(float(values.mean()), settings.baseline_floor)
    mean = weeks * rate
    if settings.distribution == POISSON:
        return float(poisson.sf(count - 1, mean))
    n = len(values)
    spread = max(float(values.var(ddof=1)) if n > 1 else 0.0, rate)
    # Each week adds its own variance; the mean's uncertainty (variance / n) is shared by all of them.
    variance = weeks * spread * (1 + weeks / n)
    # scipy's nbinom(r, p) has mean r(1-p)/p and variance r(1-p)/p^2.
    p = mean / variance
    return float(nbinom.sf(count - 1, mean * p / (1 - p), p))


def spike_test(count: int, history: Sequence[int], settings: AlertSettings = AlertSettings(),
               min_count: int | None = None) -> SpikeTest:
    """Test `count` against the last `baseline_weeks` entries of `history` (eligible weeks only,
    oldest first). `min_count` overrides the setting (customer counts use 0)."""
    window = list(history)[-settings.baseline_weeks:]
    if len(window) < settings.min_baseline_weeks:
        return SpikeTest(count, float(np.mean(window)) if window else 0.0, None, None, len(window), False)
    baseline = float(np.mean(window))
    ratio = count / max(baseline, settings.baseline_floor)
    p_value = tail_probability(count, window, settings)
    floor = settings.min_count if min_count is None else min_count
    is_spike = count >= floor and ratio >= settings.min_ratio and p_value < settings.max_p_value
    return SpikeTest(count, baseline, ratio, p_value, len(window), is_spike)


def example_lines(window: pd.DataFrame, ids: Sequence[str]) -> list[str]:
    """Each example's redacted first line, shortened to `EXAMPLE_CHARS` ("" for a ticket without text in
    the window): a page that lists bare ids makes its reader click through to learn what broke."""
    rows = window[window["ticket_id"].isin(ids)] if "text" in window else window.iloc[:0]
    text = dict(zip(rows["ticket_id"], rows["text"], strict=True)) if len(rows) else {}
    first = (next((line for line in str(text.get(t) or "").splitlines() if line.strip()), "") for t in ids)
    return [textwrap.shorten(line, EXAMPLE_CHARS, placeholder=" \u2026") for line in first]


def alert_key(theme_id: str, week: date, kind: str) -> str:
    """One alert per (theme, week, kind): recomputing a week yields the same keys."""
    return f"{theme_id}|{week.isoformat()}|{kind}"


def surge_key(scope: str, week: date) -> str:
    """A queue surge's key, one per (scope, week): "queue|2024-06-10|queue_surge" for the whole queue,
    "queue:<product>|…" for a product's."""
    return alert_key(f"queue:{scope}" if scope else "queue", week, QUEUE_SURGE)


def born_apart(ctx: WeekContext, settings: AlertSettings) -> dict[str, str]:
    """Pieces split off this week that are a new issue, not a piece of their family (core/families.py):
    theme -> family. The window's earlier weeks hold fewer of its tickets than a theme needs, and
    this week's count is beyond what their rate predicts (the spike test's tail)."""
    week, earlier = pd.Timestamp(ctx.week), [w for w in ctx.data_weeks if w < ctx.week]
    out = {}
    for theme, family in ctx.families.items():
        if theme == family or pd.Timestamp(ctx.first_seen.get(theme, pd.NaT)) != week:
            continue
        before = tc.series(ctx.counts, theme, earlier)
        count = tc.series(ctx.counts, theme, [ctx.week])[0]
        few = bool(earlier) and sum(before) < settings.new_min_tickets
        if few and tail_probability(count, before, settings) < settings.max_p_value:
            out[theme] = family
    return out


def _new_pattern(ctx: WeekContext, theme: Mapping[str, Any], settings: AlertSettings, top_customer: int
                 ) -> dict[str, Any] | None:
    """The alert's counts when the theme is a new pattern: born after tracking began, in the first week
    it is a theme (ranked, theme-sized, never theme-sized before), and beyond what the rate of its
    earlier tickets predicts (the spike test's tail, as for a piece born apart): a trickle of 2-4 a
    week that a refit first gathers into a theme is not new (docs/alerts.md, "What is a new
    pattern"). A new group found over two weeks counts both (`started`), against two weeks' worth of
    that rate."""
    theme_id = str(theme["theme_id"])
    if ctx.births.get(theme_id) is None or theme_id in ctx.ranked_before:
        return None
    since = started(ctx, theme_id)
    counted = {"since": since, "tickets": int(theme["tickets"]), "customers": int(theme["customers"]),
               "top_customer_tickets": top_customer}
    if since < ctx.week:
        rows = ctx.window[(ctx.window["series_theme_id"] == theme_id) & (ctx.window["ticket_week"] >= since)]
        per_customer = rows["customer"].value_counts()
        counted.update(tickets=len(rows), customers=len(per_customer), top_customer_tickets=int(per_customer.max()))
    earlier = [w for w in ctx.data_weeks if w < since]
    tickets, before = counted["tickets"], tc.series(ctx.counts, theme_id, earlier)
    weeks = (ctx.week - since).days // 7 + 1  # the weeks its tickets are counted over
    p_value = tail_probability(tickets, before, settings, weeks) if earlier else None
    new = (tickets >= settings.new_min_tickets and counted["customers"] >= settings.new_min_customers
           and not tc.sized_in(ctx.counts, theme_id, earlier, settings.new_min_tickets, settings.new_min_customers)
           and (p_value is None or p_value < settings.max_p_value))
    # Its earlier tickets' rate is the alert's baseline: "never seen before" only when there were none.
    return {**counted, "baseline": float(np.mean(before)) if earlier else 0.0, "baseline_weeks": len(earlier),
            "p_value": p_value} if new else None


def started(ctx: WeekContext, theme_id: str) -> date:
    """The week a new pattern's tickets count from: last week for a new group found this week over
    two weeks' tickets (core/subgroups.py: an issue too small to be a group in its first week),
    else this week."""
    last = ctx.week - timedelta(weeks=1)
    if ctx.origins.get(theme_id) == NEW_GROUP and ctx.births.get(theme_id) == ctx.week and \
            tc.series(ctx.counts, theme_id, [last])[0] > 0:
        return last
    return ctx.week


def spiked(history: Sequence[int], settings: AlertSettings = AlertSettings()) -> list[bool]:
    """Which of a theme's eligible weeks (oldest first) spiked against the weeks before them that did
    not: a baseline describes normal weeks, so a spike stays out of the baseline of the weeks after it
    (PowerToys' 'Run · crashes', 33 against 7.8, made the next week's baseline 9.8)."""
    flags: list[bool] = []
    for k, count in enumerate(history):
        normal = [c for c, f in zip(history[:k], flags, strict=True) if not f]
        flags.append(spike_test(count, normal, settings).is_spike)
    return flags


def event_start(flags: Sequence[bool]) -> int | None:
    """The index of the first week of the event that a spike after `flags` (whether each eligible week,
    oldest first, spiked) continues, or None when it begins one: the last run of spiked weeks, taken
    across quiet spells of at most `EVENT_GAP_WEEKS` weeks (PowerToys' Awake tray icon, 11 and 12
    tickets, then 4, then 12 again, paged twice for one bug)."""
    began, quiet = None, 0
    for k in range(len(flags) - 1, -1, -1):
        quiet = 0 if flags[k] else quiet + 1
        if quiet > EVENT_GAP_WEEKS:
            break
        began = k if flags[k] else began
    return began


def _history(ctx: WeekContext, theme_id: str, settings: AlertSettings) -> list[date]:
    """The theme's eligible weeks (`WeekContext.history_weeks`): all the window's weeks of data for a
    theme the clustering re-formed, the pattern there all along (Next.js' 'Edge · memory', 15 tickets
    at its birth after 8, 9, 8, 5, 3 and 1, raised nothing). A new group is not re-formed: its test
    found its tickets unlike the earlier ones."""
    return ctx.history_weeks(theme_id, settings.new_min_tickets, settings.new_min_customers)


def _spike(ctx: WeekContext, theme: Mapping[str, Any], settings: AlertSettings,
           surged: Mapping[str, object]) -> dict[str, Any] | None:
    """A spike against the theme's normal weeks; one that follows spiked weeks (`event_start`) continues
    their event, which began (`since`) at the first of them. In a week its queue surged (`surged`), one
    that does not spike against its baseline scaled by the queue around it rose `with_queue`."""
    theme_id = str(theme["theme_id"])
    weeks = _history(ctx, theme_id, settings)
    flags = spiked(tc.series(ctx.counts, theme_id, weeks), settings)
    normal = [w for w, f in zip(weeks, flags, strict=True) if not f]
    test = spike_test(int(theme["tickets"]), tc.series(ctx.counts, theme_id, normal), settings)
    if not test.is_spike:
        return None
    by_customer = spike_test(int(theme["customers"]), tc.series(ctx.counts, theme_id, normal, "customers"),
                             settings, min_count=0)
    began = event_start(flags)
    with_queue = bool(surged) and theme_scope(ctx, theme_id) in surged and not _beyond_queue(ctx, theme_id, test.count, normal, settings)
    return {"kind": SPIKE, "baseline": test.baseline, "ratio": test.ratio, "p_value": test.p_value,
            "customer_baseline": by_customer.baseline, "concentrated": not by_customer.is_spike,
            "baseline_weeks": test.weeks, "since": None if began is None else weeks[began], "with_queue": with_queue}


def queue_scale(now: np.ndarray, usual: np.ndarray, settings: AlertSettings = AlertSettings()) -> float:
    """How many times its usual size the queue around a theme is this week when it surged, else 1 (`now`:
    each other series' tickets this week; `usual`: theirs in the theme's baseline weeks, series x weeks).

    The queue around surged when its tickets are beyond their usual weeks by the spike test's own tail,
    and by how much is the median of the series' growth, each against its mean and weighted by it (a
    series of 0.3 a week says little), not the total's: a surge lifts the themes together, where one new
    issue lifts the total alone (PowerToys' new Workspaces module, 43 of 2024-09-02's 102 titles, made
    the total 2.5x). Never below 1: a theme that held steady while the others fell is not news."""
    rates = usual.mean(axis=1) if usual.shape[1] else np.zeros(len(usual))
    existed = rates > 0  # a series with no tickets then has no rate to grow from
    if not existed.any() or tail_probability(int(now.sum()), usual.sum(axis=0), settings) >= settings.max_p_value:
        return 1.0
    growth, weight = now[existed] / rates[existed], rates[existed]
    order = np.argsort(growth)
    half = np.searchsorted(np.cumsum(weight[order]), weight.sum() / 2)
    return max(1.0, float(growth[order][half]))


def beyond_queue(count: int, usual: Sequence[float], around_now: np.ndarray, around_usual: np.ndarray,
                 settings: AlertSettings) -> bool:
    """Whether `count` spikes against the `usual` weeks' counts scaled by the queue around them
    (`queue_scale` of `around_now` against `around_usual`): a theme that grew more than that queue."""
    scale = queue_scale(around_now, around_usual, settings)
    return spike_test(count, [n * scale for n in usual], settings).is_spike


def _beyond_queue(ctx: WeekContext, theme_id: str, count: int, normal: Sequence[date], settings: AlertSettings
                  ) -> bool:
    """`beyond_queue` for a theme of the week, on its baseline weeks and the other series of its scope."""
    kept = list(normal)[-settings.baseline_weeks:]
    queue = tc.around(ctx.queue, theme_id, [*kept, ctx.week])
    return beyond_queue(count, tc.series(ctx.counts, theme_id, kept), queue[:, -1], queue[:, :-1], settings)


def theme_scope(ctx: WeekContext, theme_id: str) -> str:
    """The scope that holds most of a theme's tickets this week (`counts.queue_counts`)."""
    rows = ctx.queue[(ctx.queue["theme_id"] == theme_id) & (ctx.queue["ticket_week"] == ctx.week)]
    return str(rows.loc[rows["tickets"].idxmax(), "scope"]) if len(rows) else ""


def against_usual(count: int, history: Sequence[int], settings: AlertSettings) -> tuple[SpikeTest, int | None]:
    """The spike test of `count` against the weeks of `history` (oldest first) that did not spike, and the
    index of the first week of the event it continues (`event_start`), None when it begins one."""
    flags = spiked(history, settings)
    test = spike_test(count, [n for n, f in zip(history, flags, strict=True) if not f], settings)
    return test, event_start(flags)


def queue_test(ctx: WeekContext, scope: str, settings: AlertSettings, leave_out: frozenset[str] = frozenset()
               ) -> tuple[SpikeTest, date | None]:
    """A scope's tickets this week, less the series in `leave_out`, against the window's earlier weeks of
    data (`against_usual`): the spike test a theme's count takes, on the queue; with the week its event
    began when it continues one (Swift's WWDC weeks, 2024-06-10 and 06-17)."""
    rows = ctx.queue[(ctx.queue["scope"] == scope) & ~ctx.queue["theme_id"].isin(leave_out)]
    by_week = rows.groupby("ticket_week")["tickets"].sum()
    weeks = [w for w in ctx.data_weeks if w < ctx.week]
    test, began = against_usual(int(by_week.get(ctx.week, 0)), [int(by_week.get(w, 0)) for w in weeks], settings)
    return test, None if began is None else weeks[began]


def queue_surges(ctx: WeekContext, settings: AlertSettings) -> dict[str, tuple[SpikeTest, date | None]]:
    """The scopes whose queue spiked this week, with their tests and the week each event began (`queue_test`)."""
    scopes = sorted(set(ctx.queue.loc[ctx.queue["ticket_week"] == ctx.week, "scope"]))
    tests = {scope: queue_test(ctx, scope, settings) for scope in scopes}
    return {scope: test for scope, test in tests.items() if test[0].is_spike}


def week_themes(ctx: WeekContext, themes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The ranked themes with the week's own tickets and customers: a small queue's ranking counts
    several weeks (`ranked_weeks`), and a spike or a new pattern is a fact about the week."""
    return [dict(t) if tc.ranked_weeks(t) == 1 else
            {**t, "tickets": tc.series(ctx.counts, str(t["theme_id"]), [ctx.week])[0],
             "customers": tc.series(ctx.counts, str(t["theme_id"]), [ctx.week], "customers")[0]}
            for t in themes]


def detect(ctx: WeekContext, themes: Sequence[Mapping[str, Any]], settings: AlertSettings = AlertSettings(),
           counted_apart: frozenset[str] = frozenset(),
           surged: Mapping[str, tuple[SpikeTest, date | None]] | None = None) -> list[dict[str, Any]]:
    """Alerts for `ctx.week`, as records with the `COLUMNS` fields.

    `themes`: this week's ranked themes (theme_id, label, tickets, customers, example_ticket_ids).
    A pattern is new once, the first week it is a theme, even if its id was born a week before
    at 3 tickets (`ctx.ranked_before`). `counted_apart`: themes whose spike is counted with their
    family's (core/families.py), tested here as new patterns only. `surged`: the week's
    `queue_surges` when the caller has them (a family's relabelled window has the same scopes' totals).
    """
    this_week = ctx.this_week[ctx.this_week["theme_id"].notna()]
    top_customer = this_week.groupby(["theme_id", "customer"]).size().groupby(level=0).max()
    surged = queue_surges(ctx, settings) if surged is None else surged
    alerts: list[dict[str, Any]] = []
    for theme in themes:
        theme_id = str(theme["theme_id"])
        examples = [] if theme.get("example_ticket_ids") is None else [str(t) for t in theme["example_ticket_ids"]][:3]
        base = {
            "week_start": ctx.week, "theme_id": theme_id, "label": theme.get("label"),
            "tickets": int(theme["tickets"]), "customers": int(theme["customers"]),
            "top_customer_tickets": int(top_customer.get(theme_id, 0)),
            "example_ticket_ids": examples, "example_lines": example_lines(ctx.window, examples),
            "related_theme_ids": [], "related_labels": [],  # filled in by core/families.py
            "since": None, "related_tickets": [], "with_queue": False,
        }
        pattern = _new_pattern(ctx, theme, settings, base["top_customer_tickets"])
        if pattern is not None:
            base.update(pattern)
            found: dict[str, Any] | None = {
                "kind": NEW_PATTERN, "ratio": None, "customer_baseline": 0.0,
                "concentrated": 2 * base["top_customer_tickets"] > base["tickets"]}
        else:
            found = None if theme_id in counted_apart else _spike(ctx, theme, settings, surged)
        if found is not None:
            alerts.append({**base, **found, "alert_key": alert_key(theme_id, ctx.week, found["kind"])})
    return alerts
