"""The warehouse schema as ordered migrations, each recorded once in `ops.schema_version`.

A warehouse of any earlier release opens and is brought to the current schema on its first
connection: migration 1 is the schema as first released (it also completes warehouses made by
pre-release builds, which lack a few columns), and every later change is a new migration, never
an edit of an old one. Each migration runs in its own transaction with its version row.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from ticket_intel.warehouse import target

SCHEMAS = ("raw", "staging", "marts", "ops")

# The first released schema (migration 1). Tables holding vectors are created on the first
# embedding, when the model's width is known (`ensure_embedding_schema`).
_V1_TABLES = {
    "raw.tickets": """
        ticket_id VARCHAR NOT NULL, source VARCHAR NOT NULL, source_id VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL, week_start DATE NOT NULL,
        customer_id VARCHAR, account_id VARCHAR, plan VARCHAR, monthly_revenue DOUBLE,
        subject VARCHAR, message VARCHAR NOT NULL, channel VARCHAR, tags VARCHAR[],
        priority VARCHAR, status VARCHAR, source_file VARCHAR NOT NULL, locator VARCHAR,
        record VARCHAR, run_id VARCHAR""",
    "ops.rejected_tickets": """
        source_file VARCHAR NOT NULL, locator VARCHAR, source VARCHAR, record VARCHAR,
        reason VARCHAR NOT NULL, file_hash VARCHAR, run_id VARCHAR""",
    "ops.ingested_files": """
        source_file VARCHAR NOT NULL, file_hash VARCHAR, profile VARCHAR, accepted INTEGER,
        rejected INTEGER, skipped INTEGER, error VARCHAR, run_id VARCHAR""",
    "staging.redacted_tickets": """
        ticket_id VARCHAR NOT NULL, week_start DATE NOT NULL, created_at TIMESTAMP NOT NULL,
        source VARCHAR, customer_id VARCHAR, account_id VARCHAR, plan VARCHAR,
        monthly_revenue DOUBLE, channel VARCHAR, tags VARCHAR[], priority VARCHAR,
        subject VARCHAR, text VARCHAR NOT NULL, text_hash VARCHAR NOT NULL, n_chars INTEGER,
        embed_chars INTEGER, pii_found VARCHAR, run_id VARCHAR""",
    "staging.ticket_clusters": """
        week_start DATE NOT NULL, ticket_id VARCHAR NOT NULL, ticket_week DATE NOT NULL,
        theme_id VARCHAR, cluster INTEGER, probability DOUBLE, similarity DOUBLE,
        assignment VARCHAR, run_id VARCHAR, series_theme_id VARCHAR""",
    "ops.theme_events": """
        week_start DATE NOT NULL, theme_id VARCHAR NOT NULL, event VARCHAR NOT NULL,
        related_theme_ids VARCHAR[], detail VARCHAR, run_id VARCHAR""",
    "marts.cluster_summaries": """
        week_start DATE NOT NULL, theme_id VARCHAR NOT NULL, label VARCHAR, shared_issue VARCHAR,
        phrasings VARCHAR[], severity VARCHAR, severity_rationale VARCHAR, signal_type VARCHAR,
        product_area VARCHAR, backlog_title VARCHAR, backlog_user_story VARCHAR,
        backlog_severity VARCHAR, backlog_deflection DOUBLE, terms VARCHAR[],
        example_ticket_ids VARCHAR[], summarizer VARCHAR, review_status VARCHAR,
        merged_theme_ids VARCHAR[], run_id VARCHAR""",
    "marts.ranked_themes": """
        week_start DATE NOT NULL, rank INTEGER, theme_id VARCHAR NOT NULL, label VARCHAR,
        tickets INTEGER, customers INTEGER, tickets_prev_week INTEGER, wow_change DOUBLE,
        growth_4w DOUBLE, trend VARCHAR, paid_share DOUBLE, revenue DOUBLE, severity VARCHAR,
        signal_type VARCHAR, product_area VARCHAR, impact DOUBLE, summary VARCHAR,
        example_ticket_ids VARCHAR[], review_status VARCHAR, run_id VARCHAR""",
    "marts.not_a_theme": """
        week_start DATE NOT NULL, theme_id VARCHAR NOT NULL, label VARCHAR, tickets INTEGER,
        customers INTEGER, ticket_ids VARCHAR[], reason VARCHAR, run_id VARCHAR""",
    "marts.weekly_overview": """
        week_start DATE NOT NULL, tickets INTEGER, customers INTEGER, tickets_prev_week INTEGER,
        themes INTEGER, outlier_tickets INTEGER, warning VARCHAR, run_id VARCHAR""",
    "marts.weekly_reports": """
        week_start DATE NOT NULL, markdown VARCHAR, html_path VARCHAR, run_id VARCHAR""",
    "ops.alerts": """
        alert_key VARCHAR NOT NULL, week_start DATE NOT NULL, theme_id VARCHAR NOT NULL,
        kind VARCHAR NOT NULL, label VARCHAR, tickets INTEGER, customers INTEGER,
        baseline DOUBLE, ratio DOUBLE, p_value DOUBLE, customer_baseline DOUBLE,
        top_customer_tickets INTEGER, concentrated BOOLEAN, baseline_weeks INTEGER,
        example_ticket_ids VARCHAR[], run_id VARCHAR""",
    "ops.theme_reviews": """
        review_id INTEGER NOT NULL, theme_id VARCHAR NOT NULL, action VARCHAR NOT NULL,
        value VARCHAR, target_theme_id VARCHAR, reviewer VARCHAR, note VARCHAR,
        created_at TIMESTAMP NOT NULL""",
    "ops.llm_cache": """
        prompt_hash VARCHAR NOT NULL, model VARCHAR, response VARCHAR, created_at TIMESTAMP""",
}

# Enforced in a DuckDB file; a DuckLake has no keys, so writers to these tables insert only rows whose
# key is absent (`connection.insert_missing`) and never rely on the constraint.
PRIMARY_KEYS = {
    "ops.alerts": ("alert_key",),
    "ops.theme_reviews": ("review_id",),
    "ops.llm_cache": ("prompt_hash",),
    "ops.erased_tickets": ("ticket_hash",),
    "ops.embedding_cache": ("model", "text_hash"),
    "ops.schema_version": ("version",),
    "ops.theme_registry": ("theme_id",),
}


def create_table(con: duckdb.DuckDBPyConnection, table: str, columns: str) -> None:
    """CREATE TABLE IF NOT EXISTS, with the table's primary key where the warehouse supports keys."""
    key = PRIMARY_KEYS.get(table)
    constraint = f", PRIMARY KEY ({', '.join(key)})" if key and not target.is_lake(con) else ""
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns}{constraint})")


