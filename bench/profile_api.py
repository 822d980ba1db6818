"""Profile one API request in-process: `python -m bench.profile_api [generate|bare|list] [--requests N]`.

The same requests as the API benchmark (token-authenticated, `?wait=0`, with the bench URLconf bench/urls.py, on
$BENCH_DATABASE_URL and $BENCH_REDIS_URL, whose queue is flushed afterwards), through Django's test client, under
pyinstrument; prints the time and the SQL statements of one request, then the profile (`--html FILE` to save it).
The server of the benchmark runs the same code under uvicorn workers; `py-spy record --pid` profiles that one.
"""

import argparse
import json
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("endpoint", choices=["generate", "bare", "list"], nargs="?", default="generate")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--html", help="also write the profile as HTML here")
    parser.add_argument("--no-profile", action="store_true", help="only time it")
    parser.add_argument("--flat", action="store_true", help="the profile as functions by their own time")
    args = parser.parse_args()

    from .common import flush_redis, setup_django

    # Read into DRF's throttle class when it is defined (override_settings comes too late): exercised, never refused.
    os.environ["AICMO_GENERATE_RATE"] = "1000000/min"
    setup_django()
    from django.db import connection
    from django.test import Client, override_settings

    from .api import BARE_PATH, BRIEF, GENERATE_PATH, HEADERS, LIST_PATH, _tokens

    token = _tokens()[0]
    client = Client(HTTP_AUTHORIZATION=f"Token {token}", headers=HEADERS)

    def request():
        if args.endpoint == "generate":
            response = client.post(GENERATE_PATH, json.dumps(BRIEF), content_type="application/json")
        else:
            response = client.get(BARE_PATH if args.endpoint == "bare" else LIST_PATH)
        assert response.status_code in (200, 202), (response.status_code, response.content[-400:])

    with override_settings(ROOT_URLCONF="bench.urls"):
        for _ in range(10):
            request()
        statements: list[str] = []
        with connection.execute_wrapper(
            lambda execute, sql, params, many, context: (statements.append(sql), execute(sql, params, many, context))[1]
        ):
            request()
        profiler = None
        if not args.no_profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.requests):
            request()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        if profiler is not None:
            profiler.stop()
    flush_redis()
    print(
        f"{args.endpoint}: {wall / args.requests * 1000:.2f} ms wall, {cpu / args.requests * 1000:.2f} ms CPU per "
        f"request; {len(statements)} SQL statements"
    )
    for sql in statements:
        print("   ", sql[:160])
    if profiler is not None:
        print(profiler.output_text(unicode=True, color=False, flat=args.flat))
        if args.html:
            with open(args.html, "w") as out:
                out.write(profiler.output_html())


if __name__ == "__main__":
    main()
