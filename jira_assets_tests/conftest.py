"""Shared test setup: every test runs against the simulator over real HTTP and real Iceberg tables in tmp dirs."""

from __future__ import annotations

import os

import pytest


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
