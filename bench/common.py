"""What every benchmark shares: Django on `aicmo_bench`, the processes it starts, statistics and results."""

import contextlib
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
LOG_DIR = VAR / "logs"
LITELLM_VENV = ROOT / "var" / "bench-litellm"
LITELLM_PYTHON = LITELLM_VENV / "bin" / "python"

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/aicmo_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
FAKE_KEY = "sk-bench"


# --- results -------------------------------------------------------------------------------------------------


@dataclass
class Figure:
    """One number of the table in docs/benchmarks.md."""

    key: str  # stable id, e.g. "fanout.6"
    label: str
    value: float | None
    unit: str = ""  # appended after the value ("ms", "s", "req/s", "×", "MiB")
    digits: int = 2
    target: str = ""  # e.g. "≤ 1.5"; empty for an informative figure
    met: bool | None = None  # None when there is no target or nothing was measured

    def shown(self) -> str:
        if self.value is None:
            return "—"
        value = self.value if round(self.value, self.digits) != 0 else 0.0  # no "-0.0"
        return f"{value:.{self.digits}f}{(' ' + self.unit) if self.unit and self.unit != '×' else self.unit}"


@dataclass
class Result:
    name: str
    title: str
    command: str
    figures: list[Figure] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # Markdown lines: method, samples, observations
    started: str = ""
    duration_s: float = 0.0
    error: str | None = None
    machine: dict = field(default_factory=dict)  # CPU model, cores, RAM, Python, load average at the start
    commit: dict = field(default_factory=dict)  # the code measured: code_state() (sha, dirty, changed)
    load: dict = field(default_factory=dict)  # the machine's load over the section: LoadProbe.summary()

    def figure(
        self,
        key: str,
        label: str,
        value: float | None,
        *,
        unit: str = "",
        digits: int = 2,
        target: str = "",
        check: Callable[[float], bool] | None = None,
    ) -> Figure:
        met = None if value is None or check is None else bool(check(value))
        figure = Figure(key, label, value, unit, digits, target, met)
        self.figures.append(figure)
        return figure

    def note(self, line: str) -> None:
        self.details.append(line)
        print(f"  {line}", flush=True)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Result":
        figures = [Figure(**f) for f in data.get("figures", [])]
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{**{k: v for k, v in data.items() if k in known}, "figures": figures})


# --- statistics ----------------------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (q in 0..100)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ms(seconds: float) -> float:
    return seconds * 1000


# --- the machine, its load, and the code measured ------------------------------------------------------------


def machine() -> dict:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ram_gib = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "ram_gib": ram_gib,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "load": _loadavg(),
    }


def _loadavg() -> str:
    load = os.getloadavg()
    return f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"


# What the bench writes (its results, its charts) and the findings written by hand: a commit that changes only
# these changes no code measured, so figures measured before it still describe the code after it.
NOT_CODE = ("docs/benchmarks.md", "docs/bench-*.svg", "bench/findings.md")


def _pathspec() -> list[str]:
    return [".", *(f":(exclude){path}" for path in NOT_CODE)]


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=60)


def code_state(root: Path = ROOT) -> dict:
    """The code a benchmark measures: `sha` (HEAD), `dirty` (the work tree has changes, tracked or untracked,
    outside NOT_CODE) and `changed` (the first of those paths)."""
    head = _git(root, "rev-parse", "HEAD")
    if head.returncode != 0:
        return {"sha": "", "dirty": True, "changed": [f"no git commit: {head.stderr.strip()[:200]}"]}
    status = _git(root, "status", "--porcelain", "--untracked-files=all", "--", *_pathspec())
    changed = [line[3:] for line in status.stdout.splitlines() if line.strip()]
    if status.returncode != 0:
        changed = [f"git status failed: {status.stderr.strip()[:200]}"]
    return {"sha": head.stdout.strip(), "dirty": bool(changed), "changed": changed[:10]}


def same_code(measured: dict, current: dict, root: Path = ROOT) -> bool:
    """Whether figures measured at `measured` (a code_state) measure the code `current` describes: both work trees
    clean, and no file outside NOT_CODE differs between the two commits (a docs-only commit after the run keeps
    its figures current)."""
    if not measured.get("sha") or measured.get("dirty") or not current.get("sha") or current.get("dirty"):
        return False
    if measured["sha"] == current["sha"]:
        return True
    diff = _git(root, "diff", "--quiet", measured["sha"], current["sha"], "--", *_pathspec())
    return diff.returncode == 0  # 1: they differ; 128: a commit this repository does not have


def short_sha(state: dict) -> str:
    if not state.get("sha"):
        return "unknown"
    return state["sha"][:7] + ("-dirty" if state.get("dirty") else "")


