"""taxonomy_sensor: records a new data version of `taxonomy` when the YAML file changes."""

import dagster as dg

from ticket_intel.defs.resources import RankingConfig, Warehouse
from ticket_intel.defs.sources import file_observation, first_reviews_observation, recorded


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Records a new data version of `taxonomy` when taxonomy.yaml changes, so "
           "the assets that use it show as stale until their weeks are backfilled.")
def taxonomy_sensor(context: dg.SensorEvaluationContext, ranking: RankingConfig,
                    warehouse: Warehouse) -> dg.SensorResult:
    found = file_observation(context.instance, "taxonomy", ranking.taxonomy)
    reviews = first_reviews_observation(context.instance)  # this sensor is the daemon's first look at inputs
    if found is None:
        return dg.SensorResult(asset_events=[reviews] if reviews else [], skip_reason="taxonomy unchanged")
    said = recorded(context.instance, [found], "the summaries and rankings that read it (not the alerts and reports "
                    "built on them, which Dagster does not mark)", warehouse)
    return dg.SensorResult(asset_events=[found, *([reviews] if reviews else [])], skip_reason=said)
