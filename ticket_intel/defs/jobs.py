"""The weekly job over every partitioned asset (the Monday schedule that runs it: defs/schedule.py)."""

import dagster as dg

weekly_job = dg.define_asset_job(
    "weekly_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets("taxonomy", "theme_reviews"),
    description="Ingest, redact, embed, cluster, summarise, rank, alert and report for a week.",
)
