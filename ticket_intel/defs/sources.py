"""Observable inputs that are not tickets: the taxonomy file and the human review log.

Their data versions (a content hash) make dependent assets show as stale in the UI when the
taxonomy is edited or a reviewer decides something, until those weeks are re-materialized.
"""

import hashlib
from pathlib import Path

import dagster as dg

from ticket_intel import warehouse as wh
from ticket_intel.core import taxonomy as tax
from ticket_intel.defs.resources import PipelineConfig, Warehouse

DATA_VERSION_TAG = "dagster/data_version"


@dg.observable_source_asset(
    group_name="inputs",
    description="taxonomy.yaml: product areas and tag synonyms, versioned by content hash.",
)
def taxonomy(settings: PipelineConfig) -> dg.DataVersion:
    return dg.DataVersion(tax.content_hash(Path(settings.taxonomy_path)))


def reviews_version(rows: list[dict]) -> str:
    payload = "|".join(f"{r['review_id']}:{r['action']}:{r['theme_id']}:{r['value']}:{r['target_theme_id']}" for r in rows)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dg.observable_source_asset(
    group_name="inputs",
    description="ops.theme_reviews: rename / confirm / merge / not-a-theme decisions by people.",
)
def theme_reviews(warehouse: Warehouse) -> dg.DataVersion:
    with warehouse.connect() as con:
        return dg.DataVersion(reviews_version(wh.reviews(con)))


def observation(asset: str, version: str) -> dg.AssetObservation:
    """An observation carrying a data version, for sensors and the CLI to report."""
    return dg.AssetObservation(asset_key=asset, tags={DATA_VERSION_TAG: version})
