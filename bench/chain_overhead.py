"""3. Chain overhead: the time the provider chain adds to a call, vs a plain SDK call of the same request to the
same fake server (latency 0), interleaved; and the same for LiteLLM's Router, side by side.

Our side: `get_chain().complete(request)` (as a worker calls it: registry, cooldown checks in Redis, the OpenAI
provider, JSON Schema validation, bookkeeping) vs `openai.OpenAI(...).chat.completions.create` with the identical
parameters, a campaign-brief request with its JSON Schema. The compared figure runs the product's loggers at
WARNING, the level LiteLLM's run at on its side; two more variants add what a worker adds: the chain's INFO log
line per call (JSON, to a file) and then the ProviderCall row. LiteLLM's side runs in its own virtualenv (it
needs an older `openai` SDK): one Router, built once (as our chain's clients are cached), `Router.completion`
vs that SDK's plain call, also interleaved.
"""

import json
import subprocess
import tempfile
import time

from .common import (
    COMPARED_LOG_LEVEL,
    FAKE_KEY,
    LITELLM_PYTHON,
    ROOT,
    Result,
    fake_server,
    median,
    ms,
    product_log_level,
)

SAMPLES = 300
WARMUP = 20
TARGET_MS = 1.0  # and below LiteLLM's overhead in the same run
LITELLM_LABEL = "LiteLLM Router overhead per call (median router − median direct SDK)"


def bench_request():
    """A campaign brief's request, as a worker builds it."""
    from django.utils import timezone

    from deliverables.prompts import deliverable_request

    from .common import bench_brand

    context = {
        "module": "campaigns",
        "brand": bench_brand().kit(),
        "start_date": timezone.localdate().isoformat(),
        "brief": {
            "campaign_name": "Autumn launch",
            "objectives": ["Awareness", "Trial"],
            "platforms": ["linkedin", "instagram"],
            "timeline_days": 30,
            "audience": "Urban professionals",
            "key_message": "Freshly roasted, delivered weekly",
        },
        "platform": None,
        "variant": None,
    }
    return deliverable_request(kind="campaign_brief", context=context, trace_id="bench")


