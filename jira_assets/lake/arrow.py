"""JSON records -> typed Arrow record batches.

Each table gets a few typed columns pulled out of the record by dotted path (what analysts
join and filter on), optional `extra` columns supplied by the caller (parent keys), the
record's full JSON in `_raw` (lossless) and the sync time in `_synced_at`.

Conversion never raises on bad data: a value that does not fit its column's type becomes
null, because one odd record must not fail a sync of 100,000 good ones; `_raw` still has it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

RAW_COLUMN = "_raw"
SYNCED_AT_COLUMN = "_synced_at"
SITE_COLUMN = "site"  # which source site a row came from, where several write into one table

TIMESTAMPTZ = pa.timestamp("us", tz="UTC")



@dataclass(frozen=True)
class ColumnType:
    """One of the lake's column types: its Arrow type, the Iceberg type pyiceberg writes for it, and whether the
    string holds JSON (Snowflake's views expose those as VARIANT). The one table of types: every other module reads
    it (the Dagster column schema, the Snowflake setup SQL)."""

    name: str
    arrow: pa.DataType
    iceberg: str
    holds_json: bool = False

    @property
    def label(self) -> str:
        """How the Dagster UI's column schema names the type."""
        return f"{self.iceberg} (JSON)" if self.holds_json else self.iceberg


COLUMN_TYPES: dict[str, ColumnType] = {
    t.name: t
    for t in (
        ColumnType("string", pa.string(), "string"),
        ColumnType("long", pa.int64(), "long"),
        ColumnType("double", pa.float64(), "double"),
        ColumnType("boolean", pa.bool_(), "boolean"),
        ColumnType("timestamptz", TIMESTAMPTZ, "timestamptz"),
        ColumnType("date", pa.date32(), "date"),
        ColumnType("json", pa.string(), "string", holds_json=True),
        ColumnType("list<string>", pa.list_(pa.string()), "list<string>"),
        ColumnType("list<long>", pa.list_(pa.int64()), "list<long>"),
    )
}
ARROW_TYPES: dict[str, pa.DataType] = {name: t.arrow for name, t in COLUMN_TYPES.items()}

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_EPOCH_DATE = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class Column:
    """A typed column: `path` is a dotted path into the record ("fields.project.id").

    A path segment that is an integer indexes into a list ("fields.fixVersions.0.id").
    """

    name: str
    path: str
    type: str = "string"
    doc: str = ""  # the Iceberg column's doc (where the value comes from)

    def __post_init__(self) -> None:
        if self.type not in ARROW_TYPES:
            raise ValueError(f"column {self.name!r}: unknown type {self.type!r} (one of {', '.join(ARROW_TYPES)})")
        if self.name in (RAW_COLUMN, SYNCED_AT_COLUMN):
            raise ValueError(f"column name {self.name!r} is reserved")

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.type]


