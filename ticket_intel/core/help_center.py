"""Is there an article for this already? Help-center coverage of themes.

**Inputs.** A Zendesk Guide articles export (`{"articles": [{"id", "title", "body", "html_url",
"draft", "created_at", ...}]}`), an Intercom articles export (`{"type": "list", "data":
[{"id", "title", "description", "body", "url", "state", "created_at", ...}]}`, created_at in
epoch seconds) or a folder of Markdown files (optional YAML front matter with `title`, `url`,
`published_at`; else the first `# ` heading, else the file name) and saved HTML pages (title
from `<title>` or the first `<h1>`). Other files in the folder (images) are not articles. Drafts are skipped: customers
cannot find them. HTML and Markdown bodies become plain text.

**Matching.** An article covers a theme when, read as a ticket, it would belong to the theme:
the theme is the article's nearest centroid (as a ticket goes to its nearest theme), and the
article is at least as close to that centroid as the closest 90% of the theme's own tickets
(cosine at or above their 10th percentile). The bar comes from the theme itself, so it adapts
to tight and diffuse themes and to the embedding model instead of one cosine for every theme.
A theme takes the closest article it gets. An article thus covers at most one theme: one
written for two sibling themes counts for the nearer, and the other's gap names it as the
nearest article.

**Status.**
- `gap`: no article covers the theme.
- `covered`: an article covers it and customers ask less: the weekly rate after the article was
  published is lower than before (the exact rate test of core/rates.py, p < `alpha`) when the
  theme has full weeks on both sides of the publication; otherwise when its trend is `falling`.
- `unfound`: an article covers it, yet customers keep asking at the same or a higher rate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from bs4 import BeautifulSoup

from ticket_intel.core.rates import compare_rates, dispersion, theme_weeks
from ticket_intel.core.retrieve import unit_rows
from ticket_intel.core.vocabulary import FALLING, trend_in_words
from ticket_intel.core.weeks import monday
from ticket_intel.core.yaml_text import load_yaml

GAP, UNFOUND, COVERED = "gap", "unfound", "covered"
MEMBER_QUANTILE = 0.10  # the article must be as close as the closest 90% of the theme's tickets
EMBED_CHARS = 1000  # title + opening of the body: about the 256 word pieces the model reads


_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,;:!?)])")


@dataclass(frozen=True)
class Article:
    article_id: str
    title: str
    text: str
    url: str = ""
    published_at: datetime | None = None  # naive UTC
    source: str = ""


@dataclass(frozen=True)
class ArticleMatch:
    article: Article | None  # the article that covers the theme
    similarity: float | None  # cosine of the nearest article to the theme centroid
    bar: float  # the theme's own bar (10th percentile of its tickets' cosine to the centroid)
    nearest: Article | None  # the nearest article, covering or not


@dataclass(frozen=True)
class DocsStatus:
    status: str
    article: Article | None
    note: str = ""


def html_text(html: str) -> str:
    """Readable text of an HTML body: scripts and styles dropped, one space between blocks."""
    soup = BeautifulSoup(html or "", "html.parser")
    for tag in soup(["script", "style"]):
        tag.decompose()
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join(soup.get_text(" ").split()))


def _published(value: Any, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    ts = pd.to_datetime(value, unit="s", utc=True) if isinstance(value, int | float) else pd.Timestamp(value)
    if pd.isna(ts):
        raise ValueError(f"{where}: {value!r} is not a date")
    return (ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo else ts).to_pydatetime()


def parse_zendesk_articles(doc: Mapping[str, Any], source: str = "zendesk") -> list[Article]:
    articles = []
    for i, rec in enumerate(doc["articles"]):
        if rec.get("draft"):
            continue
        title = str(rec.get("title") or rec.get("name") or "").strip()
        if not title:
            raise ValueError(f"{source}: article {i} (id {rec.get('id')}) has no title")
        articles.append(Article(str(rec.get("id", i)), title, html_text(rec.get("body") or ""),
                                str(rec.get("html_url") or ""), _published(rec.get("created_at"), source), source))
    return articles


def parse_intercom_articles(doc: Mapping[str, Any], source: str = "intercom") -> list[Article]:
    articles = []
    for i, rec in enumerate(doc["data"]):
        if rec.get("type", "article") != "article" or rec.get("state", "published") != "published":
            continue
        title = str(rec.get("title") or "").strip()
        if not title:
            raise ValueError(f"{source}: article {i} (id {rec.get('id')}) has no title")
        text = " ".join(t for t in (str(rec.get("description") or ""), html_text(rec.get("body") or "")) if t)
        articles.append(Article(str(rec.get("id", i)), title, text, str(rec.get("url") or ""),
                                _published(rec.get("created_at"), source), source))
    return articles


_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_HEADING = re.compile(r"^#\s+(.+)$", re.MULTILINE)


def parse_markdown_article(text: str, name: str) -> Article:
    """One Markdown file: front matter (optional), title, body as plain text."""
    from markdown_it import MarkdownIt

    meta: dict[str, Any] = {}
    found = _FRONT_MATTER.match(text)
    if found:
        meta = load_yaml(found.group(1), f"{name} (its front matter)") or {}
        if not isinstance(meta, dict):
            raise ValueError(f"{name}: front matter must be key: value lines")
        text = text[found.end():]
    heading = _HEADING.search(text)
    title = str(meta.get("title") or (heading.group(1) if heading else Path(name).stem.replace("-", " ")))
    if heading and not meta.get("title"):
        text = text[:heading.start()] + text[heading.end():]
    published = _published(meta.get("published_at") or meta.get("date"), name)
    return Article(str(meta.get("id") or Path(name).stem), title.strip(), html_text(MarkdownIt().render(text)),
                   str(meta.get("url") or ""), published, "markdown")


def parse_html_article(html: str, name: str) -> Article:
    """One saved HTML page: title from <title> or the first <h1>, else the file name."""
    soup = BeautifulSoup(html, "html.parser")
    heading = soup.title or soup.find("h1")
    title = heading.get_text(" ", strip=True) if heading else Path(name).stem.replace("-", " ")
    body = soup.body or soup
    return Article(Path(name).stem, title, html_text(str(body)), "", None, "html")


def parse_export(doc: Any, source: str) -> list[Article]:
    """A Zendesk Guide or Intercom articles export, told apart by its shape."""
    if isinstance(doc, dict) and isinstance(doc.get("articles"), list):
        return parse_zendesk_articles(doc, source)
    if isinstance(doc, dict) and isinstance(doc.get("data"), list):
        return parse_intercom_articles(doc, source)
    raise ValueError(f"{source}: not a help-center export; expected a Zendesk Guide export "
                     '({"articles": [...]}) or an Intercom articles export ({"type": "list", "data": [...]})')


def read_help_center(path: Path, unread: dict[str, str] | None = None) -> list[Article]:
    """Articles from an export file, or from a folder of Markdown files and exports. With `unread`, a
    folder's file that cannot be read is recorded there (path -> why) and the others are read; one
    broken article used to leave the whole help center unread."""
    if not path.exists():
        raise FileNotFoundError(f"help center not found: {path}")
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    articles = []
    for file in files:
        try:
            articles += _articles(file)
        except (OSError, ValueError) as exc:
            if unread is None or not path.is_dir():
                raise
            unread[str(file)] = str(exc)
    return articles


def _articles(file: Path) -> list[Article]:
    """The articles of one file of a help center (none for a file of another kind)."""
    suffix = file.suffix.lower()
    if suffix == ".json":
        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{file.name}: not valid JSON ({exc})") from exc
        return parse_export(doc, file.name)
    if suffix in (".md", ".markdown"):
        return [parse_markdown_article(file.read_text(encoding="utf-8"), file.name)]
    if suffix in (".html", ".htm"):
        return [parse_html_article(file.read_text(encoding="utf-8"), file.name)]
    return []


def embedding_texts(articles: Sequence[Article]) -> list[str]:
    """What is embedded per article: its title and the opening of its body."""
    return [f"{a.title}. {a.text}"[:EMBED_CHARS] for a in articles]


def match_articles(centroids: Mapping[str, np.ndarray], member_similarity: Mapping[str, Sequence[float]],
                   articles: Sequence[Article], article_vectors: np.ndarray,
                   quantile: float = MEMBER_QUANTILE) -> dict[str, ArticleMatch]:
    """Each theme's article (see module doc): every article goes to its nearest theme, which
    keeps the closest one that clears its bar.

    `centroids`: every theme of the period (a sibling theme must be able to claim an article);
    `member_similarity`: per theme, its tickets' cosine to its centroid.
    """
    theme_ids = list(centroids)
    missing = [t for t in theme_ids if not len(member_similarity.get(t, ()))]
    if missing:
        raise ValueError(f"themes without their tickets' similarities, which set their bar: {missing[:5]}")
    bars = {t: float(np.quantile(np.asarray(member_similarity[t], dtype=float), quantile)) for t in theme_ids}
    if not articles or not theme_ids:
        return {t: ArticleMatch(None, None, bars[t], None) for t in theme_ids}
    sims = unit_rows(article_vectors) @ unit_rows(np.stack([centroids[t] for t in theme_ids])).T
    home = sims.argmax(axis=1)  # each article's nearest theme
    matches = {}
    for j, theme_id in enumerate(theme_ids):
        nearest = int(sims[:, j].argmax())
        own = [i for i in np.flatnonzero(home == j) if sims[i, j] >= bars[theme_id]]
        best = max(own, key=lambda i: sims[i, j]) if own else None
        matches[theme_id] = ArticleMatch(articles[best] if best is not None else None,
                                         float(sims[nearest, j]), bars[theme_id], articles[nearest])
    return matches


def _gap_note(match: ArticleMatch) -> str:
    if match.nearest is None or match.similarity is None:
        return "no help-center articles"
    if match.similarity < match.bar:
        digits = 2 if round(match.similarity, 2) != round(match.bar, 2) else 3  # not "0.64, bar 0.64"
        return (f"nearest article '{match.nearest.title}' is not close enough "
                f"({match.similarity:.{digits}f}, bar {match.bar:.{digits}f})")
    return f"nearest article '{match.nearest.title}' is closer to another theme"


def docs_status(match: ArticleMatch, counts: pd.Series, week: date, trend: str,
                alpha: float = 0.05) -> DocsStatus:
    """gap / covered / unfound for one theme as of `week` (see module doc).

    `counts`: the theme's tickets per week (index: week starts) since it appeared.
    """
    article = match.article
    if article is None:
        return DocsStatus(GAP, None, _gap_note(match))
    counts = counts[[w <= week for w in counts.index]]
    if article.published_at is not None:
        published = monday(article.published_at.date())
        before = counts[[w < published for w in counts.index]]
        after = counts[[w > published for w in counts.index]]
        if len(before) and len(after):
            test = compare_rates(int(before.sum()), len(before), int(after.sum()), len(after), "less",
                                 dispersion(before.to_numpy()))
            fell = test.p_value < alpha
            note = (f"{test.before:.1f}/week before the article, {test.after:.1f}/week since "
                    f"(p = {test.p_value:.2g})")
            return DocsStatus(COVERED if fell else UNFOUND, article, note)
    if trend == FALLING:
        return DocsStatus(COVERED, article, "customers ask less and less")
    return DocsStatus(UNFOUND, article, f"customers keep asking (trend: {trend_in_words(trend)})")


def docs_statuses(matches: Mapping[str, ArticleMatch], counts: pd.DataFrame, births: Mapping[str, date],
                  trends: Mapping[str, str], week: date, alpha: float = 0.05) -> dict[str, DocsStatus]:
    """The docs status of every theme in `trends` (the week's ranked themes -> their trend).

    `counts`: tickets per theme (rows) and week (columns); `births`: each theme's first week.
    """
    out = {}
    for theme_id, trend in trends.items():
        match = matches.get(theme_id)
        if match is None:
            raise ValueError(f"theme {theme_id} was not matched against the help center")
        out[theme_id] = docs_status(match, theme_weeks(counts, theme_id, births.get(theme_id)), week, trend, alpha)
    return out
