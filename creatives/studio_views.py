"""Pages of the creative studio (/studio/): the chat, its message endpoints, and the SSE stream of a reply.

Views are thin: they read through `creatives.studio.selectors`, write through `creatives.studio.services`.
Script callers send `X-Requested-With: fetch` and get JSON; plain form posts get a redirect, so the page works
(without live streaming) with no JavaScript."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from aicmo.core.errors import ApplicationError, PermissionDenied
from aicmo.core.limits import ConcurrencyLimited, stream_slot
from brands.selectors import brand_for, brands_for

from .models import StudioMessage
from .studio.selectors import studio_message_for, thread_assets, thread_for, thread_messages, threads_for
from .studio.services import message_post, message_retry, thread_create
from .studio.streaming import CONNECTION_MAX_S, reply_events

THREADS_LISTED = 50


def _wants_json(request) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _reply_payload(message: StudioMessage) -> dict:
    return {
        "id": message.pk,
        "status": message.status,
        "stream_url": reverse("studio-message-stream", args=[message.pk]),
        "retry_url": reverse("studio-message-retry", args=[message.pk]),
    }


def _refused(request, error: ApplicationError, back: str):
    if _wants_json(request):
        body = {"detail": error.message, "code": error.code}
        if error.details is not None:
            body["details"] = error.details
        return JsonResponse(body, status=error.http_status)
    if isinstance(error, PermissionDenied):  # the site's 403 page, with the reason
        raise DjangoPermissionDenied(error.message)
    flash.error(request, error.message)
    return HttpResponseRedirect(back)


@login_required
@require_GET
def studio(request, thread_id=None):
    """The chat: the marketer's conversations, the open one, and the assets it saved."""
    threads = list(threads_for(request.user).order_by("-updated_at")[:THREADS_LISTED])
    if thread_id is not None:
        thread = thread_for(request.user, thread_id)
        if thread is None:
            raise Http404
    else:
        thread = threads[0] if threads else None
    return render(
        request,
        "studio/studio.html",
        {
            "threads": threads,
            "thread": thread,
            "messages": thread_messages(thread) if thread else [],
            "assets": thread_assets(thread) if thread else [],
            "brands": list(brands_for(request.user).order_by("name")),
        },
    )


@login_required
@require_POST
def studio_thread_create(request):
    brand = brand_for(request.user, request.POST.get("brand") or None)
    if brand is None:
        brands = list(brands_for(request.user).order_by("name")[:1])
        if request.POST.get("brand") or not brands:
            raise Http404
        brand = brands[0]  # several brands and none chosen: the first, as the form preselects it
    try:
        thread = thread_create(user=request.user, brand=brand)
    except ApplicationError as error:
        return _refused(request, error, reverse("studio"))
    return redirect("studio-thread", thread_id=thread.pk)


@login_required
@require_POST
def studio_message_post(request, thread_id):
    thread = thread_for(request.user, thread_id)
    if thread is None:
        raise Http404
    back = reverse("studio-thread", args=[thread.pk])
    try:
        question, reply = message_post(
            thread=thread, user=request.user, text=request.POST.get("text", ""), trace_id=request.trace_id
        )
    except ApplicationError as error:
        return _refused(request, error, back)
    if _wants_json(request):
        return JsonResponse(
            {"question": {"id": question.pk, "content": question.content}, "reply": _reply_payload(reply)}, status=201
        )
    return HttpResponseRedirect(back)


@login_required
@require_POST
def studio_message_retry(request, pk):
    message = studio_message_for(request.user, pk)
    if message is None or message.role != StudioMessage.Role.ASSISTANT:
        raise Http404
    back = reverse("studio-thread", args=[message.thread_id])
    try:
        message = message_retry(message=message, user=request.user)
    except ApplicationError as error:
        return _refused(request, error, back)
    if _wants_json(request):
        return JsonResponse({"reply": _reply_payload(message)})
    return HttpResponseRedirect(back)


@login_required
@require_GET
def studio_message_stream(request, pk):
    """Server-Sent Events of one reply, resumable with `Last-Event-ID` (see creatives/studio/streaming.py).
    A plain WSGI StreamingHttpResponse: under ASGI a sync generator would be buffered whole, and GZip
    middleware would buffer it too (neither is used here)."""
    message = studio_message_for(request.user, pk)
    if message is None or message.role != StudioMessage.Role.ASSISTANT:
        raise Http404
    last_event_id = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id", "")
    events = reply_events(message_id=message.pk, last_event_id=last_event_id[:64])
    try:  # each open stream holds one of the user's stream slots until it ends or the connection closes
        events = stream_slot(request.user, events, hold_s=CONNECTION_MAX_S + 30)
    except ConcurrencyLimited as refused:
        response = JsonResponse({"detail": refused.message, "code": refused.default_code}, status=429)
        response["Retry-After"] = str(refused.wait)
        return response
    response = StreamingHttpResponse(events, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx and friends: pass each event on at once
    return response


@login_required
@require_GET
def studio_thread_assets(request, thread_id):
    """The thread's saved assets as an HTML fragment (the page swaps it in when a tool saved something)."""
    thread = thread_for(request.user, thread_id)
    if thread is None:
        raise Http404
    return render(request, "studio/_assets.html", {"thread": thread, "assets": thread_assets(thread)})
