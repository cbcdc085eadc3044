"""A week's closing-the-loop findings, computed once when the week is ranked (docs/loop.md).

From the week's context (core/context.py: the window, its vectors, counts, births and review),
the ranked themes, their summaries and the product inputs (help-center articles and their
vectors, releases), this computes per ranked theme: its help-center article and docs status,
the release it started after, the status of its fix, its over-represented segments and its
parent; and for the week: the affected customers per theme and the customers at risk. The
ranking stores all of it (`marts.ranked_themes` columns and the marts beside it); the report
and the tracker sync read what was stored.

Conventions, each stated once here:
- Themes are what people see (`theme_id`, reviewer merges applied); weekly counts follow
  `series_theme_id` (core/counts.py) and rates are read from those counts, over the weeks that
  hold data (`WeekContext.data_weeks`): a gap in the exports is no week of zero tickets.
- A theme's centroid is the mean of its window tickets' vectors, and its tickets' similarities
  are their cosine to it: merged themes get one centroid, from the context, with no other read.
- An article published after the week ended did not exist that week: a re-run of an old week
  gives what that week would have said.
- A theme "starts" at its first ticket since its birth week (born without an ancestor after
  tracking began: `WeekContext.births`); tickets the clustering later adds from earlier weeks
  are not when it began.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from ticket_intel.core import counts as tc
from ticket_intel.core.anomalies import COLUMNS as ALERT_BASE_COLUMNS
from ticket_intel.core.anomalies import NEW_PATTERN, SPIKE
from ticket_intel.core.context import WeekContext
from ticket_intel.core.customers import RiskSettings, affected_customers, customers_at_risk, weekly_rates
from ticket_intel.core.help_center import Article, docs_statuses, match_articles
from ticket_intel.core.hierarchy import build_hierarchy, parent_of
from ticket_intel.core.releases import (
    AfterRelease,
    FixResult,
    FixSettings,
    Release,
    after_release_links,
    fix_statuses,
    regression_alert,
    release_before,
    spike_onset,
)
from ticket_intel.core.retrieve import unit_rows
from ticket_intel.core.segments import SegmentSettings, over_represented
from ticket_intel.core.theme_context import ThemeFindings, theme_columns
from ticket_intel.core.theme_week import LEFT_OUT
from ticket_intel.core.vocabulary import NO_PRODUCT

ALERT_COLUMNS = [*ALERT_BASE_COLUMNS, "after_release", "after_release_days", "fix_release"]
SEGMENT_COLUMNS = ["ticket_id", "theme_id", "plan", "account_id", "channel", "tags", "product", "language"]


@dataclass(frozen=True)
class FindingSettings:
    fix: FixSettings = field(default_factory=FixSettings)
    segments: SegmentSettings = field(default_factory=SegmentSettings)
    risk: RiskSettings = field(default_factory=RiskSettings)


@dataclass(frozen=True)
class Inputs:
    """The product inputs a week is judged against."""

    articles: Sequence[Article] | None = None  # None: no help center configured
    article_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    releases: Sequence[Release] = ()


@dataclass
class WeekFindings:
    ranked: pd.DataFrame  # the ranked rows with theme_context.theme_columns
    segments: pd.DataFrame  # core.segments.COLUMNS, claims of ranked themes
    parents: pd.DataFrame  # core.hierarchy.COLUMNS, one row per ranked theme
    customers: pd.DataFrame  # core.customers.AFFECTED_COLUMNS, ranked themes only
    at_risk: pd.DataFrame  # core.customers.RISK_COLUMNS
    articles: int | None  # articles the week was matched against; None without a help center


def theme_geometry(window: pd.DataFrame, vectors: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per theme: its centroid (unit mean of its tickets' vectors) and its tickets' cosine to it."""
    themed = np.flatnonzero(window["theme_id"].notna().to_numpy())
    if not len(themed):
        return {}, {}
    unit = unit_rows(vectors[themed])
    ids = window["theme_id"].to_numpy()[themed]
    centroids, similarity = {}, {}
    for theme_id, rows in tc.rows_by_key(ids).items():
        members = unit[rows]
        centroids[theme_id] = unit_rows(members.mean(axis=0))
        similarity[theme_id] = members @ centroids[theme_id]
    return centroids, similarity


