"""taxonomy_sensor: records a new data version of `taxonomy` when the YAML file changes."""

import dagster as dg

from ticket_intel.defs.resources import RankingConfig
from ticket_intel.defs.sources import file_observation, recorded


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Records a new data version of `taxonomy` when taxonomy.yaml changes, so "
           "the assets that use it show as stale until their weeks are backfilled.")
def taxonomy_sensor(context: dg.SensorEvaluationContext, ranking: RankingConfig) -> dg.SensorResult:
    found = file_observation(context.instance, "taxonomy", ranking.taxonomy)
    if found is None:
        return dg.SensorResult(skip_reason="taxonomy unchanged")
    return dg.SensorResult(asset_events=[found], skip_reason=recorded([found], "the summaries and what is built on them"))
