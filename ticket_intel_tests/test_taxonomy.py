"""Product areas from taxonomy.yaml, and the taxonomy as a content-hashed observable source."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticket_intel import PROJECT_ROOT
from ticket_intel.core import taxonomy as tax
from ticket_intel.core import week_config
from ticket_intel.core.report import md_escape
from ticket_intel.core.week_config import TAXONOMY, Value
from ticket_intel.warehouse.target import cli_flag

DOC = """
product_areas:
  - name: Cards
    description: cards
    keywords: [card, pin]
    tags: [cards]
  - name: Billing
    description: money we take
    keywords: [fee, charge]
    tags: [billing]
synonyms:
  billing: [payments, Invoice]
  cards: [debit card]
"""


def test_parse_normalises_tags_and_synonyms():
    t = tax.parse(DOC)
    assert [a.name for a in t.areas] == ["Cards", "Billing"]
    assert t.canonical_tag("Payments") == "billing" and t.canonical_tag("Debit-Card") == "cards"
    assert t.canonical_tag("follow up") == "follow_up"
    assert t.areas[1].tags == {"billing"}


@pytest.mark.parametrize(("text", "message"), [
    ("- just a list", "expected a mapping at the top level"),
    ("product_areas: [{description: no name}]", r"product_areas.0.name: Field required"),
    ("product_areas: []\nsynonyms: {billing: payments}", "synonyms.billing: Input should be a valid list"),
    # A misspelt key emptied the taxonomy or an area; a string was read letter by letter (tags {b, i, l, n, g}).
    ("product_area: [{name: A, keywords: [a]}]", "product_areas: Field required; product_area: Extra inputs"),
    ("product_areas: [{name: A, keyword: [a]}]", "product_areas.0.keyword: Extra inputs are not permitted"),
    ("product_areas: [{name: A, tags: billing}]", "product_areas.0.tags: Input should be a valid list"),
    ("product_areas: [{name: A, products: Deliveries}]", "product_areas.0.products: Input should be a valid list"),
    ("product_areas: [{name: A, keywords: [a]}, {name: A, keywords: [b]}]", r"an area is listed twice: \['A'\]"),
    ("", "expected a mapping at the top level, got NoneType"),
])
def test_parse_rejects_malformed_files(text, message):
    with pytest.raises(ValueError, match=message):
        tax.parse(text)


def test_numbers_are_keywords_and_a_missing_file_is_an_error(tmp_path):
    """A taxonomy path that did not exist was silently an empty taxonomy, where a missing triage or
    routing path is an error."""
    assert tax.parse("product_areas: [{name: Errors, keywords: [404, 500]}]").areas[0].keywords == ("404", "500")
    missing = tmp_path / "taxonomy.yml"
    with pytest.raises(ValueError, match=f"^taxonomy {missing} not found"):
        tax.load(missing)


def test_broken_yaml_is_named_by_file_line_and_column(tmp_path):
    """PyYAML's message spans lines and the command line showed only its first ("while parsing a
    flow sequence"), after the run had embedded the inbox: it is one line naming the place now."""
    path = tmp_path / "taxonomy.yaml"
    path.write_text("product_areas:\n  - name: Cards\n    keywords: [card\n", encoding="utf-8")
    with pytest.raises(ValueError) as err:
        tax.load(path)
    assert str(err.value) == (f"{path}, line 4, column 1: not valid YAML: expected ',' or ']', but got "
                              "'<stream end>' (while parsing a flow sequence at line 3, column 15)")


