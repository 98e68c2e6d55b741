"""Dagster IO manager for the Iceberg sink: a thin wrapper around `lake.writer.LakeWriter`.

Assets return a `TableWrite`; the table is named as the asset key's last part. Everything that does the work (and
can be used without Dagster) lives in `jira_assets.lake`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa
from dagster import ConfigurableIOManager, InputContext, MetadataValue, OutputContext
from pydantic import Field
from pyiceberg.catalog import Catalog

from jira_assets.defs.snowflake import SnowflakeSync
from jira_assets.env import env_number
from jira_assets.lake.catalog import DEFAULT_CATALOG_NAME, DEFAULT_NAMESPACE, open_catalog
from jira_assets.lake.reader import LakeReader
from jira_assets.lake.writer import DEFAULT_METADATA_VERSIONS, TableWrite, LakeWriter, markdown_preview

KEEP_METADATA_VERSIONS_ENV = "JIRA_ASSETS_KEEP_METADATA_VERSIONS"


def metadata_versions_from_env() -> int:
    return env_number(KEEP_METADATA_VERSIONS_ENV, DEFAULT_METADATA_VERSIONS, kind=int, minimum=1,
                      what="a whole number of metadata files")


class IcebergIOManager(ConfigurableIOManager):
    """Commits each asset to its own Iceberg table (named as the asset key's last part).

    Assets return a `TableWrite` (or a pa.Table / RecordBatch = replace). Inputs load as a
    pa.Table, projected to the input metadata's "columns" (list of names, or name -> type).
    """

    lake_dir: str | None = Field(
        default=None, description="Embedded lake directory; default $JIRA_ASSETS_LAKE_DIR or .jira_lake"
    )
    catalog_name: str = Field(default=DEFAULT_CATALOG_NAME, description="pyiceberg catalog name")
    namespace: str = Field(default=DEFAULT_NAMESPACE, description="Iceberg namespace for all tables")
    catalog_properties: dict[str, str] | None = Field(
        default=None, description="pyiceberg catalog properties (e.g. type=rest, uri=...); overrides the embedded lake"
    )
    target_file_mb: int = Field(default=32, description="In-memory MB buffered per Parquet data file")
    metadata_versions: int | None = Field(
        default=None, ge=1, description=f"metadata.json files each table keeps (its newest ones); default "
                                        f"${KEEP_METADATA_VERSIONS_ENV} or {DEFAULT_METADATA_VERSIONS}")
    snowflake: SnowflakeSync | None = Field(
        default=None, description="Optional: keep Snowflake in step after each commit (see lake/snowflake.py)"
    )

    def catalog(self) -> Catalog:
        return open_catalog(self.lake_dir, self.catalog_name, self.catalog_properties)

    def writer(self) -> LakeWriter:
        return LakeWriter(self.catalog(), self.namespace, target_file_bytes=self.target_file_mb * 1024 * 1024,
                          metadata_versions=self.metadata_versions or metadata_versions_from_env())

    def reader(self) -> LakeReader:
        return LakeReader(self.catalog(), self.namespace)

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        if isinstance(obj, (pa.Table, pa.RecordBatch)):
            obj = TableWrite(batches=obj.to_batches() if isinstance(obj, pa.Table) else [obj], schema=obj.schema)
        if not isinstance(obj, TableWrite):
            raise TypeError(f"IcebergIOManager expects a TableWrite or pyarrow Table, got {type(obj).__name__}")
        name = context.asset_key.path[-1]
        try:
            run_id = context.run_id
        except Exception:  # contexts built outside a run
            run_id = None
        result = self.writer().write(name, obj, run_id=run_id)
        metadata: dict[str, Any] = {
            "rows": result.rows_written,
            "table": result.table,
            "snapshot_id": str(result.snapshot_id),
            "mode": result.mode,
            "data_files": result.data_files,
            "preview": MetadataValue.md(markdown_preview(result.preview)),
        }
        if result.total_rows is not None:
            metadata["total_rows"] = result.total_rows
        if result.mode == "merge":
            metadata["rows_deleted"] = result.rows_deleted
        if result.duplicates_dropped:
            metadata["duplicates_dropped"] = result.duplicates_dropped
        if result.columns_added:
            metadata["columns_added"] = ", ".join(result.columns_added)
        metadata.update(obj.metadata)
        # Snowflake after the commit; a failure fails the step with the
        # commit in place, and the next run refreshes Snowflake to the newest metadata file.
        if self.snowflake is not None:
            location = self.writer().load(name).metadata_location
            metadata.update(self.snowflake.after_commit(name, location, context, namespace=self.namespace))
        context.add_output_metadata(metadata)

    def load_input(self, context: InputContext) -> pa.Table:
        name = context.asset_key.path[-1]
        spec = (context.definition_metadata or {}).get("columns")
        if spec is None:
            return self.writer().read_table(name)
        if isinstance(spec, Mapping):
            return self.writer().read_table(name, list(spec), types=dict(spec))
        return self.writer().read_table(name, list(spec))
