"""Human review of themes (rename, confirm, merge, not-a-theme, fixed, assign, undo) as an append-only log.

Decisions are keyed by stable theme ids, so they survive re-clustering: the next run's
theme with the same id inherits its name, merge and status. A confirmation records the label
shown when it was given, and pins it as a rename pins its name (`ReviewState.status` says when
the theme's tickets no longer hold it). `undo` cancels one earlier
decision; the log itself is never rewritten, so who decided what stays auditable.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd

ACTIONS = ("rename", "confirm", "merge", "not-a-theme", "fixed", "assign", "undo")
UNREVIEWED = "unreviewed"  # the status of a theme no standing decision names (`ReviewState.status`)


@dataclass
class ReviewState:
    labels: dict[str, str] = field(default_factory=dict)
    confirmed: dict[str, str] = field(default_factory=dict)  # theme -> the label it was confirmed as ("" unrecorded)
    not_a_theme: set[str] = field(default_factory=set)
    merged_into: dict[str, str] = field(default_factory=dict)
    fixed_in: dict[str, str] = field(default_factory=dict)  # theme -> release version of its fix
    owners: dict[str, str] = field(default_factory=dict)  # theme -> who owns it (`assign --owner`)
    areas: dict[str, str] = field(default_factory=dict)  # theme -> product area a reviewer set (`assign --area`)

    def canonical(self, theme_id: str) -> str:
        """Follow merges (A -> B -> C) to the theme that absorbs `theme_id`."""
        seen = set()
        while theme_id in self.merged_into and theme_id not in seen:
            seen.add(theme_id)
            theme_id = self.merged_into[theme_id]
        return theme_id

    def status(self, theme_id: str, label: str | None = None) -> str:
        """Every standing decision on the theme, e.g. "confirmed; merged from T2" (one status hid the
        merge a confirmed twcs theme absorbed). `label`, the one shown, tells a confirmation that no
        longer holds its label: "confirmed as 'Flight · luggage'; now reads 'Flight · gate'"."""
        merged = self.merged_from(theme_id)
        parts = [f"merged into {self.canonical(theme_id)}" if theme_id in self.merged_into else "",
                 "not-a-theme" if theme_id in self.not_a_theme else "",
                 f"fixed in {self.fixed_in[theme_id]}" if theme_id in self.fixed_in else "",
                 self._confirmation(theme_id, label), "renamed" if theme_id in self.labels else "",
                 f"owner {self.owners[theme_id]}" if theme_id in self.owners else "",
                 f"area {self.areas[theme_id]}" if theme_id in self.areas else "",
                 f"merged from {', '.join(merged)}" if merged else ""]  # a reviewer's decision holds its tickets too
        return "; ".join(p for p in parts if p) or UNREVIEWED

    def _confirmation(self, theme_id: str, label: str | None) -> str:
        if theme_id not in self.confirmed:
            return ""
        given = self.confirmed[theme_id]
        moved = given and label and theme_id not in self.labels and label.lower() != given.lower()
        return f"confirmed as '{given}'; now reads '{label}'" if moved else "confirmed"

    def endorsed(self) -> set[str]:
        """The themes a reviewer kept as real: confirmed, named or merged another into (followed to
        where merges lead), less those dismissed. Naming or merging is as deliberate a review as
        confirming, so `TICKET_INTEL_BACKLOG_SELECT=confirmed` selects all of them."""
        kept = {self.canonical(t) for t in (*self.confirmed, *self.labels, *self.merged_into)}
        return kept - self.not_a_theme

    def merged_from(self, theme_id: str) -> list[str]:
        return sorted(t for t in self.merged_into if self.canonical(t) == theme_id)

    def fix_of(self, theme_id: str) -> str | None:
        """The release that fixed `theme_id`, or one of the themes merged into it (the latest marked)."""
        return self._own_or_merged(self.fixed_in, theme_id)

    def owner_of(self, theme_id: str) -> str | None:
        """Who owns `theme_id`: its own assignment, else the latest of the themes merged into it."""
        return self._own_or_merged(self.owners, theme_id)

    def area_of(self, theme_id: str) -> str | None:
        """The product area a reviewer gave `theme_id` (or a theme merged into it), over the taxonomy's."""
        return self._own_or_merged(self.areas, theme_id)

    def _own_or_merged(self, decided: dict[str, str], theme_id: str) -> str | None:
        """`decided`'s value for the theme, else for the latest decided of the themes merged into it
        (a merge carries the absorbed theme's decisions to its target, as it carries its tickets)."""
        if theme_id in decided:
            return decided[theme_id]
        return next((decided[t] for t in reversed(list(decided)) if self.canonical(t) == theme_id), None)