def dump_json(value: Any) -> str:
    """The one JSON serialisation used for `_raw` and json columns (compact, unicode kept)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def value_at(record: Any, path: str) -> Any:
    """Follow a dotted path; anything missing (or a non-container on the way) gives None."""
    value = record
    for part in path.split("."):
        if type(value) is dict or isinstance(value, Mapping):  # dict first: abc checks are slow
            value = value.get(part)
        elif isinstance(value, list) and _is_index(part):
            idx = int(part)
            value = value[idx] if -len(value) <= idx < len(value) else None
        else:
            return None
        if value is None:
            return None
    return value


def _is_index(part: str) -> bool:
    return part.isdigit() or (part.startswith("-") and part[1:].isdigit())


# --- timestamps -------------------------------------------------------------------------

# Source APIs: 2021-01-17T12:34:00.000+0000, 2015-04-11T15:22:00.000+10:00, 2025-01-27T09:00:00.000Z,
# plus looser ISO forms (space separator, no seconds, no fraction, naive = UTC).
_TS_RE = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?\s*$"
)


def _parse_offset(text: str | None) -> dt.timedelta:
    if not text or text in ("Z", "z"):
        return dt.timedelta(0)
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4]) if len(digits) >= 4 else 0
    if hours > 23 or minutes > 59:
        raise ValueError("bad offset")
    return sign * dt.timedelta(hours=hours, minutes=minutes)


# years 1..9999: what datetime (and so every reader) can represent
_MIN_MICROS, _MAX_MICROS = -62135596800_000_000, 253402300799_999_999


def _epoch_ms_to_micros(value: float) -> int | None:
    if not math.isfinite(value):
        return None
    micros = int(round(value * 1000))
    return micros if _MIN_MICROS <= micros <= _MAX_MICROS else None


def parse_timestamp_micros(value: Any) -> int | None:
    """Microseconds since the epoch (UTC) or None. Numbers are epoch milliseconds (the usual REST habit)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _epoch_ms_to_micros(float(value))
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)
        delta = aware - _EPOCH
        return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    if isinstance(value, dt.date):
        return (value - _EPOCH_DATE).days * 86_400_000_000
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.lstrip("-").isdigit() and len(text) > 8:  # epoch ms as a string
        return _epoch_ms_to_micros(float(text))
    m = _TS_RE.match(text)
    if not m:
        return None
    year, month, day, hh, mi, ss, frac, off = m.groups()
    try:
        naive = dt.datetime(
            int(year), int(month), int(day), int(hh or 0), int(mi or 0), int(ss or 0),
            int((frac or "0").ljust(6, "0")[:6]),
        )
        offset = _parse_offset(off)
    except ValueError:
        return None
    delta = naive - _EPOCH.replace(tzinfo=None) - offset
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return micros if _MIN_MICROS <= micros <= _MAX_MICROS else None


def parse_timestamp(value: Any) -> dt.datetime | None:
    """As parse_timestamp_micros, as an aware UTC datetime (None if unparseable or out of range)."""
    micros = parse_timestamp_micros(value)
    if micros is None:
        return None
    try:
        return _EPOCH + dt.timedelta(microseconds=micros)
    except OverflowError:
        return None


_DATE_RE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


