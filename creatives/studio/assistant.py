"""The ad-concept assistant (worker side): one reply, written as ChatKit events.

The reply loop: read the thread's history (the last 50 items, the 12 relevant ones, as the seed) → call the model
through the provider chain (OpenAI, Anthropic, …, offline), streaming its text as ChatKit text deltas → run the
server tools it called (`save_ad_asset`, `generate_ad_image`) and show what they did as widgets → call it again
with their results; at most `MAX_ROUNDS` model calls. `switch_theme` is a client tool: it ends the turn with a
pending `ClientToolCallItem` the front end applies. Every finished item is saved in the database *before* it is
published to the reply's Redis stream (relay.py), so a dropped connection loses nothing: the page reloads the
saved items, or replays the stream.

Each assistant message carries which provider and model answered it, as an entity annotation
(`provider:<name>`), so any ChatKit front end can show it."""

import json
import logging
import re
import uuid
from decimal import Decimal
from typing import Any

from chatkit.types import (
    Annotation,
    AssistantMessageContent,
    AssistantMessageContentPartAdded,
    AssistantMessageContentPartDone,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    ClientToolCallItem,
    EntitySource,
    ErrorEvent,
    HiddenContextItem,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemRemovedEvent,
    ThreadItemUpdatedEvent,
    ThreadUpdatedEvent,
)
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from aicmo.celery import app as celery_app
from aicmo.core.services import preference_set_theme
from aicmo.core.trace import trace_id_var
from aicmo.llm.base import Completion, CompletionRequest, Message, ToolCall, Usage
from aicmo.llm.chain import CallRecord
from aicmo.llm.exceptions import AllProvidersFailed, ProviderError
from aicmo.llm.registry import get_chain
from brands.budget import BudgetExceeded, budget_check
from deliverables.models import Deliverable, Revision
from deliverables.services import provider_call_save

from ..models import StudioItem, StudioThread
from .attachments import thread_images
from .concepts import studio_run_settle
from .instructions import studio_system_prompt
from .items import DEFAULT_TITLE, item_save, recent_items, thread_response
from .relay import ReplyPublisher
from .services import reply_release
from .tools import CLIENT_TOOLS, IMAGE_TOOL, THEMES, TOOLS, ToolContext, tool_run
from .turns import MAX_ATTEMPTS, attempt_claim, attempt_current, turn_progress

logger = logging.getLogger(__name__)

MAX_ROUNDS = 4
HISTORY_LOAD = 50  # items read back …
RELEVANT_TYPES = ("user_message", "assistant_message", "client_tool_call")
STOPPED_NOTE = "(I stopped here: that took more steps than I may use in one answer. Ask me to continue.)"
TITLE_WORDS = 7
GAVE_UP = "The assistant stopped several times while answering this message. Send it again to retry."
IMAGE_TASK = "creatives.tasks.studio_image"  # by name: the task module imports this one


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def reply_generate(*, thread_id: str, reply_key: str, user_item_id: str, trace_id: str) -> None:
    """The task body. A task whose claim is gone (the reply ended, or a newer one took over) does nothing. A
    redelivery (its worker died mid-answer: acks_late) resumes the reply from what the previous delivery saved
    (turns.py): the round in progress (`reply_state`) or the rounds finished, so the answer is written and shown
    once; a turn already complete is only tidied up; past MAX_ATTEMPTS deliveries the reply ends with an error."""
    thread = _claimed(thread_id, reply_key)
    if thread is None:
        return
    attempt = attempt_claim(thread_id, reply_key)
    if attempt is None:
        return
    progress = turn_progress(thread.pk, user_item_id, client_tools=CLIENT_TOOLS)
    state = thread.reply_state

    def body(publisher):
        if attempt > MAX_ATTEMPTS:
            publisher.event(ErrorEvent(code="custom", message=GAVE_UP, allow_retry=True))
            return None
        if state:  # a round whose tools did not all run
            return _resume(thread, publisher, trace_id, state, None, attempt=attempt)
        if progress.pending_client_call is not None:  # the last round's client tool was never handed over
            _client_call(thread, publisher, _tool_call(progress.pending_client_call))
            return None
        if progress.finished:
            return None
        return _reply_loop(thread, publisher, trace_id, first_round=progress.rounds, attempt=attempt)

    if attempt > 1:
        logger.warning("studio reply redelivered", extra={"thread_id": thread_id, "attempt": attempt})
    _reply_run(thread, reply_key, trace_id, body, attempt=attempt, kept=progress.items)


