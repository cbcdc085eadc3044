"""taxonomy_sensor: records a new data version of `taxonomy` when the YAML file changes."""

from pathlib import Path

import dagster as dg

from ticket_intel.core import taxonomy
from ticket_intel.defs.resources import PipelineConfig
from ticket_intel.defs.sources import observation


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Records a new data version of `taxonomy` when taxonomy.yaml changes, so "
           "the assets that use it show as stale.")
def taxonomy_sensor(context: dg.SensorEvaluationContext, settings: PipelineConfig) -> dg.SensorResult:
    version = taxonomy.content_hash(Path(settings.taxonomy_path))
    if context.cursor == version:
        return dg.SensorResult(skip_reason="taxonomy unchanged")
    return dg.SensorResult(cursor=version, asset_events=[observation("taxonomy", version)])
