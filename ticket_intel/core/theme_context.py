"""The answers a product manager asks of each theme, in one place for the JSON output, the
report and the tracker issue: is there an article, did it start after a release, did the
fix work, is it one segment, what is it part of.

`theme_context` is the output contract of `ticket-intel themes --format json` (scripts rely on
these names): per theme `docs_status` (`gap` / `unfound` / `covered`, or null when no help
center is configured), `docs_article` (title or null), `after_release` (version or null),
`fix_status` (`fixed` / `not yet` / `regressed`, or null when no fix was recorded),
`segments` (a list of `{field, value, share, baseline_share, p_value}`) and `parent` (the
parent's label or null), plus `docs_article_url`, `docs_note`, `after_release_days`, `fix_release`,
`fix_note` and `parent_id`. `marts.ranked_themes` keeps them (`theme_columns`; segments in
`marts.theme_segments`), and the report and the tracker sync read them from there.
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
    after_release: Mapping[str, AfterRelease] = field(default_factory=dict)  # themes that started after one
    fixes: Mapping[str, FixResult] = field(default_factory=dict)
    segments: pd.DataFrame = field(default_factory=pd.DataFrame)  # core.segments.over_represented
    parents: Mapping[str, tuple[str | None, str | None]] = field(default_factory=dict)  # id -> (id, label)


def theme_context(theme_id: str, findings: ThemeFindings) -> dict[str, Any]:
    """The contract keys and their companions for one theme, JSON-safe."""
    docs = findings.docs.get(theme_id) if findings.docs is not None else None
    article = docs.article if docs is not None else None
    link = findings.after_release.get(theme_id)
    fix = findings.fixes.get(theme_id)
    parent_id, parent = findings.parents.get(theme_id, (None, None))
    return {
        "docs_status": docs.status if docs is not None else None,
        "docs_article": article.title if article else None,
        "docs_article_url": (article.url or None) if article else None,
        "docs_note": (docs.note or None) if docs is not None else None,
        "after_release": link.version if link else None,
        "after_release_days": link.days_after if link else None,
        "fix_status": fix.status if fix else None,
        "fix_release": fix.version if fix else None,
        "fix_note": fix_sentence(fix) if fix else None,
        "segments": segment_records(findings.segments, theme_id) if len(findings.segments) else [],
        "parent": parent,
        "parent_id": parent_id,
    }


def theme_columns(theme_id: str, findings: ThemeFindings) -> dict[str, Any]:
    """What `marts.ranked_themes` keeps per theme: the contract (segments live in their own mart)
    and the findings as sentences."""
    return {**{k: v for k, v in theme_context(theme_id, findings).items() if k != "segments"},
            "notes": theme_notes(theme_id, findings)}


def theme_notes(theme_id: str, findings: ThemeFindings) -> list[str]:
    """The same findings as sentences, for the theme's report card and its tracker issue."""
    notes = [f"Segment: {segment_sentence(r)}" for r in
             (segment_records(findings.segments, theme_id) if len(findings.segments) else [])]
    docs = findings.docs.get(theme_id) if findings.docs is not None else None
    if docs is not None:
        title = f" '{docs.article.title}'" if docs.article else ""
        notes.append(f"Docs: {docs.status}{title}" + (f" ({docs.note})" if docs.note else ""))
    if theme_id in findings.after_release:
        link = findings.after_release[theme_id]
        notes.append(_capital(describe_after_release(link.version, link.days_after)))
    if theme_id in findings.fixes:
        notes.append(fix_sentence(findings.fixes[theme_id]))
    return notes


