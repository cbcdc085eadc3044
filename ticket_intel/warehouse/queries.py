"""Every named read and write the stages and the command line make, in one place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from ticket_intel.core.rates import CutWeek
from ticket_intel.core.sources import SET_ASIDE
from ticket_intel.core.week_config import TAXONOMY, Value
from ticket_intel.warehouse.connection import (
    Replace,
    in_transaction,
    insert_missing,
    read,
    read_vectors,
    scalar,
)
from ticket_intel.warehouse.schema import ensure_embedding_schema, table_exists
from ticket_intel.warehouse.target import retry_conflicts


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# --- ingest, redaction, embeddings ---------------------------------------------------------

def raw_tickets(con: duckdb.DuckDBPyConnection, weeks: Sequence[date]) -> pd.DataFrame:
    return read(con, "SELECT * FROM raw.tickets WHERE week_start IN (SELECT unnest(?)) ORDER BY ticket_id", [weeks])


def redacted_texts(con: duckdb.DuckDBPyConnection, weeks: Sequence[date]) -> pd.DataFrame:
    """The weeks' texts for meaning (the text, for tickets redacted before it existed) and their hashes."""
    return read(con, "SELECT ticket_id, week_start, coalesce(meaning_text, text) AS meaning_text, text_hash "
                     "FROM staging.redacted_tickets WHERE week_start IN (SELECT unnest(?)) ORDER BY ticket_id", [weeks])


def weeks_with_tickets(con: duckdb.DuckDBPyConnection, weeks: Sequence[date]) -> list[date]:
    """Those of `weeks` that hold at least one redacted ticket, oldest first."""
    rows = con.execute("SELECT DISTINCT week_start FROM staging.redacted_tickets WHERE week_start IN (SELECT unnest(?)) "
                       "ORDER BY 1", [list(weeks)]).fetchall()
    return [r[0] for r in rows]


