"""One small async generator per Jira paging style. Each yields pages (lists of records).

All of them ask for the largest page Jira allows (and read back the `maxResults` Jira actually used), stop on an
empty page, and raise `PagingError` on a repeated offset, token or page instead of looping forever.

`skip_statuses`: statuses that mean "Jira refuses this parent by design" (kanban board sprints 400, private
board 404, time tracking disabled 404). On those the pager yields nothing more, and the skip is counted in
`client.stats.skipped_parents` with its reason in `client.stats.skip_reasons` - never silently dropped.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jira_assets.jira.client import JiraClient, JiraError

logger = logging.getLogger(__name__)

Page = list[Any]

# Largest page sizes to ask for; Jira clamps silently where its cap is lower (and says so in `maxResults`).
PAGE_BEAN_SIZE = 1000
AGILE_PAGE_SIZE = 50
CURSOR_PAGE_SIZE = 5000
OFFSET_LIMIT_SIZE = 1000
SHORT_PAGE_SIZE = 1000


class PagingError(RuntimeError):
    """Jira's paging went wrong in a way that would loop or lose data (repeated token/offset/page)."""


_SKIPPED = object()


async def _fetch(
    client: JiraClient,
    method: str,
    path: str,
    *,
    endpoint: str,
    params: Mapping[str, Any] | None = None,
    body: Any = None,
    skip_statuses: Collection[int] = (),
    expect: Any = None,
) -> Any:
    try:
        return await client.request_json(method, path, params=params, json=body, endpoint=endpoint, expect=expect)
    except JiraError as err:
        if err.status is not None and err.status in skip_statuses:
            message = "; ".join(err.error_messages) or err.reason or ""
            client.stats.record_skip(endpoint, method, path, err.status, message)
            logger.info("%s: skipped %s %s: HTTP %s %s", endpoint, method, path, err.status, message)
            return _SKIPPED
        raise


def _has_list(key: str):
    return lambda body: isinstance(body, dict) and isinstance(body.get(key), list)


def _int(value: Any, default: int | None = None) -> int | None:
    # Several Jira list endpoints send startAt/maxResults/total as strings.
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


async def _start_at_pages(
    client: JiraClient, path: str, params: Mapping[str, Any] | None, *, endpoint: str, page_size: int,
    values_key: str, skip_statuses: Collection[int],
) -> AsyncIterator[Page]:
    """startAt/maxResults paging shared by PageBean and Agile pages."""
    base = dict(params or {})
    start = _int(base.pop("startAt", 0), 0)
    seen: set[int] = set()
    previous: Page | None = None
    while True:
        if start in seen:
            raise PagingError(f"{endpoint}: Jira returned startAt={start} again for {path}; stopping instead of looping")
        seen.add(start)
        data = await _fetch(
            client, "GET", path, endpoint=endpoint, params={**base, "startAt": start, "maxResults": page_size},
            skip_statuses=skip_statuses, expect=_has_list(values_key),
        )
        if data is _SKIPPED:
            return
        values = data[values_key]
        if not values:
            return
        got_start = _int(data.get("startAt"), start)
        following = got_start + len(values)
        if following in seen:
            raise PagingError(
                f"{endpoint}: asked {path} for startAt={start}, Jira answered startAt={got_start}, so the next "
                f"request would repeat startAt={following}; stopping instead of looping"
            )
        if previous is not None and values == previous:
            raise PagingError(f"{endpoint}: {path} returned the same page for startAt={start}; stopping")
        yield values
        previous = values
        is_last = data.get("isLast")
        if is_last is True:
            return
        if is_last is None:
            total = _int(data.get("total"))
            if total is not None:
                if following >= total:
                    return
            else:
                max_results = _int(data.get("maxResults"))
                if max_results is not None and len(values) < max_results:
                    return
        start = following


def page_bean(
    client: JiraClient, path: str, params: Mapping[str, Any] | None = None, *, endpoint: str,
    page_size: int | None = None, values_key: str = "values", skip_statuses: Collection[int] = (),
) -> AsyncIterator[Page]:
    """PageBean `{startAt, maxResults, total, isLast, values}`; also PageOfComments/PageOfDashboards (no isLast)
    via `values_key="comments"`/`"dashboards"`: stops on isLast, on startAt+len >= total, or on an empty page."""
    return _start_at_pages(client, path, params, endpoint=endpoint, page_size=page_size or PAGE_BEAN_SIZE,
                           values_key=values_key, skip_statuses=skip_statuses)


