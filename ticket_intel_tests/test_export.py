"""Export of ranked themes with their example tickets: CSV (formula-safe), Parquet, JSON."""

from __future__ import annotations

import csv
import io
import json
import shlex
from datetime import date

import pandas as pd
import pytest
from click.testing import CliRunner

from ticket_intel.cli import main
from ticket_intel.core.export import neutralise, serialize, themes_with_examples


@pytest.mark.parametrize("cell", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "\r=x", '=HYPERLINK("http://x","y")'])
def test_formula_cells_are_neutralised(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Card declined", "", 3, -2.5, None, " =not at start"])
def test_other_cells_are_left_alone(cell):
    assert neutralise(cell) == cell


def frame() -> pd.DataFrame:
    themes = pd.DataFrame([{
        "week_start": date(2026, 11, 16), "rank": 1, "theme_id": "T1", "label": "=cmd|' /C calc'!A0",
        "tickets": 12, "customers": 10, "paid_share": 0.5, "example_ticket_ids": ["zendesk:1", "zendesk:2"],
    }])
    tickets = pd.DataFrame({"ticket_id": ["zendesk:1", "zendesk:2"], "text": ["@SUM(1+1) please", "plain text"]})
    return themes_with_examples(themes, tickets)


def test_csv_export_neutralises_formulas_and_keeps_the_rest():
    rows = list(csv.DictReader(io.StringIO(serialize(frame(), "csv").decode())))
    assert rows[0]["label"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["example_texts"] == "'@SUM(1+1) please | plain text"
    assert rows[0]["example_ticket_ids"] == "zendesk:1 | zendesk:2"
    assert rows[0]["tickets"] == "12" and rows[0]["week_start"] == "2026-11-16"


def test_json_and_parquet_keep_lists_and_original_text():
    records = json.loads(serialize(frame(), "json"))
    assert records[0]["example_ticket_ids"] == ["zendesk:1", "zendesk:2"]
    assert records[0]["label"].startswith("=")  # only CSV is opened by spreadsheets
    back = pd.read_parquet(io.BytesIO(serialize(frame(), "parquet")))
    assert list(back.loc[0, "example_texts"]) == ["@SUM(1+1) please", "plain text"]
    with pytest.raises(ValueError, match="unknown export format"):
        serialize(frame(), "xlsx")


def test_csv_writes_the_numbers_json_does():
    """Swift's export wrote `wow_change` -0.19999999999999996 in CSV (12 tickets against 15: 12 / 15 - 1)
    where JSON said -0.2; a segment's share inside a cell did the same."""
    week = frame().assign(wow_change=12 / 15 - 1, segments=[[{"field": "plan", "share": 0.1 + 0.2}]])
    row = next(csv.DictReader(io.StringIO(serialize(week, "csv").decode())))
    record = json.loads(serialize(week, "json"))[0]
    assert row["wow_change"] == str(record["wow_change"]) == "-0.2"
    assert row["segments"] == "field=plan, share=0.3" and record["segments"][0]["share"] == 0.3
    assert row["paid_share"] == str(record["paid_share"]) == "0.5"


def test_weekly_parquet_exports_read_as_one_dataset(tmp_path):
    """An empty week typed its columns null and a week without segments `list<null>`: a folder of
    weekly files failed in DuckDB ("failed to cast column week_start from VARCHAR to NULL")."""
    import duckdb

    from ticket_intel import warehouse as wh

    with wh.open_warehouse(tmp_path / "w.duckdb") as con:
        stored = wh.export_schema(con)
    full = frame().assign(segments=[[{"field": "plan", "value": "pro", "share": 0.5, "baseline_share": 0.1,
                                      "p_value": 0.01, "scope": ""}]], docs_status="gap")
    bare = frame().assign(segments=[[]], docs_status=None, paid_share=None)
    for name, week in (("a", bare), ("b", full), ("c", full.iloc[:0])):
        (tmp_path / f"{name}.parquet").write_bytes(serialize(week, "parquet", stored))
    read = duckdb.sql(f"SELECT week_start, segments, docs_status FROM read_parquet('{tmp_path}/*.parquet')").fetchall()
    assert len(read) == 2 and read[1][1][0]["value"] == "pro" and read[0][2] is None


def test_json_export_is_strict_json_where_the_warehouse_holds_arrays_and_missing_numbers():
    """twcs' export held `"paid_share": NaN` (no JSON reader takes it) and lists as numpy's text
    ("['UPSHelp' '(none)']"), where `themes --format json` gave null and real lists."""
    import numpy as np

    stored = frame().assign(paid_share=np.nan, product_names=[np.array(["UPSHelp", "(none)"], dtype=object)],
                            product_counts=[np.array([7, 1])])

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    record = json.loads(serialize(stored, "json"), parse_constant=refuse)[0]
    assert record["paid_share"] is None
    assert (record["product_names"], record["product_counts"]) == (["UPSHelp", "(none)"], [7, 1])
    assert record["week_start"] == "2026-11-16" and record["tickets"] == 12


@pytest.mark.e2e
@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_cli_exports_a_week_of_the_sample(sample_run, tmp_path, fmt):
    out = tmp_path / f"themes.{fmt}"
    result = CliRunner().invoke(main, ["export", "--warehouse", str(sample_run.warehouse), "--week", sample_run.end,
                                       "--format", fmt, "--output", str(out)])
    assert result.exit_code == 0, result.output
    table = {"csv": pd.read_csv, "json": pd.read_json, "parquet": pd.read_parquet}[fmt](out)
    assert len(table) > 0 and list(table["rank"]) == list(range(1, len(table) + 1))
    assert {"label", "tickets", "customers", "trend", "paid_share", "severity", "signal_type", "product_area",
            "impact", "example_ticket_ids", "example_texts"} <= set(table.columns)
    assert set(table["week_start"].astype(str).str[:10]) == {sample_run.end}


@pytest.mark.e2e
def test_cli_csv_to_stdout_and_parquet_needs_a_file(sample_run):
    runner = CliRunner()
    result = runner.invoke(main, ["export", "--warehouse", str(sample_run.warehouse), "--format", "csv"])
    assert result.exit_code == 0 and result.stdout.startswith("week_start,")
    result = runner.invoke(main, ["export", "--warehouse", str(sample_run.warehouse), "--format", "parquet"])
    assert result.exit_code == 2 and "parquet export needs --output FILE" in result.stderr


def _warehouse_of_two_weeks(path):
    """Week 2024-07-15 with one ranked theme, 2024-09-23 with data and none ranked."""
    from ticket_intel import warehouse as wh

    with wh.open_warehouse(path) as con:
        con.execute("INSERT INTO marts.weekly_overview (week_start, tickets) VALUES ('2024-07-15', 40), ('2024-09-23', 3)")
        con.execute("""INSERT INTO marts.ranked_themes (week_start, rank, theme_id, label, tickets, customers, trend,
                       product_area, example_ticket_ids) VALUES ('2024-07-15', 1, 'T1', 'Hooks · state', 9, 7, 'new',
                       'Unassigned', ['gh:1'])""")
    return path


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_week_without_ranked_themes_exports_the_columns_of_one_with_them(tmp_path, fmt):
    """An empty week's CSV had 37 columns, a full week's 40 (`owner`, `product_area_source`,
    `example_texts`): a script reading every week's export broke on the first empty one."""
    warehouse = _warehouse_of_two_weeks(tmp_path / "w.duckdb")
    columns = {}
    for week in ("2024-07-15", "2024-09-23"):
        out = tmp_path / f"{week}.{fmt}"
        result = CliRunner().invoke(main, ["export", "--warehouse", str(warehouse), "--week", week,
                                           "--format", fmt, "--output", str(out)])
        assert result.exit_code == 0, result.output
        columns[week] = list({"csv": pd.read_csv, "parquet": pd.read_parquet}[fmt](out).columns)
    assert columns["2024-09-23"] == columns["2024-07-15"]
    assert columns["2024-07-15"][-3:] == ["owner", "product_area_source", "example_texts"]


def test_a_themes_customers_carry_its_label_and_the_last_week_of_its_history(tmp_path):
    """`export --customers --theme` of a theme summarized but never ranked had its id as `label`,
    and the warehouse's latest week as `week_start` beside tickets a year older."""
    from ticket_intel import warehouse as wh

    with wh.open_warehouse(tmp_path / "w.duckdb") as con:
        wh.ensure_embedding_schema(con, 2)
        con.execute("INSERT INTO marts.weekly_overview (week_start, tickets) VALUES ('2023-07-31', 40), ('2024-09-23', 3)")
        con.execute("INSERT INTO staging.themes (week_start, theme_id, centroid) VALUES ('2023-07-24', 'T0', [1, 0]), "
                    "('2023-07-31', 'T0', [1, 0])")
        con.execute("INSERT INTO marts.cluster_summaries (week_start, theme_id, label) VALUES "
                    "('2023-07-24', 'T0', 'DevTools bug'), ('2023-07-31', 'T0', 'DevTools bug · node')")
        con.execute("INSERT INTO staging.redacted_tickets (ticket_id, week_start, created_at, text, text_hash, "
                    "customer_id) VALUES ('gh:1', '2023-06-12', '2023-06-14 02:31:20', 'x', 'h', 'DeanLXY')")
        con.execute("INSERT INTO staging.ticket_clusters (week_start, ticket_id, ticket_week, theme_id, series_theme_id) "
                    "VALUES ('2023-07-24', 'gh:1', '2023-06-12', 'T0', 'T0'), ('2023-07-31', 'gh:1', '2023-06-12', 'T0', 'T0')")
    result = CliRunner().invoke(main, ["export", "--customers", "--theme", "T0", "--format", "json",
                                       "--warehouse", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert (row["customer_id"], row["label"], row["week_start"]) == ("DeanLXY", "DevTools bug · node", "2023-07-31")
    both = CliRunner().invoke(main, ["export", "--customers", "--theme", "T0", "--week", "2024-09-23", "--format",
                                     "json", "--warehouse", str(tmp_path / "w.duckdb")])
    assert both.exit_code == 66 and "not ranked in the week of 2024-09-23" in both.stderr  # its window holds none


def test_the_command_beside_customers_to_tell_exports_the_customers_it_lists(tmp_path):
    """Swift's 2024-09-23 report: "Code · crash: 65 customers; most tickets: rjmansfield, dschaefer2, MahdiBM ·
    `export --customers --theme T`", which exported the theme's whole history: 76 customers, MahdiBM with 3
    tickets where the report's window counted 2. The command it prints exports the report's list, in its
    order; `--theme` alone still reaches the whole history."""
    from ticket_intel import warehouse as wh
    from ticket_intel.core import report
    from ticket_intel.core.theme_context import report_sections
    from ticket_intel_tests.test_report import WEEK, context

    path = tmp_path / "w.duckdb"
    with wh.open_warehouse(path) as con:
        wh.ensure_embedding_schema(con, 2)
        con.execute("INSERT INTO marts.weekly_overview (week_start, tickets) VALUES (?, 40)", [WEEK])
        con.execute("INSERT INTO staging.themes (week_start, theme_id, centroid) VALUES (?, 'T1', [1, 0])", [WEEK])
        con.execute("""INSERT INTO marts.ranked_themes (week_start, rank, theme_id, label, tickets, customers, trend,
                       product_area, example_ticket_ids) VALUES (?, 1, 'T1', 'Code · crash', 6, 3, 'steady',
                       'Unassigned', ['gh:1'])""", [WEEK])
        con.execute("INSERT INTO marts.theme_customers (week_start, theme_id, customer_id, tickets) VALUES "
                    "(?, 'T1', 'rjmansfield', 3), (?, 'T1', 'MahdiBM', 2), (?, 'T1', 'hyp', 1)", [WEEK] * 3)
        con.execute("INSERT INTO staging.redacted_tickets (ticket_id, week_start, created_at, text, text_hash, "
                    "customer_id) VALUES ('gh:0', '2026-06-01', '2026-06-02 10:00:00', 'x', 'h', 'xymus')")
        con.execute("INSERT INTO staging.ticket_clusters (week_start, ticket_id, ticket_week, theme_id, series_theme_id) "
                    "VALUES (?, 'gh:0', '2026-06-01', 'T1', 'T1')", [WEEK])
        ctx = {**context(), "warehouse_flag": f" --warehouse {path}"}
        ctx["closing"] = report_sections([{"theme_id": "T1", "label": "Code · crash", "rank": 1}], [], pd.DataFrame(),
                                         wh.theme_customers(con, WEEK), pd.DataFrame(), [], docs_configured=False)
    [line] = [line for line in report.render_markdown(ctx).splitlines() if line.startswith("- **Code · crash**")]
    assert "3 customers; most tickets: rjmansfield, MahdiBM, hyp · " in line
    command = shlex.split(line.split("`")[-2])
    assert command[:2] == ["ticket-intel", "export"]
    exported = CliRunner().invoke(main, [*command[1:], "--format", "json"])
    assert exported.exit_code == 0, exported.output
    assert [(r["customer_id"], r["tickets"]) for r in json.loads(exported.stdout)] == [
        ("rjmansfield", 3), ("MahdiBM", 2), ("hyp", 1)]
    history = CliRunner().invoke(main, ["export", "--customers", "--theme", "T1", "--format", "json",
                                        "--warehouse", str(path)])
    assert [r["customer_id"] for r in json.loads(history.stdout)] == ["xymus"]  # the tickets it counts, ever


def test_an_output_file_s_missing_folder_is_made(tmp_path):
    """`export -o reports/2026/themes.csv` said "[Errno 2] No such file or directory" and exited 66, the
    code of a missing warehouse; `-o` naming a folder is a usage error, not "[Errno 21] Is a directory"."""
    from ticket_intel import warehouse as wh

    path = tmp_path / "w.duckdb"
    with wh.open_warehouse(path) as con:
        con.execute("INSERT INTO marts.weekly_overview (week_start, tickets, warning) VALUES ('2026-11-02', 80, NULL)")
        con.execute("""INSERT INTO marts.ranked_themes (week_start, rank, theme_id, label, tickets, customers,
                                                      trend, example_ticket_ids)
                       VALUES ('2026-11-02', 1, 'T1', 'Card', 9, 7, 'new', ['zd:1'])""")
    out = tmp_path / "reports" / "2026" / "themes.csv"
    result = CliRunner().invoke(main, ["export", "--warehouse", str(path), "--format", "csv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["theme_id"].tolist() == ["T1"]
    folder = CliRunner().invoke(main, ["export", "--warehouse", str(path), "--format", "csv", "-o", str(tmp_path)])
    assert folder.exit_code == 2 and "is a directory" in folder.stderr
