"""Any table (CSV, JSONL, JSON array, Parquet) through a YAML column mapping.

A mapping says which columns identify its files, which rows are tickets (`filter`, `bots`) and
which column (or `{column}` template) fills each canonical field. Rows that the mapping
excludes are counted as skipped, never rejected: a company's reply tweet is not a bad ticket.
The format is documented in docs/sources.md; ready mappings ship in `ticket_intel/mappings/`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ticket_intel.core.sources.base import (
    FileError,
    ParseResult,
    RecordError,
    make_ticket,
    records,
    text_or_none,
)

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "mappings"
FIELDS = ("ticket_id", "created_at", "message", "subject", "customer_id", "account_id", "plan",
          "monthly_revenue", "channel", "tags", "priority", "status")  # fmt: skip
_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")


class BotRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: str
    values: list[str]


class Mapping(BaseModel):
    """One YAML mapping file (see docs/sources.md)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str = ""
    source: str = Field(pattern=r"^[a-z0-9_]+$")
    detect: list[str] = Field(min_length=1, description="columns that must all be present")
    columns: dict[str, str]
    created_at_format: str | None = None
    filter: dict[str, list[Any]] = Field(default_factory=dict)
    bots: BotRule | None = None
    path: str = ""

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, columns: dict[str, str]) -> dict[str, str]:
        unknown = set(columns) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown canonical fields {sorted(unknown)}; use {list(FIELDS)}")
        missing = {"ticket_id", "created_at", "message"} - set(columns)
        if missing:
            raise ValueError(f"columns must map {sorted(missing)}")
        return columns

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
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Mapping.model_validate({**(doc or {}), "path": str(path)})
    except (yaml.YAMLError, ValidationError, TypeError) as exc:
        raise MappingError(f"mapping {path.name}: {exc}") from exc


def find_mapping(columns: Sequence[str], mappings: Sequence[Mapping]) -> Mapping | None:
    return next((m for m in mappings if m.matches(columns)), None)


def _value(spec: str, row: dict[str, Any], file_stem: str) -> Any:
    """A column's value, or a template such as `{file}#{number}` filled from the row."""
    if "{" not in spec:
        return row.get(spec)
    names = [f for _, f, _, _ in string.Formatter().parse(spec) if f]
    values = {n: ("" if text_or_none(row.get(n)) is None else row.get(n)) for n in names if n != "file"}
    if names and all(values.get(n, "") == "" for n in names if n != "file"):
        return None
    return spec.format(file=file_stem, **values)


def _kept(mapping: Mapping, row: dict[str, Any]) -> bool:
    for column, allowed in mapping.filter.items():
        if str(row.get(column)).strip().lower() not in {str(a).strip().lower() for a in allowed}:
            return False
    return not (mapping.bots and str(row.get(mapping.bots.column, "")).strip() in mapping.bots.values)


def parse(mapping: Mapping, frame: pd.DataFrame, locators: Sequence[str], file_name: str) -> ParseResult:
    """Rows the mapping keeps become tickets or rejections; the others are counted as skipped."""
    result = ParseResult(mapping.source)
    stem = Path(file_name).name.split(".")[0]
    missing = [spec for spec in mapping.columns.values() if "{" not in spec and spec not in frame.columns]
    missing += [f for spec in mapping.columns.values() if "{" in spec
                for f in _TEMPLATE_FIELD.findall(spec) if f != "file" and f not in frame.columns]
    if missing:
        raise FileError(f"mapping {mapping.name}: file lacks columns {sorted(set(missing))}")
    for locator, row in zip(locators, records(frame), strict=True):
        if not _kept(mapping, row):
            result.skipped += 1
            continue
        fields = {f: _value(spec, row, stem) for f, spec in mapping.columns.items()}
        try:
            created = fields.pop("created_at")
            if mapping.created_at_format and isinstance(created, str) and created.strip():
                try:
                    created = datetime.strptime(created.strip(), mapping.created_at_format)
                except ValueError as exc:
                    raise RecordError(
                        f"created_at {created[:40]!r} does not match format {mapping.created_at_format!r}"
                    ) from exc
            result.tickets.append({
                **make_ticket(source=mapping.source, source_id=fields.pop("ticket_id"), created_at=created,
                              record=row, **fields),
                "locator": locator,
            })
        except RecordError as exc:
            result.reject(locator, row, str(exc))
    return result
