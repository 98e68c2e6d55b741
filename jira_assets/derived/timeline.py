"""An issue's history as intervals per field, from its changelog (docs/derived-tables.md, "issue_field_history").

Pure functions of one issue's record and histories: no lake, no Jira. The derived tables' strategies feed them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jira_assets.lake.arrow import parse_timestamp

# Multi-value fields whose change items add or remove one element each (`from` null and `to` the element added, or
# the reverse); the items of every other multi-value field carry the whole set before and after. Keyed by field id
# and by the name the items give.
ADD_REMOVE = {"components", "fixVersions", "versions", "issuelinks", "Component", "Fix Version", "Version", "Link"}
# Whole-set items list their elements with a separator: labels (the system field and custom label fields) are
# space-separated names, everything else (the Sprint field, multi-selects, multi-user pickers) comma-separated, ids
# sometimes in brackets ("[10019, 10020]").
WHOLE_SET_SEPARATORS = {"labels": " "}
LABELS_TYPE = "com.atlassian.jira.plugin.system.customfieldtypes:labels"


@dataclass(frozen=True)
class Change:
    history_id: str
    created: dt.datetime
    author: str | None
    items: list[dict]


@dataclass
class Interval:
    field_id: str
    field: str
    valid_from: dt.datetime
    value: str | None
    value_id: str | None
    values: list[str] | None = None  # multi-value fields: the set (display values, sorted)
    value_ids: list[str] | None = None
    author: str | None = None
    history_id: str | None = None
    valid_to: dt.datetime | None = None


@dataclass
class FieldKinds:
    """What the field catalogue says of each field: which ones hold a set of values (`schema.type` array)."""

    multi: set[str] = field(default_factory=lambda: {"labels", *ADD_REMOVE})  # field ids and names
    separators: dict[str, str] = field(default_factory=lambda: dict(WHOLE_SET_SEPARATORS))  # by field id

    @classmethod
    def from_catalogue(cls, rows: Iterable[Mapping[str, Any]]) -> FieldKinds:
        kinds = cls()
        for row in rows:
            schema = row.get("schema") or {}
            if schema.get("type") == "array":
                kinds.multi.add(str(row["id"]))
                if row.get("name"):
                    kinds.multi.add(str(row["name"]))
            if schema.get("custom") == LABELS_TYPE:
                kinds.separators[str(row["id"])] = " "
        return kinds

    def is_multi(self, key: str, name: str) -> bool:
        return key in self.multi or name in self.multi

    def separator(self, key: str) -> str:
        return self.separators.get(key, ",")


def changes_of(rows: Iterable[Mapping[str, Any]]) -> list[Change]:
    """Changelog rows (`id`, `created`, `author_account_id`, `items` JSON) as changes, oldest first."""
    out = []
    for row in rows:
        items = row["items"]
        items = json.loads(items) if isinstance(items, str) else (items or [])
        created = row["created"] if isinstance(row["created"], dt.datetime) else parse_timestamp(row["created"])
        out.append(Change(str(row["id"]), created, row.get("author_account_id"), items))
    out.sort(key=lambda c: (c.created, _numeric(c.history_id)))
    return out


def _numeric(text: str) -> tuple:
    return (0, int(text)) if text.isdigit() else (1, text)


def field_key(item: Mapping[str, Any]) -> str:
    return str(item.get("fieldId") or item.get("field"))


def _split(text: Any, separator: str) -> list[str]:
    if text is None or text == "":
        return []
    parts = str(text).split(separator)
    return [p.strip() for p in parts if p.strip()]


def field_history(created: dt.datetime, changes: list[Change], kinds: FieldKinds,
                  current: Mapping[str, Any] | None = None) -> dict[str, list[Interval]]:
    """Intervals per field id for every field the changes touch. `current`: the issue's `fields`, used to know
    the set of an add/remove multi-value field today, from which the set before its first change is worked back."""
    by_field: dict[str, list[tuple[Change, list[dict]]]] = {}
    names: dict[str, str] = {}
    for change in changes:
        grouped: dict[str, list[dict]] = {}
        for item in change.items:
            key = field_key(item)
            grouped.setdefault(key, []).append(item)
            names.setdefault(key, _name(item, key))
        for key, items in grouped.items():
            by_field.setdefault(key, []).append((change, items))
    out: dict[str, list[Interval]] = {}
    for key, steps in by_field.items():
        if kinds.is_multi(key, names[key]):
            out[key] = _set_intervals(key, names[key], created, steps, current, kinds.separator(key))
        else:
            out[key] = _single_intervals(key, names[key], created, steps)
    return out


def _name(item: Mapping[str, Any], key: str) -> str:
    """The field's name as the item gives it (a renamed field's later items carry the new name)."""
    return str(item.get("field") or key)


def _single_intervals(key: str, name: str, created: dt.datetime, steps) -> list[Interval]:
    first = steps[0][1][0]
    intervals = [Interval(key, name, created, _str(first.get("fromString")), _str(first.get("from")))]
    for change, items in steps:
        last = items[-1]
        intervals.append(Interval(key, _name(last, key), change.created, _str(last.get("toString")),
                                  _str(last.get("to")), author=change.author, history_id=change.history_id))
    return _close(intervals)


Members = dict[str, "str | None"]  # element id -> display value (None: only the id is known)


def _set_intervals(key: str, name: str, created: dt.datetime, steps,
                   current: Mapping[str, Any] | None, separator: str = ",") -> list[Interval]:
    if key in ADD_REMOVE or name in ADD_REMOVE:
        sets = _replayed_sets(_current_set(current, key, name), steps)
    else:
        sets = [_whole(steps[0][1][0], "from", separator)]
        sets += [_whole(items[-1], "to", separator) for _, items in steps]
    starts = [(created, name, None, None)] + [(c.created, _name(items[-1], key), c.author, c.history_id)
                                              for c, items in steps]
    intervals = []
    for (start, shown_name, author, history_id), members in zip(starts, sets):
        ids = sorted(members)
        shown = sorted(v if v is not None else k for k, v in members.items())
        intervals.append(Interval(key, shown_name, start, ", ".join(shown) if shown else None,
                                  ",".join(ids) if ids else None, shown, ids, author, history_id))
    return _close(intervals)


def _replayed_sets(now: Members, steps) -> list[Members]:
    """The set before each change of an add/remove field and after the last: today's set with every change undone
    (newest first) gives the set before the first change; replaying the items forward gives the rest."""
    start = dict(now)
    for _, items in reversed(steps):
        for item in items:
            added, removed = _element(item, "to"), _element(item, "from")
            if added is not None:
                start.pop(added[0], None)
            if removed is not None:
                start[removed[0]] = removed[1]
    sets = [start]
    for _, items in steps:
        state = dict(sets[-1])
        for item in items:
            added, removed = _element(item, "to"), _element(item, "from")
            if removed is not None:
                state.pop(removed[0], None)
            if added is not None:
                state[added[0]] = added[1]
        sets.append(state)
    return sets


def _element(item: Mapping[str, Any], side: str) -> tuple[str, str | None] | None:
    ident, shown = _str(item.get(side)), _str(item.get(f"{side}String"))
    if ident is None and not shown:
        return None
    return (ident if ident is not None else shown), shown


def _whole(item: Mapping[str, Any], side: str, separator: str) -> Members:
    ids = _split(_str(item.get(side) or "").strip("[]"), separator)
    shown = _split(item.get(f"{side}String"), separator)
    if not ids:  # labels and some multi-selects carry display values only
        return {value: value for value in shown}
    if len(shown) != len(ids):  # a display value with the separator inside: the ids alone are certain
        return {ident: None for ident in ids}
    return dict(zip(ids, shown))


def _current_set(current: Mapping[str, Any] | None, key: str, name: str) -> Members:
    """Today's set of an add/remove field, keyed as its change items name the elements."""
    fields = current or {}
    value = fields.get(key, fields.get(_FIELD_OF_ITEM_NAME.get(name, "")))
    out: Members = {}
    for element in value or []:
        if not isinstance(element, dict):
            out[str(element)] = str(element)
        elif "outwardIssue" in element or "inwardIssue" in element:  # a link: items name the other issue
            side = "outward" if "outwardIssue" in element else "inward"
            other = element[f"{side}Issue"].get("key")
            out[str(other)] = f"This issue {(element.get('type') or {}).get(side)} {other}"
        else:
            ident = element.get("id") or element.get("accountId") or element.get("value") or element.get("name")
            out[str(ident)] = element.get("name") or element.get("displayName") or element.get("value")
    return out


# Items without a fieldId name the field as Jira's UI does.
_FIELD_OF_ITEM_NAME = {"Component": "components", "Fix Version": "fixVersions", "Version": "versions",
                       "Link": "issuelinks"}


def _close(intervals: list[Interval]) -> list[Interval]:
    for earlier, later in zip(intervals, intervals[1:]):
        earlier.valid_to = later.valid_from
    return intervals


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def value_at(intervals: list[Interval], moment: dt.datetime) -> Interval | None:
    """The interval in effect at `moment` (the last one that started at or before it)."""
    found = None
    for interval in intervals:
        if interval.valid_from <= moment:
            found = interval
        else:
            break
    return found
