"""The weekly report: Markdown for the Dagster UI and a self-contained HTML file.

Both are rendered from one context by Jinja2 templates. The HTML template autoescapes, so
ticket text such as `<script>` shows as text, and declares a Content-Security-Policy that
allows no script at all; the Markdown filter backslash-escapes Markdown and HTML syntax in
every customer- or model-written string. Charts are drawn by matplotlib and embedded as PNG
data URIs, so the file can be mailed or archived without a folder next to it.
"""

from __future__ import annotations

import base64
import io
import logging
import re
import textwrap
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, Undefined

from ticket_intel.core.anomalies import (
    QUEUE_SURGE,
    SPIKE,
    began_before,
    related_counts,
    related_themes,
    rose_with_queue,
    scope_name,
)
from ticket_intel.core.counts import ranked_weeks
from ticket_intel.core.rank import (
    LANGUAGE_ROW,
    Trend,
    change,
    earlier_span,
    is_loose,
    is_unthemed,
    language_name,
    period_note,
    several_products,
)
from ticket_intel.core.summarize import LEAD_TERMS
from ticket_intel.core.taxonomy import UNASSIGNED
from ticket_intel.core.triage_report import REQUEST_SIGNALS
from ticket_intel.core.vocabulary import counted, in_words, plural

TOP_N = 10
# A series per top theme, told apart by colour (Okabe-Ito's, safe for colour-blind readers) and by hatch; none
# is the light grey of "all other tickets" (tab10's 8th colour was grey).
SERIES = tuple(zip(("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"),
                   ("", "//", "..", "xx", "\\\\", "oo", "--", "++"), strict=True))
CHART_THEMES = len(SERIES)
OTHER_COLOUR = "#d5d9de"
# Fonts a chart draws each character in, the first installed that has it: DejaVu Sans alone drew Chinese,
# Japanese and emoji labels as boxes. matplotlib cannot draw colour-bitmap emoji fonts, so outline ones.
CHART_FONTS = ("DejaVu Sans", "Noto Sans CJK JP", "Noto Sans CJK SC", "Source Han Sans", "WenQuanYi Zen Hei",
               "Droid Sans Fallback", "Microsoft YaHei", "Yu Gothic", "Hiragino Sans", "Noto Sans Arabic",
               "Noto Sans Hebrew", "Noto Emoji", "Symbola", "Segoe UI Emoji", "Segoe UI Symbol")
# Markdown syntax, escaped by a backslash; and a URL or e-mail address, which GFM links in the text as read,
# after unescaping (remark-gfm, the Dagster UI's renderer), so it goes in a code span, up to a `|` (a cell's end),
# and without the punctuation that ends a sentence or closes a bracket or a quote around it (“… https://t.co/x”:
# a code span is never linked, so the quote may stay outside it), as GFM's autolinks end.
_MD_UNSAFE = re.compile(r"(?P<link>(?:(?:https?|ftp)://|www\.)(?:[^\s|`]*[^\s|`).,;:!?'\"\]”’»])?"
                        r"|[-.\w+]+@[-\w]+(?:\.[-\w]+)+)"
                        r"|(?P<char>[\\`*_\[\]<>|#~])", re.IGNORECASE)



def report_file(week: date | str, suffix: str) -> str:
    """The name of a week's report file (`html` or `md`), as written, published and retired."""
    return f"ticket_intel_{week}.{suffix}"

def _is_missing(value: Any) -> bool:
    """None, NaN, or a field the template's row does not have (a warehouse written before it existed)."""
    return value is None or isinstance(value, Undefined) or (isinstance(value, float) and pd.isna(value))


def summarizer_text(summarizer: str) -> str:
    """Who wrote a theme's label and summary, for the reader deciding how far to trust it."""
    if summarizer.startswith("llm:"):
        return f"Summary written by {summarizer[4:]} (LLM), checked against the tickets"
    return "Summary extracted from the tickets (no LLM)"


def _unranked(overview: Mapping[str, Any]) -> int | None:
    """This week's tickets in themes not ranked (each under "Not a theme"), beside those in none: the
    headline's "2 ranked themes · 10 tickets in no theme" read as if the rest were ranked, while 20
    more were in themes too small to rank. None for a week ranked before its overview counted them."""
    if _is_missing(overview.get("ranked_tickets")):
        return None
    return int(overview["tickets"]) - int(overview["ranked_tickets"]) - int(overview["outlier_tickets"])