def _v1_baseline(con: duckdb.DuckDBPyConnection) -> None:
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for table, columns in _V1_TABLES.items():
        create_table(con, table, columns)
    # Pre-release warehouses lack these columns.
    con.execute("ALTER TABLE ops.ingested_files ADD COLUMN IF NOT EXISTS skipped INTEGER")
    for column in ("customer_baseline DOUBLE", "top_customer_tickets INTEGER", "concentrated BOOLEAN",
                   "baseline_weeks INTEGER"):
        con.execute(f"ALTER TABLE ops.alerts ADD COLUMN IF NOT EXISTS {column}")
    con.execute("ALTER TABLE staging.ticket_clusters ADD COLUMN IF NOT EXISTS series_theme_id VARCHAR")


def _v2_week_counts_and_origin(con: duckdb.DuckDBPyConnection) -> None:
    """Weekly counts persisted once; a theme's origin carried on its record; the series rule
    stored, not recomputed (rows written before the column existed count by their theme)."""
    con.execute("""CREATE TABLE IF NOT EXISTS staging.theme_week_counts (
        week_start DATE NOT NULL, theme_id VARCHAR NOT NULL, ticket_week DATE NOT NULL,
        tickets INTEGER NOT NULL, customers INTEGER NOT NULL, run_id VARCHAR)""")
    con.execute("UPDATE staging.ticket_clusters SET series_theme_id = theme_id WHERE series_theme_id IS NULL")
    con.execute("ALTER TABLE marts.ranked_themes ADD COLUMN IF NOT EXISTS trend_baseline DOUBLE")
    con.execute("ALTER TABLE marts.weekly_reports ADD COLUMN IF NOT EXISTS chart_counts VARCHAR")
    if table_exists(con, "staging.themes"):
        con.execute("ALTER TABLE staging.themes ADD COLUMN IF NOT EXISTS origin VARCHAR")
        con.execute("""UPDATE staging.themes t SET origin = b.event FROM staging.themes b
                       WHERE b.theme_id = t.theme_id AND b.week_start = t.first_seen AND t.origin IS NULL""")


def _v3_conversations(con: duckdb.DuckDBPyConnection) -> None:
    """One ticket per conversation: its product, language and customer follow-ups, and the agents'
    replies (the knowledge base of resolved tickets)."""
    for table in ("raw.tickets", "staging.redacted_tickets"):
        for column in ("product VARCHAR", "language VARCHAR", "followups INTEGER", "followup_text VARCHAR"):
            con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column}")
    con.execute("""CREATE TABLE IF NOT EXISTS raw.ticket_replies (
        ticket_id VARCHAR NOT NULL, reply_id VARCHAR NOT NULL, reply_at TIMESTAMP, author VARCHAR,
        text VARCHAR NOT NULL, is_public BOOLEAN, week_start DATE NOT NULL, run_id VARCHAR)""")


def _v4_theme_scopes(con: duckdb.DuckDBPyConnection) -> None:
    """Themes form within a product; the product is part of the theme's record."""
    if table_exists(con, "staging.themes"):
        con.execute("ALTER TABLE staging.themes ADD COLUMN IF NOT EXISTS product VARCHAR")
    con.execute("ALTER TABLE marts.ranked_themes ADD COLUMN IF NOT EXISTS products VARCHAR")