def reply_image_step(
    *, thread_id: str, reply_key: str, trace_id: str, call_index: int, attempt: int, last_attempt: bool
) -> None:
    """The studio image task's body: one attempt at the image the paused reply asked for (its round's call number
    `call_index`), then the reply goes on from there in this task. A failure that may pass raises ImageRetryable
    before anything is written or published, unless `last_attempt`: Celery retries the task after its backoff
    while the reply stays claimed and its stream open (the marketer's page keeps waiting for it). A task whose
    reply ended, or has moved past that call (a redelivered message), does nothing."""
    thread = _claimed(thread_id, reply_key)
    if thread is None:
        return
    state = thread.reply_state
    done = len(state.get("results", [])) if state else -1
    if done < call_index:
        return
    if done > call_index:  # this task already made the image and died going on with the reply: go on from there
        _reply_continue(thread, reply_key, trace_id, state, None)
        return
    token = trace_id_var.set(trace_id)
    try:
        call = _server_calls(state)[call_index]
        context = ToolContext(
            thread=thread,
            chain=get_chain(recorder=_recorder(thread, trace_id)),
            trace_id=trace_id,
            completion=_completion_of(state),
            image_attempt=attempt,
            image_retry_later=not last_attempt,
        )
        outcome = tool_run(context=context, call=call)  # ImageRetryable goes up to Celery
    finally:
        trace_id_var.reset(token)
    _reply_continue(thread, reply_key, trace_id, state, outcome)


def _reply_continue(thread: StudioThread, reply_key: str, trace_id: str, state: dict[str, Any], outcome) -> None:
    """The image task goes on with the paused reply, as a new segment (attempt) of its stream: readers
    understand a restart (replay.py)."""
    segment = attempt_claim(str(thread.pk), reply_key)
    if segment is None:
        return
    kept = turn_progress(thread.pk, state.get("user_item", ""), client_tools=CLIENT_TOOLS).items
    _reply_run(
        thread,
        reply_key,
        trace_id,
        lambda publisher: _resume(thread, publisher, trace_id, state, outcome, attempt=segment),
        attempt=segment,
        kept=kept,
    )


def _claimed(thread_id: str, reply_key: str) -> StudioThread | None:
    return StudioThread.objects.select_related("brand", "user").filter(pk=thread_id, reply_key=reply_key).first()


_PAUSED = "paused"  # the reply waits for its image task, which goes on with it


def _reply_run(thread: StudioThread, reply_key: str, trace_id: str, body, *, attempt: int, kept: list) -> None:
    """Run (a part of) a reply: `body(publisher)`. Unless it paused for an image task, the reply then ends: the
    thread is named, the studio run's totals refreshed, the claim released and the stream closed. A part after
    the first (a redelivery, or the image task going on with the reply) starts with a reset: `kept`, the turn's
    saved items, are announced again, and readers take back what the part before left unfinished."""
    token = trace_id_var.set(trace_id)
    publisher = ReplyPublisher(reply_key, attempt=attempt)
    paused = False
    try:
        if attempt > 1:
            publisher.reset(kept=[item.id for item in kept])
            for item in kept:  # a reader that missed their done events gets them (the others drop them)
                publisher.event(ThreadItemDoneEvent(item=item))
        _remember_trace(thread, trace_id)
        paused = body(publisher) == _PAUSED
        if not paused:
            _title(thread, publisher)
    except Exception as error:  # a bug must end the reply visibly, not hang the page
        logger.exception("studio reply crashed", extra={"thread_id": str(thread.pk)})
        publisher.event(
            ErrorEvent(code="custom", message=f"Internal error ({type(error).__name__}). Try again.", allow_retry=True)
        )
    finally:
        if not paused:
            studio_run_settle(
                StudioThread.objects.filter(pk=thread.pk).values_list("run_id", flat=True).first(), timezone.now()
            )
            reply_release(thread_id=str(thread.pk), reply_key=reply_key)
            publisher.end()
        trace_id_var.reset(token)


