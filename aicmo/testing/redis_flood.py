"""Another process misbehaving on the machine's Redis, to show the test suite cannot be reached by it:
`python -m aicmo.testing.redis_flood --seconds 900` pushes fake Celery messages, writes keys and flushes
databases 0–15 of redis://127.0.0.1:6379 in a loop (bounded in time), while `make test` runs beside it."""

import argparse
import json
import random
import time

import redis


def flood(url: str, seconds: float) -> dict[str, int]:
    deadline = time.monotonic() + seconds
    counts = {"messages": 0, "keys": 0, "flushes": 0}
    clients = [redis.Redis.from_url(url, db=db) for db in range(16)]
    while time.monotonic() < deadline:
        client = random.choice(clients)
        pipe = client.pipeline()
        for n in range(50):
            pipe.lpush("celery", json.dumps({"body": "bm9pc2U=", "headers": {"task": "noise"}, "n": n}))
            pipe.set(f"aicmo:noise:{n}", "x" * 100, ex=30)
        pipe.execute()
        counts["messages"] += 50
        counts["keys"] += 50
        if random.random() < 0.2:
            client.flushdb()
            counts["flushes"] += 1
        time.sleep(0.01)
    return counts


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--seconds", type=float, default=600)
    args = parser.parse_args()
    print(json.dumps(flood(args.url, args.seconds)))
