"""Writes of the creative studio: threads, messages, and the reply loop a worker runs for each message.

The reply loop: call the model (streaming its text to the browser) → run the tools it called → send their
results back → call it again; at most `MAX_ROUNDS` model calls per reply. Each finished round is saved on the
reply (`steps`), so a redelivered task or a marketer's retry continues after the tools that already ran instead
of running them twice. A provider failure, before or during the stream, discards that round's partial text and
ends the reply as `failed` with a clear error the page shows with a retry button."""

import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from aicmo.celery import app as celery_app
from aicmo.core.errors import ApplicationError, Conflict, PermissionDenied
from aicmo.core.trace import trace_id_var
from aicmo.llm.base import Completion, CompletionRequest, Message, ToolCall
from aicmo.llm.chain import CallRecord
from aicmo.llm.exceptions import AllProvidersFailed, ErrorType, ProviderError
from aicmo.llm.registry import get_chain
from brands.models import Brand
from brands.roles import GENERATE, may
from brands.selectors import brands_for
from deliverables.models import Deliverable, Revision
from deliverables.services import provider_call_save

from ..models import StudioMessage, StudioThread
from .concepts import _DEFAULT_TITLE, studio_run_settle
from .instructions import studio_system_prompt
from .streaming import ReplyPublisher, reply_publisher, stream_discard
from .tools import TOOLS, ToolContext, tool_run

logger = logging.getLogger(__name__)

# By name: the task module imports these services, so they look the task up in the app's registry. The
# project's app, not `celery.current_app`: that is thread-local, and ASGI runs this on a request's own thread,
# where it is Celery's empty default app.
REPLY_TASK = "creatives.tasks.studio_reply"

MAX_ROUNDS = 4
MESSAGE_MAX_CHARS = 4000
STOPPED_NOTE = "(I stopped here: that took more steps than I may use in one answer. Ask me to continue.)"

Status = StudioMessage.Status
Role = StudioMessage.Role


# --- threads and messages (web side) ---------------------------------------------------------------------------


def thread_create(*, user, brand: Brand) -> StudioThread:
    if not brands_for(user).filter(pk=brand.pk).exists():
        raise ApplicationError("You are not a member of this brand.")
    with transaction.atomic():
        return StudioThread.objects.create(user=user, brand=brand, title=_DEFAULT_TITLE)


def message_post(*, thread: StudioThread, user, text: str, trace_id: str) -> tuple[StudioMessage, StudioMessage]:
    """Save the marketer's message and a pending reply, and queue the reply once both are committed. One reply
    at a time per thread: the assistant must finish (or fail) before the next message."""
    _require_ask_permission(user, thread.brand_id)
    text = (text or "").strip()
    if not text:
        raise ApplicationError("Write a message first.", details={"text": ["This field may not be blank."]})
    if len(text) > MESSAGE_MAX_CHARS:
        raise ApplicationError(
            f"The message is too long (at most {MESSAGE_MAX_CHARS} characters).",
            details={"text": [f"Ensure this field has no more than {MESSAGE_MAX_CHARS} characters."]},
        )
    if thread.user_id != user.pk:
        raise ApplicationError("This conversation is someone else's.")
    with transaction.atomic():
        locked = StudioThread.objects.select_for_update().get(pk=thread.pk)
        _refuse_while_answering(locked)
        question = StudioMessage.objects.create(thread=locked, role=Role.USER, content=text, trace_id=trace_id)
        reply = StudioMessage.objects.create(
            thread=locked, role=Role.ASSISTANT, status=Status.PENDING, trace_id=trace_id
        )
        locked.save(update_fields=["updated_at"])
        transaction.on_commit(lambda: reply_dispatch(message_id=reply.pk))
    return question, reply


def message_retry(*, message: StudioMessage, user) -> StudioMessage:
    """Queue a failed reply again. It continues after the rounds that completed (their tools are not run again)."""
    _require_ask_permission(user, message.thread.brand_id)
    if message.thread.user_id != user.pk:
        raise ApplicationError("This conversation is someone else's.")
    latest = StudioMessage.objects.filter(thread_id=message.thread_id, role=Role.ASSISTANT).order_by("-pk").first()
    if latest is None or latest.pk != message.pk:
        raise Conflict("Only the latest reply can be retried.")
    with transaction.atomic():
        retried = StudioMessage.objects.filter(pk=message.pk, status=Status.FAILED).update(
            status=Status.PENDING, error=None, deliveries=0, updated_at=timezone.now()
        )
        if not retried:
            raise Conflict("Only a failed reply can be retried.", details={"status": message.status})
        transaction.on_commit(lambda: _redispatch(message.pk))
    message.refresh_from_db()
    return message


