"""Help-center coverage (core/help_center.py): exports, Markdown, matching, docs status."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ticket_intel.core import help_center as hc

ZENDESK = {"articles": [
    {"id": 101, "title": "Reset your PIN", "body": "<p>Go to <b>Settings</b> &gt; PIN.</p><script>x()</script>",
     "html_url": "https://help.acme.test/hc/articles/101", "draft": False, "created_at": "2026-02-04T10:00:00Z"},
    {"id": 102, "title": "Unreleased", "body": "<p>soon</p>", "html_url": "", "draft": True},
], "next_page": None, "count": 2}
INTERCOM = {"type": "list", "total_count": 2, "pages": {}, "data": [
    {"type": "article", "id": "7", "title": "Exporting invoices", "description": "Download PDFs",
     "body": "<h2>Steps</h2><ol><li>Open Billing</li></ol>", "state": "published", "created_at": 1767225600,
     "url": "https://intercom.help/acme/en/articles/7"},
    {"type": "article", "id": "8", "title": "Draft", "body": "", "state": "draft", "created_at": 1767225600},
]}


def test_zendesk_guide_export_skips_drafts_and_strips_html() -> None:
    [article] = hc.parse_export(ZENDESK, "guide.json")
    assert (article.article_id, article.title, article.url) == ("101", "Reset your PIN", ZENDESK["articles"][0]["html_url"])
    assert article.text == "Go to Settings > PIN."
    assert article.published_at == datetime(2026, 2, 4, 10, 0)


def test_intercom_export_joins_description_and_body() -> None:
    [article] = hc.parse_export(INTERCOM, "intercom.json")
    assert article.title == "Exporting invoices" and article.text == "Download PDFs Steps Open Billing"
    assert article.published_at == datetime(2026, 1, 1) and article.url.endswith("/7")


def test_markdown_folder_with_and_without_front_matter(tmp_path: Path) -> None:
    (tmp_path / "refunds.md").write_text("---\ntitle: Refund policy\nurl: https://docs.acme.test/refunds\n"
                                         "published_at: 2026-03-01\n---\nRefunds take **5 days**.\n")
    (tmp_path / "two-factor.md").write_text("# Two-factor login\n\nUse an [authenticator](https://x.test) app.\n")
    (tmp_path / "plain-notes.md").write_text("No heading here.\n")
    (tmp_path / "guide.json").write_text(json.dumps(ZENDESK))
    (tmp_path / "saved.html").write_text("<html><head><title>Card limits</title></head><body><h1>Card limits</h1>"
                                         "<p>Up to 5,000 a day.</p></body></html>")
    (tmp_path / "diagram.png").write_bytes(b"\x89PNG")
    articles = {a.title: a for a in hc.read_help_center(tmp_path)}
    assert set(articles) == {"Refund policy", "Two-factor login", "plain notes", "Reset your PIN", "Card limits"}
    assert articles["Card limits"].text == "Card limits Up to 5,000 a day."
    assert articles["Refund policy"].text == "Refunds take 5 days."
    assert articles["Refund policy"].published_at == datetime(2026, 3, 1)
    assert articles["Two-factor login"].text == "Use an authenticator app."
    assert articles["Two-factor login"].published_at is None


@pytest.mark.parametrize(("content", "message"), [
    ('{"items": []}', "not a help-center export"),
    ("{not json", "not valid JSON"),
    ('{"articles": [{"id": 1, "body": "x"}]}', "article 0 .id 1. has no title"),
])
def test_bad_exports_say_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "articles.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        hc.read_help_center(path)


def test_missing_help_center_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="help center not found"):
        hc.read_help_center(tmp_path / "nope")


def _unit(v: list[float]) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def themes() -> tuple[dict[str, np.ndarray], dict[str, list[float]]]:
    """Two themes on different axes; A's tickets are tight (cosine 0.9-0.99), B's loose (0.5-0.9)."""
    centroids = {"A": _unit([1, 0, 0]), "B": _unit([0, 1, 0])}
    return centroids, {"A": list(np.linspace(0.9, 0.99, 20)), "B": list(np.linspace(0.5, 0.9, 20))}


ARTICLES = [hc.Article("a1", "About A", ""), hc.Article("b1", "About B", ""), hc.Article("ab", "Between", "")]


def test_article_covers_the_theme_it_would_belong_to() -> None:
    centroids, members = themes()
    vectors = np.stack([_unit([0.95, 0.1, 0.2]), _unit([0.3, 0.7, 0.3]), _unit([0.6, 0.55, 0])])
    matches = hc.match_articles(centroids, members, ARTICLES, vectors)
    assert matches["A"].article.article_id == "a1"  # cosine 0.97 clears A's tight bar of ~0.91
    assert matches["B"].article.article_id == "b1"  # cosine 0.84 clears B's loose bar of ~0.54
    assert matches["A"].bar == pytest.approx(np.quantile(members["A"], 0.1))


def test_article_near_a_tight_theme_but_outside_it_leaves_a_gap() -> None:
    centroids, members = themes()
    vectors = np.stack([_unit([0.8, 0.2, 0.56])])  # cosine 0.8 to A: below its bar
    match = hc.match_articles(centroids, members, ARTICLES[:1], vectors)["A"]
    assert match.article is None and match.nearest.article_id == "a1"
    status = hc.docs_status(match, pd.Series(dtype=int), date(2026, 3, 2), "steady")
    assert status.status == hc.GAP and "not close enough (0.80, bar 0.91)" in status.note
    near = hc.ArticleMatch(None, 0.6364, 0.6402, match.nearest)  # the sample's "(0.64, bar 0.64)"
    assert "not close enough (0.636, bar 0.640)" in hc.docs_status(near, pd.Series(dtype=int), date(2026, 3, 2),
                                                                   "steady").note


def test_an_article_goes_to_one_theme_only() -> None:
    centroids, members = themes()
    centroids["A2"], members["A2"] = _unit([0.9, 0, 0.44]), list(np.linspace(0.5, 0.9, 20))
    vectors = np.stack([_unit([0.99, 0.0, 0.1])])  # nearer A than A2, and inside both bars
    matches = hc.match_articles(centroids, members, ARTICLES[:1], vectors)
    assert matches["A"].article is not None and matches["A2"].article is None
    assert "closer to another theme" in hc.docs_status(matches["A2"], pd.Series(dtype=int), date(2026, 3, 2),
                                                       "steady").note


def test_no_articles_means_every_theme_is_a_gap() -> None:
    centroids, members = themes()
    matches = hc.match_articles(centroids, members, [], np.zeros((0, 3)))
    assert all(m.article is None for m in matches.values())
    with pytest.raises(ValueError, match="similarities"):
        hc.match_articles(centroids, {"A": [0.9]}, ARTICLES, np.eye(3))


def weeks(counts: list[int], first: date = date(2026, 1, 5)) -> pd.Series:
    return pd.Series({first + timedelta(weeks=i): c for i, c in enumerate(counts)})


def matched(published: datetime | None) -> hc.ArticleMatch:
    article = hc.Article("a1", "About A", "", published_at=published)
    return hc.ArticleMatch(article, 0.95, 0.9, article)


def test_article_published_mid_history_is_judged_by_the_rate_before_and_after() -> None:
    counts = weeks([9, 11, 10, 10, 2, 1, 0])  # article published in the week of 2026-02-02
    helped = hc.docs_status(matched(datetime(2026, 2, 4)), counts, date(2026, 2, 16), "steady")
    assert helped.status == hc.COVERED and "10.0/week before the article" in helped.note
    still = hc.docs_status(matched(datetime(2026, 2, 4)), weeks([9, 11, 10, 10, 10, 9, 11]), date(2026, 2, 16), "steady")
    assert still.status == hc.UNFOUND


def test_older_article_is_judged_by_the_trend() -> None:
    old = matched(datetime(2025, 6, 1))
    assert hc.docs_status(old, weeks([10, 9, 3]), date(2026, 1, 19), "falling").status == hc.COVERED
    assert hc.docs_status(old, weeks([3, 5, 9]), date(2026, 1, 19), "rising").status == hc.UNFOUND
    assert hc.docs_status(matched(None), weeks([5]), date(2026, 1, 5), "new").status == hc.UNFOUND
    assert hc.docs_status(old, weeks([3, 6, 10]), date(2026, 1, 19), "steady").note == (
        "customers keep asking (trend: no clear change)")  # the stored word reads as people read it


def test_docs_statuses_count_each_theme_from_its_birth() -> None:
    weeks_ = [date(2026, 1, 5) + timedelta(weeks=k) for k in range(8)]
    counts = pd.DataFrame([[0, 0, 8, 9, 8, 1, 0, 1]], index=["A"], columns=weeks_)
    statuses = hc.docs_statuses({"A": matched(datetime(2026, 2, 4))}, counts, {"A": date(2026, 1, 19)},
                                {"A": "steady"}, date(2026, 2, 23))
    assert statuses["A"].status == hc.COVERED and "8.5/week before the article" in statuses["A"].note
    with pytest.raises(ValueError, match="not matched"):
        hc.docs_statuses({}, counts, {}, {"A": "steady"}, date(2026, 2, 23))