def _reply_loop(
    thread: StudioThread, publisher: ReplyPublisher, trace_id: str, *, first_round: int, attempt: int
) -> str | None:
    chain = get_chain(recorder=_recorder(thread, trace_id))
    history = history_messages(thread)  # after a pause or a redelivery, it holds this reply's earlier rounds too
    this_reply: list[Message] = []
    for round_number in range(first_round, MAX_ROUNDS):
        if not attempt_current(str(thread.pk), thread.reply_key, attempt):
            return None  # a later delivery of this reply took over
        try:  # before each call, as generate checks before each slot: a spent month makes no provider call
            budget_check(thread.brand_id)
        except BudgetExceeded as error:
            publisher.event(ErrorEvent(code="custom", message=_budget_text(error), allow_retry=False))
            return None
        request = _request(thread, [*history, *this_reply], trace_id)
        item = AssistantMessageItem(id=_new_id("msg"), thread_id=str(thread.pk), created_at=timezone.now(), content=[])
        started = False
        completion: Completion | None = None
        try:
            for event in chain.stream(request):
                if event.text:
                    if not started:  # the message appears with its first words, never empty
                        started = True
                        publisher.event(ThreadItemAddedEvent(item=item))
                        publisher.event(
                            ThreadItemUpdatedEvent(
                                item_id=item.id,
                                update=AssistantMessageContentPartAdded(
                                    content_index=0, content=AssistantMessageContent(text="")
                                ),
                            )
                        )
                    publisher.event(
                        ThreadItemUpdatedEvent(
                            item_id=item.id,
                            update=AssistantMessageContentPartTextDelta(content_index=0, delta=event.text),
                        )
                    )
                if event.completion is not None:
                    completion = event.completion
        except (AllProvidersFailed, ProviderError) as error:
            if started:  # the partial text of a provider that failed mid-answer is taken back
                publisher.event(ThreadItemRemovedEvent(item_id=item.id))
            publisher.event(ErrorEvent(code="custom", message=_failure_text(error), allow_retry=True))
            return None
        if completion is None:
            publisher.event(ErrorEvent(code="custom", message="The provider answered nothing.", allow_retry=True))
            return None
        text = completion.text or ""
        state = None
        if completion.tool_calls:
            state = _round_state(round_number, item.id if text.strip() else None, completion)
            state["user_item"] = _user_item_id(thread)
        if text.strip():
            content = AssistantMessageContent(text=text, annotations=[_provider_annotation(completion)])
            item = item.model_copy(update={"content": [content]})
            if not started:
                publisher.event(ThreadItemAddedEvent(item=item.model_copy(update={"content": []})))
            publisher.event(
                ThreadItemUpdatedEvent(
                    item_id=item.id, update=AssistantMessageContentPartDone(content_index=0, content=content)
                )
            )
            with transaction.atomic():  # the round's text and its state, or neither: a redelivery knows the round
                item_save(thread, item)
                _keep_state(thread, state)
            publisher.event(ThreadItemDoneEvent(item=item))
        else:
            if started:
                publisher.event(ThreadItemRemovedEvent(item_id=item.id))
            _keep_state(thread, state)
        if state is None:
            return None
        if _run_tools(thread, publisher, chain, trace_id, state) == _PAUSED:
            return _PAUSED
        if _end_round(thread, publisher, state):
            return None  # the turn ends with the client's tool: it answers with threads.add_client_tool_output
        this_reply.append(Message("assistant", text, tool_calls=tuple(_server_calls(state))))
        this_reply += [Message("tool", r["content"], tool_call_id=r["tool_call_id"]) for r in state["results"]]
        thread.refresh_from_db()
    note = AssistantMessageItem(
        id=_new_id("msg"),
        thread_id=str(thread.pk),
        created_at=timezone.now(),
        content=[AssistantMessageContent(text=STOPPED_NOTE)],
    )
    publisher.event(ThreadItemAddedEvent(item=note))
    _done(thread, publisher, note)
    return None