def _require_ask_permission(user, brand_id: int) -> None:
    """A reply spends the brand's LLM budget, like a generate run: the same role is needed."""
    if not may(user, brand_id, GENERATE):
        raise PermissionDenied(
            "Your role does not allow asking the studio assistant (it spends the brand's AI budget)."
        )


def _redispatch(message_id: int) -> None:
    stream_discard(message_id)  # the failed attempt's stream ends with its error: the retry starts a fresh one
    reply_dispatch(message_id=message_id)


def _refuse_while_answering(thread: StudioThread) -> None:
    stuck_before = timezone.now() - timedelta(seconds=settings.AICMO_RUN_STUCK_AFTER_S)
    in_flight = StudioMessage.objects.filter(thread=thread, role=Role.ASSISTANT, status__in=StudioMessage.IN_FLIGHT)
    # A reply nobody has touched for this long lost its worker: end it so the conversation can go on.
    for stale in in_flight.filter(updated_at__lt=stuck_before):
        _end_failed(
            stale.pk,
            stale.attempt,
            ErrorType.INTERNAL_ERROR,
            "The reply took too long and was abandoned. Retry to ask again.",
        )
    if in_flight.filter(updated_at__gte=stuck_before).exists():
        raise Conflict("The assistant is still answering: wait for the reply (or retry it if it failed).")


def reply_dispatch(*, message_id: int) -> bool:
    """Queue the reply's task. With the broker down the reply fails at once with a retryable error."""
    try:
        celery_app.tasks[REPLY_TASK].apply_async(
            args=[message_id], retry=True, retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY
        )
    except (OperationalError, ConnectionError, OSError) as error:
        logger.error(
            "broker unavailable, studio reply not queued", extra={"message_id": message_id, "error": str(error)[:200]}
        )
        message = StudioMessage.objects.filter(pk=message_id).first()
        if message is not None:
            _end_failed(
                message_id,
                message.attempt,
                ErrorType.QUEUE_UNAVAILABLE,
                "The queue is unavailable right now, so the assistant could not start. Retry in a moment.",
            )
        return False
    return True


# --- the reply (worker side) -----------------------------------------------------------------------------------


def reply_generate(*, message_id: int) -> None:
    """The task body: write one reply, streaming it, running tools, saving the result. Idempotent: a reply is
    claimed with a locked update, and its end is written only by the attempt that holds it."""
    message = _claim(message_id)
    if message is None:
        return
    token = trace_id_var.set(message.trace_id)
    publisher = reply_publisher(message)
    try:
        if message.attempt > 1:  # a redelivery or a retry: the browser may hold text this attempt will not repeat
            publisher.reset(message.content)
        if message.deliveries > settings.AICMO_MAX_TASK_DELIVERIES:
            _fail(
                message,
                list(message.steps),
                list(message.actions),
                ErrorType.INTERNAL_ERROR,
                f"Gave up after {message.deliveries - 1} attempts: the worker stopped each time. Retry to ask again.",
                publisher,
            )
            return
        _reply_loop(message, publisher)
    except Exception as error:  # a bug must end the reply visibly, not loop the task
        logger.exception("studio reply crashed", extra={"message_id": message_id})
        _fail(
            message,
            list(message.steps),
            list(message.actions),
            ErrorType.INTERNAL_ERROR,
            f"Internal error ({type(error).__name__}). Retry to ask again.",
            publisher,
        )
    finally:
        trace_id_var.reset(token)


def _claim(message_id: int) -> StudioMessage | None:
    with transaction.atomic():
        message = (
            StudioMessage.objects.select_for_update()
            .filter(pk=message_id, role=Role.ASSISTANT, status__in=StudioMessage.IN_FLIGHT)
            .first()
        )
        if message is None:
            return None
        message.status = Status.STREAMING
        message.attempt += 1
        message.deliveries += 1
        message.content = steps_text(message.steps)  # a partial text of an interrupted attempt is discarded
        message.save(update_fields=["status", "attempt", "deliveries", "content", "updated_at"])
    return StudioMessage.objects.select_related("thread", "thread__brand", "thread__user").get(pk=message_id)


