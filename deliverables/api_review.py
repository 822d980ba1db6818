"""HTTP API of the review workflow and of exports (contract §5, §7). Views find the object through the
user's brands (others' objects answer 404), parse the body, call one service, and answer."""

import functools
from contextlib import ExitStack

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from aicmo.core.limits import long_wait_slot

from .api import PendingWait, WaitingAPIView, _wait_seconds
from .models import Deliverable
from .selectors import deliverables_for, revisions_of, rewrites_for, runs_for, with_current_revision
from .serializers import (
    AmendSerializer,
    CommentSerializer,
    DeliverableSerializer,
    ErrorSerializer,
    ExportQuerySerializer,
    RejectSerializer,
    RevisionSerializer,
    RewriteRequestSerializer,
    RewriteSerializer,
)
from .services import (
    deliverable_amend,
    deliverable_approve,
    deliverable_permission_check,
    deliverable_reject,
    deliverable_submit,
    run_export,
)
from .services.exports import FORMATS
from .services.rewrite import rewrite_create
from .waiting import rewrite_wait_async

FIELD_ERRORS = OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid body: DRF's field errors, per field.")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such object among your brands' objects.")
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="You lack the permission (approving needs a manager).")
CONFLICT = OpenApiResponse(
    ErrorSerializer,
    description="Illegal transition for the current status, a stale "
    "version, or blocking quality issues (listed in `details`).",
)
UNAUTHENTICATED = OpenApiResponse(ErrorSerializer, description="No credentials.")


def _deliverable(request, pk) -> Deliverable:
    deliverable = deliverables_for(request.user).filter(pk=pk).first()
    if deliverable is None:
        raise Http404
    return with_current_revision([deliverable])[0]


def _answer(request, pk) -> Response:
    return Response(DeliverableSerializer(_deliverable(request, pk), context={"request": request}).data)


class AmendSchema(AutoSchema):
    """This PATCH is not a partial update (`content_markdown` and `version` are required): document the body
    as DRF validates it, not as drf-spectacular's "Patched…" all-optional variant."""

    def _get_request_for_media_type(self, serializer, direction="request"):
        method, self.method = self.method, "POST"
        try:
            return super()._get_request_for_media_type(serializer, direction)
        finally:
            self.method = method