def holding_text(overview: Mapping[str, Any], span: int, span_tickets: int) -> str:
    """What the headline's ranked themes hold, then the week's tickets in unranked themes and in none.
    Ranked over a small queue's `span` weeks, the themes hold `span_tickets` over them, as the table
    counts: "2 ranked themes holding 0 tickets" (this week's) sat above a table of 12 and 11."""
    unranked, this_week = _unranked(overview), " this week" if span > 1 else ""
    ranked = None if unranked is None else int(overview["ranked_tickets"])
    if span > 1:
        held = f" holding {plural(span_tickets, 'ticket')} over the {span} weeks ranked" + (
            "" if ranked is None else f", {ranked} of them this week")
    else:
        held = "" if ranked is None else f" holding {plural(ranked, 'ticket')}"
    held += f" · {unranked} in themes not ranked{this_week}" if unranked else ""
    return f"{held} · {plural(int(overview.get('outlier_tickets') or 0), 'ticket')} in no theme{this_week}"


# Beside a loose theme in the top table: ranked by impact, Next.js's "CSS · edge" (impact 96) read as
# eleventh below themes of 32, the card that says why far below.
LOOSE_RANK = "loose: ranked after the themes that are not"


def loose_note(summary: Mapping[str, Any]) -> str | None:
    """Why a loose theme's label should be read with its examples (`rank.is_loose`), else None."""
    share, terms = summary.get("described_share"), list(summary.get("terms", []))[:LEAD_TERMS]
    if not is_loose(share):
        return None
    return (f"A loose theme: its leading words ({', '.join(terms)}) are in {share:.0%} of its tickets, so its "
            "label names a minority of them; read the examples before acting on it.")


def md_escape(value: Any) -> str:
    """Text that Markdown shows verbatim on one line: no links, HTML, tables or emphasis."""
    return md_inline(" ".join(str(value).split()))


def md_inline(text: str) -> str:
    """Text that Markdown shows verbatim, its spacing kept (a span beside others); URLs as code."""
    return _MD_UNSAFE.sub(lambda m: f"`{m['link']}`" if m["link"] else "\\" + m["char"], text)


