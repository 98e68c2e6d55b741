"""The Jira connection settings, checked before anything runs: one line per bad setting, each naming the setting,
what it holds (never a secret) and what it should hold. `jira_assets.defs.definitions.settings_problems` adds the
settings of the sync and the operations, so a wrong setting is one line to fix, not a traceback from a run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from jira_assets.env import env_number
from jira_assets.jira.auth import (
    AUTH_KINDS, CLASSIC_TOKEN, OAUTH, SCOPED_TOKEN, SERVICE_ACCOUNTS_HELP, TOKEN_HELP_URL, validate_cloud_id,
)
from jira_assets.jira.site import SiteConfigError, resolve_base_url, validate_base_url

RATE_LIMIT_ENV = "JIRA_RATE_LIMIT"
AUTH_ENV = "JIRA_AUTH"
CLOUD_ID_ENV = "JIRA_CLOUD_ID"
GATEWAY_URL_ENV = "JIRA_GATEWAY_URL"
OAUTH_CLIENT_ID_ENV = "JIRA_OAUTH_CLIENT_ID"
OAUTH_CLIENT_SECRET_ENV = "JIRA_OAUTH_CLIENT_SECRET"
OAUTH_TOKEN_URL_ENV = "JIRA_OAUTH_TOKEN_URL"
# The settings only some credential kinds read, and the kinds that read them.
_KINDS_READING = {
    CLOUD_ID_ENV: (SCOPED_TOKEN, OAUTH),
    GATEWAY_URL_ENV: (SCOPED_TOKEN, OAUTH),
    OAUTH_CLIENT_ID_ENV: (OAUTH,),
    OAUTH_CLIENT_SECRET_ENV: (OAUTH,),
    OAUTH_TOKEN_URL_ENV: (OAUTH,),
}
_KIND_WORDS = {
    CLASSIC_TOKEN: "token (a classic API token, sent to the site URL)",
    SCOPED_TOKEN: "scoped-token (a scoped API token, through the API gateway)",
    OAUTH: "oauth (a service account's OAuth 2.0 client credentials, through the API gateway)",
}


class SettingsError(ValueError):
    """One or more settings are unusable; the message has one line per setting."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def clean_secret(value: str | None) -> str:
    """A credential as pasted: surrounding spaces and line breaks (an editor's or `echo`'s) are not part of it."""
    return (value or "").strip()


def auth_kind(value: str | None) -> str:
    """The credential kind JIRA_AUTH names; unset or empty is `token`, the classic API token."""
    kind = (value or "").strip().lower() or CLASSIC_TOKEN
    if kind not in AUTH_KINDS:
        raise ValueError(f"{AUTH_ENV} must be {', '.join(_KIND_WORDS[k] for k in AUTH_KINDS[:-1])} or "
                         f"{_KIND_WORDS[AUTH_KINDS[-1]]}, got {(value or '').strip()[:40]!r}")
    return kind


def jira_connection_problems(env: Mapping[str, str] | None = None,
                             secret_names: Mapping[str, str] | None = None) -> list[str]:
    """The Jira site, the credentials of the kind JIRA_AUTH names, and the rate limit. `secret_names` maps the
    credential's standard variables (JIRA_EMAIL, JIRA_API_TOKEN, JIRA_OAUTH_CLIENT_ID, JIRA_OAUTH_CLIENT_SECRET) to
    the ones a site configured instead; problems then name the site's own variables."""
    env = os.environ if env is None else env
    if secret_names:
        env = {**env, **{standard: env[own] for standard, own in secret_names.items() if own in env}}
        for standard, own in secret_names.items():
            if own not in env and standard in env:
                env = {k: v for k, v in env.items() if k != standard}
    problems = _connection_problems(env)
    for standard, own in (secret_names or {}).items():
        problems = [p.replace(standard, own) for p in problems]
    return problems


def _connection_problems(env: Mapping[str, str]) -> list[str]:
    problems: list[str] = []
    try:
        kind = auth_kind(env.get(AUTH_ENV))
    except ValueError as err:
        problems.append(str(err))
        kind = None
    if kind in (CLASSIC_TOKEN, SCOPED_TOKEN):
        problems += _api_token_problems(env, scoped=kind == SCOPED_TOKEN)
    elif kind == OAUTH:
        problems += _secret_problems(env, OAUTH_CLIENT_ID_ENV, "the client id of the service account's OAuth 2.0 "
                                     f"credential ({SERVICE_ACCOUNTS_HELP})")
        problems += _secret_problems(env, OAUTH_CLIENT_SECRET_ENV, "the client secret of the same credential")
    try:
        resolve_base_url(env.get("JIRA_SUBDOMAIN", "").strip() or None, env.get("JIRA_BASE_URL") or None)
    except SiteConfigError as err:
        problems.append(str(err).rstrip("."))
    for name, kinds in _KINDS_READING.items():
        value = env.get(name, "").strip()
        if not value or kind is None:
            continue
        if kind not in kinds:
            wanted = " or ".join(f"{AUTH_ENV}={k}" for k in kinds)
            problems.append(f"{name} is set, but {AUTH_ENV} is {_KIND_WORDS[kind]}, which does not read it: set "
                            f"{wanted}, or unset {name}")
        elif name == CLOUD_ID_ENV:
            problems += collect(lambda: validate_cloud_id(value))
        elif name in (GATEWAY_URL_ENV, OAUTH_TOKEN_URL_ENV):
            problems += collect(lambda: validate_base_url(env.get(name, ""), name))
    problems += collect(lambda: env_number(RATE_LIMIT_ENV, 5.0, above=0, what="a number of requests per second",
                                            env=env))
    return problems


def _api_token_problems(env: Mapping[str, str], *, scoped: bool) -> list[str]:
    problems: list[str] = []
    email = clean_secret(env.get("JIRA_EMAIL"))
    if not email:
        problems.append(f"JIRA_EMAIL is {_unset_or_empty(env, 'JIRA_EMAIL')}: set it to the email address of the "
                        "Atlassian account that owns the API token")
    elif "@" not in email or any(c.isspace() for c in email):
        problems.append(f"JIRA_EMAIL must be an email address such as you@acme.com, got {email!r}")
    what = "a scoped Atlassian API token" if scoped else "an Atlassian API token"
    return problems + _secret_problems(env, "JIRA_API_TOKEN", f"{what} (create one at {TOKEN_HELP_URL})")


def _secret_problems(env: Mapping[str, str], name: str, what: str) -> list[str]:
    """An unset, empty or broken (pasted with a line break inside) credential; its value is never shown."""
    value = clean_secret(env.get(name))
    if not value:
        return [f"{name} is {_unset_or_empty(env, name)}: set it to {what}"]
    if any(c.isspace() for c in value):
        return [f"{name} has a space or line break inside it ({len(value)} characters): paste it again, as one "
                "word"]
    return []


def collect(read: Callable[[], object]) -> list[str]:
    """The ValueError `read()` raises about a setting, as a one-item list (empty when the setting is fine)."""
    try:
        read()
    except ValueError as err:
        return [str(err).rstrip(".")]
    return []


def _unset_or_empty(env: Mapping[str, str], name: str) -> str:
    return "not set" if name not in env else "empty"