def _reply_loop(message: StudioMessage, publisher: ReplyPublisher) -> None:
    thread = message.thread
    steps: list[dict[str, Any]] = list(message.steps)
    actions: list[dict[str, Any]] = list(message.actions)
    chain = get_chain(recorder=_recorder(thread, message))
    completions: list[Completion] = []
    for round_number in range(len(steps), MAX_ROUNDS):
        request = _request(thread, message, steps)
        separate = bool(steps_text(steps))
        completion = None
        try:
            for event in chain.stream(request):
                if event.text:
                    if separate:
                        publisher.token("\n\n")
                        separate = False
                    publisher.token(event.text)
                if event.completion is not None:
                    completion = event.completion
        except AllProvidersFailed as error:
            _fail(
                message,
                steps,
                actions,
                error.error_type,
                "No provider could answer right now. Retry in a moment.",
                publisher,
                completions,
            )
            return
        except ProviderError as error:  # mid-stream: the partial text of this round is discarded
            _fail(
                message,
                steps,
                actions,
                error.error_type,
                f"The answer from {error.provider} was interrupted, "
                "so its partial text was discarded. Retry to ask again.",
                publisher,
                completions,
            )
            return
        if completion is None:
            _fail(
                message,
                steps,
                actions,
                ErrorType.PROVIDER_ERROR,
                "The answer ended before it was complete. Retry to ask again.",
                publisher,
                completions,
            )
            return
        completions.append(completion)
        last_round = round_number == MAX_ROUNDS - 1
        if not completion.tool_calls or last_round:
            text = completion.text
            if completion.tool_calls:  # the bound: the calls of a last round are not run
                text = f"{text}\n\n{STOPPED_NOTE}".strip()
                publisher.token(("\n\n" if completion.text or steps_text(steps) else "") + STOPPED_NOTE)
            steps.append({"text": text, "tool_calls": [], "results": []})
            break
        step: dict[str, Any] = {
            "text": completion.text,
            "results": [],
            "tool_calls": [{"id": c.id, "name": c.name, "arguments": dict(c.arguments)} for c in completion.tool_calls],
        }
        context = ToolContext(thread=thread, chain=chain, trace_id=message.trace_id, completion=completion)
        for call in completion.tool_calls:
            outcome = tool_run(context=context, call=call)
            step["results"].append({"tool_call_id": call.id, "name": call.name, "content": outcome.content})
            if outcome.action is not None:
                actions.append(outcome.action)
                publisher.tool(outcome.action)
        steps.append(step)
        _save_progress(message, steps, actions)
        publisher.saved()
    _finish(message, steps, actions, completions, publisher)


def steps_text(steps: list[dict[str, Any]]) -> str:
    """What the marketer reads: the text of every round, one paragraph break apart."""
    return "\n\n".join(step["text"] for step in steps if step.get("text"))


def _save_progress(message: StudioMessage, steps: list, actions: list) -> None:
    StudioMessage.objects.filter(pk=message.pk, attempt=message.attempt).update(
        steps=steps, actions=actions, content=steps_text(steps), updated_at=timezone.now()
    )


def _usage(message: StudioMessage, completions: list[Completion]) -> dict[str, Any]:
    tokens = message.tokens_used + sum(c.usage.total for c in completions)
    costs = [c.cost_usd for c in completions]
    cost = None if any(c is None for c in costs) else (message.cost_usd or Decimal("0")) + sum(costs, Decimal("0"))
    last = completions[-1] if completions else None
    return {
        "tokens_used": tokens,
        "cost_usd": cost,
        "provider": last.provider if last else message.provider,
        "model": last.model if last else message.model,
    }


def _finish(
    message: StudioMessage, steps: list, actions: list, completions: list[Completion], publisher: ReplyPublisher
) -> None:
    with transaction.atomic():
        saved = StudioMessage.objects.filter(pk=message.pk, status=Status.STREAMING, attempt=message.attempt).update(
            status=Status.COMPLETE,
            content=steps_text(steps),
            steps=steps,
            actions=actions,
            error=None,
            updated_at=timezone.now(),
            **_usage(message, completions),
        )
        StudioThread.objects.filter(pk=message.thread_id).update(updated_at=timezone.now())
        studio_run_settle(message.thread.run_id, timezone.now())  # this reply's calls count for the run
    if saved:  # else a later attempt holds the reply and will announce its own end
        message.refresh_from_db()
        publisher.close(message)


def _fail(
    message: StudioMessage,
    steps: list,
    actions: list,
    error_type: str,
    text: str,
    publisher: ReplyPublisher,
    completions: list[Completion] | None = None,
) -> None:
    logger.warning("studio reply failed", extra={"message_id": message.pk, "error_type": error_type})
    saved = _end_failed(
        message.pk,
        message.attempt,
        error_type,
        text,
        steps=steps,
        actions=actions,
        usage=_usage(message, completions or []),
    )
    studio_run_settle(message.thread.run_id, timezone.now())
    if saved:
        message.refresh_from_db()
        publisher.close(message)


