"""One week's theme step: cluster the window, carry ids over from last week, describe the themes.

Window in (tickets with their week, product and language; their vectors; last week's themes);
clusters, theme records and identity events out. The Dagster asset, the benchmarks and the tests
all call this, so what they measure is what runs.

Before clustering the window is split into scopes:
- Tickets in a language the embedding model was not trained on are not clustered at all (their
  vectors would land near English tickets that share names and numbers, not meaning); they are
  kept with assignment `language` and reported per language. `und` (too short to tell) is kept.
- When the window holds several products (brands) and most tickets name theirs, each product is
  clustered on its own, so a theme is an issue of one product and never "tickets addressed to
  brand X". A ticket without a product joins the product its nearest tickets clearly belong to
  (`attributed`); the rest form one more scope. Ids stay unique across products and identity is
  tracked within each product.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from scipy.stats import binom

from ticket_intel.core import cluster, identity, placement, subgroups
from ticket_intel.core.counts import NO_ROWS, rows_by_key
from ticket_intel.core.language import UNDETERMINED
from ticket_intel.core.vocabulary import NO_PRODUCT

LANGUAGE = "language"  # assignment of a ticket left out for its language
EMPTY = "empty"  # ... and of one that says nothing but handles, links or placeholders
UNCLAIMED = "unclaimed"  # ... and of one no product claims when themes form within each product
LEFT_OUT = (LANGUAGE, EMPTY, UNCLAIMED)
RECORD_COLUMNS = ["theme_id", "size", "week_tickets", "centroid", "event", "first_seen", "origin", "product",
                  "fit", "last_fit", "fit_tickets", "fit_outliers", "fence"]
EVERY_WEEK = placement.RefitPolicy(1)
NEW_GROUPS = subgroups.GroupSettings()  # the new-group scan's defaults (core/subgroups.py)


@dataclass(frozen=True)
class Scopes:
    """How a window is split: the model's languages (`*` = any) and whether products are apart
    (`auto`: when the window holds more than one product)."""

    languages: frozenset[str] = frozenset({"en"})
    by_product: str = "auto"  # auto, on or off

    @classmethod
    def parse(cls, languages: str, by_product: str) -> Scopes:
        if by_product not in ("auto", "on", "off"):
            raise ValueError(f"must be auto, on or off, not {by_product!r}")
        return cls(frozenset(p.strip().lower() for p in languages.split(",") if p.strip()), by_product)

    def speaks(self, language: object) -> bool:
        return "*" in self.languages or not isinstance(language, str) or language in (UNDETERMINED, "") \
            or language.lower() in self.languages


@dataclass(frozen=True)
class PreviousTheme:
    """Last week's theme as the next week needs it: identity plus its record."""

    theme: identity.Theme
    first_seen: date
    origin: str
    product: str = NO_PRODUCT
    series: frozenset[str] | None = None  # the tickets it counted last week (None: its members)
    fit: placement.Fit | None = None  # None: unknown (a warehouse from before placement), so the next week refits
    fence: float | None = None  # the similarity to its centroid below which a ticket is not placed in it


@dataclass(frozen=True)
class Issued:
    """What earlier runs issued (core/identity.py, point 4): every id, none of which is issued again,
    and the themes that runs of this week or a later one gave ids, which this week's new themes take
    back when they are the same theme."""

    ids: frozenset[str] = frozenset()
    themes: tuple[identity.Theme, ...] = ()


NOTHING_ISSUED = Issued()


@dataclass
class ThemeWeek:
    clusters: pd.DataFrame  # per window ticket: ticket_id, ticket_week, theme_id, series_theme_id, ...
    themes: pd.DataFrame  # per theme: its record (size, centroid, event, first_seen, origin, product)
    events: pd.DataFrame  # identity events: continued / new / split / merged / faded
    stats: dict[str, int] = field(default_factory=dict)

    def as_previous(self) -> list[PreviousTheme]:
        """These themes as next week's step needs them."""
        return previous_from(self.themes, self.clusters)


