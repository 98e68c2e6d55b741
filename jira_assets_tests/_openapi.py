"""Validate simulator responses against Atlassian's official OpenAPI specs (../shared/jira-openapi).

OpenAPI 3.0 -> JSON Schema: `nullable: true` becomes a union with null; `$ref`s resolve inside the spec document.
`response_validator(spec, path_template, method)` returns a jsonschema validator for the operation's 200 body, or
None when the spec gives that operation no schema (e.g. Agile `GET /board/{id}/sprint`, which has only examples).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema

SPEC_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "jira-openapi"


def spec_dir() -> Path | None:
    return SPEC_DIR if (SPEC_DIR / "platform-v2.json").exists() else None


def _convert(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _convert(v) for k, v in node.items() if k not in ("example", "examples", "discriminator")}
        if out.pop("nullable", False):
            if "type" in out:
                t = out["type"]
                out["type"] = [t, "null"] if isinstance(t, str) else list(t) + ["null"]
            else:
                out = {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(node, list):
        return [_convert(x) for x in node]
    return node


@functools.lru_cache(maxsize=4)
def load_spec(name: str) -> dict:
    return _convert(json.loads((SPEC_DIR / name).read_text()))


def response_validator(spec_name: str, path: str, method: str = "get"):
    spec = load_spec(spec_name)
    op = spec["paths"][path][method.lower()]
    resp = op["responses"].get("200") or op["responses"].get("201")
    content = (resp or {}).get("content", {})
    schema = next((c.get("schema") for c in content.values() if c.get("schema")), None)
    if schema is None:
        return None
    root = dict(spec)
    root.update(schema if "$ref" not in schema else {"allOf": [schema]})
    root.pop("paths", None)
    return jsonschema.Draft7Validator(root)


def schema_errors(spec_name: str, path: str, method: str, body: Any, limit: int = 5) -> list[str]:
    v = response_validator(spec_name, path, method)
    if v is None:
        return []
    out = []
    for e in v.iter_errors(body):
        out.append(f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}")
        if len(out) >= limit:
            break
    return out