def test_an_area_needs_half_the_tickets_and_the_distinctive_term_breaks_ties():
    t = tax.parse(DOC)
    texts = ["why was I charged a fee on my card"] * 4  # both areas fit every ticket
    assert tax.assign_area(t, texts, [], ["card", "fee"]) == "Cards"  # the most distinctive term decides
    assert tax.assign_area(t, texts, [], ["fee", "card"]) == "Billing"
    assert tax.assign_area(t, ["a fee", "a fee", "my pin"], [], ["something"]) == "Billing"  # 2 of 3 tickets
    assert tax.assign_area(t, ["hello", "hi", "hey"], [["payments"]] * 2 + [[]], []) == "Billing"  # tags count
    assert tax.assign_area(t, ["hello"], [], ["hello"]) == tax.UNASSIGNED
    assert tax.assign_area(tax.Taxonomy(), texts, [], ["card"]) == tax.UNASSIGNED


def test_a_taxonomy_for_another_product_assigns_nothing():
    """Phone-carrier tweets that mention a card now and then are not the bank's Cards area."""
    t = tax.parse(DOC)
    texts = ["no signal since yesterday", "my sim card stopped working", "signal drops every hour",
             "still no service downtown", "outage again"]
    assert tax.assign_area(t, texts, [], ["signal", "card"]) == tax.UNASSIGNED
    assert tax.coverage(["Cards", tax.UNASSIGNED, None], [30, 50, 20]) == pytest.approx(0.3)
    assert tax.coverage([], []) is None


def test_the_report_names_the_taxonomy_file_configured():
    from ticket_intel.core.report import taxonomy_note

    assert taxonomy_note(0.89, "ours.yaml") == ("Product areas (ours.yaml) cover 89% of ranked tickets.", False)
    assert not taxonomy_note(0.5)[1] and taxonomy_note(0.49)[1]  # half is enough
    note, poor = taxonomy_note(0.1, "ours.yaml")
    assert poor and note.endswith("ours.yaml does not describe this product.")
    # Swift's and twcs' reports under the shipped taxonomy: "Product areas cover only 0% of ranked tickets"
    note, poor = taxonomy_note(0.0, "ours.yaml")
    assert poor and note.startswith("The taxonomy (ours.yaml) matches none of this week's ranked themes: ")
    assert "0%" not in note
    assert taxonomy_note(0.003)[0].startswith("Product areas cover under 1% of ranked tickets")  # not "only 0%"


def test_a_taxonomy_that_fits_nothing_is_told_the_command_for_this_warehouse():
    """twcs' report read "`ticket-intel taxonomy suggest --warehouse W > taxonomy.yaml`", backticks and
    all in the HTML, where every other command it suggests names the warehouse it was made from."""
    from ticket_intel.core import report
    from ticket_intel_tests.test_report import context

    ctx = context()
    ctx = {**ctx, "taxonomy_note": report.taxonomy_note(0.0)[0], "taxonomy_poor_fit": True,
           "warehouse_flag": " --warehouse /srv/w.duckdb"}
    html, md = report.render_html(ctx, {}), report.render_markdown(ctx)
    assert ('draft one from this data: <code class="cmd"><span>ticket-intel</span> <span>taxonomy</span> <span>suggest'
            '</span> <span>--warehouse</span> <span>/srv/w.duckdb</span> <span>&gt;</span> <span>taxonomy.yaml</span></code>'
            in html) and "`" not in html.split("draft one from this data")[1][:200]
    assert "draft one from this data: `ticket-intel taxonomy suggest --warehouse /srv/w.duckdb > taxonomy.yaml`." in md


def test_keywords_match_word_starts_only():
    t = tax.parse(DOC)
    assert tax.assign_area(t, ["my cards"], [], []) == "Cards"
    assert tax.assign_area(t, ["a discard pile"], [], []) == tax.UNASSIGNED


