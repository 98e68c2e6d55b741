"""Making the lake's Iceberg tables queryable in Snowflake (sink side: Arrow/Iceberg/Snowflake, no Jira).

Snowflake reads tables written by another engine in three ways; this module supports all three:

- ``horizon``: Snowflake-managed Iceberg tables that pyiceberg writes through Snowflake's Horizon
  Iceberg REST catalog. Snowflake sees every commit at once; nothing to do per commit. Snowflake
  documents that external engines write to tables created in Snowflake first, so the setup SQL
  creates each table with its columns.
- ``rest``: an external Iceberg REST catalog (Polaris, Glue, S3 Tables) that Snowflake reads through a
  catalog integration (``CATALOG_SOURCE = ICEBERG_REST``), per table with ``AUTO_REFRESH = TRUE``
  (or a catalog-linked database). Nothing to do per commit.
- ``object-store``: any pyiceberg catalog whose warehouse is on S3/GCS/Azure. Snowflake only sees the
  metadata file it is told about, so after every commit `SnowflakeSync.after_commit` runs
  ``ALTER ICEBERG TABLE ... REFRESH '<metadata file relative to the external volume>'`` through
  dagster-snowflake's ``SnowflakeResource``.

What lives here:
1. `snowflake_setup_sql(mode, tables)`: the complete, idempotent setup SQL for a list of tables.
2. The statements of the per-commit refresh (`object_store_refresh_sql`), which the Dagster resource
   `jira_assets.defs.snowflake.SnowflakeSync` runs after each commit.
3. The Iceberg -> Snowflake type mapping and Snowflake-friendly names.

DDL follows Snowflake's reference pages (URLs next to each statement in `_DOCS`); where a page's
syntax has no ``IF NOT EXISTS`` (catalog-linked databases) the statement is left commented out.

"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from pyiceberg.types import ListType
from jira_assets.lake.arrow import COLUMN_TYPES

log = logging.getLogger(__name__)

MODES = ("horizon", "rest", "object-store")

# Snowflake documentation the generated SQL follows (cited in the SQL comments and docs/snowflake.md).
_DOCS = {
    "external_volume": "https://docs.snowflake.com/en/sql-reference/sql/create-external-volume",
    "catalog_object_store": "https://docs.snowflake.com/en/sql-reference/sql/create-catalog-integration-object-storage",
    "catalog_rest": "https://docs.snowflake.com/en/sql-reference/sql/create-catalog-integration-rest",
    "table_snowflake": "https://docs.snowflake.com/en/user-guide/tables-iceberg-data-types",
    "table_files": "https://docs.snowflake.com/en/sql-reference/sql/create-iceberg-table-iceberg-files",
    "table_rest": "https://docs.snowflake.com/en/sql-reference/sql/create-iceberg-table-rest",
    "refresh": "https://docs.snowflake.com/en/sql-reference/sql/alter-iceberg-table-refresh",
    "linked_db": "https://docs.snowflake.com/en/sql-reference/sql/create-database-catalog-linked",
    "horizon": "https://docs.snowflake.com/en/user-guide/tables-iceberg-access-using-external-query-engine-snowflake-horizon",
    "identifiers": "https://docs.snowflake.com/en/sql-reference/identifiers-syntax",
}


# --- types ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TypeMapping:
    iceberg: str  # Iceberg spec type
    ddl: str  # how a Snowflake-managed (horizon) table declares it: Snowflake accepts Iceberg type names
    snowflake: str  # the Snowflake type queries see
    note: str = ""


# Snowflake "Data types for Apache Iceberg tables": Iceberg type -> the Snowflake type used to process
# and return values. int is approximated by NUMBER(10,0), so its range check is Iceberg's, not NUMBER's.
TYPE_MAPPINGS: dict[str, TypeMapping] = {
    m.iceberg: m
    for m in (
        TypeMapping("boolean", "BOOLEAN", "BOOLEAN"),
        TypeMapping("int", "INT", "NUMBER(10,0)", "approximate: values stay within 32-bit range"),
        TypeMapping("long", "LONG", "NUMBER(19,0)", "approximate: values stay within 64-bit range"),
        TypeMapping("float", "FLOAT", "FLOAT"),
        TypeMapping("double", "DOUBLE", "FLOAT"),
        TypeMapping("date", "DATE", "DATE"),
        TypeMapping("time", "TIME", "TIME(6)"),
        TypeMapping("timestamp", "TIMESTAMP_NTZ(6)", "TIMESTAMP_NTZ(6)"),
        TypeMapping("timestamptz", "TIMESTAMP_LTZ(6)", "TIMESTAMP_LTZ(6)", "shown in the session time zone"),
        TypeMapping("string", "STRING", "VARCHAR"),
        TypeMapping("binary", "BINARY", "BINARY"),
    )
}
_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")

# The lake's column types as Iceberg types (from the one type table in lake/arrow.py).
LAKE_TO_ICEBERG = {name: t.iceberg for name, t in COLUMN_TYPES.items()}


_LIST = re.compile(r"^list<(.+)>$")


def type_mapping(iceberg_type: str) -> TypeMapping:
    """The mapping for an Iceberg type name ("long", "timestamptz", "decimal(10,2)", "list<string>"): Iceberg
    lists are Snowflake's structured ARRAY of the element's type."""
    t = iceberg_type.strip().lower()
    if t in TYPE_MAPPINGS:
        return TYPE_MAPPINGS[t]
    listed = _LIST.match(t)
    if listed:
        element = type_mapping(listed.group(1))
        return TypeMapping(t, f"ARRAY({element.ddl})", f"ARRAY({element.snowflake})")
    m = _DECIMAL.match(t)
    if m:
        p, s = m.groups()
        return TypeMapping(t, f"DECIMAL({p},{s})", f"NUMBER({p},{s})")
    raise ValueError(
        f"Iceberg type {iceberg_type!r} has no Snowflake mapping here; the lake only writes "
        f"{', '.join(sorted(TYPE_MAPPINGS))} and decimal(p,s)"
    )


def iceberg_type_of_arrow(dtype: pa.DataType) -> str:
    """The Iceberg type pyiceberg writes for an Arrow type (primitives, and lists of them)."""
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return f"list<{iceberg_type_of_arrow(dtype.value_type)}>"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "string"
    if pa.types.is_int64(dtype):
        return "long"
    if pa.types.is_int32(dtype) or pa.types.is_int16(dtype) or pa.types.is_int8(dtype):
        return "int"
    if pa.types.is_float64(dtype):
        return "double"
    if pa.types.is_float32(dtype):
        return "float"
    if pa.types.is_boolean(dtype):
        return "boolean"
    if pa.types.is_date(dtype):
        return "date"
    if pa.types.is_timestamp(dtype):
        return "timestamptz" if dtype.tz is not None else "timestamp"
    if pa.types.is_time(dtype):
        return "time"
    if pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype):
        return "binary"
    if pa.types.is_decimal(dtype):
        return f"decimal({dtype.precision},{dtype.scale})"
    raise ValueError(f"Arrow type {dtype} is not a primitive the Snowflake setup handles")


# --- names ------------------------------------------------------------------------------------

# Snowflake's reserved and limited keywords (SQL reference, "Reserved & limited keywords"): such a
# name is quoted wherever it is used as an identifier.
RESERVED_KEYWORDS = frozenset(
    """
    ACCOUNT ALL ALTER AND ANY AS ASC BETWEEN BY CASE CAST CHECK COLUMN CONNECT CONNECTION CONSTRAINT
    CREATE CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER DATABASE DELETE DESC
    DISTINCT DROP ELSE EXISTS FALSE FOLLOWING FOR FROM FULL GRANT GROUP GSCLUSTER HAVING ILIKE IN
    INCREMENT INNER INSERT INTERSECT INTO IS ISSUE JOIN LATERAL LEFT LIKE LOCALTIME LOCALTIMESTAMP
    MINUS NATURAL NOT NULL OF ON OR ORDER ORGANIZATION QUALIFY REGEXP REVOKE RIGHT RLIKE ROW ROWS
    SAMPLE SCHEMA SELECT SET SOME START TABLE TABLESAMPLE THEN TO TRIGGER TRUE TRY_CAST UNION UNIQUE
    UPDATE USING VALUES VIEW WHEN WHENEVER WHERE WINDOW WITH
    """.split()
)

_FRIENDLY = re.compile(r"^[a-z_][a-z0-9_]*$")
_UNQUOTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_MAX_IDENT = 255  # Snowflake identifiers, quoted or not


def friendly_name(text: str) -> str:
    """A Snowflake-friendly spelling of any name: lowercase snake_case, starting with a letter or _."""
    name = re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_") or "_"
    if name[0].isdigit():
        name = "_" + name
    return name[:_MAX_IDENT]


def snowflake_name(name: str) -> str:
    """Check that a lake table/column name is Snowflake-friendly and return it.

    Friendly = lowercase snake_case ([a-z_][a-z0-9_]*, at most 255 characters): the same name then
    works unchanged in Iceberg, pyiceberg, Spark, DuckDB and (quoted, or through the views the setup
    SQL creates, unquoted) in Snowflake.
    """
    if not _FRIENDLY.match(name) or len(name) > _MAX_IDENT:
        raise ValueError(
            f"name {name!r} is not Snowflake-friendly (lowercase letters, digits and _, not starting with "
            f"a digit, at most {_MAX_IDENT} characters); use {friendly_name(name)!r}"
        )
    return name


def quote_ident(name: str) -> str:
    """A double-quoted (case-preserving) Snowflake identifier."""
    return '"' + name.replace('"', '""') + '"'


def sf_ident(name: str) -> str:
    """An identifier for a Snowflake-side object name given by the operator (database, role, ...).

    Plain names stay unquoted (Snowflake resolves them case-insensitively, as uppercase);
    anything else is quoted. `<placeholders>` are kept verbatim for the operator to replace.
    """
    if _is_placeholder(name):
        return name
    if _UNQUOTED.match(name) and name.upper() not in RESERVED_KEYWORDS:
        return name
    return quote_ident(name)


def upper_ident(name: str) -> str:
    """How a lake name appears in the analyst views: uppercase, so unquoted references resolve to it."""
    upper = name.upper()
    if _UNQUOTED.match(upper) and upper not in RESERVED_KEYWORDS and "$" not in upper:
        return upper
    return quote_ident(upper)


def sql_string(value: str) -> str:
    """A Snowflake single-quoted string literal (backslash is an escape character there too)."""
    if _is_placeholder(value):
        return "'" + value + "'"
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _is_placeholder(text: str) -> bool:
    return text.startswith("<") and text.endswith(">")


# --- table descriptions -----------------------------------------------------------------------

@dataclass(frozen=True)
class SqlColumn:
    name: str
    iceberg_type: str
    json: bool = False  # a string column holding JSON: the analyst view exposes it as VARIANT

    def __post_init__(self) -> None:
        snowflake_name(self.name)
        type_mapping(self.iceberg_type)  # fail early on a type Snowflake would not get right


@dataclass(frozen=True)
class TableSpecForSql:
    """One lake table as the setup SQL needs it: its name and its columns with Iceberg types.

    metadata_file_path: object-store mode only, the table's current metadata file relative to the
    external volume (when known; otherwise the SQL has a placeholder for it).
    """

    name: str
    columns: tuple[SqlColumn, ...]
    comment: str = ""
    metadata_file_path: str | None = None

    def __post_init__(self) -> None:
        snowflake_name(self.name)
        if not self.columns:
            raise ValueError(f"table {self.name!r} has no columns")
        seen: set[str] = set()
        for col in self.columns:
            key = col.name.upper()  # Snowflake views resolve names case-insensitively
            if key in seen:
                raise ValueError(f"table {self.name!r}: column {col.name!r} appears twice")
            seen.add(key)

    @classmethod
    def from_arrow(
        cls, name: str, schema: pa.Schema, json_columns: Iterable[str] = (), comment: str = ""
    ) -> TableSpecForSql:
        json_set = set(json_columns)
        cols = tuple(SqlColumn(f.name, iceberg_type_of_arrow(f.type), f.name in json_set) for f in schema)
        return cls(name, cols, comment)

    @classmethod
    def from_iceberg(
        cls, name: str, schema: Any, json_columns: Iterable[str] = (), comment: str = ""
    ) -> TableSpecForSql:
        """From a pyiceberg Schema (top-level primitive fields)."""
        json_set = set(json_columns)
        cols = []
        for f in schema.fields:
            kind = f.field_type
            if not kind.is_primitive and not (isinstance(kind, ListType) and kind.element_type.is_primitive):
                raise ValueError(f"table {name!r}: column {f.name!r} is {kind}, not a primitive or a list of one")
            iceberg = str(kind) if kind.is_primitive else f"list<{kind.element_type}>"
            cols.append(SqlColumn(f.name, iceberg, f.name in json_set))
        return cls(name, tuple(cols), comment)


@dataclass(frozen=True)
class SetupOptions:
    """Names of the Snowflake objects the setup SQL creates and the account-specific values it needs.

    Values in <angle brackets> are placeholders the operator replaces before running the SQL.
    """

    database: str = "JIRA"
    namespace: str = "jira"  # the Iceberg namespace; also the Snowflake schema holding the Iceberg tables
    views_schema: str | None = "JIRA_VIEWS"  # friendly uppercase views; None = no views
    role: str = "JIRA_ASSETS"
    warehouse: str = "JIRA_ASSETS_WH"
    service_user: str = "<jira_assets_service_user>"
    analyst_role: str | None = None  # also gets SELECT on the views
    external_volume: str = "JIRA_ASSETS_VOLUME"
    catalog_integration: str = "JIRA_ASSETS_CATALOG"
    storage_provider: str = "S3"
    storage_base_url: str = "<s3://your-bucket/jira-lake/>"
    storage_aws_role_arn: str = "<arn:aws:iam::123456789012:role/snowflake-jira-assets>"
    # rest mode: the external catalog
    catalog_uri: str = "<https://your-rest-catalog.example.com/api/catalog>"
    catalog_name: str = "<catalog or warehouse name in the REST catalog>"
    oauth_token_uri: str = "<https://your-rest-catalog.example.com/api/catalog/v1/oauth/tokens>"
    oauth_client_id: str = "<oauth_client_id>"
    oauth_client_secret: str = "<oauth_client_secret>"
    oauth_scope: str = "<PRINCIPAL_ROLE:ALL>"
    refresh_interval_seconds: int = 60
    linked_database: str = "JIRA_LINKED"

    def __post_init__(self) -> None:
        snowflake_name(self.namespace)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> SetupOptions:
        """Object names from the same variables the sync uses (never secrets: the SQL has placeholders)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for key, var in (
            ("database", "SNOWFLAKE_DATABASE"),
            ("views_schema", "SNOWFLAKE_SCHEMA"),
            ("role", "SNOWFLAKE_ROLE"),
            ("warehouse", "SNOWFLAKE_WAREHOUSE"),
            ("service_user", "SNOWFLAKE_USER"),
            ("external_volume", "SNOWFLAKE_EXTERNAL_VOLUME"),
            ("catalog_integration", "SNOWFLAKE_CATALOG_INTEGRATION"),
            ("storage_base_url", "SNOWFLAKE_STORAGE_BASE_URL"),
        ):
            if env.get(var):
                values[key] = env[var]
        values.update(overrides)
        return cls(**values)


