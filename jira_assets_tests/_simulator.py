"""Start the Jira Cloud simulator as a real subprocess for tests (import this from any test module).

    from _simulator import start_simulator, sim, AUTH   # jira_assets_tests/ is on sys.path under pytest

    def test_x(sim):                       # a demo-scale simulator, one per test module
        url, proc = sim
        httpx.get(f"{url}/rest/api/2/myself", auth=AUTH)

    with start_simulator("--seed", "7", "--non-admin") as (url, proc):
        ...

`start_simulator(*args)` runs `python -m jira_sim --host 127.0.0.1 --port 0 *args`, waits for its
`listening on URL` line and stops it on exit. Helpers: `advance(url, **counts)`, `truth(url, endpoint, **params)`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import pytest

from jira_sim.process import running_simulator

EMAIL = "demo@example.com"
TOKEN = "demo-token"
AUTH = (EMAIL, TOKEN)


@contextlib.contextmanager
def start_simulator(*args: str, startup_timeout: float = 120.0) -> Iterator[tuple[str, object]]:
    """Yield (base URL, subprocess.Popen) of a simulator on 127.0.0.1 with a free port."""
    with running_simulator([str(a) for a in args], startup_timeout=startup_timeout) as (url, proc):
        yield url, proc


@pytest.fixture(scope="module")
def sim() -> Iterator[tuple[str, object]]:
    """A demo-scale simulator (seed 1), shared by the tests of one module."""
    with start_simulator("--seed", "1", "--scale", "demo") as running:
        yield running


def client(url: str, **kw) -> httpx.Client:
    return httpx.Client(base_url=url, auth=AUTH, timeout=kw.pop("timeout", 60.0), **kw)


def advance(url: str, **counts) -> dict:
    r = httpx.post(f"{url}/__sim/advance", json=counts, timeout=60.0)
    r.raise_for_status()
    return r.json()


def truth(url: str, endpoint: str, **params) -> list[dict]:
    """The `{"parents", "record"}` items `/__sim/truth/<endpoint>` reports."""
    r = httpx.get(f"{url}/__sim/truth/{endpoint}", params=params, timeout=300.0)
    r.raise_for_status()
    body = r.json()
    assert body["endpoint"] == endpoint
    return body["records"]


def self_signed_cert(tmp_path) -> tuple:
    """(cert.pem, key.pem) of a self-signed certificate for 127.0.0.1, for a simulator served over TLS."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return certfile, keyfile