@pytest.mark.parametrize(("keyword", "text", "named"), [
    ("fee", "I was charged two fees", True), ("fee", "I feel let down", False),
    ("age", "the minimum ages", True), ("age", "your agent hung up", False),
    ("pin", "my card was pinned", True), ("pin", "ping me back", False), ("pin", "the pines outside", False),
    ("fee", "my news feed is not loading", False), ("close", "the store closed early", True),
    ("address", "both addresses", True), ("charge", "I was charged", True),
    ("close", "closing my account", True), ("close", "a closet", False),
    ("verify", "I verified it", True), ("activate", "card activation", True),
    ("transfer", "transferred twice", True), ("sent", "one sentence", False),
    ("withdraw", "a withdrawal", True), ("country", "other countries", True),
])
def test_keywords_match_their_word_s_forms_not_longer_words(keyword: str, text: str, named: bool) -> None:
    """The bank's "fee" gave tweets that "feel" something the Fees area (issue 11's held-out review)."""
    assert tax.mentions((keyword,), text) is named


def test_bundled_taxonomy_is_found_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert tax.locate("taxonomy.yaml") == PROJECT_ROOT / "taxonomy.yaml"
    bundled = tax.load(tax.locate("taxonomy.yaml"))
    assert bundled.areas and all(a.keywords for a in bundled.areas)
    (tmp_path / "taxonomy.yaml").write_text(DOC)
    assert tax.locate("taxonomy.yaml") == Path("taxonomy.yaml")


def test_content_hash_versions_the_file(tmp_path):
    path = tmp_path / "t.yaml"
    assert tax.content_hash(path) == "absent"
    path.write_text(DOC)
    first = tax.content_hash(path)
    path.write_text(DOC + "\n# a comment is an edit too\n")
    assert tax.content_hash(path) != first


# ------------------------------------------- end to end: edit -> stale in Dagster -> backfill -> new areas

def _stale(instance, key: str, partition: str) -> bool:
    import dagster as dg
    from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
    from dagster._core.loader import LoadingContextForTest

    from ticket_intel.definitions import defs

    resolver = CachingStaleStatusResolver(instance, defs().resolve_asset_graph(), LoadingContextForTest(instance))
    return resolver.get_status(dg.AssetKey(key), partition) == StaleStatus.STALE


def _sensor_tick(instance, path: Path, warehouse: Path) -> int:
    """Evaluate taxonomy_sensor and store its events, as the daemon does."""
    import dagster as dg

    from ticket_intel.definitions import defs
    from ticket_intel.defs.resources import RankingConfig, Warehouse

    sensor = defs().resolve_sensor_def("taxonomy_sensor")
    with dg.build_sensor_context(instance=instance, resources={"ranking": RankingConfig(taxonomy=str(path)),
                                                               "warehouse": Warehouse(database=str(warehouse))}) as context:
        result = sensor.evaluate_tick(context)
    for event in result.asset_events:
        instance.report_runless_asset_event(event)
    return len(result.asset_events)


def _areas(warehouse: Path, weeks: list[date]) -> dict[tuple[date, str], tuple[str, list[str]]]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT s.week_start, s.theme_id, r.product_area, s.product_area, s.terms FROM marts.cluster_summaries s "
            "LEFT JOIN marts.ranked_themes r USING (week_start, theme_id) WHERE s.week_start IN (SELECT unnest(?))",
            [weeks],
        ).fetchall()
    for week, theme, ranked_area, area, _ in rows:
        assert ranked_area in (None, area), f"ranking and summary disagree on {theme} in {week}"
    return {(week, theme): (area, list(terms)) for week, theme, _, area, terms in rows}


