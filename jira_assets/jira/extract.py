"""Turn a declarative FetchSpec into records, using the pagers in `paging`.

Source side only: knows Jira's request shapes, nothing of Dagster or Iceberg. Yields pages of
`(record, parent_keys)` pairs, where `parent_keys` names the parent ids the record was fetched under
(`{"board_id": 12}`), so the sink can store them as columns.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jira_assets.jira import paging
from jira_assets.jira.client import JiraClient

Record = dict[str, Any]
Page = list[tuple[Record, dict[str, Any]]]

# How many parents (boards, projects, sprints, ...) are fetched at once. The throttle, not this number, bounds
# the request rate; this only keeps enough requests in flight that latency never starves the throttle.
PARENT_CONCURRENCY = 16

# Jira caps for the bulk endpoints (jira-api-notes §2).
CHANGELOG_BULK_ISSUES = 1000
CHANGELOG_BULK_PAGE = 10000
WORKLOG_LIST_IDS = 1000


@dataclass(frozen=True)
class FetchSpec:
    """How one endpoint is requested. `path` may hold `{parent_id}` for child endpoints."""

    path: str
    paging: str  # single | plain_array | wrapper | page_bean | agile_page | cursor | offset_limit
    #              | short_page_array | since_until | map_values | changelog_bulkfetch | embedded_comments
    #              | worklog_bulk
    method: str = "GET"
    params: Mapping[str, Any] = field(default_factory=dict)
    body: Mapping[str, Any] = field(default_factory=dict)
    items_key: str | None = None
    page_size: int | None = None
    # Statuses that mean "Jira refuses this parent by design" (kanban sprints 400, private board 404):
    # counted and reported as skipped parents, never raised and never silently swallowed.
    skip_statuses: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ParentRef:
    """One parent the child endpoint is fetched for: the id put into the path, and the keys stored on rows."""

    path_id: Any
    keys: dict[str, Any]


async def _pages_for(
    client: JiraClient, spec: FetchSpec, endpoint: str, path: str, params: dict[str, Any]
) -> AsyncIterator[list[Record]]:
    kw: dict[str, Any] = {"endpoint": endpoint}
    if spec.skip_statuses:
        kw["skip_statuses"] = set(spec.skip_statuses)
    style = spec.paging
    if style == "single":
        pages = paging.single(client, path, params, **kw)
    elif style == "plain_array":
        pages = paging.plain_array(client, path, params, **kw)
    elif style == "wrapper":
        pages = paging.wrapper(client, path, params, items_key=spec.items_key, **kw)
    elif style == "page_bean":
        pages = paging.page_bean(client, path, params, page_size=spec.page_size, values_key=spec.items_key or "values", **kw)
    elif style == "agile_page":
        pages = paging.agile_page(client, path, params, page_size=spec.page_size, **kw)
    elif style == "cursor":
        body_or_params = dict(spec.body) if spec.method == "POST" else params
        pages = paging.cursor(
            client, spec.method, path, body_or_params, items_key=spec.items_key, page_size=spec.page_size, **kw
        )
    elif style == "offset_limit":
        pages = paging.offset_limit(client, path, params, items_key=spec.items_key or "records", page_size=spec.page_size, **kw)
    elif style == "short_page_array":
        pages = paging.short_page_array(client, path, params, page_size=spec.page_size, **kw)
    elif style == "since_until":
        pages = paging.since_until(client, path, params, **kw)
    elif style == "map_values":
        # my_permissions: {"permissions": {KEY: {...}}} -> the values, in key order.
        async def _map_pages() -> AsyncIterator[list[Record]]:
            async for objs in paging.single(client, path, params, **kw):
                for obj in objs:
                    yield list((obj.get(spec.items_key or "permissions") or {}).values())

        pages = _map_pages()
    else:
        raise ValueError(f"unknown paging style {style!r} for endpoint {endpoint}")
    async for page in pages:
        yield page


async def extract(
    client: JiraClient, spec: FetchSpec, endpoint: str, parents: Sequence[ParentRef] | None = None
) -> AsyncIterator[Page]:
    """All records of one endpoint, page by page. With parents, fetch each parent's pages concurrently."""
    if parents is None:
        async for page in _pages_for(client, spec, endpoint, spec.path, dict(spec.params)):
            yield [(r, {}) for r in page]
        return
    async for page in _fan_out(parents, lambda p: _child_pages(client, spec, endpoint, p)):
        yield page


async def _child_pages(client: JiraClient, spec: FetchSpec, endpoint: str, parent: ParentRef) -> AsyncIterator[Page]:
    # The parent id goes into the path ({parent_id}) or into a query parameter (group/member?groupId=...).
    path = spec.path.format(parent_id=parent.path_id)
    params = {k: v.format(parent_id=parent.path_id) if isinstance(v, str) else v for k, v in spec.params.items()}
    async for page in _pages_for(client, spec, endpoint, path, params):
        yield [(r, dict(parent.keys)) for r in page]


async def _fan_out(items: Iterable[Any], make_pages, concurrency: int = PARENT_CONCURRENCY) -> AsyncIterator[Page]:
    """Run `make_pages(item)` for every item with bounded concurrency, yielding pages as they arrive.

    The queue is bounded so a slow consumer (the lake writer) holds the producers back instead of
    letting pages pile up in memory. The first error stops the rest and is raised to the consumer.
    """
    queue: asyncio.Queue = asyncio.Queue(maxsize=concurrency * 2)
    pending = iter(items)  # shared: each item is taken by exactly one worker

    async def worker() -> None:
        try:
            for item in pending:
                async for page in make_pages(item):
                    await queue.put(page)
        except Exception as exc:  # handed to the consumer, which raises it
            await queue.put(_Failed(exc))
            return
        await queue.put(_DONE)

    tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
    finished = 0
    try:
        while finished < len(tasks):
            item = await queue.get()
            if item is _DONE:
                finished += 1
            elif isinstance(item, _Failed):
                raise item.error
            else:
                yield item
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


