"""Pages of the team workflow: the client review page (no account needed) and the inbox."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from aicmo.core.errors import ApplicationError, NotFound, PermissionDenied
from aicmo.core.http import post_only

from .models import Revision
from .selectors import deliverables_for, inbox_for, runs_for
from .services.comments import comment_create
from .services.notifications import email_preference_set, email_unsubscribe, notifications_mark_read
from .services.review_links import (
    DEFAULT_HOURS,
    LinkGone,
    review_link_create,
    review_link_decide,
    review_link_open,
    run_review_link_create,
    run_review_link_decide,
    run_review_link_open,
)
from .views import _deliverable, _deliverable_context, run_page_context


def _private(response):
    # The token is in the URL: never leak it in a Referer to another site, never cache the page, never index it.
    response["Referrer-Policy"] = "same-origin"  # not no-referrer: the form POST would carry Origin: null (CSRF)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def review_link_page(request, token):
    """A client reads the revision the link was sent for and approves or requests changes, once."""
    try:
        link = review_link_open(token=token)
    except NotFound:
        return run_review_page(request, token)
    except LinkGone as error:
        return _private(render(request, "deliverables/review_link_gone.html", {"reason": error.message}, status=410))
    errors, status, values = {}, 200, {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("decision", "name", "comment")}
        try:
            link = review_link_decide(token=token, **values)
        except LinkGone as error:
            return _private(
                render(request, "deliverables/review_link_gone.html", {"reason": error.message}, status=410)
            )
        except ApplicationError as error:
            errors, status = error.details or {"decision": [error.message]}, error.http_status
        else:
            return _private(render(request, "deliverables/review_link_done.html", {"link": link}))
    revision = Revision.objects.get(deliverable_id=link.deliverable_id, version=link.version)
    context = {"link": link, "deliverable": link.deliverable, "revision": revision, "errors": errors, "values": values}
    return _private(render(request, "deliverables/review_link.html", context, status=status))


def _gone(request, reason):
    return _private(render(request, "deliverables/review_link_gone.html", {"reason": reason}, status=410))


def run_review_page(request, token):
    """A client reads every deliverable a whole-run link was sent for and decides each one (or all at once)."""
    try:
        review = run_review_link_open(token=token)
    except NotFound as error:
        raise Http404 from error
    except LinkGone as error:
        return _gone(request, error.message)
    errors, status, values, decided = {}, 200, {}, []
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("decision", "name", "comment", "deliverable")}
        try:
            review, decided = run_review_link_decide(
                token=token,
                decision=values["decision"],
                name=values["name"],
                comment=values["comment"],
                deliverable_id=values["deliverable"],
            )
        except LinkGone as error:
            return _gone(request, error.message)
        except ApplicationError as error:
            errors, status = error.details or {"decision": [error.message]}, error.http_status
        else:
            if not review.open_items:
                context = {"link": decided[0], "review": review}
                return _private(render(request, "deliverables/review_link_done.html", context))
            values = {"name": values["name"]}  # keep the name for the next decision; clear the rest
    context = {
        "review": review,
        "run": review.link.run,
        "errors": errors,
        "values": values,
        "error_target": values.get("deliverable") or "all" if errors else "",
        "decided": decided,
    }
    return _private(render(request, "deliverables/run_review_link.html", context, status=status))


def _review_link_url(request, create) -> str | None:
    """The URL of a new review link made by `create(hours)` with the form's validity, or None (the reason is
    flashed for the page the caller goes back to; a role that may not send it: 403)."""
    try:
        hours = int(request.POST.get("expires_in_hours") or DEFAULT_HOURS)
        sent = create(hours)
    except ValueError:
        messages.error(request, "The validity is a whole number of hours (1 to 720).")
        return None
    except PermissionDenied as error:
        raise DjangoPermissionDenied(error.message) from error
    except ApplicationError as error:
        messages.error(request, error.message)
        return None
    return request.build_absolute_uri(reverse("review-link-page", args=[sent.token]))


@login_required
@post_only("run-detail", "run_id")
def run_review_link(request, run_id):
    """Create a whole-run client review link and show its URL once, on the run page (never stored in clear)."""
    run = runs_for(request.user).filter(run_id=run_id).first()
    if run is None:
        raise Http404
    url = _review_link_url(
        request, lambda hours: run_review_link_create(run=run, actor=request.user, expires_in_hours=hours)
    )
    if url is None:
        return redirect("run-detail", run_id=run_id)
    context = run_page_context(request, run, new_review_url=url)
    return _private(render(request, "deliverables/run_detail.html", context, status=201))


@login_required
def inbox(request):
    return render(request, "deliverables/inbox.html", inbox_for(request.user))


@login_required
@post_only("inbox")
def inbox_mark_read(request):
    notifications_mark_read(user=request.user)
    return redirect("inbox")


@login_required
@post_only("inbox")
def inbox_email_setting(request):
    email_preference_set(user=request.user, email=request.POST.get("email") == "on")
    messages.success(request, "Notification email is " + ("on." if request.POST.get("email") == "on" else "off."))
    return redirect("inbox")


def inbox_unsubscribe(request, token):
    """The link in every notification email: works without logging in (the token is signed)."""
    if request.method == "POST":
        done = email_unsubscribe(token=token)
        return render(request, "deliverables/unsubscribed.html", {"done": done}, status=200 if done else 400)
    return render(request, "deliverables/unsubscribed.html", {"confirm": True, "token": token})


@login_required
@post_only("deliverable-detail", "pk")
def deliverable_comment(request, pk):
    deliverable = deliverables_for(request.user).filter(pk=pk).first()
    if deliverable is None:
        raise Http404
    try:
        comment_create(deliverable=deliverable, actor=request.user, body=request.POST.get("body", ""))
    except ApplicationError as error:
        # Back to the page it came from, with the message (never a bare error page on another URL).
        messages.error(request, error.message)
        return redirect(f"{reverse('deliverable-detail', args=[pk])}#comments")
    messages.success(request, "Comment added.")
    return redirect(f"{reverse('deliverable-detail', args=[pk])}#comments")


@login_required
@post_only("deliverable-detail", "pk")
def deliverable_review_link(request, pk):
    """Create a client review link and show its URL once, on the deliverable's page (never stored in clear)."""
    deliverable = _deliverable(request, pk)
    url = _review_link_url(
        request, lambda hours: review_link_create(deliverable=deliverable, actor=request.user, expires_in_hours=hours)
    )
    if url is None:
        return redirect("deliverable-detail", pk=pk)
    context = _deliverable_context(request, deliverable, new_review_url=url)
    return _private(render(request, "deliverables/deliverable_detail.html", context, status=201))
