"""THE catalogue: one EndpointSpec row per Jira endpoint. Data, not code.

Each row says how the endpoint is requested (`fetch`, source side), which parent feeds it ids, how it is kept in
sync (`sync`, a strategy object; full refresh unless the row says otherwise) and what its Iceberg table looks like
(typed columns, primary key). The asset factory turns every row into one software-defined asset. Paths, page caps
and quirks: docs/jira-api.md.
"""

from __future__ import annotations

from typing import Any

from jira_assets.jira import embedded
from jira_assets.jira.custom_fields import SPRINT
from jira_assets.jira.fetch import FetchSpec
from jira_assets.lake.arrow import Column
from jira_assets.derived.custom_fields import CustomFieldMap
from jira_assets.derived.history import FieldHistory, FlowMetrics, StatusIntervals
from jira_assets.derived.sprint_tables import SprintIssueHistory, SprintReport
from jira_assets.spec import EndpointSpec, ParentLink
from jira_assets.sync.change_feed import WorklogChangeFeed
from jira_assets.sync.full_refresh import FullRefresh
from jira_assets.sync.follow_parent import (
    ChangelogBulk, EmbeddedList, EmbeddedPages, FollowParentCommits, WorklogFeed,
)
from jira_assets.sync.issue_search import IssueSearchCursor

V2 = "/rest/api/2"
AGILE = "/rest/agile/1.0"
SOFTWARE = "/rest/software/1.0"

# Groups by domain (Dagster asset groups).
ISSUES = "issues"
PROJECTS = "projects"
DIMENSIONS = "issue_dimensions"
BOARDS = "boards_and_sprints"
SCHEMES = "workflows_and_schemes"
PEOPLE = "users_and_groups"
DASHBOARDS = "dashboards_and_filters"
SYSINFO = "sysinfo"
HISTORY = "history"  # derived from the lake's own tables (docs/derived-tables.md)

# The global permission that reading the whole of an admin endpoint needs. Without it Jira answers some of them
# with 403 and others with an empty page (they list only what the caller administers).
ADMINISTER = "ADMINISTER"

# Built-in permission keys asked of /mypermissions (Jira answers 400 when `permissions` is empty).
PERMISSION_KEYS = (
    "ADMINISTER", "ADMINISTER_PROJECTS", "ASSIGNABLE_USER", "ASSIGN_ISSUES", "BROWSE_PROJECTS", "BULK_CHANGE",
    "CLOSE_ISSUES", "CREATE_ATTACHMENTS", "CREATE_ISSUES", "CREATE_SHARED_OBJECTS", "DELETE_ALL_ATTACHMENTS",
    "DELETE_ALL_COMMENTS", "DELETE_ALL_WORKLOGS", "DELETE_ISSUES", "EDIT_ALL_COMMENTS", "EDIT_ALL_WORKLOGS",
    "EDIT_ISSUES", "LINK_ISSUES", "MANAGE_GROUP_FILTER_SUBSCRIPTIONS", "MANAGE_SPRINTS_PERMISSION", "MANAGE_WATCHERS",
    "MODIFY_REPORTER", "MOVE_ISSUES", "RESOLVE_ISSUES", "SCHEDULE_ISSUES", "SET_ISSUE_SECURITY",
    "SYSTEM_ADMIN", "TRANSITION_ISSUES", "USER_PICKER", "VIEW_DEV_TOOLS", "VIEW_READONLY_WORKFLOW",
    "VIEW_VOTERS_AND_WATCHERS", "WORK_ON_ISSUES",
)

# Fields asked of the Jira Software board/sprint issue lists: enough to join issues to boards and sprints,
# few enough that Jira serves large pages.
AGILE_ISSUE_FIELDS = "key,updated,status,issuetype,sprint,closedSprints,flagged,epic"

# The full-load JQL: bounded (Jira rejects unbounded JQL), oldest change first so a cursor can follow it.
FULL_LOAD_JQL = 'updated >= "1970-01-01 00:00" ORDER BY updated ASC, id ASC'