# --- a round's tools, and the pause for an image ------------------------------------------------------------


def _round_state(round_number: int, assistant_item: str | None, completion: Completion) -> dict[str, Any]:
    """What a round's tools run with, as JSON (kept on the thread while the round waits for an image)."""
    return {
        "round": round_number,
        "assistant_item": assistant_item,
        "text": completion.text or "",
        "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in completion.tool_calls],
        "results": [],
        "completion": {
            "provider": completion.provider,
            "model": completion.model,
            "tokens_in": completion.usage.tokens_in,
            "tokens_out": completion.usage.tokens_out,
            "cost_usd": str(completion.cost_usd) if completion.cost_usd is not None else None,
            "warnings": list(completion.warnings),
        },
    }


def _server_calls(state: dict[str, Any]) -> list[ToolCall]:
    return [
        ToolCall(id=c["id"], name=c["name"], arguments=c["arguments"])
        for c in state["tool_calls"]
        if c["name"] not in CLIENT_TOOLS
    ]


def _completion_of(state: dict[str, Any]) -> Completion:
    made = state["completion"]
    return Completion(
        text=state["text"],
        provider=made["provider"],
        model=made["model"],
        usage=Usage(tokens_in=made["tokens_in"], tokens_out=made["tokens_out"]),
        cost_usd=Decimal(made["cost_usd"]) if made["cost_usd"] is not None else None,
        warnings=tuple(made["warnings"]),
    )


def _run_tools(thread: StudioThread, publisher: ReplyPublisher, chain, trace_id: str, state: dict[str, Any]):
    """Run the round's server tools in order, from the first without a result. An image is made by the studio
    image task (Celery retries it with backoff, without holding this worker): the reply pauses there, its state
    kept on the thread, and that task goes on with it."""
    context = ToolContext(thread=thread, chain=chain, trace_id=trace_id, completion=_completion_of(state))
    calls = _server_calls(state)
    for index in range(len(state["results"]), len(calls)):
        call = calls[index]
        if call.name == IMAGE_TOOL and _pause_for_image(thread, trace_id, state, index):
            return _PAUSED
        _record(thread, publisher, state, call, tool_run(context=context, call=call))
    return None


def _resume(
    thread: StudioThread, publisher: ReplyPublisher, trace_id: str, state: dict[str, Any], outcome, *, attempt: int
):
    """After the image task's attempt (`outcome`; None for a redelivered reply, which resumes the round where
    its results stop): its result joins the round, the round's other tools run, then the reply goes on with the
    next model round."""
    if outcome is not None:
        call = _server_calls(state)[len(state["results"])]
        _record(thread, publisher, state, call, outcome)
    thread.refresh_from_db()
    chain = get_chain(recorder=_recorder(thread, trace_id))
    if _run_tools(thread, publisher, chain, trace_id, state) == _PAUSED:
        return _PAUSED
    if _end_round(thread, publisher, state):
        return None
    thread.refresh_from_db()
    return _reply_loop(thread, publisher, trace_id, first_round=state["round"] + 1, attempt=attempt)


def _record(thread: StudioThread, publisher: ReplyPublisher, state: dict[str, Any], call: ToolCall, outcome) -> None:
    """A tool's result joins the round, kept on the thread with the widget showing it (one transaction), so a
    redelivered reply runs only the tools that had not run."""
    state["results"].append({"tool_call_id": call.id, "name": call.name, "content": outcome.content})
    widget = outcome.widget(thread_id=str(thread.pk), item_id=_new_id("wdg")) if outcome.widget else None
    with transaction.atomic():
        if widget is not None:
            item_save(thread, widget)
        _keep_state(thread, state)
    if widget is not None:
        publisher.event(ThreadItemDoneEvent(item=widget))


