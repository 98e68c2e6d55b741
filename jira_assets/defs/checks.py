"""Asset checks: is every table sound? Evaluated in the asset's own step, right after its commit (and alone, without
a sync, when only the checks are launched).

| check | on | fails when | severity |
|---|---|---|---|
| `primary_key_unique_not_null` | every table | a primary-key column is null, or two rows share a key | ERROR |
| `parent_exists` | child tables | a row's parent key (e.g. `issue_id`) is not in the parent table | WARN |
| `row_count_matches_jira` | issue_search | the lake's row count differs from Jira's approximate count for the same JQL by more than the tolerance | WARN |
| `row_count_not_dropped` | tables replaced whole (full refresh, issue_search's full loads) | the last commit left fewer than half the rows of the one before | WARN |
| the history tables' own checks | issue_field_history, issue_status_intervals, issue_flow | see `jira_assets/derived/checks.py` | ERROR (`current_matches_issue_search`: WARN) |

Every failure says what is wrong in its description and metadata (counts and up to 10 offending keys).

parent_exists is a warning: a child fetched independently of its parent (worklogs come from worklog/updated) can
briefly hold rows of an issue created after issue_search ran; the next incremental run closes the gap.

row_count_matches_jira compares like with like: Jira's `POST search/approximate-count` for issue_search's JQL
restricted to `created < M`, where M is the minute of the newest `created` in the lake, against the lake's rows with
`created < M`. Issues created after the sync are therefore never counted on one side only. The count is approximate
(Jira's search index is eventually consistent), so the difference may be up to JIRA_ASSETS_COUNT_TOLERANCE:
`0.1%` of Jira's count by default (rounded up), or an absolute number of rows (`5`) or a percentage (`0.5%`).
A lake with more rows than Jira usually holds issues deleted in Jira since the last deletion census.
"""

import functools
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from dagster import AssetCheckKey, AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey, MetadataValue

from jira_assets.defs.io_manager import IcebergIOManager
from jira_assets.defs.resources import JiraResource
from jira_assets.defs.site import ONLY_SITE, SiteNames
from jira_assets.lake.reader import SITE_ROWS_PROPERTY, LakeReader
from jira_assets.endpoints import BY_NAME
from jira_assets.jira.jql import epoch_ms, floor_minute
from jira_assets.spec import EndpointSpec
from jira_assets.sync.full_refresh import FullRefresh
from jira_assets.sync.issue_search import IssueSearchCursor
from jira_assets.sync.scope import IncrementalSettings, scope_jql

PRIMARY_KEY_CHECK = "primary_key_unique_not_null"
PARENT_CHECK = "parent_exists"
COUNT_CHECK = "row_count_matches_jira"
DROP_CHECK = "row_count_not_dropped"

ENV_COUNT_TOLERANCE = "JIRA_ASSETS_COUNT_TOLERANCE"
DEFAULT_COUNT_TOLERANCE = "0.1%"
SAMPLE = 10


@dataclass
class Outcome:
    """A check's verdict before it becomes an AssetCheckResult (plain data, easy to test)."""

    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR

    def result(self, asset: AssetKey, check: str) -> AssetCheckResult:
        return AssetCheckResult(
            asset_key=asset, check_name=check, passed=self.passed, severity=self.severity,
            description=self.description, metadata=self.metadata,
        )


def _md_rows(rows: list[dict[str, Any]]) -> MetadataValue:
    if not rows:
        return MetadataValue.md("(none)")
    names = list(rows[0])
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for row in rows:
        lines.append("| " + " | ".join("null" if row[n] is None else str(row[n]).replace("|", "\\|")
                                       for n in names) + " |")
    return MetadataValue.md("\n".join(lines))


# ---- the verdicts (pure functions of Arrow data) ---------------------------------------------------------------


