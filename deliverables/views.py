"""Pages of runs, deliverables, approvals and assets (contract §6). Every read goes through the brand-scoped
selectors (someone else's object is a 404), every write through a service; views only shape the answer."""

import re
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET

from aicmo.core.errors import ApplicationError
from aicmo.core.http import post_only
from brands import roles
from brands.selectors import brands_for

from .forms import AmendForm, CalendarEntryFormSet, RewriteForm, TransitionForm, calendar_entries_of
from .kinds import render_calendar
from .models import Deliverable, Rewrite, Run
from .platforms import platform_for_kind
from .presentation import calendar_entries, calendar_months, calendar_platforms, char_meter, post_preview, side_by_side
from .quality import evaluate
from .selectors import (
    SlotCounts,
    ad_assets_for,
    approval_queue_page,
    deliverables_for,
    revisions_of,
    run_first_image,
    run_leading_provider,
    run_slot_counts,
    run_slots_page,
    runs_for,
)
from .services import (
    deliverable_actions,
    deliverable_amend,
    deliverable_approve,
    deliverable_permission_check,
    deliverable_reject,
    deliverable_submit,
    run_export,
)
from .services.exports import FORMATS
from .services.retry import run_retry_failed
from .services.rewrite import DONE_NOTES, rewrite_create

RUN_PAGE_SIZE = 25  # slot cards on a run page
QUEUE_PAGE_SIZE = 25  # rows of the approval queue
EXPORT_LABELS = {
    "docx": "Word",
    "pdf": "PDF report",
    "pptx": "PowerPoint deck",
    "ics": "Calendar (.ics)",
    "md": "Markdown",
    "csv": "CSV",
    "json": "JSON",
    "zip": "Working files (zip)",
}
EXPORT_FORMATS = [(fmt, EXPORT_LABELS[fmt]) for fmt in EXPORT_LABELS if fmt in FORMATS]  # in the labels' order
TRANSITIONS = {"submit": deliverable_submit, "approve": deliverable_approve, "reject": deliverable_reject}
DONE_MESSAGES = {"submit": "Submitted for review.", "approve": "Approved.", "reject": "Changes requested."}


# --- runs ------------------------------------------------------------------------------------------------------

EXCERPT_CHARS = 240  # of a slot card's text; the deliverable page shows all of it
_SKIPPED_LINE = re.compile(r"^\s*(?:(?:[-*_]\s*){3,}|```.*|~~~.*|\|?[\s:|-]*-[\s:|-]*)$")  # rules, fences, table rules
_BLOCK_MARKS = re.compile(r"^\s*(?:#{1,6}\s+|>\s?|[-*+]\s+|\d{1,9}[.)]\s+)*")  # headings, quotes, list items
_IMAGE = re.compile(r"!\[[^\]]*\]\((?:[^()]|\([^()]*\))*\)")  # a target may hold one level of (…)
_LINK = re.compile(r"\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)")
_INLINE_MARKS = re.compile(r"\*\*|__|~~|`+|(?<![\w*])\*|\*(?![\w*])|(?<!\w)_|_(?!\w)")


def _plain_excerpt(markdown: str, limit: int = EXCERPT_CHARS) -> str:
    """The opening of a Markdown text as one line of plain text, cut at a word near `limit` characters: headings,
    list markers, emphasis and link targets dropped, a heading followed by a colon, table cells and list items
    joined by " · ". Cheap whatever the text's length (it reads lines only until it has enough), and escaped as
    any text when shown: nothing in it is markup."""
    text = ""
    for line in (markdown or "").splitlines():
        if _SKIPPED_LINE.match(line):
            continue
        heading = line.lstrip().startswith("#")
        if line.lstrip().startswith("|"):
            line = " · ".join(cell.strip() for cell in line.strip().strip("|").split("|"))
        line = " ".join(_INLINE_MARKS.sub("", _LINK.sub(r"\1", _IMAGE.sub("", _BLOCK_MARKS.sub("", line)))).split())
        if not line:
            continue
        if heading and line[-1] not in ".:!?":
            line += ":"
        text += ("" if not text else " " if text[-1] in ".,:;!?" else " · ") + line
        if len(text) > limit:
            cut = text[:limit].rsplit(" ", 1)[0].rstrip(" ·:;,")
            return f"{cut}…"
    return text