def _keep_state(thread: StudioThread, state: dict[str, Any] | None) -> None:
    if state is not None:
        StudioThread.objects.filter(pk=thread.pk, reply_key=thread.reply_key).update(reply_state=state)


def _user_item_id(thread: StudioThread) -> str:
    """The marketer's message this reply answers (its latest)."""
    return (
        StudioItem.objects.filter(thread=thread, type="user_message")
        .order_by("-seq")
        .values_list("item_id", flat=True)
        .first()
        or ""
    )


def _tool_call(call: dict[str, Any]) -> ToolCall:
    return ToolCall(id=call["id"], name=call["name"], arguments=call.get("arguments") or {})


def _pause_for_image(thread: StudioThread, trace_id: str, state: dict[str, Any], index: int) -> bool:
    """Keep the round on the thread and queue the image task. False (the caller makes the image here, once)
    when the broker cannot take it."""
    StudioThread.objects.filter(pk=thread.pk, reply_key=thread.reply_key).update(reply_state=state)
    try:
        celery_app.tasks[IMAGE_TASK].apply_async(
            args=[str(thread.pk), thread.reply_key, trace_id, index],
            retry=True,
            retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY,
        )
    except (OperationalError, ConnectionError, OSError) as error:
        logger.error("broker unavailable, image made in the reply", extra={"error": str(error)[:200]})
        StudioThread.objects.filter(pk=thread.pk).update(reply_state={})
        return False
    return True


def _end_round(thread: StudioThread, publisher: ReplyPublisher, state: dict[str, Any]) -> bool:
    """Every server tool of the round has its result: save the round for the model's next call (never shown to
    the marketer), then hand a client tool call to the front end. True when that ends the turn."""
    round_item = HiddenContextItem(
        id=_new_id("ctx"),
        thread_id=str(thread.pk),
        created_at=timezone.now(),
        content={
            "kind": "tool_round",
            "assistant_item": state["assistant_item"],
            "text": state["text"],
            "tool_calls": state["tool_calls"],
            "results": state["results"],
        },
    )
    with transaction.atomic():  # the round is saved as the state it was kept in goes
        StudioThread.objects.filter(pk=thread.pk).update(reply_state={})
        item_save(thread, round_item)
    publisher.event(ThreadItemDoneEvent(item=round_item))
    client_calls = [c for c in state["tool_calls"] if c["name"] in CLIENT_TOOLS]
    if client_calls:
        call = client_calls[0]
        _client_call(thread, publisher, ToolCall(id=call["id"], name=call["name"], arguments=call["arguments"]))
        return True
    return False


def _done(thread: StudioThread, publisher: ReplyPublisher, item: Any) -> None:
    item_save(thread, item)  # saved first: a reader that reconnects after this finds it in the database
    publisher.event(ThreadItemDoneEvent(item=item))


def _client_call(thread: StudioThread, publisher: ReplyPublisher, call: ToolCall) -> None:
    """`switch_theme`: validated here, remembered for the user (every page renders it), then handed to the
    front end, which applies it at once."""
    theme = str(call.arguments.get("theme") or "").strip().lower()
    if theme not in THEMES:
        theme = "dark" if "dark" in json.dumps(call.arguments).lower() else "light"
    preference_set_theme(user=thread.user, theme=theme)
    _done(
        thread,
        publisher,
        ClientToolCallItem(
            id=_new_id("tc"),
            thread_id=str(thread.pk),
            created_at=timezone.now(),
            call_id=call.id,
            name=call.name,
            arguments={"theme": theme},
            status="pending",
        ),
    )


def _provider_annotation(completion: Completion) -> Annotation:
    return Annotation(
        source=EntitySource(
            id=f"provider:{completion.provider}",
            title=f"Answered by {completion.provider}",
            label=completion.provider,
            description=completion.model,
            data={"provider": completion.provider, "model": completion.model},
        )
    )


