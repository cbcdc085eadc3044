"""A week's context: everything the stages after clustering need, read once per run.

The window comes with review decisions applied (merges followed, so every stage counts an
absorbed theme under its target) and a customer key; counts are computed from it once
(core/counts.py). Birth is read from the theme record: a theme is *born* in the week it first
appeared when it appeared without an ancestor (not a split) after tracking began; before its
birth a theme did not exist, so those weeks are not "zero tickets" in any baseline. Nor are the
weeks that hold no data: a gap in the exports (a week without tickets where the queue's rate makes
none implausible), and a first week the data began inside (`data_weeks_of`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ticket_intel.core.counts import customer_key, queue_counts, sized_in, theme_week_counts
from ticket_intel.core.rates import first_week_partial, implausibly_few
from ticket_intel.core.review import ReviewState, canonical_themes
from ticket_intel.core.theme_triage import attach_triage
from ticket_intel.core.weeks import window as window_of

# A theme is born when it appears without an ancestor: a new cluster, or a new group found inside
# an old theme (core/subgroups.py); a split of an old theme is not a birth.
BORN_WITHOUT_ANCESTOR = ("new", "new_group")


def birth_week(first_seen: date, origin: str | None, tracking_start: date, window: Sequence[date],
               data_weeks: Sequence[date]) -> date | None:
    """The week a theme was born, or None when it was tracked from the start, split off another, or
    appeared in the `window` when it held no earlier ticket to be new against (`data_weeks`: its weeks
    with tickets): a queue's first week after a gap longer than the window (another export, years
    after the last) starts afresh like the first week, where every theme is born and none is new. A
    theme first seen in the window's first week or before was judged when it appeared."""
    earlier = first_seen <= window[0] or any(w < first_seen for w in data_weeks)
    if origin in BORN_WITHOUT_ANCESTOR and first_seen > tracking_start and earlier:
        return first_seen
    return None


