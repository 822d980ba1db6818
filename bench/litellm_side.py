"""The LiteLLM side of the chain and failover benchmarks. Runs in its own virtualenv (var/bench-litellm, made by
`make bench` from bench/requirements-litellm.txt): LiteLLM pins an older `openai` SDK than the product's, so it
cannot share the project's .venv. Standard library, `litellm` and `openai` only; no Django.

    python bench/litellm_side.py overhead --base-url URL --request FILE --samples 300 [--log-level WARNING]
    python bench/litellm_side.py failover --primary URL --fallback URL --request FILE --timeout 5

Prints one JSON object on stdout: the samples, in seconds. Each Router is built once, as AICMO's chain keeps its
providers' SDK clients, and LiteLLM's loggers run at `--log-level` (the level AICMO's loggers run at on the other
side: WARNING by default).
"""

import argparse
import importlib.metadata
import json
import logging
import os
import statistics
import sys
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no download of the price list at import
os.environ.setdefault("LITELLM_TELEMETRY", "False")

KEY = "sk-bench"


LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")


def _router(model_list, *, log_level: str, **kwargs):
    import litellm
    from litellm import Router

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    for name in LOGGERS:
        logging.getLogger(name).setLevel(log_level)
    return Router(model_list=model_list, **kwargs)


def _reset_cooldowns(router) -> None:
    """Forget every deployment's cooldown and the counts that open one (ours: `cooldown.reset`), keeping the
    router and the SDK clients it holds; checked, since these are LiteLLM's internals (1.106: the router's
    in-memory cache holds `<id>:fails`, `<id>:successes` and `deployment:<id>:allowed_fails[:<kind>]`, its
    cooldown store `deployment:<id>:cooldown`)."""
    from litellm.router_utils.cooldown_cache import CooldownCache

    model_ids = router.get_model_ids()
    memory = router.cache.in_memory_cache
    for model_id in model_ids:
        router.cooldown_cache.cooldown_store.delete_cache(CooldownCache.get_cooldown_cache_key(model_id))
        counts = (f"{model_id}:fails", f"{model_id}:successes", f"deployment:{model_id}:allowed_fails")
        for key in [k for k in list(memory.cache_dict) if k.startswith(counts)]:
            router.cache.delete_cache(key)
    active = router.cooldown_cache.get_active_cooldowns(model_ids=model_ids, parent_otel_span=None)
    left = [k for k in memory.cache_dict if any(model_id in k for model_id in model_ids) and "fail" in k]
    if active or left:
        raise RuntimeError(f"LiteLLM state left after the reset: cooldowns {active}, counts {left}")


def _deployment(name: str, base_url: str, model: str, timeout: float) -> dict:
    return {
        "model_name": name,
        "litellm_params": {
            "model": f"openai/{model}",
            "api_base": base_url,
            "api_key": KEY,
            "timeout": timeout,
            "max_retries": 0,
        },
    }


def _load(path: str) -> dict:
    with open(path) as spec:
        return json.load(spec)


def _call_kwargs(request: dict) -> dict:
    return {
        key: request[key]
        for key in ("messages", "temperature", "response_format", "max_completion_tokens")
        if key in request
    }


def overhead(args) -> dict:
    import openai

    request = _load(args.request)
    router = _router(
        [_deployment("primary", args.base_url, request["model"], 60)], log_level=args.log_level, num_retries=0
    )
    client = openai.OpenAI(api_key=KEY, base_url=args.base_url, max_retries=0, timeout=60)

    def direct():
        response = client.chat.completions.create(**request)
        json.loads(response.choices[0].message.content)

    def routed():
        response = router.completion(model="primary", **_call_kwargs(request))
        json.loads(response.choices[0].message.content)

    for _ in range(args.warmup):
        direct()
        routed()
    samples: dict[str, list[float]] = {"direct": [], "router": []}
    for i in range(args.samples):
        order = (("direct", direct), ("router", routed)) if i % 2 else (("router", routed), ("direct", direct))
        for name, call in order:
            started = time.perf_counter()
            call()
            samples[name].append(time.perf_counter() - started)
    return {"litellm": importlib.metadata.version("litellm"), "openai": importlib.metadata.version("openai"), **samples}


def failover(args) -> dict:
    """Calls through one router (built once, like AICMO's chain) whose `primary` fails (the server at --primary)
    and falls back to `fallback`; each is paired with a healthy call straight to `fallback` through the same
    router. Cooldowns and failure counts are reset before each round, so every round starts with the primary
    not cooling down."""
    request = _load(args.request)
    results: dict = {"litellm": importlib.metadata.version("litellm"), "rounds": []}
    router = _router(
        [
            _deployment("primary", args.primary, request["model"], args.timeout),
            _deployment("fallback", args.fallback, request["model"], args.timeout),
        ],
        log_level=args.log_level,
        fallbacks=[{"primary": ["fallback"]}],
        num_retries=0,
        timeout=args.timeout,
        allowed_fails=args.allowed_fails,
        cooldown_time=60,
    )
    for _ in range(5):  # warm the fallback's client (a healthy call, as the reference)
        router.completion(model="fallback", **_call_kwargs(request))
    for _ in range(args.rounds):
        _reset_cooldowns(router)
        times, errors, healthy = [], [], []
        for _ in range(args.calls):
            started = time.perf_counter()
            router.completion(model="fallback", **_call_kwargs(request))
            healthy.append(time.perf_counter() - started)
            started = time.perf_counter()
            try:
                router.completion(model="primary", **_call_kwargs(request))
                times.append(time.perf_counter() - started)
            except Exception as error:  # reported, not raised: the comparison shows it
                times.append(None)
                errors.append(f"{type(error).__name__}: {str(error)[:200]}")
        results["rounds"].append({"times": times, "errors": errors, "healthy": healthy})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("overhead")
    one.add_argument("--base-url", required=True)
    one.add_argument("--request", required=True)
    one.add_argument("--samples", type=int, default=300)
    one.add_argument("--warmup", type=int, default=20)
    two = sub.add_parser("failover")
    two.add_argument("--primary", required=True)
    two.add_argument("--fallback", required=True)
    two.add_argument("--request", required=True)
    two.add_argument("--timeout", type=float, default=5.0)
    two.add_argument("--rounds", type=int, default=3)
    two.add_argument("--calls", type=int, default=8)
    two.add_argument("--allowed-fails", type=int, default=2)
    for command in (one, two):
        command.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args()
    out = overhead(args) if args.command == "overhead" else failover(args)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    if args.command == "overhead":
        extra = statistics.median(out["router"]) - statistics.median(out["direct"])
        print(f"router - direct (medians): {extra * 1000:.2f} ms", file=sys.stderr)


if __name__ == "__main__":
    main()
