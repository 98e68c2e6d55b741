"""`jira-assets check`: are the credentials good, and which enabled endpoints can they read?

First what the credentials are (the kind of credential, where requests go: the site or the API gateway with the
site's cloudId, and for a service account when its access token expires), checked with GET /rest/api/2/myself.

One cheap request per endpoint (the smallest page Jira allows), within the machine-wide throttle. Child endpoints
are probed on their first parent when one is at hand (a project, a board, a group); otherwise their parent's
verdict stands for them. Endpoints answering 401/403/404 are listed with the setting that turns them off.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass

from jira_assets.defs.resources import JiraResource
from jira_assets.endpoints import BY_NAME
from jira_assets.jira import calls
from jira_assets.jira.client import JiraClient, JiraError, check_credentials
from jira_assets.jira.fetch import FetchSpec
from jira_assets.selection import EXCLUDE_ENV, descendants, enabled_endpoints
from jira_assets.spec import EndpointSpec
from jira_assets.sync.full_refresh import PERMISSION_NAMES

# A probe reads a few records, not a page of 5000: what it asks for where the paging style takes a page size.
PROBE_RECORDS = 1
PARENT_PROBE_RECORDS = 50


@dataclass
class Probe:
    endpoint: str
    status: int | None
    readable: bool
    detail: str = ""


def _small(fetch: FetchSpec, records: int, parent_id: object = None) -> tuple[str, dict]:
    request = fetch.request(parent_id)
    params = dict(request.params)
    if fetch.style.size_param:
        params[fetch.style.size_param] = records
    return request.path, params


async def _first_id(client: JiraClient, spec: EndpointSpec) -> object | None:
    """One parent id for a child endpoint's probe: the first live project, public scrum board, group ... (None when
    the parent is itself a child, or is not read with a GET)."""
    parent = BY_NAME[spec.parent.asset]
    if parent.parent is not None or parent.fetch.method != "GET" or not parent.fetch.style.size_param:
        return None
    path, params = _small(parent.fetch, PARENT_PROBE_RECORDS)
    data = await client.get_json(path, params=params, endpoint=parent.name)
    columns = {col.name: col.path for col in parent.columns}
    for record in data.get(parent.fetch.items_key or "values") or []:
        if all(_value(record, columns.get(column, column)) in allowed for column, allowed in spec.parent.where.items()):
            return _value(record, columns.get(spec.parent.id_column, spec.parent.id_column))
    return None


def _value(record: dict, path: str):
    value = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


async def probe(client: JiraClient, spec: EndpointSpec) -> Probe:
    try:
        if spec.probe is not None:
            fetch = spec.probe
            await client.request_json(fetch.method, fetch.path, json={**fetch.body, "maxResults": fetch.page_size},
                                      endpoint=spec.name)
            return Probe(spec.name, 200, True)
        if spec.fetch is None:
            return Probe(spec.name, None, True, f"not probed: read from {spec.source}")
        parent_id = None
        if spec.parent is not None:
            parent_id = await _first_id(client, spec)
            if parent_id is None:
                return Probe(spec.name, None, True, f"not probed: follows {spec.parent.asset}")
        path, params = _small(spec.fetch, PROBE_RECORDS, parent_id)
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
        # Some endpoints answer credentials without a permission with an empty page rather than 403: ask Jira
        # which of the permissions the enabled endpoints need these credentials lack.
        needed = sorted({BY_NAME[n].permission for n in names if BY_NAME[n].permission})
        missing = set(await calls.missing_permissions(client, needed, "my_permissions"))
    for p in probes:
        permission = BY_NAME[p.endpoint].permission
        if p.readable and permission in missing:
            label = PERMISSION_NAMES.get(permission, permission)
            p.readable, p.detail = False, f"these credentials lack {permission} ({label}): Jira answers with nothing"
    print(f"\nEndpoints ({len(names)} enabled):")
    for p in probes:
        mark = "ok  " if p.readable else "FAIL"
        print(f"  {mark} {p.endpoint:24} {p.status or '-':>4}  {p.detail}")
    refused = [p.endpoint for p in probes if not p.readable]
    if refused:
        print(f"\n{len(refused)} endpoint(s) cannot be read with these credentials:")
        for name in refused:
            print(f"  {name}: needs {_need(BY_NAME[name])}")
        # What is read through a refused endpoint goes too, so the suggested setting loads.
        off = [n for n in names if n in set(refused) | set(descendants(refused))]
        already = [w.strip() for w in os.environ.get(EXCLUDE_ENV, "").split(",") if w.strip()]
        print(f"Turn them off with:  export {EXCLUDE_ENV}={','.join(dict.fromkeys([*already, *off]))}")
        return 2
    print("\nAll enabled endpoints are readable.")
    return 0


def _need(spec: EndpointSpec) -> str:
    if spec.permission:
        return f"the {spec.permission} permission ({PERMISSION_NAMES.get(spec.permission, spec.permission)})" + (
            f" and {spec.needs}" if spec.needs else "")
    return spec.needs or ("Jira admin rights" if spec.admin_only else "a permission or product")


def run_check(defs_files: list[str] | None = None) -> int:
    if defs_files:
        return _check_component_sites(defs_files)
    from jira_assets.defs.definitions import settings_problems

    problems = settings_problems()
    if problems:  # configuration errors are the user's to fix: say what, not a traceback
        for line in problems:
            print(f"FAILED: {line}", file=sys.stderr)
        return 1
    resource = JiraResource.from_env().process_config_and_initialize()  # resolves the EnvVars
    return asyncio.run(_check(resource, enabled_endpoints()))


def _check_component_sites(defs_files: list[str]) -> int:
    """Every site of every given component instance, one after the other; the worst exit status wins."""
    import yaml

    from jira_assets.defs.component import JiraComponent

    worst = 0
    for path in defs_files:
        try:
            document = yaml.safe_load(open(path, encoding="utf-8"))
            component = JiraComponent.model_validate((document or {}).get("attributes") or {})
        except (OSError, yaml.YAMLError, ValueError) as err:
            print(f"FAILED: {path}: {str(err).splitlines()[0]}", file=sys.stderr)
            worst = max(worst, 1)
            continue
        names = component.endpoint_names()
        for site in component.sites:
            print(f"== {path}: site {site.name}")
            problems = site.problems()
            if problems:
                for line in problems:
                    print(f"FAILED: site {site.name}: {line}", file=sys.stderr)
                worst = max(worst, 1)
                continue
            worst = max(worst, asyncio.run(_check(site.resource().process_config_and_initialize(), names)))
    return worst