@pytest.mark.e2e
def test_taxonomy_edit_makes_weeks_stale_and_a_backfill_applies_it(sample_copy, tmp_path, monkeypatch):
    import dagster as dg
    import duckdb

    from ticket_intel.definitions import defs

    path = tmp_path / "taxonomy.yaml"
    shutil.copy(PROJECT_ROOT / "taxonomy.yaml", path)
    monkeypatch.setenv("TICKET_INTEL_TAXONOMY", str(path))
    instance = dg.DagsterInstance.get()
    end = date.fromisoformat(sample_copy.end)
    backfilled = [end - timedelta(weeks=k) for k in (2, 1, 0)]
    untouched = end - timedelta(weeks=3)
    keys = ("cluster_summaries", "ranked_themes")

    assert _sensor_tick(instance, path, sample_copy.warehouse) == 0, "the run recorded the taxonomy it used"
    assert not any(_stale(instance, k, w.isoformat()) for k in keys for w in [*backfilled, untouched])
    before = _areas(sample_copy.warehouse, [*backfilled, untouched])
    with duckdb.connect(str(sample_copy.warehouse)) as con:  # as summarized before migration 33 recorded it
        con.execute("DELETE FROM marts.week_configs")

    text = path.read_text().replace("product_areas:\n", (
        "product_areas:\n"
        "  - name: Virtual cards\n"
        "    description: Disposable and virtual cards for online payments.\n"
        "    keywords: [virtual, disposable]\n"
    ), 1)
    path.write_text(text)
    assert _sensor_tick(instance, path, sample_copy.warehouse) == 1
    assert _sensor_tick(instance, path, sample_copy.warehouse) == 0, "one observation per change"
    assert all(_stale(instance, k, w.isoformat()) for k in keys for w in [*backfilled, untouched])

    result = defs().resolve_job_def("weekly_job").execute_in_process(
        instance=instance,
        asset_selection=[dg.AssetKey(k) for k in (*keys, "weekly_report")],
        tags={"dagster/asset_partition_range_start": backfilled[0].isoformat(),
              "dagster/asset_partition_range_end": backfilled[-1].isoformat()},
    )
    assert result.success
    assert not any(_stale(instance, k, w.isoformat()) for k in keys for w in backfilled)
    assert all(_stale(instance, k, untouched.isoformat()) for k in keys)

    after = _areas(sample_copy.warehouse, [*backfilled, untouched])
    moved = {key for key in after if after[key][0] != before[key][0]}
    assert {week for week, _ in moved} == set(backfilled), "every backfilled week, and only those, changed"
    for key in moved:
        area, terms = after[key]
        assert area == "Virtual cards" and any("virtual" in t or "disposable" in t for t in terms), (key, terms)
    report = (sample_copy.reports / f"ticket_intel_{end.isoformat()}.md").read_text()
    assert "Virtual cards" in report
    _a_backfill_of_some_weeks_is_told_and_kept(sample_copy, path, backfilled, untouched, report)


def _a_backfill_of_some_weeks_is_told_and_kept(sample_copy, path, backfilled, untouched, report) -> None:
    """The weeks record the taxonomy they were built with (those summarized before it was recorded,
    the digest Dagster kept); the report says its window mixes two; a shell with the shipped taxonomy
    neither re-runs the backfilled weeks nor names them vaguely (backfill review F, G)."""
    import duckdb
    from click.testing import CliRunner

    from ticket_intel import warehouse as wh
    from ticket_intel.cli import main

    shipped, edited = tax.version(PROJECT_ROOT / "taxonomy.yaml"), tax.version(path)
    with duckdb.connect(str(sample_copy.warehouse), read_only=True) as con:
        built = wh.week_configs(con)
    assert {built[w][TAXONOMY] for w in backfilled} == {edited} and built[untouched] == {TAXONOMY: shipped}
    assert "The weeks this report draws on were built with more than one configuration: " in report
    # the run that builds every week one way, runnable as printed (`--inbox` is required), as Markdown shows it
    assert md_escape("`ticket-intel run --inbox ") in report
    assert md_escape(f"{cli_flag(sample_copy.warehouse)} --weeks all --replace-config`, in a shell set") in report
    assert (f"..{untouched} taxonomy.yaml ({shipped.value}), weeks {backfilled[0]}..{backfilled[-1]} "
            f"taxonomy.yaml ({edited.value}).") in report  # the one setting that differs: the others are unknown
    shell = {"TICKET_INTEL_TAXONOMY": str(PROJECT_ROOT / "taxonomy.yaml")}
    refused = CliRunner().invoke(main, ["run", "--inbox", str(sample_copy.inbox), "--warehouse",
                                        str(sample_copy.warehouse), "--weeks", f"{backfilled[0]}..{backfilled[-1]}"],
                                 env=shell)
    assert refused.exit_code == 1, refused.output
    assert (f"settings that shape themes: TICKET_INTEL_TAXONOMY {edited} in weeks {backfilled[0]}..{backfilled[-1]}, "
            "not this shell's") in refused.output
    with duckdb.connect(str(sample_copy.warehouse), read_only=True) as con:
        assert wh.week_configs(con) == built  # nothing ran


