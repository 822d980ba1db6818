"""`make run`'s supervisor (aicmo/devserver.py) with real processes: the embedded Redis, web, worker and beat; a
SIGKILLed worker restarted; SIGTERM / Ctrl-C stopping everything within 10 s; a crash loop ending `make run` with
the name of what failed. And beat on its own: no schedule folder, SIGTERM."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from rest_framework.authtoken.models import Token

from aicmo.testing.processes import (
    ROOT,
    ManagedProcess,
    children_of,
    devserver,
    embedded_env,
    free_port,
    make_run_processes,
    pid_alive,
    process_env,
    short_var_dir,
    supervised_pid,
    wait_http,
)

pytestmark = pytest.mark.integration

SLEEPER = [sys.executable, "-c", "import time; print('sleeper up', flush=True); time.sleep(600)"]


def descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for child in children_of(todo.pop()):
            found.add(child)
            todo.append(child)
    return found


def wait_for(predicate, timeout_s: float, what: str, log=lambda: "") -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout_s} s\n{log()[-3000:]}")


@pytest.mark.django_db(transaction=True)
def test_make_run_restarts_a_killed_worker_and_stops_everything_within_10_s(marketer, tmp_path):
    var = short_var_dir()
    port = free_port()
    supervisor = devserver(
        tmp_path / "devserver.log",
        processes=make_run_processes(port, concurrency=2),
        env=embedded_env(var, AICMO_DEV_STUBS="1"),
    )
    supervisor.start(ready_text=" ready.", timeout_s=90)
    try:
        health = wait_http(f"http://127.0.0.1:{port}/healthz")
        assert health == 200  # the database and the embedded broker answer
        assert (var / "redis.sock").is_socket()
        wait_for(lambda: any(var.glob("celerybeat-schedule*")), 30, "beat wrote its schedule", supervisor.output)

        worker = supervised_pid(supervisor, " worker ")
        os.killpg(worker, signal.SIGKILL)  # the worker and its pool children
        wait_for(
            lambda: "make run: worker was killed by SIGKILL; restarting it (1/5 within 60 s)" in supervisor.output(),
            10,
            "the restart",
            supervisor.output,
        )
        wait_for(lambda: supervisor.output().count(" ready.") == 2, 60, "the new worker ready", supervisor.output)
        assert supervised_pid(supervisor, " worker ") != worker

        # The restarted worker takes work from the embedded broker: a generate call ends SUCCESS.
        token = Token.objects.create(user=marketer).key
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/campaigns/generate?wait=60",
            method="POST",
            data=json.dumps({"campaign_name": "Restart", "deliverables": ["campaign_brief"]}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
        )
        with urllib.request.urlopen(request, timeout=90) as response:
            assert (response.status, json.loads(response.read())["status"]) == (200, "SUCCESS")

        everyone = descendants(supervisor.proc.pid)
        assert len(everyone) >= 6  # redis, web, worker (+ 2 pool children), beat
        supervisor.proc.send_signal(signal.SIGTERM)
        took = wait_for(
            lambda: supervisor.proc.poll() is not None and not any(pid_alive(pid) for pid in everyone),
            10,
            "everything stopped",
            supervisor.output,
        )
    finally:
        supervisor.kill()
    assert supervisor.proc.returncode == 0
    assert took < 10
    assert not (var / "redis.sock").exists()


def test_ctrl_c_kills_a_child_that_ignores_sigterm_after_the_grace(tmp_path):
    stubborn = [
        sys.executable,
        "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('stubborn up', flush=True); "
        "time.sleep(600)",
    ]
    supervisor = devserver(
        tmp_path / "devserver.log",
        processes={"stubborn": stubborn, "sleeper": SLEEPER},
        env=embedded_env(short_var_dir()),
        grace_s=3,
    )
    supervisor.start(ready_text="sleeper up")
    supervisor.wait_for("stubborn up")
    everyone = descendants(supervisor.proc.pid)
    try:
        supervisor.proc.send_signal(signal.SIGINT)  # Ctrl-C
        took = wait_for(
            lambda: supervisor.proc.poll() is not None and not any(pid_alive(pid) for pid in everyone), 10, "stop"
        )
    finally:
        supervisor.kill()
    assert 3 <= took < 10
    assert "make run: stubborn did not stop within 3 s: killed" in supervisor.output()
    assert supervisor.proc.returncode == 0


def test_a_child_that_keeps_crashing_ends_make_run_naming_it(tmp_path):
    flaky = [sys.executable, "-c", "raise SystemExit(3)"]
    supervisor = devserver(
        tmp_path / "devserver.log",
        processes={"sleeper": SLEEPER, "flaky": flaky},
        env=embedded_env(short_var_dir()),
        restarts=2,
    )
    supervisor.start(ready_text="sleeper up")
    everyone = descendants(supervisor.proc.pid)
    try:
        code = supervisor.proc.wait(timeout=30)
    finally:
        supervisor.kill()
    output = supervisor.output()
    assert code == 1
    assert "make run: flaky exited (3); restarting it (1/2 within 60 s)" in output
    assert "make run: flaky exited (3); restarting it (2/2 within 60 s)" in output
    assert "make run: flaky exited (3), 3 times within 60 s: stopping everything." in output
    assert not any(pid_alive(pid) for pid in everyone)  # the sleeper and Redis went with it


def test_a_second_make_run_on_the_same_folder_is_refused(tmp_path):
    var = short_var_dir()
    first = devserver(tmp_path / "first.log", processes={"sleeper": SLEEPER}, env=embedded_env(var))
    first.start(ready_text="sleeper up")
    try:
        second = devserver(tmp_path / "second.log", processes={"sleeper": SLEEPER}, env=embedded_env(var))
        refused = subprocess.run(second.args, env=second.env, cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert refused.returncode == 1
        assert f"make run: a Redis server already answers on {var / 'redis.sock'}" in refused.stderr
        assert "sleeper up" not in refused.stdout  # nothing of its own was started
        assert first.proc.poll() is None  # the first one is untouched
    finally:
        first.stop()


@pytest.mark.django_db(transaction=True)
def test_beat_creates_its_missing_schedule_folder_and_exits_promptly_on_sigterm(tmp_path):
    schedule = tmp_path / "fresh-clone" / "var" / "celerybeat-schedule"
    args = [sys.executable, "-m", "celery", "-A", "aicmo", "beat", "--loglevel", "INFO", "--schedule", str(schedule)]
    beat = ManagedProcess(
        args, env=process_env(AICMO_SWEEP_INTERVAL_S="1"), log_path=tmp_path / "beat.log", name="beat"
    )
    beat.start(ready_text="beat: Starting...")
    try:
        beat.wait_for("Scheduler: Sending due task requeue-stuck-runs", timeout_s=30)  # it runs: not a silent crash
        assert schedule.parent.is_dir()
        beat.proc.send_signal(signal.SIGTERM)  # the main process only, as docker stop does
        took = wait_for(lambda: beat.proc.poll() is not None, 10, "beat exited", beat.output)
    finally:
        beat.kill()
    assert took < 5
    assert beat.proc.returncode == 0


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, ("unix://{var}/redis.sock?db=0", "redis+socket://{var}/redis.sock?virtual_host=0", "True")),
        ({"REDIS_URL": ""}, ("unix://{var}/redis.sock?db=0", "redis+socket://{var}/redis.sock?virtual_host=0", "True")),
        ({"REDIS_URL": "redis://cache:6379/3"}, ("redis://cache:6379/3", "redis://cache:6379/3", "False")),
        ({"CELERY_BROKER_URL": "redis://queue:6379/1"}, ("redis://queue:6379/1", "redis://queue:6379/1", "False")),
        (
            {"REDIS_URL": "unix:///run/redis.sock?db=2"},
            ("unix:///run/redis.sock?db=2", "redis+socket:///run/redis.sock?virtual_host=2", "False"),
        ),
    ],
    ids=["unset", "empty", "redis-url", "broker-only", "own-socket"],
)
def test_settings_point_everything_at_the_embedded_redis_unless_told_otherwise(env, expected, tmp_path):
    environment = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    environment.update(AICMO_VAR_DIR=str(tmp_path), **env)
    code = "from aicmo.settings import base as b; print(b.REDIS_URL, b.CELERY_BROKER_URL, b.REDIS_IS_EMBEDDED)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True)

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [value.format(var=tmp_path) for value in expected]
