"""Load a week's context (core/context.py) from the warehouse: one read of the window per run."""

from __future__ import annotations

from datetime import date

import duckdb

from ticket_intel.core.context import WeekContext, make_context
from ticket_intel.core.families import family_parents
from ticket_intel.core.review import review_state
from ticket_intel.core.weeks import window as window_of
from ticket_intel.warehouse.connection import read, read_vectors, scalar
from ticket_intel.warehouse.queries import inbox_counts, reviews

_WINDOW = """
    SELECT c.ticket_id, c.ticket_week, c.theme_id, c.series_theme_id, c.similarity, c.assignment,
           r.customer_id, r.account_id, r.plan, r.monthly_revenue, r.tags, r.text, r.source, r.product,
           r.language, r.created_at, r.channel, r.meaning_text, r.meaning_phrases, e.embedding
    FROM staging.ticket_clusters c
    JOIN staging.redacted_tickets r ON r.ticket_id = c.ticket_id AND r.week_start = c.ticket_week
    JOIN staging.ticket_embeddings e ON e.ticket_id = c.ticket_id AND e.week_start = c.ticket_week
    WHERE c.week_start = ? ORDER BY c.ticket_id"""

# Each window ticket's triage row (core/theme_triage.py TRIAGE_FIELDS) and what its export says about
# its SLA (core/triage_report.py SLA_FACTS): status, hours to the first public agent reply, hours to
# the latest event its export file holds (a lower bound on when the file was exported), and whether
# that file carries agent replies at all.
_TRIAGE = """
    WITH replies AS (
        SELECT ticket_id, min(reply_at) AS first_reply_at FROM raw.ticket_replies
        WHERE is_public IS NOT FALSE GROUP BY ticket_id),
    files AS (
        SELECT t.source_file, greatest(max(t.created_at), max(p.reply_at)) AS last_event,
               count(p.reply_id) > 0 AS replies_exported
        FROM raw.tickets t LEFT JOIN raw.ticket_replies p USING (ticket_id) GROUP BY t.source_file)
    SELECT g.ticket_id, g.category, g.subcategory, g.signal_type, g.severity, g.urgency, g.sentiment,
           g.frustration, g.escalation, g.escalation_signals, g.churn_risk, g.assigned_team, g.sla_hours,
           g.escalated, g.needs_review, r.status AS ticket_status,
           date_diff('second', r.created_at, q.first_reply_at) / 3600.0 AS first_reply_hours,
           date_diff('second', r.created_at, f.last_event) / 3600.0 AS observed_hours, f.replies_exported
    FROM staging.ticket_clusters c
    JOIN marts.ticket_triage g ON g.ticket_id = c.ticket_id AND g.week_start = c.ticket_week
    LEFT JOIN raw.tickets r ON r.ticket_id = c.ticket_id AND r.week_start = c.ticket_week
    LEFT JOIN replies q ON q.ticket_id = c.ticket_id
    LEFT JOIN files f ON f.source_file = r.source_file
    WHERE c.week_start = ?"""


def ranked_before(con: duckdb.DuckDBPyConnection, week: date) -> frozenset[str]:
    """The themes ranked in a week before `week`: written by the ranking, a stage after the one that
    first reads a week's context in a run, so a cached context must read it again (`Warehouse.week_context`)."""
    return frozenset(r[0] for r in con.execute(
        "SELECT DISTINCT theme_id FROM marts.ranked_themes WHERE week_start < ?", [week]).fetchall())


def load_week_context(con: duckdb.DuckDBPyConnection, week: date, window_weeks: int) -> WeekContext:
    """The clustered window ending at `week`, reviewed and counted, with each theme's record and
    each ticket's triage."""
    frame, vectors = read_vectors(con, _WINDOW, [week])
    themes = read(con, "SELECT theme_id, first_seen, origin, product FROM staging.themes WHERE week_start = ?", [week])
    families, parents = family_parents(read(
        con, "SELECT week_start, theme_id, event, related_theme_ids FROM ops.theme_events "
             "WHERE week_start <= ? AND event IN ('split', 'new_group') ORDER BY week_start, theme_id", [week]),
        window_of(week, window_weeks)[0])
    return make_context(
        week, window_weeks, frame, review_state(reviews(con)), vectors=vectors,
        first_seen=dict(zip(themes["theme_id"], themes["first_seen"], strict=True)),
        origins=dict(zip(themes["theme_id"], themes["origin"], strict=True)),
        tracking_start=scalar(con, "SELECT min(week_start) FROM staging.themes"),
        ranked_before=ranked_before(con, week), families=families, parents=parents,
        triage=read(con, _TRIAGE, [week]), products_apart=bool(themes["product"].fillna("").ne("").any()),
        inbox_counts=inbox_counts(con),
    )
