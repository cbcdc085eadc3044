"""The weekly report: Markdown for the Dagster UI and a self-contained HTML file.

Both are rendered from one context by Jinja2 templates (HTML with autoescaping, so ticket
text such as `<script>` shows as text), with matplotlib charts embedded as PNG data URIs so
the file can be mailed or archived without its folder.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

TOP_N = 10


def _env(autoescape: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("ticket_intel", "templates"),
        autoescape=select_autoescape(["html", "j2"]) if autoescape else False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v: "–" if v is None or pd.isna(v) else f"{v:+.0%}"
    env.filters["share"] = lambda v: "–" if v is None or pd.isna(v) else f"{v:.0%}"
    env.filters["md"] = lambda v: str(v).replace("|", "\\|").replace("\n", " ")
    return env


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def charts(counts: pd.DataFrame, labels: Mapping[str, str]) -> dict[str, str]:
    """Stacked weekly volume of the top themes and one trend line per top theme."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if counts.empty:
        return {}
    weeks = [pd.Timestamp(w).strftime("%d %b") for w in counts.columns]
    fig, ax = plt.subplots(figsize=(8, 3.4))
    bottom = None
    for theme_id, row in counts.iterrows():
        ax.bar(weeks, row.values, bottom=bottom, label=_short(labels.get(theme_id, theme_id)))
        bottom = row.values if bottom is None else bottom + row.values
    ax.set_ylabel("tickets")
    ax.set_title("Weekly volume of this week's top themes")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    volume = _png(fig)
    fig, ax = plt.subplots(figsize=(8, 3.4))
    for theme_id, row in counts.iterrows():
        ax.plot(weeks, row.values, marker="o", markersize=3, label=_short(labels.get(theme_id, theme_id)))
    ax.set_ylabel("tickets")
    ax.set_title("Trend per top theme")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return {"volume": volume, "trend": _png(fig)}


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def build_context(
    week: date,
    overview: Mapping[str, Any],
    ranked: pd.DataFrame,
    summaries: pd.DataFrame,
    not_a_theme: pd.DataFrame,
    alerts: pd.DataFrame,
    tickets: pd.DataFrame,
    ticket_url: str = "",
) -> dict[str, Any]:
    """Everything the templates show. `tickets` maps example ticket ids to redacted text."""
    text_by_id = dict(zip(tickets["ticket_id"], tickets["text"], strict=False)) if len(tickets) else {}
    source_id = dict(zip(tickets["ticket_id"], tickets.get("source_id", tickets["ticket_id"]), strict=False)) if len(tickets) else {}
    summ = summaries.set_index("theme_id") if len(summaries) else pd.DataFrame()

    def link(ticket_id: str) -> str:
        if ticket_url:
            src, _, sid = ticket_id.partition(":")
            return ticket_url.format(ticket_id=ticket_id, source=src, source_id=source_id.get(ticket_id, sid))
        return f"#{ticket_id.replace(':', '-')}"

    themes = []
    for row in ranked.head(TOP_N).to_dict("records"):
        info = summ.loc[row["theme_id"]] if row["theme_id"] in summ.index else None
        themes.append({
            **row,
            "phrasings": list(info["phrasings"]) if info is not None else [],
            "backlog_title": info["backlog_title"] if info is not None else "",
            "examples": [{"id": t, "href": link(t), "text": text_by_id.get(t, "")} for t in row["example_ticket_ids"]],
        })
    prev = overview.get("tickets_prev_week") or 0
    change = (overview["tickets"] - prev) / prev if prev else None
    alert_rows = alerts.to_dict("records") if len(alerts) else []
    return {
        "week": week,
        "overview": dict(overview),
        "volume_change": change,
        "themes": themes,
        "spikes": [a for a in alert_rows if a["kind"] == "volume_spike"],
        "new_patterns": [a for a in alert_rows if a["kind"] == "new_pattern"],
        "feature_requests": [t for t in ranked.to_dict("records") if t["signal_type"] == "feature_gap"],
        "docs_gaps": [t for t in ranked.to_dict("records") if t["signal_type"] == "docs_gap"],
        "not_a_theme": not_a_theme.to_dict("records") if len(not_a_theme) else [],
        "examples": sorted({e["id"]: e for t in themes for e in t["examples"]}.values(), key=lambda e: e["id"]),
    }


def render_markdown(context: Mapping[str, Any]) -> str:
    return _env(autoescape=False).get_template("report.md.j2").render(**context)


def render_html(context: Mapping[str, Any], chart_images: Mapping[str, str]) -> str:
    return _env(autoescape=True).get_template("report.html.j2").render(**context, charts=chart_images)


def top_theme_counts(counts: pd.DataFrame, theme_ids: Sequence[str]) -> pd.DataFrame:
    return counts.reindex([t for t in theme_ids if t in counts.index]).fillna(0).astype(int)
