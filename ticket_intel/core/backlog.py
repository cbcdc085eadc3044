"""Backlog sync, planned: which themes get a tracker issue, and what changes this week.

**Selection** (`SelectionPolicy`): the top N themes by impact, or the themes a reviewer kept
(`ReviewState.endorsed`: confirmed, renamed or merged into). A selected theme without an issue
gets one (`create`). A theme that has an issue keeps it for good: every week it is ranked, its
description is rewritten with the week's counts, trend, customers, examples and report link
(`update`, only when the text changed, so a re-run of a week sends nothing). A spike or a regression of a theme with an issue adds a `comment`.

**One issue per merged theme.** Reviewer merges point every theme of the group at one issue:
the target's own issue, else the oldest issue among the merged themes. Any other issue of the
group gets a comment saying where the theme is tracked now, once, and its link moves.

**Nothing is lost.** Each action has a key (`create|T`, `update|T`, an alert key, ...). Actions
that were not applied stay in the outbox with their attempts and last error and are planned
again next run, newest content winning. A create first asks the tracker for an issue already
carrying the theme's marker, so an issue created by a run that crashed before recording its
link is adopted, not duplicated. Each applied action is recorded the moment it succeeds
(`apply`'s `record`), so a run killed midway repeats none of them. When the tracker refuses the
credentials, is unreachable or keeps rate-limiting, the run stops calling it and keeps the rest
pending; a request it refuses (bad input) is pending too, and the run says so.

**An issue someone deleted** is created again when its theme's description is next written; a
merge note for an issue that is gone is dropped. **A merge undone** leaves two themes on one
issue: the theme that had it first keeps it, the other gets its own (`detach_shared`).

Issue text is a small tracker-neutral document (headings, paragraphs, bullet lists, links),
rendered to Markdown for Linear and to Atlassian Document Format for Jira by the adapters.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from typing import Any, Protocol

from ticket_intel.core.counts import ranked_weeks
from ticket_intel.core.rank import earlier_span
from ticket_intel.core.report import md_inline
from ticket_intel.core.review import ReviewState
from ticket_intel.core.vocabulary import trend_in_words

CREATE, UPDATE, COMMENT = "create", "update", "comment"
KIND_ORDER = {CREATE: 0, UPDATE: 1, COMMENT: 2}
TOP, CONFIRMED = "top", "confirmed"
COMMENTED_ALERTS = ("volume_spike", "regression")
MARKER = "ticket_intel theme"  # every issue names its theme, so a lost link can be found again

Doc = list[dict[str, Any]]  # blocks: heading {text}, paragraph {spans}, bullets {items: [spans]}
Span = dict[str, str]  # {"text": ..., "url": ...}


class TrackerError(RuntimeError):
    """A tracker call failed; the action stays pending."""


class TrackerRejected(TrackerError):
    """The tracker refused this one request (bad input, missing issue): other actions may go on."""


class TrackerNotFound(TrackerRejected):
    """The issue (or project, team) does not exist or is not visible with these credentials."""


class TrackerAuthError(TrackerError):
    """401/403: the credentials are wrong or lack permission. Nothing more is sent this run."""


class TrackerUnavailable(TrackerError):
    """Network error, 5xx, or still rate-limited after the bounded retries. Nothing more this run."""


@dataclass(frozen=True)
class IssueRef:
    key: str  # PROJ-12 (Jira) or ENG-34 (Linear)
    url: str
    tracker_id: str = ""  # the tracker's internal id where it differs from the key


class Tracker(Protocol):
    name: str

    def find(self, theme_id: str) -> IssueRef | None: ...
    def create(self, theme_id: str, title: str, doc: Doc, replacing: str = "") -> IssueRef: ...
    def update(self, issue_key: str, doc: Doc) -> None: ...
    def comment(self, issue_key: str, doc: Doc) -> None: ...


@dataclass(frozen=True)
class SelectionPolicy:
    policy: str = TOP
    top_n: int = 5

    def __post_init__(self) -> None:
        if self.policy not in (TOP, CONFIRMED):
            raise ValueError(f"backlog selection must be {TOP!r} or {CONFIRMED!r}, not {self.policy!r}")
        if self.top_n < 1:
            raise ValueError("backlog top N must be at least 1")


@dataclass(frozen=True)
class Link:
    theme_id: str
    tracker: str
    issue_key: str
    issue_url: str
    created_at: datetime
    updated_at: datetime
    last_synced_week: date | None = None
    content_hash: str | None = None


@dataclass(frozen=True)
class IssueContent:
    theme_id: str
    rank: int
    title: str
    doc: Doc

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(json.dumps([self.title, self.doc], sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Action:
    key: str
    kind: str
    theme_id: str
    week: date
    title: str = ""
    doc: Doc = field(default_factory=list)
    issue_key: str | None = None  # the issue to act on; None: the theme's own issue
    relink: tuple[str, ...] = ()  # themes that point at `link_key` (or the created issue) once this succeeds
    link_key: str | None = None
    content_hash: str | None = None
    attempts: int = 0
    error: str = ""

    def to_record(self) -> dict[str, Any]:
        """A JSON-safe row for the outbox table."""
        return {**asdict(self), "week": self.week.isoformat(), "relink": list(self.relink)}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Action:
        week = record["week"]
        return cls(**{**record, "week": week if isinstance(week, date) else date.fromisoformat(str(week)),
                      "relink": tuple(record.get("relink") or ()), "doc": list(record.get("doc") or [])})


def span(text: str, url: str = "") -> Span:
    return {"text": text, "url": url} if url else {"text": text}


def paragraph(*spans: Span) -> dict[str, Any]:
    return {"type": "paragraph", "spans": list(spans)}


def heading(text: str) -> dict[str, Any]:
    return {"type": "heading", "text": text}


def bullets(items: Iterable[Sequence[Span]]) -> dict[str, Any]:
    return {"type": "bullets", "items": [list(item) for item in items]}


def _facts(theme: Mapping[str, Any], notes: Sequence[str]) -> list[list[Span]]:
    """The week's numbers about a theme, one bullet each."""
    weeks = ranked_weeks(theme)
    facts = [f"{theme['tickets']} tickets from {theme['customers']} customers" + (f" in {weeks} weeks" if weeks > 1 else "")
             + f" · rank {theme['rank']} · impact {float(theme.get('impact') or 0):.0f}"]
    wow = theme.get("wow_change")
    facts.append(f"Trend: {trend_in_words(theme.get('trend', 'unknown'))}"
                 + (f", {wow:+.0%} on {earlier_span(weeks)}" if wow is not None else ""))
    facts.append(" · ".join(str(v) for v in (f"Severity {theme.get('severity')}", theme.get("signal_type"),
                                             theme.get("product_area")) if v))
    if theme.get("owner"):
        facts.append(f"Owner: {theme['owner']}")
    if theme.get("paid_share") is not None:
        facts.append(f"Paid customers: {theme['paid_share']:.0%}")
    return [[span(text)] for text in [*facts, *notes]]


