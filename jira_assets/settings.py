"""The Jira connection settings, checked before anything runs: one line per bad setting, each naming the setting,
what it holds (never a secret) and what it should hold. `jira_assets.defs.definitions.settings_problems` adds the
settings of the sync and the operations, so a wrong setting is one line to fix, not a traceback from a run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from jira_assets.env import env_number
from jira_assets.jira.client import TOKEN_HELP_URL
from jira_assets.jira.site import SiteConfigError, resolve_base_url

RATE_LIMIT_ENV = "JIRA_RATE_LIMIT"


class SettingsError(ValueError):
    """One or more settings are unusable; the message has one line per setting."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def clean_secret(value: str | None) -> str:
    """A credential as pasted: surrounding spaces and line breaks (an editor's or `echo`'s) are not part of it."""
    return (value or "").strip()


def jira_connection_problems(env: Mapping[str, str] | None = None) -> list[str]:
    """The Jira site, credentials and rate limit."""
    env = os.environ if env is None else env
    problems: list[str] = []
    email = clean_secret(env.get("JIRA_EMAIL"))
    token = clean_secret(env.get("JIRA_API_TOKEN"))
    if not email:
        problems.append(f"JIRA_EMAIL is {_unset_or_empty(env, 'JIRA_EMAIL')}: set it to the email address of the "
                        "Atlassian account that owns the API token")
    elif "@" not in email or any(c.isspace() for c in email):
        problems.append(f"JIRA_EMAIL must be an email address such as you@acme.com, got {email!r}")
    if not token:
        problems.append(f"JIRA_API_TOKEN is {_unset_or_empty(env, 'JIRA_API_TOKEN')}: set it to an Atlassian API "
                        f"token (create one at {TOKEN_HELP_URL})")
    elif any(c.isspace() for c in token):
        problems.append(f"JIRA_API_TOKEN has a space or line break inside it ({len(token)} characters): paste the "
                        "token again, as one word")
    try:
        resolve_base_url(env.get("JIRA_SUBDOMAIN", "").strip() or None, env.get("JIRA_BASE_URL") or None)
    except SiteConfigError as err:
        problems.append(str(err).rstrip("."))
    problems += collect(lambda: env_number(RATE_LIMIT_ENV, 5.0, above=0, what="a number of requests per second",
                                            env=env))
    return problems


def collect(read: Callable[[], object]) -> list[str]:
    """The ValueError `read()` raises about a setting, as a one-item list (empty when the setting is fine)."""
    try:
        read()
    except ValueError as err:
        return [str(err).rstrip(".")]
    return []


def _unset_or_empty(env: Mapping[str, str], name: str) -> str:
    return "not set" if name not in env else "empty"
