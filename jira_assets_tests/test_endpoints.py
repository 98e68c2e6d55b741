"""The catalogue is consistent data: every row's columns, keys, parents and strategy fit together."""

from __future__ import annotations

import pytest

from jira_assets.endpoints import ADMIN_ONLY, BY_NAME, DEFAULT_ENABLED, ENDPOINTS
from jira_assets.jira.paging import PAGING_STYLES
from jira_assets.lake.arrow import COLUMN_TYPES
from jira_assets.selection import descendants, enabled_endpoints
from jira_assets.sync.base import SyncStrategy
from jira_assets.sync.follow_parent import FollowParentCommits
from jira_assets.sync.full_refresh import FullRefresh
from jira_assets.sync.issue_search import IssueSearchCursor

NAMES = [spec.name for spec in ENDPOINTS]


def test_the_catalogue_holds_the_products_endpoints():
    """The one place the product's counts are written down: 41 Jira endpoints, all but two on by default; the other
    rows are tables read from pages already fetched or derived from the lake, all on by default."""
    requested = [spec.name for spec in ENDPOINTS if spec.fetch is not None]
    assert len(NAMES) == len(set(NAMES)) == len(BY_NAME) and len(requested) == 41
    assert set(BY_NAME) - set(DEFAULT_ENABLED) == {"audit_records", "priority_schemes"}
    assert set(ADMIN_ONLY) >= {"audit_records", "priority_schemes", "workflows"}
    for spec in ENDPOINTS:
        if spec.fetch is None:
            assert spec.sync.derived or isinstance(spec.sync, FollowParentCommits), spec.name


@pytest.mark.parametrize("name", NAMES)
def test_a_row_is_consistent(name):
    spec = BY_NAME[name]
    assert spec.fetch is None or spec.fetch.paging in PAGING_STYLES
    assert isinstance(spec.sync, SyncStrategy) and spec.sync.name
    columns = [c.name for c in spec.table_columns]
    assert len(columns) == len(set(columns)), f"{name}: a column appears twice"
    assert all(c.type in COLUMN_TYPES for c in spec.table_columns)
    assert set(spec.primary_key) <= set(columns), f"{name}: primary key {spec.primary_key} not among {columns}"
    assert sorted(spec.arrow_schema.names) == sorted([*columns, "_raw", "_synced_at"])
    if spec.parent is not None:
        parent = BY_NAME[spec.parent.asset]
        parent_columns = {c.name for c in parent.table_columns}
        assert spec.parent.id_column in parent_columns
        assert set(spec.parent.where) <= parent_columns
        assert spec.parent.key in spec.primary_key
        # A default endpoint never depends on one that is off by default.
        assert not spec.enabled_by_default or parent.enabled_by_default
        if isinstance(spec.sync, FullRefresh):
            assert "{parent_id}" in spec.fetch.path + str(dict(spec.fetch.params))


def test_strategies_follow_the_rows_that_can_be_followed():
    roots = [s.name for s in ENDPOINTS if isinstance(s.sync, IssueSearchCursor)]
    assert roots == ["issue_search"]
    for spec in ENDPOINTS:
        if isinstance(spec.sync, FollowParentCommits):
            assert spec.parent is not None and isinstance(BY_NAME[spec.parent.asset].sync, IssueSearchCursor)
        if spec.sync.follows_deletions:
            assert spec.sync.incremental


def test_selection_words_and_descendants():
    assert enabled_endpoints("default", "") == [n for n in NAMES if n in DEFAULT_ENABLED]
    assert enabled_endpoints("all", "") == NAMES
    assert set(enabled_endpoints("default", "admin")).isdisjoint(ADMIN_ONLY)
    # Children take their ids from a parent; derived tables are computed from the tables they require.
    assert descendants(["boards"]) == ["sprint_issue_history", "sprint_report", "board_configuration",
                                       "board_issues", "board_sprints", "sprint_issues"]
    with pytest.raises(ValueError, match="takes its ids from 'boards'"):
        enabled_endpoints("default", "boards")
    with pytest.raises(ValueError, match="'issue_field_history' is computed from 'issue_changelog', which is not "
                                         "enabled"):
        enabled_endpoints("default", "issue_changelog")
    assert "issue_flow" not in enabled_endpoints("default", ",".join(["issue_changelog",
                                                                        *descendants(["issue_changelog"])]))
    with pytest.raises(ValueError, match="unknown endpoint 'nope'"):
        enabled_endpoints("default,nope", "")
