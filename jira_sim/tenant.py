"""A deterministic Jira Cloud tenant: every object is a pure function of (seed, scale) plus the mutations that
`POST /__sim/advance` applied.

Memory model (so the large tenant, 100,000 issues, stays far below 2 GB): configuration objects (users, projects,
boards, schemes, the custom field catalogue ...) are small and built eagerly. Issues are *not* stored: a compact base
pass keeps a few numbers per issue in `array` columns (project, number, type, created, updated, parent, sprint run,
counts of histories, comments and worklogs), and the full issue -- fields, custom field values, changelog, comments,
worklogs -- is regenerated on demand from (seed, issue number) and kept in a bounded LRU cache. Only mutations
(overlays) are held per issue.

Every timestamp is epoch milliseconds internally; JSON renders them the Jira way, in the caller's time zone
(`2025-01-10T20:15:32.123+1100`, timefmt.py).

As on real sites: most people hide their email and time zone (the keys are absent); some projects are team-managed
(their own issue types and custom fields, one board of type "simple", with sprints when the feature is on); the site
has hundreds of custom fields (customfields.py) and each issue carries its project's 30-50 of them, most null.
"""

from __future__ import annotations

import array
import bisect
import hashlib
import random
import uuid
from collections import OrderedDict
from datetime import datetime, timezone
from typing import Any, Iterable

from .customfields import (
    ESTIMATE_FIELD, ISSUE_COLORS, RANK_FIELD, SPRINT_FIELD, Catalogue, CustomField, build_catalogue, change_item,
    new_value, sprint_item,
)
from .timefmt import (  # noqa: F401  (re-exported: the renderers import the forms from here)
    CALLER_TZ, fmt_agile, fmt_date, fmt_ms, fmt_user_date, fmt_utc_z,
)

DAY = 86_400_000
HOUR = 3_600_000
MINUTE = 60_000

SCALES: dict[str, dict[str, int]] = {
    # demo: a full sync at 5 requests/s takes about a minute
    "demo": dict(projects=5, archived=1, deleted=1, issues=300, users=60, groups=24, filters=30, dashboards=24,
                 extra_boards=3, audit=150, field_configs=4, schemes=3),
    "standard": dict(projects=20, archived=2, deleted=1, issues=10_000, users=300, groups=30, filters=160,
                     dashboards=45, extra_boards=4, audit=2500, field_configs=8, schemes=8),
    "large": dict(projects=50, archived=4, deleted=2, issues=100_000, users=1500, groups=80, filters=400,
                  dashboards=80, extra_boards=8, audit=12000, field_configs=12, schemes=15),
}

FIRST = ["Mia", "Liam", "Ava", "Noah", "Zoe", "Ethan", "Isla", "Lucas", "Chloe", "Mateo", "Priya", "Arjun", "Yuki",
         "Hana", "Omar", "Lea", "Sven", "Ingrid", "Tomas", "Ana", "Kwame", "Amara", "Chen", "Wei", "Sofia", "Diego",
         "Fatima", "Ali", "Nina", "Olek", "Grace", "Ravi", "Elena", "Jonas", "Maya", "Finn", "Lara", "Hugo"]
LAST = ["Krystof", "Nguyen", "Smith", "Garcia", "Okafor", "Tanaka", "Kowalski", "Silva", "Patel", "Müller",
        "Johansson", "Rossi", "Dubois", "Kim", "Haddad", "Cohen", "Novak", "Ivanova", "O'Brien", "Mensah", "Lindqvist",
        "Costa", "Yamamoto", "Schmidt", "Andersen", "Moreau", "Fischer", "Chowdhury"]
TZS = ["Australia/Sydney", "Europe/London", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "America/Los_Angeles",
       "Asia/Kolkata", "Etc/UTC", "America/Sao_Paulo", "Pacific/Auckland"]
LOCALES = ["en_US", "en_AU", "en_GB", "de_DE", "ja_JP", "fr_FR", "pt_BR"]
APPS = ["Automation for Jira", "Jira Service Management Widget", "Slack", "GitHub for Jira", "Microsoft Teams",
        "Opsgenie", "Statuspage", "Trello", "Confluence Cloud", "Zephyr Scale"]
PROJECT_WORDS = ["Platform", "Mobile", "Web", "Operations", "Data", "Security", "Payments", "Infrastructure", "Core",
                 "API", "Design", "Quality", "Support", "Marketing", "Finance", "People", "Legal", "Sales", "Growth",
                 "Developer Experience", "Search", "Billing", "Identity", "Analytics", "Checkout", "Catalog",
                 "Logistics", "Messaging", "Notifications", "Onboarding", "Partner", "Reporting", "Risk", "Storage",
                 "Streaming", "Telemetry", "Tooling", "Translation", "Video", "Warehouse", "Accounts", "Ads",
                 "Audit", "Cloud", "Compliance", "Content", "Edge", "Experiments", "Fraud", "Gateway", "Insights",
                 "Kernel", "Maps", "Network", "Orders", "Pricing", "Recommendations", "Scheduling"]
PROJECT_KEYS = ["PLAT", "MOB", "WEB", "OPS", "DATA", "SEC", "PAY", "INFRA", "CORE", "API", "UX", "QA", "SUP", "MKT",
                "FIN", "PPL", "LEG", "SALES", "GROW", "DX", "SRCH", "BILL", "IDN", "ANA", "CHK", "CAT", "LOG", "MSG",
                "NTF", "ONB", "PART", "REP", "RISK", "STOR", "STRM", "TEL", "TOOL", "TRN", "VID", "WH", "ACC", "ADS",
                "AUD", "CLD", "COMP", "CONT", "EDGE", "EXP", "FRD", "GW", "INS", "KRN", "MAPS", "NET", "ORD", "PRC",
                "REC", "SCHD"]
NOUNS = ["checkout", "login page", "search index", "payment retry", "export job", "dashboard", "API gateway",
         "cache layer", "release pipeline", "billing report", "user profile", "notification service", "CSV import",
         "dark mode", "audit log", "rate limiter", "webhook", "mobile onboarding", "SSO flow", "data sync"]
VERBS = ["Fix", "Improve", "Add", "Refactor", "Investigate", "Document", "Migrate", "Remove", "Speed up", "Harden"]
PROBLEMS = ["fails for EUR carts", "times out under load", "shows stale data", "leaks memory", "returns 500 on retry",
            "ignores the time zone", "drops the last page", "double-counts refunds", "breaks on Safari",
            "needs pagination"]
LABELS = ["backend", "frontend", "tech-debt", "customer", "regression", "security", "performance", "ux", "infra",
          "quick-win", "needs-triage", "q3-okr"]
WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore "
         "magna aliqua reproduced staging production customer rollback deploy metrics alert retry cache queue "
         "latency timeout config flag migration schema index review approved blocked").split()
# canned phrases: choosing a few is much cheaper than drawing every word (issue generation is on the request path)
PHRASES = [" ".join(WORDS[k: k + 3 + k % 7]) for k in range(len(WORDS) - 10)]

# ---- global reference data -------------------------------------------------------------------------------------
# status categories: the four system categories real sites return
STATUS_CATEGORIES = [(1, "undefined", "No Category", "medium-gray"), (2, "new", "To Do", "blue-gray"),
                     (4, "indeterminate", "In Progress", "yellow"), (3, "done", "Done", "green")]
CAT_BY_ID = {c[0]: c for c in STATUS_CATEGORIES}
# (id, name, category id, description)
STATUSES = [("10000", "To Do", 2, "Work that has not been started."),
            ("10001", "Backlog", 2, ""),
            ("3", "In Progress", 4, "This issue is being actively worked on at the moment by the assignee."),
            ("10002", "In Review", 4, "Waiting for a code review."),
            ("10003", "Blocked", 4, ""),
            ("10004", "Done", 3, "Work has finished."),
            ("6", "Closed", 3, "The issue is considered finished, the resolution is correct.")]
STATUS_BY_ID = {s[0]: s for s in STATUSES}
# workflow transitions used by the changelog walk: status -> candidates
NEXT_STATUS = {"10001": ["10000", "3"], "10000": ["3", "3", "10001"], "3": ["10002", "10002", "10003", "10004"],
               "10002": ["10004", "10004", "3"], "10003": ["3"], "10004": ["6", "3"], "6": ["3"]}
PRIORITIES = [("1", "Highest", "#d04437", "This problem will block progress."),
              ("2", "High", "#f15C75", "Serious problem that could block progress."),
              ("3", "Medium", "#f79232", "Has the potential to affect progress."),
              ("4", "Low", "#707070", "Minor problem or easily worked around."),
              ("5", "Lowest", "#999999", "Trivial problem with little or no impact on progress."),
              ("10000", "Blocker", "#b30000", "Stops a release.")]
RESOLUTIONS = [("10000", "Done", "Work has been completed on this issue."),
               ("10001", "Won't Do", "This issue won't be actioned."),
               ("10002", "Duplicate", "The problem is a duplicate of an existing issue."),
               ("10003", "Cannot Reproduce", "All attempts at reproducing this issue failed.")]
# global (company-managed) issue types: code -> (id, name, hierarchyLevel, subtask, avatarId, description)
ISSUE_TYPES = [("10000", "Epic", 1, False, 10307, "A big user story that needs to be broken down."),
               ("10001", "Story", 0, False, 10315, "Functionality or a feature expressed as a user goal."),
               ("10002", "Task", 0, False, 10318, "A small, distinct piece of work."),
               ("10003", "Bug", 0, False, 10303, "A problem or error."),
               ("10004", "Sub-task", -1, True, 10316, "A small piece of work that's part of a larger task.")]
EPIC, STORY, TASK, BUG, SUBTASK = range(5)
LINK_TYPES = [("10000", "Blocks", "is blocked by", "blocks"), ("10001", "Cloners", "is cloned by", "clones"),
              ("10002", "Duplicate", "is duplicated by", "duplicates"), ("10003", "Relates", "relates to",
                                                                           "relates to")]
PROJECT_TYPES = [("software", "Software", "#FFFFFF", "jira.project.type.software"),
                 ("service_desk", "Service Desk", "#FFFFFF", "jira.project.type.servicedesk"),
                 ("business", "Business", "#FFFFFF", "jira.project.type.business"),
                 ("product_discovery", "Product Discovery", "#FFFFFF", "jira.project.type.product_discovery")]