def ingested_files(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each export as the last run that listed it saw it; `in_inbox` false: gone, its `kept` tickets stay.
    Of its `rejected` records, those set aside though sound, per kind (`SET_ASIDE`: `early`, `superseded`)."""
    aside = ", ".join(f"coalesce({kind}, 0) AS {kind}" for kind in SET_ASIDE)
    counts, params = set_aside_sql("ops.rejected_tickets")
    return read(con, "SELECT source_file, file_hash, profile, accepted, rejected, coalesce(skipped, 0) AS skipped, "
                     "skipped_kinds, coalesce(repeated, 0) AS repeated, coalesce(out_of_range, 0) AS out_of_range, "
                     "coalesce(in_inbox, true) AS in_inbox, "
                     f"coalesce(kept, 0) AS kept, error, coalesce(cut_short, false) AS cut_short, warning, {aside} "
                     "FROM ops.ingested_files "
                     f"LEFT JOIN ({counts}) USING (source_file) ORDER BY source_file", params)


def set_aside_sql(table: str) -> tuple[str, list[str]]:
    """Per source file of a rejections table, its count of each kind of `SET_ASIDE`: the query
    and its parameters (each kind's LIKE pattern)."""
    counts = ", ".join(f"count(*) FILTER (WHERE reason LIKE ?) AS {kind}" for kind in SET_ASIDE)
    return f"SELECT source_file, {counts} FROM {table} GROUP BY ALL", [pattern for pattern, _ in SET_ASIDE.values()]


def rejection_reasons_sql(table: str) -> tuple[str, list[str]]:
    """Per source file of a rejections table, its malformed records by kind of reason (`source_file`,
    `kind`, an example `reason`, `records`): reasons that differ only in the values they quote (a
    date, an id) are one kind. Sound records set aside (`SET_ASIDE`) are left out."""
    sound = " AND ".join("reason NOT LIKE ?" for _ in SET_ASIDE)
    return (f"SELECT source_file, regexp_replace(reason, ?, '…', 'g') AS kind, min(reason) AS reason, "
            f"count(*) AS records FROM {table} WHERE {sound} GROUP BY ALL",
            ["'[^']*'", *(pattern for pattern, _ in SET_ASIDE.values())])


def rejection_reasons(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """`rejection_reasons_sql` of the exports in the inbox the last run listed."""
    return read(con, *rejection_reasons_sql(
        "(SELECT * FROM ops.rejected_tickets WHERE source_file IN "
        "(SELECT source_file FROM ops.ingested_files WHERE coalesce(in_inbox, true)))"))


def ticket_products(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The products the warehouse's tickets name."""
    return {r[0] for r in con.execute("SELECT DISTINCT product FROM raw.tickets WHERE product IS NOT NULL").fetchall()}


@dataclass
class EmbeddingStore:
    """The embedding cache of one (model, backend) key, as the core's `VectorCache`."""

    con: duckdb.DuckDBPyConnection
    key: str

    def get(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        if not hashes or not table_exists(self.con, "ops.embedding_cache"):
            return {}
        # Rows found by hash first, then their vectors read by row id: a join that carried the vector
        # column read every stored vector (0.38 s for 256 hashes in a 120k-vector cache; 0.012 s now).
        found, vectors = read_vectors(
            self.con, "SELECT text_hash, embedding FROM ops.embedding_cache WHERE rowid IN (SELECT rowid FROM "
                      "ops.embedding_cache WHERE model = ? AND text_hash IN (SELECT unnest(?)))",
            [self.key, list(hashes)])
        return dict(zip(found["text_hash"], vectors, strict=True))

    def missing(self, weeks: Sequence[date]) -> int:
        """How many distinct texts of the weeks' redacted tickets the cache does not hold yet: what
        embedding them costs, known before the first is embedded."""
        cached = ("AND text_hash NOT IN (SELECT text_hash FROM ops.embedding_cache WHERE model = ?)"
                  if table_exists(self.con, "ops.embedding_cache") else "")
        return int(scalar(self.con, "SELECT count(DISTINCT text_hash) FROM staging.redacted_tickets "
                                    f"WHERE week_start IN (SELECT unnest(?)) {cached}",
                          [list(weeks), self.key] if cached else [list(weeks)]) or 0)

    def put(self, hashes: Sequence[str], vectors: np.ndarray) -> None:
        ensure_embedding_schema(self.con, vectors.shape[1])
        frame = pd.DataFrame({"model": self.key, "text_hash": list(hashes),
                              "embedding": list(vectors.astype(np.float32))})
        insert_missing(self.con, "ops.embedding_cache", frame)


def triage_input(con: duckdb.DuckDBPyConnection, weeks: Sequence[date], model: str) -> pd.DataFrame:
    """The weeks' redacted tickets with their stored embedding by `model` (None when missing)."""
    embedded = table_exists(con, "staging.ticket_embeddings")
    # The embeddings are filtered to the weeks too: the join alone read every week's vectors (82 ms a
    # week on a 50k-ticket warehouse, 10.7 ms filtered), and a backfill reads them once per week.
    join = ("LEFT JOIN (SELECT ticket_id, week_start, embedding FROM staging.ticket_embeddings "
            "WHERE model = ? AND week_start IN (SELECT unnest(?))) e "
            "ON e.ticket_id = r.ticket_id AND e.week_start = r.week_start") if embedded else ""
    return read(
        con,
        f"""SELECT r.*, {"e.embedding" if embedded else "NULL AS embedding"} FROM staging.redacted_tickets r {join}
            WHERE r.week_start IN (SELECT unnest(?)) ORDER BY r.ticket_id""",
        [model, list(weeks), list(weeks)] if embedded else [list(weeks)],
    )


# --- clustering ----------------------------------------------------------------------------

WORD_OF_MEANING = r"[^\s[:punct:]]+"  # as core/summarize.py's `_MEANING_WORD` reads one


def words_at_least(n: int) -> str:
    """A pattern found in a text of `n` words of meaning or more (of one or more when n <= 1)."""
    return rf"({WORD_OF_MEANING}[\s[:punct:]]+){{{max(n - 1, 0)}}}{WORD_OF_MEANING}"


def window_embeddings(con: duckdb.DuckDBPyConnection, weeks: Sequence[date], min_words: int
                      ) -> tuple[pd.DataFrame, np.ndarray]:
    """The window's tickets with their product and language (what clustering splits by), customer and
    words of meaning (a new group inside a theme needs several customers, and tickets of `min_words`
    words: `meaning_words` counts up to it), and their vectors, row for row. Every word of every
    window ticket was counted each week to be compared with 2: 0.3-0.4 s of 80,000 texts on a busy
    machine, against 0.03-0.04 s for a pattern that stops at the `min_words`-th word."""
    return read_vectors(con, """SELECT e.ticket_id, e.week_start AS ticket_week, r.product, r.language, r.customer_id,
                                       length(coalesce(r.meaning_text, r.text)) AS meaning_chars,
                                       CASE WHEN regexp_matches(coalesce(r.meaning_text, r.text), ?) THEN ?
                                            ELSE len(regexp_extract_all(coalesce(r.meaning_text, r.text), ?))
                                       END AS meaning_words,
                                       e.embedding
                                FROM staging.ticket_embeddings e
                                JOIN staging.redacted_tickets r ON r.ticket_id = e.ticket_id AND r.week_start = e.week_start
                                WHERE e.week_start IN (SELECT unnest(?)) ORDER BY e.ticket_id""",
                        [words_at_least(min_words), max(min_words, 0), WORD_OF_MEANING, weeks])


def previous_themes(con: duckdb.DuckDBPyConnection, week: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(themes, members) of the latest clustered week before `week`; empty frames if none."""
    prev = scalar(con, "SELECT max(week_start) FROM staging.themes WHERE week_start < ?", [week])
    themes = read(con, "SELECT theme_id, centroid, first_seen, origin, product, last_fit, fit_tickets, fit_outliers, fence "
                       "FROM staging.themes "
                       "WHERE week_start = ? ORDER BY theme_id", [prev])
    members = read(con, "SELECT theme_id, ticket_id, series_theme_id FROM staging.ticket_clusters "
                        "WHERE week_start = ? AND theme_id IS NOT NULL", [prev])
    return themes, members


def theme_members(con: duckdb.DuckDBPyConnection, week: date) -> pd.DataFrame:
    """The week's tickets with their theme and series theme, as stored: what the next week's
    clustering carries over."""
    return read(con, "SELECT ticket_id, theme_id, series_theme_id FROM staging.ticket_clusters "
                     "WHERE week_start = ? ORDER BY ticket_id", [week])


def clustered_after(con: duckdb.DuckDBPyConnection, week: date) -> list[date]:
    """The weeks after `week` that hold clusters, oldest first."""
    return [r[0] for r in con.execute("SELECT DISTINCT week_start FROM staging.ticket_clusters WHERE week_start > ? "
                                      "ORDER BY 1", [week]).fetchall()]


def issued_themes(con: duckdb.DuckDBPyConnection, week: date) -> tuple[frozenset[str], pd.DataFrame]:
    """(every theme id issued, the themes (theme_id, centroid, ticket_ids) that runs of `week` or a
    later week gave ids): each as in the earliest such week, stored or first registered (a week
    re-run or emptied since holds another version or none)."""
    issued = frozenset(r[0] for r in con.execute("SELECT theme_id FROM ops.theme_registry").fetchall())
    if not table_exists(con, "staging.themes"):
        return issued, pd.DataFrame(columns=["theme_id", "centroid", "ticket_ids"])
    themes = read(con, """
        WITH stored AS (
            SELECT t.theme_id, t.week_start, 0 AS registered, any_value(t.centroid)::FLOAT[] AS centroid,
                   list(c.ticket_id) AS ticket_ids
            FROM staging.themes t
            JOIN (SELECT theme_id, min(week_start) AS week_start FROM staging.themes WHERE week_start >= ?
                  GROUP BY theme_id) f USING (theme_id, week_start)
            JOIN staging.ticket_clusters c ON c.week_start = t.week_start AND c.theme_id = t.theme_id
            GROUP BY t.theme_id, t.week_start),
        versions AS (
            SELECT * FROM stored
            UNION ALL SELECT theme_id, week_start, 1, centroid, coalesce(ticket_ids, []) FROM ops.theme_registry
                  WHERE week_start >= ?)
        SELECT theme_id, centroid, ticket_ids FROM versions
        QUALIFY row_number() OVER (PARTITION BY theme_id ORDER BY week_start, registered) = 1
        ORDER BY theme_id""", [week, week])
    return issued, themes


def register_themes(con: duckdb.DuckDBPyConnection, week: date, themes: pd.DataFrame, run_id: str) -> None:
    """Record the ids of `themes` (theme_id, centroid, ticket_ids) not issued before as issued in `week`."""
    insert_missing(con, "ops.theme_registry", themes.assign(week_start=week, run_id=run_id))


# --- reviews, LLM cache --------------------------------------------------------------------

def reviews(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return read(con, "SELECT * FROM ops.theme_reviews ORDER BY review_id").to_dict("records")


def add_review(con: duckdb.DuckDBPyConnection, theme_id: str, action: str, value: str | None,
               target: str | None, reviewer: str, note: str | None) -> int:
    review_id = int(scalar(con, "SELECT coalesce(max(review_id), 0) + 1 FROM ops.theme_reviews"))
    con.execute("INSERT INTO ops.theme_reviews VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [review_id, theme_id, action, value, target, reviewer, note, _now()])
    return review_id


def known_theme_ids(con: duckdb.DuckDBPyConnection) -> set[str]:
    if not table_exists(con, "staging.themes"):
        return set()
    return {r[0] for r in con.execute("SELECT DISTINCT theme_id FROM staging.themes").fetchall()}


def theme_splits(con: duckdb.DuckDBPyConnection, weeks: int) -> pd.DataFrame:
    """The splits recorded in the last `weeks` clustered weeks whose new theme is ranked in the latest
    ranked week: week, new theme, the theme it split from (`origin`), how much of it came from there."""
    if not (table_exists(con, "ops.theme_events") and table_exists(con, "marts.ranked_themes")):
        return pd.DataFrame(columns=["week_start", "theme_id", "origin", "detail"])
    return read(con, """SELECT week_start, theme_id, related_theme_ids[1] AS origin, detail FROM ops.theme_events
                        WHERE event = 'split' AND week_start > (SELECT max(week_start) FROM ops.theme_events) - ?::INTEGER * 7
                          AND theme_id IN (SELECT theme_id FROM marts.ranked_themes
                                           WHERE week_start = (SELECT max(week_start) FROM marts.ranked_themes))
                        ORDER BY week_start, theme_id""", [weeks])


def first_tickets_now(con: duckdb.DuckDBPyConnection, theme_ids: Sequence[str]) -> pd.DataFrame:
    """Per theme of `theme_ids`, the tickets it was first clustered with (`ops.theme_registry`, kept
    as issued through every re-clustering) that the latest clustered window holds: theme_id,
    ticket_id, `now` (its theme there, None for an outlier) and whether that is ranked in the latest week."""
    if not theme_ids or not table_exists(con, "ops.theme_registry"):
        return pd.DataFrame(columns=["theme_id", "ticket_id", "now", "ranked"])
    return read(con, """
        WITH born AS (SELECT theme_id, unnest(ticket_ids) AS ticket_id FROM ops.theme_registry
                      WHERE theme_id IN (SELECT unnest(?))),
             latest AS (SELECT ticket_id, theme_id AS now FROM staging.ticket_clusters
                        WHERE week_start = (SELECT max(week_start) FROM staging.ticket_clusters)),
             ranked AS (SELECT theme_id FROM marts.ranked_themes
                        WHERE week_start = (SELECT max(week_start) FROM marts.ranked_themes))
        SELECT b.theme_id, b.ticket_id, l.now, l.now IN (SELECT theme_id FROM ranked) AS ranked
        FROM born b JOIN latest l USING (ticket_id) ORDER BY b.theme_id, b.ticket_id""", [list(theme_ids)])


def earlier_labels(con: duckdb.DuckDBPyConnection, week: date) -> dict[str, str]:
    """Each theme's label in its latest summary before `week` (its previous week's, or the last week it had tickets)."""
    rows = con.execute("SELECT theme_id, arg_max(label, week_start) FROM marts.cluster_summaries "
                       "WHERE week_start < ? GROUP BY theme_id", [week]).fetchall()
    return {str(theme): str(label) for theme, label in rows}


def stored_labels(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every week's summarized themes (week_start, theme_id, label) and whether the week ranked them."""
    return read(con, """SELECT s.week_start, s.theme_id, s.label, r.theme_id IS NOT NULL AS ranked
                        FROM marts.cluster_summaries s
                        LEFT JOIN marts.ranked_themes r USING (week_start, theme_id) ORDER BY 1, 2""")


def inbox_weeks_write(counts: Mapping[date, int], cut: CutWeek | None, run_id: str) -> Replace:
    """The inbox's tickets per week as an ingest read them (`Stage.inbox_week_counts`), the week its
    export cut short carrying where the tickets end (`cut`): the whole table, replaced."""
    rows = [{"week_start": week, "tickets": n, "latest": cut.latest if cut and cut.week == week else None,
             "covered": cut.covered if cut and cut.week == week else None, "run_id": run_id}
            for week, n in sorted(counts.items())]
    return snapshot("ops.inbox_weeks", pd.DataFrame(rows, columns=["week_start", "tickets", "latest", "covered",
                                                                   "run_id"]))


def inbox_counts(con: duckdb.DuckDBPyConnection) -> dict[date, int] | None:
    """The inbox's tickets per week as the latest ingest read them, run or not (None before one
    recorded them, from migration 37)."""
    rows = con.execute("SELECT week_start, tickets FROM ops.inbox_weeks").fetchall()
    return dict(rows) if rows else None


def cut_week(con: duckdb.DuckDBPyConnection) -> CutWeek | None:
    """The inbox's last week when the latest ingest found its export cut it short, else None."""
    row = con.execute("SELECT week_start, latest, covered FROM ops.inbox_weeks WHERE covered IS NOT NULL").fetchone()
    return CutWeek(*row) if row else None


def latest_ticket_at(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """When the warehouse's latest ticket was created: where its exports end."""
    return scalar(con, "SELECT max(created_at) FROM raw.tickets")


def latest_summaries(con: duckdb.DuckDBPyConnection, themes: Sequence[str], week: date) -> pd.DataFrame:
    """The latest summary (theme_id, label, terms) at or before `week` of each of `themes`: a theme of
    the window that had no ticket this week was summarized in the last week it had some."""
    return read(con, """SELECT theme_id, label, terms FROM marts.cluster_summaries
                        WHERE week_start <= ? AND theme_id IN (SELECT unnest(?))
                        QUALIFY row_number() OVER (PARTITION BY theme_id ORDER BY week_start DESC) = 1
                        ORDER BY theme_id""", [week, sorted(set(themes))])


def llm_cached(con: duckdb.DuckDBPyConnection, prompt_hash: str) -> str | None:
    return scalar(con, "SELECT response FROM ops.llm_cache WHERE prompt_hash = ?", [prompt_hash])


def llm_store(con: duckdb.DuckDBPyConnection, prompt_hash: str, model: str, response: str,
              tickets: Sequence[str]) -> None:
    row = {"prompt_hash": prompt_hash, "model": model, "response": response, "created_at": _now(),
           "ticket_ids": list(tickets)}
    insert_missing(con, "ops.llm_cache", pd.DataFrame([row]))


# --- insight marts -------------------------------------------------------------------------

def week_rows(con: duckdb.DuckDBPyConnection, table: str, week: date, order: str = "") -> pd.DataFrame:
    """All rows of a week-partitioned mart (`table` is one of ours, never user input)."""
    return read(con, f"SELECT * FROM {table} WHERE week_start = ?{' ORDER BY ' + order if order else ''}", [week])


def alerts_between(con: duckdb.DuckDBPyConnection, start: date, end: date) -> set[tuple[date, str, str, str]]:
    """The alerts stored for the weeks `start`..`end`: (week, kind, theme id, label); a queue surge, which
    has no theme, by its scope's part of the key ("queue", "queue:<product>")."""
    if not table_exists(con, "ops.alerts"):
        return set()
    return set(con.execute("SELECT week_start, kind, coalesce(theme_id, split_part(alert_key, '|', 1)) AS theme, "
                           "coalesce(label, theme) FROM ops.alerts WHERE week_start BETWEEN ? AND ?",
                           [start, end]).fetchall())


def alert_examples(con: duckdb.DuckDBPyConnection, alert_keys: Sequence[str]) -> dict[str, dict[str, list[str]]]:
    """Per alert, its example ticket ids and their redacted first lines, as stored now (an erasure
    removes its tickets' here): what a delivery quotes, kept out of the event log."""
    if not table_exists(con, "ops.alerts"):
        return {}
    rows = con.execute("SELECT alert_key, example_ticket_ids, example_lines FROM ops.alerts WHERE alert_key IN "
                       "(SELECT unnest(?))", [list(alert_keys)]).fetchall()
    return {k: {"example_ticket_ids": list(ids or []), "example_lines": list(lines or [])} for k, ids, lines in rows}


def ticket_texts(con: duckdb.DuckDBPyConnection, ticket_ids: Sequence[str]) -> pd.DataFrame:
    """Redacted text and helpdesk id of the given tickets (the report's and export's examples)."""
    return read(con, """SELECT r.ticket_id, r.text, t.source_id FROM staging.redacted_tickets r
                        JOIN raw.tickets t USING (ticket_id) WHERE r.ticket_id IN (SELECT unnest(?))""",
                [sorted(set(ticket_ids))])


def week_range(con: duckdb.DuckDBPyConnection) -> tuple[date | None, date | None]:
    """The first and last week with a ranking."""
    row = con.execute("SELECT min(week_start), max(week_start) FROM marts.weekly_overview").fetchone()
    return row[0], row[1]


def weeks_ranked(con: duckdb.DuckDBPyConnection) -> list[date]:
    """Every week with a ranking, oldest first."""
    return [r[0] for r in con.execute("SELECT week_start FROM marts.weekly_overview ORDER BY week_start").fetchall()]


def has_week(con: duckdb.DuckDBPyConnection, week: date) -> bool:
    return bool(scalar(con, "SELECT count(*) FROM marts.weekly_overview WHERE week_start = ?", [week]))


def weeks_around(con: duckdb.DuckDBPyConnection, week: date) -> tuple[date | None, date | None]:
    """The nearest weeks with data before and after `week` (None each when there is none)."""
    row = con.execute("SELECT max(week_start) FILTER (week_start < ?), min(week_start) FILTER (week_start > ?) "
                      "FROM marts.weekly_overview", [week, week]).fetchone()
    return row[0], row[1]


def week_warning(con: duckdb.DuckDBPyConnection, week: date) -> str | None:
    """Why the week's ranking is empty or unreliable (too few tickets), as the ranking recorded it."""
    return scalar(con, "SELECT warning FROM marts.weekly_overview WHERE week_start = ?", [week])


def ranked_weeks_near(con: duckdb.DuckDBPyConnection, week: date) -> tuple[date | None, date | None, date | None]:
    """Of the weeks with at least one ranked theme: the latest up to `week`, the first and the latest
    (None each when no week has one), for a week without themes to point at one that has."""
    row = con.execute("SELECT max(week_start) FILTER (week_start <= ?), min(week_start), max(week_start) "
                      "FROM marts.ranked_themes", [week]).fetchone()
    return row[0], row[1], row[2]


_RANKED_THEMES = """SELECT week_start, rank, theme_id, label, tickets, ranked_weeks, customers, tickets_prev_week, trend,
                               trend_baseline, wow_change, paid_share, plan_known_customers, severity, signal_type, product_area,
                               impact, products, product_names, product_counts, example_ticket_ids, sentiment, frustration_share,
                               escalation_share, churn_risk_customers, docs_status, docs_article,
                               docs_article_url, after_release, after_release_days, fix_status, fix_release,
                               parent, parent_id, review_status,
                               (SELECT c.summarizer FROM marts.cluster_summaries c
                                 WHERE c.week_start = r.week_start AND c.theme_id = r.theme_id) AS summarizer,
                               (SELECT c.described_share FROM marts.cluster_summaries c
                                 WHERE c.week_start = r.week_start AND c.theme_id = r.theme_id) AS described_share,
                               coalesce((SELECT list({'field': s.field, 'value': s.value, 'share': s.share,
                                                      'baseline_share': s.baseline_share, 'p_value': s.p_value,
                                                      'scope': s.scope}
                                                     ORDER BY s.p_value, s.share DESC, s.field, s.value)
                                         FROM marts.theme_segments s
                                         WHERE s.week_start = r.week_start AND s.theme_id = r.theme_id),
                                        []) AS segments
                        FROM marts.ranked_themes r WHERE week_start = ? ORDER BY rank"""


def ranked_themes(con: duckdb.DuckDBPyConnection, week: date) -> pd.DataFrame:
    """The week's ranking with each theme's findings, who wrote its summary (`summarizer`) and the share
    of its tickets its label's words are in (`described_share`: under `LOOSE_SHARE`, a loose theme);
    `segments` per theme as the JSON contract has them (`{field, value, share, baseline_share,
    p_value, scope}`, strongest first)."""
    return read(con, _RANKED_THEMES, [week])


def export_schema(con: duckdb.DuckDBPyConnection) -> pa.Schema:
    """The Arrow types of `ranked_themes`' columns and of the affected customers', whatever a week
    holds: a week without segments or themes typed its Parquet columns null, and a folder of weekly
    exports could not be read as one dataset."""
    never = [date(1, 1, 1)]
    themes = con.execute(_RANKED_THEMES, never).arrow().schema
    customers = con.execute("SELECT * FROM marts.theme_customers WHERE week_start = ?", never).arrow().schema
    return pa.unify_schemas([themes, customers.remove(customers.get_field_index("week_start"))])


def ranked_theme_texts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per ranked theme-week, its terms and the texts for meaning of the tickets it counts (those of
    its ranked weeks)."""
    return read(con, """SELECT r.week_start, r.theme_id, s.terms, list(t.meaning_text) AS texts
                        FROM marts.ranked_themes r JOIN marts.cluster_summaries s USING (week_start, theme_id)
                        JOIN staging.ticket_clusters k ON k.week_start = r.week_start AND k.theme_id = r.theme_id
                         AND k.ticket_week > r.week_start - INTERVAL (7 * r.ranked_weeks) DAY
                         AND k.ticket_week <= r.week_start
                        JOIN staging.redacted_tickets t ON t.ticket_id = k.ticket_id AND t.week_start = k.ticket_week
                        WHERE r.rank IS NOT NULL GROUP BY ALL ORDER BY 1, 2""")


def largest_theme_shares(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per week's window, the share of its tickets that its largest theme holds."""
    return read(con, """SELECT week_start, max(n) FILTER (WHERE theme_id IS NOT NULL) / sum(n) AS share
                        FROM (SELECT week_start, theme_id, count(*) AS n FROM staging.ticket_clusters GROUP BY ALL)
                        GROUP BY 1 ORDER BY 1""")


def theme_week_span(con: duckdb.DuckDBPyConnection, theme_ids: Sequence[str]) -> tuple[date, date] | None:
    """The first and last clustered week holding any of these themes."""
    row = con.execute("SELECT min(week_start), max(week_start) FROM staging.themes WHERE theme_id IN (SELECT unnest(?))",
                      [list(theme_ids)]).fetchone()
    return (row[0], row[1]) if row and row[0] is not None else None


def summarizers(con: duckdb.DuckDBPyConnection, start: date, end: date) -> set[str]:
    """Who wrote the summaries of the weeks `start`..`end` (`extractive`, `llm:<model>`)."""
    rows = con.execute("SELECT DISTINCT summarizer FROM marts.cluster_summaries WHERE week_start BETWEEN ? AND ?",
                       [start, end]).fetchall()
    return {r[0] for r in rows if r[0]}


def week_configs(con: duckdb.DuckDBPyConnection, start: date | None = None, end: date | None = None
                 ) -> dict[date, dict[str, Value]]:
    """Per week of `start`..`end` (every week by default) that recorded it, the configuration its
    themes were built with: the settings it recorded (none recorded: left out)."""
    rows = con.execute("""SELECT week_start, setting, value, file FROM marts.week_configs
                          WHERE week_start BETWEEN coalesce(?, DATE '0001-01-01') AND coalesce(?, DATE '9999-12-31')
                          ORDER BY week_start, setting""", [start, end]).fetchall()
    out: dict[date, dict[str, Value]] = {}
    for week, setting, value, file in rows:
        out.setdefault(week, {})[setting] = Value(value, file)
    return out


def config_rows(week: date, config: Mapping[str, Value], run_id: str) -> pd.DataFrame:
    """A week's `marts.week_configs` rows, written with its summaries (`Replace` by week)."""
    return pd.DataFrame([{"week_start": week, "setting": setting, "value": v.value, "file": v.file, "run_id": run_id}
                         for setting, v in config.items()],
                        columns=["week_start", "setting", "value", "file", "run_id"])


def weeks_without_taxonomy(con: duckdb.DuckDBPyConnection) -> list[date]:
    """The summarized weeks whose taxonomy is not recorded: summarized before it was."""
    rows = con.execute("""SELECT DISTINCT week_start FROM marts.cluster_summaries s WHERE NOT EXISTS (
                              SELECT 1 FROM marts.week_configs c WHERE c.week_start = s.week_start AND c.setting = ?)
                          ORDER BY week_start""", [TAXONOMY]).fetchall()
    return [r[0] for r in rows]


def record_taxonomies(con: duckdb.DuckDBPyConnection, weeks: dict[date, Value]) -> None:
    """Record the taxonomy of weeks summarized before it was recorded (leaving any week that has one),
    in one transaction, run again if a DuckLake writer of another week commits first."""
    def update() -> None:
        for week, used in weeks.items():
            con.execute("""INSERT INTO marts.week_configs SELECT ?, ?, ?, ?, NULL WHERE NOT EXISTS (
                               SELECT 1 FROM marts.week_configs WHERE week_start = ? AND setting = ?)""",
                        [week, TAXONOMY, used.value, used.file, week, TAXONOMY])

    retry_conflicts(lambda: in_transaction(con, update))


def report_paths(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[str]:
    rows = con.execute("SELECT html_path FROM marts.weekly_reports WHERE week_start BETWEEN ? AND ? ORDER BY week_start",
                       [start, end]).fetchall()
    return [r[0] for r in rows]


def report_runs(con: duckdb.DuckDBPyConnection) -> dict[date, str]:
    """The run that wrote each week's stored report."""
    if not table_exists(con, "marts.weekly_reports"):
        return {}
    return dict(con.execute("SELECT week_start, run_id FROM marts.weekly_reports").fetchall())


def report_record(con: duckdb.DuckDBPyConnection, week: date) -> dict[str, Any] | None:
    """The week's stored report's first and latest writing (when, how many tickets); None when the
    week has no report yet. Values a report written before migration 25 lacks are None."""
    rows = con.execute("SELECT first_written_at, first_tickets, written_at, tickets FROM marts.weekly_reports "
                       "WHERE week_start = ?", [week]).fetchall()
    return dict(zip(("first_written_at", "first_tickets", "written_at", "tickets"), rows[0], strict=True)) if rows else None


def report_path(con: duckdb.DuckDBPyConnection, week: date) -> str | None:
    return scalar(con, "SELECT html_path FROM marts.weekly_reports WHERE week_start = ?", [week])


# --- help center, releases, customers, backlog sync ----------------------------------------

def snapshot(table: str, frame: pd.DataFrame) -> Replace:
    """Replace a whole unpartitioned table (the inputs read by the latest run) with `frame`."""
    return Replace(table, frame, "true", [True])


def help_center_articles(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """The stored articles, or None when the latest ingest had no help center configured."""
    configured = scalar(con, "SELECT count(*) FROM ops.ingested_files WHERE profile = 'help_center'")
    if not configured:
        return None
    return read(con, "SELECT * FROM raw.help_center_articles ORDER BY article_id")


def stored_releases(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return read(con, "SELECT version, released_at, notes FROM raw.releases ORDER BY released_at, version")


def theme_customers(con: duckdb.DuckDBPyConnection, week: date, theme_id: str | None = None) -> pd.DataFrame:
    """Affected customers of the week's ranked themes (or one theme), richest first."""
    return read(con, """SELECT c.theme_id, r.label, c.customer_id, c.account_id, c.plan, c.monthly_revenue,
                               c.tickets, c.first_ticket_at, c.last_ticket_at
                        FROM marts.theme_customers c
                        JOIN marts.ranked_themes r USING (week_start, theme_id)
                        WHERE c.week_start = ? AND (? IS NULL OR c.theme_id = ?)
                        ORDER BY r.rank, c.monthly_revenue DESC NULLS LAST, c.tickets DESC, c.customer_id""",
                [week, theme_id, theme_id])


def counted_tickets(con: duckdb.DuckDBPyConnection, theme_ids: list[str]) -> pd.DataFrame:
    """Every stored ticket the latest clustering that saw it counts in one of `theme_ids`, with its
    customer's account: the theme's whole history, not the window (customers to tell of a fix)."""
    return read(con, """WITH latest AS (
                            SELECT ticket_id, ticket_week, series_theme_id FROM staging.ticket_clusters
                            QUALIFY row_number() OVER (PARTITION BY ticket_id ORDER BY week_start DESC) = 1)
                        SELECT l.ticket_id, l.series_theme_id AS theme_id, r.customer_id, r.account_id, r.plan,
                               r.monthly_revenue, r.created_at
                        FROM latest l
                        JOIN staging.redacted_tickets r ON r.ticket_id = l.ticket_id AND r.week_start = l.ticket_week
                        WHERE list_contains(?, l.series_theme_id) ORDER BY l.ticket_id""", [theme_ids])


def theme_label(con: duckdb.DuckDBPyConnection, theme_id: str) -> str | None:
    """The theme's label in the latest week it was ranked (what `review` shows and confirms), else in
    the latest week it was summarized: read from the ranking alone, a theme never ranked had none (its
    customers' export named it by its id)."""
    found = con.execute("""SELECT label FROM (SELECT week_start, label, 1 AS ranked FROM marts.ranked_themes WHERE theme_id = $1
                                              UNION ALL
                                              SELECT week_start, label, 0 FROM marts.cluster_summaries WHERE theme_id = $1)
                           ORDER BY ranked DESC, week_start DESC LIMIT 1""", [theme_id]).fetchone()
    return found[0] if found else None


def backlog_state(con: duckdb.DuckDBPyConnection, tracker: str) -> tuple[pd.DataFrame, pd.DataFrame, set[str]]:
    """(links, outbox, keys of the comments already posted) of one tracker."""
    links = read(con, "SELECT * FROM ops.backlog_links WHERE tracker = ? ORDER BY theme_id", [tracker])
    outbox = read(con, "SELECT * FROM ops.backlog_outbox WHERE tracker = ? ORDER BY key", [tracker])
    sent = {r[0] for r in con.execute("SELECT key FROM ops.backlog_comments WHERE tracker = ?", [tracker]).fetchall()}
    return links, outbox, sent


def backlog_writes(tracker: str, links: pd.DataFrame, outbox: pd.DataFrame, comments: pd.DataFrame) -> list[Replace]:
    """One tracker's links and outbox replaced, and the comments just posted recorded (one transaction)."""
    keys = list(comments["key"]) if len(comments) else []
    return [Replace("ops.backlog_links", links, "tracker", [tracker]),
            Replace("ops.backlog_outbox", outbox, "tracker", [tracker]),
            Replace("ops.backlog_comments", comments, "key", keys)]


# --- resolved tickets, similar tickets, reply drafts ---------------------------------------

def tickets_with_status(con: duckdb.DuckDBPyConnection, weeks: Sequence[date]) -> pd.DataFrame:
    """Redacted tickets of these weeks with the status their export gave them, their text for meaning
    (what their `text_hash` names) and their detected language."""
    return read(con, """SELECT r.ticket_id, r.week_start, t.status, r.text,
                               coalesce(r.meaning_text, r.text) AS meaning_text, r.text_hash, r.language
                        FROM staging.redacted_tickets r JOIN raw.tickets t USING (ticket_id)
                        WHERE r.week_start IN (SELECT unnest(?)) ORDER BY r.ticket_id""", [weeks])


def ticket_replies(con: duckdb.DuckDBPyConnection, weeks: Sequence[date]) -> pd.DataFrame:
    """The agents' replies to the tickets of these weeks (raw text: redact before showing)."""
    return read(con, "SELECT ticket_id, reply_id, reply_at, text, is_public FROM raw.ticket_replies "
                     "WHERE week_start IN (SELECT unnest(?)) ORDER BY ticket_id, reply_at", [weeks])


def holds_agent_replies(con: duckdb.DuckDBPyConnection, until: date | None = None) -> bool:
    """Whether the exports hold an agent reply: a public one stored (up to the week `until`, default
    all), or rows an ingest set aside as replies or as a conversation whose first message is not in
    them (twcs' sample holds 2,282 replies and answers none of its tickets: `SKIPPED_KINDS`)."""
    return bool(scalar(con, """SELECT EXISTS (SELECT 1 FROM raw.ticket_replies WHERE is_public
                                              AND (? IS NULL OR week_start <= ?))
                               OR EXISTS (SELECT 1 FROM ops.ingested_files
                                          WHERE list_has_any(json_keys(skipped_kinds::JSON), ['reply', 'unopened']))""",
                       [until, until]))


def knowledge_base(con: duckdb.DuckDBPyConnection, model: str, until: date | None = None) -> pd.DataFrame:
    """Resolved tickets (up to the week `until`, default all) with their vector under `model`."""
    return read(con, """SELECT k.ticket_id, k.week_start, k.text, k.resolution, c.embedding
                        FROM staging.resolved_tickets k
                        JOIN ops.embedding_cache c ON c.model = k.model AND c.text_hash = k.text_hash
                        WHERE k.model = ? AND (? IS NULL OR k.week_start <= ?) ORDER BY k.ticket_id""",
                [model, until, until])


def knowledge_base_models(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The embedding keys the knowledge base was built with (to explain an empty read)."""
    if not table_exists(con, "staging.resolved_tickets"):
        return []
    return [r[0] for r in con.execute("SELECT DISTINCT model FROM staging.resolved_tickets ORDER BY 1").fetchall()]


def embedded_ids_like(con: duckdb.DuckDBPyConnection, given: str, model: str) -> tuple[list[str], str | None]:
    """For an id no embedded ticket has: the ids that end in it after a separator (`21447`:
    `github:facebook_react#21447`; two at most, as only one is a match), and the first id, to show
    what the warehouse's ids look like."""
    if not table_exists(con, "staging.ticket_embeddings"):
        return [], None
    ending, first = con.execute(
        """WITH ids AS (SELECT r.ticket_id FROM staging.redacted_tickets r
                        JOIN staging.ticket_embeddings e ON e.ticket_id = r.ticket_id AND e.model = $model)
           SELECT (SELECT coalesce(list(ticket_id ORDER BY ticket_id)[:2], []) FROM ids
                    WHERE suffix(ticket_id, $given) AND length(ticket_id) > length($given)
                      AND NOT regexp_matches(substr(ticket_id, length(ticket_id) - length($given), 1), '[A-Za-z0-9]')),
                  (SELECT min(ticket_id) FROM ids)""", {"model": model, "given": given}).fetchone()
    return list(ending), first


def ticket_vectors(con: duckdb.DuckDBPyConnection, ticket_ids: Sequence[str], model: str) -> pd.DataFrame:
    """Redacted text and stored vector of the given tickets (any week, resolved or not)."""
    if not table_exists(con, "staging.ticket_embeddings"):
        return pd.DataFrame(columns=["ticket_id", "week_start", "text", "embedding"])
    return read(con, """SELECT r.ticket_id, r.week_start, r.text, e.embedding
                        FROM staging.redacted_tickets r
                        JOIN staging.ticket_embeddings e ON e.ticket_id = r.ticket_id AND e.model = ?
                        WHERE r.ticket_id IN (SELECT unnest(?)) ORDER BY r.ticket_id""",
                [model, list(ticket_ids)])
