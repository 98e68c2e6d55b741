"""Custom fields as typed columns: every custom field the tenant uses has its column, and every value equals what an
independent reading of the issue's `_raw` gives, for every row; a field renamed in Jira renames its column on the
next run without a full reload; the lists inside an issue are tables equal to the simulator's truth."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from _simulator import start_simulator, truth
from _sync import assert_table_equals_truth, lake, sync

from jira_assets.cli.snowflake_sql import catalogue_tables
from jira_assets.lake.snowflake import SetupOptions, snowflake_setup_sql, type_mapping

pytestmark = pytest.mark.slow

ISSUES = ["fields", "issue_search"]
LISTS = ["issue_links", "issue_fix_versions", "issue_affects_versions", "issue_components", "issue_labels",
         "issue_sprints"]
UTC = dt.timezone.utc


# ---- an independent reading of a custom field's value (not the connector's code) ------------------------------

def _ts(text):
    text = text.replace("Z", "+0000")
    stamp = dt.datetime.strptime(text[:23], "%Y-%m-%dT%H:%M:%S.%f")
    sign = 1 if text[23] == "+" else -1
    offset = dt.timedelta(hours=int(text[24:26]), minutes=int(text[-2:]))
    return (stamp - sign * offset).replace(tzinfo=UTC)


def expected(field, value, issue):
    """{column suffix: typed value} for one field's value, read straight from Jira's JSON."""
    schema = field.get("schema") or {}
    custom, kind, items = schema.get("custom", ""), schema.get("type"), schema.get("items")
    if custom.endswith("gh-sprint"):
        open_ = [s["id"] for s in value if s.get("state") != "closed"]
        return {"": [s["id"] for s in value], "_current_id": open_[-1] if open_ else None}
    if custom.endswith("rm-teams-custom-field-team"):
        return {"_id": value.get("id"), "_name": value.get("name")}
    if custom.endswith("cascadingselect"):
        return {"": value.get("value"), "_child": (value.get("child") or {}).get("value")}
    if custom.endswith("jpo-custom-field-parent"):
        # Real Jira gives the parent's id as a number here; the column holds issue ids as issue_search.id does.
        parent_id = (value.get("data") or value).get("id")
        return {"_id": None if parent_id is None else str(parent_id)}
    if custom.endswith("gh-epic-link"):
        parent = (issue["fields"].get("parent") or {})
        return {"_id": parent.get("id") if parent.get("key") == value else None}
    if kind == "array":
        pick = {"option": lambda o: o["value"], "user": lambda u: u["accountId"], "string": lambda s: s,
                "version": lambda v: v["name"], "group": lambda g: g["name"], "component": lambda c: c["name"]}
        if items in pick:
            return {"": [pick[items](x) for x in value] or None}
        return {"": json.dumps(value, separators=(",", ":"), ensure_ascii=False)}
    simple = {"number": float, "string": lambda s: s if isinstance(s, str) else json.dumps(s),
              "date": dt.date.fromisoformat, "datetime": _ts, "option": lambda o: o["value"],
              "user": lambda u: u["accountId"], "version": lambda v: v["name"], "group": lambda g: g["name"],
              "project": lambda p: p["id"],
              "any": lambda s: s if isinstance(s, str) else json.dumps(s, separators=(",", ":"))}
    if kind in simple:
        return {"": simple[kind](value)}
    return {"": json.dumps(value, separators=(",", ":"), ensure_ascii=False)}


def columns_by_key(table) -> dict[str, str]:
    """field id + part -> column name, from the columns' docs."""
    out = {}
    for f in table.schema().fields:
        if f.doc and f.doc.startswith("customfield_"):
            out[f.doc.split(" · ")[0]] = f.name
    return out


def assert_custom_columns_equal_raw(url, lake_dir):
    fields = {f["record"]["id"]: f["record"] for f in truth(url, "fields") if f["record"].get("custom")}
    table = lake(lake_dir).load("issue_search")
    where = columns_by_key(table)
    rows = table.scan().to_arrow().to_pylist()
    used = set()
    for row in rows:
        issue = json.loads(row["_raw"])
        for field_id, value in issue["fields"].items():
            if field_id not in fields or value is None:
                continue
            for part, want in expected(fields[field_id], value, issue).items():
                if want is None:
                    continue
                used.add(field_id + part)
                column = where.get(field_id + part)
                assert column is not None, f"{field_id}{part} ({fields[field_id]['name']}) holds values but has no column"
                got = row[column]
                if isinstance(want, float):
                    assert got == pytest.approx(want), (issue["key"], column)
                else:
                    assert got == want, (issue["key"], column, got, want)
        # Columns of fields this issue leaves empty are null.
        for key, column in where.items():
            field_id = key.split("_", 2)[0] + "_" + key.split("_", 2)[1]
            if issue["fields"].get(field_id) is None:
                assert row[column] is None, (issue["key"], column)
    assert used, "the tenant uses custom fields"
    assert {k.split("_current")[0] for k in used} <= set(where) | {k for k in where}
    return where


