"""HTTP helpers shared by every route module: Jira's error bodies, JSON responses, parameter parsing, page beans,
nextPageToken cursors, and the `fields` grammar with the page caps it implies."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from .tenant import AGILE_FIELDS

if TYPE_CHECKING:
    from .app import Simulator
    from .tenant import Tenant

V2 = "/rest/api/2"
AG = "/rest/agile/1.0"
SW = "/rest/software/1.0"
JSON_TYPE = "application/json;charset=UTF-8"
EMAIL = "demo@example.com"
TOKEN = "demo-token"
UNAUTHENTICATED = "Client must be authenticated to access this resource."
ADMIN_403 = "You are not authorized to perform this action. Administrator privileges are required."
BAD_TOKEN = "Invalid format of nextPageToken"
HEAVY_EXPAND = {"changelog", "renderedFields", "transitions", "editmeta", "operations", "versionedRepresentations"}

DEAD_LINK_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Oops, you&#39;ve found a dead link. - Jira</title>
</head>
<body id="jira" class="aui-layout aui-style-default page-type-message">
<div id="page"><section id="content" role="main">
<div class="aui-page-panel"><div class="aui-page-panel-inner"><section class="aui-page-panel-content">
<div class="aui-message aui-message-warning warning">
<h1>Oops, you&#39;ve found a dead link.</h1>
<p>Go back to the previous page, or visit the <a href="/secure/Dashboard.jspa">dashboard</a>.</p>
</div>
</section></div></div>
</section></div>
</body>
</html>
"""


class HttpError(Exception):
    """Answered as Jira's ErrorCollection `{"errorMessages", "errors"}` with this status."""

    def __init__(self, status: int, messages: list[str] | None = None, errors: dict | None = None):
        self.status = status
        self.messages = messages or []
        self.errors = errors or {}


class DeadLink(Exception):
    """Answered as Jira's HTML dead-link 404 page (an API the site does not have)."""


def sim_of(request: Request) -> "Simulator":
    """The Simulator behind this request (build_app puts it on the Starlette app's state)."""
    return request.app.state.sim


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def js(obj: Any, status: int = 200) -> Response:
    return Response(dumps(obj), status_code=status, media_type=JSON_TYPE)


def error_response(status: int, messages: list[str], errors: dict | None = None) -> Response:
    return js({"errorMessages": messages, "errors": errors or {}}, status)


def dead_link() -> Response:
    return Response(DEAD_LINK_HTML, status_code=404, media_type="text/html;charset=UTF-8")


def require_admin(t: "Tenant") -> None:
    if not t.admin:
        raise HttpError(403, [ADMIN_403])


# ---- parameters ------------------------------------------------------------------------------------------------

def multi(request: Request, name: str) -> list[str]:
    """A list parameter that Jira accepts comma-separated and/or repeated."""
    out: list[str] = []
    for v in request.query_params.getlist(name):
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def int_param(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise HttpError(400, [f"The '{name}' parameter must be a number."]) from None


def bool_param(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"


async def body_json(request: Request) -> dict:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise HttpError(400, ["Unexpected character in the request body: it is not valid JSON."]) from None
    if not isinstance(data, dict):
        raise HttpError(400, ["The request body must be a JSON object."])
    return data


# ---- paging ----------------------------------------------------------------------------------------------------

def site_url(request: Request, path: str, params: dict[str, Any]) -> str:
    """An absolute link on the simulated site (page beans' `self`/`nextPage`); None-valued params are left out."""
    base = sim_of(request).t.base
    q = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{base}{path}?{q}" if q else f"{base}{path}"


def paging(request: Request, default: int, cap: int) -> tuple[int, int]:
    qp = request.query_params
    start = max(0, int_param(qp.get("startAt"), "startAt", 0))
    mr = int_param(qp.get("maxResults"), "maxResults", default)
    if mr <= 0:
        mr = default
    return start, min(mr, cap)


def page_bean(request: Request, items: list, render: Callable[[Any], Any], *, default: int = 50,
              cap: int = 50, extra_params: dict | None = None, agile: bool = False,
              total: bool = True) -> dict:
    """A startAt page: Jira's PageBean (`self`, `nextPage`, ...), or with agile=True the Agile API's page."""
    start, mr = paging(request, default, cap)
    chunk = items[start: start + mr]
    is_last = start + len(chunk) >= len(items)
    params = dict(extra_params or {})
    if agile:
        out: dict[str, Any] = {"maxResults": mr, "startAt": start}
        if total:
            out["total"] = len(items)
        out["isLast"] = is_last
        out["values"] = [render(x) for x in chunk]
        return out
    path = request.url.path
    out = {"self": site_url(request, path, {**params, "startAt": start, "maxResults": mr})}
    if not is_last:
        out["nextPage"] = site_url(request, path, {**params, "startAt": start + mr, "maxResults": mr})
    out.update({"maxResults": mr, "startAt": start, "total": len(items), "isLast": is_last,
                "values": [render(x) for x in chunk]})
    return out


def encode_token(offset: int, sig: str) -> str:
    return base64.urlsafe_b64encode(f"{offset}:{sig}".encode()).decode().rstrip("=")


def decode_token(token: str | None, sig: str) -> int:
    """The offset a nextPageToken carries; 400 if it is malformed or was issued for another query (`sig`)."""
    if token is None or token == "":
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        off, s = raw.split(":", 1)
        offset = int(off)
    except Exception:
        raise HttpError(400, [BAD_TOKEN]) from None
    if s != sig or offset < 0:
        raise HttpError(400, [BAD_TOKEN])
    return offset


# ---- fields and the page caps they imply -------------------------------------------------------------------------

def parse_fields(t: "Tenant", tokens: list[str], default: list[str], *,
                 agile: bool = False) -> tuple[list[str], int]:
    """Jira's `fields` grammar -> (field ids, named-field count; -1 for *all/*navigable); `*all` and `*navigable`
    are the tenant's system fields and every custom field of its catalogue."""
    toks = [x.strip() for tok in tokens for x in str(tok).split(",") if x.strip()]
    if not toks:
        toks = default
    out: list[str] = []
    excl: set[str] = set()
    weight = 0
    for x in toks:
        if x == "*all":
            out.extend(t.all_fields + (AGILE_FIELDS if agile else []))
            weight = -1
        elif x == "*navigable":
            out.extend(t.navigable + (AGILE_FIELDS if agile else []))
            weight = -1
        elif x.startswith("-"):
            excl.add(x[1:])
        elif x in ("id", "key", "*none"):
            continue
        else:
            out.append(x)
            if weight >= 0:
                weight += 1
    seen: dict[str, None] = {}
    for f in out:
        if f not in excl:
            seen.setdefault(f, None)
    return list(seen), weight


def page_cap(weight: int, expand: set[str], hard: int = 5000) -> int:
    if weight < 0 or expand & HEAVY_EXPAND:
        return min(100, hard)
    if weight == 0:
        return hard
    return min(1000, hard) if weight <= 10 else min(100, hard)