# Comments and worklogs as search/jql embeds them in each issue (complete unless `total` says otherwise).
EMBEDDED_COMMENTS = EmbeddedPages("comment", "comments")
EMBEDDED_WORKLOGS = EmbeddedPages("worklog", "worklogs")



def follow_issues(fetch, other_end: str = "") -> FollowParentCommits:
    """A list inside each issue: read from the issue pages at every full load and for every changed issue."""
    return FollowParentCommits(full=fetch, changed=fetch, other_end=other_end)


# What `check` asks to see whether issues (and so their changelogs, comments and worklogs) are readable at all.
ISSUE_PROBE = FetchSpec(path=f"{V2}/search/jql", paging="cursor", method="POST", items_key="issues", page_size=1,
                        body={"jql": 'updated >= "1970-01-01 00:00"', "fields": ["id"]})


def c(name: str, path: str | None = None, type: str = "string") -> Column:
    return Column(name=name, path=path or name, type=type)


ID = c("id")
NAME = c("name")
LONG_ID = c("id", "id", "long")
DESCRIPTION = c("description")

USER_COLUMNS = (
    c("account_id", "accountId"), c("account_type", "accountType"), c("display_name", "displayName"),
    c("email_address", "emailAddress"), c("active", "active", "boolean"), c("time_zone", "timeZone"),
    c("locale"),
)

AGILE_ISSUE_COLUMNS = (
    ID, c("key"), c("status_id", "fields.status.id"), c("issue_type_id", "fields.issuetype.id"),
    c("sprint_id", "fields.sprint.id", "long"), c("epic_id", "fields.epic.id", "long"),
    c("flagged", "fields.flagged", "boolean"), c("updated", "fields.updated", "timestamptz"),
)


def page_bean(path: str, page_size: int = 1000, **kw: Any) -> FetchSpec:
    return FetchSpec(path=path, paging="page_bean", page_size=page_size, **kw)


