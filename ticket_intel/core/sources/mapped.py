"""Any table (CSV, JSONL, JSON array, Parquet) through a YAML column mapping.

A mapping says which columns identify its files, which rows count at all (`filter`, `bots`),
which rows are the company's (`agents`, and its internal notes: `private`), how rows form
conversations (`thread`), which column (or `{column}` template, or constant) fills each canonical
field, and what its status values mean (`statuses`). A JSON record's column is its own field or,
inside an object, that field's dotted path (`customer.email`: `flattened`). Every row becomes a message;
core/sources/threads.py turns each conversation into one ticket from its first customer message.
Rows that are not tickets (excluded rows, bots' rows, company replies, follow-ups) are counted as
skipped, per kind (`base.SKIPPED_KINDS`), never rejected: a company's reply tweet is not a bad ticket.
The format is documented in docs/sources.md; ready mappings ship in `ticket_intel/mappings/`.
"""

from __future__ import annotations

import re
import string
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from ticket_intel.core.sources.base import (
    EXPORT_SUFFIXES,
    STATUSES,
    FileError,
    ParseResult,
    RecordError,
    id_or_none,
    make_ticket,
    records,
    skipped_kind,
    text_or_none,
)
from ticket_intel.core.sources.threads import Message, Pending
from ticket_intel.core.yaml_text import load_yaml, problems

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "mappings"
FIELDS = ("ticket_id", "created_at", "message", "subject", "customer_id", "account_id", "plan",
          "monthly_revenue", "channel", "tags", "priority", "status", "product")  # fmt: skip
REQUIRED = ("ticket_id", "created_at", "message")
REPLY = "reply"  # a column holding the company's answer in the customer's own row (a question/answer export)
DATED_BY_CONSTANT = ("created_at",)  # an undated dump can be placed in the week of its export
BUILT_IN = ("file", "file_undated", "record")  # template fields filled from where a row is, not from its columns
# A date or ISO-week stamp in a file name (2022-01-03, 20220103, 2022-01, 2022-W01, 2022W01-1, with a
# time after a T): when the file was exported, never what it holds. A bare year is no stamp ("office_2019").
_STAMP = re.compile(r"""[-_. ]*(?<![A-Za-z0-9])(?:19|20)\d{2}
    (?:[-_.]?W\d{2}(?:[-_.]?[1-7])? | ([-_.]?)(?:0[1-9]|1[0-2])(?:\1(?:0[1-9]|[12]\d|3[01]))?)
    (?:T\d{2}(?:[-_:.]?\d{2}){0,2})?(?![A-Za-z0-9])""", re.VERBOSE | re.IGNORECASE)
_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")
_LAST_NUMBER = re.compile(r"(\d+)\D*$")
SHOWN_VALUES = 8  # distinct values of a column a warning lists
SHOWN_COLUMNS = 40  # columns an error lists


def _folded(value: Any) -> str:
    return str(value).strip().lower()


class RowRule(BaseModel):
    """Rows whose `column` holds one of `values` (compared as trimmed, case-insensitive text)."""

    model_config = ConfigDict(extra="forbid")
    column: str
    values: list[Any]
    _allowed: dict[str, Any] = PrivateAttr(default_factory=dict)  # folded -> as the mapping writes it

    def model_post_init(self, context: Any) -> None:
        self._allowed = {_folded(v): v for v in self.values}

    def matches(self, row: dict[str, Any]) -> bool:
        return self.matched(row) is not None

    def matched(self, row: dict[str, Any]) -> Any:
        """The value of `values` the row holds, as the mapping writes it (None: none): one name for
        a bot whatever case each row spells it in."""
        return self._allowed.get(_folded(row.get(self.column)))

    def unmatched(self, seen: Counter[str]) -> list[Any]:
        """The values no row held, of `seen` (a column's folded values and their counts)."""
        return [v for v in self.values if _folded(v) not in seen]


class Thread(BaseModel):
    """How rows form conversations: reply links (`reply_to`) or a conversation id column."""

    model_config = ConfigDict(extra="forbid")
    reply_to: str | None = Field(None, description="column with the id of the message this row answers")
    conversation_id: str | None = Field(None, description="column naming the row's conversation")

    @model_validator(mode="after")
    def _exactly_one(self) -> Thread:
        if (self.reply_to is None) == (self.conversation_id is None):
            raise ValueError("thread needs exactly one of reply_to or conversation_id")
        return self

    def columns(self) -> list[str]:
        return [c for c in (self.reply_to, self.conversation_id) if c]


