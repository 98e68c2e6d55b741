"""The asset factory: one catalogue row in, one software-defined asset out, with everything Dagster shows about
it set here, once: group, kinds, owner, column schema, freshness policy, automation condition and checks.

The asset's step syncs the table (its strategy's plan, streamed to the Iceberg IO manager, one commit) and then
evaluates the table's checks on what it committed, so a sync and its checks are one step. Launched for its checks
alone (the UI's "Execute checks"), the step only evaluates them.
"""

# No `from __future__ import annotations`: Dagster reads the `context` annotation at definition time.

import os
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timezone

from dagster import (
    AssetExecutionContext, AssetOut, AssetsDefinition, AssetSpec, Failure, Output, TableColumn, TableSchema,
    multi_asset,
)

from jira_assets.defs.checks import check_specs_for, evaluate
from jira_assets.defs.progress import ProgressReport
from jira_assets.defs.freshness import automation_condition_for, freshness_policy_for
from jira_assets.defs.site import ONLY_SITE, SiteNames
from jira_assets.endpoints import BY_NAME, ENDPOINTS
from jira_assets.jira.client import JiraError
from jira_assets.lake.arrow import COLUMN_TYPES, RAW_COLUMN, SYNCED_AT_COLUMN
from jira_assets.selection import EXCLUDE_ENV, descendants, enabled_endpoints
from jira_assets.spec import EndpointSpec
from jira_assets.sync.base import InputMissing, RunOptions, SyncContext, SyncRefused
from jira_assets.sync.progress import SyncProgress
from jira_assets.sync.run import table_write

OWNER = "team:data-engineering"


def column_schema(spec: EndpointSpec) -> TableSchema:
    cols = [TableColumn(col.name, COLUMN_TYPES[col.type].label, description=f"from `{col.path}`")
            for col in spec.table_columns]
    raw = ("null: the row is computed from other tables" if spec.sync.derived
           else "the record exactly as Jira returned it")
    cols.append(TableColumn(RAW_COLUMN, COLUMN_TYPES["json"].label, description=raw))
    cols.append(TableColumn(SYNCED_AT_COLUMN, COLUMN_TYPES["timestamptz"].label,
                            description="when this run fetched the record"))
    return TableSchema(columns=cols)


def asset_spec(spec: EndpointSpec, enabled: Iterable[str] | None = None, site: SiteNames = ONLY_SITE) -> AssetSpec:
    """The asset as Dagster shows it. Upstream: the parent, and the tables its strategy reads that are enabled."""
    enabled = set(enabled) if enabled is not None else set(BY_NAME)
    upstream = [spec.parent.asset] if spec.parent else []
    upstream += [name for name in spec.sync.reads if name in enabled and name not in upstream]
    return AssetSpec(
        key=site.key(spec.name),
        group_name=spec.group,
        description=spec.description,
        deps=[site.key(name) for name in upstream],
        kinds={"jira", "iceberg"},
        owners=[OWNER],
        tags={"jira/admin_only": str(spec.admin_only).lower(), "jira/sync": spec.sync.name},
        metadata={
            "dagster/column_schema": column_schema(spec),
            "primary_key": ", ".join(spec.table_key),
            "jira_path": spec.source,
        },
        freshness_policy=freshness_policy_for(spec),
        automation_condition=automation_condition_for(spec),
    )


def step_priority(spec: EndpointSpec) -> int:
    """Which steps an executor starts first when it cannot start all: parents whose children are waiting, then the
    children (they fan out over many requests), then the one-page lists, which fill the gaps."""
    if descendants([spec.name]):
        return 2
    return 1 if spec.parent is not None else 0


def upstream_in_run(context: AssetExecutionContext, spec: AssetSpec) -> bool:
    """Whether this run also builds one of the asset's upstream assets (None: the whole job is selected)."""
    selection = context.run.asset_selection
    return selection is None or any(dep.asset_key in selection for dep in spec.deps)