def agile_page(
    client: JiraClient, path: str, params: Mapping[str, Any] | None = None, *, endpoint: str,
    page_size: int | None = None, values_key: str = "values", skip_statuses: Collection[int] = (),
) -> AsyncIterator[Page]:
    """Agile `{startAt, maxResults, total, isLast, values}` (boards, sprints: Jira caps these at 50)."""
    return _start_at_pages(client, path, params, endpoint=endpoint, page_size=page_size or AGILE_PAGE_SIZE,
                           values_key=values_key, skip_statuses=skip_statuses)


async def cursor(
    client: JiraClient, method: str, path: str, params_or_body: Mapping[str, Any] | None = None, *,
    endpoint: str, items_key: str | None = "issues", page_size: int | None = None,
    skip_statuses: Collection[int] = (),
) -> AsyncIterator[Page]:
    """`nextPageToken` cursor (search/jql, changelog/bulkfetch, /rest/software/1.0 board and sprint issues).

    GET sends the token and maxResults as query parameters, POST in the JSON body. Stops when isLast is true,
    when the token is missing or null, or on an empty page; raises on a token seen before.
    """
    method = method.upper()
    key = items_key or "issues"
    base = dict(params_or_body or {})
    base.pop("nextPageToken", None)
    base["maxResults"] = page_size or base.get("maxResults") or CURSOR_PAGE_SIZE
    token: str | None = None
    seen: set[str] = set()
    while True:
        request = dict(base)
        if token is not None:
            request["nextPageToken"] = token
        if method == "GET":
            data = await _fetch(client, method, path, endpoint=endpoint, params=request,
                                skip_statuses=skip_statuses, expect=_has_list(key))
        else:
            data = await _fetch(client, method, path, endpoint=endpoint, body=request,
                                skip_statuses=skip_statuses, expect=_has_list(key))
        if data is _SKIPPED:
            return
        items = data[key]
        if not items:
            return
        yield items
        following = data.get("nextPageToken")
        if data.get("isLast") is True or not following:
            return
        if following in seen or following == token:
            raise PagingError(
                f"{endpoint}: Jira returned the same nextPageToken twice for {method} {path}; stopping instead of looping"
            )
        seen.add(following)
        token = following


async def offset_limit(
    client: JiraClient, path: str, params: Mapping[str, Any] | None = None, *, endpoint: str,
    items_key: str = "records", page_size: int | None = None, skip_statuses: Collection[int] = (),
) -> AsyncIterator[Page]:
    """`{offset, limit, total, records}` (audit records)."""
    base = dict(params or {})
    offset = _int(base.pop("offset", 0), 0)
    limit = page_size or OFFSET_LIMIT_SIZE
    seen: set[int] = set()
    while True:
        if offset in seen:
            raise PagingError(f"{endpoint}: Jira returned offset={offset} again for {path}; stopping instead of looping")
        seen.add(offset)
        data = await _fetch(client, "GET", path, endpoint=endpoint, params={**base, "offset": offset, "limit": limit},
                            skip_statuses=skip_statuses, expect=_has_list(items_key))
        if data is _SKIPPED:
            return
        items = data[items_key]
        if not items:
            return
        yield items
        got = _int(data.get("offset"), offset)
        following = got + len(items)
        total = _int(data.get("total"))
        if total is not None and following >= total:
            return
        used_limit = _int(data.get("limit"), limit)
        if total is None and used_limit and len(items) < used_limit:
            return
        offset = following


async def plain_array(
    client: JiraClient, path: str, params: Mapping[str, Any] | None = None, *, endpoint: str,
    skip_statuses: Collection[int] = (),
) -> AsyncIterator[Page]:
    """One request answering a bare JSON array (fields, statuses, filter/my, ...)."""
    data = await _fetch(client, "GET", path, endpoint=endpoint, params=params, skip_statuses=skip_statuses,
                        expect=list)
    if data is not _SKIPPED and data:
        yield data


