"""Custom fields as typed columns of the issue table: which fields get a column, what the columns are called, and
their values for a batch of issues.

- Types come from the field catalogue table (`GET /rest/api/2/field`, already in the lake) through
  `jira.custom_fields.value_columns`; values from the issues' own `fields`. No request.
- Names an analyst can type: the field's name in snake_case (`story_point_estimate`), with a part suffix for
  fields that give two values (`team_id`, `team_name`); a name another column already has gets the field id
  appended (`team_customfield_10050`). Each column's Iceberg doc starts with the field id and the part
  (`customfield_10020_current_id · array<json> · com.pyxis.greenhopper.jira:gh-sprint`), which is how a column is
  found again after a rename in Jira: it is renamed too (Iceberg column ids are stable). A field deleted in Jira
  keeps its column.
- Several sites in one table: a column's doc ends with the site that made it (`· site acme`). Another site's field
  shares the column when it has the same id, part and type (Story Points on two sites: one column); otherwise it
  gets a column of its own (the field id, then the site, appended to the name), and no site renames another's.
- Which fields (`JIRA_CUSTOM_FIELDS`, comma-separated): `used` (the default: a column appears as soon as one
  synced issue holds a value), `all` (a column for every custom field), `none`; a field id or name adds that
  field's column even while empty; `-<id or name>` leaves a field out.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from jira_assets.jira.custom_fields import EPIC_LINK, ValueColumn, describe, value_columns
from jira_assets.lake.arrow import COLUMN_TYPES, Column
from jira_assets.sync import summary as keys

# A lake column type as the table's schema names it (what another site's column is compared against).
ARROW_TO_ICEBERG = {name: t.iceberg for name, t in COLUMN_TYPES.items()}

ENV = "JIRA_CUSTOM_FIELDS"
_FIELD_ID = re.compile(r"^(customfield_\d+)(\S*)")


def snake(name: str) -> str:
    """`Story point estimate` -> `story_point_estimate`; `Cost (USD)` -> `cost_usd`."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return f"f_{text}" if text[:1].isdigit() else text


@dataclass(frozen=True)
class FieldSelection:
    """JIRA_CUSTOM_FIELDS, parsed."""

    base: str = "used"  # used | all | none
    include: frozenset[str] = frozenset()  # ids or lower-cased names
    exclude: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FieldSelection:
        raw = (os.environ if env is None else env).get(ENV, "")
        base, include, exclude = "used", set(), set()
        for term in (t.strip() for t in raw.split(",")):
            if not term:
                continue
            if term.lower() in ("used", "all", "none"):
                base = term.lower()
            elif term.startswith("-"):
                exclude.add(term[1:].strip().lower())
            else:
                include.add(term.lower())
        return cls(base, frozenset(include), frozenset(exclude))

    def wants(self, field_id: str, name: str) -> bool:
        keys = {field_id.lower(), name.lower()}
        if keys & self.exclude:
            return False
        return self.base != "none" or bool(keys & self.include)

    def always(self, field_id: str, name: str) -> bool:
        """A column even while no issue holds a value."""
        return self.base == "all" or bool({field_id.lower(), name.lower()} & self.include)


@dataclass(frozen=True)
class CustomColumn:
    field_id: str
    column: Column  # name, type and doc
    value: ValueColumn
    always: bool

    @property
    def key(self) -> str:
        """How the column is found again: its field id and part, the start of its doc."""
        return self.field_id + self.value.suffix


@dataclass
class CustomColumns:
    """The issue table's custom field columns for one sync."""

    columns: list[CustomColumn]
    renames: dict[str, str] = field(default_factory=dict)  # existing column -> its name now
    key_to_id: dict[str, str] = field(default_factory=dict)  # issue keys seen, for Epic Link ids

    @property
    def field_ids(self) -> list[str]:
        return sorted({c.field_id for c in self.columns})

    @property
    def column_keys(self) -> dict[str, str]:
        """column -> field id + part: which columns this site's values go to (other sites may share the table)."""
        return {c.column.name: c.key for c in self.columns}

    def values(self, records: list[dict]) -> dict[Column, list]:
        """For a batch of issues: each column with at least one value (or declared always) -> one value per issue."""
        by_field: dict[str, list[CustomColumn]] = {}
        for c in self.columns:
            by_field.setdefault(c.field_id, []).append(c)
        out: dict[str, list] = {}
        for record in records:
            if record.get("key") and record.get("id"):
                self.key_to_id[str(record["key"])] = str(record["id"])
        for row, record in enumerate(records):
            fields = record.get("fields") or {}
            for field_id, raw in fields.items():
                if raw is None or field_id not in by_field:
                    continue
                for c in by_field[field_id]:
                    value = c.value.extract(raw)
                    if c.value is EPIC_LINK_ID:
                        value = self._issue_id(value, fields)
                    if value is None or value == []:
                        continue
                    out.setdefault(c.column.name, [None] * len(records))[row] = value
        result = {}
        for c in self.columns:
            if c.column.name in out:
                result[c.column] = out[c.column.name]
            elif c.always:
                result[c.column] = [None] * len(records)
        return result

    def _issue_id(self, key: object, fields: dict) -> str | None:
        parent = fields.get("parent") if isinstance(fields.get("parent"), dict) else {}
        if key and parent.get("key") == key:  # Jira keeps the parent and the legacy Epic Link in step
            return str(parent.get("id"))
        return self.key_to_id.get(str(key)) if key else None