# --- the setup SQL ----------------------------------------------------------------------------

def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"unknown Snowflake mode {mode!r}; one of {', '.join(MODES)}")
    return mode


def iceberg_table_ref(database: str | None, namespace: str, table: str) -> str:
    """Where an Iceberg table lives in Snowflake: <database>."<namespace>"."<table>" (exact Iceberg names)."""
    parts = [sf_ident(database)] if database else []
    return ".".join(parts + [quote_ident(namespace), quote_ident(table)])


def object_store_create_sql(
    ref: str, external_volume: str, catalog_integration: str, metadata_file_path: str
) -> str:
    # CREATE ICEBERG TABLE (Iceberg files in object storage): METADATA_FILE_PATH is relative to the
    # external volume's storage location, without a leading slash.
    return (
        f"CREATE ICEBERG TABLE IF NOT EXISTS {ref}\n"
        f"  EXTERNAL_VOLUME = {sql_string(external_volume)}\n"
        f"  CATALOG = {sql_string(catalog_integration)}\n"
        f"  METADATA_FILE_PATH = {sql_string(metadata_file_path)};"
    )


def object_store_refresh_sql(ref: str, metadata_file_path: str) -> str:
    # ALTER ICEBERG TABLE ... REFRESH '<metadata_file_relative_path>' (path relative to the active
    # storage location of the table's external volume).
    return f"ALTER ICEBERG TABLE {ref} REFRESH {sql_string(metadata_file_path)};"