async def short_page_array(
    client: JiraClient, path: str, params: Mapping[str, Any] | None = None, *, endpoint: str,
    page_size: int | None = None, skip_statuses: Collection[int] = (),
) -> AsyncIterator[Page]:
    """Bare arrays paged with startAt/maxResults until a page shorter than asked for (users/search)."""
    base = dict(params or {})
    start = _int(base.pop("startAt", 0), 0)
    size = page_size or SHORT_PAGE_SIZE
    previous: Page | None = None
    while True:
        data = await _fetch(client, "GET", path, endpoint=endpoint, params={**base, "startAt": start, "maxResults": size},
                            skip_statuses=skip_statuses, expect=list)
        if data is _SKIPPED or not data:
            return
        if previous is not None and data == previous:
            raise PagingError(f"{endpoint}: {path} returned the same page for startAt={start}; stopping instead of looping")
        yield data
        if len(data) < size:
            return
        previous = data
        start += len(data)


async def since_until(
    client: JiraClient, path: str, params: Mapping[str, Any] | None = None, *, endpoint: str,
    skip_statuses: Collection[int] = (),
) -> AsyncIterator[Page]:
    """worklog/updated and worklog/deleted: `{values, since, until, nextPage, lastPage}`, following `since`."""
    base = dict(params or {})
    since = _int(base.pop("since", 0), 0)
    seen: set[int] = set()
    while True:
        if since in seen:
            raise PagingError(f"{endpoint}: Jira returned since={since} again for {path}; stopping instead of looping")
        seen.add(since)
        data = await _fetch(client, "GET", path, endpoint=endpoint, params={**base, "since": since},
                            skip_statuses=skip_statuses, expect=_has_list("values"))
        if data is _SKIPPED:
            return
        values = data["values"]
        if not values:
            return
        yield values
        if data.get("lastPage") is True:
            return
        following = _since_from(data.get("nextPage"))
        if following is None:
            following = _int(data.get("until"))
        if following is None:
            raise PagingError(f"{endpoint}: {path} said lastPage=false but gave neither nextPage nor until")
        since = following


def _since_from(next_page: Any) -> int | None:
    if not isinstance(next_page, str) or not next_page:
        return None
    values = parse_qs(urlsplit(next_page).query).get("since")
    return _int(values[0]) if values else None


async def wrapper(
    client: JiraClient, path: str, params: Mapping[str, Any] | None = None, *, endpoint: str,
    items_key: str | None = None, skip_statuses: Collection[int] = (),
) -> AsyncIterator[Page]:
    """One request answering `{items_key: [...]}` (issueLinkTypes, issueSecuritySchemes, permissionSchemes)."""
    if not items_key:
        raise ValueError(f"{endpoint}: wrapper paging needs items_key")
    data = await _fetch(client, "GET", path, endpoint=endpoint, params=params, skip_statuses=skip_statuses,
                        expect=_has_list(items_key))
    if data is not _SKIPPED and data[items_key]:
        yield data[items_key]


async def single(
    client: JiraClient, path: str, params: Mapping[str, Any] | None = None, *, endpoint: str,
    skip_statuses: Collection[int] = (),
) -> AsyncIterator[Page]:
    """One request answering one object (myself, serverInfo, board configuration): yields `[object]`."""
    data = await _fetch(client, "GET", path, endpoint=endpoint, params=params, skip_statuses=skip_statuses,
                        expect=dict)
    if data is not _SKIPPED:
        yield [data]


# ---- paging styles: one class each, in one lookup table --------------------------------------------------------
# The catalogue names an endpoint's style; the fetcher pages with it, `jira-assets check` probes with its smallest
# page, and the tests' request plan counts pages with it.


@dataclass(frozen=True)
class PageRequest:
    """One endpoint's request as the catalogue describes it, with the parent id already in path and params."""

    method: str
    path: str
    params: Mapping[str, Any]
    body: Mapping[str, Any]
    items_key: str | None
    page_size: int | None