def parse_date_days(value: Any) -> int | None:
    """Days since 1970-01-01 or None. A timestamp string gives its calendar date as written."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, dt.datetime):
        return (value.date() - _EPOCH_DATE).days
    if isinstance(value, dt.date):
        return (value - _EPOCH_DATE).days
    if isinstance(value, (int, float)):
        micros = _epoch_ms_to_micros(float(value))
        return None if micros is None else micros // 86_400_000_000
    if not isinstance(value, str):
        return None
    m = _DATE_RE.match(value) or _TS_RE.match(value)
    if not m:
        return None
    try:
        return (dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))) - _EPOCH_DATE).days
    except ValueError:
        return None


# --- scalar coercion --------------------------------------------------------------------


def _to_string(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value) if not isinstance(value, float) or math.isfinite(value) else None
    return dump_json(value)


def _to_long(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        result = value
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            return None
        result = int(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            result = int(text)
        except ValueError:
            try:
                f = float(text)
            except ValueError:
                return None
            if not math.isfinite(f) or not f.is_integer():
                return None
            result = int(f)
    else:
        return None
    return result if _INT64_MIN <= result <= _INT64_MAX else None


def _to_double(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:
            return None
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _to_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low == "true":
            return True
        if low == "false":
            return False
    return None


def _to_json(value: Any) -> str | None:
    return None if value is None else dump_json(value)


def to_array(values: Sequence[Any], type_name: str) -> pa.Array:
    """Coerce python values to a typed Arrow array; unconvertible values become null."""
    if type_name == "string":
        return pa.array([_to_string(v) for v in values], type=pa.string())
    if type_name == "json":
        return pa.array([_to_json(v) for v in values], type=pa.string())
    if type_name == "long":
        return pa.array([_to_long(v) for v in values], type=pa.int64())
    if type_name == "double":
        return pa.array([_to_double(v) for v in values], type=pa.float64())
    if type_name == "boolean":
        return pa.array([_to_bool(v) for v in values], type=pa.bool_())
    if type_name == "timestamptz":
        return pa.array([parse_timestamp_micros(v) for v in values], type=pa.int64()).cast(TIMESTAMPTZ)
    if type_name == "date":
        return pa.array([parse_date_days(v) for v in values], type=pa.int32()).cast(pa.date32())
    if type_name == "list<string>":
        return pa.array([_to_list(v, _to_string) for v in values], type=pa.list_(pa.string()))
    if type_name == "list<long>":
        return pa.array([_to_list(v, _to_long) for v in values], type=pa.list_(pa.int64()))
    raise ValueError(f"unknown column type {type_name!r}")


def _to_list(value: Any, item: Any) -> list | None:
    if value is None:
        return None
    values = value if isinstance(value, (list, tuple)) else [value]
    return [x for x in (item(v) for v in values) if x is not None]


def infer_type(values: Iterable[Any]) -> str:
    """Type name for caller-supplied extra values (first non-null decides; all null -> string)."""
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool):
            return "boolean"
        if isinstance(v, int):
            return "long"
        if isinstance(v, float):
            return "double"
        if isinstance(v, dt.datetime):
            return "timestamptz"
        if isinstance(v, dt.date):
            return "date"
        if isinstance(v, str):
            return "string"
        return "json"
    return "string"


# --- batches -----------------------------------------------------------------------------


def arrow_field(name: str, type_name: str, doc: str = "") -> pa.Field:
    """An Arrow field of the lake's type; `doc` becomes the Iceberg column's doc."""
    return pa.field(name, ARROW_TYPES[type_name], metadata={PYARROW_DOC: doc.encode()} if doc else None)


PYARROW_DOC = b"doc"  # the Arrow field metadata key pyiceberg reads a column's doc from


def schema_for(columns: Sequence[Column], extra_types: Mapping[str, str] | None = None,
               extra_docs: Mapping[str, str] | None = None) -> pa.Schema:
    """The schema records_to_batch produces: columns, extra columns, _raw, _synced_at."""
    fields = [arrow_field(c.name, c.type, c.doc) for c in columns]
    for name, type_name in (extra_types or {}).items():
        if type_name not in ARROW_TYPES:
            raise ValueError(f"extra column {name!r}: unknown type {type_name!r}")
        fields.append(arrow_field(name, type_name, (extra_docs or {}).get(name, "")))
    fields += [pa.field(RAW_COLUMN, pa.string()), pa.field(SYNCED_AT_COLUMN, TIMESTAMPTZ)]
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"duplicate column names: {', '.join(dupes)}")
    return pa.schema(fields)


def records_to_batch(
    records: Sequence[Mapping[str, Any]],
    columns: Sequence[Column],
    *,
    extra: Mapping[str, Sequence[Any]] | None = None,
    extra_types: Mapping[str, str] | None = None,
    extra_docs: Mapping[str, str] | None = None,
    synced_at: dt.datetime | str | int,
    row_synced_at: Sequence[Any] | None = None,
    keep_raw: bool = True,
) -> pa.RecordBatch:
    """Typed columns + `extra` (name -> one value per record) + `_raw` + `_synced_at`. Without `keep_raw`, `_raw`
    is null (rows computed from other tables: their columns are the whole record).

    `extra_types` fixes the extra columns' types (so an empty batch still has the right
    schema); without it they are inferred from the values. `row_synced_at` gives some rows their
    own `_synced_at` (None elsewhere: `synced_at`), for rows re-written from the lake unchanged.
    """
    n = len(records)
    extra = dict(extra or {})
    types = dict(extra_types or {})
    for name, values in extra.items():
        if len(values) != n:
            raise ValueError(f"extra column {name!r} has {len(values)} values for {n} records")
        types.setdefault(name, infer_type(values))
    missing = set(types) - set(extra)
    if missing:
        raise ValueError(f"extra_types names columns without values: {', '.join(sorted(missing))}")
    schema = schema_for(columns, types, extra_docs)

    synced_micros = parse_timestamp_micros(synced_at)
    if synced_micros is None:
        raise ValueError(f"synced_at is not a timestamp: {synced_at!r}")

    arrays = [to_array([value_at(r, c.path) for r in records], c.type) for c in columns]
    arrays += [to_array(extra[name], types[name]) for name in types]
    arrays.append(pa.array([dump_json(r) for r in records], type=pa.string()) if keep_raw
                  else pa.nulls(n, pa.string()))
    if row_synced_at is None:
        synced = [synced_micros] * n
    else:
        synced = [synced_micros if v is None else parse_timestamp_micros(v) for v in row_synced_at]
    arrays.append(pa.array(synced, type=pa.int64()).cast(TIMESTAMPTZ))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
