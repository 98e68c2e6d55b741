"""Which address credentials may be sent to: a bare atlassian.net subdomain, or an explicit base URL.

Checked before any request is made, so a pasted URL or a typo never sends a credential anywhere unexpected. The
same rules hold for the API gateway and OAuth token endpoint overrides (JIRA_GATEWAY_URL, JIRA_OAUTH_TOKEN_URL).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

# One DNS label: letters, digits and inner hyphens, at most 63 characters.
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)
ATLASSIAN_SUFFIX = ".atlassian.net"


class SiteConfigError(ValueError):
    """The Jira site configuration is unusable; the message says what to set instead."""


def validate_subdomain(value: str) -> str:
    """Return the bare, lower-cased subdomain (`acme`), or raise SiteConfigError saying what to paste instead."""
    if value is None or value == "":
        raise SiteConfigError(
            "JIRA_SUBDOMAIN is empty: set it to your site's name, e.g. `acme` for https://acme.atlassian.net"
        )
    if _LABEL.match(value):
        return value.lower()
    problems = _problems(_redact(value))
    shown = _redact(value)
    message = (
        f"JIRA_SUBDOMAIN must be the bare site name (one DNS label such as `acme` for https://acme.atlassian.net), "
        f"but it is {shown!r} ({', '.join(problems)})."
    )
    label, custom_host = _suggest(value)
    if label:
        message += f" Set JIRA_SUBDOMAIN={label} instead."
    elif custom_host:
        message += (
            f" If your Jira is not on atlassian.net, leave JIRA_SUBDOMAIN unset and set "
            f"JIRA_BASE_URL=https://{custom_host} instead."
        )
    else:
        message += " Use only letters, digits and hyphens, e.g. JIRA_SUBDOMAIN=acme."
    raise SiteConfigError(message)


def validate_base_url(url: str, name: str = "JIRA_BASE_URL") -> str:
    """Return the normalised base URL (no trailing slash), or raise SiteConfigError naming the setting `name`.

    https:// anywhere; http:// only for loopback addresses (the simulator, a local proxy); no credentials,
    query or fragment in the URL.
    """
    if not url or not url.strip():
        raise SiteConfigError(f"{name} is empty")
    if url != url.strip() or any(c.isspace() for c in url):
        raise SiteConfigError(f"{name} must not contain spaces: {_redact(url)!r}")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a non-numeric port
    except ValueError as exc:
        raise SiteConfigError(f"{name} is not a valid URL: {_redact(url)!r} ({exc})") from None
    scheme = parts.scheme.lower()
    example = _EXAMPLES.get(name, "https://acme.atlassian.net")
    if scheme not in ("https", "http"):
        raise SiteConfigError(f"{name} must start with https:// (e.g. {example}), got {_redact(url)!r}")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise SiteConfigError(
            f"{name} must not contain credentials (user:password@); set them in their own settings "
            "(JIRA_EMAIL and JIRA_API_TOKEN, or JIRA_OAUTH_CLIENT_ID and JIRA_OAUTH_CLIENT_SECRET)"
        )
    host = (parts.hostname or "").lower()
    if not host:
        raise SiteConfigError(f"{name} has no host name: {_redact(url)!r}")
    if parts.query or parts.fragment or url.endswith("?") or "#" in url:
        raise SiteConfigError(f"{name} must not contain a query or fragment: {_redact(url)!r}")
    if scheme == "http" and not is_loopback(host):
        raise SiteConfigError(
            f"{name} uses http:// for {host}, which would send the credentials unencrypted; "
            f"use https://{host} (http:// is accepted only for loopback addresses such as 127.0.0.1)"
        )
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None:
        netloc += f":{port}"
    path = parts.path.rstrip("/")
    return f"{scheme}://{netloc}{path}"


# What each URL setting looks like, for the error that says it must start with https://.
_EXAMPLES = {
    "JIRA_BASE_URL": "https://acme.atlassian.net",
    "JIRA_GATEWAY_URL": "https://api.atlassian.com",
    "JIRA_OAUTH_TOKEN_URL": "https://auth.atlassian.com/oauth/token",
}


def resolve_base_url(subdomain: str | None = None, base_url: str | None = None) -> str:
    """`https://<subdomain>.atlassian.net`, or the explicit base URL when one is given (it wins)."""
    if subdomain:
        subdomain = validate_subdomain(subdomain)
    if base_url:
        return validate_base_url(base_url)
    if subdomain:
        return f"https://{subdomain}{ATLASSIAN_SUFFIX}"
    raise SiteConfigError(
        "No Jira site configured: set JIRA_SUBDOMAIN (e.g. `acme` for https://acme.atlassian.net) "
        "or JIRA_BASE_URL (a proxy, custom domain or the simulator)"
    )


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, with default ports filled in: what "same site" means for credentials."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


def _problems(value: str) -> list[str]:
    found = []
    rest = value
    if "://" in rest:
        found.append("a URL scheme")
        rest = rest.split("://", 1)[1]
    for needle, label in (("/", "a slash"), (".", "a dot"), ("@", "an @"), ("#", "a #"), ("?", "a ?"),
                          (":", "a port")):
        if needle in rest:
            found.append(label)
    if any(c.isspace() for c in value):
        found.append("a space")
    if len(value) > 63:
        found.append("more than 63 characters")
    if not found:
        found.append("characters other than letters, digits and inner hyphens")
    return found


def _suggest(value: str) -> tuple[str | None, str | None]:
    """(bare label, custom host) that the person most likely meant."""
    v = value.strip()
    if "://" in v:
        v = v.split("://", 1)[1]
    for sep in "/?#":
        v = v.split(sep, 1)[0]
    if "@" in v:
        v = v.rsplit("@", 1)[1]
    v = v.split(":", 1)[0].strip().strip(".").lower()
    if v.endswith(ATLASSIAN_SUFFIX):
        label = v[: -len(ATLASSIAN_SUFFIX)]
        return (label, None) if _LABEL.match(label) else (None, None)
    if _LABEL.match(v):
        return v, None
    if "." in v and all(_LABEL.match(part) for part in v.split(".")):
        return None, v
    return None, None


def _redact(value: str) -> str:
    """Hide anything that looks like user:password@ before echoing a value back."""
    return re.sub(r"(?<=//)[^/@\s]*@", "***@", value)


def site_name(name: str | None, subdomain: str | None, base_url: str | None, default: str = "jira") -> str:
    """A site's short, stable name (what its rows carry): the one given, else the subdomain, else the base URL's host
    name (no port: a proxy or the simulator may move ports between runs)."""
    for candidate in (name, subdomain):
        if candidate and candidate.strip():
            return candidate.strip().lower()
    host = urlsplit(base_url).hostname if base_url else None
    return host.lower() if host else default