EPIC_LINK_ID = value_columns({"schema": {"custom": EPIC_LINK}})[0]


SITE_MARK = " · site "


def site_of_doc(doc: str | None) -> str | None:
    """The site that made a custom field column (None for a column made before sites were named)."""
    return doc.rsplit(SITE_MARK, 1)[1] if doc and SITE_MARK in doc else None


def plan_columns(field_rows: Iterable[dict], existing_docs: Mapping[str, str], reserved: Iterable[str],
                 selection: FieldSelection, key_to_id: Mapping[str, str] | None = None, site: str | None = None,
                 existing_types: Mapping[str, str] | None = None) -> CustomColumns:
    """The custom columns of a sync: every wanted custom field of the catalogue, named against the columns the table
    already has (`existing_docs`: column -> doc, `existing_types`: column -> Iceberg type) and the catalogue's own
    columns (`reserved`), for `site` (other sites' columns are shared only when id, part and type agree)."""
    owner: dict[str, str] = {}  # existing column name -> the field id + part it holds (or "" for a system column)
    existing: dict[str, str] = {}  # field id + part -> this site's existing column name
    others: dict[str, tuple[str, str]] = {}  # another site's column -> (field id + part, Iceberg type)
    for column, doc in existing_docs.items():
        found = key_of_doc(doc)
        made_by = site_of_doc(doc)
        if found and made_by is not None and made_by != site:
            key = found[0] + found[1]
            owner[column] = f"{key}@{made_by}"
            others[column] = (key, (existing_types or {}).get(column, ""))
        elif found:
            key = found[0] + found[1]
            owner[column], existing[key] = key, column
        else:
            owner[column] = ""
    for name in reserved:
        owner.setdefault(name, "")
    columns: list[CustomColumn] = []
    renames: dict[str, str] = {}
    taken = dict(owner)
    fields = sorted((f for f in field_rows if f.get("custom") and str(f.get("id", "")).startswith("customfield_")),
                    key=lambda f: _id_number(f["id"]))
    for f in fields:
        field_id, name = f["id"], f.get("name") or f["id"]
        if not selection.wants(field_id, name):
            continue
        parts = value_columns(f)

        def fits(candidate: str) -> bool:
            """Every part's column under this name is free, ours, or another site's of the same field and type."""
            for p in parts:
                key, name_ = field_id + p.suffix, candidate + p.suffix
                holder = taken.get(name_, key)
                if holder == key:
                    continue
                other = others.get(name_)
                if other is None or other != (key, ARROW_TO_ICEBERG.get(p.type, p.type)):
                    return False
            return True

        base = snake(name) or field_id
        for candidate in (base, f"{base}_{field_id}", f"{base}_{field_id}_{site}"):
            if fits(candidate):
                base = candidate
                break
        for part in parts:
            key, column_name = field_id + part.suffix, base + part.suffix
            shared = column_name in others
            taken[column_name] = owner.get(column_name, key) if shared else key
            if key in existing and existing[key] != column_name:
                renames[existing[key]] = column_name
            doc = describe(f).replace(field_id, key, 1) + (f"{SITE_MARK}{site}" if site else "")
            columns.append(CustomColumn(field_id, Column(column_name, column_name, part.type, doc), part,
                                        selection.always(field_id, name)))
    return CustomColumns(columns, renames, dict(key_to_id or {}))


def site_columns(lake, table: str, site: str | None) -> dict[str, tuple[str, str]]:
    """The custom field columns a site's issues fill: column -> (field id, part). Those its last commit of the issue
    table names (shared ones included), and those it made (or made before sites were named), a deleted field's
    among them. `lake` is the site's LakeView."""
    out: dict[str, tuple[str, str]] = {}
    for column, doc in lake.column_docs(table).items():
        key = key_of_doc(doc)
        if key is not None and site_of_doc(doc) in (None, site):
            out[column] = key
    recorded = lake.last_committed_property(table, keys.CUSTOM_COLUMNS)
    for column, key in (json.loads(recorded) if recorded else {}).items():
        if (found := _FIELD_ID.match(key)) is not None:
            out[column] = (found.group(1), found.group(2))
    return out


def key_of_doc(doc: str | None) -> tuple[str, str] | None:
    """(field id, part suffix) of a custom field column, from its doc; None for other columns."""
    found = _FIELD_ID.match(doc or "")
    return (found.group(1), found.group(2)) if found else None


def _id_number(field_id: str) -> int:
    digits = field_id.rsplit("_", 1)[-1]
    return int(digits) if digits.isdigit() else 0


def field_rows_from(raws: Iterable[str | None]) -> list[dict]:
    """The field catalogue's records, from its table's `_raw` column."""
    return [json.loads(raw) for raw in raws if raw]