def at_path(record: dict[str, Any], path: str) -> Any:
    """The value at a dotted path inside a JSON object (`_embedded.threads`), None when it has none;
    its own key that holds the dot wins, as in `flattened`."""
    if path in record or "." not in path:
        return record.get(path)
    head, rest = path.split(".", 1)
    inner = record.get(head)
    return at_path(inner, rest) if isinstance(inner, dict) else None


def _without(record: dict[str, Any], path: str) -> dict[str, Any]:
    """A JSON object less the value at a dotted path that `at_path` found."""
    if path in record or "." not in path:
        return {k: v for k, v in record.items() if k != path}
    head, rest = path.split(".", 1)
    return {**record, head: _without(record[head], rest)}


class Records(BaseModel):
    """Rows that are a list inside each JSON record (a Help Scout conversation's `threads`, or its
    `_embedded.threads` as the API embeds them: `key` is a key or a dotted path), each holding its
    record's other fields as an object named `parent`, so read by their paths (`conversation.subject`);
    a row's own field of that name wins."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(description="the record's key (or dotted path) holding the list of rows")
    parent: str = Field("parent", description="the name a row reads its record's other fields by")

    def rows(self, records: Sequence[Any], locators: Sequence[str]
             ) -> tuple[list[Any], list[str], list[dict[str, Any]]]:
        """The rows of `records` with their locators (`line 3 threads[0]`), and the records without
        such a list as rejected rows; a value that is no object is left for the reader to reject."""
        rows, at, bad = [], [], []
        for record, locator in zip(records, locators, strict=True):
            if not isinstance(record, dict):
                rows.append(record)
                at.append(locator)
            elif not isinstance(items := at_path(record, self.key), list):
                bad.append({"locator": locator, "record": record, "reason": f"no list of records in {self.key!r}"})
            else:
                parent = _without(record, self.key)
                rows += [{self.parent: parent, **item} if isinstance(item, dict) else item for item in items]
                at += [f"{locator} {self.key}[{i}]" for i in range(len(items))]
        return rows, at, bad

    def number(self, locator: str) -> str | None:
        """`{record}` of a row of a record's list: the record's number and the row's index
        (`line 3 threads[1]` -> `3-1`; the index alone gave every record's first row one id); None
        for a locator of no such row."""
        found = re.fullmatch(rf"(.*) {re.escape(self.key)}\[(\d+)\]", locator)
        return f"{_record_number(found.group(1))}-{found.group(2)}" if found else None


class Mapping(BaseModel):
    """One YAML mapping file (see docs/sources.md)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str = ""
    source: str = Field(pattern=r"^[a-z0-9_]+$")
    detect: list[str] = Field(min_length=1, description="columns that must all be present")
    columns: dict[str, str]
    created_at_format: str | None = None
    tags_separator: str = Field(",", min_length=1, description="how the tags column separates tags (' ': by spaces)")
    constants: dict[str, Any] = Field(default_factory=dict, description="a fixed value per canonical field")
    filter: dict[str, list[Any]] = Field(default_factory=dict)
    bots: RowRule | None = None
    agents: RowRule | None = Field(None, description="rows written by the company: replies, not tickets")
    private: RowRule | None = Field(None, description="the company's internal notes: private replies (is_public "
                                                      "false), never in the knowledge base")
    statuses: dict[str, str] = Field(default_factory=dict, description="the export's status values, each as "
                                                                       "the status it means (STATUSES)")
    thread: Thread | None = None
    records: Records | None = Field(None, description="JSON records whose rows are a list inside each")
    product_from_mentions: bool = Field(False, description="product = the brand the first message is addressed to")
    path: str = ""
    _filters: list[RowRule] = PrivateAttr(default_factory=list)

    def model_post_init(self, context: Any) -> None:
        self._filters = [RowRule(column=c, values=v) for c, v in self.filter.items()]

    def left_out(self, row: dict[str, Any]) -> str | None:
        """Why a row counts not at all, as its `skipped_kind` (a filter's, or a bot's by its name);
        None for a row that counts."""
        if not all(f.matches(row) for f in self._filters):
            return "filtered"
        bot = self.bots.matched(row) if self.bots else None
        return None if bot is None else skipped_kind("bot", bot)

    def checked_rules(self) -> list[tuple[str, RowRule]]:
        """The rules whose values should each match some row of a file, by key: a value no row holds
        is a typo (`users` for `user`) that turns every reply into a follow-up, or drops them all.
        Not `bots` (a bot writes in some files only) nor `private` (a day without notes)."""
        return [*(("filter", f) for f in self._filters), *((("agents", self.agents),) if self.agents else ())]

    def status(self, value: Any) -> Any:
        """A row's status as the status it means, by `statuses` (trimmed, case-insensitive); others as written."""
        return self.statuses.get(_folded(value), value) if self.statuses and value is not None else value

    @field_validator("statuses")
    @classmethod
    def _known_statuses(cls, statuses: dict[str, str]) -> dict[str, str]:
        unknown = sorted({v for v in statuses.values() if _folded(v) not in STATUSES})
        if unknown:
            raise ValueError(f"statuses must translate to statuses this reads, not {unknown}; use {sorted(STATUSES)}")
        return {_folded(k): _folded(v) for k, v in statuses.items()}

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, columns: dict[str, str]) -> dict[str, str]:
        unknown = set(columns) - {*FIELDS, REPLY}
        if unknown:
            raise ValueError(f"unknown canonical fields {sorted(unknown)}; use {[*FIELDS, REPLY]}")
        missing = set(REQUIRED) - set(DATED_BY_CONSTANT) - set(columns)
        if missing:
            raise ValueError(f"columns must map {sorted(missing)}")
        return columns

    @model_validator(mode="after")
    def _one_source_per_field(self) -> Mapping:
        fixed = set(REQUIRED) - set(DATED_BY_CONSTANT)
        if set(self.constants) - set(FIELDS) or set(self.constants) & {*fixed, *self.columns}:
            raise ValueError(f"constants must be canonical fields not mapped in columns (and not {sorted(fixed)})")
        if not {*DATED_BY_CONSTANT} & {*self.columns, *self.constants}:
            raise ValueError("created_at must be mapped in columns, or be a constant (an undated export's date)")
        if self.product_from_mentions and "product" in {*self.columns, *self.constants}:
            raise ValueError("product_from_mentions and a product column/constant exclude each other")
        return self

    def matches(self, columns: Iterable[str]) -> bool:
        return set(self.detect) <= set(columns)


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the file and the problem."""


def load_mappings(*dirs: str | Path | None) -> list[Mapping]:
    """Mappings from the given folders (user folders first, so they win) and the shipped ones."""
    mappings: list[Mapping] = []
    for folder in [*(d for d in dirs if d), SHIPPED_DIR]:
        folder = Path(folder)
        if not folder.is_dir():
            raise MappingError(f"mappings folder not found: {folder}")
        for path in sorted(folder.glob("*.y*ml")):
            mappings.append(load_mapping(path))
    return mappings


def load_mapping(path: Path) -> Mapping:
    name = f"mapping {path.name}"
    try:
        doc = load_yaml(path.read_text(encoding="utf-8"), name)
    except ValueError as exc:  # named by file, line and column
        raise MappingError(str(exc)) from exc
    try:
        return Mapping.model_validate({**(doc or {}), "path": str(path)})
    except ValidationError as exc:
        raise MappingError(f"{name}: {problems(exc)}") from exc
    except TypeError as exc:
        raise MappingError(f"{name}: {exc}") from exc


def find_mapping(columns: Sequence[str], mappings: Sequence[Mapping]) -> Mapping | None:
    return next((m for m in mappings if m.matches(columns)), None)


def _value(spec: str, row: dict[str, Any], stem: str, locator: str, records: Records | None = None) -> Any:
    """A column's value, or a template such as `{file}#{number}` filled from the row; `{file}` and
    `{record}` (the record's line, row or index in its file, and the row's index in the record's
    list of `records`) give an id to an export without one, and `{file_undated}` names what a dated
    weekly export is an export of (`undated`)."""
    if "{" not in spec:
        return row.get(spec)
    names = [f for _, f, _, _ in string.Formatter().parse(spec) if f and f not in BUILT_IN]
    values = {n: ("" if text_or_none(row.get(n)) is None else row.get(n)) for n in names}
    if names and all(v == "" for v in values.values()):
        return None
    number = (records and records.number(locator)) or _record_number(locator)
    return spec.format(file=stem, file_undated=undated(stem), record=number, **values)


def _record_number(locator: str) -> str:
    """`line 12` -> `12`, `row 3` -> `3`, `tickets[4]` -> `4` (a row of a record's list: `Records.number`)."""
    found = _LAST_NUMBER.search(locator)
    return found.group(1) if found else locator


def undated(stem: str) -> str:
    """A file stem without its date or week stamps: `pt_2022-W01` -> `pt`, `2022-01-03_zendesk` ->
    `zendesk`; a stem that is nothing but a stamp stays as it is. Weekly exports named by date were
    each their own product through `{file}`, so no theme id carried over from one week to the next."""
    return _STAMP.sub("", stem).strip("-_. ") or stem


def file_stem(file_name: str) -> str:
    """The file name without its export suffixes: `vercel_next.js.csv.gz` -> `vercel_next.js`."""
    stem = Path(file_name).name
    while (suffix := Path(stem).suffix.lower()) in EXPORT_SUFFIXES and suffix:
        stem = stem[: -len(suffix)]
    return stem


def _missing_columns(mapping: Mapping, columns: Iterable[str]) -> list[str]:
    """The columns the mapping reads (fields, templates, thread links and every row rule) not among `columns`."""
    specs = list(mapping.columns.values())
    needed = [s for s in specs if "{" not in s] + [f for s in specs if "{" in s for f in _TEMPLATE_FIELD.findall(s)]
    needed += mapping.thread.columns() if mapping.thread else []
    needed += [rule.column for rule in (mapping.agents, mapping.private, mapping.bots) if rule] + list(mapping.filter)
    columns = set(columns)
    return sorted({c for c in needed if c not in BUILT_IN and c not in columns})


def flattened(objects: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """JSON records as a table whose columns are their fields, a field inside an object named by its
    dotted path (pandas' json_normalize: `{"customer": {"email": …}}` -> `customer.email`; a list
    stays one value). A record's own key that holds a dot wins over the path it spells."""
    frame = pd.json_normalize(list(objects))
    for column in {k for r in objects for k in r if "." in k}:
        frame[column] = [r.get(column, nested) for r, nested in zip(objects, frame[column], strict=True)]
    return frame


def _lacks(mapping: Mapping, missing: list[str], columns: Sequence[str]) -> str:
    """A file's error when it lacks columns the mapping reads: which, and the columns it has. A name
    that is an object of JSON records is read by the fields inside it, each by its path."""
    inside = {m: [c for c in columns if c.startswith(f"{m}.")] for m in missing}
    objects = [m for m, fields in inside.items() if fields]
    flat = (f" ({', '.join(objects)}: an object; name a field inside it by its path, "
            f"{inside[objects[0]][0]})") if objects else ""
    shown = list(columns)[:SHOWN_COLUMNS]
    more = f" and {len(columns) - len(shown)} more" if len(columns) > len(shown) else ""
    return f"mapping {mapping.name}: file lacks columns {missing}{flat}; its columns are {shown}{more}"


@dataclass
class FileReader:
    """One file's chunks read with one mapping (`parse` each), and what the whole file showed.
    JSON records (`sparse`) leave out a field they have no value for, so a chunk may lack a column,
    but a column no record of the file holds is a typo, refused as a table's is (`finish`)."""

    mapping: Mapping
    file_name: str
    sparse: bool = False
    columns: dict[str, None] = field(default_factory=dict)  # in the order first seen
    values: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def __call__(self, frame: pd.DataFrame, locators: Sequence[str]) -> ParseResult:
        self.columns.update(dict.fromkeys(map(str, frame.columns)))
        for _, rule in self.mapping.checked_rules():
            if rule.column in frame:
                self.values[rule.column].update(frame[rule.column].map(_folded))
        return parse(self.mapping, frame, locators, self.file_name, self.sparse)

    def finish(self) -> list[str]:
        """Warnings on the whole file: each rule value that matched no row, with the values its column
        held. Raises FileError when no record held a column the mapping reads (none when no row was read:
        each record was rejected, as lacking the mapping's `records` list)."""
        if self.columns and (missing := _missing_columns(self.mapping, self.columns)):
            raise FileError(_lacks(self.mapping, missing, list(self.columns)))
        return [f"mapping {self.mapping.name}: {key} value {value!r} matches no row "
                f"({rule.column} holds {_said(self.values[rule.column])})"
                for key, rule in self.mapping.checked_rules() for value in rule.unmatched(self.values[rule.column])]


def _said(values: Counter[str]) -> str:
    """A column's most common values with their counts: "user 70, customer 60"."""
    shown = [f"{v[:40]} {n}" for v, n in values.most_common(SHOWN_VALUES)]
    return ", ".join(shown) + (f" and {len(values) - SHOWN_VALUES} other values" if len(values) > SHOWN_VALUES else "")


def parse(mapping: Mapping, frame: pd.DataFrame, locators: Sequence[str], file_name: str,
          sparse: bool = False) -> ParseResult:
    """Every row the mapping keeps becomes a message (customer rows validated into tickets, bad ones
    rejected); excluded rows are skipped. Conversations are assembled later (`threads.resolve`).
    A column the mapping reads must be in a table's header; `sparse` rows (JSON records) leave out a
    field they have no value for, so a chunk without it has it empty (a field first seen in a JSONL file's second
    chunk lost the whole file; `FileReader.finish` refuses one no record holds), and a row without a
    required value is rejected as any other."""
    result = ParseResult(mapping.source, pending=Pending(mapping))
    if (missing := _missing_columns(mapping, list(frame.columns))) and not sparse:
        raise FileError(_lacks(mapping, missing, [str(c) for c in frame.columns]))
    if missing:  # assign() copies the chunk even with nothing to add
        frame = frame.assign(**dict.fromkeys(missing))
    stem = file_stem(file_name)
    for locator, row in zip(locators, records(frame), strict=True):
        if (kind := mapping.left_out(row)) is not None:
            result.skipped[kind] += 1
            continue
        fields = {**mapping.constants,
                  **{f: _value(spec, row, stem, locator, mapping.records) for f, spec in mapping.columns.items()}}
        answer = fields.pop(REPLY, None)
        is_private = bool(mapping.private and mapping.private.matches(row))
        is_agent = is_private or bool(mapping.agents and mapping.agents.matches(row))
        ticket = None
        if not is_agent:
            try:
                ticket = {**_ticket(mapping, fields, row), "locator": locator}
            except RecordError as exc:
                result.reject(locator, row, str(exc))
        message = _message(mapping, row, fields, is_agent, ticket, locator, is_public=not is_private)
        result.pending.messages.append(message)
        if ticket is not None and text_or_none(answer) is not None:
            result.pending.messages.append(replace(message, key=f"{message.key}#reply", parent=message.key,
                                                   is_agent=True, author=None, text=answer, ticket=None, in_row=True))
    return result


def _created(mapping: Mapping, value: Any) -> Any:
    """A row's time, read with the mapping's strptime format when it has one."""
    if mapping.created_at_format and isinstance(value, str) and value.strip():
        try:
            return datetime.strptime(value.strip(), mapping.created_at_format)
        except ValueError as exc:
            raise RecordError(
                f"created_at {value[:40]!r} does not match format {mapping.created_at_format!r}"
            ) from exc
    return value


def _ticket(mapping: Mapping, fields: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    fields = dict(fields)
    created = _created(mapping, fields.pop("created_at"))
    fields["status"] = mapping.status(fields.get("status"))
    if isinstance(fields.get("tags"), str) and mapping.tags_separator != ",":  # Zendesk views: by spaces
        fields["tags"] = fields["tags"].split(mapping.tags_separator.strip() or None)
    return make_ticket(source=mapping.source, source_id=fields.pop("ticket_id"), created_at=created,
                       record=row, **fields)


def _message(mapping: Mapping, row: dict[str, Any], fields: dict[str, Any], is_agent: bool,
             ticket: dict[str, Any] | None, locator: str, is_public: bool) -> Message:
    thread = mapping.thread
    return Message(
        key=message_ref(fields["ticket_id"]) or locator,
        parent=message_ref(row.get(thread.reply_to)) if thread and thread.reply_to else None,
        conversation=message_ref(row.get(thread.conversation_id)) if thread and thread.conversation_id else None,
        is_agent=is_agent, author=id_or_none(fields.get("customer_id")), text=fields.get("message"),
        created_at=ticket["created_at"] if ticket else _agent_time(mapping, fields.get("created_at")),
        ticket=ticket, locator=locator, record=row, is_public=is_public,
    )


def message_ref(value: Any) -> str | None:
    """A message id as written by any tool: pandas writes an integer column with gaps as `123.0`."""
    text = id_or_none(value)
    if text is not None and text.endswith(".0") and text[:-2].isdigit():
        return text[:-2]
    return text


def _agent_time(mapping: Mapping, value: Any) -> Any:
    """A company row's time; one that does not match the format is kept as written, so that the
    reply is rejected with that text once it is joined to a ticket (an orphan reply is not)."""
    try:
        return _created(mapping, value)
    except RecordError:
        return value