def primary_key_outcome(table: pa.Table, key_columns: Sequence[str]) -> Outcome:
    """Every key column non-null, and no two rows with the same key."""
    keys = ", ".join(key_columns)
    missing = [c for c in key_columns if c not in table.column_names]
    if missing:
        return Outcome(False, f"the table has no primary-key column {', '.join(missing)}", {"primary_key": keys})
    nulls = {c: table.column(c).null_count for c in key_columns}
    null_mask = functools.reduce(pc.or_kleene, [pc.is_null(table.column(c)) for c in key_columns])
    null_rows = int(pc.sum(pc.cast(null_mask, pa.int64())).as_py() or 0)
    counts = table.select(list(key_columns)).group_by(list(key_columns)).aggregate([([], "count_all")])
    dup_groups = counts.filter(pc.greater(counts.column("count_all"), 1))
    extra_rows = int(pc.sum(pc.subtract(dup_groups.column("count_all"), 1)).as_py() or 0) if dup_groups.num_rows else 0
    metadata: dict[str, Any] = {
        "primary_key": keys,
        "rows": table.num_rows,
        "rows_with_null_key": null_rows,
        "duplicate_keys": dup_groups.num_rows,
        "duplicate_rows": extra_rows,
    }
    if null_rows == 0 and dup_groups.num_rows == 0:
        return Outcome(True, f"{table.num_rows} rows, each with a distinct non-null ({keys})", metadata)
    problems = []
    if null_rows:
        per_column = ", ".join(f"{c}: {n}" for c, n in nulls.items() if n)
        problems.append(f"{null_rows} rows have a null primary-key column ({per_column})")
    if dup_groups.num_rows:
        sample = dup_groups.sort_by([("count_all", "descending")]).slice(0, SAMPLE).to_pylist()
        metadata["duplicate_key_sample"] = _md_rows([{**{c: r[c] for c in key_columns}, "rows": r["count_all"]}
                                                     for r in sample])
        problems.append(f"{dup_groups.num_rows} keys appear more than once ({extra_rows} surplus rows)")
    return Outcome(False, f"primary key ({keys}) is not unique and non-null: " + "; ".join(problems) +
                   ". Duplicates mean a merge wrote a key twice; a full refresh of the table repairs it.", metadata)


def _as_strings(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], type=column.type)
    return pc.cast(column, pa.string())


def parent_outcome(child: pa.Table, key: str, parent: pa.Table, id_column: str, parent_name: str) -> Outcome:
    """Every non-null parent key of the child table is an id in the parent table."""
    child_keys = _as_strings(child.column(key))
    parent_ids = pc.unique(_as_strings(parent.column(id_column)).drop_null())
    known = pc.is_in(child_keys, value_set=parent_ids)
    orphan_mask = pc.and_(pc.invert(pc.fill_null(known, False)), pc.is_valid(child_keys))
    orphans = child_keys.filter(orphan_mask)
    distinct = pc.unique(orphans)
    metadata: dict[str, Any] = {
        "parent_table": parent_name,
        "link": f"{key} -> {parent_name}.{id_column}",
        "rows": child.num_rows,
        "parent_rows": parent.num_rows,
        "orphan_rows": len(orphans),
        "orphan_parent_ids": len(distinct),
        "rows_with_null_parent_key": child_keys.null_count,
    }
    if len(orphans) == 0:
        return Outcome(True, f"all {child.num_rows} rows point at an existing {parent_name} row", metadata,
                       AssetCheckSeverity.WARN)
    sample = sorted(distinct.to_pylist())[:SAMPLE]
    metadata["orphan_parent_id_sample"] = MetadataValue.json(sample)
    return Outcome(
        False,
        f"{len(orphans)} rows point at {len(distinct)} {key} values missing from {parent_name}.{id_column} "
        f"(e.g. {', '.join(map(str, sample[:3]))}). Either the parent was synced before these rows were "
        f"(the next run of {parent_name} fixes that) or they belong to parents deleted in Jira that this table "
        "still holds (a deletion census or full refresh removes them).",
        metadata,
        AssetCheckSeverity.WARN,
    )


def parse_tolerance(text: str | None = None) -> tuple[float, bool]:
    """'0.1%' -> (0.1, True); '5' -> (5, False)."""
    raw = (text if text is not None else os.environ.get(ENV_COUNT_TOLERANCE) or DEFAULT_COUNT_TOLERANCE).strip()
    relative = raw.endswith("%")
    try:
        value = float(raw[:-1] if relative else raw)
    except ValueError:
        raise ValueError(f"{ENV_COUNT_TOLERANCE} must be a number of rows (5) or a percentage (0.5%), "
                         f"not {raw!r}") from None
    if value < 0 or not math.isfinite(value):
        raise ValueError(f"{ENV_COUNT_TOLERANCE} must not be negative, got {raw!r}")
    return value, relative


def allowed_difference(jira_count: int, tolerance: tuple[float, bool]) -> int:
    value, relative = tolerance
    return math.ceil(jira_count * value / 100) if relative else int(value)