def test_draft_groups_related_themes_into_areas():
    import numpy as np
    import pandas as pd

    from ticket_intel.core.taxonomy_draft import draft, render

    rng = np.random.default_rng(0)
    base = rng.normal(size=(2, 16))
    vectors = {"T1": base[0], "T2": base[0] + 0.05 * rng.normal(size=16), "T3": base[1]}
    centroids = {t: v / np.linalg.norm(v) for t, v in vectors.items()}
    themes = pd.DataFrame({"theme_id": ["T1", "T2", "T3"], "label": ["Card declined · shop", "Card declined · online",
                                                                     "Refund late · order"],
                           "terms": [["card", "declined", "shop"], ["card", "declined", "online"], ["refund", "late"]],
                           "tickets": [20, 12, 9]})
    similarity = {t: [0.8, 0.7, 0.75] for t in centroids}
    tags = {"T1": [["cards"], ["cards"]], "T2": [["cards"], []], "T3": [[]]}
    doc = draft(themes, centroids, similarity, tags, min_tickets=5)
    names = [a["name"] for a in doc["product_areas"]]
    assert names == ["Card", "Refund late"]  # a shared term; else the largest theme's head phrase
    assert doc["product_areas"][0]["keywords"][:2] == ["card", "declined"]
    assert doc["product_areas"][0]["tags"] == ["cards"]
    assert tax.parse(render(doc, "test")).areas  # the draft is a valid taxonomy.yaml
    apart = {"T1": base[0], "T2": -base[0], "T3": base[1]}  # two areas whose head phrases coincide
    alike = themes.assign(terms=[["declined", "shop"], ["declined", "online"], ["refund", "late"]])
    doc = draft(alike, {t: v / np.linalg.norm(v) for t, v in apart.items()}, similarity, tags, min_tickets=5)
    assert [a["name"] for a in doc["product_areas"]] == ["Card declined · shop", "Card declined · online", "Refund late"]


def test_suggest_prints_a_valid_taxonomy_for_the_sample(sample_run):
    from click.testing import CliRunner

    from ticket_intel.cli import main

    result = CliRunner().invoke(main, ["taxonomy", "suggest", "--warehouse", str(sample_run.warehouse)])
    assert result.exit_code == 0, result.stderr
    drafted = tax.parse(result.stdout)
    assert len(drafted.areas) >= 5 and all(a.keywords for a in drafted.areas)


def test_suggest_drafts_from_every_theme_of_the_window_not_only_this_week_s(sample_run, tmp_path):
    """A partial last week (an export cut on a Monday: Swift's ended with 2 titles) summarizes only
    the themes it touched; the draft still reads every theme of the window, each by its latest summary."""
    from click.testing import CliRunner

    from ticket_intel import warehouse as wh
    from ticket_intel.cli import main

    path = tmp_path / "w.duckdb"
    shutil.copy(sample_run.warehouse, path)
    with wh.open_warehouse(path) as con:
        last = con.execute("SELECT max(week_start) FROM marts.cluster_summaries").fetchone()[0]
        con.execute("""DELETE FROM marts.cluster_summaries WHERE week_start = ?
                       AND theme_id <> (SELECT min(theme_id) FROM marts.cluster_summaries WHERE week_start = ?)""",
                    [last, last])
    result = CliRunner().invoke(main, ["taxonomy", "suggest", "--warehouse", str(path)])
    assert result.exit_code == 0, result.stderr
    assert len(tax.parse(result.stdout).areas) >= 5


