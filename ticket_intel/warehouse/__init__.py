"""The warehouse layer: the schema and its migrations, the atomic partition writer, and every query.

No other module holds SQL. `connection` opens files and writes partitions atomically, `schema`
migrates, `queries` names every read and write, `context` loads a week's context once.
"""

from ticket_intel.warehouse.connection import (
    Replace,
    connect,
    embeddings_matrix,
    open_warehouse,
    read,
    replace,
    scalar,
)
from ticket_intel.warehouse.context import load_week_context
from ticket_intel.warehouse.queries import (
    EmbeddingStore,
    add_review,
    backlog_state,
    backlog_writes,
    help_center_articles,
    ingested_files,
    known_theme_ids,
    latest_week,
    llm_cached,
    llm_store,
    previous_themes,
    ranked_themes,
    raw_tickets,
    redacted_texts,
    report_path,
    review_theme,
    reviews,
    snapshot,
    stored_releases,
    theme_customers,
    ticket_texts,
    week_rows,
    window_embeddings,
)
from ticket_intel.warehouse.schema import (
    LATEST,
    SCHEMAS,
    applied_version,
    ensure_embedding_schema,
    migrate,
    stored_embedding_dim,
    table_exists,
)

__all__ = [
    "LATEST", "SCHEMAS", "EmbeddingStore", "Replace", "add_review", "applied_version", "backlog_state",
    "backlog_writes", "connect", "embeddings_matrix", "ensure_embedding_schema", "help_center_articles",
    "ingested_files", "known_theme_ids", "latest_week", "llm_cached", "llm_store", "load_week_context",
    "migrate", "open_warehouse", "previous_themes", "ranked_themes", "raw_tickets", "read", "redacted_texts",
    "replace", "report_path", "review_theme", "reviews", "scalar", "snapshot", "stored_embedding_dim",
    "stored_releases", "table_exists", "theme_customers", "ticket_texts", "week_rows", "window_embeddings",
]
