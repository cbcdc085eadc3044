"""Settings: one catalogue, resolved env > ticket_intel.yaml > default, every one documented."""

from __future__ import annotations

import os
import re

import pytest

from ticket_intel import PROJECT_ROOT, settings


def test_every_setting_is_in_the_readme_with_its_yaml_key():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(TICKET_INTEL_\w+)` \| `(\w+)` \|", readme, re.M)}
    missing = [s.env for s in settings.SETTINGS if rows.get(s.env) != s.yaml_key]
    assert not missing, f"settings missing from the README's configuration table: {missing}"


def test_every_resource_field_names_a_known_setting():
    from ticket_intel.defs import resources

    named = set()
    for cls in (resources.IngestConfig, resources.RedactionConfig, resources.EmbeddingConfig,
                resources.ClusteringConfig, resources.RankingConfig, resources.AlertConfig, resources.FindingsConfig,
                resources.TrackerConfig, resources.ReportConfig, resources.TriageConfig, resources.LLMConfig,
                resources.AssistConfig):
        for field, info in cls.model_fields.items():
            name = getattr(info.default, "env_var_name", None)  # EnvVar, or EnvVar.int's IntEnvVar
            assert name, f"{cls.__name__}.{field} is not an EnvVar"
            named.add(name)
    named |= {resources.Warehouse.model_fields[f].default.env_var_name for f in ("wait_seconds", "context_cache_mb")}
    load_time = {s.env for s in settings.SETTINGS if s.load_time}
    connect_time = {"TICKET_INTEL_WAREHOUSE", "TICKET_INTEL_WAREHOUSE_DATA_PATH"}  # read where the warehouse opens
    assert named | load_time | connect_time == set(settings.BY_ENV)


def test_environment_beats_file_beats_default(tmp_path, monkeypatch):
    config = tmp_path / "ticket_intel.yaml"
    config.write_text("seed: 7\nwindow_weeks: 6\nplan_weights: {free: 1, gold: 3}\n", encoding="utf-8")
    monkeypatch.setenv(settings.CONFIG_FILE_ENV, str(config))
    env = {"TICKET_INTEL_WINDOW_WEEKS": "10"}
    settings.apply(env)
    assert env["TICKET_INTEL_WINDOW_WEEKS"] == "10"
    assert env["TICKET_INTEL_SEED"] == "7"
    assert env["TICKET_INTEL_PLAN_WEIGHTS"] == "free=1,gold=3"
    assert env["TICKET_INTEL_MIN_THEME_TICKETS"] == settings.BY_ENV["TICKET_INTEL_MIN_THEME_TICKETS"].default


def test_an_unknown_key_in_the_file_is_an_error(tmp_path, monkeypatch):
    config = tmp_path / "ticket_intel.yaml"
    config.write_text("seeed: 7\n", encoding="utf-8")
    monkeypatch.setenv(settings.CONFIG_FILE_ENV, str(config))
    with pytest.raises(ValueError, match=r"unknown setting\(s\) seeed \(seed\?\)"):
        settings.apply({})


def test_an_unknown_variable_is_an_error_naming_the_closest_setting(tmp_path, monkeypatch):
    """`TICKET_INTEL_TAXONMY=…` ran on the shipped taxonomy and said nothing (the file's unknown key
    was already an error); the benchmarks' own variables are no settings and stay allowed."""
    monkeypatch.setenv(settings.CONFIG_FILE_ENV, "")
    env = {"TICKET_INTEL_TAXONMY": "a.yaml", "TICKET_INTEL_LLM_MODLE": "x", "TICKET_INTEL_ZZZ": "1", "OTHER": "1"}
    with pytest.raises(ValueError) as err:
        settings.apply(env)
    assert str(err.value) == ("unknown environment variable(s) TICKET_INTEL_LLM_MODLE (TICKET_INTEL_LLM_MODEL?), "
                              "TICKET_INTEL_TAXONMY (TICKET_INTEL_TAXONOMY?), TICKET_INTEL_ZZZ; see the README's "
                              "configuration table")
    settings.apply({"TICKET_INTEL_BENCH_CACHE": "b.duckdb", "TICKET_INTEL_BENCH_TMP": "/tmp/b", "OTHER": "1"})


def test_every_variable_the_code_reads_is_a_setting_or_named_as_another():
    """A variable the code reads that `apply` does not know would be refused as a typo."""
    code = "".join(p.read_text(encoding="utf-8") for folder in ("ticket_intel", "bench", "ticket_intel_tests")
                   for p in (PROJECT_ROOT / folder).rglob("*.py"))
    read = set(re.findall(r"\b(TICKET_INTEL_[A-Z0-9_]*[A-Z0-9])\b", code))
    assert read <= {*settings.BY_ENV, *settings.OTHER_VARIABLES} | {"TICKET_INTEL_TAXONMY", "TICKET_INTEL_LLM_MODLE",
                                                                   "TICKET_INTEL_ZZZ"}


def test_a_bad_value_names_the_file_s_key_or_the_variable_it_came_from(tmp_path, monkeypatch):
    """`min_theme_tickets: three` in the file was said as "TICKET_INTEL_MIN_THEME_TICKETS must be a whole
    number", a variable the user never set; `timezone: BST` named nothing."""
    from ticket_intel import runner

    config = tmp_path / "ticket_intel.yaml"
    config.write_text("min_theme_tickets: three\ntimezone: BST\n", encoding="utf-8")
    monkeypatch.setenv(settings.CONFIG_FILE_ENV, str(config))
    for env in ("TICKET_INTEL_MIN_THEME_TICKETS", "TICKET_INTEL_TIMEZONE"):
        monkeypatch.delenv(env, raising=False)
    settings.apply()
    with pytest.raises(ValueError, match=f"^min_theme_tickets in {config}: must be a whole number, not 'three'$"):
        settings.number("TICKET_INTEL_MIN_THEME_TICKETS")
    with pytest.raises(ValueError, match=f"^timezone in {config}: time zone 'BST' is not one this knows"):
        runner.inbox_weeks(tmp_path, "", None)
    monkeypatch.setenv("TICKET_INTEL_MIN_THEME_TICKETS", "3x")
    with pytest.raises(ValueError, match=r"^TICKET_INTEL_MIN_THEME_TICKETS: must be a whole number, not '3x'$"):
        settings.number("TICKET_INTEL_MIN_THEME_TICKETS")


def test_every_setting_is_checked_before_a_run_naming_where_it_came_from(tmp_path, monkeypatch):
    """A malformed `plan_weights` failed the run at raw_tickets, after the inbox was read, naming no setting."""
    from ticket_intel.defs.resources import check_settings

    config = tmp_path / "ticket_intel.yaml"
    config.write_text("plan_weights: prepaid:1,postpaid:2\n", encoding="utf-8")
    monkeypatch.setenv(settings.CONFIG_FILE_ENV, str(config))
    monkeypatch.delenv("TICKET_INTEL_PLAN_WEIGHTS", raising=False)
    with pytest.raises(ValueError, match=f"^plan_weights in {config}: weights must look like 'name=number"):
        check_settings()
    monkeypatch.setenv("TICKET_INTEL_PLAN_WEIGHTS", "free=1,pro=2")
    monkeypatch.setenv("TICKET_INTEL_PAID_PLANS", "gold")
    with pytest.raises(ValueError, match=r"^TICKET_INTEL_PAID_PLANS: paid plan\(s\) gold are not in the plan weights"):
        check_settings()
    monkeypatch.setenv("TICKET_INTEL_PAID_PLANS", "pro")
    monkeypatch.setenv("TICKET_INTEL_SPIKE_DISTRIBUTION", "gauss")
    with pytest.raises(ValueError, match=r"^TICKET_INTEL_SPIKE_DISTRIBUTION: distribution must be one of"):
        check_settings()
    monkeypatch.delenv("TICKET_INTEL_SPIKE_DISTRIBUTION")
    check_settings()  # the defaults and these values pass


def test_settings_are_checked_once_per_set_of_values(monkeypatch):
    """`ticket-intel run` checked every setting before it planned, then again when it loaded the code
    location (0.5 s a run); a changed value is checked again."""
    from ticket_intel.defs import resources

    built = []
    monkeypatch.setattr(resources, "build_resources", lambda real=resources.build_resources: built.append(1) or real())
    monkeypatch.setenv("TICKET_INTEL_MIN_THEME_TICKETS", "7")
    resources.check_settings()
    resources.check_settings()
    assert len(built) == 1
    monkeypatch.setenv("TICKET_INTEL_MIN_THEME_TICKETS", "7x")
    with pytest.raises(ValueError, match="TICKET_INTEL_MIN_THEME_TICKETS"):
        resources.check_settings()
    with pytest.raises(ValueError, match="TICKET_INTEL_MIN_THEME_TICKETS"):
        resources.check_settings()  # a failed check is not remembered as passed
    assert len(built) == 3


def test_a_bad_setting_fails_the_code_location_load_so_no_ui_or_sensor_run_starts_with_it(monkeypatch):
    """Only the CLI checked settings before a run: a run launched from the UI, a schedule or a sensor
    with TICKET_INTEL_SPIKE_DISTRIBUTION=gauss failed at the step that read it. The code location's
    load (what `dagster dev` and `dg check defs` do) now fails with the setting's one line, raised by
    the resources' definitions (the autoloaded `defs/resources.py`)."""
    from ticket_intel.defs.resources import resources

    monkeypatch.setenv("TICKET_INTEL_SPIKE_DISTRIBUTION", "gauss")
    with pytest.raises(ValueError, match=r"^TICKET_INTEL_SPIKE_DISTRIBUTION: distribution must be one of"):
        resources()
    monkeypatch.delenv("TICKET_INTEL_SPIKE_DISTRIBUTION")
    assert resources().resources


@pytest.mark.parametrize("command", [["themes"], ["review", "list"], ["similar", "--text", "card"]])
def test_a_mistake_in_the_file_is_one_line_for_every_command(tmp_path, command):
    """Commands whose --warehouse defaults from the file showed a 40-line traceback."""
    from click.testing import CliRunner

    from ticket_intel.cli import main

    config = tmp_path / "ticket_intel.yaml"
    config.write_text("min_theme_tickts: 3\n", encoding="utf-8")
    result = CliRunner().invoke(main, command, env={settings.CONFIG_FILE_ENV: str(config)})
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [
        f"ticket-intel: error: {config}: unknown setting(s) min_theme_tickts (min_theme_tickets?); see the README's "
        "configuration table"]


def test_relative_paths_keep_their_meaning_when_dev_changes_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items() if not k.startswith("TICKET_INTEL_")})
    monkeypatch.setattr(settings, "DEFAULTED", set())
    monkeypatch.chdir(tmp_path)
    (tmp_path / "areas.yaml").write_text("areas: {}\n", encoding="utf-8")
    (tmp_path / "ticket_intel.yaml").write_text("taxonomy: areas.yaml\nseed: 7\n", encoding="utf-8")
    settings.anchor_paths()
    assert os.environ["TICKET_INTEL_CONFIG"] == str((tmp_path / "ticket_intel.yaml").resolve())
    assert os.environ["TICKET_INTEL_TAXONOMY"] == str((tmp_path / "areas.yaml").resolve())
    assert os.environ["TICKET_INTEL_SEED"] == "7"
    assert os.environ["TICKET_INTEL_TRIAGE"] == settings.BY_ENV["TICKET_INTEL_TRIAGE"].default  # absent here: as given


def test_a_number_setting_that_is_none_names_itself(monkeypatch):
    """`TICKET_INTEL_SIMILAR_K=abc` failed with "invalid literal for int() with base 10: 'abc'"."""
    monkeypatch.setenv("TICKET_INTEL_SIMILAR_K", "abc")
    with pytest.raises(ValueError, match="TICKET_INTEL_SIMILAR_K: must be a whole number, not 'abc'"):
        settings.number("TICKET_INTEL_SIMILAR_K")
    monkeypatch.setenv("TICKET_INTEL_LLM_TIMEOUT_SECONDS", "2.5")
    assert settings.number("TICKET_INTEL_LLM_TIMEOUT_SECONDS", float) == 2.5


def test_a_settings_file_named_but_missing_is_an_error_and_empty_names_none(tmp_path, monkeypatch):
    """A misspelt TICKET_INTEL_CONFIG (`.yml` for `.yaml`) ran every command on the defaults, silently."""
    from click.testing import CliRunner

    from ticket_intel.cli import main

    missing = tmp_path / "ticket_intel.yml"
    result = CliRunner().invoke(main, ["themes"], env={settings.CONFIG_FILE_ENV: str(missing)})
    assert result.exit_code == 1 and result.output.strip().splitlines() == [
        f"ticket-intel: error: {settings.CONFIG_FILE_ENV} names {missing}, which is not a file "
        "(set it empty to read no settings file)"]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ticket_intel.yaml").write_text("seed: 7\n", encoding="utf-8")
    monkeypatch.setenv(settings.CONFIG_FILE_ENV, "")
    assert settings.config_file() is None and settings.file_values(settings.config_file()) == {}
    monkeypatch.delenv(settings.CONFIG_FILE_ENV)
    assert settings.file_values(settings.config_file()) == {"seed": 7}  # the working directory's, when unset