def test_a_product_s_own_name_is_no_evidence_of_an_area():
    """Swift compiler bug titles all say "Swift", a keyword of the sample's Transfers area."""
    from ticket_intel.core.taxonomy import Area, Taxonomy, assign_area

    areas = Taxonomy((Area("Transfers", "", ("transfer", "swift")), Area("Compiler", "", ("compiler",))))
    titles = ["Swift crashes on generic code", "Swift 6 regression in result builders", "Swift hangs on Windows"]
    assert assign_area(areas, titles) == "Transfers"
    assert assign_area(areas.without({"swift"}), titles) == "Unassigned"
    assert assign_area(areas.without({"swift"}), ["My SWIFT transfer is late", "transfer stuck"]) == "Transfers"
    assert areas.without(set()) is areas


def test_a_drafted_keyword_names_mostly_its_area_s_tickets():
    """On Twitter support traffic the draft gave the iPhone area "told" and "rep", and a praise area "day" and "customer": such
    words count other themes' tickets for the area (there, "Luggage · flight" went to the praise
    area). A keyword named in passing mostly by other themes' tickets is left out; one another
    theme is about (login trouble in another product) is kept, and a group with no word left is
    listed as left out rather than drafted as an area nothing can name."""
    import numpy as np
    import pandas as pd

    from ticket_intel.core.taxonomy_draft import draft, render

    ids = ["T1", "T2", "T3", "T4", "T5"]
    base = np.random.default_rng(1).normal(size=(len(ids), 16))
    centroids = {t: v / np.linalg.norm(v) for t, v in zip(ids, base, strict=True)}
    themes = pd.DataFrame({"theme_id": ids,
                           "label": ["Iphone · told", "Login · app", "Login · site", "Refund · order", "Fee · card"],
                           "terms": [["iphone", "told", "rep"], ["login", "app"], ["login"], ["noise"], ["noise"]],
                           "tickets": [10] * len(ids)})
    in_passing = ["I was told a refund by a rep, no reply to my report"] * 4
    texts = {"T1": ["my iphone died, the rep told me to wait"] * 4 + ["iphone battery drains"] * 6,
             "T2": ["cannot login to the app"] * 10, "T3": ["login fails on the site"] * 10,
             "T4": in_passing + ["where is my refund"] * 6, "T5": in_passing + ["a fee on my card"] * 6}
    doc = draft(themes, centroids, {t: [0.9] * 3 for t in centroids}, {}, min_tickets=5, texts=texts)
    keywords = {a["description"].removeprefix("Drafted from: "): a["keywords"] for a in doc["product_areas"]}
    assert keywords["Iphone · told"] == ["iphone"]  # "told" and "rep" name T4's tickets in passing
    assert keywords["Login · app"] == ["login", "app"] and keywords["Login · site"] == ["login"]
    assert "Refund · order" not in keywords and "Left out, no word of theirs names them apart: Refund · order" in \
        render(doc, "test")  # its one term names no ticket
    assert tax.parse(render(doc, "test")).areas


def test_an_area_scoped_to_products_applies_to_their_tickets_only():
    """An inbox of several products has areas of each: Next.js's "Build" is not Swift's."""
    doc = """
product_areas:
  - name: Build (vercel_next.js)
    keywords: [build]
    products: [vercel_next.js]
  - name: Crashes
    keywords: [crash]
"""
    t = tax.parse(doc)
    titles = ["next build fails on windows", "build hangs with turbopack", "build output is empty"]
    assert t.areas[0].products == {"vercel_next.js"} and t.areas[1].products == frozenset()
    assert tax.assign_area(t.for_product("vercel_next.js"), titles) == "Build (vercel_next.js)"
    assert tax.assign_area(t.for_product("Vercel_Next.js"), titles) == "Build (vercel_next.js)"  # as tags are
    assert tax.assign_area(t.for_product("swiftlang_swift"), titles) == tax.UNASSIGNED
    assert tax.assign_area(t.for_product("swiftlang_swift"), ["crash in the optimizer"]) == "Crashes"
    assert tax.assign_area(t.for_product("crash_reporter"), ["crash in the optimizer"]) == tax.UNASSIGNED  # own name
    assert tax.parse(DOC).for_product(None).areas == tax.parse(DOC).areas
    with pytest.raises(ValueError, match=r"product_areas.0.products: Input should be a valid list"):
        tax.parse("product_areas:\n  - name: A\n    products: vercel_next.js\n")