def assignment_value(owner: str | None, area: str | None) -> str:
    """An `assign` decision's value as the log stores it: the fields it sets, as JSON."""
    return json.dumps({k: v.strip() for k, v in (("owner", owner), ("area", area)) if v and v.strip()},
                      ensure_ascii=False)


def assignment_text(value: str) -> str:
    """An `assign` decision's value as said: "owner Dana and area Transfers"."""
    return " and ".join(f"{k} {v}" for k, v in json.loads(value).items())


def with_assignments(frame: pd.DataFrame, state: ReviewState) -> pd.DataFrame:
    """A themes frame with each theme's `owner` and the reviewer's `product_area` over the taxonomy's,
    said by `product_area_source` ("review" or "taxonomy"): shown as decided, before any apply."""
    ids = frame["theme_id"].tolist()
    areas = [state.area_of(t) for t in ids]
    return frame.assign(owner=[state.owner_of(t) for t in ids],
                        product_area=[a or old for a, old in zip(areas, frame["product_area"], strict=True)],
                        product_area_source=["review" if a else "taxonomy" for a in areas])


def canonical_themes(frame: pd.DataFrame, state: ReviewState) -> pd.DataFrame:
    """A copy of `frame` whose `theme_id` follows reviewer merges (outliers stay None).

    Every stage that counts tickets per theme reads the window through this, so a merge counts
    the absorbed theme's tickets under its target everywhere: summary, ranking, alerts, report.
    """
    out = frame.copy()
    for column in ("theme_id", "series_theme_id"):
        if column in out:
            out[column] = [state.canonical(t) if isinstance(t, str) else None for t in out[column]]
    return out