CATEGORIES = [("10000", "Engineering", "Product engineering teams"), ("10001", "Business", "Business teams"),
              ("10002", "Internal", "Internal tools and operations"), ("10003", "Archive", "")]
# the built-in permissions (GET /rest/api/2/permissions); (key, name, type, admin-only)
PERMISSIONS = [
    ("ADD_COMMENTS", "Add Comments", "PROJECT", False), ("ADMINISTER", "Administer Jira", "GLOBAL", True),
    ("ADMINISTER_PROJECTS", "Administer Projects", "PROJECT", True),
    ("ASSIGNABLE_USER", "Assignable User", "PROJECT", False), ("ASSIGN_ISSUES", "Assign Issues", "PROJECT", False),
    ("BROWSE_PROJECTS", "Browse Projects", "PROJECT", False), ("BULK_CHANGE", "Make bulk changes", "GLOBAL", False),
    ("CLOSE_ISSUES", "Close Issues", "PROJECT", False),
    ("CREATE_ATTACHMENTS", "Create Attachments", "PROJECT", False),
    ("CREATE_ISSUES", "Create Issues", "PROJECT", False),
    ("CREATE_SHARED_OBJECTS", "Share dashboards and filters", "GLOBAL", False),
    ("DELETE_ALL_ATTACHMENTS", "Delete All Attachments", "PROJECT", True),
    ("DELETE_ALL_COMMENTS", "Delete All Comments", "PROJECT", True),
    ("DELETE_ALL_WORKLOGS", "Delete All Worklogs", "PROJECT", True),
    ("DELETE_ISSUES", "Delete Issues", "PROJECT", True),
    ("DELETE_OWN_ATTACHMENTS", "Delete Own Attachments", "PROJECT", False),
    ("DELETE_OWN_COMMENTS", "Delete Own Comments", "PROJECT", False),
    ("DELETE_OWN_WORKLOGS", "Delete Own Worklogs", "PROJECT", False),
    ("EDIT_ALL_COMMENTS", "Edit All Comments", "PROJECT", True),
    ("EDIT_ALL_WORKLOGS", "Edit All Worklogs", "PROJECT", True), ("EDIT_ISSUES", "Edit Issues", "PROJECT", False),
    ("EDIT_OWN_COMMENTS", "Edit Own Comments", "PROJECT", False),
    ("EDIT_OWN_WORKLOGS", "Edit Own Worklogs", "PROJECT", False), ("LINK_ISSUES", "Link Issues", "PROJECT", False),
    ("MANAGE_GROUP_FILTER_SUBSCRIPTIONS", "Manage group filter subscriptions", "GLOBAL", True),
    ("MANAGE_SPRINTS_PERMISSION", "Manage sprints", "PROJECT", False),
    ("MANAGE_WATCHERS", "Manage Watchers", "PROJECT", True), ("MODIFY_REPORTER", "Modify Reporter", "PROJECT", True),
    ("MOVE_ISSUES", "Move Issues", "PROJECT", False), ("RESOLVE_ISSUES", "Resolve Issues", "PROJECT", False),
    ("SCHEDULE_ISSUES", "Schedule Issues", "PROJECT", False),
    ("SERVICEDESK_AGENT", "Service Desk Agent", "PROJECT", True),
    ("SET_ISSUE_SECURITY", "Set Issue Security", "PROJECT", True),
    ("SYSTEM_ADMIN", "Jira System Administrators", "GLOBAL", True),
    ("TRANSITION_ISSUES", "Transition Issues", "PROJECT", False),
    ("USER_PICKER", "Browse users and groups", "GLOBAL", False),
    ("VIEW_AGGREGATED_DATA", "View aggregated data", "PROJECT", False),
    ("VIEW_DEV_TOOLS", "View Development Tools", "PROJECT", False),
    ("VIEW_READONLY_WORKFLOW", "View Read-Only Workflow", "PROJECT", False),
    ("VIEW_VOTERS_AND_WATCHERS", "View Voters and Watchers", "PROJECT", False),
    ("WORK_ON_ISSUES", "Work On Issues", "PROJECT", False),
]
PERMISSION_IDS = {p[0]: str(i + 1) for i, p in enumerate(PERMISSIONS)}

# system fields: id -> (name, schema or None, navigable, orderable, searchable, clauseNames)
SYSTEM_FIELDS: list[tuple[str, str, dict | None, bool, bool, bool, list[str]]] = [
    ("summary", "Summary", {"type": "string", "system": "summary"}, True, True, True, ["summary"]),
    ("issuetype", "Issue Type", {"type": "issuetype", "system": "issuetype"}, True, True, True,
     ["issuetype", "type"]),
    ("parent", "Parent", None, True, False, True, ["parent"]),
    ("project", "Project", {"type": "project", "system": "project"}, True, False, True, ["project"]),
    ("status", "Status", {"type": "status", "system": "status"}, True, False, True, ["status"]),
    ("statuscategorychangedate", "Status Category Changed",
     {"type": "datetime", "system": "statuscategorychangedate"}, True, False, True, ["statusCategoryChangedDate"]),
    ("priority", "Priority", {"type": "priority", "system": "priority"}, True, True, True, ["priority"]),
    ("resolution", "Resolution", {"type": "resolution", "system": "resolution"}, True, True, True, ["resolution"]),
    ("resolutiondate", "Resolved", {"type": "datetime", "system": "resolutiondate"}, True, False, True,
     ["resolutiondate", "resolved"]),
    ("assignee", "Assignee", {"type": "user", "system": "assignee"}, True, True, True, ["assignee"]),
    ("reporter", "Reporter", {"type": "user", "system": "reporter"}, True, True, True, ["reporter"]),
    ("creator", "Creator", {"type": "user", "system": "creator"}, True, False, True, ["creator"]),
    ("created", "Created", {"type": "datetime", "system": "created"}, True, False, True,
     ["created", "createdDate"]),
    ("updated", "Updated", {"type": "datetime", "system": "updated"}, True, False, True,
     ["updated", "updatedDate"]),
    ("duedate", "Due date", {"type": "date", "system": "duedate"}, True, True, True, ["due", "duedate"]),
    ("labels", "Labels", {"type": "array", "items": "string", "system": "labels"}, True, True, True, ["labels"]),
    ("components", "Components", {"type": "array", "items": "component", "system": "components"}, True, True, True,
     ["component"]),
    ("fixVersions", "Fix versions", {"type": "array", "items": "version", "system": "fixVersions"}, True, True,
     True, ["fixVersion"]),
    ("versions", "Affects versions", {"type": "array", "items": "version", "system": "versions"}, True, True, True,
     ["affectedVersion"]),
    ("description", "Description", {"type": "string", "system": "description"}, True, True, True,
     ["description"]),
    ("environment", "Environment", {"type": "string", "system": "environment"}, True, True, True,
     ["environment"]),
    ("issuelinks", "Linked Issues", {"type": "array", "items": "issuelinks", "system": "issuelinks"}, True, True,
     False, []),
    ("subtasks", "Sub-tasks", {"type": "array", "items": "issuelinks", "system": "subtasks"}, True, False, False,
     ["subtasks"]),
    ("votes", "Votes", {"type": "votes", "system": "votes"}, True, False, False, ["votes"]),
    ("watches", "Watchers", {"type": "watches", "system": "watches"}, True, False, False, ["watchers"]),
    ("lastViewed", "Last Viewed", {"type": "datetime", "system": "lastViewed"}, True, False, False,
     ["lastViewed"]),
    ("timetracking", "Time tracking", {"type": "timetracking", "system": "timetracking"}, False, True, False, []),
    ("timeoriginalestimate", "Original estimate", {"type": "number", "system": "timeoriginalestimate"}, True,
     False, False, ["originalEstimate", "timeoriginalestimate"]),
    ("timeestimate", "Remaining Estimate", {"type": "number", "system": "timeestimate"}, True, False, False,
     ["remainingEstimate", "timeestimate"]),
    ("timespent", "Time Spent", {"type": "number", "system": "timespent"}, True, False, False,
     ["timespent"]),
    ("aggregatetimeoriginalestimate", "Σ Original Estimate",
     {"type": "number", "system": "aggregatetimeoriginalestimate"}, True, False, False, []),
    ("aggregatetimeestimate", "Σ Remaining Estimate", {"type": "number", "system": "aggregatetimeestimate"}, True,
     False, False, []),
    ("aggregatetimespent", "Σ Time Spent", {"type": "number", "system": "aggregatetimespent"}, True, False, False,
     []),
    ("workratio", "Work Ratio", {"type": "number", "system": "workratio"}, True, False, True, ["workratio"]),
    ("progress", "Progress", {"type": "progress", "system": "progress"}, True, False, False, ["progress"]),
    ("aggregateprogress", "Σ Progress", {"type": "progress", "system": "aggregateprogress"}, True, False, False,
     []),
    ("security", "Security Level", {"type": "securitylevel", "system": "security"}, True, True, True, ["level"]),
    ("attachment", "Attachment", {"type": "array", "items": "attachment", "system": "attachment"}, False, True,
     True, ["attachments"]),
    ("issuerestriction", "Restrict to", {"type": "issuerestriction", "system": "issuerestriction"}, True, True,
     False, []),
    ("comment", "Comment", {"type": "comments-page", "system": "comment"}, False, True, True, ["comment"]),
    ("worklog", "Log Work", {"type": "array", "items": "worklog", "system": "worklog"}, False, True, False, []),
]
# the system part of `*navigable` and `*all` (each tenant appends its custom fields: Tenant.navigable, .all_fields)
SYSTEM_NAVIGABLE = [f[0] for f in SYSTEM_FIELDS if f[3]]
SYSTEM_ALL = [f[0] for f in SYSTEM_FIELDS]
# Jira Software pseudo-fields served on the agile/software issue lists only
AGILE_FIELDS = ["sprint", "closedSprints", "flagged", "epic"]

ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
PROJECT_EXPAND = "description,lead,issueTypes,url,projectKeys,permissions,insight"


