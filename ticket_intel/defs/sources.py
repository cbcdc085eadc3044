"""Observable inputs that are not tickets: the configuration files (taxonomy.yaml, triage.yaml,
routing.yaml) and the human review log.

Their data versions (a content hash) make dependent assets show as stale in the UI when a file is
edited or a reviewer decides something, until those weeks are re-materialized.
A new version is recorded only when it differs from the latest one in the event log, so the
sensor, the CLI and the UI's "observe" button can all report without creating false staleness.
"""

from pathlib import Path

import dagster as dg

from ticket_intel import runner, settings
from ticket_intel import warehouse as wh
from ticket_intel.core import taxonomy as tax
from ticket_intel.core.review import reviews_version
from ticket_intel.defs.resources import RankingConfig, TriageConfig, Warehouse

DATA_VERSION_TAG = "dagster/data_version"
INPUT_VERSION_TAG = "dagster/input_data_version"
# Observed configuration files: asset -> the setting naming the file.
CONFIG_FILES = {"taxonomy": "TICKET_INTEL_TAXONOMY", "triage_taxonomy": "TICKET_INTEL_TRIAGE",
                "routing": "TICKET_INTEL_ROUTING"}


@dg.observable_source_asset(
    group_name="inputs",
    description="taxonomy.yaml: product areas and tag synonyms, versioned by content hash.",
)
def taxonomy(ranking: RankingConfig) -> dg.DataVersion:
    return dg.DataVersion(tax.content_hash(tax.locate(ranking.taxonomy)))


@dg.observable_source_asset(
    group_name="inputs",
    description="triage.yaml: triage categories, subcategories, their rules and descriptions, versioned by "
    "content hash.",
)
def triage_taxonomy(triage_config: TriageConfig) -> dg.DataVersion:
    return dg.DataVersion(tax.content_hash(tax.locate(triage_config.triage)))


@dg.observable_source_asset(
    group_name="inputs",
    description="routing.yaml: team, escalation team and SLA hours per triage category, versioned by content hash.",
)
def routing(triage_config: TriageConfig) -> dg.DataVersion:
    return dg.DataVersion(tax.content_hash(tax.locate(triage_config.routing)))


@dg.observable_source_asset(
    group_name="inputs",
    description="ops.theme_reviews: rename / confirm / merge / not-a-theme decisions by people.",
)
def theme_reviews(warehouse: Warehouse) -> dg.DataVersion:
    with warehouse.connect() as con:
        return dg.DataVersion(reviews_version(wh.reviews(con)))


def versions_read(instance: dg.DagsterInstance, asset: str, source: str, weeks: list[str]) -> dict[str, str | None]:
    """Per week of `weeks` materialized, the version of the source asset `source` its latest
    materialization of `asset` read (None: not recorded). Dagster records it as a tag; its own
    staleness resolver is no public API."""
    read: dict[str, str | None] = {}
    cursor, more = None, True
    while more and len(read) < len(weeks):  # newest first, a page at a time
        page = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=weeks),
                                               limit=1000, cursor=cursor)
        for record in page.records:
            read.setdefault(record.partition_key, record.asset_materialization.tags.get(f"{INPUT_VERSION_TAG}/{source}"))
        cursor, more = page.cursor, page.has_more
    return read


def weeks_behind(instance: dg.DagsterInstance, asset: str, source: str, version: str, weeks: list[str],
                 unknown: bool = True) -> list[str]:
    """Those of `weeks` whose latest materialization of `asset` read another version of the source
    asset `source` than `version` (and, with `unknown`, those never materialized or with no version
    recorded)."""
    read = versions_read(instance, asset, source, weeks)
    return [w for w in weeks if read.get(w) != version and (unknown or read.get(w) is not None)]


def observation(asset: str, version: str) -> dg.AssetObservation:
    """An observation carrying a data version, for sensors and the CLI to report."""
    return dg.AssetObservation(asset_key=asset, tags={DATA_VERSION_TAG: version})


def latest_version(instance: dg.DagsterInstance, asset: str) -> str | None:
    records = instance.fetch_observations(dg.AssetKey(asset), limit=1).records
    observed = records[0].asset_observation if records else None
    return observed.data_version if observed else None


def file_observation(instance: dg.DagsterInstance, asset: str, path: str) -> dg.AssetObservation | None:
    """A configuration file's current version as an observation of `asset`, or None when already recorded."""
    version = tax.content_hash(tax.locate(path))
    return None if latest_version(instance, asset) == version else observation(asset, version)


def recorded(instance: dg.DagsterInstance, events: list[dg.AssetObservation], built_on: str,
             warehouse: Warehouse) -> str:
    """What a sensor's tick did when it recorded versions (shown in the tick, where an idle tick says
    "unchanged"): the files, and the run of `warehouse` that applies them; call it before the events are
    reported. A first look changes nothing built: a new instance's first tick said its assets were stale."""
    names = ", ".join(e.asset_key.to_user_string() for e in events)
    if all(latest_version(instance, e.asset_key.to_user_string()) is None for e in events):
        return f"recorded the current version of {names} (a first look: nothing built read another)"
    return (f"recorded a new version of {names}: {built_on} show as stale; backfill weekly_job over the weeks "
            f"to apply it (`{runner.run_command(Path(warehouse.database), '--weeks all')}`)")


def first_reviews_observation(instance: dg.DagsterInstance) -> dg.AssetObservation | None:
    """The review log's version before any decision (an empty log), when none is recorded yet: the
    CLI records each decision's, so without it the UI's first "observe" showed every summary and
    ranking stale with no review made."""
    return observation("theme_reviews", reviews_version([])) if latest_version(instance, "theme_reviews") is None else None


def record_config_versions(instance: dg.DagsterInstance) -> None:
    """Before a run outside the daemon (the CLI): record the configuration files the run will read
    and the review log's first version, so its materializations carry their versions and do not show
    stale once the sensors or the UI first look."""
    found = [file_observation(instance, asset, settings.value(setting)) for asset, setting in CONFIG_FILES.items()]
    for event in [*found, first_reviews_observation(instance)]:
        if event is not None:
            instance.report_runless_asset_event(event)
