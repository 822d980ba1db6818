"""HTTP API of runs and generation (contract §4–§5). Views parse, call a service or selector, answer."""

from django.conf import settings
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from aicmo.llm.exceptions import ErrorType

from .envelope import build_envelope, failed_envelope
from .models import Run
from .selectors import assets_for, run_wait, runs_for

WAIT_PARAMETER = OpenApiParameter("wait", int, description="Seconds (≤ 120) to wait for the run to end.")
ENVELOPE = OpenApiResponse(OpenApiTypes.OBJECT, description="The deliverables envelope (contract §4).")


def _wait_seconds(request) -> float:
    raw = request.query_params.get("wait")
    if raw in (None, ""):
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise serializers.ValidationError({"wait": ["A number of seconds from 0 to 120."]})
    if not 0 <= value <= settings.AICMO_MAX_WAIT_S:
        raise serializers.ValidationError({"wait": ["A number of seconds from 0 to 120."]})
    return value


def envelope_response(run: Run, *, created: bool = False) -> Response:
    envelope = build_envelope(run)
    response = Response(envelope, status=200 if run.is_terminal else 202)
    if created:
        response["Location"] = f"/api/v1/runs/{run.run_id}"
    return response


class GenerateView(APIView):
    """Base of the generate endpoints: validate the brief, start the run, answer its envelope.
    Bad input answers 400 with a FAILED envelope whose `error.details` names each field."""

    module: str = ""
    serializer_class: type[serializers.Serializer]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "generate"

    def start(self, *, brief: dict, user, trace_id: str) -> Run:
        raise NotImplementedError

    def invalid(self, request, details, message="The brief is invalid.") -> Response:
        envelope = failed_envelope(module=self.module, error_type=ErrorType.VALIDATION_ERROR, message=message,
                                   trace_id=request.trace_id, details=details)
        return Response(envelope, status=400)

    def post(self, request):
        try:
            data = request.data
            wait = _wait_seconds(request)
        except (ParseError, UnsupportedMediaType) as error:
            return self.invalid(request, {"body": [str(error.detail)]}, "The request body is not valid JSON.")
        except serializers.ValidationError as error:
            return self.invalid(request, error.detail)
        serializer = self.serializer_class(data=data, context={"request": request})
        if not serializer.is_valid():
            return self.invalid(request, serializer.errors)
        brief = dict(serializer.validated_data)
        run = self.start(brief=brief, user=request.user, trace_id=request.trace_id)
        return envelope_response(run_wait(run, wait), created=True)


class RunListView(ListAPIView):
    class Summary(serializers.ModelSerializer):
        run_id = serializers.UUIDField(read_only=True)
        brand = serializers.SlugRelatedField(slug_field="slug", read_only=True)
        campaign = serializers.CharField(source="campaign.name", default=None, read_only=True)
        progress = serializers.SerializerMethodField()

        class Meta:
            model = Run
            fields = ["run_id", "status", "module", "brand", "campaign", "progress", "provider", "model",
                      "tokens_used", "cost_usd", "warnings", "error", "trace_id", "created_at", "finished_at"]

        def get_progress(self, run) -> dict:
            return {"done": run.slots_done, "total": run.slots_total}

    serializer_class = Summary

    @extend_schema(parameters=[
        OpenApiParameter("status", str, enum=list(Run.Status.values)),
        OpenApiParameter("module", str, enum=["campaigns", "creatives", "studio"]),
        OpenApiParameter("brand", str, description="Brand slug."),
    ])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        from django.db.models import Count, Q

        runs = runs_for(self.request.user).annotate(
            slots_total=Count("deliverables"),
            slots_done=Count("deliverables", filter=Q(deliverables__generation_status__in=["done", "failed"])),
        )
        params = self.request.query_params
        if params.get("status"):
            runs = runs.filter(status=params["status"].upper())
        if params.get("module"):
            runs = runs.filter(module=params["module"])
        if params.get("brand"):
            runs = runs.filter(brand__slug=params["brand"])
        return runs.order_by("-created_at")


class RunDetailView(APIView):
    @extend_schema(parameters=[WAIT_PARAMETER], responses={200: ENVELOPE, 202: ENVELOPE})
    def get(self, request, run_id):
        run = runs_for(request.user).filter(run_id=run_id).first()
        if run is None:
            raise Http404
        return envelope_response(run_wait(run, _wait_seconds(request)))


class AssetListView(ListAPIView):
    class AssetSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        brand = serializers.CharField(source="brand.slug")
        deliverable = serializers.UUIDField(source="deliverable_id", allow_null=True)
        image_url = serializers.CharField(source="url")
        prompt = serializers.CharField()
        size = serializers.CharField()
        provider = serializers.CharField()
        model = serializers.CharField()
        created_at = serializers.DateTimeField()

    serializer_class = AssetSerializer

    @extend_schema(parameters=[OpenApiParameter("brand", str, description="Brand slug.")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return assets_for(self.request.user, brand_slug=self.request.query_params.get("brand"))


class AssetFileView(APIView):
    """The file of an asset, only for members of its brand (others: 404)."""

    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        asset = assets_for(request.user).filter(pk=pk).first()
        if asset is None or not asset.file:
            raise Http404
        response = FileResponse(asset.file.open("rb"), content_type=asset.content_type)
        response["Cache-Control"] = "private, max-age=3600"
        return response
