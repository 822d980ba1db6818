"""The creative studio page (/studio/): the marketer's conversations and the chat. The chat itself speaks the
ChatKit protocol to `POST /chatkit` (static/js/studio.js), the same protocol the ChatKit sample's front end
uses; this view only renders the frame (no chat messages pass through Django's `messages`, which base.html
shows as flash alerts)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from brands.roles import GENERATE, may
from brands.selectors import brands_for

from .studio.selectors import thread_assets, thread_for, threads_for

THREADS_LISTED = 50


@login_required
@require_GET
def studio(request, thread_id=None, new=False):
    """The open conversation (the latest one at /studio/), or a blank one at /studio/new/."""
    threads = list(threads_for(request.user).order_by("-updated_at")[:THREADS_LISTED])
    brands = list(brands_for(request.user).order_by("name"))
    if thread_id is not None:
        thread = thread_for(request.user, thread_id)
        if thread is None:
            raise Http404
    else:
        thread = None if new else (threads[0] if threads else None)
    brand = thread.brand if thread else None
    if brand is None and brands:
        wanted = request.GET.get("brand")
        brand = next((b for b in brands if b.slug == wanted), brands[0])
    return render(
        request,
        "studio/studio.html",
        {
            "threads": threads,
            "thread": thread,
            "new": new or thread is None,
            "brand": brand,
            "brands": brands,
            "assets": thread_assets(thread) if thread else [],
            "chatkit_url": reverse("chatkit"),
            "may_ask": bool(brand) and may(request.user, brand.pk, GENERATE),
        },
    )


@login_required
@require_GET
def studio_new(request):
    return studio(request, new=True)


@login_required
@require_GET
def studio_thread_assets(request, thread_id):
    """The thread's saved assets as an HTML fragment (the page swaps it in when a tool saved something)."""
    thread = thread_for(request.user, thread_id)
    if thread is None:
        raise Http404
    return render(request, "studio/_assets.html", {"thread": thread, "assets": thread_assets(thread)})