def snowflake_setup_sql(
    mode: str, tables: Sequence[TableSpecForSql], options: SetupOptions | None = None
) -> str:
    """The complete, idempotent setup SQL for `mode` and `tables` (one statement per `;`).

    Every CREATE is `IF NOT EXISTS` (objects holding state or trust: volume, integration, tables) or
    `OR REPLACE` (views, which carry no data and must pick up new columns); GRANT and USE are
    idempotent. Re-run it after enabling endpoints or after the lake added columns.
    """
    check_mode(mode)
    o = options or SetupOptions()
    if not tables:
        raise ValueError("no tables to set up")
    names = [t.name for t in tables]
    if len(set(names)) != len(names):
        raise ValueError("table names repeat")
    out = _Sql()
    role, wh, db = sf_ident(o.role), sf_ident(o.warehouse), sf_ident(o.database)
    vol, cat = sf_ident(o.external_volume), sf_ident(o.catalog_integration)
    out.comment(
        f"jira-assets: Snowflake setup, mode '{mode}', {len(tables)} table{'' if len(tables) == 1 else 's'}.",
        f"Generated by `jira-assets snowflake-sql --mode {mode}`; docs/snowflake.md explains each step.",
        "Idempotent: CREATE ... IF NOT EXISTS for objects with state, CREATE OR REPLACE for views, GRANT",
        "and USE are repeatable. Re-run it after enabling endpoints or when the lake added columns.",
        "Replace every <placeholder> first. Part 1 runs as ACCOUNTADMIN, part 2 as the service role.",
    )
    out.blank()
    out.comment("---- Part 1: account objects (ACCOUNTADMIN) ----")
    out.stmt("USE ROLE ACCOUNTADMIN;")
    out.blank()
    out.comment("The role the pipeline connects as; it owns the schemas, tables and views below.")
    out.stmt(f"CREATE ROLE IF NOT EXISTS {role};")
    out.stmt(f"GRANT ROLE {role} TO ROLE SYSADMIN;")
    out.stmt(f"GRANT ROLE {role} TO USER {sf_ident(o.service_user)};")
    out.stmt(
        f"CREATE WAREHOUSE IF NOT EXISTS {wh}\n"
        "  WITH WAREHOUSE_SIZE = 'XSMALL' AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE;"
    )
    out.stmt(f"GRANT USAGE ON WAREHOUSE {wh} TO ROLE {role};")
    out.blank()
    _external_volume(out, mode, o, vol, role)
    if mode in ("rest", "object-store"):
        _catalog_integration(out, mode, o, cat, role)
    out.comment("Database: Iceberg tables in schema \"" + o.namespace + "\" (the Iceberg namespace, quoted so")
    out.comment("Snowflake keeps its lowercase name), analyst views in " + (o.views_schema or "(none)") + ".")
    out.stmt(f"CREATE DATABASE IF NOT EXISTS {db};")
    out.stmt(f"GRANT USAGE, CREATE SCHEMA ON DATABASE {db} TO ROLE {role};")
    if o.analyst_role:
        out.stmt(f"GRANT USAGE ON DATABASE {db} TO ROLE {sf_ident(o.analyst_role)};")
    out.blank()
    out.comment("---- Part 2: schemas, tables and views (the service role owns them) ----")
    out.stmt(f"USE ROLE {role};")
    out.stmt(f"USE WAREHOUSE {wh};")
    out.stmt(f"CREATE SCHEMA IF NOT EXISTS {db}.{quote_ident(o.namespace)};")
    out.blank()
    if mode == "horizon":
        _horizon_tables(out, o, tables, vol)
    elif mode == "rest":
        _rest_tables(out, o, tables, cat, vol)
    else:
        _object_store_tables(out, o, tables, vol, cat)
    if o.views_schema:
        _views(out, o, tables)
    return out.text()


