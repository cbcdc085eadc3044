"""triage.yaml and routing.yaml are observed inputs: editing either marks ticket_triage stale until
its weeks are materialized again; an unchanged file records nothing."""

import shutil
from pathlib import Path

import dagster as dg

from ticket_intel import PROJECT_ROOT
from ticket_intel.defs import triage as triage_defs
from ticket_intel.defs.resources import EmbeddingConfig, LLMConfig, RankingConfig, TriageConfig, Warehouse
from ticket_intel.defs.sources import latest_version
from ticket_intel.warehouse.target import cli_flag
from ticket_intel_tests.test_taxonomy import _stale
from ticket_intel_tests.test_triage import fake_encode
from ticket_intel_tests.test_triage_asset import WEEK, build_warehouse


def _tick(instance: dg.DagsterInstance, config: TriageConfig, warehouse: Path) -> list[str]:
    """Evaluate triage_config_sensor and store its events, as the daemon does; the assets observed."""
    from ticket_intel.definitions import defs

    sensor = defs().resolve_sensor_def("triage_config_sensor")
    with dg.build_sensor_context(instance=instance, resources={
            "triage_config": config, "warehouse": Warehouse(database=str(warehouse))}) as context:
        result = sensor.evaluate_tick(context)
    # the tick says what it did: "unchanged", or which file it recorded and how to apply it
    assert ("recorded" in result.skip_message) == bool(result.asset_events), result.skip_message
    # a first look records what is there and changes nothing built: a new instance's said "show as stale"
    first = all(latest_version(instance, e.asset_key.to_user_string()) is None for e in result.asset_events)
    assert ("first look" in result.skip_message and "stale" not in result.skip_message) == (first and bool(result.asset_events))
    # the run it names can be run as printed: "ticket-intel run --weeks all" alone lacked --inbox
    assert "stale" not in result.skip_message or (
        "`ticket-intel run --inbox " in result.skip_message and f"{cli_flag(warehouse)} --weeks all`" in result.skip_message)
    for event in result.asset_events:
        instance.report_runless_asset_event(event)
    return sorted(e.asset_key.to_user_string() for e in result.asset_events)


def _materialize(instance: dg.DagsterInstance, warehouse: Path, config: TriageConfig) -> None:
    result = dg.materialize(
        [triage_defs.ticket_triage], instance=instance, partition_key=WEEK.isoformat(),
        resources={"warehouse": Warehouse(database=str(warehouse)), "triage_config": config,
                   "ranking": RankingConfig(), "embedding": EmbeddingConfig(), "llm": LLMConfig()},
    )
    assert result.success


def test_editing_triage_or_routing_yaml_makes_ticket_triage_stale(tmp_path, instance, monkeypatch):
    monkeypatch.setattr(triage_defs.encoder, "encode", lambda texts, *a, **k: fake_encode(texts))
    triage_file, routing_file = tmp_path / "triage.yaml", tmp_path / "routing.yaml"
    shutil.copy(PROJECT_ROOT / "triage.yaml", triage_file)
    shutil.copy(PROJECT_ROOT / "routing.yaml", routing_file)
    config = TriageConfig(triage=str(triage_file), routing=str(routing_file))
    warehouse = build_warehouse(tmp_path / "w.duckdb")
    week = WEEK.isoformat()

    assert _tick(instance, config, warehouse) == ["routing", "triage_taxonomy"], "first look records both files"
    _materialize(instance, warehouse, config)
    assert _tick(instance, config, warehouse) == [] and not _stale(instance, "ticket_triage", week)

    triage_file.write_text(triage_file.read_text() + "\n# a comment is an edit too\n")
    assert _tick(instance, config, warehouse) == ["triage_taxonomy"]
    assert _tick(instance, config, warehouse) == [], "one observation per change"
    assert _stale(instance, "ticket_triage", week)

    _materialize(instance, warehouse, config)
    assert not _stale(instance, "ticket_triage", week)
    routing_file.write_text(routing_file.read_text().replace("escalate_at_frustration: high",
                                                             "escalate_at_frustration: critical"))
    assert _tick(instance, config, warehouse) == ["routing"]
    assert _stale(instance, "ticket_triage", week)


def test_the_review_log_s_first_version_is_recorded_before_anything_reads_it(tmp_path, instance):
    """The UI's first "observe" of theme_reviews marked every week's summaries and rankings stale,
    with no review ever made: nothing had recorded the empty log's version."""
    from ticket_intel.core.review import reviews_version
    from ticket_intel.definitions import defs
    from ticket_intel.defs.sources import record_config_versions

    sensor = defs().resolve_sensor_def("taxonomy_sensor")
    with dg.build_sensor_context(
            instance=instance, resources={"ranking": RankingConfig(taxonomy=str(PROJECT_ROOT / "taxonomy.yaml")),
                                          "warehouse": Warehouse(database=str(tmp_path / "w.duckdb"))}) as context:
        tick = sensor.evaluate_tick(context)
    assert sorted(e.asset_key.to_user_string() for e in tick.asset_events) == ["taxonomy", "theme_reviews"]
    assert "first look" in tick.skip_message
    fresh = dg.DagsterInstance.ephemeral()
    record_config_versions(fresh)  # the command line's runs, before the daemon looks
    assert latest_version(fresh, "theme_reviews") == reviews_version([])