def _customer_items(customers: Sequence[Mapping[str, Any]], limit: int) -> list[list[Span]]:
    items = []
    for c in customers[:limit]:
        about = ", ".join(str(v) for v in (c.get("plan"), _money(c.get("monthly_revenue"))) if v)
        n = int(c["tickets"])
        items.append([span(f"{c['customer_id']}" + (f" ({about})" if about else "") + f": {n} ticket{'' if n == 1 else 's'}")])
    if len(customers) > limit:
        items.append([span(f"and {len(customers) - limit} more")])
    return items


def _money(value: Any) -> str:
    return f"{float(value):,.0f}/month" if isinstance(value, int | float) and value == value else ""


def issue_content(week: date, theme: Mapping[str, Any], customers: Sequence[Mapping[str, Any]] = (),
                  examples: Sequence[Mapping[str, str]] = (), notes: Sequence[str] = (), report_url: str = "",
                  customer_limit: int = 10) -> IssueContent:
    """The issue a theme gets: title from its backlog item (else its label), a description with
    the week's facts, `notes` (segments, docs, release, fix sentences), customers and examples.

    `theme`: a ranked_themes row (+ backlog_title, summary); `customers`: affected customers,
    richest first; `examples`: {id, text (redacted), url}.
    """
    title = str(theme.get("backlog_title") or theme["label"])
    doc: Doc = [paragraph(span(str(theme.get("summary") or theme["label"])))]
    doc += [heading(f"Week of {week.isoformat()}"), bullets(_facts(theme, notes))]
    if customers:
        doc += [heading("Customers"), bullets(_customer_items(customers, customer_limit))]
    if examples:
        doc += [heading("Example tickets"),
                bullets([[span(e["id"], e.get("url", "")), span(f": {_short(e.get('text', ''))}")] for e in examples])]
    links = [span("Weekly report", report_url), span(" · ")] if report_url else []
    doc.append(paragraph(*links, span(f"{MARKER} {theme['theme_id']}")))
    return IssueContent(str(theme["theme_id"]), int(theme["rank"]), title, doc)


