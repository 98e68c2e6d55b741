"""The code location Dagster loads (workspace.yaml, `[tool.dagster]` in pyproject.toml): this deployment's
Definitions, from the environment (README "Configuration")."""

from jira_assets.defs.definitions import definitions_from_env

defs = definitions_from_env()