class DeliverableDetailView(APIView):
    schema = AmendSchema()

    @extend_schema(responses={200: DeliverableSerializer, 401: UNAUTHENTICATED, 404: NOT_FOUND})
    def get(self, request, pk):
        return _answer(request, pk)

    @extend_schema(
        request=AmendSerializer,
        responses={
            200: DeliverableSerializer,
            400: FIELD_ERRORS,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
        description="Amend: a new immutable revision becomes current and the deliverable returns to draft "
        "(an approved one then needs approval again). `version` must be the current version (409 if "
        "someone amended since). Refused (409) while it is in review: reject it first.",
    )
    def patch(self, request, pk):
        deliverable = _deliverable(request, pk)
        deliverable_permission_check(
            actor=request.user, action="amend", deliverable=deliverable
        )  # 403 before any 400 about the body
        body = AmendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        deliverable_amend(deliverable=deliverable, actor=request.user, **body.validated_data)
        return _answer(request, pk)


class DeliverableTransitionView(APIView):
    """POST …/submit | …/approve | …/reject."""

    action_name: str = ""
    services = {"submit": deliverable_submit, "approve": deliverable_approve, "reject": deliverable_reject}

    def post(self, request, pk):
        deliverable = _deliverable(request, pk)
        deliverable_permission_check(
            actor=request.user, action=self.action_name, deliverable=deliverable
        )  # 403 before any 400 about the body
        body = (RejectSerializer if self.action_name == "reject" else CommentSerializer)(data=request.data)
        body.is_valid(raise_exception=True)
        self.services[self.action_name](
            deliverable=deliverable, actor=request.user, comment=body.validated_data["comment"]
        )
        return _answer(request, pk)


_TRANSITION_RESPONSES = {
    200: DeliverableSerializer,
    400: FIELD_ERRORS,
    401: UNAUTHENTICATED,
    403: FORBIDDEN,
    404: NOT_FOUND,
    409: CONFLICT,
}


class SubmitView(DeliverableTransitionView):
    action_name = "submit"

    @extend_schema(request=CommentSerializer, responses=_TRANSITION_RESPONSES, description="draft → in_review.")
    def post(self, request, pk):
        return super().post(request, pk)


class ApproveView(DeliverableTransitionView):
    action_name = "approve"

    @extend_schema(
        request=CommentSerializer,
        responses=_TRANSITION_RESPONSES,
        description="in_review → approved. Needs `deliverables.approve_deliverable`; refused (409) while "
        "the current revision has blocking quality issues.",
    )
    def post(self, request, pk):
        return super().post(request, pk)


class RejectView(DeliverableTransitionView):
    action_name = "reject"

    @extend_schema(
        request=RejectSerializer,
        responses=_TRANSITION_RESPONSES,
        description="in_review → changes_requested, with a required comment. Needs `deliverables.approve_deliverable`.",
    )
    def post(self, request, pk):
        return super().post(request, pk)


class RevisionListView(ListAPIView):
    """Revision history, newest first."""

    serializer_class = RevisionSerializer

    @extend_schema(responses={200: RevisionSerializer(many=True), 401: UNAUTHENTICATED, 404: NOT_FOUND})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        deliverable = deliverables_for(self.request.user).filter(pk=self.kwargs["pk"]).first()
        if deliverable is None:
            raise Http404
        return revisions_of(deliverable)


class IgnoreFormatParameter(DefaultContentNegotiation):
    """`?format=` names the export file format here, not a DRF renderer: answer errors in JSON regardless."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class RunExportView(APIView):
    content_negotiation_class = IgnoreFormatParameter

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=list(FORMATS), required=True),
            OpenApiParameter("approved_only", bool, description="1: approved deliverables only."),
        ],
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            400: FIELD_ERRORS,
            401: UNAUTHENTICATED,
            404: NOT_FOUND,
            409: OpenApiResponse(ErrorSerializer, description="Nothing (approved) to export."),
        },
        description="Download the run as md, json (the envelope), docx, csv (one row per post and calendar "
        "entry, with time, platform and media columns), pdf (the branded report), pptx (the branded deck), ics "
        "(the content calendar, one event per entry; 409 without one) or zip (the working files: md, json, docx, "
        "csv and ics, the images and a manifest.json with a SHA-256 per file, the approvals that cover them and "
        "the download paths of the branded pdf and pptx, which the zip does not hold).",
    )
    def get(self, request, run_id):
        run = runs_for(request.user).filter(run_id=run_id).first()
        if run is None:
            raise Http404
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        export = run_export(
            run=run,
            fmt=query.validated_data["format"],
            approved_only=query.validated_data["approved_only"],
            actor=request.user,
        )
        response = HttpResponse(export.content, content_type=export.content_type)
        response["Content-Disposition"] = content_disposition_header(True, export.filename)
        return response


# --- the improve loop ------------------------------------------------------------------------------------------

REWRITE_WAIT = OpenApiParameter(
    "wait",
    {"type": "number", "minimum": 0, "maximum": 120},
    description="Seconds (0 to 120) to wait for the rewrite to end; default AICMO_API_WAIT_S (90). "
    "`Prefer: respond-async` answers 202 at once.",
)
REWRITE_DONE = OpenApiResponse(
    RewriteSerializer,
    description="The rewrite ended (`done`, with the deliverable at its new version or the "
    "variants, or `failed`, with `error`).",
)
REWRITE_PENDING = OpenApiResponse(
    RewriteSerializer,
    description="Still `pending` or `running`: poll `Location` (`/api/v1/rewrites/<id>?wait=N`).",
)


def _rewrite_wait_seconds(request) -> float:
    """As generate waits (contract §5): AICMO_API_WAIT_S by default, `?wait=N` (0–120), `Prefer: respond-async`."""
    if "respond-async" in request.headers.get("Prefer", "").lower():
        return 0.0
    if "wait" in request.query_params:
        return _wait_seconds(request)
    return float(getattr(settings, "AICMO_API_WAIT_S", 90))


def _rewrite_response(request, rewrite, *, created: bool = False, wait: float = 0.0, slot=None) -> Response:
    """200 once the rewrite has ended, else 202. With `wait`, the answer is held by `WaitingAPIView` (a notified
    wait on the event loop, no thread, no polling) until the rewrite ends or the wait is over, then rebuilt."""
    slot = slot or ExitStack()
    try:
        response = Response(status=202)
        _rewrite_refresh(response, request=request, rewrite=rewrite, reread=False)
        if created or not rewrite.is_terminal:
            response["Location"] = f"/api/v1/rewrites/{rewrite.pk}"
    except BaseException:
        slot.close()
        raise
    if wait > 0 and not rewrite.is_terminal:
        response.wait_for = PendingWait(
            wait=functools.partial(rewrite_wait_async, rewrite.pk),
            seconds=wait,
            refresh=functools.partial(_rewrite_refresh, request=request, rewrite=rewrite),
            slot=slot,
        )
    else:
        slot.close()
    return response


def _rewrite_refresh(response: Response, *, request, rewrite, reread: bool = True) -> None:
    if reread:
        rewrite.refresh_from_db()
    response.data = RewriteSerializer(rewrite, context={"request": request}).data
    response.status_code = 200 if rewrite.is_terminal else 202


class RewriteView(WaitingAPIView):
    @extend_schema(
        request=RewriteRequestSerializer,
        parameters=[REWRITE_WAIT],
        responses={
            200: REWRITE_DONE,
            202: REWRITE_PENDING,
            400: FIELD_ERRORS,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: OpenApiResponse(
                ErrorSerializer,
                description="A stale `version`, in review (except `variants`), or another rewrite of it in flight.",
            ),
        },
        description="Improve a deliverable through the provider chain with the brand kit: `regenerate`, `shorten`, "
        "`expand`, `tone` (+ `tone`), `translate` (+ `language`), or `variants` (+ `count` ≤ 5), on the whole "
        "piece or a `selection`. A worker does it: the result is a new draft revision (`version + 1`), or for "
        "`variants` that many sibling deliverables in the same run. Waits like generate.",
    )
    def post(self, request, pk):
        deliverable = _deliverable(request, pk)
        deliverable_permission_check(  # 403 before any 400 about the body
            actor=request.user, action="amend", deliverable=deliverable
        )
        body = RewriteRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        wait = _rewrite_wait_seconds(request)
        # The per-user slot of a long wait, as generate takes it: before the rewrite exists (a 429 changes nothing).
        slot = ExitStack()
        slot.enter_context(long_wait_slot(request.user, wait))
        try:
            rewrite = rewrite_create(
                deliverable=deliverable, actor=request.user, trace_id=request.trace_id, **body.validated_data
            )
        except BaseException:
            slot.close()
            raise
        return _rewrite_response(request, rewrite, created=True, wait=wait, slot=slot)


class RewriteDetailView(WaitingAPIView):
    @extend_schema(
        parameters=[REWRITE_WAIT],
        responses={200: REWRITE_DONE, 202: REWRITE_PENDING, 400: FIELD_ERRORS, 401: UNAUTHENTICATED, 404: NOT_FOUND},
        description="A rewrite; `?wait=N` long-polls until it ends (default: no wait).",
    )
    def get(self, request, pk):
        rewrite = rewrites_for(request.user).filter(pk=pk).first()
        if rewrite is None:
            raise Http404
        wait = _wait_seconds(request)
        slot = ExitStack()
        slot.enter_context(long_wait_slot(request.user, wait))
        return _rewrite_response(request, rewrite, wait=wait, slot=slot)