def ms_to_dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def duration_text(seconds: int) -> str:
    """Jira's short duration form: 1w 2d 3h 20m (1d = 8h, 1w = 5d, as Jira's time tracking defaults)."""
    minutes = seconds // 60
    parts = []
    for unit, size in (("w", 5 * 8 * 60), ("d", 8 * 60), ("h", 60), ("m", 1)):
        if minutes >= size:
            parts.append(f"{minutes // size}{unit}")
            minutes %= size
    return " ".join(parts) or "0m"


def board_columns(b: "Board") -> list[tuple[str, list[str], int | None, int | None]]:
    """A board's columns: (name, status ids, min, max), left to right (the last is the board's "done")."""
    if b.type == "simple":          # a team-managed board: the workflow's three categories as columns
        return [("To Do", ["10000", "10001"], None, None), ("In Progress", ["3", "10002", "10003"], None, None),
                ("Done", ["10004", "6"], None, None)]
    cols = [("Backlog", ["10001"], None, None), ("To Do", ["10000"], None, None),
            ("In Progress", ["3", "10003"], 1, 6), ("In Review", ["10002"], None, 4),
            ("Done", ["10004", "6"], None, None)]
    return cols[1:] if b.type == "scrum" else cols


def board_estimation_field(b: "Board") -> str | None:
    """The field a board estimates with (its configuration's `estimation`): Story point estimate on scrum boards;
    team-managed boards name none."""
    return ESTIMATE_FIELD if b.type == "scrum" else None


# ---- plain record classes ----------------------------------------------------------------------------------------

class User:
    __slots__ = ("idx", "account_id", "account_type", "name", "email", "active", "tz", "locale", "avatars")


class Group:
    __slots__ = ("idx", "group_id", "name", "members")


class Project:
    __slots__ = ("idx", "id", "key", "name", "type_key", "simplified", "category", "lead", "description", "status",
                 "tt_enabled", "versions", "components", "issue_type_ids", "created", "status_at", "status_by",
                 "uuid", "url", "issue_ns", "insight_count", "insight_last", "email")


class Version:
    __slots__ = ("id", "project", "name", "description", "archived", "released", "release", "start", "overdue")


class Component:
    __slots__ = ("id", "project", "name", "description", "lead", "assignee_type")


class Board:
    # sprints_enabled: scrum boards, and the simple boards of team-managed projects with the sprints feature on
    __slots__ = ("id", "name", "type", "project", "projects", "private", "owner", "sprint_ids", "filter_id",
                 "location_user", "sprints_enabled")


class Sprint:
    __slots__ = ("id", "board", "state", "name", "start", "end", "complete", "goal", "created")


class Filter:
    __slots__ = ("id", "name", "owner", "jql", "description", "share", "favourite", "fav_count", "subscriptions",
                 "edit", "visible", "last_used")


class Dashboard:
    __slots__ = ("id", "name", "owner", "description", "share", "favourite", "popularity", "system", "refresh",
                 "edit")


class IssueData:
    """One issue, fully materialized (python values; the app renders JSON). `custom` holds only the custom fields
    with a value (field id -> compact value, customfields.py); `sprints` the Sprint field's sprints.

    `timeline` is the tenant's own model of the issue's past, kept beside the changelog it renders: one entry per
    history, (history id, author, time, changes), each change (field id, the field's name then, value before, value
    after) in the tenant's compact values (status ids, user indexes, label tuples, sprint id tuples, custom field
    values; (id, display) pairs for the fields the tenant keeps no value of). The history tables' truth
    (history_truth.py) is computed from it."""
    __slots__ = ("n", "id", "key", "project", "type_code", "status", "priority", "resolution", "resolved",
                 "assignee", "reporter", "creator", "summary", "description", "environment", "labels", "duedate",
                 "comps", "fixv", "affects", "parent", "created", "updated", "status_changed", "custom",
                 "sprints", "last_viewed", "histories", "comments", "worklogs", "orig_estimate", "votes", "watches",
                 "security", "timeline")


class Mut:
    """What /__sim/advance changed on one issue."""
    __slots__ = ("fields", "histories", "timeline", "comments", "worklogs", "deleted_wl", "updated")

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.histories: list[tuple] = []
        self.timeline: list[tuple] = []
        self.comments: list[tuple] = []
        self.worklogs: list[tuple] = []
        self.deleted_wl: set[int] = set()
        self.updated = 0


# ids of per-issue sub-objects in the base data: room for 512 histories, 128 comments, 64 worklogs per issue
H_STRIDE, C_STRIDE, W_STRIDE = 512, 128, 64
NEW_HISTORY_ID, NEW_COMMENT_ID, NEW_WORKLOG_ID = 3_000_000_000, 2_000_000_000, 1_000_000_000


class Tenant:
    def __init__(self, seed: int = 1, scale: str = "demo", base_url: str = "http://127.0.0.1",
                 *, admin: bool = True, premium: bool = False, software: bool = True):
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
        self.seed = seed
        self.scale = scale
        self.cfg = SCALES[scale]
        self.base = base_url.rstrip("/")
        self.admin = admin
        self.premium = premium
        self.software = software
        # the simulated clock: 2026-11-01T00:00Z plus a seed-derived offset, moved only by advance()
        self.now = int(datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp() * 1000) + (seed % 997) * MINUTE
        self.start = self.now - 730 * DAY
        self.t0 = self.now         # the clock when the simulation started
        self.version = 0           # bumped by every mutation (search result caches key on it)
        self.advances = 0
        self._cache: OrderedDict[int, IssueData] = OrderedDict()
        self._cache_cap = 4096
        self._stubs: dict[int, tuple] = {}
        self.mut: dict[int, Mut] = {}
        self.dirty: set[int] = set()       # issues changed since the app last refreshed its search views
        self.deleted: set[int] = set()
        self.deleted_worklogs: list[tuple[int, int]] = []   # (deletedTime, worklogId), ascending
        self.deleted_wl_ids: set[int] = set()
        self.new_comment_owner: dict[int, int] = {}
        self.new_worklog_owner: dict[int, int] = {}
        self._next_hist = NEW_HISTORY_ID
        self._next_comment = NEW_COMMENT_ID
        self._next_worklog = NEW_WORKLOG_ID
        self._build_users()
        self._build_groups()
        self._build_projects()
        self.cf: Catalogue = build_catalogue(self.rng("custom-fields"), scale, self.projects, PROJECT_WORDS)
        self._fields_lists()
        self._build_boards()
        self._build_issues()
        self._build_links()
        self._build_filters_dashboards()
        self._build_schemes()
        self._build_audit()

    # ---- helpers -------------------------------------------------------------------------------------------------
    def rng(self, *parts: Any) -> random.Random:
        return random.Random(":".join(map(str, (self.seed, *parts))))

    def _hex(self, *parts: Any, n: int = 24) -> str:
        return hashlib.sha1(":".join(map(str, (self.seed, *parts))).encode()).hexdigest()[:n]

    def _uuid(self, *parts: Any) -> str:
        return str(uuid.UUID(hashlib.md5(":".join(map(str, (self.seed, *parts))).encode()).hexdigest()))

    # ---- users and groups ----------------------------------------------------------------------------------------
    def _build_users(self) -> None:
        r = self.rng("users")
        privacy = self.rng("privacy")
        n = self.cfg["users"]
        n_apps = max(3, n // 25)
        self.users: list[User] = []
        for i in range(n):
            u = User()
            u.idx = i
            if i == 0:
                # the caller: its own profile shows its email and time zone
                u.account_type, u.name, u.email, u.active = "atlassian", "Demo Admin", "demo@example.com", True
                u.tz, u.locale = CALLER_TZ, "en_AU"
            elif i > n - n_apps - 1:
                u.account_type = "app"
                u.name = APPS[(i - (n - n_apps)) % len(APPS)] + ("" if i - (n - n_apps) < len(APPS)
                                                                 else f" {i}")
                u.email, u.active, u.tz, u.locale = None, True, None, None
            else:
                first, last = r.choice(FIRST), r.choice(LAST)
                u.account_type = "atlassian"
                u.name = f"{first} {last}"
                u.email = None if r.random() < 0.15 else (
                    f"{first.lower()}.{last.lower().replace(chr(39), '')}{i}@example.com")
                u.active = r.random() > 0.12
                u.tz = r.choice(TZS)
                u.locale = r.choice(LOCALES)
            if u.account_type == "app":
                u.account_id = "557058:" + self._uuid("app", i)
            elif i % 3 == 0:
                u.account_id = "5b10" + self._hex("user", i, n=20)
            else:
                u.account_id = "712020:" + self._uuid("user", i)
            h = self._hex("avatar", i, n=32)
            u.avatars = {s: f"https://secure.gravatar.com/avatar/{h}?d=https%3A%2F%2Favatar-management--avatars"
                            f".us-west-2.prod.public.atl-paas.net%2Finitials%2F{s}.png"
                         for s in ("48x48", "24x24", "16x16", "32x32")}
            self.users.append(u)
        # privacy: most people hide their email and time zone from everyone else, many their locale too (the keys
        # are then absent): 80% of the people besides the caller, drawn apart so that names stay as they were
        people = [u for u in self.users[1:] if u.account_type == "atlassian"]
        privacy.shuffle(people)
        hidden = round(len(people) * 0.8)
        for k, u in enumerate(people):
            if k < hidden:
                u.email = u.tz = None
                if privacy.random() < 0.6:
                    u.locale = None
            elif k < hidden + len(people) // 12:
                u.email = None
        self.active_people = [u.idx for u in self.users if u.active and u.account_type == "atlassian"]
        self.user_by_account = {u.account_id: u for u in self.users}

    def _build_groups(self) -> None:
        r = self.rng("groups")
        people = [u.idx for u in self.users if u.account_type == "atlassian"]
        site = "acme"
        names = [f"jira-admins-{site}", "site-admins", f"jira-software-users-{site}", f"jira-users-{site}",
                 "administrators", "jira-servicemanagement-users", "confluence-users"]
        k = 0
        while len(names) < self.cfg["groups"]:
            names.append(f"team-{PROJECT_WORDS[k % len(PROJECT_WORDS)].lower().replace(' ', '-')}"
                         + (f"-{k // len(PROJECT_WORDS)}" if k >= len(PROJECT_WORDS) else ""))
            k += 1
        self.groups: list[Group] = []
        for i, name in enumerate(names[: self.cfg["groups"]]):
            g = Group()
            g.idx, g.name, g.group_id = i, name, self._uuid("group", i)
            if i in (0, 1, 4):
                members = [0] + r.sample(people[1:], min(3, len(people) - 1))
            elif i in (2, 3):
                members = list(people)             # the big groups page past 50 members at standard scale
            elif i == 6:
                members = []                        # an empty group
            else:
                members = r.sample(people, min(len(people), r.randint(2, 30)))
            g.members = sorted(set(members))
            self.groups.append(g)
        self.group_by_id = {g.group_id: g for g in self.groups}
        self.group_by_name = {g.name: g for g in self.groups}

    def user_groups(self, idx: int) -> list[Group]:
        return [g for g in self.groups if idx in g.members]

    # ---- projects, versions, components ----------------------------------------------------------------------
    def _build_projects(self) -> None:
        r = self.rng("projects")
        live, archived, deleted = self.cfg["projects"], self.cfg["archived"], self.cfg["deleted"]
        self.projects: list[Project] = []
        self._version_seq = 10100
        self._component_seq = 10300
        for i in range(live + archived + deleted):
            self.projects.append(self._new_project(i, r, "live" if i < live else
                                                   "archived" if i < live + archived else "deleted"))
        self._live_cache = None
        self._live_idx = [p.idx for p in self.projects if p.status == "live"]

    def _new_project(self, i: int, r: random.Random, status: str, created: int | None = None) -> Project:
        p = Project()
        p.idx, p.id = i, 10000 + i
        p.key = PROJECT_KEYS[i] if i < len(PROJECT_KEYS) else f"P{i}"
        word = PROJECT_WORDS[i % len(PROJECT_WORDS)]
        p.name = word if i < len(PROJECT_WORDS) else f"{word} {i // len(PROJECT_WORDS) + 1}"
        # mostly software; every 7th a business project (time tracking off), every 11th service desk
        p.type_key = "business" if i % 7 == 3 else "service_desk" if i % 11 == 5 else "software"
        p.simplified = i % 5 == 4 or i % 7 == 2     # team-managed ("next-gen") projects
        p.category = CATEGORIES[i % 3] if i % 4 != 2 else None
        p.lead = r.choice(self.active_people)
        p.description = f"Everything the {p.name} team works on." if i % 3 else ""
        p.status = status
        p.tt_enabled = p.type_key != "business"
        p.created = created if created is not None else self.start - r.randint(30, 400) * DAY
        p.status_at = self.now - r.randint(5, 200) * DAY if status != "live" else None
        p.status_by = r.choice(self.active_people) if status != "live" else None
        p.uuid = self._uuid("project", i)
        p.url = f"https://{p.key.lower()}.example.com" if i % 4 == 0 else ""
        p.email = None
        p.issue_ns = []
        p.insight_count, p.insight_last = 0, 0
        if p.simplified:
            p.issue_type_ids = [str(10100 + i * 10 + c) for c in range(5)]
        else:
            p.issue_type_ids = [t[0] for t in ISSUE_TYPES]
        p.versions = []
        p.components = []
        if status == "live" or r.random() < 0.5:
            base = max(p.created, self.start)
            for v in range(r.randint(3, 8)):
                ver = Version()
                ver.id, ver.project = self._version_seq, p
                self._version_seq += 1
                ver.name = f"{1 + v // 4}.{v % 4}.0"
                ver.description = f"Release {ver.name}" if v % 2 == 0 else ""
                rel = base + (v + 1) * (self.now - base) // 7
                ver.start = rel - 21 * DAY if v % 3 else None
                ver.released = rel < self.now - 3 * DAY and r.random() < 0.9
                ver.release = rel if v % 5 != 4 else None
                ver.archived = ver.released and v < 2 and r.random() < 0.5
                ver.overdue = (not ver.released) and ver.release is not None and ver.release < self.now
                p.versions.append(ver)
            for c in range(r.randint(2, 6)):
                comp = Component()
                comp.id, comp.project = self._component_seq, p
                self._component_seq += 1
                comp.name = ["API", "UI", "Backend", "Database", "Docs", "Integrations"][c]
                comp.description = f"{comp.name} of {p.name}" if c % 2 == 0 else None
                comp.lead = r.choice(self.active_people) if c % 3 != 2 else None
                # every assignee type Jira has; a component-lead type without a lead is what a departed lead leaves
                comp.assignee_type = ("COMPONENT_LEAD" if c % 2 else "PROJECT_LEAD" if c == 2 else
                                      "UNASSIGNED" if c == 4 else "PROJECT_DEFAULT")
                p.components.append(comp)
        return p

    @property
    def live_projects(self) -> list[Project]:
        return [p for p in self.projects if p.status == "live"]

    def project_by_ref(self, ref: str) -> Project | None:
        for p in self.projects:
            if str(p.id) == ref or p.key == ref.upper():
                return p
        return None

    def issue_types_for(self, p: Project) -> list[tuple]:
        """(id, name, hierarchyLevel, subtask, avatarId, description, scope project id or None) per type code."""
        if p.simplified:
            return [(p.issue_type_ids[c], t[1], t[2], t[3], t[4], t[5], p.id) for c, t in enumerate(ISSUE_TYPES)]
        return [(t[0], t[1], t[2], t[3], t[4], t[5], None) for t in ISSUE_TYPES]

    # ---- boards and sprints ----------------------------------------------------------------------------------
    def _build_boards(self) -> None:
        r = self.rng("boards")
        self.boards: list[Board] = []
        self.sprints: dict[int, Sprint] = {}
        self.project_scrum: dict[int, Board] = {}       # project idx -> the board whose sprints its issues use
        bid = 1
        sid = 1
        live = self.live_projects
        sw = [p for p in live if p.type_key == "software"]

        def board(name: str, typ: str, project: Project | None, projects: list[Project], private=False,
                  user: int | None = None) -> Board:
            nonlocal bid
            b = Board()
            b.id, b.name, b.type, b.project, b.projects, b.private = bid, name, typ, project, projects, private
            b.owner = user if user is not None else (project.lead if project else 0)
            b.location_user = user
            b.sprint_ids = []
            b.filter_id = None
            b.sprints_enabled = typ == "scrum"
            bid += 1
            self.boards.append(b)
            return b

        def sprints_for(b: Board, closed: int, future: int) -> None:
            nonlocal sid
            cadence = 14 * DAY
            active_start = self.now - r.randint(2, 10) * DAY
            for j in range(closed + 1 + future):
                s = Sprint()
                s.id, s.board = sid, b.id
                sid += 1
                k = j - closed           # <0 closed, 0 active, >0 future
                s.name = f"{b.projects[0].key} Sprint {j + 1}"
                # most sprints never get a goal (no `goal` key at all); a few had one and it was cleared ("")
                s.goal = f"Ship {r.choice(NOUNS)}" if j % 3 == 0 else "" if j % 5 == 1 else None
                s.start = active_start + k * cadence
                s.end = s.start + cadence
                s.created = s.start - r.randint(1, 5) * DAY
                s.state = "closed" if k < 0 else "active" if k == 0 else "future"
                s.complete = s.end + r.randint(0, 2) * HOUR if k < 0 else None
                if k > 1:                  # far-future sprints have no dates yet
                    s.start = s.end = None
                self.sprints[s.id] = s
                b.sprint_ids.append(s.id)

        tm_boards = 0
        for i, p in enumerate(sw):
            if p.simplified:
                # a team-managed project has one board, of type "simple"; most turn the sprints feature on
                b = board(f"{p.key} board", "simple", p, [p])
                b.sprints_enabled = tm_boards % 3 != 2
                tm_boards += 1
                if b.sprints_enabled:
                    sprints_for(b, closed=r.randint(3, 10) if self.scale != "demo" else r.randint(4, 6),
                                future=r.randint(1, 2))
                    self.project_scrum[p.idx] = b
                continue
            if i % 5 != 3:
                b = board(f"{p.key} board", "scrum", p, [p])
                sprints_for(b, closed=r.randint(4, 12) if self.scale != "demo" else r.randint(5, 8),
                            future=r.randint(1, 2))
                self.project_scrum[p.idx] = b
            if i % 3 == 1 or i % 5 == 3:
                board(f"{p.key} kanban", "kanban", p, [p])
            if i == 0:
                # a second scrum board on the same project that also shows the first board's active sprint
                b2 = board(f"{p.key} team B", "scrum", p, [p])
                sprints_for(b2, closed=2, future=1)
                first = self.project_scrum[p.idx]
                shared = [s for s in first.sprint_ids if self.sprints[s].state == "active"]
                b2.sprint_ids = sorted(set(b2.sprint_ids) | set(shared))
                self._shared_sprints = shared
        # boards located on a user, spanning two projects, and private boards
        classic = [p for p in sw if not p.simplified] or live[:1]
        for k in range(self.cfg["extra_boards"]):
            ps = [sw[k % len(sw)], sw[(k + 1) % len(sw)]] if k % 2 == 0 and sw else \
                [classic[k % len(classic)]]
            if k % 2 == 0:
                board(f"Cross-team {k // 2 + 1}", "kanban", None, ps, user=r.choice(self.active_people))
            else:
                board(f"Private board {k // 2 + 1}", "scrum", ps[0], [ps[0]], private=True)
        # sprint -> ordered issue numbers is derived from issues; board membership of sprints:
        self.board_by_id = {b.id: b for b in self.boards}
        # every board gets a saved filter (filled in _build_filters_dashboards)
        self._sprint_order: dict[int, list[Sprint]] = {}
        for pidx, b in self.project_scrum.items():
            own = [self.sprints[s] for s in b.sprint_ids if self.sprints[s].board == b.id]
            self._sprint_order[pidx] = own

    def sprints_of_board(self, b: Board) -> list[Sprint]:
        """closed -> active -> future, then by sequence (the Agile API's order)."""
        rank = {"closed": 0, "active": 1, "future": 2}
        return sorted((self.sprints[s] for s in b.sprint_ids), key=lambda s: (rank[s.state], s.id))

    # ---- issues: the compact base pass ---------------------------------------------------------------------
    def _build_issues(self) -> None:
        N = self.cfg["issues"]
        r = self.rng("issues")
        live = self.live_projects
        weights = [1.0 / (k + 1) ** 0.8 for k in range(len(live))]
        total_w = sum(weights)
        cum, acc = [], 0.0
        for w in weights:
            acc += w / total_w
            cum.append(acc)
        self.i_proj = array.array("H")
        self.i_num = array.array("I")
        self.i_type = array.array("B")
        self.i_created = array.array("q")
        self.i_updated = array.array("q")
        self.i_parent = array.array("I")
        self.i_h = array.array("H")
        self.i_c = array.array("H")
        self.i_w = array.array("H")
        self.i_sprint0 = array.array("h")
        self.i_sprintn = array.array("B")
        self.i_comp = array.array("B")
        self.i_fixv = array.array("b")
        # index 0 is a placeholder so that issue number n is at index n
        for arr, v in ((self.i_proj, 0), (self.i_num, 0), (self.i_type, 0), (self.i_created, 0),
                       (self.i_updated, 0), (self.i_parent, 0), (self.i_h, 0), (self.i_c, 0), (self.i_w, 0),
                       (self.i_sprint0, -1), (self.i_sprintn, 0), (self.i_comp, 0), (self.i_fixv, -1)):
            arr.append(v)
        self.key_to_n: dict[str, int] = {}
        self.children: dict[int, list[int]] = {}
        self._epics: dict[int, list[int]] = {p.idx: [] for p in self.projects}
        self._std: dict[int, list[int]] = {p.idx: [] for p in self.projects}
        self._counters: dict[int, int] = {p.idx: 0 for p in self.projects}
        # worklog index for worklog/updated: parallel arrays sorted by (updatedTime, id)
        wl: list[tuple[int, int, int]] = []
        span = (self.now - 2 * HOUR) - self.start
        for n in range(1, N + 1):
            u = r.random()
            pidx = live[bisect.bisect_left(cum, u) if u < cum[-1] else len(live) - 1].idx
            created = self.start + (n - 1) * span // N + r.randrange(max(1, span // N))
            self._add_issue_base(n, pidx, created, r)
            if self.i_w[n]:
                for w in self._worklog_specs(n):
                    wl.append((w[5], w[0], n))
        wl.sort()
        self.wl_t = array.array("q", (x[0] for x in wl))
        self.wl_id = array.array("q", (x[1] for x in wl))
        self.wl_n = array.array("I", (x[2] for x in wl))
        self.base_count = N
        # a few worklogs deleted before the simulation started, for worklog/deleted
        dr = self.rng("deleted-worklogs")
        for k in range(max(2, N // 200)):
            t = self.start + dr.randrange(self.now - self.start - DAY)
            self.deleted_worklogs.append((t, 900_000_000 + k))
        self.deleted_worklogs.sort()

    def _add_issue_base(self, n: int, pidx: int, created: int, r: random.Random, fresh: bool = False) -> None:
        p = self.projects[pidx]
        self._counters[pidx] += 1
        num = self._counters[pidx]
        u = r.random()
        code = EPIC if u < 0.04 else STORY if u < 0.44 else TASK if u < 0.68 else BUG if u < 0.88 else SUBTASK
        parent = 0
        if code == SUBTASK:
            std = self._std[pidx]
            if std:
                parent = std[-1 - r.randrange(min(len(std), 40))]
            else:
                code = TASK
        if code in (STORY, TASK, BUG) and self._epics[pidx] and r.random() < 0.55:
            parent = r.choice(self._epics[pidx][-8:])
        if code == EPIC:
            self._epics[pidx].append(n)
        elif code != SUBTASK:
            self._std[pidx].append(n)
        if parent:
            self.children.setdefault(parent, []).append(n)
        # heavy-tailed activity: a few issues with hundreds of changelog histories or >20 comments
        if fresh:
            h = c = w = 0
            updated = created
        else:
            x = r.random()
            h = r.randint(100, 400) if x < 0.02 else r.randint(20, 99) if x < 0.1 else r.randint(0, 12)
            x = r.random()
            c = r.randint(21, 60) if x < 0.07 else min(int(r.expovariate(0.45)), 20)
            x = r.random()
            w = 0
            if p.tt_enabled:
                w = r.randint(21, 40) if x < 0.02 else r.randint(1, 5) if x < 0.45 else 0
            limit = self.now - 2 * MINUTE
            if h or c or w:
                active = int(r.expovariate(1 / (20 * DAY))) + (h + c + w) * HOUR
                room = limit - created
                if active >= room:
                    # recent issues still active: spread their last change over the recent past, not on one instant
                    active = room - r.randrange(max(1, min(room // 2, 30 * DAY)))
                updated = created + max(active, 1000)
            else:
                updated = created
        # sprints: the primary scrum board's sprint running when the issue was created, plus carry-overs
        s0, sn = -1, 0
        board = self.project_scrum.get(pidx)
        if board is not None and code != EPIC and r.random() < 0.75:
            order = self._sprint_order[pidx]
            ends = [s.end if s.end is not None else self.now + 60 * DAY for s in order]
            k = bisect.bisect_right(ends, created)
            if k < len(order):
                s0 = k
                sn = min(len(order) - k, 1 if r.random() < 0.7 else r.randint(2, 3))
                # an issue is in one open sprint at most: it is carried over only out of closed sprints
                closed = 0
                while k + closed < len(order) and order[k + closed].state == "closed":
                    closed += 1
                sn = min(sn, closed + 1)
                # each carry-over changes the Sprint field at the sprint's completion, and so the issue's `updated`
                if sn > 1 and not fresh:
                    updated = max(updated, order[k + sn - 2].complete)
        ncomp = len(p.components)
        mask = 0
        if ncomp:
            for _ in range(r.choice((0, 1, 1, 1, 2))):
                mask |= 1 << r.randrange(ncomp)
        fixv = r.randrange(len(p.versions)) if p.versions and r.random() < 0.5 else -1
        for arr, v in ((self.i_proj, pidx), (self.i_num, num), (self.i_type, code), (self.i_created, created),
                       (self.i_updated, updated), (self.i_parent, parent), (self.i_h, h), (self.i_c, c),
                       (self.i_w, w), (self.i_sprint0, s0), (self.i_sprintn, sn), (self.i_comp, mask),
                       (self.i_fixv, fixv)):
            arr.append(v)
        self.key_to_n[f"{p.key}-{num}"] = n
        if fresh:
            self.dirty.add(n)
        p.issue_ns.append(n)
        p.insight_count += 1
        p.insight_last = max(p.insight_last, updated)

    def _build_links(self) -> None:
        r = self.rng("links")
        self.links: dict[int, list[tuple[int, int, int, bool]]] = {}   # n -> (link id, type idx, other n, outward)
        lid = 10000
        for p in self.live_projects:
            ns = p.issue_ns
            if len(ns) < 2:
                continue
            for _ in range(len(ns) // 3):
                a, b = r.sample(ns, 2)
                t = r.randrange(len(LINK_TYPES))
                self.links.setdefault(a, []).append((lid, t, b, True))
                self.links.setdefault(b, []).append((lid, t, a, False))
                lid += 1

    # ---- issue accessors used by search ---------------------------------------------------------------------
    @property
    def issue_count(self) -> int:
        return len(self.i_proj) - 1

    def exists(self, n: int) -> bool:
        return 0 < n <= self.issue_count and n not in self.deleted

    def updated_of(self, n: int) -> int:
        m = self.mut.get(n)
        return max(self.i_updated[n], m.updated) if m else self.i_updated[n]

    def issue_key(self, n: int) -> str:
        return f"{self.projects[self.i_proj[n]].key}-{self.i_num[n]}"

    def resolve_issue(self, ref: str) -> int | None:
        """issueIdOrKey -> issue number, or None (deleted issues are gone)."""
        ref = str(ref).strip()
        if ref.isdigit():
            n = int(ref) - 10000
        else:
            n = self.key_to_n.get(ref.upper(), 0)
        return n if self.exists(n) else None

    def live_issue_numbers(self) -> Iterable[int]:
        deleted = self.deleted
        for n in range(1, self.issue_count + 1):
            if n not in deleted and self.projects[self.i_proj[n]].status == "live":
                yield n

    # ---- the per-issue generators (deterministic from seed and n) -------------------------------------------
    def _times(self, r: random.Random, count: int, created: int, updated: int, force_last: bool) -> list[int]:
        if count == 0:
            return []
        span = max(updated - created, 1)
        ts = sorted(created + 1 + r.randrange(span) for _ in range(count))
        ts = [min(t, updated) for t in ts]
        if force_last:
            ts[-1] = updated
        return ts

    def _worklog_specs(self, n: int) -> list[tuple]:
        """(id, author, started, created, seconds, updated, comment, visibility) of the base worklogs of issue n."""
        w = self.i_w[n]
        if not w:
            return []
        created, updated = self.i_created[n], self.i_updated[n]
        r = self.rng("w", n)
        force = self.i_h[n] == 0 and self.i_c[n] == 0
        times = self._times(r, w, created, updated, force)
        out = []
        for j, t in enumerate(times):
            secs = r.choice((900, 1800, 3600, 5400, 7200, 10800, 14400, 28800, 12000))
            started = max(created, t - secs * 1000 - r.randrange(3 * HOUR))
            started -= started % 1000
            upd = t
            if r.random() < 0.1 and t < updated:
                upd = min(updated, t + r.randrange(2 * DAY))
            vis = ("group", "jira-developers") if r.random() < 0.05 else None
            comment = r.choice(("", "Investigation", "Code review", "Pairing on the fix", "Deploy and verify",
                                "Wrote tests"))
            out.append((10000 + n * W_STRIDE + j, r.choice(self.active_people), started, t, secs, upd, comment,
                        vis))
        return out

    def materialize(self, n: int) -> IssueData:
        d = self._cache.get(n)
        if d is not None:
            self._cache.move_to_end(n)
            return d
        d = self._generate(n)
        self._cache[n] = d
        if len(self._cache) > self._cache_cap:
            self._cache.popitem(last=False)
        return d

    def _generate(self, n: int) -> IssueData:
        p = self.projects[self.i_proj[n]]
        d = IssueData()
        d.n, d.id, d.key, d.project = n, 10000 + n, f"{p.key}-{self.i_num[n]}", p
        d.type_code = self.i_type[n]
        d.created = self.i_created[n]
        base_updated = self.i_updated[n]
        r = self.rng("m", n)
        people = self.active_people
        d.reporter = r.choice(people)
        d.creator = d.reporter if r.random() < 0.9 else r.choice(people)
        assignee = r.choice(people) if r.random() < 0.8 else None
        priority = r.choice(("2", "3", "3", "3", "4", "1", "5"))
        if d.type_code == EPIC:
            d.summary = f"{r.choice(VERBS)} {r.choice(NOUNS)} ({p.name} epic)"
        else:
            d.summary = f"{r.choice(VERBS)} {r.choice(NOUNS)}" + (f": {r.choice(PROBLEMS)}"
                                                                  if d.type_code == BUG else "")
        d.description = None if r.random() < 0.2 else (
            "h3. Context\n" + ". ".join(r.choices(PHRASES, k=r.randint(2, 6)))
            + "\n\nh3. Steps\n# " + r.choice(NOUNS) + "\n# check the *result*")
        d.environment = "production" if d.type_code == BUG and r.random() < 0.5 else None
        labels = sorted(set(r.sample(LABELS, r.choice((0, 0, 1, 1, 2, 3)))))
        d.duedate = (d.created + r.randint(5, 60) * DAY) if r.random() < 0.2 else None
        comps = [c for k, c in enumerate(p.components) if self.i_comp[n] >> k & 1]
        d.comps = comps
        d.fixv = [p.versions[self.i_fixv[n]]] if self.i_fixv[n] >= 0 else []
        d.affects = [p.versions[0]] if d.type_code == BUG and p.versions and r.random() < 0.3 else []
        d.parent = self.i_parent[n] or None
        d.orig_estimate = r.choice((None, 3600, 7200, 14400, 28800, 57600)) if p.tt_enabled else None
        d.votes = r.choice((0, 0, 0, 1, 2, 5))
        d.watches = r.randint(1, 6)
        d.security = None
        # custom fields: the values the issue was created with (the changelog walk below moves them on)
        cf = self._initial_custom(n, d, p)
        # sprints: the run of the project's sprints the issue was in (carried over out of closed ones)
        sprints: list[Sprint] = []
        if self.i_sprint0[n] >= 0:
            order = self._sprint_order[p.idx]
            s0 = self.i_sprint0[n]
            sprints = order[s0: s0 + self.i_sprintn[n]]
        d.sprints = sprints
        d.last_viewed = self._last_viewed(n, d.created)
        # changelog: walk the histories from the initial values to the current ones
        status = "10001" if r.random() < 0.3 else "10000"
        resolution, resolved = None, None
        status_changed = d.created
        hr = self.rng("h", n)
        h = self.i_h[n]
        htimes = self._times(hr, h, d.created, base_updated, True)
        # the walk's events: the edits, and each carry-over to the next sprint at the completion of the one before
        events = [(t, 0) for t in htimes] + [(sprints[k - 1].complete, k) for k in range(1, len(sprints))]
        events.sort()
        editable = self.cf.editable[p.idx]
        histories: list[tuple] = []
        timeline: list[tuple] = []
        for j, (t, carry) in enumerate(events):
            author = hr.choice(people)
            hid = 10000 + n * H_STRIDE + j
            items: list[dict] = []
            changes: list[tuple] = []
            if carry:
                items.append(sprint_item(sprints[:carry], sprints[:carry + 1]))
                changes.append((SPRINT_FIELD, "Sprint", tuple(s.id for s in sprints[:carry]),
                                tuple(s.id for s in sprints[:carry + 1])))
                histories.append((hid, author, t, items))
                timeline.append((hid, author, t, changes))
                continue
            kind = hr.random()
            if kind < 0.4:
                new = hr.choice(NEXT_STATUS[status])
                items.append(_item("status", "jira", "status", status, STATUS_BY_ID[status][1], new,
                                   STATUS_BY_ID[new][1]))
                changes.append(("status", "status", status, new))
                if STATUS_BY_ID[new][2] == 3 and resolution is None:
                    res = "10000" if hr.random() < 0.85 else hr.choice(("10001", "10002", "10003"))
                    items.append(_item("resolution", "jira", "resolution", None, None, res,
                                       _RES_NAME[res]))
                    changes.append(("resolution", "resolution", None, res))
                    resolution, resolved = res, t
                elif STATUS_BY_ID[new][2] != 3 and resolution is not None:
                    items.append(_item("resolution", "jira", "resolution", resolution, _RES_NAME[resolution],
                                       None, None))
                    changes.append(("resolution", "resolution", resolution, None))
                    resolution, resolved = None, None
                if STATUS_BY_ID[new][2] != STATUS_BY_ID[status][2]:
                    status_changed = t
                status = new
            elif kind < 0.55:
                new_a = hr.choice(people) if hr.random() < 0.9 else None
                items.append(_item("assignee", "jira", "assignee",
                                   self.users[assignee].account_id if assignee is not None else None,
                                   self.users[assignee].name if assignee is not None else None,
                                   self.users[new_a].account_id if new_a is not None else None,
                                   self.users[new_a].name if new_a is not None else None))
                changes.append(("assignee", "assignee", assignee, new_a))
                assignee = new_a
            elif kind < 0.62:
                new_p = hr.choice([x[0] for x in PRIORITIES[:5] if x[0] != priority])
                items.append(_item("priority", "jira", "priority", priority, _PRI_NAME[priority], new_p,
                                   _PRI_NAME[new_p]))
                changes.append(("priority", "priority", priority, new_p))
                priority = new_p
            elif kind < 0.68:
                old = " ".join(labels)
                lab = sorted(set(labels) ^ {hr.choice(LABELS)})
                items.append(_item("labels", "jira", "labels", None, old, None, " ".join(lab)))
                changes.append(("labels", "labels", tuple(labels), tuple(lab)))
                labels = lab
            elif kind < 0.74:
                # the description is rewritten from a draft (its text is not kept beyond the change)
                before = "Draft: " + hr.choice(NOUNS)
                after = "Updated: " + hr.choice(NOUNS)
                items.append(_item("description", "jira", "description", None, before, None, after))
                changes.append(("description", "description", (None, before), (None, after)))
            elif kind < 0.8:
                items.append(_item("Rank", "custom", RANK_FIELD, "", "", "", "Ranked higher"))
                changes.append((RANK_FIELD, "Rank", ("", ""), ("", "Ranked higher")))
            elif kind < 0.93:
                # a custom field of the issue's context changes (the name is the one it had then: no rename yet)
                item = self._custom_change(hr, d, p, editable, cf, lambda fd: fd.orig_name, changes)
                if item is None:
                    item = _item("Rank", "custom", RANK_FIELD, "", "", "", "Ranked higher")
                    changes.append((RANK_FIELD, "Rank", ("", ""), ("", "Ranked higher")))
                items.append(item)
            else:
                items.append(_item("summary", "jira", "summary", None, "Draft: " + d.summary, None, d.summary))
                changes.append(("summary", "summary", (None, "Draft: " + d.summary), (None, d.summary)))
            histories.append((hid, author, t, items))
            timeline.append((hid, author, t, changes))
        # comments
        cr = self.rng("c", n)
        ctimes = self._times(cr, self.i_c[n], d.created, base_updated, h == 0)
        comments = []
        for j, t in enumerate(ctimes):
            author = cr.choice(people)
            upd = t
            if cr.random() < 0.1 and t < base_updated:
                upd = min(base_updated, t + cr.randrange(DAY))
            vis = ("role", "Administrators") if cr.random() < 0.04 else None
            body = ". ".join(cr.choices(PHRASES, k=cr.randint(1, 5)))
            if cr.random() < 0.3:
                body = "Reproduced on *staging*. " + body
            comments.append((10000 + n * C_STRIDE + j, author, body, t, author, upd, vis))
        worklogs = list(self._worklog_specs(n))
        updated = base_updated
        # overlay the mutations of /__sim/advance
        m = self.mut.get(n)
        if m is not None:
            f = m.fields
            status = f.get("status", status)
            assignee = f.get("assignee", assignee)
            priority = f.get("priority", priority)
            labels = f.get("labels", labels)
            d.summary = f.get("summary", d.summary)
            if "resolution" in f:
                resolution, resolved = f["resolution"]
            status_changed = f.get("status_changed", status_changed)
            for fid, v in f.get("custom", {}).items():
                if v is None:
                    cf.pop(fid, None)
                else:
                    cf[fid] = v
            histories.extend(m.histories)
            timeline.extend(m.timeline)
            comments.extend(m.comments)
            worklogs = [w for w in worklogs if w[0] not in m.deleted_wl] + [
                w for w in m.worklogs if w[0] not in m.deleted_wl]
            updated = max(updated, m.updated)
        d.status, d.priority, d.assignee, d.labels = status, priority, assignee, labels
        d.resolution, d.resolved, d.status_changed = resolution, resolved, status_changed
        d.custom = cf
        d.histories, d.comments, d.worklogs = histories, comments, worklogs
        d.timeline = timeline
        d.updated = updated
        return d

    # ---- custom field values -------------------------------------------------------------------------------------
    def _value_args(self, d: IssueData, p: Project) -> dict:
        return {"created": d.created, "people": self.active_people, "n_groups": len(self.groups),
                "n_versions": len(p.versions), "projects": self._live_idx, "n_teams": len(self.cf.teams)}

    def _initial_custom(self, n: int, d: IssueData, p: Project) -> dict[str, Any]:
        """The custom field values the issue was created with: for each field of its project's context a draw
        against the field's fill rate (so most keys stay null); Jira Software's own fields follow the issue type."""
        cat = self.cf
        cr = self.rng("cf", n)
        args = self._value_args(d, p)
        code = d.type_code
        out: dict[str, Any] = {}
        for fid in cat.context[p.idx]:
            fd = cat.by_id[fid]
            k = fd.kind
            if k in _DERIVED:
                continue
            if k == "devsummary":
                if cr.random() < 0.15:
                    out[fid] = self._devsummary(cr, d.created)
            elif k in _EPIC_ONLY:
                if code == EPIC:
                    # the epic's name, its colour (the one the Agile API's `epic.color` shows), its status option
                    out[fid] = (d.summary.split(" (")[0] if k == "epic_name" else
                                f"ghx-label-{n % 14 + 1}" if k == "epic_color" else
                                ISSUE_COLORS[n % len(ISSUE_COLORS)] if k == "issue_color" else
                                cr.choice((0, 0, 1, 2)))
            elif fd.points:
                if code in (STORY, BUG) and cr.random() < (0.7 if k == "story_points" else fd.fill):
                    out[fid] = new_value(fd, cr, **args)
            elif cr.random() < fd.fill:
                v = new_value(fd, cr, **args)
                if v is not None:
                    out[fid] = v
        return out

    def _custom_change(self, r: random.Random, d: IssueData, p: Project, editable: tuple, cf: dict,
                       name_of, changes: list) -> dict | None:
        """Change one editable custom field of the issue in `cf` (set, change or clear it), note the change in
        `changes` (the timeline) and return the changelog item Jira writes for it; None when the issue's context has
        nothing editable."""
        if not editable:
            return None
        fd: CustomField = r.choice(editable)
        old = cf.get(fd.id)
        new = None if old is not None and r.random() < 0.25 else new_value(fd, r, **self._value_args(d, p))
        if new == old:
            return None
        if new is None:
            cf.pop(fd.id, None)
        else:
            cf[fd.id] = new
        name = name_of(fd)
        changes.append((fd.id, name, old, new))
        return change_item(fd, name, old, new, self, p)

    def _last_viewed(self, n: int, created: int) -> int | None:
        """When the caller last opened the issue (some issues, never after the simulation started), else None."""
        r = self.rng("viewed", n)
        if created >= self.t0 or r.random() >= 0.35:
            return None
        return created + r.randrange(max(1, self.t0 - created))

    def _devsummary(self, r: random.Random, created: int) -> str:
        """The development panel's summary string (a PR on GitHub), as the devsummary field serializes it."""
        state = r.choice(("OPEN", "MERGED", "MERGED", "DECLINED"))
        count = r.randint(1, 3)
        when = fmt_ms(created + r.randrange(30 * DAY))
        return ("{pullrequest={dataType=pullrequest, state=" + state + f", stateCount={count}" + "}, json="
                '{"cachedValue":{"errors":[],"summary":{"pullrequest":{"overall":{"count":' + str(count)
                + ',"lastUpdated":"' + when + '","stateCount":' + str(count) + ',"state":"' + state
                + '","dataType":"pullrequest","open":' + ("true" if state == "OPEN" else "false")
                + '},"byInstanceType":{"GitHub":{"count":' + str(count) + ',"name":"GitHub"}}}}},"isStale":true}}')

    def _fields_lists(self) -> None:
        """`*all` and `*navigable`: the system fields, then every custom field of the site."""
        ids = [fd.id for fd in self.cf.fields]
        self.all_fields = SYSTEM_ALL + ids
        self.navigable = SYSTEM_NAVIGABLE + ids

    def rename_field(self, fid: str, name: str) -> None:
        """An admin renames a custom field: /field and `names` show the new name, later changelog items carry it;
        no issue changes (its `updated` stays), old changelog items keep the name they were written with."""
        if fid not in self.cf.by_id:
            raise ValueError(f"no custom field {fid!r}")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"the new name of {fid} must be a non-empty string")
        self.cf.rename(fid, name.strip())
        self.version += 1          # the response cache and search caches key on it

    def stub(self, n: int) -> tuple:
        """(id, key, summary, status, priority, project, type code) -- what a linked/parent/sub-task reference
        shows; kept for every issue once computed, so references do not regenerate whole issues."""
        st = self._stubs.get(n)
        if st is None:
            d = self.materialize(n)
            st = self._stubs[n] = (d.id, d.key, d.summary, d.status, d.priority, d.project, d.type_code)
        return st

    def invalidate(self, n: int) -> None:
        self._cache.pop(n, None)
        self._stubs.pop(n, None)
        self.dirty.add(n)
        self.version += 1

    # ---- filters, dashboards --------------------------------------------------------------------------------
    def _build_filters_dashboards(self) -> None:
        r = self.rng("filters")
        self.filters: list[Filter] = []
        fid = 10000
        people = self.active_people
        live = self.live_projects
        for b in self.boards:
            f = Filter()
            f.id = fid
            fid += 1
            f.name = f"Filter for {b.name}"
            f.owner = b.owner
            keys = ", ".join(p.key for p in b.projects)
            f.jql = (f"project = {b.projects[0].key} ORDER BY Rank ASC" if len(b.projects) == 1
                     else f"project in ({keys}) ORDER BY Rank ASC")
            f.description = ""
            f.share = [("project", b.projects[0].idx)]
            f.favourite = False
            f.fav_count = 0
            f.subscriptions = []
            f.edit = []
            f.visible = not b.private
            b.filter_id = f.id
            self.filters.append(f)
        for k in range(self.cfg["filters"] - len(self.boards)):
            f = Filter()
            f.id = fid
            fid += 1
            p = live[k % len(live)]
            f.owner = 0 if k % 6 == 0 else r.choice(people)
            kind = k % 5
            if kind == 0:
                f.name, f.jql = f"{p.key} open bugs", (f"project = {p.key} AND issuetype = Bug AND resolution = "
                                                         f"Unresolved ORDER BY priority DESC")
            elif kind == 1:
                f.name, f.jql = f"{p.key} updated this week", f"project = {p.key} AND updated >= -1w"
            elif kind == 2:
                f.name, f.jql = f"My {p.key} issues {k}", f"assignee = currentUser() AND project = {p.key}"
            elif kind == 3:
                f.name, f.jql = f"{p.key} done recently {k}", f"project = {p.key} AND status = Done ORDER BY updated"
            else:
                f.name, f.jql = f"Release {p.key} {k}", f"fixVersion in unreleasedVersions() AND project = {p.key}"
            f.description = "" if k % 3 else f"Saved search #{k}"
            x = r.random()
            if f.owner != 0 and x < 0.12:
                f.share = []                         # private filter of another user: invisible to the caller
            elif x < 0.5:
                f.share = [("global", None)]
            elif x < 0.75:
                f.share = [("project", p.idx)]
            else:
                f.share = [("group", r.randrange(len(self.groups)))]
            f.visible = f.owner == 0 or bool(f.share)
            f.favourite = f.visible and r.random() < 0.25
            f.fav_count = (1 if f.favourite else 0) + r.randint(0, 4)
            f.subscriptions = ([("user", f.owner)] if r.random() < 0.15 else [])
            f.edit = [("group", r.randrange(len(self.groups)))] if r.random() < 0.1 else []
            self.filters.append(f)
        self.filter_by_id = {f.id: f for f in self.filters}
        # when each filter was last run (to the minute, "approximate"); some never were
        ru = self.rng("filters-used")
        for f in self.filters:
            f.last_used = self.now - ru.randrange(120 * DAY) if ru.random() < 0.7 else None
            if f.last_used is not None:
                f.last_used -= f.last_used % MINUTE
        rd = self.rng("dashboards")
        self.dashboards: list[Dashboard] = []
        for k in range(self.cfg["dashboards"]):
            d = Dashboard()
            d.id = 10000 + k
            d.system = k == 0
            d.name = "Default dashboard" if k == 0 else f"{rd.choice(PROJECT_WORDS)} overview {k}"
            d.owner = None if k == 0 else (0 if k % 5 == 1 else rd.choice(people))
            d.description = "" if k % 2 else f"Dashboard {k} for the team"
            d.share = [("global", None)] if k == 0 or rd.random() < 0.6 else [("project", rd.choice(live).idx)]
            d.favourite = k == 0 or rd.random() < 0.2
            d.popularity = rd.randint(0, 25)
            d.refresh = rd.choice((0, 0, 15 * MINUTE))
            d.edit = []
            self.dashboards.append(d)

    # ---- schemes, workflows, misc config --------------------------------------------------------------------
    def _build_schemes(self) -> None:
        r = self.rng("schemes")
        k = self.cfg["schemes"]
        self.field_configs = [(10000 + i, "Default Field Configuration" if i == 0 else f"{PROJECT_WORDS[i]} fields",
                               "The default field configuration" if i == 0 else "", i == 0)
                              for i in range(self.cfg["field_configs"])]
        self.security_schemes = [(10000 + i, f"{['Default', 'Confidential', 'Regulated'][i % 3]} security"
                                  + (f" {i}" if i >= 3 else ""), i) for i in range(max(2, k // 3))]
        self.notification_schemes = [(10000 + i, "Default Notification Scheme" if i == 0 else
                                      f"{PROJECT_WORDS[i]} notifications") for i in range(k)]
        self.permission_schemes = [(10000 + i, "Default Permission Scheme" if i == 0 else
                                    f"{PROJECT_WORDS[i]} permissions") for i in range(k)]
        self.screen_schemes = [(1 + i, "Default Screen Scheme" if i == 0 else f"{PROJECT_WORDS[i]} screens")
                               for i in range(k + 2)]
        self.workflow_schemes = [(10000 + i, "Default Workflow Scheme" if i == 0 else
                                  f"{PROJECT_WORDS[i]} workflow scheme") for i in range(k)]
        self.workflows = []
        for i in range(k + 2):
            wid = self._uuid("workflow", i)
            scope_project = self.live_projects[i % len(self.live_projects)] if i % 4 == 3 else None
            name = "jira" if i == 0 else (f"Software Simplified Workflow for Project {scope_project.key}"
                                          if scope_project else f"{PROJECT_WORDS[i]} workflow")
            statuses = ["10000", "3", "10004"] if i % 2 == 0 else ["10001", "10000", "3", "10002", "10003",
                                                                   "10004", "6"]
            self.workflows.append((wid, name, scope_project, statuses, r.randint(1, 9),
                                   self.start + r.randrange(300) * DAY))
        self.workflows.sort(key=lambda w: w[1].lower())
        self.priority_schemes = [(1 + i, "Default Priority Scheme" if i == 0 else f"{PROJECT_WORDS[i]} priorities",
                                  i == 0) for i in range(max(2, k // 2))]

    def _build_audit(self) -> None:
        r = self.rng("audit")
        kinds = [("User created", "user management"), ("User added to group", "group management"),
                 ("Project created", "projects"), ("Workflow updated", "workflows"),
                 ("Permission scheme updated", "permissions"), ("Field configuration updated", "fields"),
                 ("User's email updated", "user management")]
        self.audit: list[tuple] = []
        for i in range(self.cfg["audit"]):
            t = self.start + (i * (self.now - self.start - HOUR)) // self.cfg["audit"] + r.randrange(HOUR)
            self.audit.append((10000 + i, kinds[r.randrange(len(kinds))], t, r.choice(self.active_people),
                               f"10.0.{r.randrange(256)}.{r.randrange(256)}", r.randrange(len(self.users))))
        self.audit.sort(key=lambda a: -a[2])    # newest first, as Jira lists them

    # ---- mutation: /__sim/advance -----------------------------------------------------------------------------
    def advance(self, spec: dict[str, Any]) -> dict[str, Any]:
        counts = {k: max(0, int(spec.get(k, 0) or 0)) for k in
                  ("update_issues", "add_issues", "delete_issues", "add_comments", "add_worklogs",
                   "delete_worklogs", "add_projects")}
        minutes = float(spec.get("minutes", 5))
        self.advances += 1
        r = self.rng("advance", self.advances)
        old = self.now
        new = old + int(minutes * MINUTE)
        # changes are stamped before the final minute so worklog/updated (which hides the last minute) shows them
        lo = old + 1000
        hi = max(lo, new - 61_000)

        def stamp() -> int:
            return lo + r.randrange(hi - lo + 1)

        applied = {k: 0 for k in counts}
        self.now = new
        people = self.active_people
        for _ in range(counts["add_projects"]):
            i = len(self.projects)
            p = self._new_project(i, r, "live", created=stamp())
            self.projects.append(p)
            self._live_idx.append(p.idx)
            self.cf.add_project(p, self.rng("cf-context", p.idx))
            self._epics[i], self._std[i], self._counters[i] = [], [], 0
            applied["add_projects"] += 1
        live = [p for p in self.projects if p.status == "live"]
        for _ in range(counts["add_issues"]):
            p = r.choice(live)
            n = self.issue_count + 1
            self._add_issue_base(n, p.idx, stamp(), r, fresh=True)
            applied["add_issues"] += 1
        alive = [n for n in range(1, self.issue_count + 1) if n not in self.deleted]
        # update_issues: that many distinct issues, each changed once
        for n in r.sample(alive, min(counts["update_issues"], len(alive))):
            self._update_issue(n, r, stamp(), people)
            applied["update_issues"] += 1
        for _ in range(counts["add_comments"]):
            if not alive:
                break
            n = r.choice(alive)
            t = stamp()
            m = self._mut(n)
            cid = self._next_comment
            self._next_comment += 1
            a = r.choice(people)
            m.comments.append((cid, a, "New comment: " + " ".join(r.choice(WORDS) for _ in range(8)), t, a, t, None))
            self.new_comment_owner[cid] = n
            self._touch(n, t)
            applied["add_comments"] += 1
        tt_alive = [n for n in alive if self.projects[self.i_proj[n]].tt_enabled]
        new_wl: list[tuple[int, int, int]] = []
        for _ in range(counts["add_worklogs"]):
            if not tt_alive:
                break
            n = r.choice(tt_alive)
            t = stamp()
            m = self._mut(n)
            wid = self._next_worklog
            self._next_worklog += 1
            secs = r.choice((1800, 3600, 7200))
            started = t - secs * 1000
            started -= started % 1000
            m.worklogs.append((wid, r.choice(people), started, t, secs, t, "Logged during the simulation", None))
            self.new_worklog_owner[wid] = n
            self._history(n, m, t, r.choice(people), [
                _item("timespent", "jira", "timespent", None, None, None, str(secs)),
                _item("WorklogId", "jira", "WorklogId", None, None, str(wid), str(wid))],
                [("timespent", "timespent", None, (None, str(secs))),
                 ("WorklogId", "WorklogId", None, (str(wid), str(wid)))])
            new_wl.append((t, wid, n))
            self._touch(n, t)
            applied["add_worklogs"] += 1
        for _ in range(counts["delete_worklogs"]):
            picked = self._pick_worklog(r)
            if picked is None:
                break
            n, w = picked
            t = stamp()
            m = self._mut(n)
            m.deleted_wl.add(w[0])
            self.deleted_worklogs.append((t, w[0]))
            self.deleted_wl_ids.add(w[0])
            self._history(n, m, t, r.choice(people), [
                _item("WorklogId", "jira", "WorklogId", str(w[0]), str(w[0]), None, None)],
                [("WorklogId", "WorklogId", (str(w[0]), str(w[0])), None)])
            self._touch(n, t)
            applied["delete_worklogs"] += 1
        for _ in range(counts["delete_issues"]):
            if not alive:
                break
            # an issue without live children (deleting a parent would delete its sub-tasks and orphan an epic's
            # issues, changing issues that are not in the count)
            for _try in range(100):
                k = r.randrange(len(alive))
                if not any(self.exists(c) for c in self.children.get(alive[k], ())):
                    break
            n = alive.pop(k)
            t = stamp()
            for w in self.materialize(n).worklogs:
                self.deleted_worklogs.append((t, w[0]))
                self.deleted_wl_ids.add(w[0])
            self.deleted.add(n)
            p = self.projects[self.i_proj[n]]
            p.insight_count -= 1
            self.invalidate(n)
            applied["delete_issues"] += 1
        self.deleted_worklogs.sort()
        if new_wl:
            # base worklogs are all older than any stamp, and stamps only move forward, so appending stays sorted
            new_wl.sort()
            for t, wid, n in new_wl:
                self.wl_t.append(t)
                self.wl_id.append(wid)
                self.wl_n.append(n)
        self.version += 1
        return {"applied": applied, "now": fmt_ms(self.now)}

    def _pick_worklog(self, r: random.Random) -> tuple[int, tuple] | None:
        """A random live worklog (issue number, worklog), drawn from the worklog index without scanning issues."""
        size = len(self.wl_id)
        for _ in range(200 if size else 0):
            k = r.randrange(size)
            wid, n = self.wl_id[k], self.wl_n[k]
            if wid in self.deleted_wl_ids or not self.exists(n):
                continue
            for w in self.materialize(n).worklogs:
                if w[0] == wid:
                    return n, w
        return None

    def _mut(self, n: int) -> Mut:
        m = self.mut.get(n)
        if m is None:
            m = self.mut[n] = Mut()
        return m

    def _touch(self, n: int, t: int) -> None:
        m = self._mut(n)
        m.updated = max(m.updated, t)
        p = self.projects[self.i_proj[n]]
        p.insight_last = max(p.insight_last, t)
        self.invalidate(n)

    def _history(self, n: int, m: Mut, t: int, author: int, items: list[dict], changes: list[tuple]) -> None:
        """A history written on issue n: its changelog items, and the same changes in the timeline model."""
        hid = self._next_hist
        self._next_hist += 1
        m.histories.append((hid, author, t, items))
        m.timeline.append((hid, author, t, changes))

    def _update_issue(self, n: int, r: random.Random, t: int, people: list[int]) -> None:
        d = self.materialize(n)
        m = self._mut(n)
        items = []
        changes: list[tuple] = []
        kind = r.random()
        custom_item = None
        if 0.75 <= kind < 0.9:
            # a custom field changes; the item carries the field's name as it is now (after any rename)
            cf = dict(d.custom)
            custom_item = self._custom_change(r, d, d.project, self.cf.editable[d.project.idx], cf,
                                              lambda fd: fd.name, changes)
            if custom_item is not None:
                m.fields.setdefault("custom", {})[custom_item["fieldId"]] = cf.get(custom_item["fieldId"])
                items.append(custom_item)
        if custom_item is not None:
            pass
        elif kind < 0.45:
            new = r.choice(NEXT_STATUS[d.status])
            items.append(_item("status", "jira", "status", d.status, STATUS_BY_ID[d.status][1], new,
                               STATUS_BY_ID[new][1]))
            changes.append(("status", "status", d.status, new))
            m.fields["status"] = new
            if STATUS_BY_ID[new][2] == 3 and d.resolution is None:
                items.append(_item("resolution", "jira", "resolution", None, None, "10000", "Done"))
                changes.append(("resolution", "resolution", None, "10000"))
                m.fields["resolution"] = ("10000", t)
            elif STATUS_BY_ID[new][2] != 3 and d.resolution is not None:
                items.append(_item("resolution", "jira", "resolution", d.resolution, _RES_NAME[d.resolution],
                                   None, None))
                changes.append(("resolution", "resolution", d.resolution, None))
                m.fields["resolution"] = (None, None)
            if STATUS_BY_ID[new][2] != STATUS_BY_ID[d.status][2]:
                m.fields["status_changed"] = t
        elif kind < 0.62:
            new_a = r.choice(people)
            old = d.assignee
            items.append(_item("assignee", "jira", "assignee",
                               self.users[old].account_id if old is not None else None,
                               self.users[old].name if old is not None else None,
                               self.users[new_a].account_id, self.users[new_a].name))
            changes.append(("assignee", "assignee", old, new_a))
            m.fields["assignee"] = new_a
        elif kind < 0.75:
            new_p = r.choice([x[0] for x in PRIORITIES[:5] if x[0] != d.priority])
            items.append(_item("priority", "jira", "priority", d.priority, _PRI_NAME[d.priority], new_p,
                               _PRI_NAME[new_p]))
            changes.append(("priority", "priority", d.priority, new_p))
            m.fields["priority"] = new_p
        else:
            new_s = f"{r.choice(VERBS)} {r.choice(NOUNS)}"
            items.append(_item("summary", "jira", "summary", None, d.summary, None, new_s))
            changes.append(("summary", "summary", (None, d.summary), (None, new_s)))
            m.fields["summary"] = new_s
        self._history(n, m, t, r.choice(people), items, changes)
        self._touch(n, t)


_RES_NAME = {x[0]: x[1] for x in RESOLUTIONS}
# custom field kinds whose value follows from the issue itself (its number, parent, sprints), not a draw
_DERIVED = {"sprint", "rank", "parent_link", "epic_link"}
_EPIC_ONLY = {"epic_name", "epic_status", "epic_color", "issue_color"}
_PRI_NAME = {x[0]: x[1] for x in PRIORITIES}


def _item(field: str, fieldtype: str, field_id: str, frm: Any, frm_s: Any, to: Any, to_s: Any) -> dict:
    return {"field": field, "fieldtype": fieldtype, "fieldId": field_id, "from": frm, "fromString": frm_s,
            "to": to, "toString": to_s}