def alert_notes(alerts: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Per theme, the week's alerts that followed a release, as card notes ('Spiked 1 day after 4.2.1')."""
    event = {"volume_spike": "spiked", "new_pattern": "started"}
    notes: dict[str, list[str]] = {}
    for a in alerts:
        if a["kind"] in event and not _missing(a.get("after_release")):
            sentence = describe_after_release(a["after_release"], int(a["after_release_days"]), event[a["kind"]])
            notes.setdefault(a["theme_id"], []).append(_capital(sentence))
    return notes


def _capital(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


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


def _clean(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: None if _missing(v) else v for k, v in row.items()}


def _docs(themes: Sequence[Mapping[str, Any]], top: int) -> dict[str, Any]:
    """The ranked themes by docs status, each with its article (title, url) and note; gaps of the
    `top` themes only (`more_gaps` counts the rest)."""
    by_status: dict[str, Any] = {GAP: [], UNFOUND: [], COVERED: []}
    for t in themes:
        if t.get("docs_status") in by_status:
            article = {"title": t["docs_article"], "url": t.get("docs_article_url")} if t.get("docs_article") else None
            by_status[t["docs_status"]].append({**t, "article": article, "note": t.get("docs_note") or ""})
    gaps = by_status[GAP]
    by_status[GAP] = [t for t in gaps if t.get("rank") is None or t["rank"] <= top]
    by_status["more_gaps"] = len(gaps) - len(by_status[GAP])
    return by_status


def _releases(themes: Sequence[Mapping[str, Any]], alerts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Themes that started after a release, then the week's alerts that followed one ("spiked ...")."""
    started = [{"theme_id": t["theme_id"], "label": t["label"],
                "sentence": describe_after_release(t["after_release"], int(t["after_release_days"]))}
               for t in themes if t.get("after_release")]
    label = {t["theme_id"]: t["label"] for t in themes}
    event = {"volume_spike": "spiked", "new_pattern": "started"}
    followed = [{"theme_id": a["theme_id"], "label": label.get(a["theme_id"], a.get("label")),
                 "sentence": describe_after_release(a["after_release"], int(a["after_release_days"]), event[a["kind"]])}
                for a in alerts if a.get("after_release") and a["kind"] in event]
    seen = {(r["theme_id"], r["sentence"]) for r in started}
    return started + [r for r in followed if (r["theme_id"], r["sentence"]) not in seen]


def _customers_to_tell(themes: Sequence[Mapping[str, Any]], customers: pd.DataFrame, top: int,
                       richest: int = 3) -> list[dict[str, Any]]:
    """Per theme marked fixed, then per `top` theme: how many customers to tell, by plan, and the
    richest few (`customers`: theme_customers rows, by revenue then tickets; `first_by` says which
    decided: with no revenue known, "most revenue" would name whoever filed most)."""
    out = []
    chosen = [t for t in themes if t.get("fix_status")] + [
        t for t in themes if not t.get("fix_status") and (t.get("rank") is None or t["rank"] <= top)]
    for t in chosen:
        mine = customers[customers["theme_id"] == t["theme_id"]] if len(customers) else customers
        if not len(mine):
            continue
        plans = mine["plan"].fillna("no plan").value_counts()
        out.append({"theme_id": t["theme_id"], "label": t["label"], "customers": len(mine),
                    "fix_status": t.get("fix_status"), "fix_release": t.get("fix_release"),
                    # an export without plans says nothing by plan ("69 customers (69 no plan)")
                    "by_plan": ", ".join(f"{n} {plan}" for plan, n in plans.items()) if mine["plan"].notna().any() else "",
                    "top": [_clean(c) for c in mine.head(richest).to_dict("records")],
                    "first_by": _first_by(mine)})
    return out


def _first_by(mine: pd.DataFrame) -> str:
    """What put the customers named first first: revenue, tickets, or neither (one ticket each and
    no revenue known: "most tickets" named customers of one ticket each)."""
    if (mine["monthly_revenue"].fillna(0) > 0).any():
        return "most revenue"
    return "most tickets" if "tickets" in mine and (mine["tickets"].fillna(0) > 1).any() else "for example"


def report_sections(themes: Sequence[Mapping[str, Any]], alerts: Sequence[Mapping[str, Any]],
                    segments: pd.DataFrame, customers: pd.DataFrame, at_risk: pd.DataFrame,
                    parents: Iterable[Mapping[str, Any]], docs_configured: bool,
                    top: tuple[int, int] = (10, 5)) -> dict[str, Any]:
    """The report's closing-the-loop sections from what the ranking stored: documentation, releases
    and fixes, segments, customers to tell, customers at risk, theme groups.

    `themes`: the week's ranked rows with `theme_columns`; `alerts`: the week's alerts; `segments`,
    `customers`: the week's theme_segments and theme_customers rows; `top`: the ranks whose gaps,
    and whose customers to tell, are listed (every article found and every fix is).
    """
    themes = [_clean(t) for t in themes]
    label = {t["theme_id"]: t["label"] for t in themes}
    return {
        "docs_configured": docs_configured,
        "docs": _docs(themes, top[0]),
        "after_release": _releases(themes, [_clean(a) for a in alerts]),
        "fixes": [{"theme_id": t["theme_id"], "label": t["label"], "status": t["fix_status"], "sentence": t["fix_note"]}
                  for t in themes if t.get("fix_status")],
        "segments": [{"theme_id": r["theme_id"], "label": label.get(r["theme_id"], r["theme_id"]),
                      "sentence": segment_sentence(r)} for r in segments.to_dict("records")] if len(segments) else [],
        "customers_to_tell": _customers_to_tell(themes, customers, top[1]),
        "customers_at_risk": [_clean(row) for row in at_risk.to_dict("records")],
        "groups": list(parents),
    }
