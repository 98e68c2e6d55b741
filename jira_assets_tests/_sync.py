"""Materialize endpoints against a running simulator and compare the lake with the simulator's ground truth."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from dagster import AssetSelection, materialize
from _simulator import EMAIL, TOKEN, truth

from jira_assets.defs.assets import build_assets
from jira_assets.endpoints import BY_NAME, DEFAULT_ENABLED, EndpointSpec
from jira_assets.lake.arrow import value_at as json_path
from jira_assets.defs.io_manager import IcebergIOManager
from jira_assets.lake.catalog import open_catalog
from jira_assets.lake.writer import LakeWriter
from jira_assets.defs.resources import JiraResource
from jira_assets.defs.run_report import run_outcome
# The paging plan (the fewest requests a sync of this tenant needs) is shared with the benchmarks; re-exported for
# the tests.
from paging_plan import PAGE_CAPS, pages, parent_ids_from_truth, planned_requests, truth_params  # noqa: F401


@dataclass
class SyncResult:
    success: bool
    metadata: dict[str, dict[str, Any]]  # asset name -> materialization metadata (plain values)
    failures: dict[str, str]  # asset name -> error message
    run_id: str


def sync(url: str, names=DEFAULT_ENABLED, *, lake_dir: str, rate_limit: float = 50, tags: dict | None = None,
         checks: bool = False, **jira) -> SyncResult:
    """Materialize `names` in process. Without `checks`, the assets' checks are left out of the run, so the
    requests the simulator sees are exactly the sync's."""
    resources = {
        "jira": JiraResource(email=jira.pop("email", EMAIL), api_token=jira.pop("api_token", TOKEN), base_url=url,
                             rate_limit=rate_limit, **jira),
        "lake": IcebergIOManager(lake_dir=str(lake_dir)),
    }
    selection = AssetSelection.all() if checks else AssetSelection.all().without_checks()
    result = materialize(build_assets(names), selection=selection, resources=resources, raise_on_error=False,
                         tags=tags or {},
                         run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
    metadata, failures = run_outcome(result)
    return SyncResult(result.success, metadata, failures, result.run_id)


def lake(lake_dir: str) -> LakeWriter:
    return LakeWriter(open_catalog(str(lake_dir)))


def table_rows(lake_dir: str, name: str) -> list[dict]:
    return lake(lake_dir).read_table(name).to_pylist()


def key_of(spec: EndpointSpec, record: dict, parents: dict) -> tuple:
    """The primary key of a truth record, as the table stores it."""
    by_name = {col.name: col for col in spec.columns}
    key = []
    for name in spec.primary_key:
        if spec.parent and name == spec.parent.key:
            value = parents[name]
        else:
            value = json_path(record, by_name[name].path)
        key.append(str(value))
    return tuple(key)


def without_embedded_issues(issue: dict) -> dict:
    """An issue without the copies of *other* issues Jira embeds in it (parent, subtasks, links): Jira refreshes
    those when the other issue changes or is deleted without touching this issue's `updated`, so an incremental
    sync keeps them as of this issue's own last change (join on the ids for current values)."""
    issue = json.loads(json.dumps(issue))
    fields = issue.get("fields") or {}
    if isinstance(fields.get("parent"), dict):
        fields["parent"].pop("fields", None)
    # Deleting a subtask or a linked issue also removes it from these lists without touching `updated`.
    fields.pop("subtasks", None)
    fields.pop("issuelinks", None)
    return issue


def assert_table_equals_truth(url: str, lake_dir: str, name: str, *, embedded_may_lag: bool = False) -> int:
    """Same primary keys, `_raw` equal as JSON, parent keys as in truth, no duplicate key. Returns the row count.

    embedded_may_lag: compare issues without their embedded copies of other issues (see without_embedded_issues).
    """
    spec = BY_NAME[name]
    if spec.sync.derived:
        return assert_derived_table_equals_truth(url, lake_dir, name)
    expected = {}
    for item in truth(url, name, **truth_params(name)):  # my_permissions: the keys the connector asks for
        expected[key_of(spec, item["record"], item["parents"])] = item
    rows = table_rows(lake_dir, name)
    keys = [tuple(str(row[k]) for k in spec.primary_key) for row in rows]
    duplicates = [k for k, n in Counter(keys).items() if n > 1]
    assert not duplicates, f"{name}: duplicate keys {duplicates[:5]}"
    assert set(keys) == set(expected), (
        f"{name}: missing {sorted(set(expected) - set(keys))[:5]}, unexpected {sorted(set(keys) - set(expected))[:5]}"
    )
    for key, row in zip(keys, rows):
        item = expected[key]
        raw, record = json.loads(row["_raw"]), item["record"]
        if embedded_may_lag:
            raw, record = without_embedded_issues(raw), without_embedded_issues(record)
        assert raw == record, f"{name} {key}: _raw differs from what Jira serves"
        for parent_key, value in item["parents"].items():
            assert str(row[parent_key]) == str(value), f"{name} {key}: {parent_key} is {row[parent_key]}, not {value}"
    return len(rows)



def plain(value: Any) -> Any:
    """A table value as the truth gives it: timestamps in epoch milliseconds, numbers to 3 decimals."""
    if isinstance(value, dt.datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, float):
        return round(value, 3)
    return value


def assert_derived_table_equals_truth(url: str, lake_dir: str, name: str) -> int:
    """A table computed from the lake (no `_raw`: its columns are the whole record): same keys, and every column the
    truth gives equal, parent keys as in truth. `custom_fields` (keyed by the connector's column names): every
    column's Jira side equals the truth of its field, and every custom field some issue holds a value for (the
    default `JIRA_CUSTOM_FIELDS=used`) has a column. Returns the row count."""
    spec = BY_NAME[name]
    rows = [{k: plain(v) for k, v in row.items()} for row in table_rows(lake_dir, name)]
    keys = [tuple(str(row[k]) for k in spec.primary_key) for row in rows]
    duplicates = [k for k, n in Counter(keys).items() if n > 1]
    assert not duplicates, f"{name}: duplicate keys {duplicates[:5]}"
    items = truth(url, name)
    if name == "custom_fields":
        by_field = {item["record"]["field_id"]: item["record"] for item in items}
        for key, row in zip(keys, rows):
            told = by_field.get(row["field_id"])
            assert told is not None, f"{name} {key}: {row['field_id']} is no custom field of the site"
            wrong = {c: (row.get(c), v) for c, v in told.items() if row.get(c) != plain(v)}
            assert not wrong, f"{name} {key}: {wrong}"
        used = {f for item in truth(url, "issue_search") for f, v in (item["record"].get("fields") or {}).items()
                if f in by_field and v not in (None, [])}
        assert {row["field_id"] for row in rows} == used, f"{name}: the fields with columns are not the fields used"
        return len(rows)
    expected = {}
    for item in items:
        record = {**item["parents"], **item["record"]}
        expected[tuple(str(record[k]) for k in spec.primary_key)] = item
    assert set(keys) == set(expected), (
        f"{name}: missing {sorted(set(expected) - set(keys))[:5]}, unexpected {sorted(set(keys) - set(expected))[:5]}"
    )
    for key, row in zip(keys, rows):
        item = expected[key]
        wrong = {c: (row.get(c), plain(v)) for c, v in item["record"].items() if row.get(c) != plain(v)}
        assert not wrong, f"{name} {key}: {wrong}"
        for parent_key, value in item["parents"].items():
            assert str(row[parent_key]) == str(value), f"{name} {key}: {parent_key} is {row[parent_key]}, not {value}"
    return len(rows)
