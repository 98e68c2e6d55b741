"""Fetch the pages a declarative FetchSpec describes, with the paging style it names.

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

@dataclass(frozen=True)
class FetchSpec:
    """How one endpoint is requested. `path` may hold `{parent_id}` for child endpoints."""

    path: str
    paging: str  # a name in paging.PAGING_STYLES
    method: str = "GET"
    params: Mapping[str, Any] = field(default_factory=dict)
    body: Mapping[str, Any] = field(default_factory=dict)
    items_key: str | None = None
    page_size: int | None = None
    # Statuses that mean "Jira refuses this parent by design" (kanban sprints 400, private board 404):
    # counted and reported as skipped parents, never raised and never silently swallowed.
    skip_statuses: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        paging.paging_style(self.paging)  # an unknown style is a catalogue error, raised at import

    @property
    def style(self) -> paging.PagingStyle:
        return paging.paging_style(self.paging)

    def request(self, parent_id: Any = None) -> paging.PageRequest:
        """The request for one parent (or for the root list): `{parent_id}` filled in path and params."""
        path, params = self.path, dict(self.params)
        if parent_id is not None:
            path = path.format(parent_id=parent_id)
            params = {k: v.format(parent_id=parent_id) if isinstance(v, str) else v for k, v in params.items()}
        return paging.PageRequest(self.method, path, params, dict(self.body), self.items_key, self.page_size)

    def pages(self, client: JiraClient, endpoint: str, parent_id: Any = None) -> AsyncIterator[list[Record]]:
        return self.style.pages(client, self.request(parent_id), endpoint=endpoint, skip_statuses=self.skip_statuses)


@dataclass(frozen=True)
class ParentRef:
    """One parent the child endpoint is fetched for: the id put into the path, and the keys stored on rows."""

    path_id: Any
    keys: dict[str, Any]


async def fetch_pages(
    client: JiraClient, spec: FetchSpec, endpoint: str, parents: Sequence[ParentRef] | None = None
) -> AsyncIterator[Page]:
    """All records of one endpoint, page by page. With parents, fetch each parent's pages concurrently."""
    if parents is None:
        async for page in spec.pages(client, endpoint):
            yield [(r, {}) for r in page]
        return
    async for page in fan_out(parents, lambda p: _child_pages(client, spec, endpoint, p)):
        yield page


async def _child_pages(client: JiraClient, spec: FetchSpec, endpoint: str, parent: ParentRef) -> AsyncIterator[Page]:
    # The parent id goes into the path ({parent_id}) or into a query parameter (group/member?groupId=...).
    async for page in spec.pages(client, endpoint, parent.path_id):
        yield [(r, dict(parent.keys)) for r in page]


async def fan_out(items: Iterable[Any], make_pages, concurrency: int = PARENT_CONCURRENCY) -> AsyncIterator[Page]:
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