def _processes() -> dict[tuple[int, int], tuple[str, int, int, int]]:
    """Every live process: (pid, start time) -> (command name, parent pid, CPU ticks it used itself, CPU ticks
    of the children it has reaped)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        fields = tail.split()  # fields[0] is stat's field 3 (state)
        out[int(entry.name), int(fields[19])] = (
            head.split("(", 1)[1],
            int(fields[1]),
            int(fields[11]) + int(fields[12]),  # utime, stime
            int(fields[13]) + int(fields[14]),  # cutime, cstime
        )
    return out


class LoadProbe:
    """The machine's load over one benchmark section: load average at the start and the end, the machine's busy
    CPU (/proc/stat), the part of it this benchmark's processes used (this one and its descendants, with the
    children they reaped) and so the part others used, with the busiest of them by name."""

    def __init__(self):
        self.load_start = _loadavg()
        self.started = time.monotonic()
        self.machine_start = machine_cpu()
        self.processes = _processes()

    def summary(self, top: int = 4) -> dict:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        busy_end, _ = machine_cpu()
        processes = _processes()
        capacity = elapsed * (os.cpu_count() or 1) * _TICK / 100  # ticks that make 1 % of the machine
        parents = {pid: info[1] for (pid, _), info in {**self.processes, **processes}.items()}
        own = os.getpid()

        def ours(pid: int) -> bool:
            seen = set()
            while pid > 1 and pid not in seen:
                if pid == own:
                    return True
                seen.add(pid)
                pid = parents.get(pid, 0)
            return False

        own_ticks = 0
        others: dict[str, int] = {}
        for key, (name, _, itself, reaped) in processes.items():
            before = self.processes.get(key, ("", 0, 0, 0))
            if ours(key[0]):  # with what its children used (this benchmark waits for the processes it starts)
                own_ticks += itself + reaped - before[2] - before[3]
            elif itself > before[2]:  # others' short-lived processes are missed: the total comes from /proc/stat
                others[name] = others.get(name, 0) + itself - before[2]
        for key, (_, parent, itself, reaped) in self.processes.items():
            if key not in processes and ours(key[0]) and ours(parent):  # ended, reaped by its parent: what it
                own_ticks -= itself + reaped  # used before the start is in the parent's reaped ticks too
        busy_ticks = (busy_end - self.machine_start[0]) * _TICK
        busiest = sorted(others.items(), key=lambda item: -item[1])[:top]
        return {
            "start": self.load_start,
            "end": _loadavg(),
            "seconds": round(elapsed, 1),
            "machine_busy_pct": round(busy_ticks / capacity, 1),
            "own_pct": round(own_ticks / capacity, 1),
            "others_pct": round(max(0.0, busy_ticks - own_ticks) / capacity, 1),
            "others_top": [[name, round(ticks / capacity, 1)] for name, ticks in busiest],
        }


# --- Django on aicmo_bench ------------------------------------------------------------------------------------

_ready = False


def setup_django() -> None:
    """Create `aicmo_bench` if missing, configure Django for it, and migrate (once per process)."""
    global _ready
    if _ready:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    _ensure_database()
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    _ready = True


def _ensure_database() -> None:
    from urllib.parse import urlparse

    import psycopg
    from psycopg import sql

    url = urlparse(DATABASE_URL)
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"  created database {name}", flush=True)


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def bench_brand(slug: str = "bench"):
    """A brand with a kit, as the prompts expect."""
    from brands.models import Brand

    brand, _ = Brand.objects.get_or_create(
        slug=slug,
        defaults={
            "name": f"Bench Roasters ({slug})",
            "industry": "Specialty coffee",
            "audience": "Urban professionals",
            "tone_of_voice": "Warm and knowledgeable",
            "languages": ["en"],
            "voice_examples": ["Coffee worth waking up for."],
        },
    )
    return brand


def bench_user(username: str, brand, *, role: str = "marketer"):
    from django.contrib.auth import get_user_model

    from brands.models import Membership

    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"email": f"{username}@example.com"}
    )
    if created:
        user.set_password("bench-pass-123")
        user.save()
    Membership.objects.update_or_create(user=user, brand=brand, defaults={"role": role})
    return user


# The level both sides of a comparison with LiteLLM log at (AICMO's loggers here, LiteLLM's in litellm_side.py):
# the product's INFO line per call is then measured separately, as its own variant.
COMPARED_LOG_LEVEL = "WARNING"
PRODUCT_LOGGERS = ("aicmo", "brands", "campaigns", "creatives", "deliverables")


@contextlib.contextmanager
def product_log_level(level: str) -> Iterator[None]:
    """The product's loggers at `level` for a while (the driver's settings log them at INFO, to a file)."""
    import logging

    loggers = [logging.getLogger(name) for name in PRODUCT_LOGGERS]
    previous = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(level)
    try:
        yield
    finally:
        for logger, old in zip(loggers, previous, strict=True):
            logger.setLevel(old)


# --- processes -----------------------------------------------------------------------------------------------


def child_env(**overrides: str) -> dict[str, str]:
    """Environment overrides of a worker or web process (on top of aicmo.testing.processes.process_env, which
    points it at this process's database and Redis): the product's settings, configured like production."""
    return {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-insecure-secret-key",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "AICMO_DEV_STUBS": "0",
        **overrides,
    }


def provider_env(openai_base_url: str, **overrides: str) -> dict[str, str]:
    """Only the OpenAI provider, at the fake server; no fallback (offline is off with debug and stubs off)."""
    return {
        "OPENAI_API_KEY": FAKE_KEY,
        "OPENAI_BASE_URL": openai_base_url,
        "AICMO_LLM_PRIMARY_PROVIDER": "openai",
        "AICMO_LLM_FALLBACK_PROVIDERS": "",
        **overrides,
    }


@contextlib.contextmanager
def fake_server(name: str, *, latency: float = 0.0, status: int = 200) -> Iterator:
    """The product's fake OpenAI/Anthropic server, in its own process (its CLI). `latency` 3600 = a hung provider.
    Yields the process; `.url` is the server's base URL (OpenAI base URL: `.url + "/v1"`)."""
    from aicmo.testing.processes import ManagedProcess, free_port

    port = free_port()
    args = [
        sys.executable,
        "-m",
        "aicmo.testing.fake_llm_server",
        "--port",
        str(port),
        "--latency",
        str(latency),
        "--status",
        str(status),
    ]
    process = ManagedProcess(
        args,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        log_path=LOG_DIR / f"fake-{name}.log",
        name=f"fake server {name}",
    )
    process.url = f"http://127.0.0.1:{port}"
    try:
        process.start(ready_text="fake LLM server on", timeout_s=30)
        yield process
    finally:
        process.stop(timeout_s=5)


@contextlib.contextmanager
def celery_workers(count: int, *, concurrency: int, env: dict[str, str], tag: str) -> Iterator[list]:
    """`count` real Celery worker processes (prefork, like docker-compose's worker), each with `concurrency`."""
    from aicmo.testing.processes import celery_worker

    workers = []
    try:
        for i in range(count):
            worker = celery_worker(LOG_DIR / f"worker-{tag}-{i}.log", concurrency=concurrency, **child_env(**env))
            worker.args[worker.args.index("--hostname") + 1] = f"bench-{tag}-{i}-{os.getpid()}@%h"  # unique names
            workers.append(worker)
            worker.start(ready_text="ready.", timeout_s=120)
        yield workers
    finally:
        for worker in workers:
            worker.stop(timeout_s=30)


def wait_until(predicate: Callable[[], bool], *, timeout_s: float, interval_s: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return predicate()


def direct_call_latency(base_url: str, samples: int = 5) -> float:
    """Median seconds of one plain SDK call to the fake server: the 'one call' of the fan-out ratios."""
    import openai

    client = openai.OpenAI(api_key=FAKE_KEY, base_url=base_url, max_retries=0, timeout=60)
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        client.chat.completions.create(model="gpt-4.1-mini", messages=[{"role": "user", "content": "ping"}])
        times.append(time.perf_counter() - started)
    client.close()
    return median(times)


# --- CPU accounting (Linux /proc) ---------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def group_cpu_s(pgids: Sequence[int]) -> float:
    """CPU seconds (user + system) used so far by every live process in these process groups."""
    wanted = set(pgids)
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in wanted:  # field 5 of stat, the process group
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / _TICK, sum(values) / _TICK


def named_cpu_s(names: Sequence[str]) -> float:
    """CPU seconds used so far by every live process whose command name is one of `names` (e.g. postgres),
    including the children they have reaped (PostgreSQL's ended backends count in the postmaster's)."""
    wanted = set(names)
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        if head.split("(", 1)[1] in wanted:
            fields = tail.split()
            total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return total / _TICK


def delete_runs(brand) -> None:
    """Forget a benchmark brand's earlier runs and campaigns, so the database does not grow run after run."""
    from campaigns.models import Campaign
    from deliverables.models import Run

    Run.objects.filter(brand=brand).delete()
    Campaign.objects.filter(brand=brand).delete()