def test_custom_fields_are_typed_columns_and_renames_follow_jira(tmp_path):
    lake_dir = tmp_path / "lake"
    with start_simulator("--scale", "demo", "--seed", "3") as (url, _):
        first = sync(url, ISSUES + LISTS, lake_dir=lake_dir)
        assert first.success, first.failures
        where = assert_custom_columns_equal_raw(url, lake_dir)
        for name in LISTS:
            assert_table_equals_truth(url, lake_dir, name)
            assert first.metadata[name]["requests"] == 0  # read from the issue pages already fetched

        # A field renamed in Jira: its column is renamed on the next run, with no full reload.
        field_id = next(k for k in where if "_" not in k.removeprefix("customfield_"))
        table = lake(lake_dir).load("issue_search")
        before = {f.name: f.field_id for f in table.schema().fields}
        old_column = where[field_id]
        httpx.post(f"{url}/__sim/fields", json={"rename": {field_id: "Renamed In Jira"}}).raise_for_status()
        second = sync(url, ISSUES, lake_dir=lake_dir)
        assert second.success, second.failures
        assert second.metadata["issue_search"]["incremental"] is True
        assert second.metadata["issue_search"]["requests"] == 3  # /myself, one quiet page, the deletion count
        after = {f.name: f.field_id for f in lake(lake_dir).load("issue_search").schema().fields}
        assert "renamed_in_jira" in after and old_column not in after
        assert after["renamed_in_jira"] == before[old_column], "the column keeps its Iceberg id"
        assert_custom_columns_equal_raw(url, lake_dir)


def test_a_new_custom_field_column_is_filled_for_issues_already_synced(tmp_path):
    """Columns appear as fields get values; when a field is first given a column (here: its catalogue arrives
    after the issues), the issues already in the table that hold a value are filled from the lake, no request."""
    lake_dir = tmp_path / "lake"
    with start_simulator("--scale", "demo", "--seed", "3") as (url, _):
        # No field catalogue yet: no custom columns.
        assert sync(url, ["issue_search", "issue_changelog"], lake_dir=lake_dir).success
        assert not columns_by_key(lake(lake_dir).load("issue_search"))
        result = sync(url, ISSUES + ["issue_changelog"], lake_dir=lake_dir)
        assert result.success, result.failures
        assert result.metadata["issue_search"]["requests"] == 3  # /myself, one quiet page, the deletion count
        assert result.metadata["issue_search"]["rows_refilled_for_new_fields"] > 0
        assert_custom_columns_equal_raw(url, lake_dir)
        # The tables that follow issue_search saw no change: the refilled issues kept their _synced_at.
        assert result.metadata["issue_changelog"]["parents_changed"] == 0
        assert result.metadata["issue_changelog"]["requests"] == 0


def test_the_snowflake_setup_covers_the_custom_columns_and_the_new_tables(tmp_path):
    lake_dir = tmp_path / "lake"
    with start_simulator("--scale", "demo", "--seed", "3") as (url, _):
        assert sync(url, ISSUES + LISTS, lake_dir=lake_dir).success
    tables = catalogue_tables(ISSUES + LISTS, lake(lake_dir))
    sql = snowflake_setup_sql("horizon", tables, SetupOptions())
    issue_search = next(t for t in tables if t.name == "issue_search")
    lists = [c for c in issue_search.columns if c.iceberg_type.startswith("list<")]
    assert lists, "multi-value custom fields are lists"
    for column in lists:
        assert f"{column.name} {type_mapping(column.iceberg_type).ddl}" in sql or \
               f'"{column.name}" {type_mapping(column.iceberg_type).ddl}' in sql, column.name
    assert "ARRAY(STRING)" in sql and "ARRAY(LONG)" in sql
    for name in LISTS:
        assert f".{name}" in sql.lower() or f".{name.upper()}" in sql, name
