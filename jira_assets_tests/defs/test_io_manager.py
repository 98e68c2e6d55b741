"""IcebergIOManager inside real Dagster runs: commits, output metadata, input column projection."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from dagster import AssetIn, asset, materialize

from jira_assets.lake.arrow import Column, records_to_batch, schema_for
from jira_assets.defs.io_manager import IcebergIOManager
from jira_assets.lake.catalog import open_catalog
from jira_assets.lake.history import read_summary
from jira_assets.lake.writer import RUN_ID_PROPERTY, LakeWriter, TableWrite

SYNCED = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
PARENT_COLS = [Column("id", "id", "long"), Column("name", "name", "string")]
CHILD_COLS = [Column("id", "id", "string")]


def parent_batches(n):
    for start in range(0, n, 10):
        yield records_to_batch([{"id": i, "name": f"p{i}"} for i in range(start, min(n, start + 10))], PARENT_COLS, synced_at=SYNCED)


@asset
def parents() -> TableWrite:
    return TableWrite(
        batches=parent_batches(25),
        schema=schema_for(PARENT_COLS),
        key_columns=["id"],
        summary={"cursor.updated": "2025-02-01T00:00Z"},
        metadata={"requests": 3},
    )


@asset(ins={"parents": AssetIn(metadata={"columns": {"id": "long"}})})
def children(parents: pa.Table) -> TableWrite:
    assert parents.column_names == ["id"]
    assert parents.schema.field("id").type == pa.int64()
    ids = sorted(parents.column("id").to_pylist())

    def gen():
        for pid in ids:
            recs = [{"id": f"{pid}-{k}"} for k in range(2)]
            yield records_to_batch(recs, CHILD_COLS, extra={"parent_id": [pid, pid]}, extra_types={"parent_id": "long"}, synced_at=SYNCED)

    return TableWrite(batches=gen(), schema=schema_for(CHILD_COLS, {"parent_id": "long"}), mode="merge", key_columns=["id"])


@asset(ins={"parents": AssetIn(metadata={"columns": ["name"]})})
def names_only(parents: pa.Table) -> pa.Table:
    assert parents.column_names == ["name"]
    return pa.table({"name": parents.column("name")})


def test_materialize_commits_tables_with_metadata(tmp_path):
    io_manager = IcebergIOManager(lake_dir=str(tmp_path / "lake"))
    result = materialize([parents, children, names_only], resources={"io_manager": io_manager})
    assert result.success

    lake = LakeWriter(open_catalog(tmp_path / "lake"))
    assert lake.read_table("parents").num_rows == 25
    assert lake.read_table("children").num_rows == 50
    assert lake.read_table("names_only").column_names == ["name"]

    md = result.asset_materializations_for_node("parents")[0].metadata
    assert md["rows"].value == 25
    assert md["table"].value == "jira.parents"
    assert md["requests"].value == 3
    assert md["snapshot_id"].value == str(lake.load("parents").current_snapshot().snapshot_id)
    assert "| id | name |" in md["preview"].value
    summary = read_summary(lake.load("parents"))
    assert summary[RUN_ID_PROPERTY] == result.run_id
    assert summary["cursor.updated"] == "2025-02-01T00:00Z"


def test_default_lake_dir_from_env_and_missing_upstream(tmp_path):
    # conftest points JIRA_ASSETS_LAKE_DIR at tmp_path / "lake"; parents was never materialised
    result = materialize([parents, children], selection=[children], resources={"io_manager": IcebergIOManager()})
    assert result.success
    lake = LakeWriter(open_catalog())
    assert lake.load("parents") is None
    children_table = lake.read_table("children")
    assert children_table.num_rows == 0
    assert "parent_id" in children_table.column_names
    assert (tmp_path / "lake" / "catalog.db").exists()


def test_asset_reads_its_cursor_back_through_the_io_manager():
    seen = []

    @asset(name="counter", required_resource_keys={"io_manager"})
    def counter(context) -> TableWrite:
        previous = context.resources.io_manager.writer().last_committed_property("counter", "cursor")
        seen.append(previous)
        n = int(previous or 0) + 1
        return TableWrite(batches=[pa.record_batch({"id": [n]})], mode="merge", key_columns=["id"], summary={"cursor": str(n)})

    for _ in range(3):
        assert materialize([counter], resources={"io_manager": IcebergIOManager()}).success
    assert seen == [None, "1", "2"]
    assert LakeWriter(open_catalog()).read_table("counter", ["id"]).num_rows == 3
