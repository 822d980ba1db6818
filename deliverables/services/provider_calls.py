"""The one writer of ProviderCall rows: what the chain reported about each attempt, for generation and the
studio alike (usage, spend and the failover drills read them)."""

from aicmo.llm.chain import CallRecord
from brands.budget import spend_add

from ..models import ProviderCall


def provider_call_save(
    call: CallRecord, *, run_id: int | None, deliverable_id, brand_id: int, trace_id: str = ""
) -> ProviderCall:
    """One ProviderCall row for what the chain reported about one attempt; its cost counts against the brand's
    month (failed calls that were answered, and so paid for, included)."""
    spend_add(brand_id, call.cost_usd)
    return ProviderCall.objects.create(
        run_id=run_id,
        deliverable_id=deliverable_id,
        brand_id=brand_id,
        provider=call.provider,
        model=call.model,
        use_case=call.use_case,
        latency_ms=call.latency_ms,
        tokens_in=call.tokens_in,
        tokens_out=call.tokens_out,
        cost_usd=call.cost_usd,
        outcome=call.outcome,
        error_type=call.error_type,
        error_message=call.error_message,
        trace_id=call.trace_id or trace_id,
    )
