"""triage_config_sensor: records new data versions of `triage_taxonomy` and `routing` when
triage.yaml or routing.yaml change, so `ticket_triage` and what is built on it show as stale."""

import dagster as dg

from ticket_intel.defs.resources import TriageConfig, Warehouse
from ticket_intel.defs.sources import file_observation, recorded


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Records a new data version of `triage_taxonomy` or `routing` when triage.yaml or "
           "routing.yaml changes, so ticket triage and the themes built on it show as stale until backfilled.")
def triage_config_sensor(context: dg.SensorEvaluationContext, triage_config: TriageConfig,
                         warehouse: Warehouse) -> dg.SensorResult:
    found = [event for asset, path in (("triage_taxonomy", triage_config.triage), ("routing", triage_config.routing))
             if (event := file_observation(context.instance, asset, path)) is not None]
    if not found:
        return dg.SensorResult(skip_reason="triage.yaml and routing.yaml unchanged")
    return dg.SensorResult(asset_events=found, skip_reason=recorded(
        context.instance, found, "ticket_triage (and the summaries, rankings and reports built on it, which Dagster does not mark)", warehouse))
