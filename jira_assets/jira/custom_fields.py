"""What a custom field's value looks like in an issue, and the typed values an analyst wants from it.

Source side: Jira's shapes only. `value_columns(field)` reads a field's schema (`GET /rest/api/2/field`: `schema.type`,
`schema.items`, `schema.custom`) and says which typed values its value gives: one for most fields (a number, a
date, an option's value, a list of account ids ...), two for some (a cascading select's parent and child value, a
sprint list and its current sprint, a team's id and name). Anything the mapping does not know is kept whole, as
JSON, so no value is ever dropped (and `_raw` keeps the issue as Jira sent it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SPRINT = "com.pyxis.greenhopper.jira:gh-sprint"
EPIC_LINK = "com.pyxis.greenhopper.jira:gh-epic-link"
PARENT_LINK = "com.atlassian.jpo:jpo-custom-field-parent"
TEAM = "com.atlassian.teams:rm-teams-custom-field-team"
CASCADING = "com.atlassian.jira.plugin.system.customfieldtypes:cascadingselect"


@dataclass(frozen=True)
class ValueColumn:
    """One typed value of a custom field: `suffix` ("" or "_child", "_current_id" ...) is added to the field's
    column name; `type` is a lake column type; `extract` turns the field's value (never None) into it."""

    suffix: str
    type: str
    extract: Callable[[Any], Any]


def _get(key: str) -> Callable[[Any], Any]:
    return lambda v: v.get(key) if isinstance(v, dict) else v


def _each(pick: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: [x for x in (pick(item) for item in (v if isinstance(v, list) else [v])) if x is not None]


def _option(v: Any) -> Any:
    return v.get("value", v.get("name")) if isinstance(v, dict) else v


def _user(v: Any) -> Any:
    return v.get("accountId") if isinstance(v, dict) else v


def _named(v: Any) -> Any:
    return v.get("name", v.get("value")) if isinstance(v, dict) else v


def _current_sprint(v: Any) -> Any:
    """The open sprint an issue is in: the last of its sprints that is not closed (Jira lists them in order)."""
    open_ = [s for s in (v if isinstance(v, list) else [v]) if isinstance(s, dict) and s.get("state") != "closed"]
    return open_[-1].get("id") if open_ else None


def _parent_link(v: Any) -> Any:
    if isinstance(v, dict):
        data = v.get("data") if isinstance(v.get("data"), dict) else v
        return data.get("id")
    return v


def _json(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, separators=(",", ":"))


# Fields with a shape of their own, by their custom type key.
BY_CUSTOM_TYPE: dict[str, tuple[ValueColumn, ...]] = {
    SPRINT: (ValueColumn("", "list<long>", _each(_get("id"))), ValueColumn("_current_id", "long", _current_sprint)),
    TEAM: (ValueColumn("_id", "string", _get("id")), ValueColumn("_name", "string", _get("name"))),
    CASCADING: (ValueColumn("", "string", _option),
                ValueColumn("_child", "string", lambda v: _option(v.get("child")) if isinstance(v, dict) else None)),
    PARENT_LINK: (ValueColumn("_id", "string", _parent_link),),
    EPIC_LINK: (ValueColumn("_id", "string", lambda v: v),),  # an issue key: the sync resolves it to the id
}

# Everything else, by the value's schema type (and the element type of arrays).
BY_SCHEMA_TYPE: dict[str, tuple[ValueColumn, ...]] = {
    "number": (ValueColumn("", "double", lambda v: v),),
    "date": (ValueColumn("", "date", lambda v: v),),
    "datetime": (ValueColumn("", "timestamptz", lambda v: v),),
    "string": (ValueColumn("", "string", lambda v: v if isinstance(v, str) else _json(v)),),
    "option": (ValueColumn("", "string", _option),),
    "user": (ValueColumn("", "string", _user),),
    "group": (ValueColumn("", "string", _named),),
    "version": (ValueColumn("", "string", _named),),
    "project": (ValueColumn("", "string", _get("id")),),
    "any": (ValueColumn("", "string", lambda v: v if isinstance(v, str) else _json(v)),),
}
BY_ITEM_TYPE: dict[str, tuple[ValueColumn, ...]] = {
    "option": (ValueColumn("", "list<string>", _each(_option)),),
    "string": (ValueColumn("", "list<string>", _each(lambda v: v if isinstance(v, str) else _json(v))),),
    "user": (ValueColumn("", "list<string>", _each(_user)),),
    "group": (ValueColumn("", "list<string>", _each(_named)),),
    "version": (ValueColumn("", "list<string>", _each(_named)),),
    "component": (ValueColumn("", "list<string>", _each(_named)),),
}
UNKNOWN = (ValueColumn("", "json", lambda v: v),)


def value_columns(field: dict) -> tuple[ValueColumn, ...]:
    """The typed values a custom field gives, from its schema (JSON kept whole when the shape is unknown)."""
    schema = field.get("schema") or {}
    custom = schema.get("custom") or ""
    if custom in BY_CUSTOM_TYPE:
        return BY_CUSTOM_TYPE[custom]
    kind = schema.get("type") or ""
    if kind == "array":
        return BY_ITEM_TYPE.get(schema.get("items") or "", UNKNOWN)
    return BY_SCHEMA_TYPE.get(kind, UNKNOWN)


def describe(field: dict) -> str:
    """The field as a column's doc: its id, schema type and custom type (`customfield_10016 · number · ...:float`)."""
    schema = field.get("schema") or {}
    kind = schema.get("type") or "?"
    if kind == "array" and schema.get("items"):
        kind = f"array<{schema['items']}>"
    return " · ".join(x for x in (field.get("id", ""), kind, schema.get("custom") or "") if x)
