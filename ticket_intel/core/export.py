"""Export ranked themes with their example tickets as CSV, Parquet or JSON.

CSV cells that a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR)
are prefixed with a quote, since ticket text is customer-controlled. CSV and JSON write a number
with the same `DECIMALS`.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Columns an export adds or writes otherwise than the warehouse stores them.
EXPORTED = {"example_texts": pa.list_(pa.string()), "week_start": pa.string(), "label": pa.string(),
            "owner": pa.string(), "product_area_source": pa.string()}  # a review's, beside the stored columns
# Decimal places a number is written with as text, in CSV as in JSON (pandas' JSON default): a
# change computed as -0.19999999999999996 was that in CSV and -0.2 in JSON.
DECIMALS = 10


def themes_with_examples(themes: pd.DataFrame, tickets: pd.DataFrame) -> pd.DataFrame:
    """One row per theme; example ids and their redacted texts as parallel columns."""
    text = dict(zip(tickets["ticket_id"], tickets["text"], strict=True))
    out = themes.copy()
    out["example_ticket_ids"] = [list(ids) for ids in out["example_ticket_ids"]]
    if "segments" in out:
        out["segments"] = [list(s) for s in out["segments"]]
    out["example_texts"] = [[text.get(i, "") for i in ids] for ids in out["example_ticket_ids"]]
    out["week_start"] = pd.to_datetime(out["week_start"]).dt.date.astype(str)
    return out.reset_index(drop=True)


def neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _flat(value: object) -> object:
    """A list as one CSV cell ("a | b"); a record inside it as "key=value, ..."; a number to `DECIMALS`."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={_flat(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | np.ndarray):
        return " | ".join(str(_flat(v)) for v in value)
    if isinstance(value, float | np.floating):
        return round(float(value), DECIMALS)
    return value


def json_records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON values: arrays as lists, a missing number as null (not NaN, which no JSON
    reader takes), times in ISO 8601, numbers to `DECIMALS`."""
    return json.loads(frame.to_json(orient="records", date_format="iso", force_ascii=False, double_precision=DECIMALS))


def _parquet_schema(frame: pd.DataFrame, stored: pa.Schema) -> pa.Schema:
    """The frame's columns typed as the warehouse stores them (the export's own columns as
    `EXPORTED`), never from the values: a week without segments wrote `list<null>`."""
    inferred = pa.Schema.from_pandas(frame, preserve_index=False)
    return pa.schema([pa.field(name, EXPORTED[name]) if name in EXPORTED
                      else stored.field(name) if name in stored.names else inferred.field(name)
                      for name in frame.columns])


def serialize(frame: pd.DataFrame, fmt: str, stored: pa.Schema | None = None) -> bytes:
    """The frame in `fmt`; Parquet columns typed after `stored` (the warehouse's schema) when given."""
    if fmt == "json":
        return (json.dumps(json_records(frame), indent=2, ensure_ascii=False) + "\n").encode()
    if fmt == "parquet":
        buf = io.BytesIO()
        schema = None if stored is None else _parquet_schema(frame, stored)
        empty = schema is not None and frame.empty  # its columns hold no value to convert (float64)
        pq.write_table(schema.empty_table() if empty else pa.Table.from_pandas(frame, schema=schema, preserve_index=False),
                       buf)
        return buf.getvalue()
    if fmt == "csv":
        return frame.map(lambda v: neutralise(_flat(v))).to_csv(index=False).encode()
    raise ValueError(f"unknown export format {fmt!r}; expected csv, parquet or json")
