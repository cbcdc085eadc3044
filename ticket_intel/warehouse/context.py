"""Load a week's context (core/context.py) from the warehouse: one read of the window per run."""

from __future__ import annotations

from datetime import date

import duckdb

from ticket_intel.core.context import WeekContext, make_context
from ticket_intel.core.review import review_state
from ticket_intel.warehouse.connection import embeddings_matrix, read, scalar
from ticket_intel.warehouse.queries import reviews

_WINDOW = """
    SELECT c.ticket_id, c.ticket_week, c.theme_id, c.series_theme_id, c.similarity, c.assignment,
           r.customer_id, r.account_id, r.plan, r.monthly_revenue, r.tags, r.text, r.source, r.created_at,
           r.channel, e.embedding
    FROM staging.ticket_clusters c
    JOIN staging.redacted_tickets r ON r.ticket_id = c.ticket_id AND r.week_start = c.ticket_week
    JOIN staging.ticket_embeddings e ON e.ticket_id = c.ticket_id AND e.week_start = c.ticket_week
    WHERE c.week_start = ? ORDER BY c.ticket_id"""


def load_week_context(con: duckdb.DuckDBPyConnection, week: date, window_weeks: int) -> WeekContext:
    """The clustered window ending at `week`, reviewed and counted, with each theme's record."""
    frame = read(con, _WINDOW, [week])
    themes = read(con, "SELECT theme_id, first_seen, origin FROM staging.themes WHERE week_start = ?", [week])
    ranked = con.execute("SELECT DISTINCT theme_id FROM marts.ranked_themes WHERE week_start < ?", [week]).fetchall()
    return make_context(
        week, window_weeks, frame.drop(columns="embedding"), review_state(reviews(con)),
        vectors=embeddings_matrix(frame),
        first_seen=dict(zip(themes["theme_id"], themes["first_seen"], strict=True)),
        origins=dict(zip(themes["theme_id"], themes["origin"], strict=True)),
        tracking_start=scalar(con, "SELECT min(week_start) FROM staging.themes"),
        ranked_before=frozenset(r[0] for r in ranked),
    )
