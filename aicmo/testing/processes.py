"""Real processes for integration tests and benchmarks: a Celery worker (and uvicorn, gunicorn) on the test database.

The child processes read the same PostgreSQL database the test uses (pytest-django's test database) and the
Redis database named by `TEST_REDIS_URL`, through the ordinary environment variables of contract §2."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent


def database_url() -> str:
    """The URL of the database this process is using right now (the test database inside tests)."""
    db = connection.settings_dict
    if "postgresql" not in db["ENGINE"]:
        raise RuntimeError("Real worker processes need PostgreSQL (SQLite in-memory is private to the test).")
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(**overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aicmo.settings.dev",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.TEST_REDIS_URL,
        "CELERY_BROKER_URL": settings.TEST_REDIS_URL,
        "AICMO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "AICMO_DEV_STUBS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GROQ_API_KEY", "OLLAMA_BASE_URL"):
        env.pop(name, None)  # a developer's real keys never reach a test process
    env.update(overrides)
    return env


class ManagedProcess:
    """A child process whose output goes to a log file; `wait_for` watches the log for a line."""

    def __init__(self, args: list[str], *, env: dict[str, str], log_path: Path, name: str):
        self.args, self.env, self.log_path, self.name = args, env, log_path, name
        self.proc: subprocess.Popen | None = None
        self.url = ""  # base URL, for processes that serve one (gunicorn, redis-server)

    def start(self, *, ready_text: str, timeout_s: float = 60) -> "ManagedProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        self.proc = subprocess.Popen(
            self.args, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.wait_for(ready_text, timeout_s=timeout_s)
        return self

    def output(self) -> str:
        with open(self.log_path, "rb") as log:
            log.seek(self._offset)
            return log.read().decode(errors="replace")

    def wait_for(self, text: str, *, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}):\n{self.output()[-3000:]}")
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} did not print {text!r} in {timeout_s}s:\n{self.output()[-3000:]}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (a worker and its pool children)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)

    def stop(self, timeout_s: float = 20) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            return None


def celery_worker(log_path: Path, *, concurrency: int = 4, node: str = "", **env: str) -> ManagedProcess:
    """A worker; give each of several workers its own `node` name (Celery's nodename must be unique)."""
    args = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "aicmo",
        "worker",
        "--loglevel",
        "INFO",
        "--concurrency",
        str(concurrency),
        "--without-gossip",
        "--without-mingle",
        "--hostname",
        f"test-{os.getpid()}{'-' + node if node else ''}@%h",
    ]
    return ManagedProcess(args, env=process_env(**env), log_path=log_path, name="celery worker")


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(settings.TEST_REDIS_URL).flushdb()


# --- more processes: gunicorn, celery beat, a private Redis (drills) --------------------------------------------


def free_port() -> int:
    """A TCP port nobody listens on right now (for a private server)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, *, timeout_s: float = 60, expect: int | None = 200) -> int:
    """Poll `url` until it answers (with `expect`, when given); returns the status."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout_s
    last: object = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                last = response.status
        except urllib.error.HTTPError as error:
            last = error.code
        except OSError as error:
            last = error
        if isinstance(last, int) and (expect is None or last == expect):
            return last
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer {expect or 'at all'} in {timeout_s}s (last: {last!r})")


def gunicorn(
    log_path: Path, *, port: int | None = None, workers: int = 2, threads: int = 4, asgi: bool = True, **env: str
) -> ManagedProcess:
    """The production web server: gunicorn with uvicorn workers (ASGI), as the Dockerfile runs it; `asgi=False`
    is the old sync (WSGI, `threads` per process) shape, for comparisons. `process.url` is its base URL;
    `start(ready_text="Booting worker")`, then `wait_http(process.url + "/healthz")` when the test needs a
    healthy answer."""
    port = port or free_port()
    serving = (
        ["aicmo.asgi:application", "--worker-class", "uvicorn_worker.UvicornWorker"]
        if asgi
        else ["aicmo.wsgi", "--threads", str(threads)]
    )
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        *serving,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--timeout",
        "150",
        "--graceful-timeout",
        "20",
        "--access-logfile",
        "-",
    ]
    process = ManagedProcess(args, env=process_env(**env), log_path=log_path, name="gunicorn")
    process.url = f"http://127.0.0.1:{port}"
    return process


def uvicorn(log_path: Path, *, port: int | None = None, extra_args: Sequence[str] = (), **env: str) -> ManagedProcess:
    """The web server of `make run` (bin/dev): one uvicorn process. `start(ready_text=UVICORN_READY)`;
    `extra_args` are more uvicorn options (a benchmark's `--backlog`)."""
    port = port or free_port()
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "aicmo.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--lifespan",
        "off",  # Django's ASGI handler has no lifespan support
        "--no-access-log",
        *extra_args,
    ]
    process = ManagedProcess(args, env=process_env(**env), log_path=log_path, name="uvicorn")
    process.url = f"http://127.0.0.1:{port}"
    return process