def count_outcome(lake_rows: int, jira_count: int, jql: str, tolerance: tuple[float, bool]) -> Outcome:
    allowed = allowed_difference(jira_count, tolerance)
    diff = lake_rows - jira_count
    value, relative = tolerance
    metadata: dict[str, Any] = {
        "lake_rows": lake_rows,
        "jira_approximate_count": jira_count,
        "difference": diff,
        "allowed_difference": allowed,
        "tolerance": f"{value:g}%" if relative else f"{value:g} rows",
        "jql": jql,
    }
    if abs(diff) <= allowed:
        return Outcome(True, f"the lake holds {lake_rows} issues, Jira counts {jira_count} (difference {diff}, "
                             f"allowed {allowed})", metadata, AssetCheckSeverity.WARN)
    if diff > 0:
        why = ("the lake has issues Jira no longer returns: issues deleted in Jira since the last deletion census "
               "(run the jira_issues_census job), or issues that left the sync's filter")
    else:
        why = ("the lake is missing issues Jira has: a sync that did not finish, a cursor that skipped changes, or "
               "rows removed from the table; a full refresh of issue_search repairs it")
    return Outcome(False, f"the lake holds {lake_rows} issues but Jira counts {jira_count} for the same JQL "
                          f"(difference {diff:+d}, allowed ±{allowed}): {why}.", metadata, AssetCheckSeverity.WARN)


# ---- reading the lake ------------------------------------------------------------------------------------------


def _missing_table(name: str) -> Outcome:
    return Outcome(False, f"table {name} does not exist in the lake yet: materialize {name} first",
                   {"table": name}, AssetCheckSeverity.WARN)


def check_primary_key(writer: LakeReader, spec: EndpointSpec) -> Outcome:
    if not writer.table_exists(spec.name):
        return _missing_table(spec.name)
    outcome = primary_key_outcome(writer.read_table(spec.name, list(spec.table_key)), spec.table_key)
    outcome.metadata["table"] = writer.qualified_name(spec.name)
    return outcome


def check_parent(writer: LakeReader, spec: EndpointSpec) -> Outcome:
    link = spec.parent
    assert link is not None
    if not writer.table_exists(spec.name):
        return _missing_table(spec.name)
    if not writer.table_exists(link.asset):
        return Outcome(False, f"parent table {link.asset} does not exist, so none of {spec.name}'s rows has a "
                              f"parent: materialize {link.asset}", {"parent_table": link.asset},
                       AssetCheckSeverity.WARN)
    child = writer.read_table(spec.name, [link.key])
    parent = writer.read_table(link.asset, [link.id_column])
    outcome = parent_outcome(child, link.key, parent, link.id_column, link.asset)
    outcome.metadata["table"] = writer.qualified_name(spec.name)
    return outcome


def check_issue_count(writer: LakeReader, jira: JiraResource, name: str,
                      tolerance: tuple[float, bool] | None = None) -> Outcome:
    if not writer.table_exists(name):
        return _missing_table(name)
    created = writer.read_table(name, ["created"], types={"created": "timestamptz"}).column("created")
    base = scope_jql(IncrementalSettings.from_env(jira.settings_env()))
    newest: datetime | None = pc.max(created).as_py() if len(created) else None
    if newest is None:
        jql, lake_rows = base, len(created)
    else:
        bound = floor_minute(newest)
        # Both sides count only issues created before the newest minute the lake knows of.
        jql = f"({base}) AND created < {epoch_ms(bound)}"
        lake_rows = int(pc.sum(pc.less(created, pa.scalar(bound, type=created.type))).as_py() or 0)
    jira_count = jira.approximate_count(jql, endpoint="issue_search_count_check")
    outcome = count_outcome(lake_rows, jira_count, jql, tolerance or parse_tolerance())
    outcome.metadata["table"] = writer.qualified_name(name)
    outcome.metadata["table_rows"] = len(created)
    return outcome


def drop_outcome(rows_now: int, rows_before: int | None) -> Outcome:
    metadata: dict[str, Any] = {"rows_now": rows_now, "rows_before": rows_before}
    if rows_before is None:
        return Outcome(True, f"{rows_now} rows; no earlier commit to compare with", metadata, AssetCheckSeverity.WARN)
    metadata["change"] = rows_now - rows_before
    if rows_now * 2 >= rows_before:
        return Outcome(True, f"{rows_now} rows, {rows_before} before", metadata, AssetCheckSeverity.WARN)
    return Outcome(
        False,
        f"the last commit left {rows_now} rows where the one before had {rows_before} (more than half gone): Jira "
        "answered far less than before. A lost permission or product, or a changed JIRA_JQL_FILTER or "
        "JIRA_START_DATE, does this; if the data really went, nothing needs doing. Earlier snapshots keep the rows "
        "(Iceberg time travel).",
        metadata, AssetCheckSeverity.WARN)


