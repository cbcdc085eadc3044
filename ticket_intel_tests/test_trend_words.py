"""A trend as people read it and as scripts read it: a PM read "steady (10 vs 4.5/wk)" as flat, for
a theme that more than doubled within its baseline weeks' noise. People read "no clear change";
the warehouse, the JSON and CSV exports and the report's CSS class keep the stored `steady`."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pandas as pd
from click.testing import CliRunner

from ticket_intel import warehouse as wh
from ticket_intel.cli import main
from ticket_intel.core import report
from ticket_intel.core.rank import rank_week
from ticket_intel_tests.test_rank import WEEK, context, frame, summaries, tickets

SHOWN = "no clear change (10 vs 4.5/wk)"


def ranked_warehouse(path) -> str:
    """A warehouse whose week ranks A, 10 tickets against 3, 6, 3, 6 (4.5/wk: the test finds no
    change), beside B's 20 a week, ranked and stored as the pipeline does."""
    data = frame(*[tickets("A", n, n, week=WEEK - timedelta(weeks=4 - k), start=100 * k)
                   for k, n in enumerate([3, 6, 3, 6, 10])],
                 *[tickets("B", 20, 20, week=WEEK - timedelta(weeks=k), start=100 * k) for k in range(5)])
    ranked = rank_week(context(data), summaries(("A", "P2", "bug"), ("B", "P3", "bug"))).ranked
    with wh.open_warehouse(path) as con:
        wh.replace(con, [wh.Replace("marts.weekly_overview", pd.DataFrame([{"week_start": WEEK, "tickets": 30}])),
                         wh.Replace("marts.ranked_themes", ranked.assign(week_start=WEEK))])
    return str(path)


def test_a_theme_the_test_cannot_tell_from_its_baseline_reads_no_clear_change_where_people_read_it(tmp_path):
    path = ranked_warehouse(tmp_path / "w.duckdb")
    with wh.open_warehouse(path, read_only=True) as con:
        stored = con.execute("SELECT trend, trend_baseline FROM marts.ranked_themes WHERE theme_id = 'A'").fetchone()
        ranked = wh.ranked_themes(con, WEEK)
    assert stored == ("steady", 4.5)
    run = CliRunner()
    table = run.invoke(main, ["themes", "--warehouse", path], env={"COLUMNS": "400"})
    assert table.exit_code == 0 and SHOWN in table.stdout and "steady" not in table.stdout, table.output
    listed = run.invoke(main, ["themes", "--warehouse", path, "--format", "json"])
    assert {t["theme_id"]: t["trend"] for t in json.loads(listed.stdout)} == {"A": "steady", "B": "steady"}
    exported = run.invoke(main, ["export", "--warehouse", path, "--format", "csv"])
    assert set(pd.read_csv(io.StringIO(exported.stdout))["trend"]) == {"steady"}
    ctx = report.build_context(WEEK, {"tickets": 30, "customers": 30, "themes": 2}, ranked, pd.DataFrame(),
                               pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    md, html = report.render_markdown(ctx), report.render_html(ctx, {})
    assert SHOWN in md and "steady" not in md
    assert f'<span class="tag trend-steady">{SHOWN}</span>' in html  # the class keeps the stored word
    assert html.count("steady") == html.count("trend-steady")