_DONE = object()


@dataclass(frozen=True)
class _Failed:
    error: Exception


# --- bulk strategies: fewer requests than one per issue ------------------------------------------------------


async def changelog_bulkfetch(client: JiraClient, issue_ids: Sequence[str], endpoint: str) -> AsyncIterator[Page]:
    """Changelog histories for many issues: POST changelog/bulkfetch, 1000 issues a call, cursor-paged."""
    chunks = [list(issue_ids[i : i + CHANGELOG_BULK_ISSUES]) for i in range(0, len(issue_ids), CHANGELOG_BULK_ISSUES)]

    async def one_chunk(chunk: list[str]) -> AsyncIterator[Page]:
        body = {"issueIdsOrKeys": chunk, "maxResults": CHANGELOG_BULK_PAGE}
        async for page in paging.cursor(
            client, "POST", "/rest/api/2/changelog/bulkfetch", body, items_key="issueChangeLogs",
            page_size=CHANGELOG_BULK_PAGE, endpoint=endpoint,
        ):
            rows: Page = []
            for entry in page:
                issue_id = str(entry.get("issueId"))
                rows.extend((history, {"issue_id": issue_id}) for history in entry.get("changeHistories") or [])
            yield rows

    async for page in _fan_out(chunks, one_chunk, concurrency=4):
        yield page


async def embedded_or_fetched(
    client: JiraClient, embedded: Iterable[tuple[str, Mapping[str, Any] | None]], endpoint: str, *,
    items_key: str, per_issue: FetchSpec,
) -> AsyncIterator[Page]:
    """Comments or worklogs of many issues: taken from the page Jira embeds in each issue (`fields.comment`,
    `fields.worklog`) when it is complete, fetched per issue only where `total` says it was truncated.

    `embedded` yields (issue_id, embedded page) pairs as issue_search stored them.
    """
    incomplete: list[str] = []
    batch: Page = []
    for issue_id, page in embedded:
        items = (page or {}).get(items_key) or []
        total = (page or {}).get("total")
        if total is not None and total > len(items):
            incomplete.append(issue_id)
            continue
        batch.extend((item, {"issue_id": issue_id}) for item in items)
        if len(batch) >= 1000:
            yield batch
            batch = []
    if batch:
        yield batch
    parents = [ParentRef(i, {"issue_id": i}) for i in incomplete]
    if parents:
        async for page in extract(client, per_issue, endpoint, parents):
            yield page


# Per-issue fallbacks when the embedded page is truncated. 404: the issue was deleted meanwhile, or (worklogs)
# time tracking is off for its project; counted as a skipped parent.
ISSUE_COMMENTS = FetchSpec(
    path="/rest/api/2/issue/{parent_id}/comment", paging="page_bean", items_key="comments",
    params={"orderBy": "created"}, page_size=5000, skip_statuses=frozenset({404}),
)
ISSUE_WORKLOGS = FetchSpec(
    path="/rest/api/2/issue/{parent_id}/worklog", paging="page_bean", items_key="worklogs", page_size=5000,
    skip_statuses=frozenset({404}),
)


async def worklogs_bulk(client: JiraClient, endpoint: str, since_ms: int = 0) -> AsyncIterator[Page]:
    """Worklogs changed since `since_ms`: worklog/updated ids, then worklog/list 1000 ids a call."""
    ids: list[int] = []
    async for page in paging.since_until(client, "/rest/api/2/worklog/updated", {"since": since_ms}, endpoint=endpoint):
        ids.extend(int(v["worklogId"]) for v in page)
    chunks = [ids[i : i + WORKLOG_LIST_IDS] for i in range(0, len(ids), WORKLOG_LIST_IDS)]

    async def one_chunk(chunk: list[int]) -> AsyncIterator[Page]:
        worklogs = await client.post_json("/rest/api/2/worklog/list", json={"ids": chunk}, endpoint=endpoint)
        yield [(w, {"issue_id": str(w.get("issueId"))}) for w in worklogs or []]

    async for page in _fan_out(chunks, one_chunk, concurrency=4):
        yield page


async def deleted_worklog_ids(client: JiraClient, endpoint: str, since_ms: int, cursor: dict[str, int]) -> list[str]:
    """Ids of worklogs deleted since `since_ms` (worklog/deleted); raises `cursor["deleted"]` as it goes."""
    ids: list[str] = []
    async for page in paging.since_until(client, "/rest/api/2/worklog/deleted", {"since": since_ms}, endpoint=endpoint):
        ids.extend(str(v["worklogId"]) for v in page)
        cursor["deleted"] = max([cursor.get("deleted", 0), *(int(v["updatedTime"]) for v in page)])
    return ids


async def issue_ids(client: JiraClient, jql: str, endpoint: str) -> set[str]:
    """Every issue id the JQL matches: search/jql asking for ids only, which Jira serves 5000 a page."""
    ids: set[str] = set()
    body = {"jql": jql, "fields": ["id"], "maxResults": 5000}
    async for page in paging.cursor(client, "POST", "/rest/api/2/search/jql", body, items_key="issues",
                                    page_size=5000, endpoint=endpoint):
        ids.update(str(issue["id"]) for issue in page)
    return ids