def _v5_taxonomy_coverage(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("ALTER TABLE marts.weekly_overview ADD COLUMN IF NOT EXISTS taxonomy_coverage DOUBLE")


def _v6_ticket_triage(con: duckdb.DuckDBPyConnection) -> None:
    """Per-ticket triage: category, urgency, sentiment, escalation and the route it implies."""
    con.execute("""CREATE TABLE IF NOT EXISTS marts.ticket_triage (
        week_start DATE NOT NULL, ticket_id VARCHAR NOT NULL, category VARCHAR, subcategory VARCHAR,
        signal_type VARCHAR, severity VARCHAR, urgency VARCHAR, sentiment DOUBLE, frustration VARCHAR,
        escalation BOOLEAN, escalation_signals VARCHAR[], churn_risk VARCHAR, language VARCHAR,
        product_area VARCHAR, assigned_team VARCHAR, sla_hours DOUBLE, escalated BOOLEAN, confidence DOUBLE,
        needs_review BOOLEAN, triage_source VARCHAR, summary VARCHAR, goal VARCHAR, run_id VARCHAR)""")


def _v7_related_alerts(con: duckdb.DuckDBPyConnection) -> None:
    """An alert names the themes it spans: the other pieces of a split spike, a new group's parent."""
    con.execute("ALTER TABLE ops.alerts ADD COLUMN IF NOT EXISTS related_theme_ids VARCHAR[]")


def _v8_meaning_text(con: duckdb.DuckDBPyConnection) -> None:
    """The text for meaning (what is embedded and what terms come from) beside the text for people.
    Tickets redacted before it have none: embedding and clustering read their text until re-redacted."""
    con.execute("ALTER TABLE staging.redacted_tickets ADD COLUMN IF NOT EXISTS meaning_text VARCHAR")


def _v9_theme_triage(con: duckdb.DuckDBPyConnection) -> None:
    """Themes carry how their tickets feel, from per-ticket triage (core/theme_triage.py)."""
    for column in ("sentiment DOUBLE", "frustration_share DOUBLE", "escalation_share DOUBLE",
                   "churn_risk_customers INTEGER", "triaged_tickets INTEGER"):
        con.execute(f"ALTER TABLE marts.ranked_themes ADD COLUMN IF NOT EXISTS {column}")


# Migration 10: closing the loop (docs/loop.md). Inputs beside the exports, per-theme findings and
# the marts they come with, release links on alerts, and the tracker sync state. No table declares a key: writers
# replace rows by key (`connection.replace`), so the tables also work where keys cannot be declared.
_V10_TABLES = {
    "raw.help_center_articles": """
        article_id VARCHAR NOT NULL, source VARCHAR, title VARCHAR NOT NULL, text VARCHAR, url VARCHAR,
        published_at TIMESTAMP, source_file VARCHAR, text_hash VARCHAR NOT NULL""",
    "raw.releases": """
        version VARCHAR NOT NULL, released_at TIMESTAMP NOT NULL, notes VARCHAR, source_file VARCHAR""",
    "marts.theme_segments": """
        week_start DATE NOT NULL, theme_id VARCHAR NOT NULL, field VARCHAR NOT NULL, value VARCHAR NOT NULL,
        tickets INTEGER, theme_tickets INTEGER, share DOUBLE, baseline_share DOUBLE, p_value DOUBLE,
        raw_p_value DOUBLE, run_id VARCHAR""",
    "marts.theme_parents": """
        week_start DATE NOT NULL, theme_id VARCHAR NOT NULL, parent_id VARCHAR, parent_label VARCHAR,
        parent_kind VARCHAR, run_id VARCHAR""",
    "marts.theme_customers": """
        week_start DATE NOT NULL, theme_id VARCHAR NOT NULL, customer_id VARCHAR NOT NULL, account_id VARCHAR,
        plan VARCHAR, monthly_revenue DOUBLE, tickets INTEGER, first_ticket_at TIMESTAMP,
        last_ticket_at TIMESTAMP, run_id VARCHAR""",
    "marts.customers_at_risk": """
        week_start DATE NOT NULL, customer_id VARCHAR NOT NULL, account_id VARCHAR, plan VARCHAR,
        monthly_revenue DOUBLE, tickets INTEGER, frustrated INTEGER, escalated INTEGER,
        escalation_signals VARCHAR[], churn_flagged INTEGER, evidence VARCHAR[], reason VARCHAR, run_id VARCHAR""",
    "ops.backlog_links": """
        tracker VARCHAR NOT NULL, theme_id VARCHAR NOT NULL, issue_key VARCHAR NOT NULL, issue_url VARCHAR,
        created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, last_synced_week DATE,
        content_hash VARCHAR""",
    "ops.backlog_outbox": """
        tracker VARCHAR NOT NULL, key VARCHAR NOT NULL, kind VARCHAR NOT NULL, theme_id VARCHAR NOT NULL,
        week DATE NOT NULL, action VARCHAR NOT NULL, attempts INTEGER NOT NULL, error VARCHAR,
        updated_at TIMESTAMP NOT NULL""",
    "ops.backlog_comments": """
        tracker VARCHAR NOT NULL, key VARCHAR NOT NULL, issue_key VARCHAR, theme_id VARCHAR, week DATE,
        sent_at TIMESTAMP NOT NULL""",
}
_V10_COLUMNS = {
    "marts.ranked_themes": (
        "docs_status VARCHAR", "docs_article VARCHAR", "docs_article_url VARCHAR", "docs_note VARCHAR",
        "after_release VARCHAR", "after_release_days INTEGER", "fix_release VARCHAR", "fix_status VARCHAR", "fix_note VARCHAR", "parent_id VARCHAR", "parent VARCHAR", "notes VARCHAR[]"),
    "marts.weekly_overview": ("help_center_articles INTEGER",),
    "ops.alerts": ("after_release VARCHAR", "after_release_days INTEGER", "fix_release VARCHAR"),
}


def _v10_closing_the_loop(con: duckdb.DuckDBPyConnection) -> None:
    for table, columns in _V10_TABLES.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
    for table, columns in _V10_COLUMNS.items():
        for column in columns:
            con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column}")


