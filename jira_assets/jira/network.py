"""Network failures no retry can fix, told apart from the ones a retry can: a name that does not resolve, a port
where nothing listens, a TLS certificate that is not trusted, https asked of a plain-HTTP server or http of an
https one. Each gets the sentence that says what to check, and is not retried.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx

# getaddrinfo's "this name does not exist" (as opposed to a DNS server that did not answer, which may pass).
_NO_SUCH_NAME = {getattr(socket, "EAI_NONAME", -2), getattr(socket, "EAI_NODATA", -5)}
_NOT_TLS = ("WRONG_VERSION_NUMBER", "record layer failure", "packet length too long", "unknown protocol",
            "HTTP_REQUEST", "http request")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


async def unfixable_cause(exc: BaseException, base_url: str, setting: str | None = None) -> str | None:
    """The reason a request to `base_url` failed with `exc` when retrying cannot help, else None. `setting` names
    what holds that address (default: JIRA_SUBDOMAIN / JIRA_BASE_URL, the site's)."""
    parts = urlsplit(base_url)
    host, scheme = parts.hostname or "", parts.scheme
    port = parts.port or (443 if scheme == "https" else 80)
    where = f"{host}:{port}"
    url_setting = setting or "JIRA_BASE_URL"
    for err in _chain(exc):
        if isinstance(err, ssl.SSLCertVerificationError):
            return (f"the TLS certificate of {where} is not trusted ({err.verify_message or err.reason}): check "
                    f"{url_setting}, or give the CA bundle of a corporate proxy in SSL_CERT_FILE")
        if isinstance(err, ssl.SSLError) and any(marker in str(err) for marker in _NOT_TLS):
            return (f"{where} does not speak TLS (https): check the port in {url_setting}; a plain-HTTP server on "
                    f"this machine (a local proxy or the simulator) is reached with http://{where}")
        if isinstance(err, socket.gaierror) and err.errno in _NO_SUCH_NAME:
            return (f"the host name {host} does not resolve: check {setting or 'JIRA_SUBDOMAIN / JIRA_BASE_URL'}, "
                    "or this machine's DNS and proxy settings")
        if isinstance(err, ConnectionRefusedError) or getattr(err, "errno", None) == errno.ECONNREFUSED:
            return (f"nothing accepts connections at {where} (connection refused): check the host and port in "
                    f"{url_setting}, or start the proxy or server it points to")
    if scheme == "http" and isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        if await asyncio.to_thread(speaks_tls, host, port):
            return f"{where} speaks https, not http: use https://{where} in {url_setting}"
    return None


def speaks_tls(host: str, port: int, timeout: float = 3.0) -> bool:
    """Whether a TLS handshake completes at host:port (the certificate is not checked: only the protocol is)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            with context.wrap_socket(sock, server_hostname=host):
                return True
    except (OSError, ssl.SSLError):
        return False
