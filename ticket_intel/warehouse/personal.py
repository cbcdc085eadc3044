"""Where ticket-derived personal data lives in the warehouse: the one list retention by age and
erasure of a customer both delete from (docs/redaction.md, "Where personal data stays").
"""

from __future__ import annotations

# Rows of one ticket (or one customer) each, with the column that says whose: retention deletes them
# by week, erasure by that column. staging.ticket_clusters is keyed by the week run: a kept week's
# rows of its window's earlier tickets stay (ids, no text).
TICKET_TABLES = {"raw.tickets": "ticket_id", "raw.ticket_replies": "ticket_id",
                 "staging.redacted_tickets": "ticket_id", "staging.ticket_embeddings": "ticket_id",
                 "staging.ticket_clusters": "ticket_id", "staging.resolved_tickets": "ticket_id",
                 "marts.ticket_triage": "ticket_id", "marts.reply_drafts": "ticket_id",
                 "marts.theme_customers": "customer_id", "marts.customers_at_risk": "customer_id"}
# Vectors by text hash: a text's vector goes when no kept ticket or article has that text.
EMBEDDING_CACHE = "ops.embedding_cache"
# Rows per week and theme that stay, naming tickets in a list of ids...
TICKET_ID_LISTS = {"ops.theme_registry": "ticket_ids", "marts.not_a_theme": "ticket_ids",
                   "marts.cluster_summaries": "example_ticket_ids", "marts.ranked_themes": "example_ticket_ids",
                   "marts.reply_drafts": "cited_ticket_ids"}
# ... or quoting them (list columns are VARCHAR[]). ops.alerts keeps each example id beside its quote.
COPIED_TEXT = {"marts.cluster_summaries": ("shared_issue", "backlog_user_story", "phrasings"),
               "marts.ranked_themes": ("summary",), "marts.reply_drafts": ("draft",)}
ALERT_EXAMPLES = ("ops.alerts", "example_ticket_ids", "example_lines")
# Tables of one row per ticket that hold the texts a quote may have been taken from.
QUOTED_TEXTS = {"staging.redacted_tickets": ("text", "meaning_text", "subject"),
                "staging.resolved_tickets": ("text", "resolution")}
# Claims naming an account ("24% from account Wiśniewska Household"): an account only erased tickets
# had (often a household, named after the person) goes with them.
ACCOUNT_SEGMENTS = "marts.theme_segments"
ACCOUNT_NOTES = ("marts.ranked_themes", "notes")
# LLM answers by prompt hash, each with the tickets its prompt held: an answer goes with any of them,
# and one that records none (written before they were recorded) with any erasure or retention.
LLM_ANSWERS = ("ops.llm_cache", "ticket_ids")
