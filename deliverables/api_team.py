"""HTTP API of client review links and comments (contract §5). Views find the object through the user's brands (others'
objects answer 404), parse the body, call one service, and answer."""

from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from aicmo.core.markdown import render_markdown
from brands.roles import APPROVE, EDIT_BRAND, may
from brands.selectors import brand_for, brands_where

from .api_review import FIELD_ERRORS, FORBIDDEN, NOT_FOUND, UNAUTHENTICATED
from .models import Webhook, WebhookEvent
from .selectors import deliverables_for, runs_for
from .services.comments import comment_create
from .services.review_links import DEFAULT_HOURS, review_link_create, review_link_revoke, run_review_link_create
from .services.webhooks import webhook_create


class ReviewLinkCreateSerializer(serializers.Serializer):
    expires_in_hours = serializers.IntegerField(required=False, default=DEFAULT_HOURS, min_value=1, max_value=720)


class ReviewLinkSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.URLField()
    expires_at = serializers.DateTimeField()


class ReviewLinkRevokedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    revoked_at = serializers.DateTimeField()


def _review_link_sent(request, brand_id, create) -> Response:
    """201 with a new review link's URL (shown only here), made by `create(hours)`; 403 for a non-manager, before
    any 400 about the body."""
    if not may(request.user, brand_id, APPROVE):
        return Response(
            {"detail": "Only a manager of this brand may send it to a client.", "code": "permission_denied"},
            status=status.HTTP_403_FORBIDDEN,
        )
    body = ReviewLinkCreateSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    sent = create(body.validated_data["expires_in_hours"])
    url = request.build_absolute_uri(reverse("review-link-page", args=[sent.token]))
    return Response(
        ReviewLinkSerializer({"id": sent.link.pk, "url": url, "expires_at": sent.link.expires_at}).data,
        status=status.HTTP_201_CREATED,
    )


class ReviewLinkListView(APIView):
    @extend_schema(
        request=ReviewLinkCreateSerializer,
        responses={201: ReviewLinkSerializer, 400: FIELD_ERRORS, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
        description="Send the deliverable's current revision to a client: a link anyone with the URL can open "
        "without an account, to approve or request changes once. The URL is shown only in this answer.",
    )
    def post(self, request, pk):
        deliverable = deliverables_for(request.user).filter(pk=pk).first()
        if deliverable is None:
            raise Http404
        return _review_link_sent(
            request,
            deliverable.run.brand_id,
            lambda hours: review_link_create(deliverable=deliverable, actor=request.user, expires_in_hours=hours),
        )


class RunReviewLinkListView(APIView):
    @extend_schema(
        request=ReviewLinkCreateSerializer,
        responses={201: ReviewLinkSerializer, 400: FIELD_ERRORS, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
        description="Send a whole run to a client: one link anyone with the URL can open without an account, to "
        "read each generated deliverable's current revision and approve or request changes on each (or on all at "
        "once), once per deliverable. Each decision is bound to the revision sent: an edit after sending voids that "
        "deliverable's part. Revoke it with `DELETE /api/v1/review-links/<id>`. The URL is shown only in this answer.",
    )
    def post(self, request, run_id):
        run = runs_for(request.user).filter(run_id=run_id).first()
        if run is None:
            raise Http404
        return _review_link_sent(
            request,
            run.brand_id,
            lambda hours: run_review_link_create(run=run, actor=request.user, expires_in_hours=hours),
        )


class ReviewLinkDetailView(APIView):
    @extend_schema(
        request=None,
        responses={200: ReviewLinkRevokedSerializer, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
        description="Revoke a review link (a deliverable's or a whole run's): it answers 410 from now on. Revoking "
        "twice keeps the first time; a run link's decisions already made stay.",
    )
    def delete(self, request, pk):
        link = review_link_revoke(link_id=pk, actor=request.user)
        return Response(ReviewLinkRevokedSerializer({"id": link.pk, "revoked_at": link.revoked_at}).data)


class ThreadCommentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    author = serializers.CharField(source="author.username", read_only=True, default=None)
    version = serializers.IntegerField(read_only=True)
    body = serializers.CharField(max_length=5000, trim_whitespace=True)
    body_html = serializers.SerializerMethodField()
    mentions = serializers.ListField(child=serializers.CharField(), read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def get_body_html(self, comment) -> str:
        return str(render_markdown(comment.body))


class CommentListView(APIView):
    def _deliverable(self, request, pk):
        deliverable = deliverables_for(request.user).filter(pk=pk).first()
        if deliverable is None:
            raise Http404
        return deliverable

    @extend_schema(responses={200: ThreadCommentSerializer(many=True), 401: UNAUTHENTICATED, 404: NOT_FOUND})
    def get(self, request, pk):
        deliverable = self._deliverable(request, pk)
        comments = deliverable.comments.select_related("author")
        return Response(ThreadCommentSerializer(comments, many=True).data)

    @extend_schema(
        request=ThreadCommentSerializer,
        responses={201: ThreadCommentSerializer, 400: FIELD_ERRORS, 401: UNAUTHENTICATED, 404: NOT_FOUND},
        description="Comment on the deliverable's current revision. `body` is Markdown (rendered sanitised); "
        "`@username` notifies that member of the brand.",
    )
    def post(self, request, pk):
        deliverable = self._deliverable(request, pk)
        body = ThreadCommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        comment = comment_create(deliverable=deliverable, actor=request.user, body=body.validated_data["body"])
        return Response(ThreadCommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class WebhookSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    brand = serializers.CharField(source="brand.slug", required=False)
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.values), min_length=1)
    active = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown once: verify X-AICMO-Signature with it.")


class WebhookDeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.UUIDField()
    event = serializers.CharField()
    attempt = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True)
    ok = serializers.BooleanField()
    latency_ms = serializers.IntegerField()
    response_excerpt = serializers.CharField()
    error = serializers.CharField()
    created_at = serializers.DateTimeField()


class WebhookListView(APIView):
    @extend_schema(responses={200: WebhookSerializer(many=True), 401: UNAUTHENTICATED})
    def get(self, request):
        hooks = Webhook.objects.filter(brand__in=brands_where(request.user, EDIT_BRAND)).select_related("brand")
        return Response(WebhookSerializer(hooks, many=True).data)

    @extend_schema(
        request=WebhookSerializer,
        responses={201: WebhookCreatedSerializer, 400: FIELD_ERRORS, 401: UNAUTHENTICATED, 403: FORBIDDEN},
        description="Subscribe a URL to a brand's events (managers of the brand). The answer carries the signing "
        "secret, shown only here. In production, loopback and private addresses are refused.",
    )
    def post(self, request):
        body = WebhookSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        slug = (body.validated_data.get("brand") or {}).get("slug")
        brand = brand_for(request.user, slug)
        if brand is None:
            raise ValidationError({"brand": ["Name one of your brands (you belong to several, or to none)."]})
        hook = webhook_create(
            brand=brand, actor=request.user, url=body.validated_data["url"], events=body.validated_data["events"]
        )
        return Response(WebhookCreatedSerializer(hook).data, status=status.HTTP_201_CREATED)


class WebhookDeliveryListView(APIView):
    @extend_schema(responses={200: WebhookDeliverySerializer(many=True), 401: UNAUTHENTICATED, 404: NOT_FOUND})
    def get(self, request, pk):
        hook = Webhook.objects.filter(pk=pk, brand__in=brands_where(request.user, EDIT_BRAND)).first()
        if hook is None:
            raise Http404
        return Response(WebhookDeliverySerializer(hook.deliveries.all()[:200], many=True).data)
