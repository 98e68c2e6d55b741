"""The object-store path end to end: Dagster asset -> IcebergIOManager -> Iceberg on a local S3 (moto) ->
SnowflakeSync -> dagster-snowflake's SnowflakeResource -> snowflake.connector -> a local fakesnow server.

Above all: each refresh names the exact metadata file of the commit just made (relative to the external
volume's base), which the test proves by reading that file back from S3 and finding the commit's
snapshot id in it. Also: a failed refresh fails the materialization with a clear message while the
Iceberg commit stands, the next run repairs Snowflake, and no setting shows up in logs.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime, timezone

from dagster import AssetKey, DagsterInstance, asset, materialize

from jira_assets.lake.arrow import Column, records_to_batch
from jira_assets.defs.io_manager import IcebergIOManager
from jira_assets.lake.catalog import open_catalog
from jira_assets.lake.writer import TableWrite
from jira_assets.defs.snowflake import SnowflakeSync, snowflake_sync_from_env
from _snowflake_fixtures import (  # noqa: F401  (fixtures)
    BUCKET,
    S3_KEYS,
    connection_args,
    fakesnow_server,
    recording_classes,
    s3_client,
    s3_endpoint,
)

COLUMNS = [Column("id", "id"), Column("key", "key"), Column("updated", "updated", "timestamptz")]
SYNCED_AT = datetime(2026, 11, 1, tzinfo=timezone.utc)
STATE: dict = {}  # what the asset writes on its next run


@asset(name="issue_search", io_manager_key="lake")
def issue_search_asset() -> TableWrite:
    batch = records_to_batch(STATE["records"], COLUMNS, synced_at=SYNCED_AT)
    return TableWrite(batches=[batch], schema=batch.schema, mode=STATE["mode"], key_columns=["id"])


def issue(n: int, updated: str = "2026-10-01T10:00:00.000+0000") -> dict:
    return {"id": str(10000 + n), "key": f"DEMO-{n}", "updated": updated}


class Lake:
    """A lake whose warehouse is on the moto S3, one fresh prefix per test."""

    def __init__(self, tmp_path, endpoint: str) -> None:
        self.prefix = f"{tmp_path.name}-{secrets.token_hex(4)}"
        self.base_url = f"s3://{BUCKET}/{self.prefix}/warehouse/"
        self.endpoint = endpoint
        self.properties = {
            "type": "sql",
            "uri": f"sqlite:///{tmp_path}/catalog.db",
            "warehouse": self.base_url.rstrip("/"),
            "s3.endpoint": endpoint,
            **S3_KEYS,
        }

    def io_manager(self, sync: SnowflakeSync | None) -> IcebergIOManager:
        return IcebergIOManager(catalog_name="jira", catalog_properties=self.properties, snowflake=sync)

    def metadata_location(self) -> str:
        return open_catalog(None, "jira", self.properties).load_table(("jira", "issue_search")).metadata_location

    def read_metadata(self, relative: str) -> dict:
        body = s3_client(self.endpoint).get_object(Bucket=BUCKET, Key=f"{self.prefix}/warehouse/{relative}")["Body"]
        return json.loads(body.read())


def run(lake: Lake, sync: SnowflakeSync | None, records: list[dict], mode: str, instance=None):
    STATE.update(records=records, mode=mode)
    return materialize(
        [issue_search_asset],
        resources={"lake": lake.io_manager(sync)},
        raise_on_error=False,
        instance=instance,
    )


def materialization_metadata(result) -> dict:
    [mat] = result.asset_materializations_for_node("issue_search")
    assert mat.asset_key == AssetKey("issue_search")
    return {k: v.value for k, v in mat.metadata.items()}


def failure_message(result) -> str:
    [event] = [e for e in result.all_events if e.is_step_failure]
    error = event.step_failure_data.error
    parts = []
    while error is not None:
        parts.append(error.message)
        parts.extend(error.stack)
        error = error.cause
    return "\n".join(parts)


def recording_sync(lake: Lake, server: dict, *, ok: bool) -> SnowflakeSync:
    _, RecordingSync = recording_classes()
    return RecordingSync(
        mode="object-store",
        account="fakesnow",
        user="loader",
        password="not-checked-by-fakesnow",
        database="JIRA",
        storage_base_url=lake.base_url,
        connection_args=connection_args(server, iceberg_ddl_ok=ok),
        login_timeout=5,
        network_timeout=5,
    )


def test_each_commit_refreshes_snowflake_to_its_own_metadata_file(tmp_path, s3_endpoint, fakesnow_server):
    recorder, _ = recording_classes()
    lake = Lake(tmp_path, s3_endpoint)
    sync = recording_sync(lake, fakesnow_server, ok=True)
    seen_paths = []
    for n, (records, mode) in enumerate(
        [
            ([issue(1), issue(2), issue(3)], "replace"),
            ([issue(2, "2026-10-02T11:00:00.000+0000"), issue(4)], "merge"),
            ([issue(5)], "replace"),
        ]
    ):
        recorder.statements.clear()
        result = run(lake, sync, records, mode)
        assert result.success, failure_message(result)
        meta = materialization_metadata(result)

        location = lake.metadata_location()
        assert location.startswith(lake.base_url)
        relative = location[len(lake.base_url):]
        assert relative.startswith("jira/issue_search/metadata/") and relative.endswith(".metadata.json")
        # the file Snowflake is told about is the one this very commit wrote
        assert lake.read_metadata(relative)["current-snapshot-id"] == int(meta["snapshot_id"])
        assert meta["snowflake_metadata_file"] == relative
        assert meta["snowflake_table"] == '<database>."jira"."issue_search"'  # settings stay out of metadata

        assert recorder.statements == [
            'CREATE ICEBERG TABLE IF NOT EXISTS JIRA."jira"."issue_search"\n'
            "  EXTERNAL_VOLUME = 'JIRA_ASSETS_VOLUME'\n"
            "  CATALOG = 'JIRA_ASSETS_CATALOG'\n"
            f"  METADATA_FILE_PATH = '{relative}';",
            f"ALTER ICEBERG TABLE JIRA.\"jira\".\"issue_search\" REFRESH '{relative}';",
        ]
        seen_paths.append(relative)
    assert len(set(seen_paths)) == 3  # a new metadata file per commit, each one refreshed


def test_failed_refresh_fails_the_materialization_and_the_next_run_repairs_it(tmp_path, s3_endpoint, fakesnow_server):
    recorder, _ = recording_classes()
    lake = Lake(tmp_path, s3_endpoint)
    good = recording_sync(lake, fakesnow_server, ok=True)
    broken = recording_sync(lake, fakesnow_server, ok=False)  # fakesnow rejects Iceberg DDL: a real SQL error

    assert run(lake, good, [issue(1)], "replace").success
    before = lake.metadata_location()

    recorder.statements.clear()
    result = run(lake, broken, [issue(1), issue(2)], "replace")
    assert not result.success
    after_failure = lake.metadata_location()
    assert after_failure != before  # the Iceberg commit stands; only Snowflake is behind
    relative = after_failure[len(lake.base_url):]
    message = failure_message(result)
    assert "Iceberg table jira.issue_search was committed" in message
    assert f"(metadata file {relative})" in message
    assert "Snowflake could not be refreshed: ProgrammingError" in message
    assert "the next successful materialization refreshes it to the newest metadata file" in message
    assert f"ALTER ICEBERG TABLE <database>.\"jira\".\"issue_search\" REFRESH '{relative}';" in message
    assert recorder.statements and relative in recorder.statements[0]
    assert open_catalog(None, "jira", lake.properties).load_table(("jira", "issue_search")).scan().to_arrow().num_rows == 2

    recorder.statements.clear()
    repaired = run(lake, good, [issue(1), issue(2), issue(3)], "replace")
    assert repaired.success, failure_message(repaired)
    newest = lake.metadata_location()[len(lake.base_url):]
    assert recorder.statements[-1] == f"ALTER ICEBERG TABLE JIRA.\"jira\".\"issue_search\" REFRESH '{newest}';"
    assert lake.read_metadata(newest)["current-snapshot-id"] == int(materialization_metadata(repaired)["snapshot_id"])


def test_horizon_and_rest_modes_run_nothing_per_commit(tmp_path, s3_endpoint, fakesnow_server):
    recorder, RecordingSync = recording_classes()
    lake = Lake(tmp_path, s3_endpoint)
    for mode in ("horizon", "rest"):
        recorder.statements.clear()
        sync = RecordingSync(mode=mode, user="loader", connection_args=connection_args(fakesnow_server, iceberg_ddl_ok=False))
        result = run(lake, sync, [issue(1)], "replace")
        assert result.success, failure_message(result)
        assert materialization_metadata(result)["snowflake_mode"] == mode
        assert recorder.statements == []


def test_settings_never_reach_logs(tmp_path, s3_endpoint, fakesnow_server, monkeypatch, caplog):
    lake = Lake(tmp_path, s3_endpoint)
    token = secrets.token_hex(4).upper()
    settings = {
        "SNOWFLAKE_ACCOUNT": f"ACCT{token}",
        "SNOWFLAKE_USER": f"USER{token}",
        "SNOWFLAKE_PASSWORD": f"pw-{secrets.token_urlsafe(12)}",
        "SNOWFLAKE_ROLE": f"ROLE{token}",
        "SNOWFLAKE_WAREHOUSE": f"WH{token}",
        "SNOWFLAKE_DATABASE": f"DB{token}",
        "SNOWFLAKE_SCHEMA": f"SCHEMA{token}",
    }
    for var, value in settings.items():
        monkeypatch.setenv(var, value)
    monkeypatch.setenv("JIRA_ASSETS_SNOWFLAKE_MODE", "object-store")
    monkeypatch.setenv("SNOWFLAKE_STORAGE_BASE_URL", lake.base_url)

    def sync(ok: bool) -> SnowflakeSync:
        s = snowflake_sync_from_env(connection_args=connection_args(fakesnow_server, iceberg_ddl_ok=ok), login_timeout=5)
        assert s is not None
        return s

    caplog.set_level(logging.DEBUG, logger="jira_assets")
    caplog.set_level(logging.INFO)
    instance = DagsterInstance.ephemeral()
    ok = run(lake, sync(True), [issue(1)], "replace", instance=instance)
    failed = run(lake, sync(False), [issue(1), issue(2)], "replace", instance=instance)
    assert ok.success and not failed.success

    texts = [failure_message(failed), repr(sync(True))]
    for result in (ok, failed):
        for entry in instance.all_logs(result.run_id):
            texts.append(entry.user_message or "")
            texts.append(entry.message or "")
            if entry.dagster_event is not None:
                texts.append(repr(entry.dagster_event))
    # fakesnow (and the sqlglot/uvicorn it runs on) logs on the *server* side: it stands in for Snowflake
    server_side = ("fakesnow", "uvicorn", "sqlglot")
    client_records = [r for r in caplog.records if not r.name.startswith(server_side)]
    texts += [f"{r.name}: {r.getMessage()}" for r in client_records]
    everything = "\n".join(texts).lower()
    assert "snowflake could not be refreshed" in everything  # the failure is there, only without settings
    for var, value in settings.items():
        leaks = [line for line in everything.splitlines() if value.lower() in line]
        assert not leaks, f"{var} leaked into logs: {leaks[:3]}"