def build_asset(spec: EndpointSpec, enabled: Iterable[str], site: SiteNames = ONLY_SITE) -> AssetsDefinition:
    key = site.key(spec.name)
    enabled = list(enabled)
    full_spec = asset_spec(spec, enabled, site)

    @multi_asset(
        name=site.op(spec.name),
        # An AssetOut carries everything but the parent, which the op declares.
        outs={spec.name: AssetOut.from_spec(full_spec.replace_attributes(deps=[]), is_required=False,
                                            io_manager_key=site.lake_key)},
        deps=full_spec.deps,
        check_specs=check_specs_for(spec, set(enabled), site),
        can_subset=True,
        required_resource_keys={site.jira_key, site.lake_key},
        op_tags={"dagster/priority": str(step_priority(spec))},
    )
    def _asset(context: AssetExecutionContext):
        jira, lake = getattr(context.resources, site.jira_key), getattr(context.resources, site.lake_key)
        if key in context.selected_asset_keys:
            # One sync of a table at a time, however launched: from reading its cursor to its commit (handle_output
            # runs while the Output is yielded, inside the lock).
            with lake.writer().table_lock(spec.name, on_wait=context.log.info):
                now = datetime.now(timezone.utc)
                rows_of = jira.site_name
                ctx = SyncContext(spec, lake.reader().for_site(rows_of), RunOptions.from_tags(context.run.tags), now,
                                  rows_of, jira.settings_env())
                progress = SyncProgress()
                # Scoped to the run: its first request goes alone, and a refusal of the credentials ends every step.
                try:
                    write = table_write(ctx, lambda: jira.client(scope=context.run_id),
                                        lambda err: refusal(spec, err), progress)
                except InputMissing as err:
                    if not upstream_in_run(context, full_spec):  # selected on its own: it fails, saying why
                        raise Failure(description=f"{err}.", allow_retries=False) from None
                    # Pulled in by a selection such as `issue_search+` on a fresh lake while another of its inputs
                    # is outside the run: the run goes on, the table and its checks wait, downstream steps skip.
                    context.log.warning(f"{key.to_user_string()} is not built in this run: {err}.")
                    return
                report = ProgressReport(context, key, jira.effective_rate_limit(),
                                        write.metadata.get("incremental", False))
                yield Output(replace(write, batches=_reporting(write.batches, progress, report, write.metadata)),
                             output_name=spec.name)
                report.done(progress)
            if write.metadata.get("warning"):
                context.log.warning(write.metadata["warning"])
        for check_key in sorted(context.selected_asset_check_keys, key=lambda k: k.name):
            yield evaluate(check_key.name, spec, lake, jira, key)

    return _asset


def _reporting(batches, progress: SyncProgress, report: ProgressReport, metadata: dict):
    for batch in batches:
        yield batch
        report.tick(progress)
    metadata["sync_seconds"] = round(progress.seconds, 2)  # drained: what the commit's metadata reports
    if report.expected.get(report.name) is not None:
        metadata["expected_requests"] = report.expected[report.name]


def refusal(spec: EndpointSpec, err: Exception) -> Failure:
    """Jira's refusal of a sync as the one line a person reads: what was refused, why, and what to change. Nothing
    was committed, so the table keeps its last snapshot."""
    status = getattr(err, "status", None)
    if isinstance(err, JiraError) and err.sent and spec.needs and status in (403, 404):
        detail = "; ".join(err.error_messages) or err.reason
        text = (f"{spec.name}: {err.method} {err.path} answered HTTP {status}" + (f" ({detail})" if detail else "")
                + f": {spec.name} needs {spec.needs}, which this site or these credentials lack")
    else:
        text = str(err).rstrip(".")
        if not text.startswith(f"{spec.name}:"):
            text = f"{spec.name}: {text}"
    if isinstance(err, SyncRefused) or (isinstance(err, JiraError) and not err.fatal and status in (403, 404)):
        already = [w.strip() for w in os.environ.get(EXCLUDE_ENV, "").split(",") if w.strip()]
        off = ",".join(dict.fromkeys([*already, spec.name, *descendants([spec.name])]))
        text += (f". No table was changed. To leave {spec.name} out (with what is read through it): "
                 f"{EXCLUDE_ENV}={off}")
    # A refusal is an answer: retrying the step would get the same one.
    return Failure(description=text + ".", allow_retries=False)


def build_assets(names: Iterable[str] | None = None, site: SiteNames = ONLY_SITE) -> list[AssetsDefinition]:
    names = list(enabled_endpoints() if names is None else names)
    return [build_asset(BY_NAME[name], names, site) for name in (s.name for s in ENDPOINTS) if name in names]
