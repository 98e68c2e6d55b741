"""The rest of Jira's read surface, answered generically from Atlassian's OpenAPI specs.

The hand-written routes (routes/) answer what the tenant models. Every other GET path of the platform v2 and Jira
Software specs is answered here, once no hand-written route matched (the app's 404 handler asks this router before
it answers the dead-link page), with a body valid against the spec's 200 schema:

- a page (`values` with `startAt`/`total`/`isLast`, or a cursor page) is an empty page, a bare array is `[]`;
- any other object is the spec's own example for the operation, conformed to the schema (properties the schema
  does not allow are dropped, missing required ones filled in, wrong types replaced) with the example's
  `https://your-domain.atlassian.net` turned into the tenant's base URL; without an example, a minimal valid
  object (required properties only);
- avatar images (`universal_avatar/view/...`) are a small SVG.

Path parameters are checked against the tenant first: an object the tenant models that does not exist (an unknown
issue key, project, board ...) answers Jira's 404 ErrorCollection, and so does every object the tenant has none of
(attachments, plans, entity properties, dev-info ids ...): a simulator must not invent them. Operations that need the
*Administer Jira* global permission alone answer 403 with `--non-admin`, as the hand-written admin endpoints do.

The spec files live outside the repository: they are read from `<repo>/../shared/jira-openapi` (platform-v2.json,
software.json) when the app is built. When they are absent the simulator starts all the same and serves everything
hand-written; other paths then get the dead-link page, as before.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from .http import ADMIN_403, HttpError, error_response, js, sim_of

if TYPE_CHECKING:
    from .app import Simulator

SPEC_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "jira-openapi"
SPEC_FILES = ("platform-v2.json", "software.json")
EXAMPLE_HOST = "https://your-domain.atlassian.net"
AVATAR_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48" viewBox="0 0 48 48">'
              '<rect width="48" height="48" rx="4" fill="#0052CC"/></svg>')
_ADMIN_ONLY = re.compile(r"Permissions\]\(#permissions\) required:\*\*\s*\*Administer Jira\* \[global permission\]"
                         r"\([^)]*\)\.")
_PAGE_KEYS = {"startAt", "maxResults", "total", "isLast", "values", "self", "nextPage"}
_CURSOR_KEYS = {"cursor", "nextPageCursor", "size", "last", "values", "total"}


class Operation:
    __slots__ = ("template", "regex", "names", "literals", "schema", "example", "spec", "image", "admin_only",
                 "segments")

    def __init__(self, template: str, op: dict, spec: dict):
        self.template = template
        self.segments = template.strip("/").split("/")
        self.names = re.findall(r"\{([^}]+)\}", template)
        self.literals = sum(1 for s in self.segments if not s.startswith("{"))
        self.regex = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template)) + "$")
        self.spec = spec
        ok = next((v for k, v in op.get("responses", {}).items() if k.startswith("2")), {})
        content = ok.get("content") or {}
        self.image = any(ct.startswith("image/") for ct in content)
        media = content.get("application/json") or next(iter(content.values()), {})
        self.schema = media.get("schema")
        self.example = _parse_example(media.get("example"))
        self.admin_only = bool(_ADMIN_ONLY.search(op.get("description", "")))


def _parse_example(ex: Any) -> Any:
    if isinstance(ex, str):
        try:
            return json.loads(ex)
        except ValueError:
            return ex
    return ex


class SpecSurface:
    """The GET operations of the spec files, most specific template first."""

    def __init__(self, spec_dir: Path = SPEC_DIR):
        self.ops: list[Operation] = []
        for name in SPEC_FILES:
            f = spec_dir / name
            if not f.is_file():
                continue
            spec = json.loads(f.read_text())
            for template, item in spec.get("paths", {}).items():
                if "get" in item:
                    self.ops.append(Operation(template, item["get"], spec))
        # a literal segment beats a parameter (project/recent before project/{projectIdOrKey})
        self.ops.sort(key=lambda o: (-len(o.segments), [s.startswith("{") for s in o.segments]))

    def __bool__(self) -> bool:
        return bool(self.ops)

    def match(self, path: str) -> tuple[Operation, dict[str, str]] | None:
        for op in self.ops:
            m = op.regex.match(path)
            if m:
                return op, dict(zip(op.names, m.groups()))
        return None

    def shadowed(self, routes: list) -> list[Route]:
        """Routes for spec paths a hand-written route would take by mistake (`issue/createmeta` is not an issue
        key): each answers generically, and goes before the hand-written ones."""
        out = []
        for op in self.ops:
            probe = "/" + "/".join("0" if s.startswith("{") else s for s in op.segments)
            scope = {"type": "http", "path": probe, "method": "GET", "root_path": ""}
            for r in routes:
                match, _ = r.matches(scope)
                if match == Match.NONE:
                    continue
                theirs = r.path.strip("/").split("/")
                if any(not s.startswith("{") and t.startswith("{") for s, t in zip(op.segments, theirs)):
                    out.append(Route(op.template, self._handler(op)))
                break
        return out

    def _handler(self, op: Operation):
        async def h(request: Request) -> Response:
            return self.answer(request, op, dict(zip(op.names, op.regex.match(request.url.path).groups())))
        return h

    def respond(self, request: Request) -> Response | None:
        """The generic answer for a GET no hand-written route took, or None (not a spec path)."""
        if request.method not in ("GET", "HEAD"):
            return None
        found = self.match(request.url.path)
        if found is None:
            return None
        return self.answer(request, *found)

    def answer(self, request: Request, op: Operation, params: dict[str, str]) -> Response:
        sim = sim_of(request)
        try:
            for name, value in params.items():
                check_param(sim, op, name, value, params)
            if op.admin_only and not sim.t.admin:
                raise HttpError(403, [ADMIN_403])
        except HttpError as e:
            return error_response(e.status, e.messages, e.errors)
        if op.image:
            return Response(AVATAR_SVG, media_type="image/svg+xml")
        return js(generic_body(op, sim.t.base))


# ---- bodies --------------------------------------------------------------------------------------------------

def generic_body(op: Operation, base: str) -> Any:
    spec = op.spec
    schema = _deref(spec, op.schema) if op.schema else None
    if schema is None:
        return _rebase(op.example, base) if isinstance(op.example, (dict, list)) else {}
    props = _props(spec, schema)
    if schema.get("type") == "array":
        return []
    if "values" in props and (set(props) <= _PAGE_KEYS | _CURSOR_KEYS):
        return _empty_page(spec, props)
    if op.example is not None:
        return conform(spec, _rebase(op.example, base), schema)
    return minimal(spec, schema)


def _empty_page(spec: dict, props: dict) -> dict:
    values = {"startAt": 0, "maxResults": 50, "total": 0, "isLast": True, "values": [], "last": True, "size": 0}
    return {k: conform(spec, values[k], props[k]) for k in props if k in values}


def _rebase(value: Any, base: str) -> Any:
    if isinstance(value, str):
        return value.replace(EXAMPLE_HOST, base)
    if isinstance(value, list):
        return [_rebase(v, base) for v in value]
    if isinstance(value, dict):
        return {k: _rebase(v, base) for k, v in value.items()}
    return value


def _deref(spec: dict, schema: Any, depth: int = 0) -> Any:
    while isinstance(schema, dict) and "$ref" in schema and depth < 50:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
        depth += 1
    return schema


def _props(spec: dict, schema: dict) -> dict:
    """Properties of an object schema, allOf parts merged."""
    out = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or []:
        out.update(_props(spec, _deref(spec, part)))
    return out


def _required(spec: dict, schema: dict) -> list[str]:
    out = list(schema.get("required") or [])
    for part in schema.get("allOf") or []:
        out.extend(_required(spec, _deref(spec, part)))
    return out


def _closed(spec: dict, schema: dict) -> bool:
    return schema.get("additionalProperties") is False or any(
        _closed(spec, _deref(spec, p)) for p in schema.get("allOf") or [])


def _type_of(spec: dict, schema: dict) -> str | None:
    t = schema.get("type")
    if t:
        return t
    if _props(spec, schema):
        return "object"
    for part in schema.get("allOf") or []:
        t = _type_of(spec, _deref(spec, part))
        if t:
            return t
    return None


_PY = {"string": str, "boolean": bool, "array": list, "object": dict}


def conform(spec: dict, value: Any, schema: Any, depth: int = 0) -> Any:
    """`value` made valid against `schema`: keys the schema forbids dropped, required ones added, wrong types
    replaced by a minimal value."""
    schema = _deref(spec, schema)
    if not isinstance(schema, dict) or depth > 40:
        return value
    if value is None and schema.get("nullable"):
        return None
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [_deref(spec, s) for s in schema[key]]
            fit = next((s for s in options if _fits(spec, value, s)), options[0])
            return conform(spec, value, fit, depth + 1)
    t = _type_of(spec, schema)
    if "enum" in schema and value not in schema["enum"]:
        return schema["enum"][0]
    if t == "object":
        if not isinstance(value, dict):
            return minimal(spec, schema, depth + 1)
        props = _props(spec, schema)
        extra = schema.get("additionalProperties")
        closed = _closed(spec, schema)
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k in props:
                out[k] = conform(spec, v, props[k], depth + 1)
            elif isinstance(extra, dict):
                out[k] = conform(spec, v, extra, depth + 1)
            elif not closed:
                out[k] = v
        for k in _required(spec, schema):
            if k not in out and k in props:
                out[k] = minimal(spec, props[k], depth + 1)
        return out
    if t == "array":
        if not isinstance(value, list):
            return []
        items = schema.get("items") or {}
        return [conform(spec, v, items, depth + 1) for v in value]
    if t == "integer":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            return minimal(spec, schema, depth + 1)
        return int(value)
    if t == "number":
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else \
            minimal(spec, schema, depth + 1)
    if t in _PY:
        return value if isinstance(value, _PY[t]) and not (t != "boolean" and isinstance(value, bool)) else \
            minimal(spec, schema, depth + 1)
    return value


def _fits(spec: dict, value: Any, schema: dict) -> bool:
    t = _type_of(spec, schema)
    if t is None:
        return True
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _PY.get(t, object))


def minimal(spec: dict, schema: Any, depth: int = 0) -> Any:
    """The smallest value valid against `schema`: required properties only."""
    schema = _deref(spec, schema)
    if not isinstance(schema, dict) or depth > 40:
        return None
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return minimal(spec, schema[key][0], depth + 1)
    t = _type_of(spec, schema)
    if t == "object":
        props = _props(spec, schema)
        return {k: minimal(spec, props[k], depth + 1) for k in _required(spec, schema) if k in props}
    if t == "array":
        return []
    if t in ("integer", "number"):
        return max(0, int(schema.get("minimum", 0)))
    if t == "boolean":
        return False
    if t == "string":
        return "x" * int(schema.get("minLength", 0))
    return None


# ---- path parameters against the tenant ----------------------------------------------------------------------

def check_param(sim: "Simulator", op: Operation, name: str, value: str, params: dict[str, str]) -> None:
    """Raise Jira's 404 when a path parameter names nothing on this site."""
    from .lookup import find, kind_of    # the tenant's objects by the names the spec gives their parameters

    kind = kind_of(op.template, name)
    if kind is None:
        segs = op.template.strip("/").split("/")
        noun = _noun(segs[segs.index("{" + name + "}") - 1] if name == "id" else name)
        raise HttpError(404, [f"The {noun} '{value}' does not exist."])
    if find(sim, kind, value, params) is None:
        raise HttpError(404, [_missing_message(kind, value)])


def _noun(name: str) -> str:
    """`propertyKey` -> "property key", `planId` -> "plan"."""
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower().split()
    return " ".join(words[:-1] if len(words) > 1 and words[-1] == "id" else words)


def _missing_message(kind: str, value: str) -> str:
    from .lookup import MISSING
    return MISSING.get(kind, "The {kind} '{value}' does not exist.").format(kind=kind, value=value)