def previous_from(themes: pd.DataFrame, members: pd.DataFrame) -> list[PreviousTheme]:
    """`themes` (theme_id, centroid, first_seen, origin[, product, last_fit, fit_tickets, fit_outliers])
    with their tickets from `members` (theme_id, ticket_id[, series_theme_id]; outliers have none) as
    the next week's `previous`."""
    tickets = _members(members)
    series = (members[members["series_theme_id"].notna()].groupby("series_theme_id")["ticket_id"].agg(frozenset)
              .to_dict() if "series_theme_id" in members else tickets)
    column = {c: themes[c] if c in themes else pd.Series(None, index=themes.index, dtype=object)
              for c in ("product", "last_fit", "fit_tickets", "fit_outliers", "fence")}
    return [PreviousTheme(identity.Theme(r.theme_id, np.asarray(r.centroid, dtype=np.float32),
                                         tickets.get(r.theme_id, frozenset())), r.first_seen, r.origin,
                          p if isinstance(p, str) else NO_PRODUCT, series.get(r.theme_id, frozenset()),
                          placement.Fit(pd.Timestamp(w).date(), int(n), float(o))
                          if pd.notna(w) and pd.notna(n) and pd.notna(o) else None, float(f) if pd.notna(f) else None)
            for r, p, w, n, o, f in zip(themes.itertuples(), *column.values(), strict=True)]


def issued_from(ids: frozenset[str], themes: pd.DataFrame) -> Issued:
    """What earlier runs issued, from the ids and the themes (theme_id, centroid, ticket_ids) they were issued to."""
    return Issued(ids, tuple(identity.Theme(r.theme_id, np.asarray(r.centroid, dtype=np.float32), frozenset(r.ticket_ids))
                             for r in themes.itertuples()))


def issued_to(week: ThemeWeek) -> pd.DataFrame:
    """The week's themes as the registry of issued ids keeps them: theme_id, centroid, ticket_ids."""
    members = _members(week.clusters)
    return pd.DataFrame({"theme_id": week.themes["theme_id"], "centroid": week.themes["centroid"],
                         "ticket_ids": [sorted(members.get(t, ())) for t in week.themes["theme_id"]]})


