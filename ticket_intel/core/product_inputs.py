"""Inputs beside the ticket exports: help-center articles and the product's releases.

Both live in the inbox by default (a `help_center/` folder; a `releases.csv` or `releases.json`
file at its top) or wherever a setting points. They are not ticket exports, so the export
listing skips them (`sources.inbox.is_side_input`). A path a setting names must exist (a typo must not pass
for "no help center"); the inbox defaults are simply absent when the files are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ticket_intel.core.embed import text_hash
from ticket_intel.core.help_center import Article, embedding_texts, read_help_center
from ticket_intel.core.releases import Release, read_releases
from ticket_intel.core.sources.inbox import HELP_CENTER_DIR, RELEASE_FILES

ARTICLE_COLUMNS = ["article_id", "source", "title", "text", "url", "published_at", "source_file", "text_hash"]
RELEASE_COLUMNS = ["version", "released_at", "notes", "source_file"]


HELP_CENTER, RELEASES = "help_center", "releases"  # their profile in ops.ingested_files


@dataclass(frozen=True)
class ProductInputs:
    articles: list[Article] | None  # None: no help center configured (or it could not be read)
    releases: list[Release] | None  # None: no releases file configured (or it could not be read)
    help_center: Path | None = None
    releases_file: Path | None = None
    errors: dict[str, str] = field(default_factory=dict)  # HELP_CENTER / RELEASES -> why it was not read
    unread_articles: dict[str, str] = field(default_factory=dict)  # a help center folder's file -> why not read


def _configured(setting: str, name: str) -> Path | None:
    if not setting:
        return None
    path = Path(setting)
    if not path.exists():
        raise FileNotFoundError(f"{name} not found: {path}")
    return path


def help_center_path(setting: str, inbox: Path) -> Path | None:
    """The configured help center, else the inbox's `help_center/` folder when it exists."""
    default = inbox / HELP_CENTER_DIR
    return _configured(setting, "TICKET_INTEL_HELP_CENTER") or (default if default.is_dir() else None)


def releases_path(setting: str, inbox: Path) -> Path | None:
    """The configured releases file, else the inbox's `releases.csv` / `releases.json` when present."""
    found = [inbox / name for name in RELEASE_FILES if (inbox / name).is_file()]
    if len(found) > 1 and not setting:
        raise ValueError(f"{inbox} holds both {' and '.join(RELEASE_FILES)}: keep one, or point "
                         "TICKET_INTEL_RELEASES at it")
    return _configured(setting, "TICKET_INTEL_RELEASES") or (found[0] if found else None)


def side_inputs_digest(help_center_setting: str, releases_setting: str, inbox: Path) -> str:
    """One hash of the configured help center and releases file (names within them and bytes, not
    where they sit: a moved inbox holds the same inputs): it changes when either does ("" when
    neither exists)."""
    digest, found = hashlib.sha256(), False
    for kind, root in ((HELP_CENTER, help_center_path(help_center_setting, inbox)),
                       (RELEASES, releases_path(releases_setting, inbox))):
        files = [] if root is None else [root] if root.is_file() else sorted(f for f in root.rglob("*") if f.is_file())
        for file in files:
            name = file.name if file == root else file.relative_to(root).as_posix()
            digest.update(f"{kind}/{name}".encode() + b"\0" + file.read_bytes())
            found = True
    return digest.hexdigest() if found else ""


def _read(kind: str, path: Path | None, reader: Callable[[Path], Any], errors: dict[str, str]) -> Any:
    if path is None:
        return None
    try:
        return reader(path)
    except (OSError, ValueError) as exc:
        errors[kind] = str(exc)
        return None


def read_product_inputs(help_center_setting: str, releases_setting: str, inbox: Path) -> ProductInputs:
    """Articles and releases as configured. A setting naming a missing path is an error; a file that
    cannot be read is reported in `errors` (the caller keeps what it read before)."""
    help_center = help_center_path(help_center_setting, inbox)
    releases_file = releases_path(releases_setting, inbox)
    errors: dict[str, str] = {}
    unread: dict[str, str] = {}
    return ProductInputs(
        articles=_read(HELP_CENTER, help_center, lambda p: read_help_center(p, unread), errors),
        releases=_read(RELEASES, releases_file, read_releases, errors),
        help_center=help_center, releases_file=releases_file, errors=errors, unread_articles=unread,
    )


def read_log(inputs: ProductInputs) -> pd.DataFrame:
    """What was read, as `ops.ingested_files` rows (profile help_center / releases), errors included:
    a help center folder's file that could not be read is a row of its own, rejected with why."""
    rows = []
    for kind, path, items in ((HELP_CENTER, inputs.help_center, inputs.articles),
                              (RELEASES, inputs.releases_file, inputs.releases)):
        if path is not None:
            rows.append({"source_file": str(path), "file_hash": None, "profile": kind,
                         "accepted": len(items or []), "rejected": 0, "skipped": 0, "error": inputs.errors.get(kind)})
    rows += [{"source_file": file, "file_hash": None, "profile": HELP_CENTER, "accepted": 0, "rejected": 1,
              "skipped": 0, "error": why} for file, why in inputs.unread_articles.items()]
    return pd.DataFrame(rows, columns=["source_file", "file_hash", "profile", "accepted", "rejected", "skipped", "error"])


def articles_frame(inputs: ProductInputs) -> pd.DataFrame:
    """The articles as rows of `raw.help_center_articles`, with the hash of the text that is embedded."""
    articles = inputs.articles or []
    return pd.DataFrame([{
        "article_id": a.article_id, "source": a.source, "title": a.title, "text": a.text, "url": a.url,
        "published_at": a.published_at, "source_file": str(inputs.help_center), "text_hash": text_hash(t),
    } for a, t in zip(articles, embedding_texts(articles), strict=True)], columns=ARTICLE_COLUMNS)


def releases_frame(inputs: ProductInputs) -> pd.DataFrame:
    return pd.DataFrame([{"version": r.version, "released_at": r.released_at, "notes": r.notes,
                          "source_file": str(inputs.releases_file)} for r in inputs.releases or []], columns=RELEASE_COLUMNS)


def articles_from(frame: pd.DataFrame) -> list[Article]:
    """Articles back from their stored rows."""
    return [Article(str(r.article_id), r.title, r.text, r.url or "",
                    None if pd.isna(r.published_at) else pd.Timestamp(r.published_at).to_pydatetime(), r.source or "")
            for r in frame.itertuples()]


def releases_from(frame: pd.DataFrame) -> list[Release]:
    """Releases back from their stored rows, oldest first."""
    rows = frame.sort_values(["released_at", "version"])
    return [Release(r.version, pd.Timestamp(r.released_at).to_pydatetime(), r.notes or "") for r in rows.itertuples()]