def test_an_area_for_a_product_no_ticket_names_is_said():
    """`products: [Delivries]` gave an area that could never apply, without a word."""
    t = tax.parse("product_areas:\n  - {name: Parcels, keywords: [parcel], products: [Delivries, Deliveries]}\n"
                  "  - {name: Bills, keywords: [bill]}\n")
    assert tax.unseen_products(t, ["Deliveries", "Mobile & Broadband"]) == {"Parcels": ["delivries"]}
    assert tax.unseen_products(t, ["delivries", "DELIVERIES"]) == {}


def test_themes_of_several_products_are_drafted_into_areas_of_each():
    """Seven GitHub products in one inbox drafted "Entered unreachable code" (Prisma) together with
    "Went wrong · dll" (PowerToys): an area per product instead, scoped to it, and two products'
    areas of one name told apart by their product."""
    import numpy as np
    import pandas as pd

    from ticket_intel.core.taxonomy_draft import draft, render

    ids = ["N1", "N2", "S1", "S2"]
    base = np.random.default_rng(2).normal(size=16)
    near = {t: base + 0.01 * np.random.default_rng(k).normal(size=16) for k, t in enumerate(ids)}  # all alike
    themes = pd.DataFrame({"theme_id": ids, "label": ["Build · fails", "Build · hangs", "Build · crash", "Build · slow"],
                           "terms": [["build", "fails"], ["build", "hangs"], ["build", "crash"], ["build", "slow"]],
                           "tickets": [10, 9, 8, 7], "product": ["next", "next", "swift", "swift"]})
    centroids = {t: v / np.linalg.norm(v) for t, v in near.items()}
    texts = {"N1": ["build fails"] * 5, "N2": ["build hangs"] * 5, "S1": ["build crash"] * 5, "S2": ["build slow"] * 5}
    doc = draft(themes, centroids, {t: [0.9] * 3 for t in ids}, {}, min_tickets=5, texts=texts)
    areas = {a["name"]: a for a in doc["product_areas"]}
    assert set(areas) == {"Build (next)", "Build (swift)"}
    assert areas["Build (next)"]["products"] == ["next"] and areas["Build (swift)"]["products"] == ["swift"]
    parsed = tax.parse(render(doc, "test"))
    assert "&id" not in render(doc, "test") and sorted(a.products for a in parsed.areas) == [{"next"}, {"swift"}]
    one = draft(themes.drop(columns="product"), centroids, {t: [0.9] * 3 for t in ids}, {}, min_tickets=5, texts=texts)
    assert [a["name"] for a in one["product_areas"]] == ["Build"] and "products" not in one["product_areas"][0]


def test_suggest_drafts_areas_per_product_when_themes_formed_per_product(sample_copy):
    """The sample's themes given to two products, as themes formed within each: every drafted area
    names the product its themes belong to."""
    from click.testing import CliRunner

    from ticket_intel import warehouse as wh
    from ticket_intel.cli import main

    with wh.open_warehouse(sample_copy.warehouse) as con:
        con.execute("UPDATE staging.themes SET product = CASE WHEN hash(theme_id) % 2 = 0 THEN 'Acme' ELSE 'Beta' END")
        con.execute("""UPDATE staging.redacted_tickets r SET product = t.product FROM staging.ticket_clusters c
                       JOIN staging.themes t ON t.theme_id = c.theme_id AND t.week_start = c.week_start
                       WHERE c.ticket_id = r.ticket_id""")
    result = CliRunner().invoke(main, ["taxonomy", "suggest", "--warehouse", str(sample_copy.warehouse)])
    assert result.exit_code == 0, result.stderr
    drafted = tax.parse(result.stdout).areas
    assert len(drafted) >= 5 and all(a.products in ({"acme"}, {"beta"}) for a in drafted)
    assert {a.products for a in drafted} == {frozenset({"acme"}), frozenset({"beta"})}


