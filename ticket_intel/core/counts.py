"""Weekly theme counts: the one place tickets and customers per theme per week are counted.

Counts follow `series_theme_id`, where this run's clustering alone put each ticket (see
core/identity.py): counting earlier weeks by the hysteresis-kept `theme_id` would compare this
week's tickets, placed by the new clustering, with older ones placed by last week's. Every number
shown (ranking, trend, alerts, the report's chart, the command line) comes from these counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from ticket_intel.core.vocabulary import NO_PRODUCT

COLUMNS = ["theme_id", "ticket_week", "tickets", "customers"]
QUEUE_KEYS = ["scope", "theme_id", "ticket_week"]
NO_ROWS = np.array([], dtype=np.intp)  # the rows of a key that has none


def customer_key(frame: pd.DataFrame) -> pd.Series:
    """A ticket without a customer id counts as its own customer."""
    return frame["customer_id"].fillna("ticket:" + frame["ticket_id"])


def rows_by_key(keys: Sequence[object] | np.ndarray) -> dict[Any, np.ndarray]:
    """Per key (sorted; None is no key), the positions of its rows, in order: one pass over a
    window, where comparing every row with each theme (or component) in turn cost themes x tickets
    (hundreds x a million)."""
    codes, uniques = pd.factorize(np.asarray(keys), sort=True)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    return {key: order[bounds[i]:bounds[i + 1]] for i, key in enumerate(uniques.tolist())}


def theme_week_counts(window: pd.DataFrame) -> pd.DataFrame:
    """Tickets and distinct customers per (series theme, ticket week) of a window's themed tickets."""
    themed = window[window["series_theme_id"].notna()]
    if themed.empty:
        return pd.DataFrame(columns=COLUMNS)
    grouped = themed.groupby(["series_theme_id", "ticket_week"])
    out = pd.DataFrame({"tickets": grouped.size(), "customers": grouped["customer"].nunique()}).reset_index()
    return out.rename(columns={"series_theme_id": "theme_id"})[COLUMNS]


def scope_of(window: pd.DataFrame, products_apart: bool) -> pd.Series | str:
    """Each ticket's queue: its product when themes form within each product, else the whole queue."""
    return window["product"].fillna(NO_PRODUCT) if products_apart and "product" in window else NO_PRODUCT


def queue_counts(window: pd.DataFrame, products_apart: bool = False) -> pd.DataFrame:
    """Tickets per (scope, series theme, ticket week) of the whole window, themed or not ("" for none):
    the queue a theme's week is set against (core/anomalies.py, `queue_scale`). The scope is the
    product when themes form within each product, so one product's surge does not raise another's
    expectations; else the whole queue."""
    frame = pd.DataFrame({"scope": scope_of(window, products_apart), "theme_id": window["series_theme_id"].fillna(""),
                          "ticket_week": window["ticket_week"]})
    return frame.groupby(QUEUE_KEYS).size().rename("tickets").reset_index()


def around(queue: pd.DataFrame, theme_id: str, weeks: Sequence[date]) -> np.ndarray:
    """The queue around one theme: each other series of the scopes its tickets are in (the unthemed as
    one), by week (series x `weeks`). The theme's own tickets are left out, so a spike large enough to
    move the queue does not raise its own expectation."""
    scopes = set(queue.loc[queue["theme_id"] == theme_id, "scope"])
    rows = queue[queue["scope"].isin(scopes) & (queue["theme_id"] != theme_id)]
    if rows.empty:
        return np.zeros((0, len(weeks)), dtype=int)
    table = rows.pivot_table(index="theme_id", columns="ticket_week", values="tickets", aggfunc="sum", fill_value=0)
    return table.reindex(columns=list(weeks), fill_value=0).to_numpy(dtype=int)


def customers_over(window: pd.DataFrame, theme_id: str, weeks: Sequence[date]) -> int:
    """Distinct customers of one series theme over `weeks`: weekly counts do not add up, since a
    customer may write in several of them."""
    rows = window[(window["series_theme_id"] == theme_id) & window["ticket_week"].isin(list(weeks))]
    return int(rows["customer"].nunique())


def matrix(counts: pd.DataFrame, weeks: Sequence[date], value: str = "tickets") -> pd.DataFrame:
    """Theme x week table of one count (zeros where a theme had no tickets)."""
    if counts.empty:
        return pd.DataFrame(columns=list(weeks), dtype=int)
    table = counts.pivot_table(index="theme_id", columns="ticket_week", values=value, aggfunc="sum", fill_value=0)
    return table.reindex(columns=list(weeks), fill_value=0).astype(int)


def series(counts: pd.DataFrame, theme_id: str, weeks: Sequence[date], value: str = "tickets") -> list[int]:
    """One theme's counts over `weeks`, oldest first."""
    rows = counts[counts["theme_id"] == theme_id]
    by_week = dict(zip(rows["ticket_week"], rows[value], strict=True))
    return [int(by_week.get(w, 0)) for w in weeks]


def sized_in(counts: pd.DataFrame, theme_id: str, weeks: Sequence[date], min_tickets: int, min_customers: int) -> bool:
    """Whether the theme held a theme's worth (`min_tickets` from `min_customers`) in one of `weeks`."""
    tickets, customers = series(counts, theme_id, weeks), series(counts, theme_id, weeks, "customers")
    return any(t >= min_tickets and c >= min_customers for t, c in zip(tickets, customers, strict=True))


def ranked_weeks(theme: Mapping[str, Any]) -> int:
    """How many weeks a ranked theme's counts cover (`rank.ranking_weeks`: the week, or a small
    queue's last few); 1 for rows written without it."""
    weeks = theme.get("ranked_weeks")
    return 1 if weeks is None or pd.isna(weeks) else int(weeks)
