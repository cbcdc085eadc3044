"""The weekly job over every partitioned asset, and the Monday schedule that runs it."""

import dagster as dg

weekly_job = dg.define_asset_job(
    "weekly_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets("taxonomy", "theme_reviews"),
    description="Ingest, redact, embed, cluster, summarise, rank, alert and report for a week.",
)

# Each Monday (06:00 UTC) materializes the week that just ended: the latest complete partition.
# Off until turned on (UI: Automation): a fresh clone holds only the bundled sample, whose weeks
# are not the calendar's, and a schedule should not write a warehouse nobody asked it to.
weekly_schedule = dg.build_schedule_from_partitioned_job(
    weekly_job, name="weekly_schedule", hour_of_day=6, minute_of_hour=0,
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
