"""Source side: talks to Jira Cloud. No Dagster or pyiceberg imports below this package."""

from jira_assets.jira.client import (
    ClientStats,
    CredentialCheck,
    JiraClient,
    JiraError,
    check_credentials,
)
from jira_assets.jira.paging import PagingError
from jira_assets.jira.site import SiteConfigError, resolve_base_url, validate_base_url, validate_subdomain
from jira_assets.jira.throttle import Throttle, get_throttle, redis_throttle, sqlite_throttle

__all__ = [
    "ClientStats",
    "CredentialCheck",
    "JiraClient",
    "JiraError",
    "PagingError",
    "SiteConfigError",
    "Throttle",
    "check_credentials",
    "get_throttle",
    "redis_throttle",
    "resolve_base_url",
    "sqlite_throttle",
    "validate_base_url",
    "validate_subdomain",
]