def _v11_assist(con: duckdb.DuckDBPyConnection) -> None:
    """The knowledge base of resolved tickets (vectors stay in the embedding cache, keyed by the
    model and text hash the row names) and the reply drafts for tickets awaiting an answer."""
    con.execute("""CREATE TABLE IF NOT EXISTS staging.resolved_tickets (
        ticket_id VARCHAR NOT NULL, week_start DATE NOT NULL, status VARCHAR, text VARCHAR NOT NULL,
        text_hash VARCHAR NOT NULL, model VARCHAR NOT NULL, resolution VARCHAR NOT NULL,
        public_replies INTEGER, resolved_at TIMESTAMP, run_id VARCHAR)""")
    con.execute("""CREATE TABLE IF NOT EXISTS marts.reply_drafts (
        week_start DATE NOT NULL, ticket_id VARCHAR NOT NULL, draft VARCHAR, method VARCHAR NOT NULL,
        cited_ticket_ids VARCHAR[], top_similarity DOUBLE, note VARCHAR, run_id VARCHAR)""")


def _v12_file_truth(con: duckdb.DuckDBPyConnection) -> None:
    """Each export as read (size beside its hash), its tickets outside the run's weeks counted, and
    whether it is still in the inbox with how many of its tickets the warehouse keeps (issue 12). Rows of
    inputs that are not ticket exports keep in_inbox NULL: retention leaves them alone."""
    for column in ("file_bytes BIGINT", "out_of_range INTEGER", "in_inbox BOOLEAN", "kept INTEGER"):
        con.execute(f"ALTER TABLE ops.ingested_files ADD COLUMN IF NOT EXISTS {column}")
    con.execute("""UPDATE ops.ingested_files SET in_inbox = true WHERE source_file IN
                   (SELECT source_file FROM raw.tickets UNION SELECT source_file FROM ops.rejected_tickets)""")


def _v13_placement(con: duckdb.DuckDBPyConnection) -> None:
    """A theme week is fit in full or placed into last week's themes (core/placement.py): record which,
    the week of the fit it rests on, its window's tickets and the share of that fit's window it left as outliers. Rows written
    before hold NULL there, so the next week after an upgrade is fit in full."""
    if table_exists(con, "staging.themes"):
        for column in ("fit VARCHAR", "last_fit DATE", "fit_tickets INTEGER", "fit_outliers DOUBLE"):
            con.execute(f"ALTER TABLE staging.themes ADD COLUMN IF NOT EXISTS {column}")


def _v14_fences(con: duckdb.DuckDBPyConnection) -> None:
    """A theme week records the fence placement admits tickets by (core/placement.py): its fit's.
    Rows written before hold NULL; a placed week then draws the fence around the theme's tickets."""
    if table_exists(con, "staging.themes"):
        con.execute("ALTER TABLE staging.themes ADD COLUMN IF NOT EXISTS fence DOUBLE")


def _v15_segment_scopes(con: duckdb.DuckDBPyConnection) -> None:
    """A segment claim records the product its theme was compared within (core/segments.py); rows
    written before compared with the whole queue."""
    if table_exists(con, "marts.theme_segments"):
        con.execute("ALTER TABLE marts.theme_segments ADD COLUMN IF NOT EXISTS scope VARCHAR")


def _v16_product_names(con: duckdb.DuckDBPyConnection) -> None:
    """A ranked theme lists its products by name (`products` is the display string). Rows written
    before get the names read back from their display string (`Acme 7 · (none) 2`), once: a name
    holding " · " is split there until the week is run again."""
    con.execute("ALTER TABLE marts.ranked_themes ADD COLUMN IF NOT EXISTS product_names VARCHAR[]")
    con.execute("""UPDATE marts.ranked_themes
                   SET product_names = list_transform(string_split(products, ' · '), p -> regexp_replace(p, ' [0-9]+$', ''))
                   WHERE products IS NOT NULL AND product_names IS NULL""")