def _short(text: str, limit: int = 240) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def to_markdown(doc: Doc) -> str:
    """The document as Markdown (Linear descriptions and comments; dry-run output). Its text, a
    customer's words among it, is escaped as the report's is: a ticket's `[Reset](https://…)` or
    `![pixel](…)` became a live link and a tracking image in a Linear issue."""
    def inline(spans: Sequence[Span]) -> str:
        return "".join(f"[{md_inline(s['text'])}]({s['url']})" if s.get("url") else md_inline(s["text"])
                       for s in spans)

    parts = []
    for block in doc:
        if block["type"] == "heading":
            parts.append(f"### {md_inline(block['text'])}")
        elif block["type"] == "paragraph":
            parts.append(inline(block["spans"]))
        else:
            parts.append("\n".join(f"- {inline(item)}" for item in block["items"]))
    return "\n\n".join(parts) + "\n"


def selected(contents: Sequence[IssueContent], review: ReviewState, policy: SelectionPolicy) -> set[str]:
    """The themes that should have an issue this week."""
    if policy.policy == TOP:
        return {c.theme_id for c in contents if c.rank <= policy.top_n}
    endorsed = review.endorsed()
    return {c.theme_id for c in contents if c.theme_id in endorsed}


def _issue_of(group: Sequence[str], links: Mapping[str, Link]) -> Link | None:
    """The group's one issue: the theme's own, else the oldest among the themes merged into it."""
    own = links.get(group[0])
    if own is not None:
        return own
    merged = [links[t] for t in group[1:] if t in links]
    return min(merged, key=lambda link: (link.created_at, link.issue_key)) if merged else None


def _theme_actions(week: date, content: IssueContent, review: ReviewState, links: Mapping[str, Link],
                   wanted: set[str]) -> list[Action]:
    """create or update, and the one-time comments moving a merged theme's other issues."""
    group = (content.theme_id, *review.merged_from(content.theme_id))
    issue = _issue_of(group, links)
    # Themes linked to another issue move with that issue's comment, so the comment is not lost.
    ours = tuple(t for t in group if t not in links or links[t].issue_key == (issue and issue.issue_key))
    base = {"theme_id": content.theme_id, "week": week, "title": content.title, "doc": content.doc,
            "content_hash": content.content_hash, "relink": ours}
    if issue is None:
        return [Action(f"{CREATE}|{content.theme_id}", CREATE, **base)] if content.theme_id in wanted else []
    actions = []
    if issue.content_hash != content.content_hash or any(t not in links for t in ours):
        actions.append(Action(f"{UPDATE}|{content.theme_id}", UPDATE,
                              **{**base, "issue_key": issue.issue_key, "link_key": issue.issue_key}))
    for t in group:
        other = links.get(t)
        if other is not None and other.issue_key != issue.issue_key:
            note = [paragraph(span(f"This theme was merged into {content.theme_id} ('{content.title}'), "
                                   f"tracked in {issue.issue_key}: "), span(issue.issue_key, issue.issue_url))]
            actions.append(Action(f"merged|{other.issue_key}", COMMENT, content.theme_id, week, doc=note,
                                  issue_key=other.issue_key, relink=(t,), link_key=issue.issue_key))
    return actions


def detach_shared(links: Mapping[str, Link], review: ReviewState) -> dict[str, Link]:
    """`links` without those of themes on another theme's issue that are no longer merged with it
    (a merge undone): the theme linked to the issue first keeps it."""
    owners: dict[str, str] = {}
    for link in sorted(links.values(), key=lambda link: (link.created_at, link.theme_id)):
        if review.canonical(link.theme_id) == link.theme_id:
            owners.setdefault(link.issue_key, link.theme_id)
    return {t: link for t, link in links.items()
            if review.canonical(t) != t or owners[link.issue_key] == t}


def _alert_actions(week: date, alerts: Iterable[Mapping[str, Any]], review: ReviewState, has_issue: set[str],
                   describe: Mapping[str, str]) -> list[Action]:
    """A comment per spike or regression of a theme that has (or is getting) an issue."""
    actions = []
    for alert in alerts:
        theme_id = review.canonical(str(alert["theme_id"]))
        if alert["kind"] in COMMENTED_ALERTS and theme_id in has_issue:
            text = describe.get(str(alert["alert_key"])) or f"{alert['kind']}: {alert.get('label')}"
            actions.append(Action(str(alert["alert_key"]), COMMENT, theme_id, week, doc=[paragraph(span(text))]))
    return actions