class _Sql:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def comment(self, *lines: str) -> None:
        self.lines.extend("-- " + line if line else "--" for line in lines)

    def stmt(self, text: str) -> None:
        assert text.rstrip().endswith(";")
        self.lines.append(text)

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def text(self) -> str:
        return "\n".join(self.lines).rstrip() + "\n"


def _external_volume(out: _Sql, mode: str, o: SetupOptions, vol: str, role: str) -> None:
    # Snowflake-managed (horizon) tables need ALLOW_WRITES = TRUE; in the other modes Snowflake only reads.
    allow_writes = "TRUE" if mode == "horizon" else "FALSE"
    out.comment(
        "External volume: the bucket/prefix holding the Iceberg data and metadata files.",
        f"CREATE EXTERNAL VOLUME: {_DOCS['external_volume']}",
        "After it exists: DESC EXTERNAL VOLUME " + o.external_volume + "; and add its STORAGE_AWS_IAM_USER_ARN and",
        "STORAGE_AWS_EXTERNAL_ID to the IAM role's trust policy. GCS / Azure: STORAGE_PROVIDER = 'GCS'",
        "(STORAGE_BASE_URL = 'gcs://bucket/path/') or 'AZURE' (AZURE_TENANT_ID, 'azure://...').",
    )
    if mode == "object-store":
        out.comment(
            "Object-store mode: STORAGE_BASE_URL must be the prefix the lake's warehouse lives under, and",
            "SNOWFLAKE_STORAGE_BASE_URL must say the same, so refreshes name metadata files relative to it.",
        )
    provider_lines = [f"      STORAGE_PROVIDER = {sql_string(o.storage_provider)}"]
    provider_lines.append(f"      STORAGE_BASE_URL = {sql_string(o.storage_base_url)}")
    if o.storage_provider.upper() in ("S3", "S3GOV"):
        provider_lines.append(f"      STORAGE_AWS_ROLE_ARN = {sql_string(o.storage_aws_role_arn)}")
    out.stmt(
        f"CREATE EXTERNAL VOLUME IF NOT EXISTS {vol}\n"
        "  STORAGE_LOCATIONS = (\n"
        "    (\n"
        "      NAME = 'jira-assets'\n" + "\n".join(provider_lines) + "\n"
        "    )\n"
        "  )\n"
        f"  ALLOW_WRITES = {allow_writes};"
    )
    out.stmt(f"GRANT USAGE ON EXTERNAL VOLUME {vol} TO ROLE {role};")
    out.blank()


