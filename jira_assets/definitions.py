"""The code location Dagster loads (workspace.yaml, `[tool.dagster]` in pyproject.toml): this deployment's
Definitions, the component's instance described by the environment (README "Configuration")."""

import sys
from pathlib import Path

from dagster import Definitions

from jira_assets.defs.component import JiraComponent
from jira_assets.settings import SettingsError


def definitions_from_env() -> Definitions:
    """The deployment's Definitions from the environment. Bad settings raise one SettingsError listing each of them;
    from a terminal command (`dagster asset materialize`, `dagster definitions validate`) they are printed as those
    lines alone and the command exits with status 2, instead of a traceback."""
    try:
        return JiraComponent.from_env().definitions()
    except SettingsError as err:
        problems = err.problems
    except ValueError as err:  # freshness, schedule and sensor settings are read as the definitions are built
        problems = [str(err).rstrip(".")]
    error = SettingsError(problems)
    if _loaded_by_a_terminal_command():
        sys.stderr.write("".join(f"jira-assets: {line}\n" for line in problems))
        raise SystemExit(2)
    raise error


def _loaded_by_a_terminal_command() -> bool:
    """True inside `dagster asset|job|definitions ...` (the code location loads in that process, once); False in
    servers (webserver, daemon, code servers), which show the error in the UI instead of exiting."""
    argv = sys.argv
    return Path(argv[0]).name in ("dagster", "dg") and len(argv) > 1 and argv[1] in ("asset", "job", "definitions")


defs = definitions_from_env()
