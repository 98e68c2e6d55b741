"""The factory: one asset per catalogue row, with its group, parent, schema, freshness, automation and checks set
where it is built; one step per asset; every asset selectable alone; checks runnable without a sync."""

from __future__ import annotations

from dagster import AssetKey, AssetSelection, Definitions, define_asset_job, instance_for_test

from jira_assets.defs.assets import build_assets
from jira_assets.defs.checks import check_keys
from jira_assets.defs.freshness import freshness_policy_for
from jira_assets.defs.io_manager import IcebergIOManager
from jira_assets.defs.resources import JiraResource
from jira_assets.endpoints import BY_NAME, DEFAULT_ENABLED
from jira_assets.lake.arrow import COLUMN_TYPES

NAMES = list(DEFAULT_ENABLED)


def defs(names=NAMES, jobs=()) -> Definitions:
    return Definitions(assets=build_assets(names), jobs=list(jobs), resources={
        # An unused port: any request would fail, so a run that passes made none.
        "jira": JiraResource(base_url="http://127.0.0.1:9", email="a@example.com", api_token="x"),
        "lake": IcebergIOManager(),
    })


def test_one_asset_and_one_op_per_endpoint():
    assets = build_assets(NAMES)
    assert [list(a.keys) for a in assets] == [[AssetKey(n)] for n in NAMES]
    assert all(a.op.name == n for a, n in zip(assets, NAMES))
    assert all(a.can_subset for a in assets)
    graph = defs().resolve_asset_graph()
    for name in NAMES:
        spec, node = BY_NAME[name], graph.get(AssetKey(name))
        assert node.group_name == spec.group
        upstream = {spec.parent.asset} if spec.parent else set()
        assert node.parent_keys == {AssetKey(n) for n in upstream | {r for r in spec.sync.reads if r in NAMES}}
        assert node.freshness_policy == freshness_policy_for(spec)
        assert node.automation_condition is not None
        assert node.kinds == {"jira", "iceberg"}
        schema = node.metadata["dagster/column_schema"]
        assert [(c.name, c.type) for c in schema.columns] == [
            *[(c.name, COLUMN_TYPES[c.type].label) for c in spec.table_columns],
            ("_raw", "string (JSON)"), ("_synced_at", "timestamptz")]
    assert set(graph.asset_check_keys) == set(check_keys(NAMES))


def test_every_asset_is_selectable_alone():
    jobs = [define_asset_job(f"only_{n}", selection=AssetSelection.assets(n)) for n in NAMES]
    d = defs(jobs=jobs)
    for name in NAMES:
        job = d.resolve_job_def(f"only_{name}")
        assert job.asset_layer.selected_asset_keys == {AssetKey(name)}
        # One step: the sync and its checks together.
        assert [node.name for node in job.graph.node_defs] == [name]


def test_checks_alone_make_no_sync(tmp_path):
    job = define_asset_job("checks_only", selection=AssetSelection.checks_for_assets(AssetKey("boards")))
    with instance_for_test() as instance:
        result = defs(jobs=[job]).resolve_job_def("checks_only").execute_in_process(instance=instance)
    assert result.success
    assert result.get_asset_materialization_events() == []
    evaluations = result.get_asset_check_evaluations()
    assert [e.check_name for e in evaluations] == ["primary_key_unique_not_null", "row_count_not_dropped"]
    assert all(not e.passed and "materialize boards first" in e.description for e in evaluations)