def _catalog_integration(out: _Sql, mode: str, o: SetupOptions, cat: str, role: str) -> None:
    if mode == "object-store":
        out.comment(
            "Catalog integration for Iceberg metadata files in object storage.",
            f"CREATE CATALOG INTEGRATION (Object storage): {_DOCS['catalog_object_store']}",
        )
        out.stmt(
            f"CREATE CATALOG INTEGRATION IF NOT EXISTS {cat}\n"
            "  CATALOG_SOURCE = OBJECT_STORE\n"
            "  TABLE_FORMAT = ICEBERG\n"
            "  ENABLED = TRUE;"
        )
    else:
        out.comment(
            "Catalog integration for the external Iceberg REST catalog (Polaris / Open Catalog shown: OAuth).",
            f"CREATE CATALOG INTEGRATION (Apache Iceberg REST): {_DOCS['catalog_rest']}",
            "Other catalogs change REST_AUTHENTICATION: a bearer token / PAT is",
            "  REST_AUTHENTICATION = ( TYPE = BEARER BEARER_TOKEN = '<token>' )",
            "and AWS Glue / S3 Tables use TYPE = SIGV4 with an IAM role and CATALOG_API_TYPE = AWS_GLUE (see the page).",
            "REFRESH_INTERVAL_SECONDS: how often AUTO_REFRESH polls the catalog for new commits.",
        )
        out.stmt(
            f"CREATE CATALOG INTEGRATION IF NOT EXISTS {cat}\n"
            "  CATALOG_SOURCE = ICEBERG_REST\n"
            "  TABLE_FORMAT = ICEBERG\n"
            f"  CATALOG_NAMESPACE = {sql_string(o.namespace)}\n"
            "  REST_CONFIG = (\n"
            f"    CATALOG_URI = {sql_string(o.catalog_uri)}\n"
            f"    CATALOG_NAME = {sql_string(o.catalog_name)}\n"
            "  )\n"
            "  REST_AUTHENTICATION = (\n"
            "    TYPE = OAUTH\n"
            f"    OAUTH_TOKEN_URI = {sql_string(o.oauth_token_uri)}\n"
            f"    OAUTH_CLIENT_ID = {sql_string(o.oauth_client_id)}\n"
            f"    OAUTH_CLIENT_SECRET = {sql_string(o.oauth_client_secret)}\n"
            f"    OAUTH_ALLOWED_SCOPES = ({sql_string(o.oauth_scope)})\n"
            "  )\n"
            "  ENABLED = TRUE\n"
            f"  REFRESH_INTERVAL_SECONDS = {int(o.refresh_interval_seconds)};"
        )
    out.stmt(f"GRANT USAGE ON INTEGRATION {cat} TO ROLE {role};")
    out.blank()