def _run_state(run: Run, counts: SlotCounts) -> str:
    """What the live partial last showed; the poll answers 204 while it is unchanged."""
    return f"{run.status}-{counts.pending}-{counts.running}-{counts.done}-{counts.failed}"


def _run_context(run: Run, counts: SlotCounts, *, page_number) -> dict:
    """The run page: the progress of every slot (`counts`) and one page of slot cards."""
    page = run_slots_page(run, number=page_number, per_page=RUN_PAGE_SIZE, total=counts.total)
    # the first image among this page's slots (prefetched: no query); a creatives run's ads come first
    run_image = next((images[0] for slot in page.object_list if (images := getattr(slot, "image_assets", []))), None)
    for slot in page.object_list:
        revision = getattr(slot, "current_revision", None)
        images = getattr(slot, "image_assets", [])
        slot.image_url = images[0].url if images else None
        # A post with no image of its own is previewed with the run's generated image (a creatives run's ad)
        preview_image = slot.image_url or (run_image.url if run_image else None)
        slot.preview = revision and post_preview(
            kind=slot.kind,
            content_markdown=revision.content_markdown,
            hashtags=revision.hashtags,
            brand_name=run.brand.name,
            brand_slug=run.brand.slug,
            image_url=preview_image,
        )
        slot.blocking = len((revision.quality or {}).get("blocking") or []) if revision else 0
        slot.calendar = calendar_entries(slot.metadata.get("entries")) if slot.kind == "content_calendar" else []
        shows_text = revision and not (slot.preview or slot.calendar)  # else the preview or agenda stands for it
        slot.excerpt = _plain_excerpt(revision.content_markdown) if shows_text else ""
    if run.is_terminal or not counts.done:
        tokens, cost, provider, model = run.tokens_used, run.cost_usd, run.provider, run.model
    else:  # in flight: what the generated deliverables used so far
        tokens, cost = counts.tokens, counts.cost
        provider, model = run_leading_provider(run)
    state = _run_state(run, counts)
    on_page = {"page": page.number} if page.number > 1 else {}
    return {
        "run": run,
        "page": page,
        "slots": page.object_list,
        "total": counts.total,
        "done": counts.finished,
        "counts": {"pending": counts.pending, "running": counts.running, "done": counts.done, "failed": counts.failed},
        "percent": round(100 * counts.finished / counts.total) if counts.total else 0,
        "meta": {"provider": provider or "none", "model": model or "", "tokens": tokens, "cost": cost},
        "can_retry": run.is_terminal and counts.failed > 0,
        "state": state,
        # the poll asks for the page it is on; the export comes back to it
        "live_url": f"{reverse('run-live', args=[run.run_id])}?{urlencode({'state': state, **on_page})}",
        "page_url": f"{reverse('run-detail', args=[run.run_id])}{'?' + urlencode(on_page) if on_page else ''}",
        "export_formats": EXPORT_FORMATS,
    }


@login_required
@require_GET
def run_detail(request, run_id):
    run = get_object_or_404(runs_for(request.user).select_related("requested_by"), run_id=run_id)
    return render(request, "deliverables/run_detail.html", run_page_context(request, run))


def run_page_context(request, run: Run, **extra) -> dict:
    """The run page's context; managers also get the client review card (marketers see no button they cannot use)."""
    context = _run_context(run, run_slot_counts(run), page_number=request.GET.get("page"))
    may_send = roles.may(request.user, run.brand_id, roles.APPROVE)
    context["may_send_to_client"] = may_send
    context["canonical_url"] = reverse("run-detail", args=[run.run_id]) if request.method == "POST" else ""
    context["run_review_links"] = (
        list(run.review_links.annotate(n_items=Count("items"), n_decided=Count("items__decided_at"))[:10])
        if may_send
        else []
    )
    return {**context, **extra}