ENDPOINTS: tuple[EndpointSpec, ...] = (
    # ---- issues -------------------------------------------------------------------------------------------
    EndpointSpec(
        "issue_search", ISSUES, "Every issue with all fields (search/jql, cursor-paged).",
        FetchSpec(
            path=f"{V2}/search/jql", paging="cursor", method="POST", items_key="issues", page_size=5000,
            body={"jql": FULL_LOAD_JQL, "fields": ["*all"]},
        ),
        ("id",),
        (
            ID, c("key"), c("project_id", "fields.project.id"), c("project_key", "fields.project.key"),
            c("issue_type_id", "fields.issuetype.id"), c("status_id", "fields.status.id"),
            c("status_category_key", "fields.status.statusCategory.key"), c("priority_id", "fields.priority.id"),
            c("resolution_id", "fields.resolution.id"), c("parent_id", "fields.parent.id"),
            c("assignee_account_id", "fields.assignee.accountId"),
            c("reporter_account_id", "fields.reporter.accountId"),
            c("creator_account_id", "fields.creator.accountId"), c("summary", "fields.summary"),
            c("labels", "fields.labels", "json"), c("created", "fields.created", "timestamptz"),
            c("updated", "fields.updated", "timestamptz"),
            c("resolution_date", "fields.resolutiondate", "timestamptz"), c("due_date", "fields.duedate", "date"),
            c("comment_total", "fields.comment.total", "long"), c("worklog_total", "fields.worklog.total", "long"),
        ),
        # Custom fields become typed columns, typed from the field catalogue (sync/custom_columns.py).
        sync=IssueSearchCursor(field_catalogue="fields"), probe=ISSUE_PROBE,
    ),
    EndpointSpec(
        "issue_changelog", ISSUES, "Full change history of every issue (changelog/bulkfetch, 1000 issues a call).",
        FetchSpec(path=f"{V2}/changelog/bulkfetch", paging="cursor", method="POST", items_key="issueChangeLogs",
                  page_size=10000),
        ("issue_id", "id"),
        (ID, c("author_account_id", "author.accountId"), c("created", "created", "timestamptz"),
         c("items", "items", "json")),
        parent=ParentLink("issue_search", "issue_id", distinct=True),
        sync=FollowParentCommits(full=ChangelogBulk(), changed=ChangelogBulk()), probe=ISSUE_PROBE,
    ),
    EndpointSpec(
        "issue_comments", ISSUES, "Every comment (embedded in the search; per issue only where it was truncated).",
        # The per-issue request, for issues whose embedded page was truncated. 404: the issue was deleted meanwhile.
        FetchSpec(path=f"{V2}/issue/{{parent_id}}/comment", paging="page_bean", items_key="comments",
                  params={"orderBy": "created"}, page_size=5000, skip_statuses=frozenset({404})),
        ("issue_id", "id"),
        (ID, c("author_account_id", "author.accountId"), c("update_author_account_id", "updateAuthor.accountId"),
         c("body"), c("created", "created", "timestamptz"), c("updated", "updated", "timestamptz")),
        parent=ParentLink("issue_search", "issue_id"),
        sync=FollowParentCommits(full=EMBEDDED_COMMENTS, changed=EMBEDDED_COMMENTS),
        probe=ISSUE_PROBE,
    ),
    EndpointSpec(
        "issue_worklog", ISSUES, "Every worklog (worklog/updated + worklog/list, 1000 worklogs a call).",
        # The per-issue request, for changed issues whose embedded page was truncated. 404: the issue was deleted
        # meanwhile, or time tracking is off for its project.
        FetchSpec(path=f"{V2}/issue/{{parent_id}}/worklog", paging="page_bean", items_key="worklogs",
                  page_size=5000, skip_statuses=frozenset({404})),
        ("issue_id", "id"),
        (ID, c("author_account_id", "author.accountId"), c("started", "started", "timestamptz"),
         c("time_spent_seconds", "timeSpentSeconds", "long"), c("created", "created", "timestamptz"),
         c("updated", "updated", "timestamptz"), c("comment")),
        parent=ParentLink("issue_search", "issue_id"),
        # A full load reads every worklog through the bulk feed (1000 a request, whatever the issue count); later,
        # adding, editing or deleting a worklog updates its issue, so the changed issues carry every change.
        sync=FollowParentCommits(full=WorklogFeed(), changed=EMBEDDED_WORKLOGS),
        probe=ISSUE_PROBE,
    ),
    # ---- the lists inside an issue, from the pages issue_search already fetched (no request) ---------------
    EndpointSpec(
        "issue_links", ISSUES, "Every issue link, from this issue's side: its type, direction and the other issue.",
        None, ("issue_id", "id"),
        (ID, c("type_id", "type.id"), c("type_name", "type.name"), c("inward", "type.inward"),
         c("outward", "type.outward")),
        parent=ParentLink("issue_search", "issue_id"),
        sync=follow_issues(EmbeddedList(embedded.links, field="issuelinks"), other_end="other_issue_id"),
        probe=ISSUE_PROBE,
        computed=(c("direction"), c("other_issue_id"), c("other_issue_key")),
    ),
    EndpointSpec(
        "issue_fix_versions", ISSUES, "The versions each issue is to be fixed in (fixVersions).",
        None, ("issue_id", "version_id"),
        (c("version_id", "id"), NAME, c("released", "released", "boolean"), c("release_date", "releaseDate", "date")),
        parent=ParentLink("issue_search", "issue_id"),
        sync=follow_issues(EmbeddedList(embedded.objects, field="fixVersions")), probe=ISSUE_PROBE,
    ),
    EndpointSpec(
        "issue_affects_versions", ISSUES, "The versions each issue affects (versions).",
        None, ("issue_id", "version_id"),
        (c("version_id", "id"), NAME, c("released", "released", "boolean"), c("release_date", "releaseDate", "date")),
        parent=ParentLink("issue_search", "issue_id"),
        sync=follow_issues(EmbeddedList(embedded.objects, field="versions")), probe=ISSUE_PROBE,
    ),
    EndpointSpec(
        "issue_components", ISSUES, "The components of each issue.",
        None, ("issue_id", "component_id"), (c("component_id", "id"), NAME),
        parent=ParentLink("issue_search", "issue_id"),
        sync=follow_issues(EmbeddedList(embedded.objects, field="components")), probe=ISSUE_PROBE,
    ),
    EndpointSpec(
        "issue_labels", ISSUES, "The labels of each issue, one row per label.",
        None, ("issue_id", "label"), (c("label"),),
        parent=ParentLink("issue_search", "issue_id"),
        sync=follow_issues(EmbeddedList(embedded.labels, field="labels")), probe=ISSUE_PROBE,
    ),
    EndpointSpec(
        "issue_sprints", ISSUES, "The sprints of each issue (Jira Software's Sprint field), and its current one.",
        None, ("issue_id", "sprint_id"),
        (c("sprint_id", "id", "long"), NAME, c("state"), c("board_id", "boardId", "long"),
         c("start_date", "startDate", "timestamptz"), c("end_date", "endDate", "timestamptz"),
         c("complete_date", "completeDate", "timestamptz")),
        parent=ParentLink("issue_search", "issue_id"),
        sync=follow_issues(EmbeddedList(embedded.sprints, custom_type=SPRINT, catalogue="fields")),
        probe=ISSUE_PROBE, computed=(c("is_current", type="boolean"),),
    ),
    EndpointSpec(
        "worklog_updated", ISSUES, "Worklog ids with their last update time (worklog/updated).",
        FetchSpec(path=f"{V2}/worklog/updated", paging="since_until", params={"since": 0}),
        ("worklog_id",),
        (c("worklog_id", "worklogId", "long"), c("updated_time", "updatedTime", "timestamptz")),
        sync=WorklogChangeFeed(),
    ),
    # ---- projects -----------------------------------------------------------------------------------------
    EndpointSpec(
        "project_search", PROJECTS, "Every project: live, archived and in the trash.",
        page_bean(
            f"{V2}/project/search", 100,
            params={"expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
                    "status": "live,archived,deleted"},
        ),
        ("id",),
        (ID, c("key"), NAME, c("project_type_key", "projectTypeKey"), c("style"),
         c("simplified", "simplified", "boolean"), c("is_private", "isPrivate", "boolean"),
         c("archived", "archived", "boolean"), c("deleted", "deleted", "boolean"),
         c("category_id", "projectCategory.id"), c("lead_account_id", "lead.accountId"),
         c("last_issue_update_time", "insight.lastIssueUpdateTime", "timestamptz")),
    ),
    EndpointSpec(
        "project_versions", PROJECTS, "Versions of every live project.",
        page_bean(f"{V2}/project/{{parent_id}}/version"),
        ("project_id", "id"),
        (ID, NAME, c("archived", "archived", "boolean"), c("released", "released", "boolean"),
         c("start_date", "startDate", "date"), c("release_date", "releaseDate", "date")),
        parent=ParentLink("project_search", "project_id", where={"archived": (False, None), "deleted": (False, None)}),
    ),
    EndpointSpec(
        "project_components", PROJECTS, "Components of every live project.",
        page_bean(f"{V2}/project/{{parent_id}}/component"),
        ("project_id", "id"),
        (ID, NAME, c("lead_account_id", "lead.accountId"), c("assignee_type", "assigneeType")),
        parent=ParentLink("project_search", "project_id", where={"archived": (False, None), "deleted": (False, None)}),
    ),
    EndpointSpec(
        "project_categories", PROJECTS, "Project categories.",
        FetchSpec(path=f"{V2}/projectCategory", paging="plain_array"), ("id",), (ID, NAME, DESCRIPTION),
    ),
    EndpointSpec(
        "project_types", PROJECTS, "Project types (whether licensed or not).",
        FetchSpec(path=f"{V2}/project/type", paging="plain_array"), ("key",),
        (c("key"), c("formatted_key", "formattedKey")),
    ),
    # ---- history: derived from the lake's tables, no request (docs/derived-tables.md) ------------------------
    EndpointSpec(
        "issue_field_history", HISTORY, "Every field of every issue over time: one row per issue, field and interval.",
        None, ("issue_id", "field_id", "sequence"),
        (c("field_id"), c("field"), c("sequence", type="long"), c("valid_from", type="timestamptz"),
         c("valid_to", type="timestamptz"), c("value"), c("value_id"), c("values", type="list<string>"),
         c("value_ids", type="list<string>"), c("author_account_id"), c("changelog_id")),
        parent=ParentLink("issue_search", "issue_id"), sync=FieldHistory(),
    ),
    EndpointSpec(
        "issue_status_intervals", HISTORY, "Time in status: one row per issue and status interval, with direction.",
        None, ("issue_id", "sequence"),
        (c("sequence", type="long"), c("status_id"), c("status_name"), c("status_category_key"),
         c("entered_at", type="timestamptz"), c("exited_at", type="timestamptz"), c("seconds", type="double"),
         c("direction")),
        parent=ParentLink("issue_search", "issue_id"), sync=StatusIntervals(),
    ),
    EndpointSpec(
        "issue_flow", HISTORY, "Flow metrics per issue: commitment, done, lead and cycle time, blocked time, "
        "reopenings.",
        None, ("issue_id",),
        (c("project_id"), c("project_key"), c("issue_type_id"), c("created", type="timestamptz"),
         c("committed_at", type="timestamptz"), c("done_at", type="timestamptz"), c("lead_seconds", type="double"),
         c("cycle_seconds", type="double"), c("blocked_seconds", type="double"),
         c("blocked_now", type="boolean"), c("times_reopened", type="long"), c("assignee_changes", type="long"),
         c("sprint_changes", type="long"), c("status_changes", type="long")),
        parent=ParentLink("issue_search", "issue_id"), sync=FlowMetrics(),
    ),
    EndpointSpec(
        "sprint_issue_history", HISTORY, "Per started sprint and issue ever in it: in at start, added, removed, "
        "estimates, done at the end.",
        None, ("sprint_id", "issue_id"),
        (c("sprint_id", type="long"), c("issue_id"), c("board_id", type="long"), c("in_at_start", type="boolean"),
         c("added", type="boolean"), c("removed", type="boolean"), c("in_at_end", type="boolean"),
         c("estimate_at_start", type="double"), c("estimate_at_end", type="double"), c("status_at_end"),
         c("done_at_end", type="boolean")),
        sync=SprintIssueHistory(),
    ),
    EndpointSpec(
        "sprint_report", HISTORY, "Per started sprint, Jira's Sprint Report: committed, added, removed, completed "
        "and not completed, in issues and points.",
        None, ("sprint_id",),
        (c("sprint_id", type="long"), c("board_id", type="long"), NAME, c("state"),
         c("start_date", type="timestamptz"), c("end_date", type="timestamptz"),
         c("complete_date", type="timestamptz"),
         *(c(f"{kind}_{unit}", type="long" if unit == "issues" else "double")
           for kind in ("committed", "added", "removed", "completed", "not_completed")
           for unit in ("issues", "points"))),
        sync=SprintReport(),
    ),
    # ---- issue dimensions ---------------------------------------------------------------------------------
    EndpointSpec(
        "custom_fields", DIMENSIONS, "Which issue_search column holds which custom field, with its type.",
        None, ("column_name",),
        (c("column_name"), c("field_id"), c("part"), c("field_name"), c("column_type"), c("schema_type"),
         c("schema_items"), c("schema_custom"), c("scope_project_id"), c("in_jira", "in_jira", "boolean")),
        sync=CustomFieldMap(issues="issue_search", catalogue="fields"),
    ),
    EndpointSpec(
        "fields", DIMENSIONS, "System and custom fields; match custom fields on schema.custom, not on the name.",
        FetchSpec(path=f"{V2}/field", paging="plain_array"), ("id",),
        (ID, c("key"), NAME, c("custom", "custom", "boolean"), c("schema_type", "schema.type"),
         c("schema_custom", "schema.custom")),
    ),
    EndpointSpec(
        "issue_types", DIMENSIONS, "Issue types visible to the caller (team-managed ones carry a project scope).",
        FetchSpec(path=f"{V2}/issuetype", paging="plain_array"), ("id",),
        (ID, NAME, c("subtask", "subtask", "boolean"), c("hierarchy_level", "hierarchyLevel", "long"),
         c("scope_project_id", "scope.project.id")),
    ),
    EndpointSpec(
        "issue_link_types", DIMENSIONS, "Issue link types.",
        FetchSpec(path=f"{V2}/issueLinkType", paging="wrapper", items_key="issueLinkTypes"), ("id",),
        (ID, NAME, c("inward"), c("outward")),
    ),
    EndpointSpec(
        "priorities", DIMENSIONS, "Priorities.",
        page_bean(f"{V2}/priority/search"), ("id",), (ID, NAME, c("is_default", "isDefault", "boolean")),
    ),
    EndpointSpec(
        "resolutions", DIMENSIONS, "Resolutions.",
        page_bean(f"{V2}/resolution/search"), ("id",), (ID, NAME, c("is_default", "isDefault", "boolean")),
    ),
    EndpointSpec(
        "statuses", DIMENSIONS, "Statuses of active workflows.",
        FetchSpec(path=f"{V2}/status", paging="plain_array"), ("id",),
        (ID, NAME, c("status_category_id", "statusCategory.id", "long"),
         c("status_category_key", "statusCategory.key")),
    ),
    EndpointSpec(
        "status_categories", DIMENSIONS, "Status categories.",
        FetchSpec(path=f"{V2}/statuscategory", paging="plain_array"), ("id",),
        (LONG_ID, c("key"), NAME, c("color_name", "colorName")),
    ),
    # ---- boards and sprints -------------------------------------------------------------------------------
    EndpointSpec(
        "boards", BOARDS, "Agile boards, private ones included (Jira sends those without name or type).",
        # 404 (the dead-link page): the site has no Jira Software, or the account may not browse boards. That fails
        # the sync (board tables keep their last snapshot); JIRA_ASSETS_EXCLUDE leaves the board tables out.
        FetchSpec(path=f"{AGILE}/board", paging="agile_page", page_size=50, params={"includePrivate": "true"}),
        ("id",),
        (LONG_ID, NAME, c("type"), c("is_private", "isPrivate", "boolean"),
         c("project_id", "location.projectId", "long"), c("project_key", "location.projectKey")),
        needs="Jira Software on the site, and permission to browse its boards",
    ),
    EndpointSpec(
        "board_configuration", BOARDS, "Column, estimation and ranking configuration of every board.",
        FetchSpec(path=f"{AGILE}/board/{{parent_id}}/configuration", paging="single",
                  skip_statuses=frozenset({403, 404})),
        ("board_id",),
        (LONG_ID, NAME, c("type"), c("filter_id", "filter.id"), c("columns", "columnConfig.columns", "json"),
         c("estimation_field_id", "estimation.field.fieldId")),
        parent=ParentLink("boards", "board_id", key_type="long", where={"is_private": (False, None)}),
    ),
    EndpointSpec(
        "board_issues", BOARDS, "Issues on every board, with their sprint and epic (Jira Software, cursor-paged).",
        FetchSpec(path=f"{SOFTWARE}/board/{{parent_id}}/issue", paging="cursor", items_key="issues",
                  page_size=5000, params={"fields": AGILE_ISSUE_FIELDS}, skip_statuses=frozenset({404})),
        ("board_id", "id"), AGILE_ISSUE_COLUMNS,
        parent=ParentLink("boards", "board_id", key_type="long", where={"is_private": (False, None)}),
        sync=FullRefresh(issue_scope=True),
    ),
    EndpointSpec(
        "board_sprints", BOARDS, "Sprints of every scrum and team-managed board (a sprint shared by boards appears "
        "once per board).",
        FetchSpec(path=f"{AGILE}/board/{{parent_id}}/sprint", paging="agile_page", page_size=50,
                  params={"state": "future,active,closed"}, skip_statuses=frozenset({400, 404})),
        ("board_id", "id"),
        (LONG_ID, NAME, c("state"), c("origin_board_id", "originBoardId", "long"), c("goal"),
         c("start_date", "startDate", "timestamptz"), c("end_date", "endDate", "timestamptz"),
         c("complete_date", "completeDate", "timestamptz")),
        # Scrum boards, and team-managed ("simple") boards, which can run sprints; Jira answers 400 for the others.
        parent=ParentLink("boards", "board_id", key_type="long",
                          where={"type": ("scrum", "simple"), "is_private": (False, None)}),
    ),
    EndpointSpec(
        "sprint_issues", BOARDS, "Issues of every sprint (each sprint fetched once).",
        FetchSpec(path=f"{SOFTWARE}/sprint/{{parent_id}}/issue", paging="cursor", items_key="issues",
                  page_size=5000, params={"fields": AGILE_ISSUE_FIELDS}, skip_statuses=frozenset({404})),
        ("sprint_id", "id"), AGILE_ISSUE_COLUMNS,
        parent=ParentLink("board_sprints", "sprint_id", key_type="long", distinct=True),
        sync=FullRefresh(issue_scope=True),
    ),
    # ---- workflows and schemes ----------------------------------------------------------------------------
    EndpointSpec(
        "workflows", SCHEMES, "Workflows with statuses and transitions (workflows/search).",
        page_bean(f"{V2}/workflows/search", params={"expand": "values.transitions"}), ("id",),
        (ID, NAME, DESCRIPTION, c("scope_type", "scope.type"), c("scope_project_id", "scope.project.id"),
         c("version_number", "version.versionNumber", "long")),
        admin_only=True, permission=ADMINISTER,
    ),
    EndpointSpec(
        "workflow_schemes", SCHEMES, "Workflow schemes.", page_bean(f"{V2}/workflowscheme"), ("id",),
        (LONG_ID, NAME, DESCRIPTION, c("default_workflow", "defaultWorkflow")), admin_only=True, permission=ADMINISTER,
    ),
    EndpointSpec(
        "permission_schemes", SCHEMES, "Permission schemes with their grants.",
        FetchSpec(path=f"{V2}/permissionscheme", paging="wrapper", items_key="permissionSchemes",
                  params={"expand": "all"}),
        ("id",), (LONG_ID, NAME, DESCRIPTION), admin_only=True,
    ),
    EndpointSpec(
        "notification_schemes", SCHEMES, "Notification schemes with their events and recipients.",
        page_bean(f"{V2}/notificationscheme", params={"expand": "all"}), ("id",), (LONG_ID, NAME, DESCRIPTION),
        admin_only=True, permission=ADMINISTER,
    ),
    EndpointSpec(
        "issue_security_schemes", SCHEMES, "Issue security schemes.",
        FetchSpec(path=f"{V2}/issuesecurityschemes", paging="wrapper", items_key="issueSecuritySchemes"),
        ("id",), (LONG_ID, NAME, DESCRIPTION, c("default_security_level_id", "defaultSecurityLevelId", "long")),
        admin_only=True, permission=ADMINISTER,
    ),
    EndpointSpec(
        "screen_schemes", SCHEMES, "Screen schemes (classic projects).", page_bean(f"{V2}/screenscheme"), ("id",),
        (LONG_ID, NAME, DESCRIPTION), admin_only=True, permission=ADMINISTER,
    ),
    EndpointSpec(
        "field_configurations", SCHEMES, "Field configurations (classic projects).",
        page_bean(f"{V2}/fieldconfiguration"), ("id",),
        (LONG_ID, NAME, DESCRIPTION, c("is_default", "isDefault", "boolean")), admin_only=True, permission=ADMINISTER,
    ),
    EndpointSpec(
        "priority_schemes", SCHEMES, "Priority schemes with their priorities and projects (Premium/Enterprise).",
        page_bean(f"{V2}/priorityscheme", params={"expand": "priorities,projects"}), ("id",),
        (ID, NAME, DESCRIPTION, c("is_default", "isDefault", "boolean")),
        enabled_by_default=False, admin_only=True, permission=ADMINISTER, needs="Jira Premium or Enterprise",
    ),
    # ---- users and groups ---------------------------------------------------------------------------------
    EndpointSpec(
        "users_search", PEOPLE, "Every user: active, inactive, app and customer accounts.",
        FetchSpec(path=f"{V2}/users/search", paging="short_page_array", page_size=1000), ("account_id",),
        USER_COLUMNS,
    ),
    EndpointSpec(
        "groups", PEOPLE, "Groups.", page_bean(f"{V2}/group/bulk"), ("group_id",),
        (c("group_id", "groupId"), NAME),
    ),
    EndpointSpec(
        "group_members", PEOPLE, "Members of every group, inactive users included.",
        page_bean(f"{V2}/group/member", 50, params={"groupId": "{parent_id}", "includeInactiveUsers": "true"}),
        ("group_id", "account_id"), USER_COLUMNS,
        parent=ParentLink("groups", "group_id", id_column="group_id"),
    ),
    EndpointSpec(
        "myself", PEOPLE, "The account these credentials belong to, with its groups and roles.",
        FetchSpec(path=f"{V2}/myself", paging="single", params={"expand": "groups,applicationRoles"}),
        ("account_id",), USER_COLUMNS,
    ),
    EndpointSpec(
        "my_permissions", PEOPLE, "Which global and project permissions these credentials hold.",
        FetchSpec(path=f"{V2}/mypermissions", paging="map_values", items_key="permissions",
                  params={"permissions": ",".join(PERMISSION_KEYS)}),
        ("key",),
        (c("key"), NAME, c("type"), c("have_permission", "havePermission", "boolean")),
    ),
    # ---- dashboards and filters ---------------------------------------------------------------------------
    EndpointSpec(
        "dashboards", DASHBOARDS, "Dashboards owned by or shared with the caller.",
        page_bean(f"{V2}/dashboard", items_key="dashboards"), ("id",),
        (ID, NAME, c("owner_account_id", "owner.accountId"), c("is_favourite", "isFavourite", "boolean")),
    ),
    EndpointSpec(
        "filters", DASHBOARDS, "Filters visible to the caller, with JQL, owner and share permissions.",
        page_bean(
            f"{V2}/filter/search",
            params={"expand": "description,owner,jql,viewUrl,searchUrl,favourite,favouritedCount,"
                              "sharePermissions,editPermissions,isWritable,subscriptions"},
        ),
        ("id",),
        (ID, NAME, c("jql"), c("owner_account_id", "owner.accountId"), c("favourite", "favourite", "boolean"),
         c("favourited_count", "favouritedCount", "long")),
    ),
    EndpointSpec(
        "filter_favourite", DASHBOARDS, "The caller's favourite filters.",
        FetchSpec(path=f"{V2}/filter/favourite", paging="plain_array"), ("id",),
        (ID, NAME, c("jql"), c("owner_account_id", "owner.accountId")),
    ),
    EndpointSpec(
        "filter_my", DASHBOARDS, "Filters the caller owns.",
        FetchSpec(path=f"{V2}/filter/my", paging="plain_array"), ("id",),
        (ID, NAME, c("jql"), c("owner_account_id", "owner.accountId")),
    ),
    # ---- sysinfo ------------------------------------------------------------------------------------------
    EndpointSpec(
        "server_info", SYSINFO, "Site version, build and time.",
        FetchSpec(path=f"{V2}/serverInfo", paging="single"), ("base_url",),
        (c("base_url", "baseUrl"), c("version"), c("build_number", "buildNumber", "long"),
         c("deployment_type", "deploymentType"), c("server_time", "serverTime", "timestamptz")),
    ),
    EndpointSpec(
        "audit_records", SYSINFO, "The audit log (needs Administer Jira and a paid plan).",
        FetchSpec(path=f"{V2}/auditing/record", paging="offset_limit", items_key="records", page_size=1000),
        ("id",),
        (LONG_ID, c("summary"), c("category"), c("event_source", "eventSource"),
         c("author_account_id", "authorAccountId"), c("created", "created", "timestamptz"),
         c("object_type", "objectItem.typeName"), c("object_id", "objectItem.id")),
        enabled_by_default=False, admin_only=True, permission=ADMINISTER, needs="Administer Jira on a paid plan",
    ),
)

BY_NAME: dict[str, EndpointSpec] = {spec.name: spec for spec in ENDPOINTS}
DEFAULT_ENABLED: tuple[str, ...] = tuple(s.name for s in ENDPOINTS if s.enabled_by_default)
ADMIN_ONLY: tuple[str, ...] = tuple(s.name for s in ENDPOINTS if s.admin_only)