def check_row_drop(reader: LakeReader, spec: EndpointSpec) -> Outcome:
    if not reader.table_exists(spec.name):
        return _missing_table(spec.name)
    # A site's rows after each of its commits (several sites may share the table), else the table's.
    counts = [int(props[SITE_ROWS_PROPERTY] if SITE_ROWS_PROPERTY in props else props["total-records"])
              for props in reader.commit_properties(spec.name)
              if SITE_ROWS_PROPERTY in props or "total-records" in props]
    outcome = drop_outcome(counts[0] if counts else 0, counts[1] if len(counts) > 1 else None)
    outcome.metadata["table"] = reader.qualified_name(spec.name)
    return outcome


def check_derived(reader: LakeReader, spec: EndpointSpec, check: Any) -> Outcome:
    """One of a derived table's own checks (derived/checks.py)."""
    if not reader.table_exists(spec.name):
        return _missing_table(spec.name)
    verdict = check.run(reader, spec.name)
    metadata = {k: _md_rows(v) if isinstance(v, list) else v for k, v in verdict.metadata.items()}
    metadata["table"] = reader.qualified_name(spec.name)
    return Outcome(verdict.passed, verdict.description, metadata,
                   AssetCheckSeverity.WARN if check.warn else AssetCheckSeverity.ERROR)


# ---- Dagster definitions ---------------------------------------------------------------------------------------


def check_specs_for(spec: EndpointSpec, enabled: set[str], site: SiteNames = ONLY_SITE) -> list[AssetCheckSpec]:
    asset = site.key(spec.name)
    specs = [AssetCheckSpec(
        PRIMARY_KEY_CHECK, asset=asset,
        description=f"Primary key ({', '.join(spec.table_key)}) is unique and never null.",
    )]
    if spec.parent is not None and spec.parent.asset in enabled:
        specs.append(AssetCheckSpec(
            PARENT_CHECK, asset=asset, additional_deps=[site.key(spec.parent.asset)],
            description=f"Every {spec.parent.key} exists in {spec.parent.asset}.{spec.parent.id_column}.",
        ))
    if isinstance(spec.sync, IssueSearchCursor):
        specs.append(AssetCheckSpec(
            COUNT_CHECK, asset=asset,
            description="Row count equals Jira's approximate count for the same JQL "
                        f"(tolerance {ENV_COUNT_TOLERANCE}, default {DEFAULT_COUNT_TOLERANCE}).",
        ))
    for derived in spec.sync.checks:
        specs.append(AssetCheckSpec(derived.name, asset=asset, description=derived.description))
    if isinstance(spec.sync, (FullRefresh, IssueSearchCursor)):
        specs.append(AssetCheckSpec(
            DROP_CHECK, asset=asset,
            description="The last commit kept at least half the rows of the one before (a sharp drop usually "
                        "means Jira answered less than it holds: a lost permission, a changed filter).",
        ))
    return specs


def evaluate(check: str, spec: EndpointSpec, lake: IcebergIOManager, jira: JiraResource,
             asset: AssetKey | None = None) -> AssetCheckResult:
    """One check of one table (the site's share of it), as Dagster records it."""
    reader = lake.reader().for_site(jira.site_name)
    if check == PRIMARY_KEY_CHECK:
        outcome = check_primary_key(reader, spec)
    elif check == PARENT_CHECK:
        outcome = check_parent(reader, spec)
    elif check == COUNT_CHECK:
        outcome = check_issue_count(reader, jira, spec.name)
    elif check == DROP_CHECK:
        outcome = check_row_drop(reader, spec)
    elif check in {c.name for c in spec.sync.checks}:
        outcome = check_derived(reader, spec, next(c for c in spec.sync.checks if c.name == check))
    else:
        raise ValueError(f"unknown check {check!r}")
    return outcome.result(asset or AssetKey(spec.name), check)


def check_keys(enabled_names: Iterable[str]) -> list[AssetCheckKey]:
    enabled = set(enabled_names)
    return [s.key for n in enabled_names if n in BY_NAME for s in check_specs_for(BY_NAME[n], enabled)]
