"""HTTP API of client review links (contract §5). Views find the object through the user's brands (others'
objects answer 404), parse the body, call one service, and answer."""

from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from brands.roles import APPROVE, may

from .api_review import FIELD_ERRORS, FORBIDDEN, NOT_FOUND, UNAUTHENTICATED
from .selectors import deliverables_for
from .services.review_links import DEFAULT_HOURS, review_link_create, review_link_revoke


class ReviewLinkCreateSerializer(serializers.Serializer):
    expires_in_hours = serializers.IntegerField(required=False, default=DEFAULT_HOURS, min_value=1, max_value=720)


class ReviewLinkSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.URLField()
    expires_at = serializers.DateTimeField()


class ReviewLinkRevokedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    revoked_at = serializers.DateTimeField()


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
        if not may(request.user, deliverable.run.brand_id, APPROVE):  # 403 before any 400 about the body
            return Response(
                {"detail": "Only a manager of this brand may send it to a client.", "code": "permission_denied"},
                status=status.HTTP_403_FORBIDDEN,
            )
        body = ReviewLinkCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        sent = review_link_create(
            deliverable=deliverable, actor=request.user, expires_in_hours=body.validated_data["expires_in_hours"]
        )
        url = request.build_absolute_uri(reverse("review-link-page", args=[sent.token]))
        return Response(
            ReviewLinkSerializer({"id": sent.link.pk, "url": url, "expires_at": sent.link.expires_at}).data,
            status=status.HTTP_201_CREATED,
        )


class ReviewLinkDetailView(APIView):
    @extend_schema(
        request=None,
        responses={200: ReviewLinkRevokedSerializer, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
        description="Revoke a review link: it answers 410 from now on. Revoking twice keeps the first time.",
    )
    def delete(self, request, pk):
        link = review_link_revoke(link_id=pk, actor=request.user)
        return Response(ReviewLinkRevokedSerializer({"id": link.pk, "revoked_at": link.revoked_at}).data)