def standing(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The decisions of the log that stand, oldest first: neither an undo nor undone.

    Undo only reaches back, so walking the log newest first tells which decisions stand: an
    undo that was itself undone cancels nothing.
    """
    rows = sorted(rows, key=lambda r: r["review_id"])
    cancelled: set[int] = set()
    for r in reversed(rows):
        if r["action"] == "undo" and r["review_id"] not in cancelled and str(r.get("value") or "").isdigit():
            cancelled.add(int(r["value"]))
    return [r for r in rows if r["review_id"] not in cancelled and r["action"] != "undo"]


def waiting(rows: Iterable[Mapping[str, Any]], held: set[str]) -> list[Mapping[str, Any]]:
    """The standing decisions naming a theme no clustered week holds (`held`): history changed (an
    export pruned). Ids are never issued to another theme, so each applies again if its theme comes back."""
    return [r for r in standing(rows) if {r["theme_id"], r.get("target_theme_id")} - {None} - held]


def split_from_reviewed(rows: Iterable[Mapping[str, Any]], splits: pd.DataFrame) -> list[str]:
    """Each split of a theme with a standing decision into one without, said: the decision stays
    with the old id, and the piece's tickets go unreviewed (re-clustered, 8 of a renamed theme's 14
    tickets became a new, unreviewed #1, and nothing said so)."""
    state = review_state(rows)
    latest = splits.drop_duplicates("theme_id", keep="last")  # a piece split again later is said once
    return [f"{s.theme_id} split from {s.origin} ({state.status(s.origin)}) in week {s.week_start:%Y-%m-%d}: "
            f"{s.detail}; its tickets are unreviewed, the decision stays with {s.origin}"
            for s in latest.itertuples() if state.status(s.origin) != UNREVIEWED and state.status(s.theme_id) == UNREVIEWED]


def strayed_from_reviewed(rows: Iterable[Mapping[str, Any]], placed: pd.DataFrame, minimum: int) -> list[str]:
    """Each reviewed theme that kept its id while `minimum` (a theme's worth) or more of the tickets
    it was first clustered with (`placed`: theme_id, ticket_id, `now`, ranked) went to themes too small
    to rank or to none, said: the decision stays with the id and does not reach them. Re-clustered with
    another seed, a dismissed twcs theme kept 12 of those 20 tickets, 8 went to two unranked pieces,
    and nothing said so; a ranked piece is said by `split_from_reviewed`."""
    state, lines = review_state(rows), []
    for theme, group in placed.groupby("theme_id", sort=True):
        gone, kept = group[(group["now"] != theme) & ~group["ranked"].fillna(False).astype(bool)], (group["now"] == theme).sum()
        if state.status(theme) == UNREVIEWED or len(gone) < minimum or not kept:
            continue
        where = ", ".join(f"{t} {n}" for t, n in gone["now"].fillna("no theme").value_counts().sort_index().items())
        lines.append(f"{theme} ({state.status(theme)}) holds {kept} of the {len(group)} tickets "
                     f"it was first clustered with that the window still holds; {len(gone)} went to themes too "
                     f"small to rank or none ({where}): the decision stays with {theme} and does not reach them")
    return lines


def review_state(rows: Iterable[Mapping[str, Any]]) -> ReviewState:
    """Fold the review log into the current decisions (`standing`). A merge that would close a cycle is ignored."""
    state = ReviewState()
    for r in standing(rows):
        theme = r["theme_id"]
        if r["action"] == "rename":
            state.labels[theme] = r["value"]
        elif r["action"] == "confirm":
            state.confirmed[theme] = r.get("value") or ""
        elif r["action"] == "not-a-theme":
            state.not_a_theme.add(theme)
        elif r["action"] == "fixed":
            state.fixed_in.pop(theme, None)  # re-marking moves the theme to the end: the latest fix
            state.fixed_in[theme] = r["value"]
        elif r["action"] == "assign":
            fields = {"owner": state.owners, "area": state.areas}
            for key, decided in json.loads(r["value"]).items():  # each assign sets the fields it names
                fields[key].pop(theme, None)  # the latest assignment last, as a re-marked fix
                fields[key][theme] = decided
        elif r["action"] == "merge" and r.get("target_theme_id") and state.canonical(r["target_theme_id"]) != theme:
            state.merged_into[theme] = r["target_theme_id"]
    return state


def review_changes(before: pd.DataFrame, after: pd.DataFrame, theme_ids: Iterable[str]) -> list[str]:
    """What a decision changed in a week's ranking, one line per theme involved (rank, label,
    tickets, product area), e.g. `T1: rank 4 -> 2, 12 -> 30 tickets, area Unassigned -> Transfers`."""
    old = before.set_index("theme_id") if len(before) else pd.DataFrame()
    new = after.set_index("theme_id") if len(after) else pd.DataFrame()
    lines = []
    for theme in dict.fromkeys(theme_ids):
        if theme not in old.index and theme not in new.index:
            continue
        if theme not in new.index:
            lines.append(f"{theme} is no longer ranked")
            continue
        if theme not in old.index:
            lines.append(f"{theme} is now ranked #{new.at[theme, 'rank']} ({new.at[theme, 'label']})")
            continue
        diffs = [f"{field} {old.at[theme, col]!s} -> {new.at[theme, col]!s}" if field else
                 f"{old.at[theme, col]!s} -> {new.at[theme, col]!s} tickets"
                 for field, col in (("rank", "rank"), ("label", "label"), ("", "tickets"), ("area", "product_area"))
                 if col in old and col in new and old.at[theme, col] != new.at[theme, col]]
        lines.append(f"{theme}: {', '.join(diffs) or 'unchanged'}")
    return lines


def validate_action(action: str, value: str | None, target: str | None, theme_id: str | None = None,
                    state: ReviewState | None = None) -> None:
    """Reject a decision that cannot be applied, before it is written to the log."""
    if action not in ACTIONS:
        raise ValueError(f"unknown review action {action!r}; expected one of {', '.join(ACTIONS)}")
    if action == "rename" and not (value and value.strip()):
        raise ValueError("rename needs a new name")
    if action == "fixed" and not (value and value.strip()):
        raise ValueError("fixed needs the release that fixed it: --release VERSION")
    if action == "assign" and not json.loads(value or "{}"):
        raise ValueError("assign needs --owner NAME or --area AREA")
    if action == "merge" and not target:
        raise ValueError("merge needs the theme to merge into")
    if action == "merge" and target == theme_id:
        raise ValueError(f"a theme cannot be merged into itself ({theme_id})")
    if action == "merge" and target and theme_id and state is not None and state.canonical(target) == theme_id:
        raise ValueError(f"{target} is already merged into {theme_id}; merging back would make a cycle")
    if action == "undo" and not (value and value.isdigit()):
        raise ValueError("undo needs the review id to cancel")


def weeks_to_update(span: tuple[date, date], window_weeks: int) -> tuple[date, date]:
    """Of the weeks holding the reviewed themes (`span`), those a decision updates at once: the last
    window of them, which the latest report's trends and charts show. Updating every week made a
    decision's wait grow with the warehouse's history (a minute for 10 weeks of 2,000 tickets);
    `ticket-intel review apply` brings the older weeks up to date in one run."""
    first, last = span
    return max(first, last - timedelta(weeks=window_weeks - 1)), last


def reviews_version(rows: list[dict]) -> str:
    """A version of the review log: it changes with every decision, so what was made before one shows as stale."""
    payload = "|".join(f"{r['review_id']}:{r['action']}:{r['theme_id']}:{r['value']}:{r['target_theme_id']}" for r in rows)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
