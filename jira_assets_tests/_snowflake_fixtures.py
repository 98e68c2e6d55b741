"""Fixtures for the Snowflake tests: a local S3 (moto server), a local Snowflake (fakesnow server) and a
statement recorder at the SnowflakeResource layer.

fakesnow runs Snowflake SQL on DuckDB and cannot parse Iceberg DDL, so sessions that should succeed
log in with fakesnow's `nop_regexes` session parameter: statements matching it travel the whole way
(SnowflakeResource -> snowflake.connector -> HTTP -> fakesnow) and are answered "executed" without
being run. The recorder keeps the exact text of every statement executed, for the assertions.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import pytest

ICEBERG_DDL_REGEXES = [r"^\s*(CREATE|ALTER)\s+ICEBERG\s+TABLE\b"]
BUCKET = "jira-lake"
S3_KEYS = {"s3.access-key-id": "testing", "s3.secret-access-key": "testing", "s3.region": "us-east-1"}


class _RecordingCursor:
    def __init__(self, cursor: Any, log: list[str]) -> None:
        self._cursor = cursor
        self._log = log

    def execute(self, command: str, *args: Any, **kwargs: Any) -> Any:
        self._log.append(command)
        return self._cursor.execute(command, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class _RecordingConnection:
    def __init__(self, conn: Any, log: list[str]) -> None:
        self._conn = conn
        self._log = log

    def cursor(self, *args: Any, **kwargs: Any) -> _RecordingCursor:
        return _RecordingCursor(self._conn.cursor(*args, **kwargs), self._log)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@functools.cache
def recording_classes():
    """(RecordingSnowflakeResource, RecordingSync); imported lazily because dagster_snowflake is slow to import."""
    from dagster_snowflake import SnowflakeResource

    from jira_assets.defs.snowflake import SnowflakeSync

    class RecordingSnowflakeResource(SnowflakeResource):
        statements: ClassVar[list[str]] = []

        @contextmanager
        def get_connection(self, raw_conn: bool = True) -> Iterator[Any]:
            with super().get_connection(raw_conn=raw_conn) as conn:
                yield _RecordingConnection(conn, RecordingSnowflakeResource.statements)

    class RecordingSync(SnowflakeSync):
        def snowflake_resource(self) -> Any:
            return RecordingSnowflakeResource(**self.snowflake_resource_args())

    return RecordingSnowflakeResource, RecordingSync


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on loopback with an empty bucket `jira-lake`; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per S3 request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        s3_client(endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.stop()


def s3_client(endpoint: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=S3_KEYS["s3.access-key-id"],
        aws_secret_access_key=S3_KEYS["s3.secret-access-key"],
        region_name=S3_KEYS["s3.region"],
    )


@pytest.fixture(scope="module")
def fakesnow_server() -> Iterator[dict[str, Any]]:
    """fakesnow's server (its Starlette app under uvicorn) on loopback; yields host/port/protocol args.

    Started here rather than with `fakesnow.server()`: that helper imports the `fakesnow.server`
    submodule, which then shadows the helper, so a second call in the same process fails.
    """
    import socket
    import threading
    import time

    import uvicorn
    from fakesnow.server import app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="fakesnow", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("fakesnow server did not start")
        time.sleep(0.05)
    try:
        yield {"host": "127.0.0.1", "port": port, "protocol": "http"}
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def connection_args(server: dict[str, Any], *, iceberg_ddl_ok: bool) -> dict[str, Any]:
    params: dict[str, Any] = {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False}
    if iceberg_ddl_ok:
        params["nop_regexes"] = ICEBERG_DDL_REGEXES
    return {**server, "session_parameters": params}
