"""`python -m bench [name ...]`: run every benchmark (or the named ones) and rewrite docs/benchmarks.md.

Names: fanout throughput chain failover api pages exports studio makerun waits shortener. Results of benchmarks
not run this time are kept from the previous docs/benchmarks.md. Exit status is 0 unless the command line is wrong:
benchmarks never fail a build.
"""

import argparse
import datetime
import importlib
import signal
import sys
import time
import traceback

BENCHMARKS = {
    "fanout": ("bench.fanout", "Fan-out: one run of N deliverables through real workers"),
    "throughput": ("bench.throughput", "Worker throughput: LLM calls per second"),
    "chain": ("bench.chain_overhead", "Chain overhead per call, vs the plain SDK and LiteLLM's Router"),
    "failover": ("bench.failover", "Failover: primary returns 500, or hangs"),
    "api": ("bench.api", "API: POST /api/v1/campaigns/generate under gunicorn"),
    "pages": ("bench.pages", "Pages: run page and approvals queue at 10 vs 500 deliverables"),
    "exports": ("bench.exports", "Exports: PDF and PPTX of 100 and 500 deliverables; DOCX, ZIP, MD, JSON, CSV of 500"),
    "studio": ("bench.studio_ttft", "Studio: N concurrent open ChatKit streams (TTFT overhead, /healthz, memory)"),
    "makerun": ("bench.make_run", "make run: embedded Redis vs the filesystem broker, and cold start"),
    "waits": ("bench.waits", "Waits: N open ?wait= requests under uvicorn"),
    "shortener": ("bench.shortener", "Shortener: pieces within their limit at first save, long answers"),
}


def _stop(signum, frame):  # a SIGTERM unwinds like Ctrl-C, so every `finally` stops what it started
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"a subset of: {' '.join(BENCHMARKS)}")
    parser.add_argument("--no-doc", action="store_true", help="print the results, leave docs/benchmarks.md as is")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="run nothing: rewrite docs/benchmarks.md from its own results (after editing bench/findings.md)",
    )
    args = parser.parse_args(argv)
    if args.render_only:
        from . import report

        print(f"wrote {report.write([])}")
        return 0
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    names = args.names or list(BENCHMARKS)
    signal.signal(signal.SIGTERM, _stop)

    from . import report
    from .common import LoadProbe, Result, code_state, machine, setup_django, short_sha

    setup_django()
    results = []
    begun = time.monotonic()
    for name in names:
        module_name, title = BENCHMARKS[name]
        command = " ".join([".venv/bin/python -m bench", *args.names])  # as it was run (`make bench`: all)
        result = Result(
            name=name,
            title=title,
            command=command,
            machine=machine(),
            started=datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            commit=code_state(),
        )
        print(f"== {name}: {title}", flush=True)
        started = time.monotonic()
        probe = LoadProbe()
        try:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as error:
                if error.name != module_name:
                    raise
                result.error = f"not available yet: {module_name} does not exist"
            else:
                module.run(result)
        except KeyboardInterrupt:
            print("interrupted: processes stopped, document left as it was", file=sys.stderr)
            return 130
        except Exception as error:  # one benchmark's failure is reported, the others still run
            traceback.print_exc()
            result.error = f"{type(error).__name__}: {error}"[:500]
        result.duration_s = round(time.monotonic() - started, 1)
        result.load = probe.summary()
        if code_state() != result.commit:  # the code changed while it was measured: these figures describe neither
            result.commit = {**result.commit, "dirty": True, "changed": ["the code changed during the run"]}
        load = result.load
        print(
            f"  [{result.duration_s:.0f} s; load {load['start']} -> {load['end']}; CPU busy {load['machine_busy_pct']}%"
            f" (this benchmark {load['own_pct']}%, others {load['others_pct']}%); commit {short_sha(result.commit)}]",
            flush=True,
        )
        for figure in result.figures:
            verdict = "" if figure.met is None else ("  met" if figure.met else "  MISSED")
            print(f"  {figure.label}: {figure.shown()}  {figure.target}{verdict}", flush=True)
        results.append(result)
    durations = ", ".join(f"{r.name} {r.duration_s:.0f} s" for r in results)
    print(f"== {len(results)} benchmark(s) in {time.monotonic() - begun:.0f} s: {durations}", flush=True)
    if not args.no_doc:
        path = report.write(results)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
