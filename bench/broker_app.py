"""The tiny Celery app of bench/make_run.py: one task that records how long its message took from publish to pick-up.

Configured like the product's worker (acks_late, prefetch 1) on the broker named by BENCH_BROKER_URL, so the two
transports compared differ only in the transport."""

import json
import os
import time

from celery import Celery

app = Celery("bench_broker", broker=os.environ.get("BENCH_BROKER_URL", "memory://"))
app.conf.update(
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_transport_options=json.loads(os.environ.get("BENCH_BROKER_OPTIONS", "{}")),
    broker_connection_retry_on_startup=True,
)


@app.task(name="bench.pickup")
def pickup(published_at: float, round_no: int, index: int) -> None:
    picked = time.time()
    # One short line per task, appended (O_APPEND): pool processes never interleave within a line.
    with open(os.environ["BENCH_PICKUP_LOG"], "a") as log:
        log.write(f"{round_no} {index} {picked - published_at:.6f}\n")