_WORDS = st.sampled_from(["card", "cards", "Card", "top up", "top-up", "c++", "pin", "spin", "a.b", "x", "é"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, min_size=0, max_size=4).map(tuple),
       st.lists(st.one_of(_WORDS, st.sampled_from([" ", "-", ".", "+", "ing", "\n"])), max_size=12).map("".join))
def test_keyword_letters_first_never_change_what_an_area_mentions(keywords: tuple[str, ...], text: str) -> None:
    """The substring test before the pattern only skips texts the pattern cannot match."""
    _, pattern = tax._keyword_finder(keywords)
    assert tax.mentions(keywords, text) == (bool(keywords) and bool(pattern.search(text.lower())))


def test_weeks_are_told_apart_by_the_configuration_their_themes_were_built_with():
    """A backfill of two weeks with another taxonomy, or seed, left weeks of one window built two ways,
    and nothing said so (backfill review G: "Refund · money" was "Refunds and disputes" on 11-02 and
    "Transfers" on 11-09; only the taxonomy was recorded). A copy of a file elsewhere is the same
    taxonomy, and a setting a week did not record is unknown, not different."""
    old, new = Value("aaaa", "/srv/taxonomy.yaml"), Value("bbbb", "/tmp/tax_demo.yaml")
    weeks = [date(2026, 11, 2) + timedelta(weeks=k) for k in range(4)]
    seed = "TICKET_INTEL_SEED"
    built = {weeks[0]: {TAXONOMY: old}, weeks[1]: {TAXONOMY: Value("aaaa", "/elsewhere/copy.yaml"), seed: Value("42")},
             weeks[2]: {TAXONOMY: new, seed: Value("7")}, weeks[3]: {TAXONOMY: new, seed: Value("7")}}
    assert week_config.runs({w: c[TAXONOMY] for w, c in built.items()}) == [(weeks[0], weeks[1], old),
                                                                             (weeks[2], weeks[3], new)]
    current = {TAXONOMY: old, seed: Value("42")}
    assert week_config.differences(current, built) == {TAXONOMY: [(weeks[2], weeks[3], new)],
                                                       seed: [(weeks[2], weeks[3], Value("7"))]}
    assert week_config.differences({TAXONOMY: new, seed: Value("7")}, {weeks[0]: {TAXONOMY: new}}) == {}
    rebuild = "ticket-intel run --inbox in --warehouse w.duckdb --weeks all --replace-config"
    note = week_config.mixed_note(built, rebuild)
    assert f"`{rebuild}`, in a shell set as the weeks should be" in note  # not a bare command, a usage error
    assert ("TICKET_INTEL_TAXONOMY: weeks 2026-11-02..2026-11-09 taxonomy.yaml (aaaa), weeks 2026-11-16..2026-11-23 "
            "tax_demo.yaml (bbbb); TICKET_INTEL_SEED: week 2026-11-09 42, weeks 2026-11-16..2026-11-23 7.") in note
    assert week_config.mixed_note({weeks[0]: {TAXONOMY: old}, weeks[1]: {TAXONOMY: Value("aaaa", "/copy.yaml"),
                                                                           seed: Value("7")}}, rebuild) == ""
    assert week_config.of_digest("aaaa", [new, old]) == old
    assert str(week_config.of_digest("cccc", [old])) == "a file not recorded (digest cccc)"
