"""ticket_clusters: themes over a rolling window of weeks (core/theme_week.py), with ids that carry
over from the previous week (core/identity.py), or placed into the previous week's themes when no
refit is due (core/placement.py, TICKET_INTEL_REFIT_WEEKS). Tickets kept in last week's theme are
marked `assignment = 'kept'`, tickets placed into one `placed`; `series_theme_id` is where this run's clustering alone put each ticket,
which weekly counts use (see core/counts.py)."""

from datetime import date

import dagster as dg
import duckdb

from ticket_intel import warehouse as wh
from ticket_intel.core.placement import RefitPolicy
from ticket_intel.core.progress import Progress
from ticket_intel.core.subgroups import GroupSettings
from ticket_intel.core.theme_week import cluster_window, issued_from, issued_to, previous_from
from ticket_intel.core.weeks import window
from ticket_intel.defs.partitions import WINDOW_WEEKS, week_facts, weekly_asset, weeks_of, weeks_with_tickets
from ticket_intel.defs.resources import AlertConfig, ClusteringConfig, RankingConfig, Warehouse

PREVIOUS_WEEK = dg.TimeWindowPartitionMapping(
    start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True
)


def cluster_week(con: duckdb.DuckDBPyConnection, week: date, clustering: ClusteringConfig, refit: RefitPolicy,
                 groups: GroupSettings, run_id: str) -> dict[str, int]:
    """Cluster one week's window, issue its themes' ids and store its clusters, themes and events."""
    frame, vectors = wh.window_embeddings(con, window(week, WINDOW_WEEKS), groups.min_words)
    step = cluster_window(week, frame, vectors,
                          previous_from(*wh.previous_themes(con, week)), clustering.seed, clustering.scopes(),
                          refit=refit, new_groups=groups,
                          issued=issued_from(*wh.issued_themes(con, week)))
    wh.register_themes(con, week, issued_to(step), run_id)
    tag = {"week_start": week, "run_id": run_id}
    wh.replace(con, [
        wh.Replace("staging.ticket_clusters", step.clusters.assign(**tag), "week_start", [week]),
        wh.Replace("staging.themes", step.themes.assign(**tag), "week_start", [week]),
        wh.Replace("ops.theme_events", step.events.assign(**tag), "week_start", [week]),
    ])
    return step.stats


def left_stale(moved: list[date], later: list[date]) -> str:
    """What a run of past weeks whose themes changed leaves as it was: the weeks after it carry
    their themes over from the weeks before and count their trends against them, so their
    clusters, summaries, rankings, alerts and reports follow the old themes until they run again.
    A backfill runs the weeks it was asked for (the whole chain of each), not every week after."""
    return (f"the themes of {len(moved)} week(s) of this run changed, the first {moved[0]}: the {len(later)} "
            f"clustered week(s) after the run, {later[0]}..{later[-1]}, still follow the themes as they were "
            f"(ids, trends, alerts, reports); backfill weekly_job over {later[0]}..{later[-1]} to carry the change on")


@weekly_asset(
    group_name="themes",
    # Its week's embeddings and its previous week: the window's earlier weeks come through that chain.
    # The 8-week window declared as such made Dagster extend a backfill's clustering and summaries,
    # and not their rankings or reports, to the 7 weeks after the weeks asked for.
    deps=[
        "ticket_embeddings",
        dg.AssetDep("ticket_clusters", partition_mapping=PREVIOUS_WEEK),
    ],
    description="Themes over the trailing window of weeks (UMAP + HDBSCAN, seeded; pieces of one theme "
    "merged, near-outliers soft-assigned), matched to the previous week's themes with hysteresis so ids, "
    "reviews and history carry over; between full fits (TICKET_INTEL_REFIT_WEEKS) the week is placed into "
    "the previous week's themes.",
)
def ticket_clusters(context: dg.AssetExecutionContext, warehouse: Warehouse, clustering: ClusteringConfig,
                    alerts: AlertConfig, ranking: RankingConfig):
    stats, moved = {}, []
    refit = clustering.refit(WINDOW_WEEKS, alerts.settings(ranking))  # a theme half-way to a spike refits
    groups = clustering.new_groups(ranking)
    with warehouse.connect() as con:
        weeks = weeks_with_tickets(context, con, announce=True)
        # Only a run that leaves clustered weeks after it can leave them behind: the weekly run of the
        # newest week reads no members twice.
        later = wh.clustered_after(con, weeks_of(context)[-1])
        meter = Progress("clustering", len(weeks), context.log.info, unit="weeks", every=0.0)
        for week in weeks:
            before = wh.theme_members(con, week) if later else None
            stats[week.isoformat()] = found = cluster_week(con, week, clustering, refit, groups, context.run.run_id)
            moved += [] if before is None or before.equals(wh.theme_members(con, week)) else [week]
            context.log.debug(f"{week}: {found}")
            week_facts(context, week, {"themes": dg.MetadataValue.int(found["themes"]),
                                       "outliers": dg.MetadataValue.int(found["outliers"])})
            meter.advance()
    if moved:
        context.log.warning(left_stale(moved, later))
    return dg.MaterializeResult(metadata={"weeks": dg.MetadataValue.json(stats)})