def _end_failed(
    message_id: int,
    attempt: int,
    error_type: str,
    text: str,
    *,
    steps: list | None = None,
    actions: list | None = None,
    usage: dict | None = None,
) -> bool:
    fields: dict[str, Any] = {
        "status": Status.FAILED,
        "error": {"type": error_type, "message": text},
        "updated_at": timezone.now(),
        **(usage or {}),
    }
    if steps is not None:
        fields.update(steps=steps, content=steps_text(steps))
    if actions is not None:
        fields["actions"] = actions
    rows = StudioMessage.objects.filter(pk=message_id, attempt=attempt, status__in=StudioMessage.IN_FLIGHT)
    return bool(rows.update(**fields))


# --- what the model is sent --------------------------------------------------------------------------------------


def _request(thread: StudioThread, message: StudioMessage, steps: list[dict[str, Any]]) -> CompletionRequest:
    kit = thread.brand.kit()
    asset, concepts = _current_asset(thread)
    return CompletionRequest(
        system=studio_system_prompt(brand=kit, brief=thread.brief, asset=asset),
        messages=(*history_messages(thread, before=message), *_step_messages(steps)),
        use_case="studio",
        task="studio",
        context={"brand": kit, "brief": dict(thread.brief), "asset": asset, "concept_count": concepts},
        tools=TOOLS,
        max_tokens=settings.AICMO_LLM_MAX_TOKENS,
        trace_id=message.trace_id,
    )


def history_messages(thread: StudioThread, *, before: StudioMessage) -> list[Message]:
    """The last `AICMO_STUDIO_HISTORY_MESSAGES` messages before `before`, as the model sees them: a reply brings
    its tool calls and their results along (a call is never separated from its result), and the window starts
    with a marketer's message. Older context lives in the confirmed brief of the system prompt."""
    rows = list(
        StudioMessage.objects.filter(thread=thread, pk__lt=before.pk)
        .exclude(role=Role.ASSISTANT, status__in=StudioMessage.IN_FLIGHT)
        .order_by("-pk")[: settings.AICMO_STUDIO_HISTORY_MESSAGES]
    )[::-1]
    while rows and rows[0].role != Role.USER:
        rows.pop(0)
    messages: list[Message] = []
    for row in rows:
        if row.role == Role.USER:
            messages.append(Message("user", row.content))
        else:
            messages += _step_messages(row.steps)
    return messages


def _step_messages(steps: list[dict[str, Any]]) -> list[Message]:
    messages: list[Message] = []
    for step in steps:
        calls = tuple(ToolCall(id=c["id"], name=c["name"], arguments=c["arguments"]) for c in step["tool_calls"])
        if calls:
            messages.append(Message("assistant", step["text"], tool_calls=calls))
            messages += [Message("tool", r["content"], tool_call_id=r["tool_call_id"]) for r in step["results"]]
        elif step["text"]:
            messages.append(Message("assistant", step["text"]))
    return messages


def _current_asset(thread: StudioThread) -> tuple[dict[str, Any] | None, int]:
    """The concept "change the headline" would revise (its current revision's fields), and how many concepts
    the thread has saved."""
    concepts = Deliverable.objects.filter(run_id=thread.run_id).count() if thread.run_id else 0
    if not thread.latest_deliverable_id:
        return None, concepts
    deliverable = Deliverable.objects.filter(pk=thread.latest_deliverable_id).first()
    if deliverable is None:
        return None, concepts
    revision = Revision.objects.filter(deliverable=deliverable, version=deliverable.version).first()
    fields = revision.structured if revision is not None else {}
    return {
        "id": str(deliverable.pk),
        "version": deliverable.version,
        "status": deliverable.status,
        **{name: fields.get(name) for name in ("headline", "primary_text", "call_to_action", "image_prompts")},
    }, concepts


def _recorder(thread: StudioThread, message: StudioMessage):
    """Every call of the reply becomes a ProviderCall row, attached to the thread's run and current asset (read
    at call time: the first concept creates the run mid-reply)."""

    def record(call: CallRecord) -> None:
        provider_call_save(
            call,
            run_id=thread.run_id,
            deliverable_id=thread.latest_deliverable_id,
            brand_id=thread.brand_id,
            trace_id=message.trace_id,
        )

    return record