@lru_cache(maxsize=2)
def _env(autoescape: bool) -> Environment:
    """One environment per escaping mode, kept: it caches its compiled templates (compiling them
    anew for every week cost more than rendering)."""
    env = Environment(
        loader=PackageLoader("ticket_intel", "templates"),
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["pct"] = _pct
    env.filters["share"] = lambda v: "–" if _is_missing(v) else f"{v:.0%}"
    env.filters["num"] = lambda v, digits=0: "–" if _is_missing(v) else f"{v:,.{digits}f}"
    env.filters["score"] = lambda v: "–" if _is_missing(v) else f"{v:+.2f}"
    env.filters["words"] = lambda v: in_words(str(v))
    env.filters["md"] = md_escape
    env.filters["plural"] = plural
    env.filters["counted"] = counted
    env.filters["trend"] = trend_text
    env.filters["before"] = before_text
    env.filters["paid"] = paid_text
    env.filters["summarizer"] = summarizer_text
    return env


def trend_text(theme: Mapping[str, Any]) -> str:
    """The trend word with the baseline it compares against, so word and numbers agree."""
    baseline = theme.get("trend_baseline")
    return Trend(theme["trend"], None if _is_missing(baseline) else baseline).describe(
        int(theme["tickets"]), ranked_weeks(theme))


def paid_text(theme: Mapping[str, Any], short: bool = False) -> str:
    """A theme's paid share with its base, the customers whose plan is known ("75%" was 3 of 4 known
    plans of 7 customers); `short` for a table's cell. Rows ranked before the base was stored show
    the share alone."""
    share, known = theme.get("paid_share"), theme.get("plan_known_customers")
    if _is_missing(share):
        return "–"
    if _is_missing(known):
        return f"{share:.0%}" if short else f"{share:.0%} paid"
    if short:
        return f"{share:.0%} of {int(known)}"
    return f"{share:.0%} paid ({round(share * known)} of {plural(int(known), 'customer')} with a known plan)"


def before_text(theme: Mapping[str, Any]) -> str:
    """A ranked theme's tickets in the span before its own, and the change: `12 last week (+50%)`,
    `4 the 6 weeks before` (a base too small for a percentage: `rank.change`); empty when that span
    holds no data. Where last week's report showed another count (`reported_prev`), it says so."""
    prev, span = theme.get("tickets_prev_week"), earlier_span(ranked_weeks(theme))
    if _is_missing(prev):
        return ""
    reported, wow = theme.get("reported_prev"), theme.get("wow_change")
    told = not _is_missing(reported) and int(reported) != int(prev)
    notes = [*([] if _is_missing(wow) else [_pct(wow)]), *([f"{int(reported)} in last week's report"] if told else [])]
    return f"{int(prev)} {span}" + (f" ({'; '.join(notes)})" if notes else "")


def with_reported_last_week(ranked: pd.DataFrame, last_week: pd.DataFrame) -> pd.DataFrame:
    """This week's ranked themes with the count last week's report showed for each (`reported_prev`).
    A change compares this week's tickets with last week's as this week's clustering groups them, so
    last week's count is restated when the clustering regrouped them: "9 last week" under a report
    that said 4 read as an error. Only a theme ranked on its week alone, both weeks, compares."""
    if ranked.empty:
        return ranked
    alone = last_week[[ranked_weeks(r) == 1 for r in _records(last_week)]] if len(last_week) else last_week
    shown = dict(zip(alone["theme_id"], alone["tickets"], strict=True)) if len(alone) else {}
    return ranked.assign(reported_prev=[shown.get(t) if ranked_weeks(r) == 1 else None
                                        for t, r in zip(ranked["theme_id"], _records(ranked), strict=True)])


def _pct(v: Any) -> str:
    return "–" if _is_missing(v) else f"{v:+.0%}"


def _png(fig: Any, left: float, right: float, top: float, bottom: float, **spacing: float) -> str:
    """The figure as a PNG data URI, its margins given in inches by the caller (fixed, or measured on
    the one artist that varies, the legend) instead of `tight_layout`, which measured every tick label
    of the small multiples and cost more than drawing them."""
    import matplotlib.pyplot as plt

    width, height = fig.get_size_inches()
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height,
                        bottom=bottom / height, **spacing)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, facecolor="white")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _volume_chart(plt: Any, counts: pd.DataFrame, totals: pd.Series, labels: Mapping[str, str],
                  weeks: list[str]) -> str:
    fig, ax = plt.subplots(figsize=(10, 3.8))
    bottom = pd.Series(0, index=counts.columns, dtype=float)
    for (theme_id, row), (colour, hatch) in zip(counts.iterrows(), SERIES, strict=False):
        ax.bar(weeks, row.values, bottom=bottom.values, color=colour, hatch=hatch, width=0.7,
               label=_short(labels.get(theme_id, theme_id)))
        bottom += row
    ax.bar(weeks, other_tickets(counts, totals).values, bottom=bottom.values, color=OTHER_COLOUR, width=0.7,
           label="all other tickets")
    pad = max(0.0, (4 - len(weeks)) / 2)  # a bar keeps a week's width when the chart has few weeks
    ax.set_xlim(-0.5 - pad, len(weeks) - 0.5 + pad)
    ax.set_ylabel("tickets per week")
    handles, names = ax.get_legend_handles_labels()  # top down, as the bars stack
    legend = ax.legend(handles[::-1], names[::-1], fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                       frameon=False)
    ax.grid(axis="y", color="#eceef1")
    ax.set_axisbelow(True)
    legend_inches = legend.get_window_extent(fig.canvas.get_renderer()).width / fig.dpi  # the labels' real width
    return _png(fig, left=0.75, right=legend_inches + 0.25, top=0.15, bottom=0.4)


def first_week(weeks: Sequence[date], born: date | None) -> int:
    """Index of the first of `weeks` a theme existed in (0 when born before them or unknown)."""
    return 0 if born is None else sum(w < born for w in weeks)