def _horizon_tables(out: _Sql, o: SetupOptions, tables: Sequence[TableSpecForSql], vol: str) -> None:
    out.comment(
        "Snowflake-managed Iceberg tables that pyiceberg then writes through the Horizon Iceberg REST",
        f"catalog ({_DOCS['horizon']}). Snowflake documents creating",
        "the tables in Snowflake first; columns use Iceberg type names, as Snowflake allows for tables",
        f"with CATALOG = 'SNOWFLAKE' ({_DOCS['table_snowflake']}). Names are quoted",
        "so the Iceberg schema keeps exactly the lowercase names pyiceberg writes.",
    )
    for t in tables:
        ref = iceberg_table_ref(o.database, o.namespace, t.name)
        cols = ",\n".join(f"  {quote_ident(c.name)} {type_mapping(c.iceberg_type).ddl}" for c in t.columns)
        base = f"{o.namespace}/{t.name}"
        out.stmt(
            f"CREATE ICEBERG TABLE IF NOT EXISTS {ref} (\n{cols}\n)\n"
            "  CATALOG = 'SNOWFLAKE'\n"
            f"  EXTERNAL_VOLUME = {sql_string(o.external_volume)}\n"
            f"  BASE_LOCATION = {sql_string(base)}"
            + (f"\n  COMMENT = {sql_string(t.comment)}" if t.comment else "")
            + ";"
        )
    out.blank()


