"""The layout holds: no import cycle in the package, each side imports only what its layer may, the simulator
imports nothing of the connector, and no endpoint is special-cased by name outside the catalogue."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "jira_assets"
SIMULATOR = REPO / "jira_sim"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports count: they are cycles too)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def package_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in imports_of(path) if m in modules and m != name} for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_package_has_no_import_cycle():
    graph = package_graph()
    assert len(graph) > 30
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


# Each layer, and what it may import of the package and of the big libraries.
LAYERS = {
    "jira_assets.jira": ({"jira_assets.jira", "jira_assets.env"}, {"dagster", "pyiceberg", "pyarrow"}),
    "jira_assets.lake": ({"jira_assets.lake"}, {"dagster", "httpx"}),
    "jira_assets.sync": ({"jira_assets.sync", "jira_assets.jira", "jira_assets.lake", "jira_assets.env"}, {"dagster"}),
    "jira_assets.derived": ({"jira_assets.derived", "jira_assets.sync", "jira_assets.jira", "jira_assets.lake",
                             "jira_assets.env"}, {"dagster"}),
}


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_each_layer_imports_only_what_it_may(layer):
    allowed, banned = LAYERS[layer]
    folder = REPO / layer.replace(".", "/")
    problems = []
    for path in folder.rglob("*.py"):
        for imported in imports_of(path):
            top = imported.split(".")[0]
            if top == "jira_assets" and not any(imported == a or imported.startswith(a + ".") for a in allowed):
                if imported != "jira_assets":
                    problems.append(f"{module_name(path)} imports {imported}")
            if top in banned:
                problems.append(f"{module_name(path)} imports {imported}")
    assert problems == []


def test_the_simulator_imports_nothing_of_the_connector():
    files = list(SIMULATOR.rglob("*.py"))
    assert files, "jira_sim/ is missing"
    offenders = [f"{module_name(p)}: {m}" for p in files for m in imports_of(p) if m.split(".")[0] == "jira_assets"]
    assert offenders == []
    mentions = [str(p.relative_to(REPO)) for p in files if "jira_assets" in p.read_text()]
    assert mentions == []


def test_no_endpoint_is_special_cased_by_name_outside_the_catalogue():
    pattern = re.compile(r"spec\.name ==|== \"issue_search\"|\.name == \"")
    offenders = [f"{p.relative_to(REPO)}:{i}" for p in PACKAGE.rglob("*.py") if p.name != "endpoints.py"
                 for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == []
