"""Shared test setup: every test runs against the simulator over real HTTP and real Iceberg tables in tmp dirs."""

from __future__ import annotations

import os

import pytest
from dagster._core.definitions.definitions_load_context import DefinitionsLoadContext
from dagster._core.storage.defs_state import base as defs_state_base


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path, monkeypatch):
    """Each test gets its own lake, throttle store and Dagster home, and no stray JIRA_* settings."""
    for name in list(os.environ):
        if name.startswith(("JIRA_", "PYICEBERG_", "SNOWFLAKE_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JIRA_ASSETS_LAKE_DIR", str(tmp_path / "lake"))
    monkeypatch.setenv("JIRA_THROTTLE_DB", str(tmp_path / "throttle.sqlite"))
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    yield
    # Dagster keeps the definitions-load context and the current defs-state storage (both bound to the instance a
    # test used) in process-wide slots; a later test's materialize() would otherwise reach for a long-gone instance.
    DefinitionsLoadContext._instance = None
    defs_state_base._current_storage.set(None)
