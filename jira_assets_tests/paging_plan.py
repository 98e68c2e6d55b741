"""The paging plan: the fewest requests a perfect client needs for this simulated tenant, from its ground truth
(`GET /__sim/truth/<endpoint>`) and the simulator's page caps (the table in jira_sim/app.py's docstring).

Used by the end-to-end tests (requests made == planned: no redundant request) and by the benchmarks (the lower
bound of a full sync, and the same tenant fetched the per-issue way most connectors use).

    request_floor(url, "issue_changelog")     # requests a full sync of it should make
    per_issue_requests(url)                   # {"issue_search": n, "issue_changelog": n, ...} the per-issue way
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import httpx

from jira_assets.endpoints import BY_NAME, PERMISSION_KEYS
from jira_assets.sync.follow_parent import ChangelogBulk, EmbeddedPages, FollowParentCommits, WorklogFeed
from jira_assets.sync.issue_search import IssueSearchCursor

PAGE_CAPS = {
    "issue_search": 100,  # fields=*all
    "board_issues": 1000, "sprint_issues": 1000,  # eight named fields
    "project_search": 100, "project_versions": 100, "project_components": 100, "dashboards": 100, "filters": 100,
    "groups": 50, "group_members": 50, "users_search": 1000, "field_configurations": 50, "notification_schemes": 50,
    "workflow_schemes": 50, "priority_schemes": 50, "priorities": 100, "resolutions": 100, "workflows": 100,
    "screen_schemes": 100, "audit_records": 1000, "boards": 50, "board_sprints": 50, "worklog_updated": 1000,
}
EMBEDDED_COMMENTS = 20
COMMENT_PAGE = 100  # GET issue/{id}/comment cap
CHANGELOG_ISSUES_PER_CALL = 1000
CHANGELOG_PAGE = 10000
WORKLOG_IDS_PER_CALL = 1000
# The per-issue endpoints most connectors call once (or more) for every issue.
ISSUE_CHANGELOG_PAGE = 100  # GET issue/{id}/changelog cap
ISSUE_WORKLOG_PAGE = 5000  # GET issue/{id}/worklog cap

Truth = Callable[[str, str], list[dict]]  # (url, endpoint) -> [{"parents": {...}, "record": {...}}]


def truth_params(endpoint: str) -> dict[str, str]:
    """Query parameters that make the truth of `endpoint` what the connector requests: the permission keys it
    asks /mypermissions for (without them the simulator reports all its built-in keys)."""
    return {"permissions": ",".join(PERMISSION_KEYS)} if endpoint == "my_permissions" else {}


def fetch_truth(url: str, endpoint: str) -> list[dict]:
    """The `{"parents", "record"}` items `/__sim/truth/<endpoint>` reports."""
    r = httpx.get(f"{url}/__sim/truth/{endpoint}", params=truth_params(endpoint), timeout=600.0)
    r.raise_for_status()
    body = r.json()
    assert body["endpoint"] == endpoint
    return body["records"]


def memoized_truth() -> Truth:
    """A truth reader that downloads each endpoint once (only while the tenant does not change)."""
    cache: dict[tuple[str, str], list[dict]] = {}

    def read(url: str, endpoint: str) -> list[dict]:
        if (url, endpoint) not in cache:
            cache[(url, endpoint)] = fetch_truth(url, endpoint)
        return cache[(url, endpoint)]

    return read


def pages(n: int, cap: int) -> int:
    return max(1, math.ceil(n / cap))


def planned_requests(url: str, name: str, parent_ids: list | None = None, *, truth: Truth = fetch_truth) -> int:
    """Requests a perfect client makes for a full sync of `name`, from the ground truth and the page caps."""
    spec = BY_NAME[name]
    if spec.fetch is None:  # read from a parent's pages, or derived from the lake
        return 0
    items = truth(url, name)
    if isinstance(spec.sync, FollowParentCommits):
        return _children_of_issues(spec.sync.full, items, parent_ids)
    style = spec.fetch.style
    if isinstance(spec.sync, IssueSearchCursor):
        return 1 + style.requests_for(len(items), PAGE_CAPS[name])  # GET /myself first: credentials, time zone
    if spec.parent is None:
        return style.requests_for(len(items), PAGE_CAPS.get(name))
    per_parent = Counter(str(i["parents"][spec.parent.key]) for i in items)
    return sum(style.requests_for(per_parent[str(p)], PAGE_CAPS.get(name)) for p in parent_ids)


def _children_of_issues(fetch, items: list[dict], parent_ids: list) -> int:
    per_issue = Counter(str(i["parents"]["issue_id"]) for i in items)
    if isinstance(fetch, ChangelogBulk):
        ids = [str(i) for i in parent_ids]
        chunks = [ids[i:i + CHANGELOG_ISSUES_PER_CALL] for i in range(0, len(ids), CHANGELOG_ISSUES_PER_CALL)]
        return sum(pages(sum(per_issue[i] for i in chunk), CHANGELOG_PAGE) for chunk in chunks)
    if isinstance(fetch, EmbeddedPages):
        return sum(pages(n, COMMENT_PAGE) for n in per_issue.values() if n > EMBEDDED_COMMENTS)
    if isinstance(fetch, WorklogFeed):
        return pages(len(items), PAGE_CAPS["worklog_updated"]) + math.ceil(len(items) / WORKLOG_IDS_PER_CALL)
    raise AssertionError(f"no plan for {type(fetch).__name__}")


def parent_ids_from_truth(url: str, name: str, *, truth: Truth = fetch_truth) -> list:
    """Which parents a perfect client fetches children for, decided from the parents' ground truth."""
    spec = BY_NAME[name]
    parents = [i["record"] for i in truth(url, spec.parent.asset)]
    live = lambda p: not p.get("archived") and not p.get("deleted")  # noqa: E731
    public = lambda b: not b.get("isPrivate")  # noqa: E731
    select = {
        "project_versions": live, "project_components": live,
        "board_configuration": public, "board_issues": public,
        "board_sprints": lambda b: public(b) and b.get("type") in ("scrum", "simple"),
    }.get(name, lambda _: True)
    id_path = {"group_members": "groupId"}.get(name, "id")
    return list(dict.fromkeys(p[id_path] for p in parents if select(p)))


def request_floor(url: str, name: str, *, truth: Truth = fetch_truth) -> int:
    """planned_requests with the parents a perfect client would choose."""
    parents = parent_ids_from_truth(url, name, truth=truth) if BY_NAME[name].parent else None
    return planned_requests(url, name, parents, truth=truth)


def per_issue_requests(url: str, *, truth: Truth = fetch_truth) -> dict[str, int]:
    """The same issues fetched the way most connectors do: the search (fields=*all, 100 a page), then for every
    issue one GET issue/{id}/changelog (100 a page), one GET issue/{id}/comment (100 a page) and one
    GET issue/{id}/worklog (5000 a page), each paged to the end — an issue with none still costs one request."""
    issue_ids = [str(i["record"]["id"]) for i in truth(url, "issue_search")]

    def per_issue(endpoint: str, cap: int) -> int:
        counts = Counter(str(i["parents"]["issue_id"]) for i in truth(url, endpoint))
        return sum(pages(counts[i], cap) for i in issue_ids)

    return {
        "issue_search": pages(len(issue_ids), PAGE_CAPS["issue_search"]),
        "issue_changelog": per_issue("issue_changelog", ISSUE_CHANGELOG_PAGE),
        "issue_comments": per_issue("issue_comments", COMMENT_PAGE),
        "issue_worklog": per_issue("issue_worklog", ISSUE_WORKLOG_PAGE),
    }