UVICORN_READY = "Uvicorn running on"


def celery_beat(log_path: Path, **env: str) -> ManagedProcess:
    """A separate `celery beat` (the scheduler of docker-compose's `beat` service)."""
    args = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "aicmo",
        "beat",
        "--loglevel",
        "INFO",
        "--schedule",
        str(log_path.with_suffix(".schedule")),
    ]
    return ManagedProcess(args, env=process_env(**env), log_path=log_path, name="celery beat")


def redis_server(log_path: Path, *, port: int | None = None) -> ManagedProcess:
    """A private, throwaway Redis for drills that stop and restart the broker (never the shared one).
    `process.url` is its URL; `start(ready_text=REDIS_READY)`; stop and start it again on the same port."""
    port = port or free_port()
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = ManagedProcess(args, env=dict(os.environ), log_path=log_path, name="redis-server")
    process.url = f"redis://127.0.0.1:{port}/0"
    return process


REDIS_READY = "Ready to accept connections"


# --- `make run`'s supervisor (aicmo/devserver.py) and its embedded Redis --------------------------------------------


def short_var_dir() -> Path:
    """A fresh `var/` for a supervised run: short, since the embedded Redis's Unix socket path must fit in 100 bytes."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix="aicmo-var-"))


def embedded_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    """process_env() for `make run`'s shape: no REDIS_URL / CELERY_BROKER_URL, so the settings point everything at
    the embedded server on `var_dir/redis.sock`."""
    env = process_env(AICMO_VAR_DIR=str(var_dir), **overrides)
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        if name not in overrides:
            env.pop(name, None)
    return env


def devserver(
    log_path: Path, *, processes: dict[str, list[str]], env: dict[str, str], restarts: int = 5, grace_s: float = 6
) -> ManagedProcess:
    """`python -m aicmo.devserver` supervising `processes` (name -> argv); start(ready_text=...) on a child's line."""
    import shlex

    args = [sys.executable, "-m", "aicmo.devserver", "--restarts", str(restarts), "--grace", str(grace_s)]
    for name, argv in processes.items():
        args += ["--process", f"{name}={shlex.join(argv)}"]
    return ManagedProcess(args, env=env, log_path=log_path, name="devserver")


def make_run_processes(port: int, *, concurrency: int = 4, web: str = "uvicorn") -> dict[str, list[str]]:
    """bin/dev's three processes (the web server as `make run` starts it: uvicorn; or gunicorn for production)."""
    python = sys.executable
    if web == "uvicorn":
        web_args = [python, "-m", "uvicorn", "aicmo.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
        web_args += ["--no-access-log"]
    else:
        web_args = [
            python,
            "-m",
            "gunicorn",
            "aicmo.asgi:application",
            "--worker-class",
            "uvicorn_worker.UvicornWorker",
        ]
        web_args += ["--bind", f"127.0.0.1:{port}", "--workers", "2", "--access-logfile", "-"]
    worker = ["worker", "--loglevel", "INFO", "--concurrency", str(concurrency), "--without-gossip", "--without-mingle"]
    return {
        "web": web_args,
        "worker": [python, "-m", "celery", "-A", "aicmo", *worker],
        "beat": [python, "-m", "celery", "-A", "aicmo", "beat", "--loglevel", "INFO"],
    }


def children_of(pid: int) -> dict[int, str]:
    """Direct children of `pid`: {pid: command line} (from /proc, Linux)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except (OSError, ValueError, IndexError):
            continue
    return found


def supervised_pid(supervisor: ManagedProcess, marker: str) -> int:
    """The pid of the supervisor's child whose command line contains `marker` (e.g. " worker", " beat")."""
    matches = [pid for pid, cmd in children_of(supervisor.proc.pid).items() if marker in cmd]
    if len(matches) != 1:
        raise RuntimeError(f"expected one child matching {marker!r}, found {matches}")
    return matches[0]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")  # a zombie is gone


def s3_server(log_path: Path, *, port: int | None = None) -> ManagedProcess:
    """A local S3-compatible server (moto's server mode, from requirements-dev.txt) for the object-storage
    tests. `process.url` is its endpoint; `start(ready_text=S3_READY)`. Any access key is accepted."""
    port = port or free_port()
    args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process = ManagedProcess(args, env=dict(os.environ), log_path=log_path, name="moto s3 server")
    process.url = f"http://127.0.0.1:{port}"
    return process


S3_READY = "Running on"