def _trend_chart(plt: Any, counts: pd.DataFrame, labels: Mapping[str, str], weeks: list[str],
                 births: Mapping[str, date]) -> str:
    """One small line per theme. Weeks before a theme was found are grey and dashed: their tickets
    are those this week's clustering groups with it, which earlier reports counted elsewhere."""
    from matplotlib.ticker import MaxNLocator

    n = len(counts)
    cols = min(4, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(10, 2.0 * rows), squeeze=False, sharex=True)
    for i, ((theme_id, row), (colour, _)) in enumerate(zip(counts.iterrows(), SERIES, strict=False)):
        ax = axes[i // cols][i % cols]
        start = first_week([pd.Timestamp(w).date() for w in counts.columns], births.get(theme_id))
        ax.plot(range(start + 1), row.values[:start + 1], color="#9aa3ad", linestyle="--", linewidth=1.2)
        ax.plot(range(start, len(weeks)), row.values[start:], color=colour, marker="o", markersize=3, linewidth=1.6)
        ax.plot([len(weeks) - 1], [row.values[-1]], "o", color=colour, markersize=6)
        ax.text(0, 1.08, _title(labels.get(theme_id, theme_id)), fontsize=9, transform=ax.transAxes, va="bottom")
        ax.set_ylim(bottom=0, top=max(row.max() * 1.25, 4))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=3, integer=True))
        ax.set_xticks([0, len(weeks) - 1], [weeks[0], weeks[-1]])
        ax.grid(axis="y", color="#eceef1")
    for j in range(n, rows * cols):
        axes[j // cols][j % cols].set_visible(False)
    return _png(fig, left=0.45, right=0.15, top=0.45, bottom=0.35, hspace=0.6, wspace=0.3)  # two-line titles


def _title(label: str, columns: int = 26) -> str:
    """A small chart's title on two lines at most, a wide (CJK) character taking two columns: a
    Japanese label of 26 characters ran out of its chart."""
    wide = sum(unicodedata.east_asian_width(c) in "WF" for c in label)
    return textwrap.fill(label, columns * len(label) // (len(label) + wide), max_lines=2, placeholder="\u2026")


def charts(counts: pd.DataFrame, totals: pd.Series, labels: Mapping[str, str],
           births: Mapping[str, date]) -> dict[str, str]:
    """Two PNG data URIs: weekly volume stacked by the top themes (the rest in grey), and a
    small trend line per top theme. `counts`: theme x week; `totals`: all tickets per week;
    `births`: the week each theme was found."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    if counts.empty:
        return {}
    weeks = [pd.Timestamp(w).strftime("%d %b") for w in counts.columns]
    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False, "hatch.color": "white",
                         "font.family": chart_fonts(f.name for f in font_manager.fontManager.ttflist)})
    with _quiet_fonts():
        images = {"volume": _volume_chart(plt, counts, totals, labels, weeks)}
        if len(weeks) > 1:  # a line of one week shows no trend
            images["trend"] = _trend_chart(plt, counts, labels, weeks, births)
    return images


def chart_fonts(installed: Iterable[str]) -> list[str]:
    """`CHART_FONTS` that are installed, in its order: one that is not logged a warning per label."""
    have = set(installed)
    return [font for font in CHART_FONTS if font in have]


@contextmanager
def _quiet_fonts() -> Iterator[None]:
    """No warning for a character no installed font has (drawn as a box: `review rename` to four
    non-Latin labels printed 166 to the terminal), nor for a fallback font's only weight."""
    logger = logging.getLogger("matplotlib.font_manager")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", r"Glyph \d+ .* missing from font", UserWarning)
            yield
    finally:
        logger.setLevel(level)


def other_tickets(counts: pd.DataFrame, totals: pd.Series) -> pd.Series:
    """Each week's tickets outside the charted themes: the grey on top of the stack."""
    return (totals.reindex(counts.columns, fill_value=0) - counts.sum()).clip(lower=0)


def chart_table(counts: pd.DataFrame, totals: pd.Series, labels: Mapping[str, str]) -> dict[str, Any]:
    """The charts' numbers as a table (weeks across, a row per charted theme, then all other tickets and
    all): the PNGs' alt text cannot hold them, and a screen reader or a phone needs them in text."""
    if counts.empty:
        return {}
    return {"weeks": [pd.Timestamp(w).strftime("%-d %b") for w in counts.columns],
            "rows": [{"theme_id": t, "label": labels.get(t, t), "counts": [int(v) for v in row.values]}
                     for t, row in counts.iterrows()],
            "other": [int(v) for v in other_tickets(counts, totals).values],
            "total": [int(v) for v in totals.reindex(counts.columns, fill_value=0).values]}


def since_first_tickets(counts: pd.DataFrame, totals: pd.Series) -> pd.DataFrame:
    """The chart's weeks from the first that holds any ticket: weeks before a warehouse's data
    begins (its first weeks, an undated export placed in one week) are no weeks of zero tickets."""
    held = [w for w in counts.columns if totals.get(w, 0) > 0]
    return counts.loc[:, [w for w in counts.columns if held and w >= held[0]]]


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _plain(value: Any) -> Any:
    """NaN as None and arrays (DuckDB lists) as lists, so templates test one kind of missing and of list."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    return None if _is_missing(value) else value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    if not len(frame):
        return []
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def example_maker(tickets: pd.DataFrame, ticket_url: str) -> Callable[[str], dict[str, str]]:
    """Example ticket -> its id, anchor, helpdesk link (when a URL template is set, the id percent-encoded)
    and text."""
    text_by_id = dict(zip(tickets["ticket_id"], tickets["text"], strict=True)) if len(tickets) else {}
    source_id = dict(zip(tickets["ticket_id"], tickets["source_id"], strict=True)) if len(tickets) else {}

    def example(ticket_id: str) -> dict[str, str]:
        src, _, sid = ticket_id.partition(":")
        sid = quote(str(source_id.get(ticket_id, sid)), safe="")  # an id's `/`, `?` or `)` stays in the link
        external = ticket_url.format(ticket_id=quote(ticket_id, safe=":"), source=quote(src, safe=""),
                                     source_id=sid) if ticket_url else ""
        return {"id": ticket_id, "anchor": "ticket-" + re.sub(r"[^A-Za-z0-9_-]", "-", ticket_id),
                "url": external, "text": text_by_id.get(ticket_id, "")}

    return example


def _cards(ranked: pd.DataFrame, summary_of: Mapping[str, Mapping[str, Any]],
           example: Callable[[str], dict[str, str]]) -> list[dict[str, Any]]:
    """A card per ranked theme: its evidence, severity, backlog item and example tickets."""
    cards = []
    for row in _records(ranked):
        info = summary_of.get(row["theme_id"], {})
        cards.append({
            **row, "phrasings": list(info.get("phrasings", [])),
            "severity_rationale": info.get("severity_rationale", ""), **_backlog(summary_of, row),
            "backlog_user_story": info.get("backlog_user_story", ""), "summarizer": info.get("summarizer", ""),
            "loose": loose_note(info),
            "examples": [example(t) for t in row["example_ticket_ids"]],
            # (name, tickets) per product: the HTML isolates each name's direction from its count
            "products_listed": [(name, int(n)) for name, n in
                                zip(row.get("product_names") or [], row.get("product_counts") or [], strict=True)],
        })
    return cards


def week_span(week: date) -> str:
    """The days a week covers, as both reports head it: "Mon 23 Nov – Sun 29 Nov 2026 (UTC)", the
    start's year too when the week spans New Year."""
    end = week + timedelta(days=6)
    return f"{week:%a %-d %b}{f' {week:%Y}' if week.year != end.year else ''} – {end:%a %-d %b %Y} (UTC)"


def revised_note(first_at: datetime, first_tickets: int, written_at: datetime, tickets: int) -> str | None:
    """The line a report written again carries when its week's tickets changed since it was first
    written (late tickets, a re-export): a reader holding the earlier one knows its figures moved.
    The same tickets read again (other settings or code, a run resumed after a crash) say nothing."""
    if first_tickets == tickets:
        return None
    return (f"Revised: this week's report was first written on {first_at:%Y-%m-%d %H:%M} UTC with {first_tickets} "
            f"tickets; this version ({written_at:%Y-%m-%d %H:%M} UTC) holds {tickets}: late or changed tickets.")


def revision(before: Mapping[str, Any] | None, written_at: datetime, tickets: int) -> dict[str, Any]:
    """This writing of a week's report, to store (`first_written_at`, `first_tickets`, `written_at`,
    `tickets`), and `revised`: the line it carries (`revised_note`), None the first time. A report
    stored before these were kept counts as first written now."""
    first_at, first_n = (before or {}).get("first_written_at"), (before or {}).get("first_tickets")
    if first_at is None or pd.isna(first_at) or first_n is None or pd.isna(first_n):
        first_at, first_n = written_at, tickets
    return {"first_written_at": first_at, "first_tickets": int(first_n), "written_at": written_at,
            "tickets": tickets, "revised": revised_note(first_at, int(first_n), written_at, tickets)}


def build_context(
    week: date,
    overview: Mapping[str, Any],
    ranked: pd.DataFrame,
    summaries: pd.DataFrame,
    not_a_theme: pd.DataFrame,
    alerts: pd.DataFrame,
    tickets: pd.DataFrame,
    ticket_url: str = "",
    taxonomy_file: str = "taxonomy.yaml",
    last_week_gap: bool = False,
) -> dict[str, Any]:
    """Everything the templates show.

    `tickets`: ticket_id, text (redacted) and source_id of every example ticket. With a
    `ticket_url` template (`https://acme.zendesk.com/agent/tickets/{source_id}`) examples link
    to the helpdesk; otherwise to the example's text at the end of the HTML report.
    `last_week_gap`: last week holds no data while earlier weeks do (a gap in the exports).
    """
    summary_of = {r["theme_id"]: r for r in _records(summaries)}
    label_of = {r["theme_id"]: r["label"] for r in _records(ranked)}
    cards = _cards(ranked, summary_of, example_maker(tickets, ticket_url))
    # The top themes come first, and so does any alerted theme ranked lower (an alert links to it);
    # every other ranked theme has its card too, collapsed below them.
    alerted = set(alerts["theme_id"]) if len(alerts) else set()
    themes = [c for c in cards if c["rank"] <= TOP_N or c["theme_id"] in alerted]
    more = [c for c in cards if c not in themes]
    prev = None if _is_missing(overview.get("tickets_prev_week")) else int(overview["tickets_prev_week"])
    alert_rows = [{**a, "label": label_of.get(a["theme_id"], a["label"]), "began_before": began_before(a.get("since"), week),
                   "related": [{"theme_id": t, "label": label, "tickets": n} for (t, label), n in zip(
                       related_themes(a), related_counts(a) or [None] * len(related_themes(a)), strict=True)]}
                  for a in _records(alerts)]
    everything = _records(ranked)

    def of_signal(signal: str) -> list[dict[str, Any]]:
        return [{**t, **_backlog(summary_of, t)} for t in everything if t["signal_type"] == signal]

    note, poor_fit = taxonomy_note(overview.get("taxonomy_coverage"), taxonomy_file)
    unread, mostly_unread = language_note(not_a_theme, int(overview["tickets"]))
    span = ranked_weeks(everything[0]) if everything else 1
    return {
        "week": week, "week_span": week_span(week), "overview": {**overview, "tickets_prev_week": prev},
        "taxonomy_note": note, "taxonomy_poor_fit": poor_fit, "taxonomy_file": taxonomy_file, "loose_rank": LOOSE_RANK,
        "language_note": unread, "mostly_unread": mostly_unread,
        "period_note": period_note(week, span), "ranked_span": span,
        "vs_last_week": vs_last_week(int(overview["tickets"]), prev, last_week_gap),
        "holding": holding_text(overview, span, sum(int(t["tickets"]) for t in everything)),
        "themes": themes, "top_ids": {t["theme_id"] for t in cards},
        "by_product": several_products(t.get("product_names") for t in themes),
        # every top theme unassigned: the column would repeat the taxonomy note above the table
        "by_area": any(t.get("product_area") not in (None, UNASSIGNED) for t in themes),
        # no customer's plan known (twcs, GitHub): a paid share of "–" on every theme says nothing
        "by_paid": any(pd.notna(t.get("paid_share")) for t in themes),
        "more_cards": more, "more_themes": len(more),
        "surges": surges(alert_rows),
        "spikes": [a for a in alert_rows if a["kind"] == SPIKE and not rose_with_queue(a)],
        "new_patterns": [a for a in alert_rows if a["kind"] == "new_pattern"],
        "feature_requests": of_signal("feature_gap"), "docs_gaps": of_signal("docs_gap"),
        "not_a_theme": _records(not_a_theme),
        # groups that fell short of a theme: lower thresholds would rank them, unlike tickets in no theme
        "groups_not_ranked": sum(not is_unthemed(str(t)) for t in not_a_theme["theme_id"]) if len(not_a_theme) else 0,
        "examples": sorted({e["id"]: e for t in cards for e in t["examples"]}.values(), key=lambda e: e["id"]),
    }


def surges(alert_rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The week's queue surges, each with the spikes that rose with it (`rising`, the largest first), which
    the report tells under it, not among the spikes paged on their own."""
    spikes = {a["theme_id"]: a for a in alert_rows if a["kind"] == SPIKE}
    return [{**a, "scope": scope_name(a), "rising": [spikes[t] for t in a["related_theme_ids"] if t in spikes]}
            for a in alert_rows if a["kind"] == QUEUE_SURGE]


def vs_last_week(tickets: int, prev: int | None, gap: bool) -> str:
    """The week's tickets against last week's, as both reports head it: "+25% vs 32 last week", or
    "5 last week" on a base too small for a percentage (`rank.change`); without a count last week,
    "no data last week" after a gap in the exports, else "the first week of data": unknown, not zero
    (a gap read "– vs 0 last week")."""
    if prev is None:
        return "no data last week" if gap else "the first week of data"
    moved = change(tickets, 1, prev, 1)
    return f"{prev} last week" if moved is None else f"{_pct(moved)} vs {prev} last week"


def with_earlier_tickets(patterns: Sequence[Mapping[str, Any]], before: Mapping[str, Sequence[int]]
                         ) -> list[dict[str, Any]]:
    """New patterns with their tickets of the weeks before they count from (`before`: per theme, its
    weekly counts then): `earlier`, and `most` in a week. A theme is new the week it first forms, and
    its issue may have trickled in before: twcs' "Package · delivery", new on 2017-11-27 with 8
    tickets, had 1-3 a week in the seven weeks before, and its report said only "first seen this week"."""
    return [{**a, "earlier": sum(counts), "most": max(counts, default=0)}
            for a in patterns for counts in [before.get(str(a["theme_id"]), ())]]


def no_longer_ranked(last_week: pd.DataFrame, ranked: pd.DataFrame, events: pd.DataFrame, not_a_theme: pd.DataFrame,
                     labels: Mapping[str, str], merged_into: Mapping[str, str]) -> list[dict[str, Any]]:
    """Last week's ranked themes this week's ranking lacks, each with why (a reviewer's merge, the
    clustering's merge or fade, this week's not-a-theme reason): a theme that vanished without a word
    ("Letter · type", the iOS bug of 2017-10-30, merged into "iOS · update" the week after) read as solved.
    `labels`: this week's label per theme; `merged_into`: reviewers' merges, followed to their end. A
    theme named as where its tickets went says when it is not ranked itself: a reviewer's dismissed
    theme read as if it ranked, and the reader looked for it in vain. The ranking gives every theme
    holding a ticket of its weeks a row or a not-a-theme reason, so a theme with neither had none:
    Next.js' "App dir · pages" (5 issues the week before) read "not ranked this week" and no why."""
    now = set(ranked["theme_id"]) if len(ranked) else set()
    event = {r.theme_id: r for r in events.itertuples()} if len(events) else {}
    reason = dict(zip(not_a_theme["theme_id"], not_a_theme["reason"], strict=True)) if len(not_a_theme) else {}

    def named(theme: str) -> str:
        unranked = f"not ranked: {reason[theme]}" if theme in reason else ""
        if theme in labels:
            return f"{labels[theme]} ({theme}, {unranked})" if unranked else f"{labels[theme]} ({theme})"
        return f"{theme} ({unranked})" if unranked else theme

    out = []
    for row in last_week.itertuples() if len(last_week) else ():
        theme, e = row.theme_id, event.get(row.theme_id)
        if theme in now:
            continue
        if theme in merged_into:
            why = f"merged into {named(merged_into[theme])} by a reviewer"
        elif e is not None and e.event == "merged":
            why = f"its tickets went into {named(e.related_theme_ids[0])}, with which the clustering merged it"
        elif e is not None and e.event == "faded":
            why = "faded: no ticket of the window holds to it any more"
        else:
            why = f"not ranked this week: {reason[theme]}" if theme in reason else \
                f"no ticket this week ({row.tickets} last week)"
        out.append({"theme_id": theme, "label": row.label, "why": why})
    return out


def with_triage(context: Mapping[str, Any], view: Mapping[str, Any] | None, ranked: pd.DataFrame,
                summaries: pd.DataFrame) -> dict[str, Any]:
    """The context with the week's triage (core/triage_report.py `week_triage`): the Triage section,
    and feature requests and documentation gaps counted from single tickets. Each section lists the
    ranked themes holding such tickets, most first, then any theme of that signal type holding none
    this week. Without triage the sections keep the themes of that signal type."""
    if view is None:
        return {**context, "triage": None}
    summary_of = {r["theme_id"]: r for r in _records(summaries)}
    themes = {r["theme_id"]: r for r in _records(ranked)}
    out = {**context, "triage": view}
    for name, signal in REQUEST_SIGNALS.items():
        counts = view[name]["themes"]
        ids = [*counts, *(t for t, r in themes.items() if r["signal_type"] == signal and t not in counts)]
        out[name] = [{**themes[t], **_backlog(summary_of, themes[t]), "stated": counts.get(t, 0)}
                     for t in ids if t in themes]
    return out


def language_note(not_a_theme: pd.DataFrame, tickets: int) -> tuple[str, bool]:
    """How much of the week is in languages the embedding model does not read (counted per language,
    not themed), and whether it is most of it: a week three quarters German read only "No themes
    ranked this week", and a week after suggested fewer tickets per theme, the wrong lever."""
    rows = sorted((r for r in _records(not_a_theme) if str(r["theme_id"]).startswith(LANGUAGE_ROW)),
                  key=lambda r: (-int(r["tickets"]), r["theme_id"]))
    unread = sum(int(r["tickets"]) for r in rows)
    if not unread or not tickets:
        return "", False
    said = ", ".join(f"{language_name(r['theme_id'].removeprefix(LANGUAGE_ROW))} {int(r['tickets'])}" for r in rows)
    return (f"{unread / tickets:.0%} of this week's tickets ({said}) are in languages the embedding model does not "
            "read: counted, not themed. A multilingual model themes them (TICKET_INTEL_EMBEDDING_MODEL, "
            "TICKET_INTEL_EMBEDDING_LANGUAGES).", 2 * unread >= tickets)


def taxonomy_note(share: float | None, named: str = "taxonomy.yaml") -> tuple[str, bool]:
    """How much of the week the taxonomy (the file `named`) describes, and whether that calls for a
    fix (under half: the report then names the command that drafts one, with its warehouse). None of
    it is said as none: "Product areas cover only 0%" (Swift's, twcs' queues under the shipped banking
    taxonomy) read as a figure to improve, not a file that fits nothing."""
    if share is None or pd.isna(share):
        return "", False
    if share >= 0.5:
        return f"Product areas ({named}) cover {share:.0%} of ranked tickets.", False
    if share == 0:
        return (f"The taxonomy ({named}) matches none of this week's ranked themes: it does not describe this "
                "product.", True)
    covered = f"only {share:.0%}" if share >= 0.005 else "under 1%"  # not "0%" of a file that matches some
    return f"Product areas cover {covered} of ranked tickets: {named} does not describe this product.", True


def customer_note(customer_ids: pd.Series) -> str:
    """What the week's customer counts rest on when tickets name no customer: each such ticket
    counts as its own customer, so an export without customer ids shows as many customers as tickets."""
    unnamed = float(customer_ids.isna().mean()) if len(customer_ids) else 0.0
    if unnamed == 0:
        return ""
    if unnamed == 1:
        return "no ticket names its customer: each counts as one"
    return f"{unnamed:.0%} of tickets name no customer and count as one each"


def _backlog(summary_of: Mapping[str, Mapping[str, Any]], theme: Mapping[str, Any]) -> dict[str, Any]:
    info = summary_of.get(theme["theme_id"], {})
    return {"backlog_title": info.get("backlog_title", ""), "backlog_deflection": info.get("backlog_deflection")}


def render_markdown(context: Mapping[str, Any]) -> str:
    return _env(autoescape=False).get_template("report.md.j2").render(**context)


def render_html(context: Mapping[str, Any], chart_images: Mapping[str, str]) -> str:
    return _env(autoescape=True).get_template("report.html.j2").render(**context, charts=chart_images)


def top_theme_counts(counts: pd.DataFrame, theme_ids: Sequence[str]) -> pd.DataFrame:
    """Weekly counts of the given themes, in their rank order, for the charts."""
    return counts.reindex([t for t in theme_ids if t in counts.index]).fillna(0).astype(int)


def chart_series(counts: pd.DataFrame) -> dict[str, dict[str, int]]:
    """What the trend chart plots, as {theme_id: {week: tickets}}, stored beside the report."""
    return {str(t): {pd.Timestamp(w).date().isoformat(): int(v) for w, v in row.items()} for t, row in counts.iterrows()}