def _budget_text(error: BudgetExceeded) -> str:
    return f"I cannot answer: {error.message[:1].lower()}{error.message[1:]}"


def _failure_text(error: Exception) -> str:
    if isinstance(error, AllProvidersFailed):
        names = ", ".join(sorted({e.provider for e in error.errors if getattr(e, "provider", "")})) or "none"
        return f"No provider could answer (tried: {names}). Try again in a moment."
    return "The provider stopped in the middle of the answer. Try again."


# --- the title -----------------------------------------------------------------------------------------------

_GREETING = re.compile(r"^\s*(hi|hello|hey|hiya|howdy|yo|good (morning|afternoon|evening))\b[\s!.,]*$", re.I)
_PRODUCT_LABEL = re.compile(r"\bproduct\s*(?:is|:|=|-)\s*(?:our |my |the |a |an )?([^,;.\n]{2,80})", re.I)
_ASKING = re.compile(
    r"^\s*(?:please\s+|hi[,!.]?\s+|hello[,!.]?\s+)?(?:i(?:'d| would)? (?:want|like|need) to |we(?:'d| would)? "
    r"(?:want|like|need) to |help me |can you |let'?s )?(?:promote|advertise|market|sell|launch|"
    r"(?:make |write |create )?an? (?:ad|ads|advert|campaign|concept) (?:for|about))\s+(?:our |my |the |a |an )?",
    re.I,
)


def _title(thread: StudioThread, publisher: ReplyPublisher) -> None:
    """A thread is named after what it is about: the product of its brief, else its first message that is
    neither a greeting nor a question (so "What's the weather?" never names it)."""
    thread.refresh_from_db()
    if thread.title and thread.title != DEFAULT_TITLE:
        return
    title = ""
    if thread.brief.get("product"):
        product = thread.brief["product"]
        title = product[:1].upper() + product[1:]
    else:
        for item in recent_items(thread.pk, HISTORY_LOAD):
            if item.type == "user_message":
                text = _user_text(item)
                if text.startswith("[attached: "):  # an image without words names nothing
                    continue
                if text and not _GREETING.match(text) and not text.rstrip().endswith("?"):  # a question names nothing
                    labelled = _PRODUCT_LABEL.search(text)
                    text = labelled[1] if labelled else _ASKING.sub("", text, count=1)
                    text = re.sub(r"^(?:our|my|the)\s+", "", text.strip(), flags=re.I)
                    text = text.strip(" .!?")
                    text = text[:1].upper() + text[1:]
                    words = text.split()
                    title = " ".join(words[:TITLE_WORDS]) + ("…" if len(words) > TITLE_WORDS else "")
                    break
    if not title:
        return
    StudioThread.objects.filter(pk=thread.pk).update(title=title[:120])
    thread.title = title[:120]
    publisher.event(ThreadUpdatedEvent(thread=thread_response(thread)))


# --- what the model is sent --------------------------------------------------------------------------------------


def _user_text(item: Any) -> str:
    """A marketer's message as the model reads it (an image sent without words is named: the images
    themselves are listed in the system prompt)."""
    text = " ".join(part.text for part in item.content if getattr(part, "text", None)).strip()
    if not text and getattr(item, "attachments", None):
        text = " ".join(f"[attached: {a.name}]" for a in item.attachments)
    return text