@login_required
@require_GET
def run_live(request, run_id):
    """The live part of the run page (the page `page` of its slots), polled by htmx every second while the run
    is in flight. Answers 204 (htmx keeps what it shows) while nothing changed since `state` — known from one
    aggregate query, before any slot is loaded — and stops polling once the run ended."""
    run = get_object_or_404(runs_for(request.user), run_id=run_id)
    if not request.htmx:
        return redirect("run-detail", run_id=run.run_id)
    counts = run_slot_counts(run)
    if request.GET.get("state") == _run_state(run, counts):
        return HttpResponse(status=204)
    context = _run_context(run, counts, page_number=request.GET.get("page"))
    return render(request, "deliverables/_run_live.html", context)


@login_required
@post_only("run-detail", "run_id")
def run_retry(request, run_id):
    run = get_object_or_404(runs_for(request.user), run_id=run_id)
    try:
        ids = run_retry_failed(run=run, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Retrying {len(ids)} failed deliverable{'s' if len(ids) != 1 else ''}.")
    return redirect("run-detail", run_id=run.run_id)


@login_required
@require_GET
def run_export_download(request, run_id):
    run = get_object_or_404(runs_for(request.user), run_id=run_id)
    fmt = request.GET.get("format", "docx")
    approved_only = request.GET.get("approved_only") in ("1", "true", "on")
    try:
        export = run_export(run=run, fmt=fmt, approved_only=approved_only, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        back = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = reverse("run-detail", args=[run.run_id])
        return redirect(back)
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = content_disposition_header(True, export.filename)
    response["Cache-Control"] = "private, no-store"
    return response


# --- deliverables -----------------------------------------------------------------------------------------------


def _deliverable(request, pk) -> Deliverable:
    return get_object_or_404(deliverables_for(request.user).select_related("run__campaign"), pk=pk)


def _diff_versions(request, revisions) -> tuple[int | None, int | None]:
    versions = [r.version for r in revisions]
    try:
        a, b = int(request.GET.get("a", "")), int(request.GET.get("b", ""))
    except ValueError:
        a, b = (versions[1], versions[0]) if len(versions) >= 2 else (None, None)
    if a not in versions or b not in versions:
        return None, None
    return a, b


def _deliverable_context(request, deliverable: Deliverable, **extra) -> dict:
    revisions = list(revisions_of(deliverable))
    current = next((r for r in revisions if r.version == deliverable.version), None)
    if current is not None:
        deliverable.current_revision = current
    images = list(deliverable.assets.order_by("created_at"))
    actions = deliverable_actions(user=request.user, deliverable=deliverable)
    run = deliverable.run
    a, b = _diff_versions(request, revisions)
    by_version = {r.version: r for r in revisions}
    entries = calendar_entries(deliverable.metadata.get("entries")) if deliverable.kind == "content_calendar" else []
    amend_form = extra.pop("amend_form", None)
    is_calendar = deliverable.kind == "content_calendar"
    entry_formset = extra.pop("entry_formset", None)
    if is_calendar and entry_formset is None and current is not None:
        entry_formset = CalendarEntryFormSet(
            prefix="entries",
            initial=[
                {"date": e.day, "platform": e.platform, "title": e.title, "text": e.text}
                for e in calendar_entries(current.structured.get("entries"))
            ],
        )
    if amend_form is None and current is not None:
        amend_form = AmendForm(
            with_hashtags=platform_for_kind(deliverable.kind) is not None,
            with_content=not is_calendar,
            initial={
                "version": deliverable.version,
                "title": current.title,
                "content_markdown": current.content_markdown,
                "hashtags": " ".join(current.hashtags),
            },
        )
    comments = list(deliverable.comments.select_related("author"))
    may_send = roles.may(request.user, run.brand_id, roles.APPROVE)
    rewrite_form = extra.pop("rewrite_form", None)
    if rewrite_form is None:
        rewrite_form = RewriteForm(initial={"version": deliverable.version, "count": 2, "tone": "friendly"})
    active = (
        deliverable.rewrites.filter(status__in=[Rewrite.Status.PENDING, Rewrite.Status.RUNNING])
        .order_by("-created_at")
        .first()
    )
    variants = list(
        deliverables_for(request.user)
        .filter(run_id=run.pk, metadata__variant_of=str(deliverable.pk))
        .order_by("position")
    )
    return {
        "deliverable": deliverable,
        "comments": comments,
        "may_send_to_client": may_send,
        # a form's error page is answered at the form's action URL: the address bar is put back on this page
        "canonical_url": reverse("deliverable-detail", args=[deliverable.pk]) if request.method == "POST" else "",
        "review_links": list(deliverable.review_links.all()[:10]) if may_send else [],
        "new_review_url": extra.pop("new_review_url", None),
        "run": run,
        "brand": run.brand,
        "rewrite_form": rewrite_form,
        "active_rewrite": active and _rewrite_context(deliverable, active),
        "variants": variants,
        "variant_of": deliverables_for(request.user).filter(pk=deliverable.metadata.get("variant_of")).first()
        if deliverable.metadata.get("variant_of")
        else None,
        "current": current,
        "revisions": revisions,
        "images": images,
        "actions": actions,
        "amend_form": amend_form,
        "entry_formset": entry_formset,
        "transition_form": extra.pop("transition_form", None) or TransitionForm(),
        "quality": (current.quality if current else None) or {"blocking": [], "warnings": []},
        "preview": current
        and post_preview(
            kind=deliverable.kind,
            content_markdown=current.content_markdown,
            hashtags=current.hashtags,
            brand_name=run.brand.name,
            brand_slug=run.brand.slug,
            image_url=images[0].url
            if images
            else (
                run_image.url if platform_for_kind(deliverable.kind) and (run_image := run_first_image(run)) else None
            ),
        ),
        "calendar": {
            "months": calendar_months(entries),
            "entries": entries,
            "platforms": calendar_platforms(entries),
            "weekdays": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
        },
        "audit": list(deliverable.audit_events.select_related("actor").order_by("-created_at")[:50]),
        "diff": {
            "a": a,
            "b": b,
            "rows": side_by_side(by_version[a].content_markdown, by_version[b].content_markdown) if a and b else [],
        },
        "export_formats": EXPORT_FORMATS,
        **extra,
    }


@login_required
@require_GET
def deliverable_detail(request, pk):
    deliverable = _deliverable(request, pk)
    return render(request, "deliverables/deliverable_detail.html", _deliverable_context(request, deliverable))


@login_required
@post_only("deliverable-detail", "pk")
def deliverable_amend_view(request, pk):
    deliverable = _deliverable(request, pk)
    is_calendar = deliverable.kind == "content_calendar"
    form = AmendForm(
        request.POST, with_hashtags=platform_for_kind(deliverable.kind) is not None, with_content=not is_calendar
    )
    formset = CalendarEntryFormSet(request.POST, prefix="entries") if is_calendar else None
    status = 400
    conflict = None
    if form.is_valid() and (formset is None or formset.is_valid()):
        data = form.cleaned_data
        try:
            revision = deliverable_amend(
                deliverable=deliverable,
                actor=request.user,
                version=data["version"],
                content_markdown=data.get("content_markdown", ""),
                title=data["title"] or None,
                hashtags=form.hashtag_list(),
                note=data["note"],
                entries=calendar_entries_of(formset) if formset is not None else None,
            )
        except ApplicationError as error:
            status = error.http_status
            details = error.details if isinstance(error.details, dict) else {}
            if "current_version" in details:  # someone saved first: keep this edit, rebased on their version
                deliverable.refresh_from_db()
                form, conflict = _amend_conflict(deliverable, form, details["current_version"], formset=formset)
            elif "entries" in details:
                form.add_error(None, [error.message, *details["entries"]])
            else:
                form.add_service_error(error)
        else:
            messages.success(request, f"Saved as version {revision.version}.")
            return redirect("deliverable-detail", pk=deliverable.pk)
    deliverable.refresh_from_db()
    context = _deliverable_context(
        request, deliverable, amend_form=form, amend_open=True, conflict=conflict, entry_formset=formset
    )
    return render(request, "deliverables/deliverable_detail.html", context, status=status)


def _amend_conflict(deliverable: Deliverable, form: AmendForm, current_version: int, *, formset=None):
    """A stale amend: both texts side by side, and the editor holding the user's edit on the current version, so
    saving again re-applies it knowingly (nothing typed is lost)."""
    theirs = revisions_of(deliverable).filter(version=current_version).first()
    data = form.cleaned_data
    rebased = AmendForm(
        {**form.data.dict(), "version": current_version},
        with_hashtags=platform_for_kind(deliverable.kind) is not None,
        with_content=formset is None,
    )
    rebased.is_valid()
    if formset is not None:  # a calendar: the edited entries, as the table they would make
        mine = render_calendar(data["title"] or deliverable.title, calendar_entries_of(formset))
    else:
        mine = data["content_markdown"]
    conflict = {
        "version": data["version"],
        "current_version": current_version,
        "theirs": theirs,
        "mine": mine,
    }
    return rebased, conflict


@login_required
@post_only("deliverable-detail", "pk")
def deliverable_transition(request, pk, action):
    deliverable = _deliverable(request, pk)
    form = TransitionForm(request.POST)
    try:
        deliverable_permission_check(actor=request.user, action=action, deliverable=deliverable)  # 403 first
        if not form.is_valid():  # e.g. a comment over 2,000 characters: refused, never dropped silently
            raise ApplicationError("The comment needs a fix: see below.")
        TRANSITIONS[action](deliverable=deliverable, actor=request.user, comment=form.cleaned_data.get("comment", ""))
    except ApplicationError as error:
        details = error.details if isinstance(error.details, dict) else {}
        if "comment" in details and form.is_valid():
            form.add_error("comment", details["comment"])
        context = _deliverable_context(
            request,
            deliverable,
            transition_form=form,
            action_error=error.message,
            action_error_details=error.details if isinstance(error.details, list) else [],
        )
        return render(request, "deliverables/deliverable_detail.html", context, status=error.http_status)
    messages.success(request, DONE_MESSAGES[action])
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("deliverable-detail", pk=deliverable.pk)


@login_required
@post_only("deliverable-detail", "pk")
def deliverable_preview(request, pk):
    """Live preview of the amend editor (htmx): the sanitised rendering, the character meter against the
    platform's limit, and the quality checks the text would get if saved. Writes nothing."""
    deliverable = _deliverable(request, pk)
    form = AmendForm(request.POST, with_hashtags=platform_for_kind(deliverable.kind) is not None)
    form.is_valid()
    content = request.POST.get("content_markdown", "")
    title = request.POST.get("title", "")
    hashtags = form.hashtag_list() if "hashtags" in form.cleaned_data else (deliverable.hashtags or [])
    hashtags = [tag if tag.startswith("#") else f"#{tag}" for tag in hashtags or []]
    quality = evaluate(
        kind=deliverable.kind,
        title=title,
        content_markdown=content,
        hashtags=hashtags,
        structured=deliverable.metadata,
        brand=deliverable.run.input_snapshot.get("brand") or {},
    )
    context = {
        "deliverable": deliverable,
        "content": content,
        "hashtags": hashtags,
        "quality": quality,
        "meter": char_meter(kind=deliverable.kind, content_markdown=content, hashtags=hashtags),
        "preview": post_preview(
            kind=deliverable.kind,
            content_markdown=content,
            hashtags=hashtags,
            brand_name=deliverable.run.brand.name,
            brand_slug=deliverable.run.brand.slug,
        ),
    }
    return render(request, "deliverables/_amend_preview.html", context)


@login_required
@require_GET
def deliverable_diff(request, pk):
    deliverable = _deliverable(request, pk)
    if not request.htmx:
        query = request.GET.urlencode()
        return redirect(f"{reverse('deliverable-detail', args=[deliverable.pk])}?{query}#history")
    revisions = list(revisions_of(deliverable))
    a, b = _diff_versions(request, revisions)
    by_version = {r.version: r for r in revisions}
    rows = side_by_side(by_version[a].content_markdown, by_version[b].content_markdown) if a and b else []
    return render(request, "deliverables/_diff.html", {"diff": {"a": a, "b": b, "rows": rows}})


# --- approvals and assets ------------------------------------------------------------------------------------


@login_required
@require_GET
def approvals(request):
    if not roles.may_anywhere(request.user, roles.APPROVE):
        raise DjangoPermissionDenied("Only managers review deliverables.")
    page = approval_queue_page(request.user, number=request.GET.get("page"), per_page=QUEUE_PAGE_SIZE)
    for item in page.object_list:
        revision = getattr(item, "current_revision", None)
        quality = (revision.quality if revision else None) or {}
        item.blocking = quality.get("blocking") or []
        item.quality_warnings = quality.get("warnings") or []
        # as the run_title filter names a run, from what the selector read (the run's input_snapshot is not loaded)
        run = item.run
        named_by_product = run.module == "creatives" and item.run_brief_title  # creatives: the product's name
        item.run_label = (
            run.campaign.name
            if run.campaign_id and run.campaign and not named_by_product
            else item.run_brief_title or f"{run.module.capitalize()} run"
        )
        item.waiting_s = (timezone.now() - item.updated_at).total_seconds()
    return render(request, "deliverables/approvals.html", {"page": page, "queue": page.object_list})


def ad_asset_record(item: Deliverable) -> dict:
    """One saved asset as the ChatKit sample front end's `AdAssetRecord`."""
    fields = getattr(item, "current_structured", None) or {}
    meta = item.metadata or {}
    return {
        "id": str(item.pk),
        "product": meta.get("product", ""),
        "style": meta.get("style", ""),
        "tone": meta.get("tone", ""),
        "pitch": meta.get("pitch", ""),
        "headline": fields.get("headline") or item.title,
        "primaryText": fields.get("primary_text", ""),
        "callToAction": fields.get("call_to_action", ""),
        "imagePrompts": list(fields.get("image_prompts") or []),
        "images": [asset.url for asset in getattr(item, "image_assets", [])],
        "createdAt": item.created_at.isoformat(),
    }


def _assets_json(request):
    """`{"assets": [AdAssetRecord]}`, oldest first as the seed lists them; API authentication (token or
    session), anonymous 401."""
    from rest_framework import exceptions
    from rest_framework.request import Request
    from rest_framework.settings import api_settings

    try:
        user = Request(request, authenticators=[c() for c in api_settings.DEFAULT_AUTHENTICATION_CLASSES]).user
    except exceptions.APIException as error:
        return JsonResponse({"detail": str(error.detail)}, status=401)
    if not user.is_authenticated:
        return JsonResponse({"detail": "Authentication credentials were not provided."}, status=401)
    brand_slug = request.GET.get("brand") or None
    if brand_slug and not brands_for(user).filter(slug=brand_slug).exists():
        return JsonResponse({"detail": "No brand of yours has this slug."}, status=404)
    assets = ad_assets_for(user, brand_slug=brand_slug).order_by("created_at", "pk")
    return JsonResponse({"assets": [ad_asset_record(item) for item in assets]})


@require_GET
def assets_index(request):
    """`GET /assets`: JSON for a request that accepts it at least as much as HTML (the ChatKit sample's front end
    fetches it with `Accept: */*`), the gallery page for a browser's navigation (`text/html` first)."""
    if request.get_preferred_type(["application/json", "text/html"]) == "application/json":
        return _assets_json(request)
    return asset_gallery(request)


@login_required
@post_only("approvals")
def approvals_bulk(request):
    """Approve, or request changes to, the checked deliverables: each through its own service call, so every one
    gets its own checks (role, self-approval, quality, current status) and audit event; refusals are listed."""
    if not roles.may_anywhere(request.user, roles.APPROVE):
        raise DjangoPermissionDenied("Only managers review deliverables.")
    action = request.POST.get("action")
    comment = (request.POST.get("comment") or "").strip()
    ids = request.POST.getlist("ids")
    if action not in ("approve", "reject") or not ids:
        messages.error(request, "Tick at least one deliverable, then choose Approve or Request changes.")
        return redirect("approvals")
    if action == "reject" and not comment:
        messages.error(request, "Say what should change: a comment is required to request changes.")
        return redirect("approvals")
    valid_ids = []
    for raw in ids[:100]:
        try:
            valid_ids.append(uuid.UUID(raw))
        except ValueError:
            continue
    done, refused = 0, []
    for deliverable in deliverables_for(request.user).filter(pk__in=valid_ids):
        try:
            if action == "approve":
                deliverable_approve(deliverable=deliverable, actor=request.user, comment=comment)
            else:
                deliverable_reject(deliverable=deliverable, actor=request.user, comment=comment)
            done += 1
        except ApplicationError as error:
            refused.append(f"{deliverable.title}: {error.message}")
    verb = "Approved" if action == "approve" else "Changes requested for"
    if done:
        messages.success(request, f"{verb} {done} deliverable{'s' if done != 1 else ''}.")
    for reason in refused:
        messages.error(request, reason)
    return redirect("approvals")


@login_required
@require_GET
def asset_gallery(request):
    """Saved ad assets (the seed's gallery): ad concepts from the studio and from creatives runs, with images."""
    brand_slug = request.GET.get("brand") or None
    brands = list(brands_for(request.user).order_by("name"))
    if brand_slug and brand_slug not in {b.slug for b in brands}:
        raise Http404
    page = Paginator(ad_assets_for(request.user, brand_slug=brand_slug), 24).get_page(request.GET.get("page"))
    return render(request, "deliverables/assets.html", {"page": page, "brands": brands, "brand_slug": brand_slug})


# --- the improve loop ------------------------------------------------------------------------------------------

REWRITE_LABELS = {
    "regenerate": "Regenerating",
    "shorten": "Shortening",
    "expand": "Expanding",
    "tone": "Changing the tone",
    "translate": "Translating",
    "variants": "Writing variants",
}


def _rewrite_context(deliverable: Deliverable, rewrite: Rewrite) -> dict:
    return {
        "deliverable": deliverable,
        "rewrite": rewrite,
        "rewrite_label": REWRITE_LABELS[rewrite.action],
        "status_url": reverse("deliverable-rewrite-status", args=[deliverable.pk, rewrite.pk]),
    }


@login_required
@post_only("deliverable-detail", "pk")
def deliverable_rewrite_view(request, pk):
    """Start a rewrite from the page. With htmx the card turns into the rewrite's progress (refusals come back
    in the card, with a 200 so htmx shows them); without, the page reloads showing it."""
    deliverable = _deliverable(request, pk)
    form = RewriteForm(request.POST)
    error = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            rewrite = rewrite_create(
                deliverable=deliverable,
                actor=request.user,
                action=data["action"],
                version=data["version"],
                tone=data["tone"] if data["action"] == "tone" else "",
                language=data["language"] if data["action"] == "translate" else "",
                count=data["count"] if data["action"] == "variants" else None,
                instructions=data["instructions"],
                selection=data["selection"] if data["selection"].strip() else "",
                trace_id=getattr(request, "trace_id", ""),
            )
        except ApplicationError as refusal:
            form.add_service_error(refusal)
            error = refusal
        else:
            if request.htmx:
                return render(request, "deliverables/_rewrite_progress.html", _rewrite_context(deliverable, rewrite))
            return redirect(f"{reverse('deliverable-detail', args=[deliverable.pk])}#improve")
    deliverable.refresh_from_db()
    if request.htmx:
        context = {"deliverable": deliverable, "rewrite_form": form}
        return render(request, "deliverables/_rewrite_form.html", context)
    context = _deliverable_context(request, deliverable, rewrite_form=form)
    return render(request, "deliverables/deliverable_detail.html", context, status=error.http_status if error else 400)


@login_required
@require_GET
def deliverable_rewrite_status(request, pk, rewrite_id):
    """The progress of a rewrite (polled by htmx every second). Once it ended, the page reloads (HX-Redirect)
    with a message saying what it made."""
    deliverable = _deliverable(request, pk)
    rewrite = get_object_or_404(Rewrite.objects.filter(deliverable=deliverable), pk=rewrite_id)
    page = reverse("deliverable-detail", args=[deliverable.pk])
    if not rewrite.is_terminal:
        if not request.htmx:
            return redirect(page)
        return render(request, "deliverables/_rewrite_progress.html", _rewrite_context(deliverable, rewrite))
    if rewrite.status == Rewrite.Status.DONE:
        if rewrite.action == Rewrite.Action.VARIANTS:
            count = len(rewrite.variant_ids)
            messages.success(request, f"{count} variant{'s' if count != 1 else ''} added to the run, as drafts.")
        else:
            note = DONE_NOTES[rewrite.action].format(**{"tone": "", "language_name": "", **rewrite.options})
            messages.success(request, f"{note}: saved as version {rewrite.result_version}.")
    else:
        messages.error(request, f"The {rewrite.action} failed: {(rewrite.error or {}).get('message', 'unknown error')}")
    if not request.htmx:
        return redirect(page)
    response = HttpResponse(status=200)
    response["HX-Redirect"] = page
    return response
