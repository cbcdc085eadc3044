"""Help-center articles and releases beside the exports (core/product_inputs.py): where they are
found, that the export reader leaves them alone, and that a bad file is reported, not swallowed."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path, PurePath

import pytest

from ticket_intel.core.embed import text_hash
from ticket_intel.core.help_center import embedding_texts
from ticket_intel.core.product_inputs import (
    HELP_CENTER,
    RELEASES,
    articles_frame,
    articles_from,
    read_log,
    read_product_inputs,
    releases_frame,
    releases_from,
)
from ticket_intel.core.sources import list_exports
from ticket_intel.core.sources.inbox import is_side_input

GUIDE = {"articles": [
    {"id": 1, "title": "Activate your card", "body": "<p>Open <b>Cards</b>.</p>", "html_url": "https://h/1",
     "draft": False, "created_at": "2026-10-26T08:00:00Z"},
    {"id": 2, "title": "Card delivery", "body": "<p>Soon.</p>", "html_url": "https://h/2", "draft": True},
]}
RELEASES_CSV = "released_at,version,notes\n2026-11-02T06:00:00Z,4.2,Virtual cards\n2026-11-09,4.2.1,\n"


def inbox(tmp_path: Path, releases: str | None = RELEASES_CSV) -> Path:
    (tmp_path / "help_center").mkdir()
    (tmp_path / "help_center" / "articles.json").write_text(json.dumps(GUIDE), encoding="utf-8")
    (tmp_path / "help_center" / "pin.md").write_text("# Change your PIN\n\nAt any ATM.\n", encoding="utf-8")
    if releases is not None:
        (tmp_path / "releases.csv").write_text(releases, encoding="utf-8")
    (tmp_path / "tickets.csv").write_text("id,text\n1,hello\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("path", "side"), [
    ("help_center/articles.json", True), ("help_center/sub/page.html", True), ("releases.csv", True),
    ("RELEASES.json", True), ("exports/releases.csv", False), ("zendesk.json", False), ("help_center.json", False),
])
def test_side_inputs_are_the_help_center_folder_and_top_level_releases(path: str, side: bool) -> None:
    assert is_side_input(PurePath(path)) is side


def test_the_export_listing_skips_them(tmp_path: Path) -> None:
    assert [p.name for p in list_exports(inbox(tmp_path))] == ["tickets.csv"]


def test_inbox_defaults_are_read(tmp_path: Path) -> None:
    found = read_product_inputs("", "", inbox(tmp_path))
    assert [a.title for a in found.articles] == ["Activate your card", "Change your PIN"]  # the draft is skipped
    assert [(r.version, r.released_at) for r in found.releases] == [
        ("4.2", datetime(2026, 11, 2, 6)), ("4.2.1", datetime(2026, 11, 9))]
    log = read_log(found).set_index("profile")
    assert log.loc[HELP_CENTER, "accepted"] == 2 and log.loc[RELEASES, "accepted"] == 2
    assert log["error"].isna().all()


def test_nothing_configured_is_none_not_empty(tmp_path: Path) -> None:
    found = read_product_inputs("", "", tmp_path)
    assert found.articles is None and found.releases is None and read_log(found).empty


def test_a_setting_naming_a_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="TICKET_INTEL_HELP_CENTER not found"):
        read_product_inputs(str(tmp_path / "nope"), "", tmp_path)
    with pytest.raises(FileNotFoundError, match="TICKET_INTEL_RELEASES not found"):
        read_product_inputs("", str(tmp_path / "releases.csv"), tmp_path)


def test_settings_win_over_the_inbox(tmp_path: Path) -> None:
    root = inbox(tmp_path)
    other = tmp_path / "elsewhere.json"
    other.write_text(json.dumps([{"tag_name": "v5.0", "published_at": "2026-12-01T10:00:00Z", "body": "x"}]),
                     encoding="utf-8")
    found = read_product_inputs("", str(other), root)
    assert [r.version for r in found.releases] == ["v5.0"] and found.releases_file == other


def test_two_releases_files_in_the_inbox_are_ambiguous(tmp_path: Path) -> None:
    root = inbox(tmp_path)
    (root / "releases.json").write_text("[]", encoding="utf-8")
    with pytest.raises(ValueError, match=r"both releases\.csv and releases\.json"):
        read_product_inputs("", "", root)


def test_a_bad_file_is_reported_and_the_other_input_still_read(tmp_path: Path) -> None:
    root = inbox(tmp_path, releases="released_at,version\nnot a date,4.2\n")
    found = read_product_inputs("", "", root)
    assert found.releases is None and "line 2" in found.errors[RELEASES]
    assert len(found.articles) == 2 and HELP_CENTER not in found.errors
    log = read_log(found).set_index("profile")
    assert "line 2" in log.loc[RELEASES, "error"] and log.loc[RELEASES, "accepted"] == 0


def test_a_broken_article_leaves_the_rest_of_the_help_center_read(tmp_path: Path) -> None:
    """One Markdown file with broken front matter among a folder's articles is a row of its own in
    the read log, rejected with where it breaks; the others are read (the whole help center used to
    go unread, its previous articles kept)."""
    root = inbox(tmp_path)
    (root / "help_center" / "refunds.md").write_text("---\ntitle: [Refunds\n---\nFive days.\n", encoding="utf-8")
    found = read_product_inputs("", "", root)
    assert [a.title for a in found.articles] == ["Activate your card", "Change your PIN"]
    assert HELP_CENTER not in found.errors
    log = read_log(found).set_index("source_file")
    broken = log.loc[str(root / "help_center" / "refunds.md")]
    assert (broken["accepted"], broken["rejected"]) == (0, 1)
    assert broken["error"].startswith("refunds.md (its front matter), line 1, column 16: not valid YAML")
    assert log.loc[str(root / "help_center"), "accepted"] == 2


def test_rows_round_trip_and_carry_the_embedded_texts_hash(tmp_path: Path) -> None:
    found = read_product_inputs("", "", inbox(tmp_path))
    articles = articles_frame(found)
    assert list(articles["text_hash"]) == [text_hash(t) for t in embedding_texts(found.articles)]
    assert articles_from(articles) == found.articles
    assert releases_from(releases_frame(found)) == found.releases
