"""Keeping Snowflake in step with the lake after every commit: the Dagster resource the IO manager calls.

The SQL and the naming rules live in `jira_assets.lake.snowflake`; this module holds the connection settings
(EnvVars, never shown) and runs the refresh. Import cost: dagster_snowflake (and snowflake.core under it) takes
seconds to import, and this module is imported by the IO manager in every step process, so it is imported lazily,
only when a refresh actually runs.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from typing import Any

from dagster import ConfigurableResource, EnvVar
from pydantic import Field

from jira_assets.lake.snowflake import (
    SnowflakeSyncError, check_mode, iceberg_table_ref, object_store_create_sql, object_store_refresh_sql,
    relative_metadata_path, snowflake_name,
)

log = logging.getLogger(__name__)


SECRET_FIELDS = ("password", "private_key", "private_key_password")
SETTING_FIELDS = ("account", "user", "role", "warehouse", "database", "schema_") + SECRET_FIELDS


class SnowflakeSync(ConfigurableResource):
    """Keeps Snowflake in step with the lake: the IO manager calls `after_commit` after each commit.

    object-store: CREATE ICEBERG TABLE IF NOT EXISTS (first commit) + ALTER ICEBERG TABLE ... REFRESH
    '<the commit's metadata file>' through dagster-snowflake's SnowflakeResource. A failure raises
    SnowflakeSyncError (the materialization fails, the Iceberg commit stays); because every run
    refreshes to the newest metadata file, which carries the table's whole state, the next successful
    run repairs Snowflake. horizon / rest: Snowflake follows the catalog itself; nothing runs.

    Connection settings are plain fields so they can be `EnvVar`s; secrets are excluded from repr and
    are scrubbed, like every setting, from error messages. dagster_snowflake is imported only when a
    statement runs (it takes seconds to import).
    """

    mode: str = Field(description="horizon | rest | object-store")
    account: str | None = Field(default=None, repr=False)
    user: str | None = Field(default=None, repr=False)
    password: str | None = Field(default=None, repr=False)
    private_key: str | None = Field(default=None, repr=False, description="PEM, or base64 of the PEM")
    private_key_path: str | None = Field(default=None, repr=False)
    private_key_password: str | None = Field(default=None, repr=False)
    role: str | None = Field(default=None, repr=False)
    warehouse: str | None = Field(default=None, repr=False)
    database: str | None = Field(default=None, repr=False, description="database holding the Iceberg tables")
    schema_: str | None = Field(default=None, repr=False, alias="schema", description="session schema")
    namespace: str = Field(default="jira", description="Iceberg namespace = Snowflake schema of the tables")
    external_volume: str = Field(default="JIRA_ASSETS_VOLUME")
    catalog_integration: str = Field(default="JIRA_ASSETS_CATALOG")
    storage_base_url: str | None = Field(default=None, description="the external volume's STORAGE_BASE_URL")
    login_timeout: int | None = Field(default=60)
    network_timeout: int | None = Field(default=120)
    connection_args: dict[str, Any] | None = Field(
        default=None, repr=False, description="extra snowflake.connector args (host, port, protocol, session_parameters...)"
    )

    # -- the hook

    def after_commit(
        self, table_name: str, metadata_location: str, context: Any = None, namespace: str | None = None
    ) -> dict[str, Any]:
        """Bring Snowflake up to date with the commit whose metadata file is `metadata_location`.

        `namespace`: the lake's Iceberg namespace (default: this resource's `namespace`).
        Returns output metadata for the materialization. Raises SnowflakeSyncError on failure.
        """
        mode = check_mode(self.mode)
        if mode != "object-store":
            return {"snowflake_mode": mode}
        namespace = namespace or self.namespace
        statements, relative = self.refresh_statements(table_name, metadata_location, namespace)
        try:
            with self.snowflake_resource().get_connection() as conn:
                cursor = conn.cursor()
                try:
                    for sql in statements:
                        cursor.execute(sql)
                finally:
                    cursor.close()
        except Exception as exc:  # connector, network, auth, SQL errors alike
            # `from None`: the connector's own exception (and its traceback) may carry connection
            # settings; its message is kept, scrubbed.
            raise SnowflakeSyncError(
                self.redact(
                    f"Iceberg table {namespace}.{table_name} was committed (metadata file {relative}), but "
                    f"Snowflake could not be refreshed: {type(exc).__name__}: {exc}. "
                    "Snowflake keeps showing the previous version until a refresh succeeds; the next successful "
                    "materialization refreshes it to the newest metadata file, or run by hand: "
                    + " ".join(" ".join(sql.split()) for sql in statements)
                )
            ) from None
        ref = self.redact(self.table_ref(table_name, namespace))
        _log(context, f"Snowflake table {ref} refreshed to {relative}")
        return {"snowflake_table": ref, "snowflake_metadata_file": relative}

    def refresh_statements(
        self, table_name: str, metadata_location: str, namespace: str | None = None
    ) -> tuple[list[str], str]:
        """The statements after_commit runs for an object-store table, and the relative path they use."""
        snowflake_name(table_name)
        if not self.storage_base_url:
            raise SnowflakeSyncError(
                "object-store mode needs the external volume's STORAGE_BASE_URL (SNOWFLAKE_STORAGE_BASE_URL) "
                "to name metadata files relative to it"
            )
        relative = relative_metadata_path(metadata_location, self.storage_base_url)
        ref = self.table_ref(table_name, namespace)
        return (
            [
                object_store_create_sql(ref, self.external_volume, self.catalog_integration, relative),
                object_store_refresh_sql(ref, relative),
            ],
            relative,
        )

    def table_ref(self, table_name: str, namespace: str | None = None) -> str:
        return iceberg_table_ref(_plain(self.database), namespace or self.namespace, table_name)

    # -- connection

    def snowflake_resource(self) -> Any:
        """dagster-snowflake's SnowflakeResource with these settings (a subclass point for tests)."""
        from dagster_snowflake import SnowflakeResource

        return SnowflakeResource(**self.snowflake_resource_args())

    def snowflake_resource_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for name in ("account", "user", "password", "private_key", "private_key_path", "private_key_password",
                     "role", "warehouse", "database"):
            value = _plain(getattr(self, name))
            if value:
                args[name] = value
        if _plain(self.schema_):
            args["schema"] = _plain(self.schema_)
        if self.login_timeout is not None:
            args["login_timeout"] = self.login_timeout
        if self.network_timeout is not None:
            args["network_timeout"] = self.network_timeout
        if self.connection_args:
            args["additional_snowflake_connection_args"] = dict(self.connection_args)
        if "user" not in args:
            raise SnowflakeSyncError("Snowflake user is not set (SNOWFLAKE_USER)")
        return args

    def redact(self, text: str) -> str:
        """`text` with every configured setting value replaced by its field name."""
        for name in SETTING_FIELDS:
            value = _plain(getattr(self, name, None))
            if not value or len(value) < 3:
                continue
            # as given and as Snowflake spells unquoted names (uppercase); exact case otherwise, so
            # database JIRA does not blank out the namespace "jira"
            variants = {value, value.upper()}
            if name == "private_key":
                variants |= {line for line in value.splitlines() if len(line) >= 16}
            for v in sorted(variants, key=len, reverse=True):
                text = re.sub(r"(?<![A-Za-z0-9_])" + re.escape(v) + r"(?![A-Za-z0-9_])", f"<{name.rstrip('_')}>", text)
        return text