def published_by(inputs: Inputs, week: date) -> tuple[list[Article], np.ndarray]:
    """The articles that existed by the end of `week`, with their vectors."""
    end = datetime.combine(week + timedelta(weeks=1), datetime.min.time())
    keep = [i for i, a in enumerate(inputs.articles or []) if a.published_at is None or a.published_at < end]
    return [inputs.articles[i] for i in keep], inputs.article_vectors[keep]  # type: ignore[index]


def theme_starts(ctx: WeekContext, theme_ids: Sequence[str]) -> dict[str, datetime]:
    """When each of the themes born without an ancestor began: its first ticket since its birth week."""
    born = {t: ctx.births[t] for t in theme_ids if ctx.births.get(t)}
    mine = ctx.window[ctx.window["theme_id"].isin(list(born))]
    since = mine[mine["ticket_week"].to_numpy() >= mine["theme_id"].map(born).to_numpy()]
    first = since.groupby("theme_id")["created_at"].min()
    return {t: pd.Timestamp(first[t]).to_pydatetime() for t in theme_ids if t in first.index}


def fix_results(ctx: WeekContext, releases: Sequence[Release], settings: FixSettings) -> dict[str, FixResult]:
    """The fix status of every theme marked fixed in review (merges followed), as of the week."""
    themes = {ctx.review.canonical(t) for t in ctx.review.fixed_in}
    fixed_in = {t: v for t in sorted(themes) if (v := ctx.review.fix_of(t))}
    return fix_statuses(tc.matrix(ctx.counts, ctx.data_weeks), ctx.first_seen, fixed_in, releases, ctx.week, settings)


def spike_release(ctx: WeekContext, theme_id: str, baseline: float, releases: Sequence[Release],
                  within_days: int) -> AfterRelease | None:
    """The release a spike followed: the latest one before the week's tickets passed the baseline."""
    mine = ctx.this_week[ctx.this_week["series_theme_id"] == theme_id]
    if not len(mine):
        return None
    onset = spike_onset([pd.Timestamp(t).to_pydatetime() for t in mine["created_at"]], baseline)
    return release_before(releases, onset, within_days)


def _docs(ctx: WeekContext, ranked: pd.DataFrame, inputs: Inputs, geometry: tuple, alpha: float) -> dict | None:
    if inputs.articles is None:
        return None
    centroids, similarity = geometry
    articles, vectors = published_by(inputs, ctx.week)
    matches = match_articles(centroids, similarity, articles, vectors)
    trends = dict(zip(ranked["theme_id"], ranked["trend"], strict=True))
    return docs_statuses(matches, tc.matrix(ctx.counts, ctx.data_weeks), ctx.first_seen, trends, ctx.week, alpha)


def _hierarchy(ranked: pd.DataFrame, summaries: pd.DataFrame, geometry: tuple) -> pd.DataFrame:
    terms = summaries[["theme_id", "terms"]] if "terms" in summaries else pd.DataFrame(columns=["theme_id", "terms"])
    themes = ranked[["theme_id", "label", "tickets", "product_area"]].merge(terms, on="theme_id", how="left")
    return build_hierarchy(themes, *geometry)


def _segments(ctx: WeekContext, ranked_ids: set[str], settings: SegmentSettings, weeks: Sequence[date]) -> pd.DataFrame:
    """Claims of the ranked themes, each theme against the tickets it could have drawn in the weeks
    ranked: those that were clustered (not those left out for their language, for saying nothing or
    for naming no product, which every theme would "over-represent" as "in en"), within its product
    when themes form per product."""
    week = ctx.tickets_in(weeks)
    clustered = week[~week["assignment"].isin(LEFT_OUT)] if "assignment" in week else week
    tickets = clustered[[c for c in SEGMENT_COLUMNS if c in clustered]]
    if ctx.products_apart and "product" in tickets:
        tickets = tickets.assign(scope=tickets["product"].fillna(NO_PRODUCT))
    claims = over_represented(tickets, settings)
    return claims[claims["theme_id"].isin(ranked_ids)].reset_index(drop=True)


