"""Closing the loop on the bundled sample, end to end (one shared run of every week): the planted
help-center coverage, releases, Enterprise segment, theme groups and customers come out right;
the JSON contract; `review fixed` then the fix status; a dry run of the backlog sync."""

from __future__ import annotations

import json

import dagster as dg
import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from ticket_intel.cli import main
from ticket_intel.core.anomalies import NEW_PATTERN, SPIKE
from ticket_intel.core.help_center import COVERED, GAP, UNFOUND
from ticket_intel.core.releases import describe_after_release
from ticket_intel.core.theme_context import CONTRACT_KEYS
from ticket_intel_tests.test_e2e import _theme_of_intent

pytestmark = pytest.mark.e2e


def _ranked(run, week: str) -> pd.DataFrame:
    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        return con.execute("SELECT * FROM marts.ranked_themes WHERE week_start = ?", [week]).df().set_index("theme_id")


def _theme(run, planted: dict, intent: str, week: str | None = None) -> str:
    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        return _theme_of_intent(con, planted, week or run.end, intent)


def _article(planted: dict, coverage: str) -> dict:
    return next(a for a in planted["help_center"] if a["coverage"] == coverage)


def test_docs_status_of_the_planted_articles(sample_run, planted):
    ranked = _ranked(sample_run, sample_run.end)
    covered, unfound, draft = (_article(planted, c) for c in ("covered", "unfound", "draft"))
    for article, status in ((covered, COVERED), (unfound, UNFOUND)):
        theme = ranked.loc[_theme(sample_run, planted, article["intent"])]
        assert (theme["docs_status"], theme["docs_article"]) == (status, article["title"]), theme["docs_note"]
    assert ranked.loc[_theme(sample_run, planted, draft["intent"]), "docs_status"] == GAP  # a draft is no help
    for intent in (planted["enterprise_segment"]["intent"], planted["new_pattern"]["intent"]):
        assert ranked.loc[_theme(sample_run, planted, intent), "docs_status"] == GAP
    # the week before the card-activation article was published, its theme had no article
    prior = planted["weeks"][planted["weeks"].index(planted["deflected"]["article_week"]) - 1]
    assert _ranked(sample_run, prior).loc[_theme(sample_run, planted, covered["intent"], prior), "docs_status"] == GAP


def test_the_new_pattern_started_days_after_its_release_and_the_spike_after_the_next(sample_run, planted):
    follows = {f["intent"]: f for f in planted["releases"]}
    new = planted["new_pattern"]
    theme = _theme(sample_run, planted, new["intent"])
    row = _ranked(sample_run, sample_run.end).loc[theme]
    expected = follows[new["intent"]]
    assert (row["after_release"], row["after_release_days"]) == (expected["version"], expected["days_after"])
    sentence = describe_after_release(expected["version"], expected["days_after"])
    assert sentence[:1].upper() + sentence[1:] in list(row["notes"])
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        alerts = con.execute("SELECT theme_id, kind, week_start, after_release FROM ops.alerts").df()
    born = alerts[(alerts["kind"] == NEW_PATTERN) & (alerts["theme_id"] == theme)]
    assert list(born["after_release"]) == [expected["version"]]
    spikes = alerts[(alerts["kind"] == SPIKE) & (alerts["week_start"].astype(str) == planted["spike"]["week_start"])]
    assert list(spikes["after_release"]) == [follows[planted["spike"]["intent"]]["version"]]


def test_the_enterprise_theme_has_its_segment_with_a_p_value(sample_run, planted):
    segment = planted["enterprise_segment"]
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        claims = con.execute("SELECT * FROM marts.theme_segments WHERE field = 'plan'").df()
        claims["week_start"] = claims["week_start"].astype(str)
    weeks = planted["weeks"][-4:]
    pure = [week for week in weeks if _purity(sample_run, planted, segment["intent"], week) >= PURE]
    # The claim is the segment test's, on the themes the clustering made: it is owed where the theme
    # is the intent's. Clustering's floating point differs by CPU: on an AVX-512 host the spike week's
    # theme took 3 tickets of another intent (11 of 15 its own), and the claim rightly weakened.
    assert len(pure) >= len(weeks) - 1, pure
    for week in pure:
        theme = _theme(sample_run, planted, segment["intent"], week)
        mine = claims[(claims["week_start"] == week) & (claims["theme_id"] == theme)]
        assert list(mine["value"]) == [segment["plan"]], (week, mine)
        assert mine["share"].iloc[0] >= segment["min_share"] - 0.1 and mine["p_value"].iloc[0] < 0.05
        assert mine["baseline_share"].iloc[0] < 0.4
    # no other theme is "mostly Enterprise"
    made = claims[(claims["value"] == segment["plan"]) & claims["week_start"].isin(weeks)]
    assert all(theme == _theme(sample_run, planted, segment["intent"], week)
               for week, theme in zip(made["week_start"], made["theme_id"], strict=True)), made


PURE = 0.8  # the share of a theme's tickets that must be the planted intent's for its segment to be owed


def _purity(run, planted: dict, intent: str, week: str) -> float:
    """The share of this week's tickets of the intent's theme that are the intent's."""
    mine = {f"{t['source']}:{t['source_id']}" for t in planted["valid_tickets"] if t["intent"] == intent}
    theme = _theme(run, planted, intent, week)
    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        ids = [r[0] for r in con.execute("SELECT ticket_id FROM staging.ticket_clusters WHERE week_start = ? "
                                         "AND ticket_week = ? AND theme_id = ?", [week, week, theme]).fetchall()]
    return sum(i in mine for i in ids) / len(ids)