class PagingStyle:
    """How Jira pages one kind of list. `pages` yields lists of records; `size_param` is the parameter that sets
    the page size (None: the response is not paged); `requests_for` is how many requests `records` records take
    when the server caps a page at `cap`."""

    name: str = ""
    size_param: str | None = None

    def pages(self, client: JiraClient, request: PageRequest, *, endpoint: str,
              skip_statuses: Collection[int] = ()) -> AsyncIterator[Page]:
        raise NotImplementedError

    def requests_for(self, records: int, cap: int | None) -> int:
        if self.size_param is None or not cap:
            return 1
        return max(1, -(-records // cap))


class Single(PagingStyle):
    name = "single"

    def pages(self, client, request, *, endpoint, skip_statuses=()):
        return single(client, request.path, request.params, endpoint=endpoint, skip_statuses=skip_statuses)


class PlainArray(PagingStyle):
    name = "plain_array"

    def pages(self, client, request, *, endpoint, skip_statuses=()):
        return plain_array(client, request.path, request.params, endpoint=endpoint, skip_statuses=skip_statuses)


class Wrapper(PagingStyle):
    name = "wrapper"

    def pages(self, client, request, *, endpoint, skip_statuses=()):
        return wrapper(client, request.path, request.params, endpoint=endpoint, items_key=request.items_key,
                       skip_statuses=skip_statuses)


class MapValues(PagingStyle):
    """One object whose `items_key` maps keys to records (my_permissions: `{"permissions": {KEY: {...}}}`)."""

    name = "map_values"

    async def pages(self, client, request, *, endpoint, skip_statuses=()):
        async for objects in single(client, request.path, request.params, endpoint=endpoint,
                                    skip_statuses=skip_statuses):
            for obj in objects:
                yield list((obj.get(request.items_key or "permissions") or {}).values())


class PageBeanStyle(PagingStyle):
    name = "page_bean"
    size_param = "maxResults"

    def pages(self, client, request, *, endpoint, skip_statuses=()):
        return page_bean(client, request.path, request.params, endpoint=endpoint, page_size=request.page_size,
                         values_key=request.items_key or "values", skip_statuses=skip_statuses)


class AgilePage(PagingStyle):
    name = "agile_page"
    size_param = "maxResults"

    def pages(self, client, request, *, endpoint, skip_statuses=()):
        return agile_page(client, request.path, request.params, endpoint=endpoint, page_size=request.page_size,
                          skip_statuses=skip_statuses)


class Cursor(PagingStyle):
    name = "cursor"
    size_param = "maxResults"

    def pages(self, client, request, *, endpoint, skip_statuses=()):
        params_or_body = request.body if request.method == "POST" else request.params
        return cursor(client, request.method, request.path, params_or_body, endpoint=endpoint,
                      items_key=request.items_key, page_size=request.page_size, skip_statuses=skip_statuses)


class OffsetLimit(PagingStyle):
    name = "offset_limit"
    size_param = "limit"

    def pages(self, client, request, *, endpoint, skip_statuses=()):
        return offset_limit(client, request.path, request.params, endpoint=endpoint,
                            items_key=request.items_key or "records", page_size=request.page_size,
                            skip_statuses=skip_statuses)


class ShortPageArray(PagingStyle):
    name = "short_page_array"
    size_param = "maxResults"

    def pages(self, client, request, *, endpoint, skip_statuses=()):
        return short_page_array(client, request.path, request.params, endpoint=endpoint,
                                page_size=request.page_size, skip_statuses=skip_statuses)

    def requests_for(self, records: int, cap: int | None) -> int:
        # Only a page shorter than asked for ends the list, so a full last page costs one more (empty) request.
        return records // cap + 1 if cap else 1


class SinceUntil(PagingStyle):
    name = "since_until"

    def pages(self, client, request, *, endpoint, skip_statuses=()):
        return since_until(client, request.path, request.params, endpoint=endpoint, skip_statuses=skip_statuses)

    def requests_for(self, records: int, cap: int | None) -> int:
        return max(1, -(-records // cap)) if cap else 1


PAGING_STYLES: dict[str, PagingStyle] = {
    style.name: style
    for style in (Single(), PlainArray(), Wrapper(), MapValues(), PageBeanStyle(), AgilePage(), Cursor(),
                  OffsetLimit(), ShortPageArray(), SinceUntil())
}


def paging_style(name: str) -> PagingStyle:
    try:
        return PAGING_STYLES[name]
    except KeyError:
        raise ValueError(f"unknown paging style {name!r}; known: {', '.join(PAGING_STYLES)}") from None
