"""Do theme labels stay from one week to the next? A replay of a warehouse's labels by the code at hand.

    python -m bench.label_churn WAREHOUSE [WAREHOUSE ...]

Each summarized week's extractive labels are made again, read-only, from the clusters the warehouse
stores (`theme_docs`, `extractive_summary`, `week_labels`, as the summaries asset makes them), week
after week, each keeping the labels replayed before it. So a change to labelling is measured on the
same clusters, without a run that would embed and cluster again (a re-run moves clusters too).
Printed per warehouse: the ranked theme-weeks; the pairs of a theme's consecutive ranked weeks, and
how many of them change label; and how many replayed labels differ from the stored ones, which is
0 with the code that wrote them (an LLM's labels are not replayed: their week reads as differing).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import duckdb

from bench.common import per_warehouse
from ticket_intel import settings
from ticket_intel.core.rank import ranking_weeks
from ticket_intel.core.summarize import extractive_summary, theme_docs, week_labels
from ticket_intel.warehouse import queries
from ticket_intel.warehouse.context import load_week_context


def replay(con: duckdb.DuckDBPyConnection) -> dict[tuple, str]:
    """(week, theme) -> the label the code at hand gives, week after week, for every summarized theme."""
    window, minimum = settings.number("TICKET_INTEL_WINDOW_WEEKS"), settings.number("TICKET_INTEL_MIN_WEEK_TICKETS")
    stored = queries.stored_labels(con)
    labels: dict[tuple, str] = {}
    shown: dict[str, str] = {}  # per theme, its latest replayed label: what the next week keeps
    for week in sorted(set(stored["week_start"])):
        ctx = load_week_context(con, week, window)
        docs = theme_docs(ctx.window, week, ctx.vectors, ranking_weeks(ctx, minimum))
        fresh = {t: extractive_summary(doc).label for t, doc in docs.items()}
        week_shown = week_labels(fresh, {**queries.earlier_labels(con, week), **shown}, docs, ctx.review)
        shown.update(week_shown)
        labels.update({(week, t): label for t, label in week_shown.items()})
    return labels


def figures(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """Ranked theme-weeks, consecutive ranked pairs and their label changes (replayed), replayed != stored."""
    stored = queries.stored_labels(con)
    replayed = replay(con)
    ranked = {(w, t) for w, t in zip(stored.loc[stored["ranked"], "week_start"],
                                     stored.loc[stored["ranked"], "theme_id"], strict=True)}
    pairs = [(w, t) for w, t in ranked if (w - timedelta(weeks=1), t) in ranked]
    changed = sum(replayed.get((w, t)) != replayed.get((w - timedelta(weeks=1), t)) for w, t in pairs)
    differ = sum(replayed.get((w, t)) != label for w, t, label in
                 zip(stored["week_start"], stored["theme_id"], stored["label"], strict=True))
    return {"ranked_theme_weeks": len(ranked), "consecutive_pairs": len(pairs), "label_changed": changed,
            "replayed_differ_from_stored": differ}


def main(argv: Sequence[str] | None = None) -> None:
    per_warehouse(figures, __doc__, argv)


if __name__ == "__main__":
    main()