def run(result: Result) -> None:
    import openai
    from django.test import override_settings

    from aicmo.llm.registry import get_chain
    from deliverables.models import Deliverable, Run
    from deliverables.services.slot_worker import _recorder

    from .common import bench_brand

    request = bench_request()
    with fake_server("chain", latency=0.0) as fake:
        base_url = fake.url + "/v1"
        with override_settings(
            OPENAI_API_KEY=FAKE_KEY,
            OPENAI_BASE_URL=base_url,
            AICMO_LLM_PRIMARY_PROVIDER="openai",
            AICMO_LLM_FALLBACK_PROVIDERS=[],
            AICMO_FORCE_LLM_PROVIDER_FAIL=[],
        ):
            provider = get_chain().providers[0]
            params = provider._params(request)
            client = openai.OpenAI(api_key=FAKE_KEY, base_url=base_url, max_retries=0, timeout=60)
            run_row = Run.objects.create(module="campaigns", brand=bench_brand(), trace_id="bench-chain")
            slot = Deliverable.objects.create(run=run_row, kind="campaign_brief")
            recorder = _recorder(run_row, slot)

            def direct():
                response = client.chat.completions.create(**params)
                json.loads(response.choices[0].message.content)

            def chain():
                get_chain().complete(request)

            def chain_recorded():
                get_chain(recorder=recorder).complete(request)

            variants = {  # name: (the product's log level, the call)
                "direct": (COMPARED_LOG_LEVEL, direct),
                "chain": (COMPARED_LOG_LEVEL, chain),
                "chain + INFO log line": ("INFO", chain),
                "chain + INFO log line + ProviderCall row": ("INFO", chain_recorded),
            }
            samples = _interleaved(variants)
            run_row.delete()

        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as spec:
            json.dump(params, spec)
        litellm = _litellm(base_url, spec.name)

    direct_ms = ms(median(samples["direct"]))
    chain_ms = ms(median(samples["chain"]))
    logged_ms = ms(median(samples["chain + INFO log line"]))
    recorded_ms = ms(median(samples["chain + INFO log line + ProviderCall row"]))
    paired = [ms(c - d) for c, d in zip(samples["chain"], samples["direct"], strict=True)]
    theirs = None
    if litellm is not None and "error" not in litellm:
        theirs = ms(median(litellm["router"])) - ms(median(litellm["direct"]))
    overhead = chain_ms - direct_ms
    result.figure(
        "chain.overhead",
        f"Chain overhead per call (median chain − median direct SDK), loggers at {COMPARED_LOG_LEVEL} as LiteLLM's",
        overhead,
        unit="ms",
        target=f"≤ {TARGET_MS:g} ms and below LiteLLM's"
        if theirs is not None
        else f"≤ {TARGET_MS:g} ms (LiteLLM not measured)",
        check=lambda v: v <= TARGET_MS and (theirs is None or v < theirs),
    )
    result.figure(
        "chain.overhead.logged",
        "Chain overhead per call with its INFO log line (the product's default level)",
        logged_ms - direct_ms,
        unit="ms",
    )
    result.figure(
        "chain.overhead.recorded",
        "Chain overhead per call with its INFO log line and its ProviderCall row, as in a worker",
        recorded_ms - direct_ms,
        unit="ms",
    )
    result.note(
        f"{SAMPLES} calls of each variant, interleaved (order rotated), after {WARMUP} warm-up calls; fake "
        f"server latency 0, in its own process; request: a campaign brief with its JSON Schema"
    )
    result.note(
        f"medians: direct SDK {direct_ms:.2f} ms, chain {chain_ms:.2f} ms, with its INFO log line "
        f"{logged_ms:.2f} ms, and its ProviderCall row {recorded_ms:.2f} ms; median of paired differences "
        f"(chain − direct) {median(paired):.2f} ms"
    )
    if litellm is None:
        result.figure("chain.litellm", LITELLM_LABEL, None, unit="ms")
        result.note(
            f"LiteLLM not measured: {LITELLM_PYTHON} is missing (`make bench` installs it from "
            "bench/requirements-litellm.txt)"
        )
    elif "error" in litellm:
        result.figure("chain.litellm", LITELLM_LABEL, None, unit="ms")
        result.note(f"LiteLLM not measured: {litellm['error']}")
    else:
        l_direct, l_router = ms(median(litellm["direct"])), ms(median(litellm["router"]))
        result.figure("chain.litellm", LITELLM_LABEL, theirs, unit="ms", target="(comparison)")
        result.note(
            f"LiteLLM {litellm['litellm']} (its own venv, openai {litellm['openai']}): one Router, built once, its "
            f"loggers at {COMPARED_LOG_LEVEL}: direct SDK {l_direct:.2f} ms, Router.completion {l_router:.2f} ms, "
            f"{len(litellm['router'])} calls each, interleaved, same request and fake server"
        )


def _interleaved(variants: dict) -> dict[str, list[float]]:
    """Each variant (its log level, its call) timed SAMPLES times, in rotation; the level is set outside the
    timing."""
    names = list(variants)
    for _ in range(WARMUP):
        for name in names:
            level, call = variants[name]
            with product_log_level(level):
                call()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for i in range(SAMPLES):
        rotation = names[i % len(names) :] + names[: i % len(names)]
        for name in rotation:
            level, call = variants[name]
            with product_log_level(level):
                started = time.perf_counter()
                call()
                samples[name].append(time.perf_counter() - started)
    return samples


def _litellm(base_url: str, request_file: str) -> dict | None:
    if not LITELLM_PYTHON.exists():
        return None
    completed = subprocess.run(
        [
            str(LITELLM_PYTHON),
            str(ROOT / "bench" / "litellm_side.py"),
            "overhead",
            "--base-url",
            base_url,
            "--request",
            request_file,
            "--samples",
            str(SAMPLES),
            "--warmup",
            str(WARMUP),
            "--log-level",
            COMPARED_LOG_LEVEL,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    if completed.returncode != 0:
        return {"error": completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else "failed"}
    return json.loads(completed.stdout.strip().splitlines()[0])