def _rest_tables(
    out: _Sql, o: SetupOptions, tables: Sequence[TableSpecForSql], cat: str, vol: str
) -> None:
    out.comment(
        "One externally managed table per lake table; AUTO_REFRESH polls the catalog, so Snowflake follows",
        f"every commit without a per-commit step. CREATE ICEBERG TABLE (Iceberg REST catalog): {_DOCS['table_rest']}",
    )
    for t in tables:
        ref = iceberg_table_ref(o.database, o.namespace, t.name)
        out.stmt(
            f"CREATE ICEBERG TABLE IF NOT EXISTS {ref}\n"
            f"  EXTERNAL_VOLUME = {sql_string(o.external_volume)}\n"
            f"  CATALOG = {sql_string(o.catalog_integration)}\n"
            f"  CATALOG_NAMESPACE = {sql_string(o.namespace)}\n"
            f"  CATALOG_TABLE_NAME = {sql_string(t.name)}\n"
            "  AUTO_REFRESH = TRUE"
            + (f"\n  COMMENT = {sql_string(t.comment)}" if t.comment else "")
            + ";"
        )
    out.blank()
    out.comment(
        "Alternative to the tables above: a catalog-linked database discovers every table of the namespace",
        f"by itself (CREATE DATABASE (catalog-linked): {_DOCS['linked_db']}).",
        "Its documented syntax has no IF NOT EXISTS, so it is not part of this idempotent script: run it",
        "once, as ACCOUNTADMIN, and point the views' FROM clauses at " + o.linked_database + ".\"" + o.namespace + "\".",
        f"CREATE DATABASE {o.linked_database}",
        "  LINKED_CATALOG = (",
        f"    CATALOG = {sql_string(o.catalog_integration)},",
        f"    ALLOWED_NAMESPACES = ({sql_string(o.namespace)})",
        "  ),",
        f"  EXTERNAL_VOLUME = {sql_string(o.external_volume)};",
    )
    out.blank()


def _object_store_tables(
    out: _Sql, o: SetupOptions, tables: Sequence[TableSpecForSql], vol: str, cat: str
) -> None:
    out.comment(
        "One table per lake table, created from a metadata file (path relative to the external volume).",
        f"CREATE ICEBERG TABLE (Iceberg files in object storage): {_DOCS['table_files']}",
        "SnowflakeSync runs this same statement with the real path after a table's first commit, then",
        "ALTER ICEBERG TABLE ... REFRESH '<the commit's metadata file>' after every commit",
        f"({_DOCS['refresh']}).",
        "So: run this script once before the first materialization up to here, and once after it (the",
        "tables then exist, these statements do nothing and the views below can be created).",
    )
    for t in tables:
        ref = iceberg_table_ref(o.database, o.namespace, t.name)
        path = t.metadata_file_path or f"<metadata file of {o.namespace}.{t.name}, e.g. {o.namespace}/{t.name}/metadata/00001-....metadata.json>"
        out.stmt(object_store_create_sql(ref, o.external_volume, o.catalog_integration, path))
    out.blank()


