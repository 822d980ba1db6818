"""HTTP API of runs and generation (contract §4–§5). Views parse, call a service or selector, answer."""

import functools
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ParseError, Throttled, UnsupportedMediaType
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from aicmo.core.authentication import LoginLocked
from aicmo.core.errors import ApplicationError, PermissionDenied
from aicmo.core.limits import AtomicScopedRateThrottle, ConcurrencyLimited, long_wait_slot
from aicmo.llm.exceptions import ErrorType
from brands.budget import BudgetExceeded

from .envelope import build_envelope, failed_envelope
from .models import Module, Run
from .schema import (
    DETAIL_ERROR,
    ENVELOPE_FINAL,
    ENVELOPE_IN_FLIGHT,
    FIELD_ERRORS,
    NOT_FOUND,
    UNAUTHENTICATED,
    EnvelopeSerializer,
)
from .selectors import ad_assets_for, assets_for, runs_for
from .waiting import release_request_thread, run_wait_async

WAIT_PARAMETER = OpenApiParameter(
    "wait",
    {"type": "number", "minimum": 0, "maximum": 120},
    description="Seconds (0 to 120, fractions allowed) to wait for the run to end (default 0).",
)
GENERATE_PARAMETERS = [
    OpenApiParameter(
        "wait",
        {"type": "number", "minimum": 0, "maximum": 120},
        description="Seconds (0 to 120, fractions allowed) to wait for the run to end before answering 202; "
        "default AICMO_API_WAIT_S (90). 0 answers 202 at once.",
    ),
    OpenApiParameter(
        "Prefer",
        str,
        OpenApiParameter.HEADER,
        description="`respond-async`: answer 202 at once (as `?wait=0`), unless `wait` is given.",
    ),
]
ENVELOPE = OpenApiResponse(EnvelopeSerializer, description="The deliverables envelope (contract §4).")


def _wait_seconds(request, *, default: float = 0.0) -> float:
    """`?wait=N` (0 to 120 seconds); without it, `default`. `Prefer: respond-async` (RFC 7240) means 0."""
    raw = request.query_params.get("wait")
    if raw is None:
        prefer = {token.strip().lower() for token in request.headers.get("Prefer", "").split(",")}
        return 0.0 if "respond-async" in prefer else default
    try:
        value = float(raw)
    except ValueError:
        raise serializers.ValidationError({"wait": ["A number of seconds from 0 to 120."]})
    if not 0 <= value <= settings.AICMO_MAX_WAIT_S:  # also refuses nan
        raise serializers.ValidationError({"wait": ["A number of seconds from 0 to 120."]})
    return value


def envelope_response(run: Run, *, created: bool = False, wait: float = 0.0, slot: ExitStack | None = None) -> Response:
    """The run's envelope: 200 once it has ended, else 202. With `wait`, the answer is held (by
    `WaitingAPIView`, without a thread) until the run ends or the wait is over, then rebuilt; `slot` (the
    user's long-wait slot) is released when the wait is over, or now when there is nothing to wait for.
    A run just created without a wait (`?wait=0`, `Prefer: respond-async`) answers 202 whatever a fast worker
    did in the meantime (contract §5), with the envelope as it is now."""
    slot = slot or ExitStack()
    try:
        envelope = build_envelope(run)
        accepted = not run.is_terminal or (created and wait <= 0)
        response = Response(envelope, status=202 if accepted else 200)
        if created:
            response["Location"] = f"/api/v1/runs/{run.run_id}"
    except BaseException:
        slot.close()
        raise
    if wait > 0 and not run.is_terminal:
        response.wait_for = PendingWait(
            wait=functools.partial(run_wait_async, run.run_id),
            seconds=wait,
            refresh=functools.partial(_envelope_refresh, run=run),
            slot=slot,
        )
    else:
        slot.close()
    return response


@dataclass(frozen=True)
class PendingWait:
    """What an answer of a `WaitingAPIView` waits for before it is rendered: `wait(seconds)` (a notified wait of
    deliverables/waiting.py), then `refresh(response)` (sync: re-read and rebuild the body); `slot` (the user's
    long-wait slot) is released after it, whatever happens."""

    wait: Callable[[float], Awaitable[None]]
    seconds: float
    refresh: Callable[[Response], None]
    slot: ExitStack


def _envelope_refresh(response: Response, *, run: Run) -> None:
    run.refresh_from_db()
    response.data = build_envelope(run)
    response.status_code = 200 if run.is_terminal else 202


class WaitingAPIView(APIView):
    """An APIView served as an async Django view. DRF (authentication, throttles, parsing, validation, the
    service call) runs as it always does, in a thread (sync_to_async); when its answer asks to wait (a
    `PendingWait` on `response.wait_for`: a run, a rewrite), the wait is awaited on the event loop
    (deliverables/waiting.py: notified, not polled) and holds no thread. The body is then rebuilt, in a thread
    again, before Django renders the response."""

    @classmethod
    def as_view(cls, **initkwargs):
        sync_view = super().as_view(**initkwargs)

        async def view(request, *args, **kwargs):
            response = await sync_to_async(sync_view)(request, *args, **kwargs)
            pending: PendingWait | None = getattr(response, "wait_for", None)
            if pending is not None:
                try:
                    await release_request_thread()
                    await pending.wait(pending.seconds)
                    await sync_to_async(pending.refresh)(response)
                finally:  # also when the client has gone and the request is cancelled
                    await sync_to_async(pending.slot.close)()
            return response

        # What DRF's as_view carries: drf-spectacular finds the view class, CSRF is DRF's business.
        view.cls, view.initkwargs, view.csrf_exempt = cls, sync_view.initkwargs, True
        view.__name__, view.__doc__ = sync_view.__name__, sync_view.__doc__
        return view


class GenerateView(WaitingAPIView):
    """Base of the generate endpoints: validate the brief, start the run, answer its envelope: 200 with the final
    envelope if the run ends within the wait (AICMO_API_WAIT_S, `?wait=N`), else 202 (`?wait=0` and
    `Prefer: respond-async`: at once). Bad input answers 400 with a FAILED envelope whose `error.details` names
    each field."""

    module: str = ""
    serializer_class: type[serializers.Serializer]
    throttle_classes = [AtomicScopedRateThrottle]
    throttle_scope = "generate"

    def start(self, *, brief: dict, user, trace_id: str) -> Run:
        raise NotImplementedError

    def invalid(self, request, details, message="The brief is invalid.") -> Response:
        envelope = failed_envelope(
            module=self.module,
            error_type=ErrorType.VALIDATION_ERROR,
            message=message,
            trace_id=request.trace_id,
            details=details,
        )
        return Response(envelope, status=400)

    def handle_exception(self, exc):
        if isinstance(exc, Throttled):  # a generate answer is always an envelope (contract §4)
            wait = int(exc.wait) + 1 if exc.wait is not None else None
            if isinstance(exc, ConcurrencyLimited):
                message = exc.message  # too many open waits
            else:
                what = exc.detail if isinstance(exc, LoginLocked) else "Too many generate requests"
                message = f"{str(what).rstrip('.')}: try again in {wait or 60} seconds."
            envelope = failed_envelope(
                module=self.module,
                error_type=ErrorType.RATE_LIMIT,
                message=message,
                trace_id=self.request.trace_id,
            )
            return Response(envelope, status=429, headers={"Retry-After": str(wait)} if wait else None)
        return super().handle_exception(exc)

    def post(self, request):
        try:
            data = request.data
            wait = _wait_seconds(request, default=settings.AICMO_API_WAIT_S)
        except (ParseError, UnsupportedMediaType) as error:
            return self.invalid(request, {"body": [str(error.detail)]}, "The request body is not valid JSON.")
        except serializers.ValidationError as error:
            return self.invalid(request, error.detail)
        serializer = self.serializer_class(data=data, context={"request": request})
        if not serializer.is_valid():
            return self.invalid(request, serializer.errors)
        brief = dict(serializer.validated_data)
        # The per-user slot of a long wait, taken before the run exists (a refusal, 429, changes nothing) and
        # held until the (async) wait is over.
        slot = ExitStack()
        slot.enter_context(long_wait_slot(request.user, wait))
        try:
            run = self.start(brief=brief, user=request.user, trace_id=request.trace_id)
        except PermissionDenied:  # no role to generate: 403 through the exception handler, not a bad brief
            slot.close()
            raise
        except BudgetExceeded as error:  # the month's budget is spent: no run, no provider call
            slot.close()
            envelope = failed_envelope(
                module=self.module,
                error_type=ErrorType.BUDGET_EXCEEDED,
                message=error.message,
                trace_id=request.trace_id,
            )
            return Response(envelope, status=402)
        except ApplicationError as error:  # e.g. nothing to generate for this brief
            slot.close()
            return self.invalid(request, error.details or {}, error.message)
        except BaseException:
            slot.close()
            raise
        return envelope_response(run, created=True, wait=wait, slot=slot)


class RunListView(ListAPIView):
    class Summary(serializers.ModelSerializer):
        run_id = serializers.UUIDField(read_only=True)
        brand = serializers.SlugRelatedField(slug_field="slug", read_only=True)
        campaign = serializers.CharField(source="campaign.name", default=None, read_only=True, allow_null=True)
        progress = serializers.SerializerMethodField()

        class Meta:
            model = Run
            fields = [
                "run_id",
                "status",
                "module",
                "brand",
                "campaign",
                "progress",
                "provider",
                "model",
                "tokens_used",
                "cost_usd",
                "warnings",
                "error",
                "trace_id",
                "created_at",
                "finished_at",
            ]

        @extend_schema_field(
            {
                "type": "object",
                "required": ["done", "total"],
                "properties": {"done": {"type": "integer"}, "total": {"type": "integer"}},
            }
        )
        def get_progress(self, run) -> dict:
            return {"done": run.slots_done, "total": run.slots_total}

    serializer_class = Summary

    @extend_schema(
        parameters=[
            # One spelling per value: generated clients make an enum of it (the filter also takes lower case).
            OpenApiParameter("status", str, enum=list(Run.Status.values), description="Case-insensitive."),
            OpenApiParameter("module", str, enum=list(Module.values)),
            OpenApiParameter("brand", str, description="Brand slug."),
        ],
        responses={
            200: Summary(many=True),
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description=(
                    "An unknown filter value (DRF's field errors), or a NUL character in the query ({detail, code})."
                ),
            ),
            401: UNAUTHENTICATED,
            404: OpenApiResponse(description="No such page."),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        from django.db.models import Count, Q

        runs = runs_for(self.request.user).annotate(
            slots_total=Count("deliverables"),
            slots_done=Count("deliverables", filter=Q(deliverables__generation_status__in=["done", "failed"])),
        )
        params = self.request.query_params
        problems = {}
        if "status" in params and params["status"].upper() not in Run.Status.values:
            problems["status"] = [f"One of {', '.join(Run.Status.values)}."]
        if "module" in params and params["module"] not in Module.values:
            problems["module"] = [f"One of {', '.join(Module.values)}."]
        if problems:  # an unknown filter value is a mistake to report, not an empty list
            raise serializers.ValidationError(problems)
        if params.get("status"):
            runs = runs.filter(status=params["status"].upper())
        if params.get("module"):
            runs = runs.filter(module=params["module"])
        if params.get("brand"):
            runs = runs.filter(brand__slug=params["brand"])
        return runs.order_by("-created_at")


class RunDetailView(WaitingAPIView):
    """A run's envelope: 200 once it has ended, else 202; `?wait=N` holds the answer until the run ends (200) or
    the N seconds are over (202)."""

    @extend_schema(
        parameters=[WAIT_PARAMETER],
        responses={
            200: ENVELOPE_FINAL,
            202: ENVELOPE_IN_FLIGHT,
            400: FIELD_ERRORS,
            401: UNAUTHENTICATED,
            404: NOT_FOUND,
        },
    )
    def get(self, request, run_id):
        run = runs_for(request.user).filter(run_id=run_id).first()
        if run is None:
            raise Http404
        wait = _wait_seconds(request)
        slot = ExitStack()
        slot.enter_context(long_wait_slot(request.user, wait))
        return envelope_response(run, wait=wait, slot=slot)


class AdAssetSerializer(serializers.Serializer):
    """One saved ad asset, in the seed's `/assets` shape: its current copy, image prompts and image URLs, its
    review status, and where to open it."""

    id = serializers.UUIDField(read_only=True)
    brand = serializers.CharField(source="run.brand.slug", read_only=True)
    module = serializers.CharField(source="run.module", read_only=True)
    run_id = serializers.UUIDField(source="run.run_id", read_only=True)
    studio_thread = serializers.SerializerMethodField()
    product = serializers.SerializerMethodField()
    style = serializers.SerializerMethodField()
    tone = serializers.SerializerMethodField()
    pitch = serializers.SerializerMethodField()
    headline = serializers.SerializerMethodField()
    primary_text = serializers.SerializerMethodField()
    call_to_action = serializers.SerializerMethodField()
    image_prompts = serializers.SerializerMethodField()
    images = serializers.SerializerMethodField(help_text="URLs of the asset's images (served to brand members).")
    status = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField(help_text="The deliverable's page.")
    api_url = serializers.SerializerMethodField(help_text="The deliverable in the API.")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def _current(self, deliverable, name: str):
        # The current revision's fields (a later amend may have changed them); older rows: the metadata.
        current = deliverable.current_structured or {}
        return current.get(name, deliverable.metadata.get(name))

    def get_studio_thread(self, deliverable) -> str | None:
        return deliverable.metadata.get("studio_thread")

    def get_product(self, deliverable) -> str:
        return (
            deliverable.metadata.get("product")
            or (deliverable.run.input_snapshot.get("brief") or {}).get("product")
            or ""
        )

    def get_style(self, deliverable) -> str:
        return (
            deliverable.metadata.get("style") or (deliverable.run.input_snapshot.get("brief") or {}).get("style") or ""
        )

    def get_tone(self, deliverable) -> str:
        return deliverable.metadata.get("tone") or (deliverable.run.input_snapshot.get("brief") or {}).get("tone") or ""

    def get_pitch(self, deliverable) -> str:
        return (
            deliverable.metadata.get("pitch") or (deliverable.run.input_snapshot.get("brief") or {}).get("pitch") or ""
        )

    def get_headline(self, deliverable) -> str:
        return self._current(deliverable, "headline") or deliverable.title

    def get_primary_text(self, deliverable) -> str:
        return self._current(deliverable, "primary_text") or ""

    def get_call_to_action(self, deliverable) -> str:
        return self._current(deliverable, "call_to_action") or ""

    def get_image_prompts(self, deliverable) -> list[str]:
        return list(self._current(deliverable, "image_prompts") or [])

    def get_images(self, deliverable) -> list[str]:
        return [asset.url for asset in deliverable.image_assets]

    def get_url(self, deliverable) -> str:
        return f"/deliverables/{deliverable.pk}/"

    def get_api_url(self, deliverable) -> str:
        return f"/api/v1/deliverables/{deliverable.pk}"


class AssetListView(ListAPIView):
    """Saved ad assets (the seed's `/assets`): the `ad_copy` deliverables of the user's brands, from the studio and
    from creatives runs, latest change first, with their current copy and image URLs."""

    serializer_class = AdAssetSerializer

    @extend_schema(
        parameters=[OpenApiParameter("brand", str, description="Brand slug.")],
        responses={
            200: AdAssetSerializer(many=True),
            400: DETAIL_ERROR,
            401: UNAUTHENTICATED,
            404: OpenApiResponse(description="No such page."),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return ad_assets_for(self.request.user, brand_slug=self.request.query_params.get("brand"))


class AssetFileView(APIView):
    """The file of an asset, only for members of its brand (others: 404)."""

    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY, 401: UNAUTHENTICATED, 404: NOT_FOUND})
    def get(self, request, pk):
        asset = assets_for(request.user).filter(pk=pk).first()
        if asset is None or not asset.file:
            raise Http404
        response = FileResponse(asset.file.open("rb"), content_type=asset.content_type)
        response["Cache-Control"] = "private, max-age=3600"
        return response