def plan(week: date, contents: Sequence[IssueContent], review: ReviewState, links: Mapping[str, Link],
         policy: SelectionPolicy, alerts: Iterable[Mapping[str, Any]] = (),
         describe: Mapping[str, str] | None = None, pending: Sequence[Action] = ()) -> list[Action]:
    """This week's actions, merged with the outbox (same key: the new content, the old attempts).

    `contents`: one per ranked theme of the week (canonical ids); `links`: theme_id -> Link;
    `alerts`: the week's alerts; `describe`: alert_key -> the sentence to post.
    """
    wanted = selected(contents, review, policy)
    actions: list[Action] = []
    for content in contents:
        actions += _theme_actions(week, content, review, links, wanted)
    with_issue = {a.theme_id for a in actions if a.kind == CREATE} | {review.canonical(t) for t in links}
    actions += _alert_actions(week, alerts, review, with_issue, describe or {})
    # A queued create or update of a theme merged since is superseded by its target's actions.
    merged = {a.key: a for a in pending if a.kind == COMMENT or review.canonical(a.theme_id) == a.theme_id}
    for action in actions:
        old = merged.get(action.key)
        merged[action.key] = replace(action, attempts=old.attempts, error=old.error) if old else action
    return sorted(merged.values(), key=lambda a: (KIND_ORDER[a.kind], a.week, a.key))


@dataclass
class SyncResult:
    links: dict[str, Link]  # every link after the run (new, moved and untouched ones)
    applied: list[Action]
    pending: list[Action]  # the outbox after the run
    error: str | None = None  # why the run stopped calling the tracker, if it did
    refused: list[Action] = field(default_factory=list)  # requests the tracker turned down this run


def _issue_for(action: Action, links: Mapping[str, Link], tracker: Tracker) -> IssueRef:
    """The issue an action acts on; a create makes it (or adopts one a crashed run made)."""
    if action.kind == CREATE:
        return tracker.find(action.theme_id) or tracker.create(action.theme_id, action.title, action.doc)
    key = action.issue_key or (links[action.theme_id].issue_key if action.theme_id in links else None)
    if key is None:
        raise TrackerRejected(f"theme {action.theme_id} has no issue yet (its create is pending)")
    return IssueRef(key, _url_of(key, links))


def _url_of(key: str, links: Mapping[str, Link]) -> str:
    return next((link.issue_url for link in links.values() if link.issue_key == key), "")


def _relink(action: Action, ref: IssueRef, links: dict[str, Link], tracker: str, now: datetime) -> None:
    """Point the action's themes at the issue it settled on; a description write records its week."""
    key = action.link_key or ref.key
    url = ref.url if key == ref.key and ref.url else _url_of(key, links)
    wrote = action.kind != COMMENT
    for theme_id in action.relink:
        old = links.get(theme_id)
        same = old is not None and old.issue_key == key
        links[theme_id] = Link(
            theme_id, tracker, key, url, old.created_at if same else now, now,
            action.week if wrote else (old.last_synced_week if same else None),
            action.content_hash if wrote else (old.content_hash if same else None))


def _apply_one(action: Action, tracker: Tracker, links: dict[str, Link], now: datetime) -> None:
    ref = _issue_for(action, links, tracker)
    try:
        if action.kind == UPDATE:
            tracker.update(ref.key, action.doc)
        elif action.kind == COMMENT:
            tracker.comment(ref.key, action.doc)
    except TrackerNotFound:
        if action.kind == UPDATE:  # deleted in the tracker: the theme gets an issue again
            ref = tracker.create(action.theme_id, action.title, action.doc, replacing=ref.key)
            action = replace(action, link_key=None)
        elif action.issue_key is None:  # an alert's comment on the theme's own issue
            raise
    _relink(action, ref, links, tracker.name, now)


def apply(actions: Sequence[Action], tracker: Tracker, links: Mapping[str, Link], now: datetime,
          record: Callable[[SyncResult], None] = lambda result: None) -> SyncResult:
    """Send the planned actions in order; what fails stays pending (see module doc). `record`
    stores the state after each applied action, so a run killed midway repeats none."""
    links = dict(links)
    applied: list[Action] = []
    pending: list[Action] = []
    refused: list[Action] = []
    error = None
    for i, action in enumerate(actions):
        if error is not None:
            pending.append(action)
            continue
        if action.kind == CREATE and action.theme_id in links:
            applied.append(action)  # an earlier run created it after this was queued
            continue
        try:
            _apply_one(action, tracker, links, now)
        except TrackerError as exc:
            failed = replace(action, attempts=action.attempts + 1, error=str(exc))
            pending.append(failed)
            if isinstance(exc, TrackerRejected):
                refused.append(failed)
            else:
                error = str(exc)
            continue
        applied.append(action)
        record(SyncResult(links, applied, [*pending, *actions[i + 1:]], error, refused))
    return SyncResult(links, applied, pending, error, refused)