def _v17_product_counts(con: duckdb.DuckDBPyConnection) -> None:
    """A ranked theme stores each product's ticket count beside its name, so nothing parses the
    display string `products`. Rows written before get the counts read back from it, once, as
    migration 16 read their names."""
    con.execute("ALTER TABLE marts.ranked_themes ADD COLUMN IF NOT EXISTS product_counts INTEGER[]")
    con.execute("""UPDATE marts.ranked_themes
                   SET product_counts = list_transform(string_split(products, ' · '),
                                                       p -> CAST(regexp_extract(p, ' ([0-9]+)$', 1) AS INTEGER))
                   WHERE products IS NOT NULL AND product_counts IS NULL""")


def _v18_ranked_weeks(con: duckdb.DuckDBPyConnection) -> None:
    """A ranked theme says how many weeks its counts cover: 1, or a small queue's last few weeks
    (`rank.ranking_weeks`). Rows written before covered their week alone."""
    con.execute("ALTER TABLE marts.ranked_themes ADD COLUMN IF NOT EXISTS ranked_weeks INTEGER")
    con.execute("UPDATE marts.ranked_themes SET ranked_weeks = 1 WHERE ranked_weeks IS NULL")


def _v19_described_share(con: duckdb.DuckDBPyConnection) -> None:
    """A theme's summary says how many of its tickets its leading terms describe
    (`summarize.described_share`); rows written before stay unknown until their week runs again."""
    con.execute("ALTER TABLE marts.cluster_summaries ADD COLUMN IF NOT EXISTS described_share DOUBLE")


def _v20_alert_since(con: duckdb.DuckDBPyConnection) -> None:
    """A new-pattern alert says the week its tickets count from: the week before its own for a new
    group found over two weeks (core/subgroups.py). Rows written before counted their week alone."""
    con.execute("ALTER TABLE ops.alerts ADD COLUMN IF NOT EXISTS since DATE")
    con.execute("UPDATE ops.alerts SET since = week_start WHERE kind = 'new_pattern' AND since IS NULL")


def _v21_alert_related_labels(con: duckdb.DuckDBPyConnection) -> None:
    """An alert keeps its related themes' labels of its week beside their ids, so a notification
    and the report say what a new group's parent is. Rows written before name ids alone."""
    con.execute("ALTER TABLE ops.alerts ADD COLUMN IF NOT EXISTS related_labels VARCHAR[]")