def scopes_of(tickets: pd.DataFrame, x: np.ndarray, scopes: Scopes, seed: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(rows per product scope, per row why it is left out: "" when clustered, else EMPTY, LANGUAGE or,
    when themes form within each product, UNCLAIMED for a ticket no product claims (`attributed`))."""
    language = tickets["language"] if "language" in tickets else pd.Series(None, index=tickets.index)
    empty = (tickets["meaning_chars"] == 0).to_numpy() if "meaning_chars" in tickets else np.zeros(len(tickets), bool)
    foreign = ~np.array([scopes.speaks(v) for v in language], dtype=bool)
    reason = np.where(empty, EMPTY, np.where(foreign, LANGUAGE, "")).astype(object)
    spoken = reason == ""
    product = tickets["product"].fillna(NO_PRODUCT) if "product" in tickets else pd.Series(NO_PRODUCT, index=tickets.index)
    known = product[spoken] != NO_PRODUCT
    # `auto` splits when the product field describes the queue: two or more products, carried by most
    # tickets (an export without the field would otherwise become a scope of every issue at once).
    apart = scopes.by_product == "on" or (scopes.by_product == "auto" and product[spoken][known].nunique() > 1
                                          and known.mean() > 0.5)
    if not apart:
        return {NO_PRODUCT: np.flatnonzero(spoken)} if spoken.any() else {}, reason
    keys = product.to_numpy()
    groups = attributed({k: np.flatnonzero(spoken & (keys == k)) for k in sorted(set(keys[spoken]))}, x,
                        cluster.default_params(len(x), seed))
    if len(groups) > 1 and NO_PRODUCT in groups:  # a product to form within, but not for these
        reason[groups.pop(NO_PRODUCT)] = UNCLAIMED
    return groups, reason


# A ticket joins a product by its neighbours only when that product's count among them would arise
# by chance less than this often, given the product's share of the attributed tickets.
ATTRIBUTION_P = 0.01
PROBES = 1000  # attributed tickets whose neighbours set how close a neighbour must be to vote
# Attributed tickets a ticket's neighbours are sought among: ~500 per product with 20 products; the
# search costs (unknown tickets x this) dot products, 31 s for 30,000 unknown against 50,000.
ATTRIBUTION_SAMPLE = 10_000


def attributed(groups: dict[str, np.ndarray], x: np.ndarray, params: cluster.ClusterParams) -> dict[str, np.ndarray]:
    """Scopes with each ticket of unknown product moved into the product that most of its
    `n_neighbors` nearest attributed tickets (of a seeded `ATTRIBUTION_SAMPLE`) belong to, when
    more than half of them do, are as close as attributed tickets' own neighbours usually are, and
    would be that many by chance less often than `ATTRIBUTION_P` given the product's share (so the
    product with most tickets does not absorb every stray one). The tickets no product claims are
    not themed (`UNCLAIMED`, in `scopes_of`): of a social export (twcs: anonymised handles,
    unanswered) they are every company's leftovers, whose themes mixed products into topics, not
    issues ("Season · account": TV seasons, keynote videos and internet bills, 15 tweets to unnamed
    companies, ranked first of a week)."""
    rest, known = groups.get(NO_PRODUCT), [k for k in groups if k != NO_PRODUCT]
    pool = np.concatenate([groups[k] for k in known]) if known else np.zeros(0, dtype=int)
    if rest is None or len(pool) < 2:  # a ticket and its neighbour at least, to tell how close is close
        return groups
    owner = np.full(len(x), -1)
    owner[pool] = np.repeat(np.arange(len(known)), [len(groups[k]) for k in known])
    rng = np.random.default_rng(params.seed)
    sample = np.sort(rng.choice(pool, min(len(pool), ATTRIBUTION_SAMPLE), replace=False))
    probes = rng.choice(sample, min(len(sample), PROBES), replace=False)
    floor = cluster.tukey_floor(_similarity(x, probes, cluster.nearest_among(x, probes, sample, params.n_neighbors)))
    near = cluster.nearest_among(x, rest, sample, params.n_neighbors)
    votes = np.where(_similarity(x, rest, near) >= floor, owner[near], len(known))  # too far: no vote
    counts = np.zeros((len(rest), len(known) + 1), dtype=int)
    np.add.at(counts, (np.repeat(np.arange(len(rest)), near.shape[1]), votes.ravel()), 1)
    best, most = counts[:, :-1].argmax(axis=1), counts[:, :-1].max(axis=1)
    share = np.bincount(owner[sample], minlength=len(known)) / len(sample)
    joins = (2 * most > near.shape[1]) & (binom.sf(most - 1, near.shape[1], share[best]) < ATTRIBUTION_P)
    out = {k: np.sort(np.concatenate([groups[k], rest[joins & (best == i)]])) for i, k in enumerate(known)}
    return dict(sorted((out | ({NO_PRODUCT: rest[~joins]} if (~joins).any() else {})).items()))


def _similarity(x: np.ndarray, rows: np.ndarray, knn: np.ndarray) -> np.ndarray:
    """Cosine of each row with each of its neighbours (unit vectors), one neighbour column at a time."""
    at = x[rows]
    return np.stack([np.einsum("ij,ij->i", at, x[knn[:, j]]) for j in range(knn.shape[1])], axis=1) \
        if knn.size else np.zeros(knn.shape, dtype=np.float32)


def cluster_window(
    week: date, tickets: pd.DataFrame, x: np.ndarray, previous: Sequence[PreviousTheme], seed: int,
    scopes: Scopes = Scopes(), hysteresis: bool = True, refit: placement.RefitPolicy = EVERY_WEEK,
    new_groups: subgroups.GroupSettings = NEW_GROUPS, issued: Issued = NOTHING_ISSUED,
) -> ThemeWeek:
    """Themes of the window ending at `week` (`tickets`: ticket_id, ticket_week[, product, language],
    one row per vector), deterministic for a given input and seed (`hysteresis=False` only for
    benchmarks that measure what it adds). `refit`: when a scope is fit in full rather than placed
    into last week's themes (the pipeline passes TICKET_INTEL_REFIT_WEEKS, by default `window`; here every week).
    `new_groups`: the new-group scan inside themes (its level: TICKET_INTEL_NEW_GROUP_MAX_P_VALUE).
    `issued`: the ids earlier runs issued (the pipeline reads them from the warehouse), which the
    ids given also depend on."""
    groups, reason = scopes_of(tickets.reset_index(drop=True), x, scopes, seed)
    excluded = np.flatnonzero(reason != "")
    fresh = identity.new_ids(week, issued.ids)
    earlier = _by_scope(issued.themes, tickets["ticket_id"].to_numpy(), groups)
    parts = [_cluster_scope(week, tickets.iloc[rows], x[rows], [p for p in previous if p.product == key], seed,
                            hysteresis, fresh, key, refit, new_groups, earlier[key]) for key, rows in groups.items()]
    parts = _take_back(parts, {p.theme.theme_id for p in previous}, issued)
    parts.append(_left_out(tickets.iloc[excluded], reason[excluded]))
    clusters = pd.concat([p.clusters for p in parts], ignore_index=True)
    found = [p.themes for p in parts if len(p.themes)]
    themes = (pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=RECORD_COLUMNS))
    themes = themes.sort_values("theme_id", ignore_index=True)
    number = {t: k for k, t in enumerate(themes["theme_id"])}
    themes.insert(1, "cluster", range(len(themes)))
    clusters["cluster"] = pd.array([number.get(t) for t in clusters["theme_id"]], dtype="Int64")
    events = pd.concat([p.events for p in parts], ignore_index=True)
    stats = {"window_tickets": len(tickets), "themes": len(themes), "scopes": len(groups),
             "outliers": int(clusters["theme_id"].isna().sum()),
             "left_out_for_language": int((reason == LANGUAGE).sum()), "left_out_empty": int((reason == EMPTY).sum()),
             "left_out_unclaimed": int((reason == UNCLAIMED).sum()),
             "kept": int((clusters["assignment"] == placement.KEPT).sum()),
             "placed": int((clusters["assignment"] == placement.PLACED).sum()),
             "fit_scopes": sum(p.stats.get("fit", 0) for p in parts),
             "placed_scopes": sum(p.stats.get("placed", 0) for p in parts), **Counter(events["event"])}
    return ThemeWeek(clusters, themes, events, stats)


def _by_scope(themes: Sequence[identity.Theme], ticket_ids: np.ndarray,
              groups: dict[str, np.ndarray]) -> dict[str, list[identity.Theme]]:
    """Per scope, the earlier-issued `themes` most of whose tickets in this window it holds (ties: the
    first scope by name): each id may be taken back in one scope only, and one holding none of its
    tickets could only take it by centroid, which `identity.matched` refuses anyway."""
    scope_of = {ticket_ids[i]: key for key, rows in groups.items() for i in rows}
    out: dict[str, list[identity.Theme]] = {key: [] for key in groups}
    for theme in themes:
        held = Counter(scope_of[t] for t in theme.ticket_ids if t in scope_of)
        if held:
            out[max(sorted(held), key=held.__getitem__)].append(theme)
    return out


def _take_back(parts: list[ThemeWeek], continued: set[str], issued: Issued) -> list[ThemeWeek]:
    """`parts` with each new theme (an id neither `continued` from last week nor taken back when its
    clusters were matched) under the id an earlier run gave it, if any (`identity.reissued`, against all
    of this run's themes)."""
    held = {t for p in parts if len(p.themes) for t in p.themes["theme_id"]}
    earlier = [t for t in issued.themes if t.theme_id not in held]
    continued = continued | {t.theme_id for t in issued.themes}
    fresh, others = [], []
    for part in parts if earlier else ():
        members = _members(part.clusters)
        for r in part.themes.itertuples() if len(part.themes) else ():
            theme = identity.Theme(r.theme_id, np.asarray(r.centroid), members.get(r.theme_id, frozenset()))
            (others if r.theme_id in continued else fresh).append(theme)
    names = identity.reissued(fresh, earlier, others) if fresh else {}
    return [_renamed(p, names) for p in parts] if names else parts


def _members(clusters: pd.DataFrame) -> dict[str, frozenset[str]]:
    """Each theme's tickets (theme_id, ticket_id rows; outliers have no theme)."""
    themed = clusters[clusters["theme_id"].notna()]
    return themed.groupby("theme_id")["ticket_id"].agg(frozenset).to_dict()


def _renamed(part: ThemeWeek, names: dict[str, str]) -> ThemeWeek:
    """`part` with its theme ids renamed by `names` wherever they appear."""
    def name(t: object) -> object:
        return names.get(t, t) if isinstance(t, str) else t

    clusters = part.clusters.assign(theme_id=part.clusters["theme_id"].map(name),
                                    series_theme_id=part.clusters["series_theme_id"].map(name))
    events = part.events.assign(theme_id=part.events["theme_id"].map(name),
                                related_theme_ids=[[name(t) for t in ids] for ids in part.events["related_theme_ids"]])
    themes = part.themes.assign(theme_id=part.themes["theme_id"].map(name)) if len(part.themes) else part.themes
    return ThemeWeek(clusters, themes, events, part.stats)


def _cluster_scope(
    week: date, tickets: pd.DataFrame, x: np.ndarray, previous: Sequence[PreviousTheme], seed: int,
    hysteresis: bool, fresh: Iterator[str], product: str, refit: placement.RefitPolicy,
    new_groups: subgroups.GroupSettings, earlier: Sequence[identity.Theme] = (),
) -> ThemeWeek:
    """The scope's themes: placed into last week's (core/placement.py), or fit in full when due (its
    clusters matched to last week's themes and to the `earlier`-issued ones at once, `identity.matched`)."""
    ids = tickets["ticket_id"].tolist()
    params = cluster.default_params(len(x), seed)
    now = (tickets["ticket_week"] == week).to_numpy()
    last = previous[0].fit if previous else None
    if not refit.due(week, len(x), last):
        placed = placement.place(x, ids, now, [p.theme for p in previous],
                                 [p.theme.ticket_ids if p.series is None else p.series for p in previous],
                                 [p.fence for p in previous], params, fresh)
        if last is not None and not refit.drifted(placed.outside_now, int(now.sum()), last.outliers) and not (
                refit.grown(placed.tracked.series_of, tickets["ticket_week"].tolist(), week)):
            step = Step(placed.tracked, placed.assignment, placed.probabilities, _scan_neighbours(x, placed.tracked),
                        last)
            return _finish(week, tickets, x, previous, fresh, product, step, new_groups)
    result = cluster.cluster(x, params)
    tracked = identity.track(week, x, ids, result.labels, [p.theme for p in previous], params.min_cluster_size,
                             hysteresis, fresh, earlier)
    step = Step(tracked, result.assignment, result.probabilities, _scan_neighbours(x, tracked, result.neighbours),
                None)
    return _finish(week, tickets, x, previous, fresh, product, step, new_groups)


def _scan_neighbours(x: np.ndarray, tracked: identity.Tracked, searched: np.ndarray | None = None) -> cluster.Search:
    """The new-group scan's neighbour search: the one the clustering ran over the whole window, else
    the theme-cell search. A placed week and a fit on a sample ran none, and an exact search of the
    whole window was the quadratic cost they avoid (10 of a 180k window's 12 minutes in bench.pipeline)."""
    if searched is not None:
        return cluster.searched(searched)
    return placement.cell_neighbours(x, tracked.theme_of, subgroups.GroupSettings().search_width)


@dataclass
class Step:
    """A scope's tickets tracked to themes, by a full fit (`fit` None) or a placement (the fit it rests on)."""

    tracked: identity.Tracked
    assignment: list[str]  # how each ticket got its theme; _finish marks the kept ones and the groups'
    probabilities: np.ndarray
    search: cluster.Search  # the window's neighbours, for the new-group scan
    fit: placement.Fit | None


def _finish(week: date, tickets: pd.DataFrame, x: np.ndarray, previous: Sequence[PreviousTheme],
            fresh: Iterator[str], product: str, step: Step, new_groups: subgroups.GroupSettings) -> ThemeWeek:
    """New groups carved out of the tracked themes, then the rows and records of the scope."""
    ids = tickets["ticket_id"].tolist()
    now = (tickets["ticket_week"] == week).to_numpy()
    customers = tickets["customer_id"].fillna(tickets["ticket_id"]).tolist() if "customer_id" in tickets else ids
    groups = subgroups.young({p.theme.theme_id: p.first_seen for p in previous if p.origin == subgroups.NEW_GROUP},
                             min(tickets["ticket_week"], default=week))
    last, born_last_week = subgroups.last_week(week, tickets["ticket_week"], {p.theme.theme_id: p.first_seen for p in previous})
    carved = subgroups.carve(week, x, ids, now, customers, step.tracked, [p.theme for p in previous], groups,
                             step.search, new_groups, fresh=fresh,
                             words=tickets["meaning_words"].tolist() if "meaning_words" in tickets else None,
                             last=last, born_last_week=born_last_week)
    tracked = identity.Tracked(carved.theme_of, carved.kept, carved.events, carved.series_of)
    themes = identity.themes_of(x, ids, tracked.theme_of)
    theme_of = np.array(tracked.theme_of, dtype=object)
    how = [placement.KEPT if k else subgroups.NEW_GROUP if g else a
           for k, g, a in zip(tracked.kept, carved.grouped, step.assignment, strict=True)]
    clusters = _cluster_rows(ids, tickets["ticket_week"].tolist(), x, themes, theme_of, tracked, step, how)
    events = pd.DataFrame(tracked.events, columns=["theme_id", "event", "related_theme_ids", "detail"])
    fence = _fences(x, themes, theme_of, np.array(tracked.series_of, dtype=object),
                    {p.theme.theme_id: p.fence for p in previous} if step.fit is not None else {})
    fit = step.fit or placement.Fit(week, len(ids), placement.fit_outliers(
        x, np.array([t.centroid for t in themes]).reshape(len(themes), x.shape[1]), np.array([fence[t.theme_id] for t in themes])))
    records = _theme_records(week, themes, theme_of, now,
                             dict(zip(events["theme_id"], events["event"], strict=True)), previous, product)
    records = records.assign(fit=placement.FIT if step.fit is None else placement.PLACED, last_fit=fit.week,
                             fit_tickets=fit.tickets, fit_outliers=fit.outliers,
                             fence=[fence[t] for t in records["theme_id"]])
    return ThemeWeek(clusters, records, events, {"fit": int(step.fit is None), "placed": int(step.fit is not None)})


def _fences(x: np.ndarray, themes: list[identity.Theme], theme_of: np.ndarray, series_of: np.ndarray,
            carried: dict[str, float | None]) -> dict[str, float]:
    """Each theme's fence: the one `carried` from its fit (a placed week; core/placement.py says why
    it is not redrawn), else the fence (`cluster.fence_and_spread`) of the similarity to its centroid
    of the tickets this week's clustering put in it (of all its members when hysteresis alone holds it)."""
    out, series_rows, member_rows = {}, rows_by_key(series_of), rows_by_key(theme_of)
    drawn = {t.theme_id: series_rows.get(t.theme_id, NO_ROWS) for t in themes}
    drawn = {t: rows if len(rows) else member_rows.get(t, NO_ROWS) for t, rows in drawn.items()}
    background = cluster.backgrounds(x, drawn, {t.theme_id: t.centroid for t in themes})
    for t in themes:
        fence = carried.get(t.theme_id)
        out[t.theme_id] = float(fence) if fence is not None else cluster.fence_and_spread(
            x[drawn[t.theme_id]] @ t.centroid, background[t.theme_id])[0]
    return out


def _left_out(tickets: pd.DataFrame, reasons: np.ndarray) -> ThemeWeek:
    """Tickets not clustered (their language, nothing to read, or no product where themes form within
    each): kept, with no theme, so they are counted and reported."""
    clusters = pd.DataFrame({
        "ticket_id": tickets["ticket_id"].tolist(), "ticket_week": tickets["ticket_week"].tolist(),
        "theme_id": None, "series_theme_id": None, "probability": 0.0, "similarity": np.nan, "assignment": reasons,
    })
    return ThemeWeek(clusters, pd.DataFrame(), pd.DataFrame(columns=["theme_id", "event", "related_theme_ids", "detail"]))


def _cluster_rows(
    ids: list[str], ticket_weeks: Sequence[date], x: np.ndarray, themes: list[identity.Theme],
    theme_of: np.ndarray, tracked: identity.Tracked, step: Step, assignment: list[str],
) -> pd.DataFrame:
    centroid = {t.theme_id: t.centroid for t in themes}
    return pd.DataFrame({
        "ticket_id": ids, "ticket_week": list(ticket_weeks), "theme_id": theme_of,
        "series_theme_id": tracked.series_of,
        "probability": np.where(tracked.kept, 0.0, step.probabilities),
        "similarity": [float(x[i] @ centroid[t]) if t else np.nan for i, t in enumerate(theme_of)],
        "assignment": assignment,
    })


def _theme_records(
    week: date, themes: list[identity.Theme], theme_of: np.ndarray, this_week: np.ndarray,
    event_of: dict[str, str], previous: Sequence[PreviousTheme], product: str,
) -> pd.DataFrame:
    """A continuing theme keeps its birth week and origin; a new one is born now, as new or split."""
    before, members = {p.theme.theme_id: p for p in previous}, rows_by_key(theme_of)
    rows = []
    for t in themes:
        prior, member = before.get(t.theme_id), members.get(t.theme_id, NO_ROWS)
        rows.append({
            "theme_id": t.theme_id, "size": len(member),
            "week_tickets": int(this_week[member].sum()), "centroid": t.centroid.astype(np.float32),
            "event": event_of[t.theme_id], "first_seen": prior.first_seen if prior else week,
            "origin": prior.origin if prior else event_of[t.theme_id], "product": product or None,
        })
    return pd.DataFrame(rows, columns=RECORD_COLUMNS)