def data_weeks_of(ticket_weeks: pd.Series) -> list[date]:
    """The weeks that hold data, oldest first: the weeks with tickets, less a first week too small to
    be a whole week of the queue (`rates.first_week_partial`: the data began inside it), which, like
    a week before the data, is unknown, not a week of zero tickets for every theme. A week without
    tickets between them holds data, zero tickets, when so quiet a week is plausible at the queue's
    rate, and is a gap in the exports when it is not (`rates.implausibly_few`): a queue of 4 a week
    has weeks of none, and counting them as gaps raised its baselines and read "no data last week"."""
    per_week = ticket_weeks.value_counts().sort_index()
    weeks, counts = list(per_week.index), per_week.tolist()
    if first_week_partial(counts):
        weeks, counts = weeks[1:], counts[1:]
    if not weeks or implausibly_few(0, counts):
        return weeks
    return [weeks[0] + timedelta(weeks=k) for k in range((weeks[-1] - weeks[0]).days // 7 + 1)]


def baseline_weeks(week: date, data_weeks: Sequence[date], born: date | None) -> list[date]:
    """The weeks before `week` that can say what normal is for a theme, oldest first: weeks that
    hold data (a week before the first export is unknown, not zero) and, once born, its own."""
    return sorted(w for w in set(data_weeks) if w < week and (born is None or w >= born))


@dataclass
class WeekContext:
    week: date
    weeks: list[date]  # the window, oldest first
    window: pd.DataFrame  # clustered tickets: ticket_week, theme_id, series_theme_id, customer, facts
    vectors: np.ndarray  # one embedding per window row
    review: ReviewState
    counts: pd.DataFrame  # core/counts.py COLUMNS
    data_weeks: list[date]  # the window's weeks that hold data, oldest first (`data_weeks_of`)
    queue: pd.DataFrame  # the whole window's tickets per scope, theme and week (`counts.queue_counts`)
    first_seen: Mapping[str, date] = field(default_factory=dict)
    births: Mapping[str, date] = field(default_factory=dict)
    origins: Mapping[str, str | None] = field(default_factory=dict)  # how each theme appeared (staging.themes)
    ranked_before: frozenset[str] = frozenset()
    families: Mapping[str, str] = field(default_factory=dict)  # theme -> the split family it belongs to
    parents: Mapping[str, str] = field(default_factory=dict)  # new group -> the theme it grew in
    products_apart: bool = False  # the themes were formed within each product (core/theme_week.py Scopes)
    inbox_counts: Mapping[date, int] | None = None  # the inbox's tickets per week as last ingested (None: not known)

    @property
    def nbytes(self) -> int:
        """Memory the context holds: its window (strings included) and vectors dominate."""
        return int(self.window.memory_usage(deep=True).sum() + self.vectors.nbytes
                   + self.counts.memory_usage(deep=True).sum() + self.queue.memory_usage(deep=True).sum())

    @property
    def this_week(self) -> pd.DataFrame:
        return self.window[self.window["ticket_week"] == self.week]

    def tickets_in(self, weeks: Sequence[date]) -> pd.DataFrame:
        """The window's tickets of `weeks` (the weeks a small queue's week is ranked over); this
        week's when there are none."""
        return self.window[self.window["ticket_week"].isin(weeks)] if weeks else self.this_week

    def baseline_weeks(self, theme_id: str) -> list[date]:
        return baseline_weeks(self.week, self.data_weeks, self.births.get(theme_id))

    def reformed(self, theme_id: str, min_tickets: int, min_customers: int) -> bool:
        """Whether a theme born `new` holds tickets that were theme-sized (`min_tickets` from
        `min_customers`) in a week of the window before its birth: the clustering re-formed an issue
        that was there all along, so it is not new, and those weeks are its history (Next.js' "Build ·
        error", born with 16 tickets after weeks of 3, 5, 10, 11, 4 and 4, read "new")."""
        born = self.births.get(theme_id)
        if born is None or self.origins.get(theme_id) != "new":
            return False
        return sized_in(self.counts, theme_id, [w for w in self.data_weeks if w < born], min_tickets, min_customers)

    def history_weeks(self, theme_id: str, min_tickets: int, min_customers: int) -> list[date]:
        """The weeks a theme's counts are judged against: its baseline weeks, or all the window's weeks
        of data before this one for a theme the clustering re-formed (`reformed`)."""
        if self.reformed(theme_id, min_tickets, min_customers):
            return baseline_weeks(self.week, self.data_weeks, None)
        return self.baseline_weeks(theme_id)

    def holds_data(self, weeks: Sequence[date]) -> bool:
        """Whether every one of `weeks` holds data (`data_weeks`): a count over a week before the data,
        a gap in the exports or a first week the data began inside is unknown, not zero."""
        return set(weeks) <= set(self.data_weeks)

    def holds_data_before(self, week: date) -> bool:
        """Whether the window holds tickets before `week`: if not, `week` opens the data (a first
        export, a one-off dump) and what came before it is unknown, not zero."""
        return bool(self.data_weeks) and self.data_weeks[0] < week


def make_context(
    week: date, window_weeks: int, tickets: pd.DataFrame, review: ReviewState,
    vectors: np.ndarray | None = None, first_seen: Mapping[str, date] | None = None,
    origins: Mapping[str, str | None] | None = None, tracking_start: date | None = None,
    ranked_before: frozenset[str] = frozenset(), families: Mapping[str, str] | None = None,
    parents: Mapping[str, str] | None = None, triage: pd.DataFrame | None = None, products_apart: bool = False,
    inbox_counts: Mapping[date, int] | None = None,
) -> WeekContext:
    """Apply review decisions to the clustered window, key customers, count once.

    `tickets`: ticket_id, ticket_week, theme_id, series_theme_id (default: theme_id), customer_id
    and facts; `first_seen`/`origins`: each theme's record; `tracking_start`: the first clustered week;
    `triage`: the tickets' `ticket_triage` rows (core/theme_triage.py), joined onto the window;
    `inbox_counts`: the inbox's tickets per week, whether or not a run stored them.
    """
    frame = tickets if "series_theme_id" in tickets else tickets.assign(series_theme_id=tickets["theme_id"])
    frame = attach_triage(frame, triage)
    frame = canonical_themes(frame, review)
    frame["customer"] = customer_key(frame)
    first_seen = dict(first_seen or {})
    start, weeks = tracking_start or week, window_of(week, window_weeks)
    data_weeks = data_weeks_of(frame["ticket_week"])
    born = {t: birth_week(f, (origins or {}).get(t), start, weeks, data_weeks) for t, f in first_seen.items()}
    return WeekContext(
        week=week, weeks=weeks, window=frame,
        vectors=np.zeros((len(frame), 0), dtype=np.float32) if vectors is None else vectors,
        review=review, counts=theme_week_counts(frame), data_weeks=data_weeks,
        queue=queue_counts(frame, products_apart),
        first_seen=first_seen,
        births={t: b for t, b in born.items() if b is not None}, origins=dict(origins or {}), ranked_before=ranked_before,
        families=dict(families or {}), parents=dict(parents or {}), products_apart=products_apart,
        inbox_counts=inbox_counts,
    )