def issue_key_of(action: Action, links: Mapping[str, Link]) -> str | None:
    """The issue the action acts on; None for the issue it creates, or one the plan creates before it."""
    return action.issue_key or (links[action.theme_id].issue_key if action.theme_id in links else None)


def action_summary(action: Action, links: Mapping[str, Link]) -> dict[str, Any]:
    """An action as `backlog sync --format json` lists it (the text it sends is in the plan)."""
    return {"kind": action.kind, "theme_id": action.theme_id, "issue_key": issue_key_of(action, links),
            "title": action.title or None, "attempts": action.attempts, "last_error": action.error or None}


def describe_action(action: Action, links: Mapping[str, Link], body: bool = True) -> str:
    """One line per action for `--dry-run`, then (`body`) the text it would send, indented."""
    target = issue_key_of(action, links) or ("new issue" if action.kind == CREATE else "its new issue")
    head = f"{action.kind:<7} {action.theme_id}  {target}"
    if action.kind != COMMENT:
        head += f"  '{action.title}'"
    if action.attempts:
        head += f"  (retry {action.attempts + 1}; last error: {action.error})"
    if not body:
        return head
    text = "\n".join("    " + line if line else "" for line in to_markdown(action.doc).splitlines())
    return f"{head}\n{text}"


def format_plan(actions: Sequence[Action], links: Mapping[str, Link], bodies: bool = True) -> str:
    """What a run would change, for `--dry-run`; without `bodies` (the Dagster event log, kept for ever
    out of reach of retention and erasure) one line per action, no issue text (quotes, example ids)."""
    if not actions:
        return "backlog: nothing to change"
    counts = ", ".join(f"{sum(a.kind == k for a in actions)} {k}" for k in KIND_ORDER)
    return (f"backlog: {counts}\n\n" + ("\n\n" if bodies else "\n").join(describe_action(a, links, bodies)
                                                                        for a in actions) + "\n")


# --- stored state: links and the outbox as table rows ----------------------------------------

def links_from_records(records: Iterable[Mapping[str, Any]]) -> dict[str, Link]:
    """theme_id -> Link from `ops.backlog_links` rows."""
    fields = Link.__dataclass_fields__
    return {str(r["theme_id"]): Link(**{k: (None if _missing(r[k]) else r[k]) for k in fields}) for r in records}


def link_records(links: Mapping[str, Link]) -> list[dict[str, Any]]:
    return [asdict(link) for _, link in sorted(links.items())]


def actions_from_records(records: Iterable[Mapping[str, Any]]) -> list[Action]:
    """The outbox's actions (`action`: the JSON of `Action.to_record`), with their attempts and error."""
    return [replace(Action.from_record(json.loads(r["action"])), attempts=int(r["attempts"]), error=r["error"] or "")
            for r in records]


def outbox_records(actions: Sequence[Action], tracker: str, now: datetime) -> list[dict[str, Any]]:
    return [{"tracker": tracker, "key": a.key, "kind": a.kind, "theme_id": a.theme_id, "week": a.week,
             "action": json.dumps(a.to_record(), sort_keys=True), "attempts": a.attempts, "error": a.error or None,
             "updated_at": now} for a in actions]


def comment_records(result: SyncResult, tracker: str, now: datetime) -> list[dict[str, Any]]:
    """The comments a run posted, so a re-run of the week does not post them again."""
    return [{"tracker": tracker, "key": a.key, "issue_key": a.issue_key or _key_of(a.theme_id, result.links),
             "theme_id": a.theme_id, "week": a.week, "sent_at": now} for a in result.applied if a.kind == COMMENT]


def _key_of(theme_id: str, links: Mapping[str, Link]) -> str | None:
    return links[theme_id].issue_key if theme_id in links else None


def last_synced(links: Mapping[str, Link]) -> date | None:
    """The newest week any issue's description was written for."""
    weeks = [link.last_synced_week for link in links.values() if link.last_synced_week is not None]
    return max(weeks) if weeks else None


def _missing(value: Any) -> bool:
    """None, or a float or time NaN from a table read (NaN is the one value unequal to itself)."""
    return value is None or bool(value != value)