def history_messages(thread: StudioThread) -> list[Message]:
    """The thread as the model sees it: of the last 50 items, the span of the 12 relevant ones (marketer and
    assistant messages, client tool calls), with the hidden tool rounds inside it so every tool call keeps its
    result; the window starts with a marketer's message. Older context is in the system prompt (the brief)."""
    loaded = recent_items(thread.pk, HISTORY_LOAD)
    relevant = [i for i, item in enumerate(loaded) if item.type in RELEVANT_TYPES]
    keep = settings.AICMO_STUDIO_HISTORY_MESSAGES
    window = loaded[relevant[-keep] :] if len(relevant) > keep else loaded
    while window and window[0].type != "user_message":
        window.pop(0)
    messages: list[Message] = []
    last_assistant = None
    answered: set[str] = set()
    for item in window:
        if item.type == "user_message":
            messages.append(Message("user", _user_text(item)))
        elif item.type == "assistant_message":
            messages.append(Message("assistant", " ".join(c.text for c in item.content)))
            last_assistant = item.id
        elif item.type == "hidden_context_item" and isinstance(item.content, dict):
            round_ = item.content
            if round_.get("kind") != "tool_round":
                continue
            if messages and messages[-1].role == "assistant" and round_.get("assistant_item") == last_assistant:
                messages.pop()  # the same turn, now with its tool calls
            calls = tuple(ToolCall(id=c["id"], name=c["name"], arguments=c["arguments"]) for c in round_["tool_calls"])
            messages.append(Message("assistant", round_.get("text", ""), tool_calls=calls))
            for result in round_.get("results", []):
                messages.append(Message("tool", result["content"], tool_call_id=result["tool_call_id"]))
                answered.add(result["tool_call_id"])
        elif item.type == "client_tool_call":
            output = item.output if item.status == "completed" else None
            result = output if isinstance(output, dict) else {"status": "switched", **item.arguments}
            messages.append(Message("tool", json.dumps(result), tool_call_id=item.call_id))
            answered.add(item.call_id)
    return _drop_unanswered(messages, answered)


def _drop_unanswered(messages: list[Message], answered: set[str]) -> list[Message]:
    """Providers refuse a tool call without its result: a call whose result was lost is dropped."""
    fixed = []
    for message in messages:
        if message.tool_calls and any(c.id not in answered for c in message.tool_calls):
            calls = tuple(c for c in message.tool_calls if c.id in answered)
            message = Message("assistant", message.content, tool_calls=calls)
            if not calls and not message.content:
                continue
        fixed.append(message)
    return fixed


def _request(thread: StudioThread, messages: list[Message], trace_id: str) -> CompletionRequest:
    kit = thread.brand.kit()
    asset, concepts = _current_asset(thread)
    images = thread_images(thread)
    return CompletionRequest(
        system=studio_system_prompt(brand=kit, brief=thread.brief, asset=asset, images=images),
        messages=tuple(messages),
        use_case="studio",
        task="studio",
        context={
            "brand": kit,
            "brief": dict(thread.brief),
            "asset": asset,
            "concept_count": concepts,
            "pending_images": len(thread.pending_images),
            "reference_image": images[0] if images else None,
            "attached_now": _attached_now(thread, images),
        },
        tools=TOOLS,
        max_tokens=settings.AICMO_LLM_MAX_TOKENS,
        trace_id=trace_id,
    )


def _attached_now(thread: StudioThread, images: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The images attached to the marketer's latest message (the one being answered)."""
    last = (
        StudioItem.objects.filter(thread=thread, type="user_message")
        .order_by("-seq")
        .values_list("data", flat=True)
        .first()
    )
    ids = {a.get("id") for a in (last or {}).get("attachments", []) if isinstance(a, dict)}
    return [image for image in images if image["id"] in ids]


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


def _remember_trace(thread: StudioThread, trace_id: str) -> None:
    if trace_id and trace_id not in thread.trace_ids:
        thread.trace_ids = [*thread.trace_ids, trace_id][-200:]
        StudioThread.objects.filter(pk=thread.pk).update(trace_ids=thread.trace_ids)


def _recorder(thread: StudioThread, trace_id: str):
    """Every call of the reply becomes a ProviderCall row, attached to the thread's run and current asset (read
    at call time: the first concept creates the run mid-reply)."""

    def record(call: CallRecord) -> None:
        provider_call_save(
            call,
            run_id=thread.run_id,
            deliverable_id=thread.latest_deliverable_id,
            brand_id=thread.brand_id,
            trace_id=trace_id,
        )

    return record