def _v22_repeated_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Each export counts its tickets a later export holds again unchanged (`repeated`): they were
    counted nowhere. Rows written before hold NULL (read as 0)."""
    con.execute("ALTER TABLE ops.ingested_files ADD COLUMN IF NOT EXISTS repeated INTEGER")


def _v23_ranked_tickets(con: duckdb.DuckDBPyConnection) -> None:
    """A week's overview counts its tickets in ranked themes, so the report can say how many are in
    themes not ranked beside those in none. Rows written before hold NULL (the report says less)."""
    con.execute("ALTER TABLE marts.weekly_overview ADD COLUMN IF NOT EXISTS ranked_tickets INTEGER")


def _v24_theme_registry(con: duckdb.DuckDBPyConnection) -> None:
    """Every theme id issued, with the week and the theme it was first issued to (its centroid and
    the window's tickets it held), so no id is issued again to another theme (core/identity.py,
    point 4). Seeded with each stored id's first week, and with the ids only reviews and tracker
    links still name (no theme: they are never issued again)."""
    create_table(con, "ops.theme_registry", """
        theme_id VARCHAR NOT NULL, week_start DATE, centroid FLOAT[], ticket_ids VARCHAR[], run_id VARCHAR""")
    if table_exists(con, "staging.themes"):
        con.execute("""
            INSERT INTO ops.theme_registry
            SELECT t.theme_id, t.week_start, any_value(t.centroid)::FLOAT[],
                   coalesce(list(c.ticket_id) FILTER (c.ticket_id IS NOT NULL), []), any_value(t.run_id)
            FROM staging.themes t
            JOIN (SELECT theme_id, min(week_start) AS week_start FROM staging.themes GROUP BY theme_id) f
                USING (theme_id, week_start)
            LEFT JOIN staging.ticket_clusters c ON c.week_start = t.week_start AND c.theme_id = t.theme_id
            GROUP BY t.theme_id, t.week_start""")
    con.execute("""INSERT INTO ops.theme_registry (theme_id)
                    SELECT DISTINCT theme_id FROM (SELECT theme_id FROM ops.theme_reviews
                        UNION ALL SELECT target_theme_id FROM ops.theme_reviews
                        UNION ALL SELECT theme_id FROM ops.backlog_links) n(theme_id)
                    WHERE theme_id IS NOT NULL AND theme_id NOT IN (SELECT theme_id FROM ops.theme_registry)""")


def _v25_report_revisions(con: duckdb.DuckDBPyConnection) -> None:
    """A week's report records when it was first written and with how many tickets, and the same of
    this version, so a report written again (late tickets, a backfill, an upgrade) says it was
    revised. Rows written before hold NULL (the report says it was revised, not since when)."""
    for column in ("first_written_at TIMESTAMP", "first_tickets INTEGER", "written_at TIMESTAMP", "tickets INTEGER"):
        con.execute(f"ALTER TABLE marts.weekly_reports ADD COLUMN IF NOT EXISTS {column}")


def _v26_cut_short_exports(con: duckdb.DuckDBPyConnection) -> None:
    """Whether an export ended mid-record (cut short, or still being written): its earlier tickets
    it lacks are kept, not removed (core/sources `whole_reads`)."""
    con.execute("ALTER TABLE ops.ingested_files ADD COLUMN IF NOT EXISTS cut_short BOOLEAN")


def _v27_file_warnings(con: duckdb.DuckDBPyConnection) -> None:
    """What a usable export showed that may mean it was misread (a mapping's `agents` or `filter`
    value no row holds), said on its line (core/sources `file_summary`)."""
    con.execute("ALTER TABLE ops.ingested_files ADD COLUMN IF NOT EXISTS warning VARCHAR")


def _v28_plan_known_customers(con: duckdb.DuckDBPyConnection) -> None:
    """How many of a theme's customers have a known plan: the base of its paid share, which the
    report shows ("75%" was 3 of 4 known plans, of 7 customers)."""
    con.execute("ALTER TABLE marts.ranked_themes ADD COLUMN IF NOT EXISTS plan_known_customers INTEGER")


def _v29_retention(con: duckdb.DuckDBPyConnection) -> None:
    """Each retention by age: the weeks before `cutoff` hold aggregates only (warehouse/retention.py),
    so no run ingests them again."""
    create_table(con, "ops.retention", "cutoff DATE NOT NULL, keep_weeks INTEGER NOT NULL, "
                                       "applied_at TIMESTAMP NOT NULL, tickets BIGINT")


def _v30_alert_pieces_and_example_lines(con: duckdb.DuckDBPyConnection) -> None:
    """A family spike keeps each other piece's tickets of its week (`related_tickets`, beside
    `related_theme_ids`), and every alert a short redacted first line of each example (`example_lines`,
    beside `example_ticket_ids`). Rows written before name the pieces and examples alone."""
    con.execute("ALTER TABLE ops.alerts ADD COLUMN IF NOT EXISTS related_tickets INTEGER[]")
    con.execute("ALTER TABLE ops.alerts ADD COLUMN IF NOT EXISTS example_lines VARCHAR[]")


def _v31_erased_tickets(con: duckdb.DuckDBPyConnection) -> None:
    """The tickets `ticket-intel erase` erased, by a hash of their id (warehouse/erasure.py): an export
    that still holds one does not bring it back."""
    create_table(con, "ops.erased_tickets", "ticket_hash VARCHAR NOT NULL, erased_at TIMESTAMP NOT NULL")


def _v32_queue_surges(con: duckdb.DuckDBPyConnection) -> None:
    """A queue surge is an alert of no theme (`queue_surge`, theme_id NULL), and a spike that rose with
    it says so (`with_queue`); rows written before hold NULL, a spike paged on its own. Run again on a
    schema past it (a lake whose recorded versions were lost), the constraint is already gone."""
    nullable = con.execute(
        """SELECT is_nullable FROM information_schema.columns WHERE table_catalog = current_database()
           AND table_schema = 'ops' AND table_name = 'alerts' AND column_name = 'theme_id'""").fetchone()
    if nullable is not None and nullable[0] == "NO":
        con.execute("ALTER TABLE ops.alerts ALTER COLUMN theme_id DROP NOT NULL")
    con.execute("ALTER TABLE ops.alerts ADD COLUMN IF NOT EXISTS with_queue BOOLEAN")


def _v33_summary_taxonomy(con: duckdb.DuckDBPyConnection) -> None:
    """A week's summaries record the taxonomy their product areas were built with (its file and
    content digest), so a shell naming another, and a report whose weeks mixed two, can say which.
    Rows written before hold NULL (unknown) until their week is summarized again."""
    con.execute("ALTER TABLE marts.cluster_summaries ADD COLUMN IF NOT EXISTS taxonomy_file VARCHAR")
    con.execute("ALTER TABLE marts.cluster_summaries ADD COLUMN IF NOT EXISTS taxonomy_digest VARCHAR")


def _v34_llm_cache_tickets(con: duckdb.DuckDBPyConnection) -> None:
    """Each cached LLM answer records the tickets whose text its prompt held, so erasure and retention
    delete the answers built from the tickets they delete (a prompt's hash names nobody). Rows written
    before hold NULL: no one can tell whose, and the next erasure or retention deletes them."""
    con.execute("ALTER TABLE ops.llm_cache ADD COLUMN IF NOT EXISTS ticket_ids VARCHAR[]")


def _v35_week_configs(con: duckdb.DuckDBPyConnection) -> None:
    """A week records every setting that shapes its themes (`marts.week_configs`, a row per setting:
    its value, or a file's digest and path), the taxonomy one of them: the weeks migration 33 gave a
    taxonomy keep it, and their other settings are unknown. Run again on a schema past it (a lake whose
    recorded versions were lost), the summaries' columns are already gone."""
    create_table(con, "marts.week_configs", """week_start DATE NOT NULL, setting VARCHAR NOT NULL,
                 value VARCHAR, file VARCHAR, run_id VARCHAR""")
    columns = {r[0] for r in con.execute(
        """SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database()
           AND table_schema = 'marts' AND table_name = 'cluster_summaries'""").fetchall()}
    if "taxonomy_digest" not in columns:
        return
    con.execute("""INSERT INTO marts.week_configs
                   SELECT week_start, 'TICKET_INTEL_TAXONOMY', any_value(taxonomy_digest),
                          coalesce(any_value(taxonomy_file), ''), any_value(run_id)
                   FROM marts.cluster_summaries WHERE taxonomy_digest IS NOT NULL GROUP BY week_start""")
    con.execute("ALTER TABLE marts.cluster_summaries DROP COLUMN taxonomy_file")
    con.execute("ALTER TABLE marts.cluster_summaries DROP COLUMN taxonomy_digest")


def _v36_skipped_kinds(con: duckdb.DuckDBPyConnection) -> None:
    """An export's rows that are no ticket counted per kind (`skipped_kinds`, JSON: replies, follow-ups,
    each bot's rows), so its line says which they were: Swift's said "4683 not tickets (replies, …)" of
    the swift-ci bot's rows. Rows written before hold NULL (said as before)."""
    con.execute("ALTER TABLE ops.ingested_files ADD COLUMN IF NOT EXISTS skipped_kinds VARCHAR")


def _v37_inbox_weeks(con: duckdb.DuckDBPyConnection) -> None:
    """The inbox's tickets per week as the latest ingest read them, the weeks outside those it ran
    and before the partitions too, and, on a last week its export cut short, where the inbox's
    tickets end and the share of a usual week's tickets by then (core/rates.py `CutWeek`): `themes`
    on that week said "no data", where the run had left it out and said why."""
    create_table(con, "ops.inbox_weeks", "week_start DATE NOT NULL, tickets INTEGER NOT NULL, latest TIMESTAMP, "
                                         "covered DOUBLE, run_id VARCHAR")


def _v38_meaning_phrases(con: duckdb.DuckDBPyConnection) -> None:
    """Each ticket's text for meaning split into phrases once, when redacted (`summarize.stored_phrases`),
    not again every week a window summarizes it; NULL for tickets redacted before: split when read."""
    con.execute("ALTER TABLE staging.redacted_tickets ADD COLUMN IF NOT EXISTS meaning_phrases VARCHAR")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[duckdb.DuckDBPyConnection], None]


MIGRATIONS = (
    Migration(1, "baseline schema", _v1_baseline),
    Migration(2, "theme week counts, theme origin, trend baseline, chart counts", _v2_week_counts_and_origin),
    Migration(3, "conversations: product, language, follow-ups, agent replies", _v3_conversations),
    Migration(4, "themes within a product", _v4_theme_scopes),
    Migration(5, "taxonomy coverage per week", _v5_taxonomy_coverage),
    Migration(6, "per-ticket triage", _v6_ticket_triage),
    Migration(7, "alerts name their related themes", _v7_related_alerts),
    Migration(8, "text for meaning", _v8_meaning_text),
    Migration(9, "themes carry their tickets' sentiment, frustration, escalation and churn risk", _v9_theme_triage),
    Migration(10, "help center, releases, theme findings, segments, customers, hierarchy, backlog sync",
              _v10_closing_the_loop),
    Migration(11, "resolved tickets (knowledge base) and reply drafts", _v11_assist),
    Migration(12, "ingested files: size, out of range, still in the inbox, tickets kept", _v12_file_truth),
    Migration(13, "theme weeks record whether they were fit or placed, and their last full fit", _v13_placement),
    Migration(14, "theme weeks record the fence placement admits tickets by", _v14_fences),
    Migration(15, "segment claims record the product their theme was compared within", _v15_segment_scopes),
    Migration(16, "ranked themes list their products by name", _v16_product_names),
    Migration(17, "ranked themes store each product's ticket count", _v17_product_counts),
    Migration(18, "ranked themes say how many weeks their counts cover", _v18_ranked_weeks),
    Migration(19, "theme summaries say how many of their tickets their leading terms describe", _v19_described_share),
    Migration(20, "new-pattern alerts say the week their tickets count from", _v20_alert_since),
    Migration(21, "alerts keep their related themes' labels", _v21_alert_related_labels),
    Migration(22, "exports count their tickets a later export repeats unchanged", _v22_repeated_rows),
    Migration(23, "week overviews count their tickets in ranked themes", _v23_ranked_tickets),
    Migration(24, "every theme id issued, never issued again", _v24_theme_registry),
    Migration(25, "weekly reports record when and with how many tickets they were first written", _v25_report_revisions),
    Migration(26, "exports that end mid-record are marked, and keep what they held", _v26_cut_short_exports),
    Migration(27, "exports carry a warning when a mapping's rule value matches none of their rows", _v27_file_warnings),
    Migration(28, "ranked themes count the customers whose plan is known, the base of the paid share",
              _v28_plan_known_customers),
    Migration(29, "retention by age records its cutoff", _v29_retention),
    Migration(30, "family spikes count each piece, and alerts quote their examples", _v30_alert_pieces_and_example_lines),
    Migration(31, "erased tickets are denylisted", _v31_erased_tickets),
    Migration(32, "a surge of the whole queue is one alert, naming the spikes that rose with it", _v32_queue_surges),
    Migration(33, "theme summaries record the taxonomy their product areas were built with", _v33_summary_taxonomy),
    Migration(34, "cached LLM answers record the tickets their prompt held", _v34_llm_cache_tickets),
    Migration(35, "a week records every setting that shapes its themes, the taxonomy one of them", _v35_week_configs),
    Migration(36, "exports count their rows that are no ticket per kind, a bot's by its name", _v36_skipped_kinds),
    Migration(37, "the inbox's tickets per week, and a last week its export cut short", _v37_inbox_weeks),
    Migration(38, "each ticket's text for meaning is split into phrases once", _v38_meaning_phrases),
)
LATEST = MIGRATIONS[-1].version


def applied_version(con: duckdb.DuckDBPyConnection) -> int:
    if not table_exists(con, "ops.schema_version"):
        return 0
    return int(con.execute("SELECT coalesce(max(version), 0) FROM ops.schema_version").fetchone()[0])


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the migrations this warehouse lacks, in order; returns the versions applied. On a DuckLake
    another writer may migrate at the same moment: a refused commit is retried and finds it done."""
    return target.retry_conflicts(lambda: _migrate_once(con))


def _migrate_once(con: duckdb.DuckDBPyConnection) -> list[int]:
    current = applied_version(con)
    if current == LATEST:
        return []
    if current > LATEST:
        raise ValueError(f"this warehouse has schema version {current}, newer than this ticket_intel "
                         f"({LATEST}); upgrade ticket_intel")
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    create_table(con, "ops.schema_version", "version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL")
    done = []
    for m in MIGRATIONS:
        if m.version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            m.apply(con)
            con.execute("INSERT INTO ops.schema_version VALUES (?, ?, ?)",
                        [m.version, m.name, datetime.now(UTC).replace(tzinfo=None)])
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # a failed COMMIT has ended it already
                con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")  # a refused commit ends the transaction: nothing to roll back
        done.append(m.version)
    if current:  # an upgrade, said once: it cannot be undone (upgrade review)
        logging.getLogger("ticket_intel.warehouse").warning(
            "warehouse schema upgraded from version %d to %d (%s): earlier releases can no longer write it, and "
            "its weeks run again with this release's code on the next run", current, LATEST,
            "; ".join(m.name for m in MIGRATIONS if m.version in done))
    return done


def _embedding_tables(vector: str) -> dict[str, str]:
    """Tables holding vectors of SQL type `vector`: FLOAT[dim] pins the model's width in a DuckDB file;
    a DuckLake has no fixed-size arrays (FLOAT[])."""
    return {
        "ops.embedding_cache": f"""
            model VARCHAR NOT NULL, text_hash VARCHAR NOT NULL, embedding {vector} NOT NULL""",
        "staging.ticket_embeddings": f"""
            week_start DATE NOT NULL, ticket_id VARCHAR NOT NULL, model VARCHAR NOT NULL,
            text_hash VARCHAR NOT NULL, embedding {vector} NOT NULL, run_id VARCHAR""",
        "staging.themes": f"""
            week_start DATE NOT NULL, theme_id VARCHAR NOT NULL, cluster INTEGER, size INTEGER,
            week_tickets INTEGER, centroid {vector}, event VARCHAR, first_seen DATE,
            run_id VARCHAR, origin VARCHAR, product VARCHAR, fit VARCHAR, last_fit DATE, fit_tickets INTEGER,
            fit_outliers DOUBLE, fence DOUBLE""",
    }


def ensure_embedding_schema(con: duckdb.DuckDBPyConnection, dim: int) -> None:
    """Create the vector tables, refusing a model whose width differs from the stored one."""
    existing = stored_embedding_dim(con)
    if existing is not None and existing != dim:
        raise ValueError(
            f"this warehouse stores {existing}-dimensional embeddings but the configured model "
            f"produces {dim}; point TICKET_INTEL_WAREHOUSE at a new file to switch models"
        )
    vector = "FLOAT[]" if target.is_lake(con) else f"FLOAT[{dim}]"
    for table, columns in _embedding_tables(vector).items():
        target.retry_conflicts(lambda t=table, c=columns: create_table(con, t, c))


def stored_embedding_dim(con: duckdb.DuckDBPyConnection) -> int | None:
    row = con.execute(
        """SELECT data_type FROM information_schema.columns WHERE table_catalog = current_database()
           AND table_schema = 'ops' AND table_name = 'embedding_cache' AND column_name = 'embedding'"""
    ).fetchone()
    if row is None:
        return None
    width = row[0].split("[")[1].rstrip("]")
    if width:
        return int(width)
    # FLOAT[] (a DuckLake): the width of any stored vector
    stored = con.execute("SELECT len(embedding) FROM ops.embedding_cache LIMIT 1").fetchone()
    return None if stored is None else int(stored[0])


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )
