"""The improve loop (contract §5 `rewrite`): regenerate, shorten, expand, change tone, translate, or make A/B
variants of a deliverable, on the whole piece or a selected passage, through the provider chain with the brand
kit. A request is saved as a `Rewrite` and done by a worker (`rewrite_perform`), like generation: the result is
a new draft revision (version + 1, through `revision_create`, with an audit event) or, for variants, that many
sibling deliverables in the same run.

Idempotent: the worker claims the rewrite with a conditional update, and its result is written in one
transaction that first moves the rewrite from `running` to `done` (a second delivery finds it done and writes
nothing) and is conditional on the version the request was made on (a deliverable amended meanwhile fails
the rewrite with a conflict instead of overwriting the newer text)."""

import logging
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from aicmo.core.errors import ApplicationError, Conflict
from aicmo.core.trace import run_id_var, trace_id_var
from aicmo.llm.exceptions import AllProvidersFailed, ErrorType
from aicmo.llm.registry import get_chain

from ..events import deliverable_rewritten_event, deliverable_variant_created_event
from ..models import Deliverable, Revision, Rewrite, Run
from ..platforms import platform_for_kind, post_length
from ..prompts import rewrite_request
from ..waiting import rewrite_ended_publish
from .provider_calls import provider_call_save
from .revisions import revision_create
from .settle import run_totals
from .workflow import (
    _clean_hashtags,
    _load,
    _stale,
    _structured_after_amend,
    deliverable_permission_check,
    deliverable_revise,
)

logger = logging.getLogger(__name__)

Action = Rewrite.Action
VARIANTS_MAX = 5
INSTRUCTIONS_MAX = 1000
SELECTION_MAX = 5000
TONE_MAX = 40
LANGUAGES = {
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "sv": "Swedish",
    "da": "Danish",
    "nb": "Norwegian",
    "fi": "Finnish",
    "pl": "Polish",
    "cs": "Czech",
    "tr": "Turkish",
    "el": "Greek",
    "ja": "Japanese",
    "ko": "Korean",
    "zh": "Chinese",
    "ar": "Arabic",
    "hi": "Hindi",
}
DONE_NOTES = {
    "regenerate": "Regenerated",
    "shorten": "Shortened",
    "expand": "Expanded",
    "tone": "Tone changed to {tone}",
    "translate": "Translated into {language_name}",
}


def language_code(value: str) -> str | None:
    """'es', 'ES', 'Spanish', 'spanish' → 'es'; None when not a language the product offers."""
    key = (value or "").strip().lower()
    if key in LANGUAGES:
        return key
    return next((code for code, name in LANGUAGES.items() if name.lower() == key), None)


# --- asking ------------------------------------------------------------------------------------------------------


def rewrite_create(
    *,
    deliverable: Deliverable,
    actor,
    action: str,
    version: int,
    tone: str = "",
    language: str = "",
    count: int | None = None,
    instructions: str = "",
    selection: str = "",
    trace_id: str = "",
) -> Rewrite:
    """Validate and save a rewrite request; a worker picks it up once the transaction commits.

    Refused: 403 without the role to amend; 404 for non-members; 409 when `version` is stale, while it is in
    review (except for variants, which leave it alone), or while another rewrite of it is in flight; 400 for
    a missing tone / language / count, a selection that is not in the current text, and the like."""
    current = _load(deliverable, actor)
    deliverable_permission_check(actor=actor, action="amend", deliverable=current)
    options = _options(current, action, tone=tone, language=language, count=count, selection=selection)
    instructions = " ".join((instructions or "").split())
    if len(instructions) > INSTRUCTIONS_MAX:
        raise _invalid("instructions", f"Ensure this field has no more than {INSTRUCTIONS_MAX} characters.")
    if instructions:
        options["instructions"] = instructions
    if action != Action.VARIANTS and current.status == Deliverable.Status.IN_REVIEW:
        raise Conflict(
            "It is in review: a manager must approve or reject it before it can be rewritten.",
            details={"status": current.status},
        )
    if version != current.version:
        raise _stale(current.version, version)
    with transaction.atomic():
        # A rewrite whose worker vanished (no progress for AICMO_RUN_STUCK_AFTER_S) must not block the next one.
        stuck_before = timezone.now() - timedelta(seconds=settings.AICMO_RUN_STUCK_AFTER_S)
        Rewrite.objects.filter(
            deliverable_id=current.pk,
            status__in=[Rewrite.Status.PENDING, Rewrite.Status.RUNNING],
            updated_at__lt=stuck_before,
        ).update(
            status=Rewrite.Status.FAILED,
            error={"type": ErrorType.TIMEOUT, "message": "No worker finished it in time."},
            finished_at=timezone.now(),
        )
        busy = (
            Rewrite.objects.select_for_update()
            .filter(deliverable_id=current.pk, status__in=[Rewrite.Status.PENDING, Rewrite.Status.RUNNING])
            .exclude(action=Action.VARIANTS)
            .first()
        )
        if busy is not None and action != Action.VARIANTS:
            raise Conflict(
                f"A {busy.action} of it is already running: wait for it to finish.",
                details={"rewrite_id": str(busy.pk), "status": busy.status},
            )
        rewrite = Rewrite.objects.create(
            deliverable_id=current.pk,
            action=action,
            options=options,
            from_version=version,
            requested_by=actor,
            trace_id=trace_id or current.run.trace_id,
        )
        transaction.on_commit(lambda: rewrite_dispatch(rewrite_id=rewrite.pk))
    return rewrite


def _options(deliverable, action, *, tone, language, count, selection) -> dict[str, Any]:
    if action not in Action.values:
        raise _invalid("action", f"One of {', '.join(Action.values)}.")
    options: dict[str, Any] = {}
    if action == Action.TONE:
        tone = " ".join((tone or "").split())
        if not tone:
            raise _invalid("tone", "Say which tone, e.g. formal, friendly, playful, bold.")
        if len(tone) > TONE_MAX:
            raise _invalid("tone", f"Ensure this field has no more than {TONE_MAX} characters.")
        options["tone"] = tone
    if action == Action.TRANSLATE:
        code = language_code(language)
        if code is None:
            raise _invalid("language", f"A language code or name, one of: {', '.join(LANGUAGES)}.")
        options.update(language=code, language_name=LANGUAGES[code])
    if action == Action.VARIANTS:
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= VARIANTS_MAX:
            raise _invalid("count", f"A number of variants from 1 to {VARIANTS_MAX}.")
        options["count"] = count
        if selection:
            raise _invalid("selection", "Variants are of the whole piece: leave the selection out.")
    if selection:
        if len(selection) > SELECTION_MAX:
            raise _invalid("selection", f"Ensure this field has no more than {SELECTION_MAX} characters.")
        current = Revision.objects.filter(deliverable_id=deliverable.pk, version=deliverable.version).first()
        if not selection.strip() or current is None or selection not in current.content_markdown:
            raise _invalid("selection", "Select a passage of the current text (it was not found in it).")
        options["selection"] = selection
    return options


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(message, details={field: [message]})


def rewrite_dispatch(*, rewrite_id) -> bool:
    """Enqueue the rewrite's task. With the broker down it fails at once, saying so (nothing was changed)."""
    from kombu.exceptions import OperationalError

    from ..tasks import rewrite_deliverable

    try:
        rewrite_deliverable.apply_async(
            args=[str(rewrite_id)], retry=True, retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY
        )
    except (OperationalError, ConnectionError, OSError) as error:
        logger.error("broker unavailable, rewrite not started", extra={"error": str(error)[:200]})
        _fail(
            rewrite_id, ErrorType.QUEUE_UNAVAILABLE, "The queue is unavailable: try again in a moment.", running=False
        )
        return False
    return True


# --- doing (the task body) ---------------------------------------------------------------------------------------


def rewrite_perform(*, rewrite_id: str, redelivered: bool = True) -> None:
    """Do one rewrite. Claimed like a generation slot (see deliverable_generate): pending by any delivery, running
    only by a redelivered task or once its claim is stale."""
    now = timezone.now()
    claimable = Q(status=Rewrite.Status.PENDING) | Q(
        status=Rewrite.Status.RUNNING, updated_at__lt=now - timedelta(seconds=settings.AICMO_RUN_STUCK_AFTER_S)
    )
    if redelivered:
        claimable |= Q(status=Rewrite.Status.RUNNING)
    claimed = Rewrite.objects.filter(claimable, pk=rewrite_id).update(
        status=Rewrite.Status.RUNNING, deliveries=F("deliveries") + 1, updated_at=now
    )
    if not claimed:
        return
    rewrite = Rewrite.objects.select_related("deliverable__run", "requested_by").get(pk=rewrite_id)
    run = rewrite.deliverable.run
    trace_token, run_token = trace_id_var.set(rewrite.trace_id), run_id_var.set(str(run.run_id))
    try:
        if rewrite.deliveries > settings.AICMO_MAX_TASK_DELIVERIES:
            _fail(rewrite.pk, ErrorType.INTERNAL_ERROR, "Gave up: the worker stopped each time it tried.")
            return
        _perform(rewrite)
    except AllProvidersFailed as error:
        # The last provider's own words say best what went wrong (e.g. the offline provider's limits).
        message = str(error.errors[-1]) if error.errors else str(error)
        _fail(rewrite.pk, error.error_type, message)
    except ApplicationError as error:  # the deliverable changed meanwhile, or nothing changed
        _fail(rewrite.pk, "CONFLICT" if isinstance(error, Conflict) else ErrorType.VALIDATION_ERROR, error.message)
    except SoftTimeLimitExceeded:
        _fail(rewrite.pk, ErrorType.TIMEOUT, "Timed out: the rewrite took too long.")
    except Exception as error:  # a bug must end this rewrite, not loop the task
        logger.exception("rewrite crashed", extra={"rewrite_id": str(rewrite.pk)})
        _fail(rewrite.pk, ErrorType.INTERNAL_ERROR, f"Internal error ({type(error).__name__}).")
    finally:
        trace_id_var.reset(trace_token)
        run_id_var.reset(run_token)


def _perform(rewrite: Rewrite) -> None:
    deliverable = rewrite.deliverable
    run = deliverable.run
    if rewrite.action != Action.VARIANTS and deliverable.version != rewrite.from_version:
        raise _stale(deliverable.version, rewrite.from_version)
    revision = Revision.objects.get(deliverable_id=deliverable.pk, version=rewrite.from_version)
    job = rewrite_job(rewrite, deliverable, revision)
    platform = platform_for_kind(deliverable.kind)
    context = {
        **run.input_snapshot,
        "platform": deliverable.platform,
        "platform_label": platform.label if platform else None,
    }

    def record(call) -> None:
        provider_call_save(call, run_id=run.pk, deliverable_id=deliverable.pk, brand_id=run.brand_id)

    chain = get_chain(recorder=record)
    completion = chain.complete(
        rewrite_request(
            kind=deliverable.kind,
            context=context,
            job=job,
            json_schema=rewrite_schema(job, deliverable.kind),
            trace_id=rewrite.trace_id,
        )
    )
    if rewrite.action == Action.VARIANTS:
        _save_variants(rewrite, deliverable, revision, completion)
    else:
        _save_revision(rewrite, deliverable, revision, job, completion)
    totals = run_totals(run.pk, [])
    Run.objects.filter(pk=run.pk).update(tokens_used=totals["tokens_used"], cost_usd=totals["cost_usd"])


def rewrite_job(rewrite: Rewrite, deliverable: Deliverable, revision: Revision) -> dict[str, Any]:
    """What the provider is asked to do, with the text and its limits (also what the offline provider reads)."""
    options = rewrite.options
    selection = options.get("selection") or ""
    text = selection or revision.content_markdown
    platform = platform_for_kind(deliverable.kind)
    job: dict[str, Any] = {
        "action": rewrite.action,
        "text": text,
        "passage": bool(selection),
        "title": revision.title,
        "hashtags": list(revision.hashtags),
        "with_hashtags": platform is not None and not selection,
        **{
            key: options[key]
            for key in ("tone", "language", "language_name", "count", "instructions")
            if key in options
        },
    }
    comfortable = None
    if platform is not None:  # room for the text: the limit less the hashtags and, for a passage, the rest
        fixed = post_length("", revision.hashtags) + (
            len(revision.content_markdown) - len(selection) if selection else 0
        )
        job["max_chars"] = max(platform.max_chars - fixed, 1)
        # a shortened post lands where the character meter is green: under 80 % of the limit
        comfortable = max(int(platform.max_chars * 0.8) - 1 - fixed, 1)
    if rewrite.action == Action.SHORTEN:
        if comfortable is not None and len(text) > comfortable:
            job["target_chars"] = comfortable
        else:  # comfortably within the limit already (or no limit): a third shorter
            job["target_chars"] = max(int(len(text) * 0.7), 1)
    return job


def rewrite_schema(job: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """The JSON Schema of the answer: a passage, a whole piece (title, text, hashtags for posts), or variants."""

    def string(max_length=None) -> dict:
        return {"type": "string", "minLength": 1, **({"maxLength": max_length} if max_length else {})}

    def obj(**properties) -> dict:
        return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}

    if job.get("passage"):
        return obj(passage=string(job.get("max_chars")))
    piece = {"title": string(240), "content_markdown": string(job.get("max_chars"))}
    if job.get("with_hashtags"):
        platform = platform_for_kind(kind)
        piece["hashtags"] = {
            "type": "array",
            "items": {"type": "string", "pattern": r"^#\w+$"},
            "maxItems": (platform.max_hashtags if platform else None) or 30,
        }
    if job["action"] == Action.VARIANTS:
        count = int(job["count"])
        return obj(variants={"type": "array", "items": obj(**piece), "minItems": count, "maxItems": count})
    return obj(**piece)


def _piece(answer: Mapping[str, Any], revision: Revision) -> tuple[str, str, list[str]]:
    title = " ".join(str(answer.get("title") or revision.title).split())[:240] or revision.title
    content = str(answer["content_markdown"]).strip()
    hashtags = _clean_hashtags(answer["hashtags"]) if "hashtags" in answer else list(revision.hashtags)
    return title, content, hashtags


def _usage_metadata(deliverable: Deliverable, completion) -> dict[str, Any]:
    """The deliverable's provenance and usage after a rewrite: who wrote the current text, and what it cost."""
    cost = deliverable.metadata.get("cost_usd")
    if cost is not None and completion.cost_usd is not None:
        cost = float(Decimal(str(cost)) + completion.cost_usd)
    else:
        cost = None
    return {
        "provider": completion.provider,
        "model": completion.model,
        "tokens_used": int(deliverable.metadata.get("tokens_used") or 0) + completion.usage.total,
        "cost_usd": cost,
    }


def _save_revision(rewrite: Rewrite, deliverable: Deliverable, revision: Revision, job, completion) -> None:
    answer = completion.data or {}
    if job["passage"]:
        passage = str(answer["passage"]).strip()
        title, hashtags = revision.title, list(revision.hashtags)
        content = revision.content_markdown.replace(job["text"], passage, 1)
    else:
        title, content, hashtags = _piece(answer, revision)
    if (content, title, hashtags) == (revision.content_markdown, revision.title, list(revision.hashtags)):
        raise ApplicationError(f"{completion.provider} answered with the same text: nothing changed.")
    note = DONE_NOTES[rewrite.action].format(**{"tone": "", "language_name": "", **rewrite.options})
    note = f"{note}{' (a passage)' if job['passage'] else ''} by {completion.provider}"
    with transaction.atomic():
        moved = Rewrite.objects.filter(pk=rewrite.pk, status=Rewrite.Status.RUNNING).update(
            status=Rewrite.Status.DONE,
            result_version=rewrite.from_version + 1,
            error=None,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if not moved:  # another delivery finished it first
            return
        transaction.on_commit(lambda: rewrite_ended_publish(rewrite.pk))  # wakes the requests waiting on it
        deliverable_revise(
            deliverable=deliverable,
            from_version=rewrite.from_version,
            content_markdown=content,
            title=title,
            hashtags=hashtags,
            structured=_structured_after_amend(deliverable.kind, revision.structured, content),
            author=rewrite.requested_by,
            provider=completion.provider,
            model=completion.model,
            note=note,
            metadata=_usage_metadata(deliverable, completion),
            record_event=lambda: deliverable_rewritten_event(
                deliverable=deliverable,
                actor=rewrite.requested_by,
                from_status=deliverable.status,
                revision=rewrite.from_version + 1,
                comment=rewrite.options.get("instructions", ""),
                data=_audit_data(rewrite, completion),
            ),
        )


def _save_variants(rewrite: Rewrite, original: Deliverable, revision: Revision, completion) -> None:
    answers = list((completion.data or {}).get("variants") or [])[: rewrite.options["count"]]
    brand = original.run.input_snapshot.get("brand") or {}
    per_variant = completion.usage.total // max(len(answers), 1)
    with transaction.atomic():
        moved = Rewrite.objects.filter(pk=rewrite.pk, status=Rewrite.Status.RUNNING).update(
            status=Rewrite.Status.DONE, error=None, finished_at=timezone.now(), updated_at=timezone.now()
        )
        if not moved:
            return
        transaction.on_commit(lambda: rewrite_ended_publish(rewrite.pk))
        position = (Deliverable.objects.filter(run_id=original.run_id).aggregate(top=Max("position"))["top"] or 0) + 1
        taken = Deliverable.objects.filter(run_id=original.run_id, kind=original.kind).count()
        ids = []
        for i, answer in enumerate(answers):
            title, content, hashtags = _piece(answer, revision)
            structured = _structured_after_amend(original.kind, revision.structured, content)
            variant = Deliverable.objects.create(
                run_id=original.run_id,
                position=position + i,
                kind=original.kind,
                platform=original.platform,
                title=title,
                hashtags=hashtags,
                metadata={
                    **{k: v for k, v in original.metadata.items() if k not in ("warnings", "slot")},
                    **structured,
                    "slot": {"variant": taken + i + 1, "variant_of": str(original.pk), "with_image": False},
                    "variant_of": str(original.pk),
                    "provider": completion.provider,
                    "model": completion.model,
                    "tokens_used": per_variant,
                    "cost_usd": float(completion.cost_usd / len(answers)) if completion.cost_usd is not None else None,
                    "warnings": [],
                },
                status=Deliverable.Status.DRAFT,
                version=1,
                generation_status=Deliverable.Generation.DONE,
            )
            revision_create(
                deliverable=variant,
                version=1,
                title=title,
                content_markdown=content,
                hashtags=hashtags,
                structured=structured,
                brand_kit=brand,
                author=rewrite.requested_by,
                provider=completion.provider,
                model=completion.model,
                note=f"Variant {i + 1} of {len(answers)} of v{revision.version} by {completion.provider}",
            )
            deliverable_variant_created_event(
                deliverable=variant, actor=rewrite.requested_by, variant_of=original, rewrite_id=rewrite.pk
            )
            ids.append(str(variant.pk))
        deliverable_rewritten_event(
            deliverable=original,
            actor=rewrite.requested_by,
            from_status=original.status,
            revision=revision.version,
            comment=rewrite.options.get("instructions", ""),
            data={**_audit_data(rewrite, completion), "variant_ids": ids},
        )
        Rewrite.objects.filter(pk=rewrite.pk).update(variant_ids=ids)


def _audit_data(rewrite: Rewrite, completion) -> dict[str, Any]:
    data = {
        "rewrite_id": str(rewrite.pk),
        "rewrite": rewrite.action,
        "from_version": rewrite.from_version,
        "provider": completion.provider,
        "model": completion.model,
        "passage": bool(rewrite.options.get("selection")),
    }
    data.update({k: rewrite.options[k] for k in ("tone", "language", "count") if k in rewrite.options})
    return data


def _fail(rewrite_id, error_type: str, message: str, *, running: bool = True) -> None:
    statuses = [Rewrite.Status.RUNNING] if running else [Rewrite.Status.PENDING, Rewrite.Status.RUNNING]
    failed = Rewrite.objects.filter(pk=rewrite_id, status__in=statuses).update(
        status=Rewrite.Status.FAILED,
        error={"type": error_type, "message": message[:1000]},
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if failed:
        transaction.on_commit(lambda: rewrite_ended_publish(rewrite_id))
    logger.warning("rewrite failed", extra={"rewrite_id": str(rewrite_id), "error_type": error_type})
