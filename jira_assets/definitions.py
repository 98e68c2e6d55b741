"""The code location Dagster loads (workspace.yaml, `[tool.dagster]` in pyproject.toml): this deployment's
Definitions, from the environment (README "Configuration")."""

from jira_assets.defs.definitions import build_definitions

defs = build_definitions()
