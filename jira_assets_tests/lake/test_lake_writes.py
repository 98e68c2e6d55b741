"""LakeWriter on real pyiceberg tables: replace, merge, dedupe, deletes, schema evolution,
summary properties, atomicity when the batch iterator fails."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest

from jira_assets.lake.arrow import Column, records_to_batch, schema_for
from jira_assets.lake.catalog import open_catalog
from jira_assets.lake.history import last_committed_property, read_summary
from jira_assets.lake.writer import RUN_ID_PROPERTY, ROWS_PROPERTY, LakeWriter, TableWrite

SYNCED = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
COLUMNS = [Column("id", "id", "string"), Column("name", "name", "string"), Column("n", "n", "long")]
SCHEMA = schema_for(COLUMNS)


def batch(ids, name="v1", columns=COLUMNS, **extra_fields):
    records = [{"id": str(i), "name": f"{name}-{i}", "n": i, **extra_fields} for i in ids]
    return records_to_batch(records, columns, synced_at=SYNCED)


def batches(*id_ranges, name="v1"):
    return [batch(r, name=name) for r in id_ranges]


@pytest.fixture
def lake(tmp_path):
    # small target so multi-batch writes produce several data files (exercises file handling)
    return LakeWriter(open_catalog(tmp_path / "lake"), target_file_bytes=2048)


def rows(lake, name, columns=("id", "name")):
    table = lake.read_table(name, list(columns))
    return sorted(table.to_pylist(), key=lambda r: int(r["id"]))


def snapshot_id(lake, name):
    table = lake.load(name)
    return None if table is None or table.current_snapshot() is None else table.current_snapshot().snapshot_id


def test_replace_creates_then_replaces_whole_table(lake):
    r1 = lake.write("t", TableWrite(batches=batches(range(0, 50), range(50, 120)), schema=SCHEMA), run_id="run-1")
    assert r1.rows_written == 120 and r1.total_rows == 120
    assert r1.data_files > 1
    r2 = lake.write("t", TableWrite(batches=batches(range(100, 130), name="v2"), schema=SCHEMA), run_id="run-2")
    assert r2.rows_written == 30 and r2.total_rows == 30
    got = rows(lake, "t")
    assert [r["id"] for r in got] == [str(i) for i in range(100, 130)]
    assert {r["name"].split("-")[0] for r in got} == {"v2"}
    table = lake.load("t")
    assert len(table.snapshots()) == 2  # exactly one snapshot per write
    assert read_summary(table)[RUN_ID_PROPERTY] == "run-2"


def test_replace_with_no_rows_empties_table(lake):
    lake.write("t", TableWrite(batches=batches(range(10)), schema=SCHEMA))
    r = lake.write("t", TableWrite(batches=[], schema=SCHEMA))
    assert r.rows_written == 0 and r.total_rows == 0
    assert lake.read_table("t").num_rows == 0


def test_merge_replaces_matching_keys_and_keeps_others(lake):
    lake.write("t", TableWrite(batches=batches(range(0, 100)), schema=SCHEMA, mode="merge", key_columns=["id"]))
    r = lake.write(
        "t",
        TableWrite(batches=batches(range(90, 110), range(40, 45), name="v2"), schema=SCHEMA, mode="merge", key_columns=["id"]),
    )
    assert r.rows_written == 25
    assert r.rows_deleted == 15  # 90..99 and 40..44 existed
    assert r.total_rows == 110
    got = rows(lake, "t")
    assert [r["id"] for r in got] == [str(i) for i in range(110)]
    changed = {int(r["id"]) for r in got if r["name"].startswith("v2")}
    assert changed == set(range(90, 110)) | set(range(40, 45))


def test_merge_with_no_rows_still_commits_summary(lake):
    lake.write("t", TableWrite(batches=batches(range(5)), schema=SCHEMA, mode="merge", key_columns=["id"], summary={"cursor": "a"}))
    before = snapshot_id(lake, "t")
    r = lake.write("t", TableWrite(batches=[], schema=SCHEMA, mode="merge", key_columns=["id"], summary={"cursor": "b"}))
    assert r.rows_written == 0 and r.total_rows == 5
    assert snapshot_id(lake, "t") != before
    assert lake.last_committed_property("t", "cursor") == "b"


def test_incoming_duplicate_keys_last_wins(lake):
    # duplicates inside one buffered chunk and across chunks/data files (target_file_bytes is tiny)
    parts = [batch(range(0, 30), name="a"), batch(range(20, 40), name="b"), batch([5, 5, 39], name="c")]
    r = lake.write("t", TableWrite(batches=parts, schema=SCHEMA, key_columns=["id"]))
    assert r.rows_written == 40 and r.total_rows == 40
    assert r.duplicates_dropped == 10 + 3
    got = {int(x["id"]): x["name"].split("-")[0] for x in rows(lake, "t")}
    assert len(got) == 40
    assert got[0] == "a" and got[25] == "b" and got[5] == "c" and got[39] == "c"
    assert lake.read_table("t").num_rows == 40


def test_composite_key_merge_and_deletes(lake):
    cols = [Column("id", "id", "string"), Column("name", "name", "string")]

    def child(parent, ids, name):
        recs = [{"id": str(i), "name": name} for i in ids]
        return records_to_batch(recs, cols, extra={"parent_id": [parent] * len(recs)}, extra_types={"parent_id": "long"}, synced_at=SYNCED)

    schema = schema_for(cols, {"parent_id": "long"})
    first = [child(1, range(10), "a"), child(2, range(10), "a"), child(3, range(10), "a")]
    lake.write("c", TableWrite(batches=first, schema=schema, mode="merge", key_columns=["parent_id", "id"]))
    # same child id under parent 1 and 2: only (1, 3) is replaced; parent 3 is deleted entirely
    r = lake.write(
        "c",
        TableWrite(
            batches=[child(1, [3, 99], "b")],
            schema=schema,
            mode="merge",
            key_columns=["parent_id", "id"],
            deletes=pa.table({"parent_id": pa.array([3], pa.int64())}),
        ),
    )
    assert r.rows_written == 2
    assert r.rows_deleted == 1 + 10
    table = lake.read_table("c", ["parent_id", "id", "name"]).to_pylist()
    assert len(table) == 21
    names = {(x["parent_id"], x["id"]): x["name"] for x in table}
    assert names[(1, "3")] == "b" and names[(2, "3")] == "a" and names[(1, "99")] == "b"
    assert not any(p == 3 for p, _ in names)


def test_schema_evolution_is_additive(lake):
    lake.write("t", TableWrite(batches=batches(range(10)), schema=SCHEMA, mode="merge", key_columns=["id"]))
    wider_cols = [*COLUMNS, Column("colour", "colour", "string")]
    wider = records_to_batch([{"id": str(i), "name": f"v2-{i}", "n": i, "colour": "red"} for i in range(5, 15)], wider_cols, synced_at=SYNCED)
    r = lake.write("t", TableWrite(batches=[wider], schema=schema_for(wider_cols), mode="merge", key_columns=["id"]))
    assert r.columns_added == ["colour"]
    table = lake.read_table("t")
    assert "colour" in table.column_names and "n" in table.column_names
    by_id = {int(x["id"]): x for x in table.to_pylist()}
    assert len(by_id) == 15
    assert by_id[0]["colour"] is None and by_id[7]["colour"] == "red"

    # a write whose schema lacks `n` and `colour`: both kept, nulls for the new rows
    narrow_cols = [Column("id", "id", "string"), Column("name", "name", "string")]
    narrow = records_to_batch([{"id": str(i), "name": f"v3-{i}"} for i in range(12, 20)], narrow_cols, synced_at=SYNCED)
    r = lake.write("t", TableWrite(batches=[narrow], schema=schema_for(narrow_cols), mode="merge", key_columns=["id"]))
    assert r.columns_added == []
    table = lake.read_table("t")
    assert set(table.column_names) >= {"id", "name", "n", "colour", "_raw", "_synced_at"}
    by_id = {int(x["id"]): x for x in table.to_pylist()}
    assert len(by_id) == 20
    assert by_id[13]["n"] is None and by_id[13]["colour"] is None
    assert by_id[7]["n"] == 7 and by_id[7]["colour"] == "red"
    assert by_id[2]["name"] == "v1-2"

    # rerun after evolution in merge mode (the case pyiceberg's upsert breaks on)
    r = lake.write("t", TableWrite(batches=[wider], schema=schema_for(wider_cols), mode="merge", key_columns=["id"]))
    assert r.rows_deleted == 10 and r.total_rows == 20
    by_id = {int(x["id"]): x for x in lake.read_table("t").to_pylist()}
    assert by_id[13]["colour"] == "red" and by_id[13]["n"] == 13


def test_column_appearing_mid_stream(lake):
    wider_cols = [*COLUMNS, Column("extra", "extra", "long")]
    parts = [batch(range(5)), records_to_batch([{"id": "9", "name": "x", "n": 9, "extra": 1}], wider_cols, synced_at=SYNCED)]
    r = lake.write("t", TableWrite(batches=parts, schema=SCHEMA))
    assert r.columns_added == ["extra"]
    got = {x["id"]: x["extra"] for x in lake.read_table("t", ["id", "extra"]).to_pylist()}
    assert got == {"0": None, "1": None, "2": None, "3": None, "4": None, "9": 1}


def test_incompatible_type_change_fails_cleanly(lake):
    lake.write("t", TableWrite(batches=batches(range(3)), schema=SCHEMA))
    before = snapshot_id(lake, "t")
    bad_cols = [Column("id", "id", "string"), Column("n", "n", "string")]
    bad = records_to_batch([{"id": "1", "n": "not a number"}], bad_cols, synced_at=SYNCED)
    with pytest.raises(ValueError, match="column 'n'"):
        lake.write("t", TableWrite(batches=[bad], schema=schema_for(bad_cols)))
    assert snapshot_id(lake, "t") == before


def test_summary_properties_round_trip(lake):
    lake.write(
        "t",
        TableWrite(batches=batches(range(7)), schema=SCHEMA, mode="merge", key_columns=["id"], summary={"cursor.updated": "2025-01-01T00:00Z", "n": 3}),
        run_id="abc",
    )
    table = lake.load("t")
    summary = read_summary(table)
    assert summary["cursor.updated"] == "2025-01-01T00:00Z"
    assert summary["n"] == "3"
    assert summary[RUN_ID_PROPERTY] == "abc"
    assert summary[ROWS_PROPERTY] == "7"
    assert summary["added-records"] == "7"
    # a later commit without the property: the last committed value is still found
    lake.write("t", TableWrite(batches=batches([1]), schema=SCHEMA, mode="merge", key_columns=["id"], summary={"other": "x"}))
    assert read_summary(lake.load("t")).get("cursor.updated") is None
    assert last_committed_property(lake.load("t"), "cursor.updated") == "2025-01-01T00:00Z"
    assert lake.last_committed_property("t", "cursor.updated") == "2025-01-01T00:00Z"
    assert lake.last_committed_property("missing_table", "cursor.updated") is None
    with pytest.raises(ValueError):
        lake.write("t", TableWrite(batches=[], schema=SCHEMA, summary={"added-records": "1"}))


def failing(parts, after):
    for i, b in enumerate(parts):
        if i == after:
            raise RuntimeError("source failed mid-stream")
        yield b


@pytest.mark.parametrize("mode", ["replace", "merge"])
def test_iterator_failure_commits_nothing(lake, tmp_path, mode):
    lake.write("t", TableWrite(batches=batches(range(20)), schema=SCHEMA, mode=mode, key_columns=["id"], summary={"cursor": "1"}))
    before_snapshot = snapshot_id(lake, "t")
    before_rows = rows(lake, "t")
    before_files = set((tmp_path / "lake" / "warehouse").rglob("*.parquet"))
    wider_cols = [*COLUMNS, Column("new_col", "new_col", "string")]
    parts = [batch(range(100 + 10 * i, 110 + 10 * i), name="bad") for i in range(6)]
    with pytest.raises(RuntimeError, match="mid-stream"):
        lake.write(
            "t",
            TableWrite(batches=failing(parts, 4), schema=schema_for(wider_cols), mode=mode, key_columns=["id"], summary={"cursor": "2"}),
        )
    assert snapshot_id(lake, "t") == before_snapshot
    assert rows(lake, "t") == before_rows
    assert "new_col" not in lake.load("t").schema().column_names  # schema change not committed either
    assert lake.last_committed_property("t", "cursor") == "1"
    # data files written for the failed attempt were removed
    assert set((tmp_path / "lake" / "warehouse").rglob("*.parquet")) == before_files
    # and the next write works
    r = lake.write("t", TableWrite(batches=batches(range(5)), schema=SCHEMA, mode=mode, key_columns=["id"], summary={"cursor": "3"}))
    assert lake.last_committed_property("t", "cursor") == "3"
    assert r.total_rows == (5 if mode == "replace" else 20)


def test_iterator_failure_on_first_write_creates_no_table(lake):
    with pytest.raises(RuntimeError):
        lake.write("fresh", TableWrite(batches=failing(batches(range(5), range(5, 10)), 1), schema=SCHEMA))
    assert lake.load("fresh") is None


def test_read_table_projection_and_missing(lake):
    lake.write("t", TableWrite(batches=batches(range(4)), schema=SCHEMA))
    t = lake.read_table("t", ["n", "id"])
    assert t.column_names == ["n", "id"] and t.num_rows == 4
    assert sorted(t.column("n").to_pylist()) == [0, 1, 2, 3]
    t = lake.read_table("t", ["id", "not_there"], types={"not_there": "long"})
    assert t.column_names == ["id", "not_there"] and t.column("not_there").null_count == 4
    assert t.schema.field("not_there").type == pa.int64()
    empty = lake.read_table("nope", ["id", "board_id"], types={"board_id": "long"})
    assert empty.num_rows == 0 and empty.column_names == ["id", "board_id"]
    assert empty.schema.field("board_id").type == pa.int64()
    full = lake.read_table("t")
    assert full.column_names == ["id", "name", "n", "_raw", "_synced_at"]
    assert json.loads(full.sort_by("n").column("_raw")[0].as_py()) == {"id": "0", "name": "v1-0", "n": 0}


def test_null_keys_are_kept_and_never_match(lake):
    recs = [{"id": None, "name": "a"}, {"id": None, "name": "b"}, {"id": "1", "name": "c"}]
    b = records_to_batch(recs, COLUMNS, synced_at=SYNCED)
    r = lake.write("t", TableWrite(batches=[b], schema=SCHEMA, mode="merge", key_columns=["id"]))
    assert r.rows_written == 3 and r.duplicates_dropped == 0
    r = lake.write("t", TableWrite(batches=[b], schema=SCHEMA, mode="merge", key_columns=["id"]))
    assert r.rows_deleted == 1 and r.total_rows == 5  # only the keyed row is replaced


def test_catalog_by_properties_and_by_pyiceberg_env(tmp_path, monkeypatch):
    props = {"type": "sql", "uri": f"sqlite:///{tmp_path / 'other.db'}", "warehouse": (tmp_path / "wh").as_uri()}
    (tmp_path / "wh").mkdir()
    lake = LakeWriter(open_catalog(properties=props), namespace="ns")
    lake.write("t", TableWrite(batches=batches(range(3)), schema=SCHEMA))
    assert lake.qualified_name("t") == "ns.t"
    assert (tmp_path / "other.db").exists()

    monkeypatch.setenv("PYICEBERG_CATALOG__JIRA__TYPE", "sql")
    monkeypatch.setenv("PYICEBERG_CATALOG__JIRA__URI", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("PYICEBERG_CATALOG__JIRA__WAREHOUSE", (tmp_path / "wh").as_uri())
    env_lake = LakeWriter(open_catalog())
    env_lake.write("t", TableWrite(batches=batches(range(4)), schema=SCHEMA))
    assert (tmp_path / "env.db").exists()
    assert not (tmp_path / "lake" / "catalog.db").exists()  # the embedded default was not used
    assert env_lake.read_table("t").num_rows == 4
