"""The answers a product manager asks of each theme, in one place for the JSON output, the
report and the tracker issue: is there an article, did it start after a release, did the
fix work, is it one segment, what is it part of.

`theme_context` is the output contract of `ticket-intel themes --format json` (scripts rely on
these names): per theme `docs_status` (`gap` / `unfound` / `covered`, or null when no help
center is configured), `docs_article` (title or null), `after_release` (version or null),
`fix_status` (`fixed` / `not yet` / `regressed`, or null when no fix was recorded),
`segments` (a list of `{field, value, share, baseline_share, p_value}`) and `parent` (the
parent's label or null), plus `docs_article_url`, `after_release_days` and `parent_id`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ticket_intel.core.help_center import COVERED, GAP, UNFOUND, DocsStatus
from ticket_intel.core.releases import AfterRelease, FixResult, describe_after_release
from ticket_intel.core.segments import segment_records, segment_sentence

CONTRACT_KEYS = ("docs_status", "docs_article", "after_release", "fix_status", "segments", "parent")


@dataclass(frozen=True)
class ThemeFindings:
    """Everything known about the week's themes; absent entries mean "nothing to say"."""

    docs: Mapping[str, DocsStatus] | None = None  # None: no help center configured
    after_release: Mapping[str, AfterRelease] = field(default_factory=dict)
    after_release_event: Mapping[str, str] = field(default_factory=dict)  # "started" or "spiked"
    fixes: Mapping[str, FixResult] = field(default_factory=dict)
    segments: pd.DataFrame = field(default_factory=pd.DataFrame)  # core.segments.over_represented
    parents: Mapping[str, tuple[str | None, str | None]] = field(default_factory=dict)  # id -> (id, label)


def theme_context(theme_id: str, findings: ThemeFindings) -> dict[str, Any]:
    """The contract keys (and their companions) for one theme, JSON-safe."""
    docs = findings.docs.get(theme_id) if findings.docs is not None else None
    article = docs.article if docs is not None else None
    link = findings.after_release.get(theme_id)
    fix = findings.fixes.get(theme_id)
    parent_id, parent = findings.parents.get(theme_id, (None, None))
    return {
        "docs_status": docs.status if docs is not None else None,
        "docs_article": article.title if article else None,
        "docs_article_url": (article.url or None) if article else None,
        "after_release": link.version if link else None,
        "after_release_days": link.days_after if link else None,
        "fix_status": fix.status if fix else None,
        "segments": segment_records(findings.segments, theme_id) if len(findings.segments) else [],
        "parent": parent,
        "parent_id": parent_id,
    }


def theme_notes(theme_id: str, findings: ThemeFindings) -> list[str]:
    """The same findings as sentences, for the theme's report card and its tracker issue."""
    notes = [f"Segment: {segment_sentence(r)}" for r in
             (segment_records(findings.segments, theme_id) if len(findings.segments) else [])]
    docs = findings.docs.get(theme_id) if findings.docs is not None else None
    if docs is not None:
        title = f" '{docs.article.title}'" if docs.article else ""
        notes.append(f"Docs: {docs.status}{title}" + (f" ({docs.note})" if docs.note else ""))
    if theme_id in findings.after_release:
        event = findings.after_release_event.get(theme_id, "started")
        sentence = describe_after_release(findings.after_release[theme_id], event)
        notes.append(sentence[:1].upper() + sentence[1:])
    if theme_id in findings.fixes:
        notes.append(fix_sentence(findings.fixes[theme_id]))
    return notes


def fix_sentence(fix: FixResult) -> str:
    """'Fix in 4.2: fixed (10.0/week before, 0.3/week after, p = 1e-04)'."""
    if fix.before_rate is None or fix.after_rate is None:
        return f"Fix in {fix.version}: {fix.status}" + (f" ({fix.note})" if fix.note else "")
    text = (f"Fix in {fix.version}: {fix.status} ({fix.before_rate:.1f}/week before, {fix.after_rate:.1f}/week "
            f"after, p = {fix.p_value:.2g})")
    if fix.regressed_week is not None:
        text += f"; came back in the week of {fix.regressed_week.isoformat()} with {fix.regressed_count} tickets"
    return text


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def report_sections(themes: Sequence[Mapping[str, Any]], findings: ThemeFindings,
                    at_risk: pd.DataFrame, parents: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The report's closing-the-loop sections: documentation, releases and fixes, customers at
    risk, theme groups. `themes`: the week's ranked rows (theme_id, label, tickets)."""
    label = {str(t["theme_id"]): t["label"] for t in themes}
    docs = findings.docs
    by_status: dict[str, list[dict[str, Any]]] = {GAP: [], UNFOUND: [], COVERED: []}
    for t in themes:
        status = docs.get(str(t["theme_id"])) if docs is not None else None
        if status is not None:
            by_status[status.status].append({**t, "article": status.article, "note": status.note})
    return {
        "docs_configured": docs is not None,
        "docs": by_status,
        "after_release": [{"theme_id": t, "label": label.get(t, t), "sentence": describe_after_release(
            link, findings.after_release_event.get(t, "started"))} for t, link in findings.after_release.items()],
        "fixes": [{"theme_id": t, "label": label.get(t, t), "status": f.status, "sentence": fix_sentence(f)}
                  for t, f in findings.fixes.items()],
        "customers_at_risk": [{k: None if _missing(v) else v for k, v in row.items()}
                              for row in at_risk.to_dict("records")],
        "groups": list(parents),
    }
