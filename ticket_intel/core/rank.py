"""Rank a week's themes by impact and list what is too small to count.

impact = sum over the theme's distinct customers of (plan weight) x severity weight, i.e.
distinct customers x mean plan weight x severity weight: fifty customers hitting a P1 beat
one customer filing fifty tickets (weights: core/policy.py). Impact counts the customers of one
issue only when the theme is one: a loose theme (`is_loose`: its leading terms are in under
`summarize.LOOSE_SHARE` of its tickets, and its card warns that its label names a minority of
them) has no issue its customers are known to share, while the loosest group gathers the most
customers (on Jest's bug titles, all P1, a loose theme was first in 61 of 273 weeks). So loose
themes are ranked after the others, by impact among themselves: the card's own cut, no new one,
so no card ranks above a theme that is not loose while saying its label names a minority of its
tickets. A theme needs enough tickets from enough customers in the weeks ranked (the week, or a
small queue's last few: `ranking_weeks`) to be ranked; smaller groups, reviewer-rejected themes and
outliers go to the not-a-theme list with their ticket ids, so nothing disappears from view. Every
count comes from the week's theme counts (core/counts.py), but the distinct customers of several
weeks, which do not add up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from ticket_intel.core import counts as tc
from ticket_intel.core.context import WeekContext
from ticket_intel.core.meaning import meaning_text
from ticket_intel.core.policy import PlanPolicy, parse_weights
from ticket_intel.core.rates import (
    OWN,
    Direction,
    DispersionPrior,
    compare_rates,
    dispersion,
    dispersion_prior,
)
from ticket_intel.core.review import UNREVIEWED
from ticket_intel.core.summarize import (
    LOOSE_SHARE,
    MIN_TERM_SHARE,
    counted_similarity,
    distinct_first,
    evidence_rows,
    statements_first,
)
from ticket_intel.core.taxonomy import coverage
from ticket_intel.core.theme_triage import theme_triage
from ticket_intel.core.theme_week import EMPTY, LANGUAGE, UNCLAIMED
from ticket_intel.core.triage_rules import ESCALATION_RULES, Escalation
from ticket_intel.core.vocabulary import (
    DEFAULT_SEVERITY,
    DEFAULT_SIGNAL,
    FALLING,
    NEW,
    NO_HISTORY,
    RISING,
    STEADY,
    plural,
    trend_in_words,
)

OUTLIER_THEME = "outliers"
# A trend word's level, each way: one side of the two-sided 5% that "two standard deviations" meant.
TREND_P = 0.025
# A change is a percentage only on a base of this many tickets: a count of n is known to about
# +-2/sqrt(n) of itself (two Poisson standard errors), over +-63% below 10, where "+500%" on 1 ticket
# says less than the two counts. 10 is also the count a spike needs (docs/alerts.md).
MIN_CHANGE_BASE = 10
MIN_WEEK_TICKETS = "TICKET_INTEL_MIN_WEEK_TICKETS"  # the setting a week too small to rank is told of


def _default_plans() -> PlanPolicy:
    from ticket_intel import settings

    return PlanPolicy.parse(settings.BY_ENV["TICKET_INTEL_PLAN_WEIGHTS"].default)


def _default_severity_weights() -> dict[str, float]:
    from ticket_intel import settings

    return parse_weights(settings.BY_ENV["TICKET_INTEL_SEVERITY_WEIGHTS"].default)


@dataclass(frozen=True)
class RankSettings:
    min_tickets: int = 5
    min_customers: int = 3
    min_week_tickets: int = 30
    severity_weights: Mapping[str, float] = field(default_factory=_default_severity_weights)
    plans: PlanPolicy = field(default_factory=_default_plans)
    trend_baseline_weeks: int = 4
    partitions_start: date | None = None  # the first week a run can run (TICKET_INTEL_PARTITIONS_START)
    run: str = "ticket-intel run"  # the run a hint names, with its inbox and warehouse (`runner.run_command`)


@dataclass
class Ranking:
    ranked: pd.DataFrame
    not_a_theme: pd.DataFrame
    overview: dict[str, object]
    weeks: list[date] = field(default_factory=list)  # the weeks ranked over (`ranking_weeks`); none when too few


@dataclass(frozen=True)
class Trend:
    word: str
    baseline: float | None  # mean tickets per week the word compares against; None when new

    def describe(self, current: int, weeks: int = 1) -> str:
        """The word as a reader sees it (`trend_in_words`) with the numbers it stands for: `rising
        (12 vs 5.2/wk)`; `rising (12 in 6 wks vs 0.8/wk)` when `current` counts several weeks
        (`ranking_weeks`); `no history before these 8 wks` when those weeks are all the data there is
        (a theme of 2023 read "no history, -84% over 4 wks")."""
        if self.word == NO_HISTORY and weeks > 1:
            return f"{NO_HISTORY} before these {weeks} wks"
        shown = trend_in_words(self.word)
        if self.baseline is None:
            return shown
        span = "" if weeks == 1 else f" in {weeks} wks"
        return f"{shown} ({current}{span} vs {self.baseline:.1f}/wk)"


def trend(current: int, history: list[int], born_now: bool, weeks: int = 1, prior: DispersionPrior = OWN) -> Trend:
    """new / rising / steady / falling / no history: `current` tickets over `weeks` weeks against the
    theme's baseline weeks (`history`), whose mean the word states.

    Rising or falling is the exact test of two Poisson rates (core/rates.py, scaled by the baseline
    weeks' dispersion moderated toward `prior`, the week's themes': `trend_prior`), one-sided at
    `TREND_P`: the baseline is a mean of 1-4 weeks, as uncertain as this week, and taking it as exact
    (the rule was two Poisson standard deviations around it) called a steady 5-a-week theme rising in
    22% of the weeks it was ranked. A theme born in those weeks is
    new; with no earlier week of data (a first export, a one-off dump) every theme would be, so its
    trend is "no history".
    """
    if born_now:
        return Trend(NEW, None)
    if not history:
        return Trend(NO_HISTORY, None)
    before, spread = sum(history), dispersion(history, prior)

    def moved(direction: Direction) -> bool:
        return compare_rates(before, len(history), current, weeks, direction, spread).p_value < TREND_P

    word = RISING if moved("greater") else FALLING if moved("less") else STEADY
    return Trend(word, float(np.mean(history)))


def change(count: int, weeks: int, base: int | None, base_weeks: int) -> float | None:
    """The rate of `count` tickets over `weeks` weeks against `base` over `base_weeks`, as a share
    (+0.5: +50%); None when the base is unknown or under `MIN_CHANGE_BASE` tickets, where a reader is
    shown the counts instead: every change shown (a theme's, the week's) is held to this one rule."""
    if base is None or base < MIN_CHANGE_BASE:
        return None
    return count / weeks / (base / base_weeks) - 1


def earlier_span(weeks: int) -> str:
    """What a ranked theme's previous count covers: the week before, or as many weeks before."""
    return "last week" if weeks == 1 else f"the {weeks} weeks before"


def period_note(week: date, weeks: int) -> str | None:
    """What a reader must know when a week's themes are ranked over several weeks."""
    if weeks <= 1:
        return None
    first = week - timedelta(weeks=weeks - 1)
    return (f"This week alone has too few tickets to rank ({MIN_WEEK_TICKETS}), so its themes are "
            f"ranked over the {weeks} weeks {first} to {week}: their tickets, customers and trends, and the counts "
            "under “Not a theme”, are of those weeks. A problem that recurs a few times a week may stay under a "
            f"theme's minimum there: raising {MIN_WEEK_TICKETS} ranks over more weeks.")


def ranking_weeks(ctx: WeekContext, minimum: int) -> list[date]:
    """The weeks a week's themes are ranked over, oldest first: the week alone when it holds
    `minimum` tickets; in a smaller queue, the fewest weeks ending with it, within the window, that
    together do (a team with ten tickets a week sees the themes of its last month rather than
    none); none when the whole window holds fewer."""
    per_week = ctx.window["ticket_week"].value_counts()
    weeks = [w for w in ctx.weeks if w <= ctx.week]
    total = 0
    for n, week in enumerate(reversed(weeks), start=1):
        total += int(per_week.get(week, 0))
        if total >= minimum:
            return weeks[-n:]
    return []


def _not_a_theme_reason(ctx: WeekContext, theme_id: str, tickets: int, customers: int, warning: str | None,
                        settings: RankSettings, terms: Sequence[str] | None = None) -> str | None:
    """Why a group of the week is not ranked, or None. A group whose tickets share no term (no word
    in two of them and `MIN_TERM_SHARE` of them: the summary's c-TF-IDF found none) states no shared
    issue: the clustering grouped them by tone or form ("worst delivery guys", "lost 30 keys wtf";
    GitHub titles "xx", "bug", "Quits on SP11"), and it ranked as "Unlabelled theme". A reviewer who
    named or confirmed it keeps it."""
    if theme_id in ctx.review.not_a_theme:
        return "marked not-a-theme by a reviewer"
    if warning:
        return "week too small to rank"
    if tickets < settings.min_tickets or customers < settings.min_customers:
        return (f"{plural(tickets, 'ticket')} from {plural(customers, 'customer')} (a theme needs "
                f"{settings.min_tickets} tickets from {settings.min_customers} customers)")
    if terms is not None and not len(terms) and ctx.review.status(theme_id) == UNREVIEWED:
        return (f"its tickets share no wording (no word in two of them and {MIN_TERM_SHARE:.0%}): "
                "grouped by tone or form, not by an issue")
    return None


def _volume(ctx: WeekContext, theme_id: str, weeks: Sequence[date], settings: RankSettings,
            prior: DispersionPrior) -> dict[str, Any]:
    """Tickets and customers over the ranked `weeks` (`ranking_weeks`: the week, or a small queue's
    last few), against as many weeks before them, 4-week growth (`_growth`), trend (against
    `_baseline`, its dispersion moderated toward `prior`: `trend_prior`): all from the week's counts
    (`counts`), so the shown count, its change and its trend count the same tickets. The weeks
    before must all hold data: a count over weeks before the data began, or over a gap in the
    exports, is unknown (None), not zero."""
    span, window = len(weeks), ctx.weeks
    tickets = tc.series(ctx.counts, theme_id, window)
    known_before = len(tickets) >= 2 * span and ctx.holds_data(window[-2 * span:-span])
    now = sum(tc.series(ctx.counts, theme_id, weeks))
    # distinct customers do not add up across weeks; one week's are counted already
    customers = (tc.series(ctx.counts, theme_id, weeks, "customers")[0] if span == 1
                 else tc.customers_over(ctx.window, theme_id, weeks))
    prev = int(sum(tickets[-2 * span:-span])) if known_before else None
    born_now = ctx.births.get(theme_id) in weeks and not ctx.reformed(theme_id, settings.min_tickets,
                                                                      settings.min_customers)
    t = trend(now, _baseline(ctx, theme_id, weeks, settings), born_now, span, prior)
    return {
        "tickets": now, "customers": customers, "ranked_weeks": span,
        "tickets_prev_week": prev, "wow_change": change(now, span, prev, span),
        "growth_4w": _growth(ctx, theme_id), "trend": t.word, "trend_baseline": t.baseline,
    }


def _baseline(ctx: WeekContext, theme_id: str, weeks: Sequence[date], settings: RankSettings) -> list[int]:
    """The theme's counts in its last `trend_baseline_weeks` weeks of history before the ranked `weeks`
    (`WeekContext.history_weeks`: a theme the clustering re-formed is no new one, and reads against
    the weeks it was there, as its spike test does)."""
    earlier = [w for w in ctx.history_weeks(theme_id, settings.min_tickets, settings.min_customers) if w < weeks[0]]
    return tc.series(ctx.counts, theme_id, earlier)[-settings.trend_baseline_weeks:]


def trend_prior(ctx: WeekContext, weeks: Sequence[date], settings: RankSettings) -> DispersionPrior:
    """What the baseline weeks of all the window's themes say of one theme's dispersion
    (`rates.dispersion_prior`): 4 weeks are too few to tell a theme's own burstiness from one
    quiet week. Swift's "Protocol · types" read "no clear change (9 vs 1.5/wk)" over weeks 1, 4, 0, 1,
    a dispersion of 2.0 from 3 degrees of freedom that halved its evidence. `OWN` without weeks."""
    if not weeks:
        return OWN
    return dispersion_prior(_baseline(ctx, t, weeks, settings) for t in ctx.counts["theme_id"].unique())


def _growth(ctx: WeekContext, theme_id: str) -> float | None:
    """The theme's tickets a week over the window's last 4 weeks against the 4 before, each over its
    weeks that say something about it (`baseline_weeks`: holding data, since its birth): a gap or a
    week before the theme existed is no week of zero tickets (a theme born this week read "new, +56%
    over 4 weeks"). None without 8 weeks, or without such a week among the 4 before (`change`)."""
    if len(ctx.weeks) < 8:
        return None
    known = {*ctx.baseline_weeks(theme_id), ctx.week}
    last, prior = [w for w in ctx.weeks[-4:] if w in known], [w for w in ctx.weeks[-8:-4] if w in known]
    before = sum(tc.series(ctx.counts, theme_id, prior)) if prior else None
    return change(sum(tc.series(ctx.counts, theme_id, last)), len(last), before, len(prior))


def _impact(group: pd.DataFrame, severity: str, settings: RankSettings) -> dict[str, Any]:
    """Paid share and revenue of the theme's customers, and impact = sum of plan weights x severity."""
    plan = group.drop_duplicates("customer")["plan"].fillna("").str.lower()
    known = plan[plan != ""]
    revenue = group.drop_duplicates("account_id")["monthly_revenue"].dropna()
    weights = plan.map(settings.plans.weight).astype(float)
    return {
        "paid_share": float(known.map(settings.plans.is_paid).mean()) if len(known) else None,
        "plan_known_customers": len(known),
        "revenue": float(revenue.sum()) if len(revenue) else None,
        "impact": float(weights.sum() * settings.severity_weights.get(severity, 1.0)),
    }


def _examples(group: pd.DataFrame, info: Mapping[str, Any]) -> list[str]:
    """The summary's examples that are this week's tickets, then the most central (`similarity`: to the
    centroid of the theme that counts them, `counted_similarity`) of this week's tickets that stand as
    evidence (`evidence_rows`: not the praise or chit-chat a theme absorbed, such as "enjoyed the trip,
    professional crew" in an airline's delay theme), then the rest; three, those that say something (`statements_first`) and different messages from different customers
    (`distinct_first`) first."""
    ordered = group.sort_values(["similarity", "ticket_id"], ascending=[False, True])
    severities = ordered["severity"].tolist() if "severity" in ordered else None
    evidence = ordered["ticket_id"].iloc[evidence_rows(severities, len(ordered))]
    suggested = info.get("example_ticket_ids")
    picked = [] if suggested is None else [t for t in suggested if t in set(group["ticket_id"])]
    text = dict(zip(group["ticket_id"], group["text"], strict=True)) if "text" in group else {}
    stored = dict(zip(group["ticket_id"], group["meaning_text"], strict=True)) if "meaning_text" in group else {}
    candidates = statements_first(list(dict.fromkeys([*picked, *evidence, *ordered["ticket_id"]])),
                                  lambda t: s if isinstance(s := stored.get(t), str) else meaning_text(text.get(t, "")))
    sender = dict(zip(group["ticket_id"], group["customer"], strict=True))
    return distinct_first(candidates, [text.get(t, t) for t in candidates], [sender[t] for t in candidates], 3)


def _theme_row(ctx: WeekContext, theme_id: str, group: pd.DataFrame, info: Mapping[str, Any],
               label: str, volume: Mapping[str, Any], settings: RankSettings, products_listed: bool,
               escalation: Escalation) -> dict[str, Any]:
    severity = info.get("severity") or DEFAULT_SEVERITY
    terms = info.get("terms")
    return {
        "theme_id": theme_id, "label": label, **volume,
        **_impact(group, severity, settings), "severity": severity,
        "signal_type": info.get("signal_type") or DEFAULT_SIGNAL, "product_area": info.get("product_area"),
        "summary": info.get("shared_issue") or "", "example_ticket_ids": _examples(group, info),
        "review_status": ctx.review.status(theme_id, label), **product_breakdown(group, products_listed),
        **theme_triage(group, [] if terms is None else list(terms)[:3], escalation),
    }


def is_loose(described_share: float | None) -> bool:
    """Whether a theme's leading terms describe under `LOOSE_SHARE` of its tickets (the card's
    `described_share`): its label names a minority of them. Unknown (None, NaN) is not loose."""
    return isinstance(described_share, int | float) and described_share < LOOSE_SHARE


LANGUAGE_ROW = "language:"  # a not-a-theme row of the tickets in one language the model does not read


def is_unthemed(theme_id: str) -> bool:
    """A not-a-theme row of tickets in no theme (`_outliers`), not a group that fell short of a theme."""
    return theme_id in (OUTLIER_THEME, EMPTY, UNCLAIMED) or theme_id.startswith(LANGUAGE_ROW)


def _unthemed(rows: pd.DataFrame, theme_id: str, label: str, reason: str) -> dict[str, Any]:
    return {"theme_id": theme_id, "label": label, "tickets": len(rows), "customers": rows["customer"].nunique(),
            "ticket_ids": sorted(rows["ticket_id"]), "reason": reason}


def _outliers(this_week: pd.DataFrame) -> list[dict[str, Any]]:
    """Unclustered tickets, those left out (nothing to read, no product where themes form within
    each), and per language the tickets the embedding model cannot read."""
    unthemed = this_week[this_week["theme_id"].isna()]
    out = []
    why = unthemed["assignment"] if "assignment" in unthemed else pd.Series(None, index=unthemed.index)
    foreign, empty, unclaimed = (why == LANGUAGE) & ("language" in unthemed), why == EMPTY, why == UNCLAIMED
    if (~foreign & ~empty & ~unclaimed).any():
        out.append(_unthemed(unthemed[~foreign & ~empty & ~unclaimed], OUTLIER_THEME, "Unclustered tickets",
                             "outliers: not close enough to any theme"))
    if empty.any():
        out.append(_unthemed(unthemed[empty], "empty", "Tickets with nothing to read",
                             "only a greeting, handles, links or redacted values, or a call's record without a "
                             "transcription: nothing says what the ticket is about (a call reads as the subject an "
                             "agent gives it)"))
    if unclaimed.any():
        out.append(_unthemed(unthemed[unclaimed], UNCLAIMED, "Tickets of no known product",
                             "themes form within each product, and these tickets name none (nor are most of "
                             "their nearest tickets one product's): give them a product (the export's product "
                             "field, or a mapping's), or set TICKET_INTEL_THEMES_BY_PRODUCT=off to theme the "
                             "whole queue together"))
    for code, rows in (unthemed[foreign].groupby("language") if foreign.any() else []):
        name = language_name(str(code))
        out.append(_unthemed(rows, f"{LANGUAGE_ROW}{code}", f"{name} tickets",
                             f"{plural(len(rows), name + ' ticket')}, not themed: the embedding model does not read "
                             f"{name}; configure a multilingual model (TICKET_INTEL_EMBEDDING_MODEL) and "
                             "TICKET_INTEL_EMBEDDING_LANGUAGES=*"))
    return out


def language_name(code: str) -> str:
    """`es` -> `Spanish` (langcodes); the code itself when unknown."""
    import langcodes

    try:
        return langcodes.Language.get(code).display_name()
    except (ValueError, LookupError):
        return code


def product_breakdown(group: pd.DataFrame, listed: bool) -> dict[str, Any]:
    """Where a theme's tickets come from, most first: `product_names` with their `product_counts`,
    and `products`, the two as one line for people (`AppleSupport 12 · AmazonHelp 3`). `listed`:
    the week's tickets name products (or themes formed within each); then a theme's tickets that
    name none say so (`(none) 12`) like every other row: when themes form per product, those are
    the tickets that joined the product their nearest tickets belong to (core/theme_week.py)."""
    if not listed or "product" not in group:
        return {"products": None, "product_names": None, "product_counts": None}
    counts = group["product"].fillna("(none)").value_counts()
    return {"products": " · ".join(product_lines(counts.index, counts.to_numpy())),
            "product_names": counts.index.tolist(), "product_counts": counts.astype(int).tolist()}


def product_lines(names: Sequence[str] | None, counts: Sequence[int] | None) -> list[str]:
    """One "name count" per product, as a table shows them line by line (none for a theme that
    lists no products: a missing list reads back as None or NaN)."""
    if not all(isinstance(v, list | tuple | np.ndarray | pd.Index) for v in (names, counts)):
        return []
    return [f"{name} {int(n)}" for name, n in zip(names, counts, strict=True)]


def several_products(names: Iterable[Sequence[str] | None]) -> bool:
    """Whether the themes' `product_names` hold more than one product, `(none)` included: only then
    does a table need a products column."""
    return len({n for listed in names if isinstance(listed, list | tuple | np.ndarray) for n in listed}) > 1


def rank_week(ctx: WeekContext, summaries: pd.DataFrame, settings: RankSettings = RankSettings(),
              escalation: Escalation = ESCALATION_RULES) -> Ranking:
    """Rank the themes of `ctx.week`; `summaries`: one row per theme (label, severity, signal_type,
    product_area, shared_issue, example_ticket_ids); `escalation`: the signals' rules triage read."""
    this_week = ctx.this_week
    info_of = {r["theme_id"]: r for r in summaries.to_dict("records")} if len(summaries) else {}
    weeks = ranking_weeks(ctx, settings.min_week_tickets)
    warning = None if weeks else _too_few(ctx, len(this_week), settings, info_of)
    tickets = ctx.tickets_in(weeks)
    if weeks:  # every figure of a row counts the tickets the counts do (a small queue's earlier weeks differ)
        tickets = tickets.assign(theme_id=tickets["series_theme_id"],
                                 similarity=counted_similarity(ctx.window, ctx.vectors).loc[tickets.index])
    rows, small, loose = [], [], {}
    prior = trend_prior(ctx, weeks, settings)
    listed = ctx.products_apart or ("product" in tickets and bool(tickets["product"].notna().any()))
    for theme_id, group in tickets[tickets["theme_id"].notna()].groupby("theme_id"):
        info = info_of.get(theme_id, {})
        label = ctx.review.labels.get(theme_id) or info.get("label") or theme_id
        # The minimum is held to the figures a ranked theme shows (`_volume`, by series): gated on the
        # tickets hysteresis kept in it, a theme ranked showing 4 tickets under a minimum of 5.
        volume = _volume(ctx, theme_id, weeks, settings, prior) if weeks else {}
        n, customers = volume.get("tickets", len(group)), volume.get("customers", group["customer"].nunique())
        reason = _not_a_theme_reason(ctx, theme_id, n, customers, warning, settings, info.get("terms"))
        if reason:
            small.append({"theme_id": theme_id, "label": label, "tickets": n, "customers": customers,
                          "ticket_ids": sorted(group["ticket_id"]), "reason": reason})
        else:
            rows.append(_theme_row(ctx, theme_id, group, info, label, volume, settings, listed, escalation))
            loose[theme_id] = is_loose(info.get("described_share"))
    small += _outliers(tickets)
    ranked, last_week = pd.DataFrame(rows), ctx.week - timedelta(weeks=1)
    if len(ranked):
        ranked = (ranked.assign(loose=ranked["theme_id"].map(loose))
                  .sort_values(["loose", "impact", "tickets", "theme_id"], ascending=[True, False, False, True])
                  .drop(columns="loose"))
        ranked.insert(0, "rank", range(1, len(ranked) + 1))
    overview = {
        "tickets": len(this_week), "customers": int(this_week["customer"].nunique()),
        "tickets_prev_week": int((ctx.window["ticket_week"] == last_week).sum())
        if ctx.holds_data([last_week]) else None,
        "themes": len(ranked), "outlier_tickets": int(this_week["theme_id"].isna().sum()), "warning": warning,
        "ranked_tickets": int(this_week["theme_id"].isin(set(ranked["theme_id"]) if len(ranked) else set()).sum()),
        "taxonomy_coverage": coverage(ranked["product_area"].tolist(), ranked["tickets"].tolist()) if len(ranked) else None,
    }
    return Ranking(ranked=ranked.reset_index(drop=True), not_a_theme=pd.DataFrame(small), overview=overview,
                   weeks=weeks)


def _too_few(ctx: WeekContext, week_tickets: int, settings: RankSettings, info_of: Mapping[str, Any]) -> str:
    """Why a week is not ranked: even the window's weeks up to it hold fewer than the minimum tickets;
    which products those are and what ranks them, said once where it is read (a small product's
    warehouse had an empty report every week, the settings that fix it named in none)."""
    held = ctx.window[ctx.window["ticket_week"] <= ctx.week]
    window = f" and {len(held)} in the window's {len(ctx.weeks)} weeks" if len(held) > week_tickets else ""
    named = held["product"].dropna().value_counts() if "product" in held else pd.Series(dtype=int)
    products = f"; by product: {' · '.join(product_lines(named.index, named.to_numpy()))}" if len(named) else ""
    return (f"only {plural(week_tickets, 'ticket')} this week{window} (fewer than {settings.min_week_tickets}"
            f"{products}): too few to rank themes{_what_ranks(ctx, held, settings, info_of)}")


def _what_ranks(ctx: WeekContext, held: pd.DataFrame, settings: RankSettings, info_of: Mapping[str, Any]) -> str:
    """The end of a too-small week's warning: the minimum that ranks the window's `held` tickets when a
    theme of theirs would then rank, and what brings more tickets when there are some to have
    (`_more_tickets`); else why no lower minimum ranks any. Only what would rank something is named:
    Swift's first week, 8 outliers in an inbox that held no earlier ticket, was told to lower the
    minimum to 8 or to run the inbox's earlier weeks."""
    begins = held["ticket_week"].min() if len(held) else ctx.week
    more = _more_tickets(ctx, len(held), begins, settings)
    if _ranks_some(ctx, ranking_weeks(ctx, len(held)), settings, info_of):
        return f"; {MIN_WEEK_TICKETS}={len(held)}{f', or {more},' if more else ''} ranks them"
    none = ("none of them is in a theme" if held["series_theme_id"].isna().all() else
            "none of their themes would rank over them (too small, without shared wording, or marked not-a-theme)")
    rest = f"; {more} may rank some" if more else f" ({_no_more(ctx, len(held), begins, settings)})"
    return f", and {none}, so no lower {MIN_WEEK_TICKETS} ranks any{rest}"


def _ranks_some(ctx: WeekContext, weeks: Sequence[date], settings: RankSettings, info_of: Mapping[str, Any]) -> bool:
    """Whether a theme of the tickets of `weeks` would be ranked over them (`rank_week`'s test of each)."""
    prior = trend_prior(ctx, weeks, settings)

    def ranks(theme_id: str) -> bool:
        volume = _volume(ctx, theme_id, weeks, settings, prior)
        return _not_a_theme_reason(ctx, theme_id, volume["tickets"], volume["customers"], None, settings,
                                   info_of.get(theme_id, {}).get("terms")) is None
    return any(ranks(t) for t in ctx.tickets_in(weeks)["series_theme_id"].dropna().unique())


def _more_tickets(ctx: WeekContext, held: int, begins: date, settings: RankSettings) -> str | None:
    """What brings the window more tickets: a longer window where its first week holds some; where the
    data begins inside it (a longer one reaches no more: Prisma's run of 2024-06-03.. was told to
    lengthen it), running the window's earlier weeks of the inbox with this week, when their tickets
    (`ctx.inbox_counts`) bring the `held` ones to the minimum, from an earlier partitions start when
    they are before it. twcs' first week, 5 tickets, was told to run `--weeks 2017-01-30..2017-09-18`,
    weeks before the partitions that the run refused, whose 3 tickets in the window make 8 of 30."""
    if begins <= ctx.weeks[0]:
        return f"a longer TICKET_INTEL_WINDOW_WEEKS (now {len(ctx.weeks)})"
    if ctx.inbox_counts is None:
        return (f"running the inbox's earlier weeks if it has any (`{settings.run} --weeks`; the warehouse's tickets "
                f"begin in the week of {begins})")
    earlier = _inbox_before(ctx, begins)
    if not earlier or held + sum(earlier.values()) < settings.min_week_tickets:
        return None
    first = min(earlier)
    start = f"TICKET_INTEL_PARTITIONS_START={first} " if settings.partitions_start and first < settings.partitions_start else ""
    return (f"running the window's {plural(sum(earlier.values()), 'earlier ticket')} of the inbox with this week "
            f"(`{start}{settings.run} --weeks {first}..{ctx.week}`)")


def _inbox_before(ctx: WeekContext, begins: date) -> dict[date, int]:
    """The inbox's tickets per week in the window's weeks before `begins` (none when not known)."""
    return {w: n for w, n in (ctx.inbox_counts or {}).items() if ctx.weeks[0] <= w < begins}


def _no_more(ctx: WeekContext, held: int, begins: date, settings: RankSettings) -> str:
    """Why no earlier week of the inbox helps (`_more_tickets` found none that would)."""
    earlier = sum(_inbox_before(ctx, begins).values())
    if not earlier:
        return f"the inbox holds no ticket in the window's weeks before the week of {begins}"
    return (f"the inbox's {plural(earlier, 'ticket')} of the window's earlier weeks would make {held + earlier}, "
            f"fewer than {settings.min_week_tickets}")
