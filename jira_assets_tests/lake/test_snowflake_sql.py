"""The Snowflake setup SQL: every mode x every enabled endpoint, golden text, well-formedness, names, types."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest

from jira_assets.lake.arrow import ARROW_TYPES, RAW_COLUMN, SYNCED_AT_COLUMN
from jira_assets.lake.snowflake import (
    LAKE_TO_ICEBERG,
    MODES,
    SetupOptions,
    SqlColumn,
    TableSpecForSql,
    friendly_name,
    iceberg_type_of_arrow,
    normalise_storage_url,
    quote_ident,
    relative_metadata_path,
    SnowflakeSyncError,
    snowflake_name,
    snowflake_setup_sql,
    sql_string,
    type_mapping,
    upper_ident,
)
from jira_assets.cli.snowflake_sql import catalogue_tables, main


# --- a small SQL reader: statements split on ';' outside strings, identifiers and comments ------


def split_statements(sql: str) -> list[str]:
    """Statements (comments removed), failing on unterminated strings/identifiers."""
    statements: list[str] = []
    current: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch in ("'", '"'):
            j = i + 1
            while True:
                if j >= n:
                    raise AssertionError(f"unterminated {ch} literal starting at: {sql[i:i + 60]!r}")
                if ch == "'" and sql[j] == "\\":
                    j += 2
                    continue
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:  # doubled quote inside
                        j += 2
                        continue
                    break
                j += 1
            current.append(sql[i:j + 1])
            i = j + 1
            continue
        if ch == ";":
            statements.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        i += 1
    assert not "".join(current).strip(), f"text after the last ';': {''.join(current)[:80]!r}"
    return statements


def strip_literals(stmt: str) -> str:
    return re.sub(r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"]|\"\")*\"", "X", stmt)


def check_well_formed(sql: str) -> list[str]:
    statements = split_statements(sql)
    assert statements
    for stmt in statements:
        assert stmt, "empty statement (two ';' in a row)"
        bare = strip_literals(stmt)
        depth = 0
        for ch in bare:
            depth += ch == "("
            depth -= ch == ")"
            assert depth >= 0, f"')' without '(' in: {stmt[:120]}"
        assert depth == 0, f"unbalanced parentheses in: {stmt[:120]}"
        verb = bare.split()[0].upper()
        assert verb in {"CREATE", "GRANT", "USE"}, f"unexpected statement: {stmt[:80]}"
        if verb == "CREATE":
            head = " ".join(bare.split()[:6]).upper()
            assert "IF NOT EXISTS" in head or head.startswith("CREATE OR REPLACE"), f"not idempotent: {stmt[:100]}"
        # one statement per ';': a second statement verb at a line start means a missing ';'
        for line in bare.splitlines()[1:]:
            assert not re.match(r"^\s*(CREATE|GRANT|USE|ALTER|DROP)\b", line, re.I), f"two statements in: {stmt[:200]}"
    return statements


# --- every mode x every enabled endpoint ----------------------------------------------------------


@pytest.fixture(scope="module")
def tables() -> list[TableSpecForSql]:
    return catalogue_tables()


def test_enabled_endpoints_become_tables(tables):
    from jira_assets.endpoints import DEFAULT_ENABLED

    assert [t.name for t in tables] == list(DEFAULT_ENABLED)
    for t in tables:
        names = [c.name for c in t.columns]
        assert names[-2:] == [RAW_COLUMN, SYNCED_AT_COLUMN]
        assert {c.name for c in t.columns if c.json} >= {RAW_COLUMN}


@pytest.mark.parametrize("mode", MODES)
def test_setup_sql_every_mode_every_table(mode, tables):
    sql = snowflake_setup_sql(mode, tables)
    statements = check_well_formed(sql)
    norm = [" ".join(s.split()) for s in statements]

    iceberg = [s for s in norm if s.startswith("CREATE ICEBERG TABLE")]
    views = [s for s in norm if s.startswith("CREATE OR REPLACE VIEW")]
    assert len(iceberg) == len(tables) and len(views) == len(tables)
    for t in tables:
        ref = f'JIRA."jira".{quote_ident(t.name)}'
        [table_stmt] = [s for s in iceberg if s.startswith(f"CREATE ICEBERG TABLE IF NOT EXISTS {ref} ") or s == f"CREATE ICEBERG TABLE IF NOT EXISTS {ref}"]
        [view] = [s for s in views if s.startswith(f"CREATE OR REPLACE VIEW JIRA.JIRA_VIEWS.{upper_ident(t.name)} ")]
        assert view.endswith(f"FROM {ref}")
        for c in t.columns:
            assert f"{quote_ident(c.name)}" in view and f" AS {upper_ident(c.name)}" in view
            if mode == "horizon":  # the columns are declared with their Iceberg types
                assert f"{quote_ident(c.name)} {type_mapping(c.iceberg_type).ddl}" in table_stmt
        if mode == "rest":
            assert f"CATALOG_TABLE_NAME = '{t.name}'" in table_stmt and "AUTO_REFRESH = TRUE" in table_stmt
        if mode == "object-store":
            assert "METADATA_FILE_PATH = '<metadata file of jira." + t.name in table_stmt

    # the account objects each mode needs, once
    assert norm.count("CREATE ROLE IF NOT EXISTS JIRA_ASSETS") == 1
    assert sum(s.startswith("CREATE EXTERNAL VOLUME IF NOT EXISTS JIRA_ASSETS_VOLUME") for s in norm) == 1
    integrations = [s for s in norm if s.startswith("CREATE CATALOG INTEGRATION")]
    if mode == "horizon":
        assert not integrations
        assert "ALLOW_WRITES = TRUE" in sql  # Snowflake-managed tables write through the volume
    else:
        [integration] = integrations
        assert ("CATALOG_SOURCE = ICEBERG_REST" if mode == "rest" else "CATALOG_SOURCE = OBJECT_STORE") in integration
        assert "GRANT USAGE ON INTEGRATION JIRA_ASSETS_CATALOG TO ROLE JIRA_ASSETS" in norm
    assert norm.index("USE ROLE JIRA_ASSETS") > norm.index("GRANT USAGE, CREATE SCHEMA ON DATABASE JIRA TO ROLE JIRA_ASSETS")
    assert sql == snowflake_setup_sql(mode, tables)  # deterministic


# --- golden text ------------------------------------------------------------------------------------

GOLDEN_HORIZON_CATEGORIES = '''CREATE ICEBERG TABLE IF NOT EXISTS JIRA."jira"."project_categories" (
  "site" STRING,
  "id" STRING,
  "name" STRING,
  "description" STRING,
  "_raw" STRING,
  "_synced_at" TIMESTAMP_LTZ(6)
)
  CATALOG = 'SNOWFLAKE'
  EXTERNAL_VOLUME = 'JIRA_ASSETS_VOLUME'
  BASE_LOCATION = 'jira/project_categories'
  COMMENT = 'Project categories.';'''

GOLDEN_REST_CATEGORIES = '''CREATE ICEBERG TABLE IF NOT EXISTS JIRA."jira"."project_categories"
  EXTERNAL_VOLUME = 'JIRA_ASSETS_VOLUME'
  CATALOG = 'JIRA_ASSETS_CATALOG'
  CATALOG_NAMESPACE = 'jira'
  CATALOG_TABLE_NAME = 'project_categories'
  AUTO_REFRESH = TRUE
  COMMENT = 'Project categories.';'''

GOLDEN_OBJECT_STORE_CATEGORIES = '''CREATE ICEBERG TABLE IF NOT EXISTS JIRA."jira"."project_categories"
  EXTERNAL_VOLUME = 'JIRA_ASSETS_VOLUME'
  CATALOG = 'JIRA_ASSETS_CATALOG'
  METADATA_FILE_PATH = '<metadata file of jira.project_categories, e.g. jira/project_categories/metadata/00001-....metadata.json>';'''

GOLDEN_VIEW_CATEGORIES = '''CREATE OR REPLACE VIEW JIRA.JIRA_VIEWS.PROJECT_CATEGORIES COPY GRANTS AS
SELECT
  "site" AS SITE,
  "id" AS ID,
  "name" AS NAME,
  "description" AS DESCRIPTION,
  TRY_PARSE_JSON("_raw") AS _RAW,
  "_synced_at" AS _SYNCED_AT
FROM JIRA."jira"."project_categories";'''

GOLDEN_HORIZON_WORKLOG_UPDATED = '''CREATE ICEBERG TABLE IF NOT EXISTS JIRA."jira"."worklog_updated" (
  "site" STRING,
  "worklog_id" LONG,
  "updated_time" TIMESTAMP_LTZ(6),
  "_raw" STRING,
  "_synced_at" TIMESTAMP_LTZ(6)
)
  CATALOG = 'SNOWFLAKE'
  EXTERNAL_VOLUME = 'JIRA_ASSETS_VOLUME'
  BASE_LOCATION = 'jira/worklog_updated'
  COMMENT = 'Worklog ids with their last update time (worklog/updated).';'''

GOLDEN_OBJECT_STORE_PRELUDE = '''CREATE EXTERNAL VOLUME IF NOT EXISTS JIRA_ASSETS_VOLUME
  STORAGE_LOCATIONS = (
    (
      NAME = 'jira-assets'
      STORAGE_PROVIDER = 'S3'
      STORAGE_BASE_URL = '<s3://your-bucket/jira-lake/>'
      STORAGE_AWS_ROLE_ARN = '<arn:aws:iam::123456789012:role/snowflake-jira-assets>'
    )
  )
  ALLOW_WRITES = FALSE;
GRANT USAGE ON EXTERNAL VOLUME JIRA_ASSETS_VOLUME TO ROLE JIRA_ASSETS;

-- Catalog integration for Iceberg metadata files in object storage.
-- CREATE CATALOG INTEGRATION (Object storage): https://docs.snowflake.com/en/sql-reference/sql/create-catalog-integration-object-storage
CREATE CATALOG INTEGRATION IF NOT EXISTS JIRA_ASSETS_CATALOG
  CATALOG_SOURCE = OBJECT_STORE
  TABLE_FORMAT = ICEBERG
  ENABLED = TRUE;
GRANT USAGE ON INTEGRATION JIRA_ASSETS_CATALOG TO ROLE JIRA_ASSETS;'''


def test_golden_text(tables):
    by_name = {t.name: t for t in tables}
    pick = [by_name["project_categories"], by_name["worklog_updated"]]
    horizon = snowflake_setup_sql("horizon", pick)
    rest = snowflake_setup_sql("rest", pick)
    object_store = snowflake_setup_sql("object-store", pick)
    assert GOLDEN_HORIZON_CATEGORIES in horizon
    assert GOLDEN_HORIZON_WORKLOG_UPDATED in horizon
    assert GOLDEN_REST_CATEGORIES in rest
    assert GOLDEN_OBJECT_STORE_CATEGORIES in object_store
    assert GOLDEN_OBJECT_STORE_PRELUDE in object_store
    for sql in (horizon, rest, object_store):
        assert GOLDEN_VIEW_CATEGORIES in sql


def test_options_change_names_and_fill_placeholders():
    t = TableSpecForSql("t1", (SqlColumn("id", "string"), SqlColumn("select", "long")),
                        metadata_file_path="jira.db/t1/metadata/00003-x.metadata.json")
    o = SetupOptions(database="analytics db", views_schema=None, role="LOADER", analyst_role="ANALYST",
                     storage_base_url="s3://b/lake/", storage_aws_role_arn="arn:aws:iam::1:role/r")
    sql = snowflake_setup_sql("object-store", [t], o)
    check_well_formed(sql)
    assert 'CREATE DATABASE IF NOT EXISTS "analytics db";' in sql
    assert "METADATA_FILE_PATH = 'jira.db/t1/metadata/00003-x.metadata.json'" in sql
    assert "STORAGE_BASE_URL = 's3://b/lake/'" in sql
    assert "CREATE OR REPLACE VIEW" not in sql
    assert "GRANT USAGE ON DATABASE \"analytics db\" TO ROLE ANALYST;" in sql

    viewed = snowflake_setup_sql("rest", [t], SetupOptions(analyst_role="ANALYST"))
    check_well_formed(viewed)
    assert '"select" AS "SELECT"' in viewed  # a reserved word stays quoted in the view
    assert "GRANT SELECT ON ALL VIEWS IN SCHEMA JIRA.JIRA_VIEWS TO ROLE ANALYST;" in viewed


def test_bad_input_is_refused():
    t = TableSpecForSql("t1", (SqlColumn("id", "string"),))
    with pytest.raises(ValueError, match="unknown Snowflake mode"):
        snowflake_setup_sql("glue", [t])
    with pytest.raises(ValueError, match="no tables"):
        snowflake_setup_sql("rest", [])
    with pytest.raises(ValueError, match="repeat"):
        snowflake_setup_sql("rest", [t, t])
    with pytest.raises(ValueError, match="not Snowflake-friendly.*'issue_search'"):
        TableSpecForSql("Issue-Search", (SqlColumn("id", "string"),))
    with pytest.raises(ValueError, match="appears twice"):
        TableSpecForSql("t", (SqlColumn("id", "string"), SqlColumn("id", "long")))
    with pytest.raises(ValueError, match="no Snowflake mapping"):
        SqlColumn("x", "struct<a:int>")


# --- names and types ------------------------------------------------------------------------------


def test_catalogue_names_are_snowflake_friendly(tables):
    seen_tables = set()
    for t in tables:
        assert snowflake_name(t.name) == t.name
        assert t.name.upper() not in seen_tables
        seen_tables.add(t.name.upper())
        for c in t.columns:
            assert snowflake_name(c.name) == c.name


def test_friendly_names():
    assert friendly_name("Issue-Search") == "issue_search"
    assert friendly_name("  customfield 10001 ") == "customfield_10001"
    assert friendly_name("3d") == "_3d"
    assert upper_ident("issue_id") == "ISSUE_ID"
    assert upper_ident("order") == '"ORDER"'  # reserved
    assert quote_ident('a"b') == '"a""b"'
    assert sql_string("it's") == "'it''s'"
    assert sql_string("a\\b") == "'a\\\\b'"


LAKE_TYPE_EXPECTED = {
    "string": ("string", "STRING", "VARCHAR"),
    "long": ("long", "LONG", "NUMBER(19,0)"),
    "double": ("double", "DOUBLE", "FLOAT"),
    "boolean": ("boolean", "BOOLEAN", "BOOLEAN"),
    "timestamptz": ("timestamptz", "TIMESTAMP_LTZ(6)", "TIMESTAMP_LTZ(6)"),
    "date": ("date", "DATE", "DATE"),
    "json": ("string", "STRING", "VARCHAR"),
    # Iceberg lists are Snowflake's structured ARRAY (custom fields with several values)
    "list<string>": ("list<string>", "ARRAY(STRING)", "ARRAY(VARCHAR)"),
    "list<long>": ("list<long>", "ARRAY(LONG)", "ARRAY(NUMBER(19,0))"),
}


def test_type_mapping_covers_every_lake_type(tmp_path):
    """Each lake column type -> the Iceberg type pyiceberg really writes -> DDL and Snowflake type."""
    from pyiceberg.catalog.sql import SqlCatalog

    assert set(LAKE_TYPE_EXPECTED) == set(ARROW_TYPES) == set(LAKE_TO_ICEBERG)
    column = {name: "c_" + re.sub(r"\W+", "_", name).strip("_") for name in ARROW_TYPES}
    schema = pa.schema([pa.field(column[name], ARROW_TYPES[name]) for name in ARROW_TYPES])
    catalog = SqlCatalog("types", uri=f"sqlite:///{tmp_path}/c.db", warehouse=tmp_path.as_uri())
    catalog.create_namespace("n")
    table = catalog.create_table(("n", "t"), schema=schema)
    from_arrow = TableSpecForSql.from_arrow("t", schema)
    from_iceberg = TableSpecForSql.from_iceberg("t", table.schema())
    assert from_arrow.columns == from_iceberg.columns
    for name, (iceberg, ddl, snowflake) in LAKE_TYPE_EXPECTED.items():
        col = next(c for c in from_iceberg.columns if c.name == column[name])
        assert col.iceberg_type == iceberg == LAKE_TO_ICEBERG[name]
        mapping = type_mapping(col.iceberg_type)
        assert (mapping.ddl, mapping.snowflake) == (ddl, snowflake)
    assert type_mapping("decimal(10, 2)").snowflake == "NUMBER(10,2)"
    assert iceberg_type_of_arrow(pa.int32()) == "int" and type_mapping("int").snowflake == "NUMBER(10,0)"
    assert iceberg_type_of_arrow(pa.timestamp("us")) == "timestamp"


# --- metadata paths relative to the external volume -------------------------------------------------


@pytest.mark.parametrize(
    "location, base, expected",
    [
        ("s3://b/lake/jira.db/t/metadata/00001-a.metadata.json", "s3://b/lake/", "jira.db/t/metadata/00001-a.metadata.json"),
        ("s3a://b/lake/jira.db/t/metadata/00001-a.metadata.json", "s3://b/lake", "jira.db/t/metadata/00001-a.metadata.json"),
        ("s3://b/jira.db/t/metadata/v.metadata.json", "s3compat://b/", "jira.db/t/metadata/v.metadata.json"),
        ("gs://b/w/jira.db/t/metadata/v.metadata.json", "gcs://b/w/", "jira.db/t/metadata/v.metadata.json"),
        (
            "abfss://cont@acct.dfs.core.windows.net/w/jira.db/t/metadata/v.metadata.json",
            "azure://acct.blob.core.windows.net/cont/w/",
            "jira.db/t/metadata/v.metadata.json",
        ),
    ],
)
def test_relative_metadata_path(location, base, expected):
    assert relative_metadata_path(location, base) == expected


def test_relative_metadata_path_outside_the_volume():
    with pytest.raises(SnowflakeSyncError, match="not under the external volume"):
        relative_metadata_path("s3://other/lake/x.metadata.json", "s3://b/lake/")
    with pytest.raises(SnowflakeSyncError, match="not under the external volume"):
        relative_metadata_path("s3://b/lakehouse/x.metadata.json", "s3://b/lake")  # prefix, not a directory
    with pytest.raises(SnowflakeSyncError, match="not under the external volume"):
        relative_metadata_path("file:///tmp/lake/x.metadata.json", "s3://b/lake/")
    assert normalise_storage_url("S3A://b/x") == "s3://b/x"


# --- the CLI glue -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_cli_prints_the_sql(mode, capsys, monkeypatch):
    for var in ("SNOWFLAKE_DATABASE", "SNOWFLAKE_SCHEMA", "SNOWFLAKE_ROLE", "SNOWFLAKE_WAREHOUSE", "SNOWFLAKE_USER",
                "SNOWFLAKE_EXTERNAL_VOLUME", "SNOWFLAKE_CATALOG_INTEGRATION", "SNOWFLAKE_STORAGE_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SNOWFLAKE_DATABASE", "RAW_JIRA")
    assert main(["--mode", mode]) == 0
    out = capsys.readouterr().out
    check_well_formed(out)
    assert "CREATE DATABASE IF NOT EXISTS RAW_JIRA;" in out
    from jira_assets.endpoints import DEFAULT_ENABLED

    assert out.count("CREATE ICEBERG TABLE IF NOT EXISTS") == len(DEFAULT_ENABLED)

    assert main(["--mode", mode, "--tables", "boards,board_sprints", "--no-views"]) == 0
    out = capsys.readouterr().out
    assert out.count("CREATE ICEBERG TABLE IF NOT EXISTS") == 2 and "VIEW" not in out


def test_cli_rejects_unknown_input(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--mode", "glue"])
    assert exc.value.code == 2
    assert main(["--mode", "rest", "--tables", "nope"]) == 2
    assert "unknown endpoint 'nope'" in capsys.readouterr().err


def test_docs_type_table_matches_the_code():
    from pathlib import Path

    from jira_assets.lake.snowflake import TYPE_MAPPINGS

    docs = (Path(__file__).resolve().parents[2] / "docs" / "snowflake.md").read_text()
    for lake, iceberg in LAKE_TO_ICEBERG.items():
        m = type_mapping(iceberg)
        assert f"| `{lake}` | `{iceberg}` | `{m.ddl}` | `{m.snowflake}` |" in docs
    for m in TYPE_MAPPINGS.values():
        if m.iceberg not in LAKE_TO_ICEBERG.values():
            assert f"| `{m.iceberg}` | `{m.ddl}` | `{m.snowflake}` |" in docs
