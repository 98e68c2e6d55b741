"""records -> Arrow: typed columns, lossless _raw, robust timestamp parsing."""

import datetime as dt
import json

import pyarrow as pa
import pytest

from jira_assets.lake.arrow import (
    Column,
    parse_date_days,
    parse_timestamp,
    records_to_batch,
    schema_for,
)

UTC = dt.timezone.utc
SYNCED = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2021-01-17T12:34:00.000+0000", dt.datetime(2021, 1, 17, 12, 34, tzinfo=UTC)),
        ("2015-04-11T15:22:00.000+10:00", dt.datetime(2015, 4, 11, 5, 22, tzinfo=UTC)),
        ("2015-04-11T15:22:00.000+1000", dt.datetime(2015, 4, 11, 5, 22, tzinfo=UTC)),
        ("2025-01-27T09:00:00.000Z", dt.datetime(2025, 1, 27, 9, 0, tzinfo=UTC)),
        ("2025-01-27T09:00:00.123456789-0530", dt.datetime(2025, 1, 27, 14, 30, 0, 123456, tzinfo=UTC)),
        ("2025-01-27T09:00:00.5+00", dt.datetime(2025, 1, 27, 9, 0, 0, 500000, tzinfo=UTC)),
        ("2025-01-27 09:00", dt.datetime(2025, 1, 27, 9, 0, tzinfo=UTC)),  # naive = UTC
        ("2025-01-31", dt.datetime(2025, 1, 31, tzinfo=UTC)),
        ("2024-12-31T23:30:00.000-0100", dt.datetime(2025, 1, 1, 0, 30, tzinfo=UTC)),  # crosses a year
        (1438013671562, dt.datetime(2015, 7, 27, 16, 14, 31, 562000, tzinfo=UTC)),  # epoch ms
        ("1438013671562", dt.datetime(2015, 7, 27, 16, 14, 31, 562000, tzinfo=UTC)),
        (0, dt.datetime(1970, 1, 1, tzinfo=UTC)),
        (None, None),
        ("", None),
        ("not a date", None),
        ("2025-13-01T00:00:00.000+0000", None),
        ("2025-02-30", None),
        ("2025-01-01T25:00:00.000+0000", None),
        ("2025-01-01T00:00:00.000+2500", None),
        (True, None),
        ({"a": 1}, None),
        (float("nan"), None),
        (10**30, None),
        ("9999-12-31T23:00:00.000-0500", None),  # beyond year 9999 in UTC
        ("0001-01-01T00:00:00.000+0100", None),
    ],
)
def test_parse_timestamp(text, expected):
    assert parse_timestamp(text) == expected


def test_parse_date():
    days = lambda d: (d - dt.date(1970, 1, 1)).days  # noqa: E731
    assert parse_date_days("2025-01-31") == days(dt.date(2025, 1, 31))
    assert parse_date_days("2025-01-31T23:59:00.000+1000") == days(dt.date(2025, 1, 31))  # date as written
    assert parse_date_days("31/01/2025") is None
    assert parse_date_days("2025-02-29") is None
    assert parse_date_days(None) is None


def test_records_to_batch_types_paths_and_raw():
    columns = [
        Column("id", "id", "string"),
        Column("project_id", "fields.project.id", "string"),
        Column("num", "fields.num", "long"),
        Column("ratio", "fields.ratio", "double"),
        Column("flag", "fields.flag", "boolean"),
        Column("updated", "fields.updated", "timestamptz"),
        Column("due", "fields.duedate", "date"),
        Column("labels", "fields.labels", "json"),
        Column("first_version", "fields.fixVersions.0.name", "string"),
        Column("missing", "fields.no.such.path", "string"),
    ]
    records = [
        {
            "id": "10001",
            "fields": {
                "project": {"id": 10000},  # int id in a string column -> "10000"
                "num": "42",
                "ratio": 1,
                "flag": True,
                "updated": "2021-01-17T12:34:00.000+0000",
                "duedate": "2025-01-31",
                "labels": ["a", "ü"],
                "fixVersions": [{"name": "v1"}],
            },
        },
        {
            "id": "10002",
            "fields": {
                "project": None,
                "num": "forty-two",  # bad -> null, no crash
                "ratio": "x",
                "flag": "yes",
                "updated": "garbage",
                "duedate": 12,
                "labels": None,
                "fixVersions": [],
            },
        },
        {"id": 10003},  # fields missing entirely
    ]
    batch = records_to_batch(records, columns, extra={"board_id": [7, 7, 8]}, synced_at=SYNCED)
    assert batch.schema == schema_for(columns, {"board_id": "long"})
    rows = batch.to_pylist()
    assert rows[0]["project_id"] == "10000"
    assert rows[0]["num"] == 42 and rows[1]["num"] is None
    assert rows[0]["ratio"] == 1.0 and rows[1]["ratio"] is None
    assert rows[0]["flag"] is True and rows[1]["flag"] is None
    assert rows[0]["updated"] == dt.datetime(2021, 1, 17, 12, 34, tzinfo=UTC)
    assert rows[1]["updated"] is None
    assert rows[0]["due"] == dt.date(2025, 1, 31)
    assert rows[0]["labels"] == '["a","ü"]' and rows[1]["labels"] is None
    assert rows[0]["first_version"] == "v1" and rows[1]["first_version"] is None
    assert [r["missing"] for r in rows] == [None, None, None]
    assert rows[2]["id"] == "10003"
    assert [r["board_id"] for r in rows] == [7, 7, 8]
    assert all(r["_synced_at"] == SYNCED for r in rows)
    for record, row in zip(records, rows):
        assert json.loads(row["_raw"]) == record
        assert row["_raw"] == json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    assert batch.schema.field("updated").type == pa.timestamp("us", tz="UTC")


def test_empty_batch_keeps_schema():
    columns = [Column("id", "id", "long")]
    batch = records_to_batch([], columns, extra={"issue_id": []}, extra_types={"issue_id": "string"}, synced_at=SYNCED)
    assert batch.num_rows == 0
    assert batch.schema == schema_for(columns, {"issue_id": "string"})


def test_bad_definitions_are_rejected():
    with pytest.raises(ValueError):
        Column("x", "x", "integer")
    with pytest.raises(ValueError):
        Column("_raw", "x")
    with pytest.raises(ValueError):
        records_to_batch([{}], [Column("id", "id")], extra={"id": [1]}, synced_at=SYNCED)
    with pytest.raises(ValueError):
        records_to_batch([{}], [Column("id", "id")], extra={"p": [1, 2]}, synced_at=SYNCED)