def _plain(value: Any) -> Any:
    """A setting's value: an EnvVar (str subclass holding the variable *name*) resolved when used directly."""
    if isinstance(value, EnvVar):
        return value.get_value()
    return value


def _log(context: Any, message: str) -> None:
    logger = getattr(context, "log", None)
    (logger or log).info(message)


# --- settings from the environment --------------------------------------------------------------

MODE_ENV = "JIRA_ASSETS_SNOWFLAKE_MODE"
# Settings read with EnvVar, so Dagster shows the variable's name and never its value.
_ENV_FIELDS = {
    "account": "SNOWFLAKE_ACCOUNT",
    "user": "SNOWFLAKE_USER",
    "password": "SNOWFLAKE_PASSWORD",
    "private_key": "SNOWFLAKE_PRIVATE_KEY",
    "private_key_path": "SNOWFLAKE_PRIVATE_KEY_PATH",
    "private_key_password": "SNOWFLAKE_PRIVATE_KEY_PASSWORD",
    "role": "SNOWFLAKE_ROLE",
    "warehouse": "SNOWFLAKE_WAREHOUSE",
    "database": "SNOWFLAKE_DATABASE",
    "schema": "SNOWFLAKE_SCHEMA",
}
# Object names and locations (not secrets) read as plain values.
_PLAIN_ENV = {
    "external_volume": "SNOWFLAKE_EXTERNAL_VOLUME",
    "catalog_integration": "SNOWFLAKE_CATALOG_INTEGRATION",
    "storage_base_url": "SNOWFLAKE_STORAGE_BASE_URL",
}


def snowflake_sync_from_env(env: Mapping[str, str] | None = None, **overrides: Any) -> SnowflakeSync | None:
    """A SnowflakeSync from JIRA_ASSETS_SNOWFLAKE_MODE and SNOWFLAKE_* variables; None when the mode is unset.

    Only variables that are set become EnvVars (an EnvVar of an unset variable fails at run start).
    """
    env = os.environ if env is None else env
    mode = (env.get(MODE_ENV) or "").strip()
    if not mode:
        return None
    check_mode(mode)
    kwargs: dict[str, Any] = {"mode": mode}
    for key, var in _ENV_FIELDS.items():
        if env.get(var):
            kwargs[key] = EnvVar(var)
    for key, var in _PLAIN_ENV.items():
        if env.get(var):
            kwargs[key] = env[var]
    if mode == "object-store":
        missing = [v for v in ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_STORAGE_BASE_URL") if not env.get(v)]
        if not any(env.get(v) for v in ("SNOWFLAKE_PASSWORD", "SNOWFLAKE_PRIVATE_KEY", "SNOWFLAKE_PRIVATE_KEY_PATH")):
            missing.append("SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY(_PATH)")
        if missing:
            raise ValueError(f"{MODE_ENV}=object-store needs {', '.join(missing)}")
    kwargs.update(overrides)
    return SnowflakeSync(**kwargs)


def snowflake_resource_from_env(env: Mapping[str, str] | None = None, **extra: Any) -> Any:
    """dagster-snowflake's SnowflakeResource with every SNOWFLAKE_* setting as an EnvVar."""
    from dagster_snowflake import SnowflakeResource

    env = os.environ if env is None else env
    kwargs = {key: EnvVar(var) for key, var in _ENV_FIELDS.items() if env.get(var)}
    kwargs.update(extra)
    return SnowflakeResource(**kwargs)
