"""SnowflakeSync on its own: settings from the environment, secrets kept out of reprs and errors,
password and key-pair logins through SnowflakeResource to a fakesnow server."""

from __future__ import annotations

import pytest
from dagster import EnvVar

from _snowflake_fixtures import connection_args, fakesnow_server, recording_classes  # noqa: F401
from jira_assets.defs.snowflake import SnowflakeSync, snowflake_sync_from_env
from jira_assets.lake.snowflake import SnowflakeSyncError, horizon_catalog_properties

BASE = "s3://jira-lake/warehouse/"


def test_no_mode_no_sync():
    assert snowflake_sync_from_env({}) is None
    assert snowflake_sync_from_env({"SNOWFLAKE_ACCOUNT": "x"}) is None


def test_settings_are_env_vars_and_stay_out_of_repr():
    env = {
        "JIRA_ASSETS_SNOWFLAKE_MODE": "object-store",
        "SNOWFLAKE_ACCOUNT": "xy12345",
        "SNOWFLAKE_USER": "LOADER",
        "SNOWFLAKE_PASSWORD": "hunter2-very-secret",
        "SNOWFLAKE_ROLE": "JIRA_ASSETS",
        "SNOWFLAKE_DATABASE": "JIRA",
        "SNOWFLAKE_STORAGE_BASE_URL": BASE,
    }
    sync = snowflake_sync_from_env(env)
    assert isinstance(sync.password, EnvVar) and sync.password.env_var_name == "SNOWFLAKE_PASSWORD"
    assert isinstance(sync.account, EnvVar) and sync.storage_base_url == BASE  # locations are plain values
    assert sync.warehouse is None  # unset variables stay unset (an EnvVar of an unset variable fails the run)
    text = repr(sync) + str(sync)
    for value in ("hunter2", "SNOWFLAKE_PASSWORD", "xy12345"):
        assert value not in text


def test_incomplete_settings_are_named():
    with pytest.raises(ValueError, match="unknown Snowflake mode 'snowflake'"):
        snowflake_sync_from_env({"JIRA_ASSETS_SNOWFLAKE_MODE": "snowflake"})
    with pytest.raises(ValueError, match="SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_STORAGE_BASE_URL, "
                                         "SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY"):
        snowflake_sync_from_env({"JIRA_ASSETS_SNOWFLAKE_MODE": "object-store"})
    sync = SnowflakeSync(mode="object-store", user="u", password="p")
    with pytest.raises(SnowflakeSyncError, match="SNOWFLAKE_STORAGE_BASE_URL"):
        sync.refresh_statements("issue_search", BASE + "jira/issue_search/metadata/00001-a.metadata.json")
    with pytest.raises(SnowflakeSyncError, match="user is not set"):
        SnowflakeSync(mode="object-store").snowflake_resource_args()


def test_redact_scrubs_every_setting():
    sync = SnowflakeSync(mode="object-store", account="xy12345", user="loader", password="pa55-word",
                         role="JIRA_ASSETS", warehouse="JIRA_WH", database="JIRA", schema="JIRA_VIEWS")
    text = ("login xy12345.snowflakecomputing.com as LOADER / loader with pa55-word role JIRA_ASSETS "
            "warehouse JIRA_WH on JIRA.\"jira\".\"t\" schema JIRA_VIEWS")
    assert sync.redact(text) == (
        "login <account>.snowflakecomputing.com as <user> / <user> with <password> role <role> "
        "warehouse <warehouse> on <database>.\"jira\".\"t\" schema <schema>"
    )


def test_refresh_names_the_given_namespace_and_file(fakesnow_server):
    recorder, RecordingSync = recording_classes()
    sync = RecordingSync(mode="object-store", account="fakesnow", user="loader", password="p", database="JIRA",
                         storage_base_url=BASE,
                         connection_args=connection_args(fakesnow_server, iceberg_ddl_ok=True))
    recorder.statements.clear()
    meta = sync.after_commit("boards", BASE + "jira_test/boards/metadata/00007-b.metadata.json", namespace="jira_test")
    assert meta == {"snowflake_table": '<database>."jira_test"."boards"',
                    "snowflake_metadata_file": "jira_test/boards/metadata/00007-b.metadata.json"}
    assert recorder.statements[-1] == (
        "ALTER ICEBERG TABLE JIRA.\"jira_test\".\"boards\" REFRESH 'jira_test/boards/metadata/00007-b.metadata.json';"
    )
    with pytest.raises(SnowflakeSyncError, match="not under the external volume"):
        sync.after_commit("boards", "s3://elsewhere/jira/boards/metadata/00008-c.metadata.json")


def test_key_pair_login(fakesnow_server, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"key-pass"),
    ).decode()
    recorder, RecordingSync = recording_classes()
    sync = RecordingSync(mode="object-store", account="fakesnow", user="loader", private_key=pem,
                         private_key_password="key-pass", storage_base_url=BASE,
                         connection_args=connection_args(fakesnow_server, iceberg_ddl_ok=True))
    recorder.statements.clear()
    sync.after_commit("boards", BASE + "jira/boards/metadata/00001-a.metadata.json")
    assert len(recorder.statements) == 2
    assert "PRIVATE KEY" not in repr(sync)
    line = next(line for line in pem.splitlines() if len(line) > 40)
    assert line not in sync.redact(f"oops {line}")


def test_horizon_catalog_properties():
    assert horizon_catalog_properties("myorg-myaccount", "JIRA", "JIRA_ASSETS", "<pat>") == {
        "type": "rest",
        "uri": "https://myorg-myaccount.snowflakecomputing.com/polaris/api/catalog",
        "oauth2-server-uri": "https://myorg-myaccount.snowflakecomputing.com/polaris/api/catalog/v1/oauth/tokens",
        "warehouse": "JIRA",
        "credential": "<pat>",
        "scope": "session:role:JIRA_ASSETS",
        "header.X-Iceberg-Access-Delegation": "vended-credentials",
    }
