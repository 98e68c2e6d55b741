"""Bulk reads that take far fewer requests than one per issue.

Source side only. Each yields pages of `(record, {"issue_id": ...})` pairs like `fetch.fetch_pages`.

- Changelogs: `POST changelog/bulkfetch`, up to 1000 issues a call, cursor-paged up to 10000 histories a page.
- Comments and worklogs: the page Jira embeds in each issue of a search (`fields.comment`, `fields.worklog`),
  complete unless its `total` says it was truncated (search embeds at most 20); only truncated issues are fetched
  one by one.
- Worklogs of a whole site: `GET worklog/updated` lists every worklog id, `POST worklog/list` reads 1000 a call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

from jira_assets.jira import paging
from jira_assets.jira.client import JiraClient
from jira_assets.jira.fetch import FetchSpec, Page, ParentRef, fan_out, fetch_pages

# Jira's limits for the bulk endpoints (docs/jira-api.md).
CHANGELOG_BULK_ISSUES = 1000
WORKLOG_LIST_IDS = 1000
WORKLOG_UPDATED_PATH = "/rest/api/2/worklog/updated"
WORKLOG_DELETED_PATH = "/rest/api/2/worklog/deleted"
WORKLOG_LIST_PATH = "/rest/api/2/worklog/list"
# Bulk calls in flight at once; the throttle, not this, bounds the rate.
BULK_CONCURRENCY = 4


async def changelog_bulkfetch(client: JiraClient, fetch: FetchSpec, issue_ids: Sequence[str],
                              endpoint: str) -> AsyncIterator[Page]:
    """Changelog histories of many issues: `fetch` is the catalogue's bulkfetch request (path, page size)."""
    chunks = [list(issue_ids[i: i + CHANGELOG_BULK_ISSUES]) for i in range(0, len(issue_ids), CHANGELOG_BULK_ISSUES)]

    async def one_chunk(chunk: list[str]) -> AsyncIterator[Page]:
        body = {**fetch.body, "issueIdsOrKeys": chunk, "maxResults": fetch.page_size}
        async for page in paging.cursor(client, fetch.method, fetch.path, body, items_key=fetch.items_key,
                                        page_size=fetch.page_size, endpoint=endpoint):
            rows: Page = []
            for entry in page:
                issue_id = str(entry.get("issueId"))
                rows.extend((history, {"issue_id": issue_id}) for history in entry.get("changeHistories") or [])
            yield rows

    async for page in fan_out(chunks, one_chunk, concurrency=BULK_CONCURRENCY):
        yield page


async def embedded_or_fetched(
    client: JiraClient, embedded: Iterable[tuple[str, Mapping[str, Any] | None]], endpoint: str, *,
    items_key: str, per_issue: FetchSpec,
) -> AsyncIterator[Page]:
    """Comments or worklogs of many issues: taken from the page Jira embeds in each issue when it is complete,
    fetched per issue (`per_issue`) only where `total` says it was truncated.

    `embedded` yields (issue id, embedded page) pairs as issue_search stored them.
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
        async for page in fetch_pages(client, per_issue, endpoint, parents):
            yield page


async def worklogs_bulk(client: JiraClient, endpoint: str, since_ms: int = 0) -> AsyncIterator[Page]:
    """Worklogs changed since `since_ms`: worklog/updated ids, then worklog/list 1000 ids a call."""
    ids: list[int] = []
    async for page in paging.since_until(client, WORKLOG_UPDATED_PATH, {"since": since_ms}, endpoint=endpoint):
        ids.extend(int(v["worklogId"]) for v in page)
    chunks = [ids[i: i + WORKLOG_LIST_IDS] for i in range(0, len(ids), WORKLOG_LIST_IDS)]

    async def one_chunk(chunk: list[int]) -> AsyncIterator[Page]:
        worklogs = await client.post_json(WORKLOG_LIST_PATH, json={"ids": chunk}, endpoint=endpoint)
        yield [(w, {"issue_id": str(w.get("issueId"))}) for w in worklogs or []]

    async for page in fan_out(chunks, one_chunk, concurrency=BULK_CONCURRENCY):
        yield page


async def worklog_issues(client: JiraClient, worklog_ids: Sequence[int], endpoint: str) -> dict[int, str]:
    """worklog id -> its issue's id, from worklog/list (1000 ids a call)."""
    out: dict[int, str] = {}
    for i in range(0, len(worklog_ids), WORKLOG_LIST_IDS):
        worklogs = await client.post_json(WORKLOG_LIST_PATH, json={"ids": list(worklog_ids[i: i + WORKLOG_LIST_IDS])},
                                          endpoint=endpoint)
        out.update({int(w["id"]): str(w.get("issueId")) for w in worklogs or []})
    return out


async def deleted_worklog_ids(client: JiraClient, endpoint: str, since_ms: int, cursor: dict[str, int]) -> list[str]:
    """Ids of worklogs deleted since `since_ms` (worklog/deleted); raises `cursor["deleted"]` as it goes."""
    ids: list[str] = []
    async for page in paging.since_until(client, WORKLOG_DELETED_PATH, {"since": since_ms}, endpoint=endpoint):
        ids.extend(str(v["worklogId"]) for v in page)
        cursor["deleted"] = max([cursor.get("deleted", 0), *(int(v["updatedTime"]) for v in page)])
    return ids
