"""`jira-assets check`: are the credentials good, and which enabled endpoints can they read?

One cheap request per endpoint (the smallest page Jira allows), within the machine-wide throttle. Child endpoints
are probed on their first parent when one is at hand (a project, a board, a group); otherwise their parent's
verdict stands for them. Endpoints answering 401/403/404 are listed with the setting that turns them off.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

from jira_assets.assets import enabled_endpoints
from jira_assets.endpoints import BY_NAME, EndpointSpec
from jira_assets.jira.client import JiraClient, JiraError, check_credentials
from jira_assets.resources import JiraResource

# Paging styles whose endpoints accept maxResults=1 (a probe reads one record, not a page of 5000).
SMALL_PAGE = {"page_bean": "maxResults", "agile_page": "maxResults", "offset_limit": "limit",
              "short_page_array": "maxResults"}


@dataclass
class Probe:
    endpoint: str
    status: int | None
    readable: bool
    detail: str = ""


async def _first_id(client: JiraClient, spec: EndpointSpec) -> object | None:
    """One parent id for a child endpoint's probe: the first live project, public scrum board, group ..."""
    parent = BY_NAME[spec.parent.asset]
    if parent.parent is not None or parent.fetch.paging not in SMALL_PAGE or parent.name == "issue_search":
        return None
    params = {**parent.fetch.params, SMALL_PAGE[parent.fetch.paging]: 50}
    data = await client.get_json(parent.fetch.path, params=params, endpoint=parent.name)
    for record in data.get(parent.fetch.items_key or "values") or []:
        if all(_value(record, column) in allowed for column, allowed in spec.parent.where.items()):
            return record.get({"group_id": "groupId"}.get(spec.parent.id_column, spec.parent.id_column))
    return None


def _value(record: dict, column: str):
    return {"is_private": record.get("isPrivate"), "type": record.get("type"), "archived": record.get("archived"),
            "deleted": record.get("deleted")}.get(column, record.get(column))


async def probe(client: JiraClient, spec: EndpointSpec) -> Probe:
    fetch = spec.fetch
    try:
        if fetch.method == "POST" or fetch.paging in ("changelog_bulkfetch", "embedded_comments", "worklog_bulk"):
            # Issue endpoints: a one-issue search shows that issues are readable at all.
            await client.post_json("/rest/api/2/search/jql", json={"jql": 'updated >= "1970-01-01 00:00"',
                                                                   "fields": ["id"], "maxResults": 1},
                                   endpoint=spec.name)
            return Probe(spec.name, 200, True)
        params = dict(fetch.params)
        if fetch.paging in SMALL_PAGE:
            params[SMALL_PAGE[fetch.paging]] = 1
        path = fetch.path
        if spec.parent is not None:
            parent_id = await _first_id(client, spec)
            if parent_id is None:
                return Probe(spec.name, None, True, f"not probed: follows {spec.parent.asset}")
            path = path.format(parent_id=parent_id)
            params = {k: v.format(parent_id=parent_id) if isinstance(v, str) else v for k, v in params.items()}
        await client.get_json(path, params=params, endpoint=spec.name)
        return Probe(spec.name, 200, True)
    except JiraError as err:
        if err.status in (401, 403, 404):
            messages = "; ".join(err.error_messages) or err.reason or ""
            return Probe(spec.name, err.status, False, messages)
        raise


async def _check(resource: JiraResource, names: list[str]) -> int:
    async with resource.client() as client:
        result = await check_credentials(client)
        for line in result.lines():
            print(line)
        if not result.ok:
            return 1
        probes = [await probe(client, BY_NAME[name]) for name in names]
    print(f"\nEndpoints ({len(names)} enabled):")
    for p in probes:
        mark = "ok  " if p.readable else "FAIL"
        print(f"  {mark} {p.endpoint:24} {p.status or '-':>4}  {p.detail}")
    refused = [p for p in probes if not p.readable]
    if refused:
        names_off = ",".join(p.endpoint for p in refused)
        needs = {p.endpoint: BY_NAME[p.endpoint].needs or ("Jira admin rights" if BY_NAME[p.endpoint].admin_only
                                                             else "a permission or product") for p in refused}
        print(f"\n{len(refused)} endpoint(s) cannot be read with these credentials:")
        for name, need in needs.items():
            print(f"  {name}: needs {need}")
        print(f"Turn them off with:  export JIRA_ASSETS_EXCLUDE={names_off}")
        return 2
    print("\nAll enabled endpoints are readable.")
    return 0


def run_check() -> int:
    try:
        resource = JiraResource.from_env().process_config_and_initialize()  # resolves the EnvVars
        names = enabled_endpoints()
        resource.site_url  # validates the subdomain / base URL before any request
    except Exception as err:  # configuration errors are the user's to fix: say what, not a traceback
        print(f"FAILED: {err}", file=sys.stderr)
        return 1
    return asyncio.run(_check(resource, names))