def _views(out: _Sql, o: SetupOptions, tables: Sequence[TableSpecForSql]) -> None:
    assert o.views_schema
    schema = f"{sf_ident(o.database)}.{sf_ident(o.views_schema)}"
    out.comment(
        "Analyst views: uppercase names (so unquoted SQL such as `select key from " + o.views_schema.lower()
        + ".issue_search` works),",
        "JSON columns as VARIANT. Iceberg column names are lowercase and Snowflake treats quoted names as",
        f"case-sensitive ({_DOCS['identifiers']}); the views hide that.",
        "CREATE OR REPLACE: re-run this script after the lake added columns.",
    )
    out.stmt(f"CREATE SCHEMA IF NOT EXISTS {schema};")
    for t in tables:
        src = iceberg_table_ref(o.database, o.namespace, t.name)
        select = ",\n".join(
            f"  {('TRY_PARSE_JSON(' + quote_ident(c.name) + ')') if c.json else quote_ident(c.name)} AS {upper_ident(c.name)}"
            for c in t.columns
        )
        # COPY GRANTS keeps the analysts' SELECT across the OR REPLACE.
        out.stmt(f"CREATE OR REPLACE VIEW {schema}.{upper_ident(t.name)} COPY GRANTS AS\nSELECT\n{select}\nFROM {src};")
    if o.analyst_role:
        analyst = sf_ident(o.analyst_role)
        out.stmt(f"GRANT USAGE ON SCHEMA {schema} TO ROLE {analyst};")
        out.stmt(f"GRANT SELECT ON ALL VIEWS IN SCHEMA {schema} TO ROLE {analyst};")
    out.blank()


# --- metadata paths ---------------------------------------------------------------------------

_AZURE_HADOOP = re.compile(r"^(?:abfss?|wasbs?)://(?P<container>[^@/]+)@(?P<account>[^./]+)\.(?:dfs|blob)\.core\.windows\.net/?(?P<path>.*)$")
_AZURE_HTTPS = re.compile(r"^https://(?P<account>[^./]+)\.(?:dfs|blob)\.core\.windows\.net/(?P<container>[^/]+)/?(?P<path>.*)$")


def normalise_storage_url(url: str) -> str:
    """One spelling per storage location, so pyiceberg's and Snowflake's URLs compare.

    s3a/s3n/s3compat -> s3; gs -> gcs; abfs(s)/wasb(s)/https Azure URLs -> azure://<account>.blob.core.windows.net/<container>/...
    """
    url = url.strip()
    for pattern in (_AZURE_HADOOP, _AZURE_HTTPS):
        m = pattern.match(url)
        if m:
            return f"azure://{m['account']}.blob.core.windows.net/{m['container']}/{m['path']}"
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    scheme = scheme.lower()
    scheme = {"s3a": "s3", "s3n": "s3", "s3compat": "s3", "gs": "gcs"}.get(scheme, scheme)
    return f"{scheme}://{rest}"


def relative_metadata_path(metadata_location: str, storage_base_url: str) -> str:
    """The metadata file's path relative to the external volume's STORAGE_BASE_URL (no leading slash).

    This is what ALTER ICEBERG TABLE ... REFRESH and METADATA_FILE_PATH take.
    """
    base = normalise_storage_url(storage_base_url).rstrip("/") + "/"
    location = normalise_storage_url(metadata_location)
    if not location.startswith(base) or len(location) == len(base):
        raise SnowflakeSyncError(
            f"the Iceberg metadata file {metadata_location} is not under the external volume's "
            f"STORAGE_BASE_URL {storage_base_url}: put the lake's warehouse under that prefix "
            "(or fix SNOWFLAKE_STORAGE_BASE_URL) so Snowflake can read it"
        )
    return location[len(base):].lstrip("/")


# --- per-commit sync --------------------------------------------------------------------------

class SnowflakeSyncError(RuntimeError):
    """Snowflake could not be brought up to date with an Iceberg commit (the commit itself stands)."""


# --- pyiceberg catalog properties per mode (documented in docs/snowflake.md) -----------------------

def horizon_catalog_properties(account_identifier: str, database: str, role: str, credential: str) -> dict[str, str]:
    """pyiceberg REST catalog properties for Snowflake's Horizon Iceberg REST catalog.

    warehouse = the Snowflake database; credential = a programmatic access token, exchanged at the
    catalog's OAuth token endpoint (named explicitly: pyiceberg deprecates guessing it); scope picks
    the Snowflake role. pyiceberg sends the access-delegation header by default; it is spelled out.
    """
    uri = f"https://{account_identifier}.snowflakecomputing.com/polaris/api/catalog"
    return {
        "type": "rest",
        "uri": uri,
        "oauth2-server-uri": f"{uri}/v1/oauth/tokens",
        "warehouse": database,
        "credential": credential,
        "scope": f"session:role:{role}",
        "header.X-Iceberg-Access-Delegation": "vended-credentials",
    }
