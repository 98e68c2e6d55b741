"""`custom_fields`: which column of the issue table holds which custom field, with its type (a map for analysts and
for Snowflake views), built from the issue table's column docs and the field catalogue. No request."""

from __future__ import annotations

from dataclasses import dataclass

from jira_assets.lake.arrow import RAW_COLUMN
from jira_assets.sync.base import SyncContext, SyncPlan, SyncStrategy
from jira_assets.sync.custom_columns import field_rows_from, site_columns


@dataclass(frozen=True)
class CustomFieldMap(SyncStrategy):
    issues: str
    catalogue: str
    name = "derived_custom_field_map"
    derived = True
    incremental = True  # no request: it rides with the issues run that adds columns

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.catalogue, self.issues)

    def plan(self, ctx: SyncContext) -> SyncPlan:
        lake = ctx.lake
        fields = {}
        if lake.table_exists(self.catalogue):
            rows = field_rows_from(lake.read_table(self.catalogue, [RAW_COLUMN]).column(RAW_COLUMN).to_pylist())
            fields = {f.get("id"): f for f in rows}
        docs = lake.column_docs(self.issues)
        types = lake.column_types(self.issues)

        async def pages(client):
            page = []
            for column, (field_id, part) in site_columns(lake, self.issues, ctx.site).items():
                doc = docs.get(column, "")
                f = fields.get(field_id) or {}
                schema = f.get("schema") or {}
                page.append(({"column_name": column, "field_id": field_id, "part": part.lstrip("_"),
                              "field_name": f.get("name"), "column_type": types.get(column),
                              "schema_type": schema.get("type"), "schema_items": schema.get("items"),
                              "schema_custom": schema.get("custom"),
                              "scope_project_id": ((f.get("scope") or {}).get("project") or {}).get("id"),
                              "in_jira": bool(f), "doc": doc}, {}))
            if page:
                yield page

        return SyncPlan(pages)