def test_theme_groups_and_customers_to_tell(sample_run, planted):
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        parents = con.execute("SELECT * FROM marts.theme_parents WHERE week_start = ?", [sample_run.end]).df()
        ranked = con.execute("SELECT theme_id FROM marts.ranked_themes WHERE week_start = ? ORDER BY rank",
                             [sample_run.end]).df()
        report = con.execute("SELECT markdown FROM marts.weekly_reports WHERE week_start = ?",
                             [sample_run.end]).fetchone()[0]
    assert sorted(parents["theme_id"]) == sorted(ranked["theme_id"])
    sizes = parents.dropna(subset=["parent_id"]).groupby("parent_label").size()
    assert sizes.get("Cards", 0) >= 3  # the card intents share the taxonomy's Cards area
    assert "\n## Theme groups\n" in report and "- Cards: " in report
    theme = _theme(sample_run, planted, planted["enterprise_segment"]["intent"])
    out = CliRunner().invoke(main, ["export", "--warehouse", str(sample_run.warehouse), "--customers",
                                    "--theme", theme, "--format", "json"])
    assert out.exit_code == 0, out.output
    customers = json.loads(out.stdout)
    assert customers and {c["theme_id"] for c in customers} == {theme}
    plans = [c["plan"] for c in customers]
    assert plans.count("enterprise") / len(plans) >= 0.6 and plans[0] == "enterprise"  # richest first
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:  # its whole history, not the window
        first, window_start = con.execute(
            "SELECT min(r.created_at), min(c.ticket_week) FILTER (WHERE c.week_start = ?) FROM staging.ticket_clusters c "
            "JOIN staging.redacted_tickets r ON r.ticket_id = c.ticket_id AND r.week_start = c.ticket_week "
            "WHERE c.series_theme_id = ? AND r.customer_id IS NOT NULL", [sample_run.end, theme]).fetchone()
    assert min(c["first_ticket_at"] for c in customers) == first.isoformat(timespec="milliseconds")
    assert first.date() < window_start
    top = ranked["theme_id"].iloc[0]  # the report names whom to tell for the top themes
    hint = f"`ticket-intel export --customers --theme {top} --week {sample_run.end} --warehouse "  # this week, this warehouse
    assert "\n## Customers to tell\n" in report and hint in report and f"{sample_run.warehouse.name}`" in report


def test_the_report_shows_every_closing_section(sample_run, planted):
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        report = con.execute("SELECT markdown FROM marts.weekly_reports WHERE week_start = ?",
                             [sample_run.end]).fetchone()[0]
    for section in ("Documentation", "Releases and fixes", "Segments", "Customers to tell", "Customers at risk",
                    "Theme groups"):
        assert f"\n## {section}\n" in report
    assert "## Documentation gaps" not in report  # the help center replaces the signal-type list
    assert "- **Covered:** " in report and "- **Unfound:** " in report and "- **Gap:** " in report
    expected = next(f for f in planted["releases"] if f["intent"] == planted["new_pattern"]["intent"])
    assert describe_after_release(expected["version"], expected["days_after"]) in report
    assert "Enterprise vs " in report


def test_the_json_contract(sample_run):
    out = CliRunner().invoke(main, ["themes", "--warehouse", str(sample_run.warehouse), "--format", "json"])
    assert out.exit_code == 0, out.output
    themes = json.loads(out.stdout)
    assert themes
    for theme in themes:
        assert set(CONTRACT_KEYS) <= set(theme)
        assert theme["docs_status"] in (GAP, UNFOUND, COVERED)
        assert theme["fix_status"] is None  # nothing marked fixed
        for segment in theme["segments"]:
            assert set(segment) == {"field", "value", "share", "baseline_share", "p_value", "scope"}
    assert any(t["segments"] for t in themes) and any(t["parent"] for t in themes)
    assert any(t["after_release"] for t in themes)


def test_review_fixed_then_the_fix_status(sample_copy, planted):
    from ticket_intel.definitions import defs

    spike = planted["spike"]
    theme = _theme(sample_copy, planted, spike["intent"], spike["week_start"])
    release = next(f["version"] for f in planted["releases"] if f["intent"] == spike["intent"])
    out = CliRunner().invoke(main, ["review", "fixed", theme, "--release", release,
                                    "--warehouse", str(sample_copy.warehouse)])
    assert out.exit_code == 0, out.output
    assert f"{theme} fixed in {release}" in out.output and "warning" not in out.output
    result = defs().resolve_job_def("weekly_job").execute_in_process(
        instance=dg.DagsterInstance.get(), partition_key=sample_copy.end,
        asset_selection=[dg.AssetKey(k) for k in ("ranked_themes", "theme_alerts", "weekly_report")])
    assert result.success
    row = _ranked(sample_copy, sample_copy.end).loc[theme]
    # one full week after the release, at the level it had before the spike: not (yet) a fix
    assert (row["fix_status"], row["fix_release"]) == ("not yet", release)
    assert row["fix_note"].startswith(f"Fix in {release}: not yet (")
    unknown = CliRunner().invoke(main, ["review", "fixed", theme, "--release", "9.9",
                                        "--warehouse", str(sample_copy.warehouse)])
    assert unknown.exit_code == 0 and "release 9.9 is not in the releases file" in unknown.output


def test_backlog_dry_run_on_the_sample(sample_copy, monkeypatch):
    monkeypatch.setenv("TICKET_INTEL_TRACKER", "jira")  # no credentials: a dry run calls nothing
    out = CliRunner().invoke(main, ["backlog", "sync", "--dry-run", "--warehouse", str(sample_copy.warehouse)])
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith("backlog: 5 create, 0 update")  # no run, so no instance to name
    ranked = _ranked(sample_copy, sample_copy.end).sort_values("rank")
    assert f"create  {ranked.index[0]}  new issue" in out.stdout
    with duckdb.connect(str(sample_copy.warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM ops.backlog_links").fetchone()[0] == 0
