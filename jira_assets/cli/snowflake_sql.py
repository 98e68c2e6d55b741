"""`jira-assets snowflake-sql --mode horizon|rest|object-store`: print the Snowflake setup SQL.

Glue between the catalogue (which tables, which columns) and lake/snowflake.py (which knows no Jira).
The tables are the enabled endpoints (JIRA_ASSETS_INCLUDE / JIRA_ASSETS_EXCLUDE) with exactly the
Arrow schema the asset factory hands the lake; object names come from SNOWFLAKE_* variables when set.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from typing import TextIO

from jira_assets.lake.arrow import COLUMN_TYPES, RAW_COLUMN
from jira_assets.lake.reader import LakeReader
from jira_assets.lake.snowflake import MODES, SetupOptions, TableSpecForSql, snowflake_setup_sql


def catalogue_tables(names: Iterable[str] | None = None, lake: LakeReader | None = None) -> list[TableSpecForSql]:
    """One TableSpecForSql per endpoint (the enabled ones unless `names` is given), catalogue order. With a `lake`,
    a table it holds is described as it is there (with the custom field columns the sync added); others as the
    catalogue defines them."""
    from jira_assets.endpoints import ENDPOINTS
    from jira_assets.selection import enabled_endpoints

    known = {spec.name for spec in ENDPOINTS}
    wanted = set(enabled_endpoints() if names is None else names)
    unknown = sorted(wanted - known)
    if unknown:
        raise ValueError(f"unknown endpoint {unknown[0]!r}; known: {', '.join(spec.name for spec in ENDPOINTS)}")
    tables = []
    for spec in ENDPOINTS:
        if spec.name not in wanted:
            continue
        json_columns = {c.name for c in spec.table_columns if COLUMN_TYPES[c.type].holds_json} | {RAW_COLUMN}
        table = lake.load(spec.name) if lake is not None else None
        if table is not None:
            tables.append(TableSpecForSql.from_iceberg(spec.name, table.schema(), json_columns,
                                                      comment=spec.description))
        else:
            tables.append(TableSpecForSql.from_arrow(spec.name, spec.arrow_schema, json_columns,
                                                     comment=spec.description))
    return tables


def lake_if_present() -> LakeReader | None:
    """The lake the sync writes to, when it exists (a configured catalog, or the embedded lake's catalog file):
    printing SQL never creates one."""
    from pyiceberg.utils.config import Config

    from jira_assets.lake.catalog import DEFAULT_CATALOG_NAME, open_catalog, resolve_lake_dir

    if Config().get_catalog_config(DEFAULT_CATALOG_NAME) is None and not (resolve_lake_dir() / "catalog.db").exists():
        return None
    return LakeReader(open_catalog())


def print_setup_sql(
    mode: str,
    *,
    names: Iterable[str] | None = None,
    lake: LakeReader | None = None,
    options: SetupOptions | None = None,
    out: TextIO | None = None,
) -> str:
    """Write the setup SQL for `mode` and the enabled endpoints to `out` (stdout); return it too."""
    sql = snowflake_setup_sql(mode, catalogue_tables(names, lake), options or SetupOptions.from_env())
    (out or sys.stdout).write(sql)
    return sql


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="jira-assets snowflake-sql",
        description="Print the idempotent Snowflake setup SQL for the enabled endpoints (see docs/snowflake.md).",
    )
    parser.add_argument("--mode", required=True, choices=MODES)
    parser.add_argument("--tables", help="comma-separated endpoint names (default: the enabled endpoints)")
    parser.add_argument("--database", help="Snowflake database (default $SNOWFLAKE_DATABASE or JIRA)")
    parser.add_argument("--views-schema", help="schema for the analyst views (default $SNOWFLAKE_SCHEMA or JIRA_VIEWS)")
    parser.add_argument("--no-views", action="store_true", help="do not create the analyst views")
    parser.add_argument("--role", help="service role (default $SNOWFLAKE_ROLE or JIRA_ASSETS)")
    parser.add_argument("--analyst-role", help="a role that gets SELECT on the views")
    parser.add_argument("--storage-base-url", help="external volume STORAGE_BASE_URL (default $SNOWFLAKE_STORAGE_BASE_URL)")
    parser.add_argument("--catalogue-only", action="store_true",
                        help="describe every table as the catalogue defines it, not as the lake holds it (the lake "
                             "adds custom field columns)")
    args = parser.parse_args(argv)
    overrides = {
        key: value
        for key, value in (
            ("database", args.database),
            ("views_schema", args.views_schema),
            ("role", args.role),
            ("analyst_role", args.analyst_role),
            ("storage_base_url", args.storage_base_url),
        )
        if value
    }
    if args.no_views:
        overrides["views_schema"] = None
    names = [n.strip() for n in args.tables.split(",") if n.strip()] if args.tables else None
    try:
        lake = None if args.catalogue_only else lake_if_present()
        print_setup_sql(args.mode, names=names, lake=lake, options=SetupOptions.from_env(**overrides))
    except ValueError as exc:
        print(f"jira-assets snowflake-sql: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