def week_findings(ctx: WeekContext, ranked: pd.DataFrame, summaries: pd.DataFrame, inputs: Inputs,
                  settings: FindingSettings = FindingSettings(), weeks: Sequence[date] = ()) -> WeekFindings:
    """Everything the loop says about the week's ranked themes (see module doc); `weeks`: the weeks
    they were ranked over (`rank.ranking_weeks`), the week alone when empty."""
    ids = list(ranked["theme_id"]) if len(ranked) else []
    geometry = theme_geometry(ctx.window, ctx.vectors)
    hierarchy = _hierarchy(ranked, summaries, geometry) if ids else pd.DataFrame(columns=["theme_id"])
    segments = _segments(ctx, set(ids), settings.segments, weeks)
    found = ThemeFindings(
        docs=_docs(ctx, ranked, inputs, geometry, settings.fix.alpha) if ids else None,
        after_release=after_release_links(inputs.releases, theme_starts(ctx, ids), settings.fix.within_days),
        fixes={t: f for t, f in fix_results(ctx, inputs.releases, settings.fix).items() if t in set(ids)},
        segments=segments, parents=parent_of(hierarchy) if ids else {},
    )
    columns = pd.DataFrame([theme_columns(t, found) for t in ids], index=ranked.index if ids else None)
    customers = affected_customers(ctx.window.assign(theme_id=ctx.window["series_theme_id"]))  # as counted
    return WeekFindings(
        ranked=pd.concat([ranked, columns], axis=1) if ids else ranked,
        segments=segments, parents=hierarchy,
        customers=customers[customers["theme_id"].isin(set(ids))].reset_index(drop=True),
        at_risk=customers_at_risk(ctx.this_week, settings.risk, _own_rates(ctx)),
        articles=None if inputs.articles is None else len(published_by(inputs, ctx.week)[0]),
    )


def _own_rates(ctx: WeekContext) -> dict[str, float]:
    """Each customer's tickets a week over the window's earlier weeks with data (`weekly_rates`)."""
    earlier = [w for w in ctx.data_weeks if w < ctx.week]
    return weekly_rates(ctx.window[ctx.window["ticket_week"].isin(earlier)], len(earlier))


def _release_of(ctx: WeekContext, alert: Mapping[str, Any], starts: Mapping[str, datetime],
                releases: Sequence[Release], within_days: int) -> AfterRelease | None:
    if alert["kind"] == SPIKE:
        return spike_release(ctx, alert["theme_id"], float(alert["baseline"]), releases, within_days)
    start = starts.get(alert["theme_id"])
    return release_before(releases, start, within_days) if start is not None else None


def with_releases(ctx: WeekContext, alerts: Sequence[Mapping[str, Any]], themes: Sequence[Mapping[str, Any]],
                  releases: Sequence[Release], settings: FixSettings) -> list[dict[str, Any]]:
    """The week's alerts, each with the release it followed (`after_release`, `after_release_days`:
    a spike by its onset, a new pattern by its start), plus one `regression` alert per theme fixed
    in review that came back this week (`fix_release`: the release of the fix).

    `themes`: the week's themes (theme_id, label, customers, example_ticket_ids); a regressed theme
    missing from them is named by its id.
    """
    starts = theme_starts(ctx, [a["theme_id"] for a in alerts if a["kind"] == NEW_PATTERN])
    out = []
    for alert in alerts:
        link = _release_of(ctx, alert, starts, releases, settings.within_days)
        out.append({**alert, "after_release": link.version if link else None,
                    "after_release_days": link.days_after if link else None, "fix_release": None})
    by_id = {str(t["theme_id"]): t for t in themes}
    for theme_id, fix in fix_results(ctx, releases, settings).items():
        if fix.regressed_week == ctx.week:
            customers = tc.series(ctx.counts, theme_id, [ctx.week], "customers")[0]
            theme = dict(by_id.get(theme_id, {"theme_id": theme_id, "label": theme_id, "customers": customers}))
            examples = theme.get("example_ticket_ids")
            theme["example_ticket_ids"] = [] if examples is None else list(examples)
            out.append({**regression_alert(theme, fix), "after_release": None, "after_release_days": None,
                        "fix_release": fix.version})
    return out
