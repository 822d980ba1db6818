"""The one writer of ProviderCall rows: what the chain reported about each attempt, for generation and the
studio alike (usage, spend and the failover drills read them)."""

from aicmo.llm.chain import CallRecord
from brands.budget import spend_add

from ..models import ProviderCall


def provider_call_save(
    call: CallRecord, *, run_id: int | None, deliverable_id, brand_id: int, trace_id: str = ""
) -> None:
    """The chain reports each attempt when it starts and again when it ends, under one `call_id`: the first report
    creates the row (outcome "started"), the second updates it, so a call cut off by a killed worker still leaves
    its row. The end report's cost counts against the brand's month (failed calls that were answered, and so
    paid for, included)."""
    if call.outcome != ProviderCall.Outcome.STARTED:
        spend_add(brand_id, call.cost_usd)
    fields = {
        "run_id": run_id,
        "deliverable_id": deliverable_id,
        "brand_id": brand_id,
        "provider": call.provider,
        "model": call.model,
        "use_case": call.use_case,
        "latency_ms": call.latency_ms,
        "tokens_in": call.tokens_in,
        "tokens_out": call.tokens_out,
        "cost_usd": call.cost_usd,
        "outcome": call.outcome,
        "error_type": call.error_type,
        "error_message": call.error_message,
        "trace_id": call.trace_id or trace_id,
    }
    if call.outcome == ProviderCall.Outcome.STARTED or not call.call_id:
        ProviderCall.objects.create(call_id=call.call_id or None, **fields)
    elif not ProviderCall.objects.filter(call_id=call.call_id).update(**fields):
        ProviderCall.objects.create(call_id=call.call_id, **fields)  # its "started" row was never written


INTERRUPTED_BY_WORKER = "interrupted: the worker stopped during the call (killed or restarted)"


def provider_calls_interrupted(*, deliverable_id=None, started_before=None) -> int:
    """Mark as interrupted the calls still "started" that cannot be running any more: those of a deliverable
    whose task is being run again (its previous worker died), or those older than the task time limit."""
    calls = ProviderCall.objects.filter(outcome=ProviderCall.Outcome.STARTED)
    if deliverable_id is not None:
        calls = calls.filter(deliverable_id=deliverable_id)
    if started_before is not None:
        calls = calls.filter(created_at__lt=started_before)
    return calls.update(outcome=ProviderCall.Outcome.INTERRUPTED, error_message=INTERRUPTED_BY_WORKER)
