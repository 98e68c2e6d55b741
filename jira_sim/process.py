"""Start the simulator as a child process and wait until it accepts connections (demo, dev, tests, benchmarks)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence

READY_PREFIX = "listening on "


@contextlib.contextmanager
def running_simulator(
    args: Sequence[str] = (), *, startup_timeout: float = 120.0, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Yield (base URL, process) of a simulator on 127.0.0.1 with a free port; stop it on exit."""
    cmd = [sys.executable, "-m", "jira_sim", "--host", "127.0.0.1", "--port", "0", *args]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=None, text=True, env={**os.environ, **(env or {})}
    )
    try:
        url = _wait_ready(proc, startup_timeout)
        # Keep draining stdout so a chatty simulator never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
        yield url, proc
    finally:
        stop_process(proc, timeout=10)


def stop_process(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _wait_ready(proc: subprocess.Popen, timeout: float) -> str:
    result: list[str] = []

    def read() -> None:
        for line in proc.stdout:
            if line.startswith(READY_PREFIX):
                result.append(line[len(READY_PREFIX):].strip())
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if not result:
        proc.kill()
        raise RuntimeError(f"the simulator did not report `listening on` within {timeout:.0f}s (exit code {proc.poll()})")
    return result[0]
