"""The few single Jira calls the sync strategies and operations need beyond listing an endpoint.

Source side only: plain async functions over a `JiraClient`.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jira_assets.jira import paging
from jira_assets.jira.client import JiraClient

MYSELF_PATH = "/rest/api/2/myself"
SEARCH_PATH = "/rest/api/2/search/jql"
APPROXIMATE_COUNT_PATH = "/rest/api/2/search/approximate-count"
ID_PAGE = 5000  # search/jql serves 5000 issues a page when only ids are asked for


async def account_time_zone(client: JiraClient, endpoint: str) -> ZoneInfo:
    """The zone Jira reads JQL dates in: the account's (GET /myself), UTC when privacy settings hide it.

    The request also validates the credentials before anything else is asked."""
    me = await client.get_json(MYSELF_PATH, endpoint=endpoint)
    try:
        return ZoneInfo(me.get("timeZone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


async def approximate_count(client: JiraClient, jql: str, endpoint: str) -> int:
    """POST search/approximate-count: one cheap request, `{"count": N}`."""
    body = await client.post_json(APPROXIMATE_COUNT_PATH, json={"jql": jql}, endpoint=endpoint,
                                  expect=lambda b: isinstance(b, dict) and isinstance(b.get("count"), int))
    return int(body["count"])


async def issue_ids(client: JiraClient, jql: str, endpoint: str) -> set[str]:
    """Every issue id the JQL matches: search/jql asking for ids only."""
    ids: set[str] = set()
    body = {"jql": jql, "fields": ["id"], "maxResults": ID_PAGE}
    async for page in paging.cursor(client, "POST", SEARCH_PATH, body, items_key="issues", page_size=ID_PAGE,
                                    endpoint=endpoint):
        ids.update(str(issue["id"]) for issue in page)
    return ids


MY_PERMISSIONS_PATH = "/rest/api/2/mypermissions"


async def missing_permissions(client: JiraClient, keys: list[str], endpoint: str) -> list[str]:
    """Which of the global permission `keys` these credentials lack (GET mypermissions)."""
    if not keys:
        return []
    body = await client.get_json(MY_PERMISSIONS_PATH, params={"permissions": ",".join(keys)}, endpoint=endpoint,
                                 expect=lambda b: isinstance(b, dict) and isinstance(b.get("permissions"), dict))
    held = body["permissions"]
    return [key for key in keys if not (held.get(key) or {}).get("havePermission")]
