from django.urls import path

from . import api, api_review, api_team, home_views, team_views, views

urlpatterns = [
    path("api/v1/runs/", api.RunListView.as_view(), name="api-runs"),
    path("api/v1/runs/<uuid:run_id>", api.RunDetailView.as_view(), name="api-run"),
    path("api/v1/assets", api.AssetListView.as_view(), name="api-assets"),
    path("assets/<uuid:pk>/file", api.AssetFileView.as_view(), name="asset-file"),
]

urlpatterns += [  # the review workflow and exports
    path("api/v1/deliverables/<uuid:pk>", api_review.DeliverableDetailView.as_view(), name="api-deliverable"),
    path(
        "api/v1/deliverables/<uuid:pk>/revisions",
        api_review.RevisionListView.as_view(),
        name="api-deliverable-revisions",
    ),
    path("api/v1/deliverables/<uuid:pk>/submit", api_review.SubmitView.as_view(), name="api-deliverable-submit"),
    path("api/v1/deliverables/<uuid:pk>/approve", api_review.ApproveView.as_view(), name="api-deliverable-approve"),
    path("api/v1/deliverables/<uuid:pk>/reject", api_review.RejectView.as_view(), name="api-deliverable-reject"),
    path("api/v1/deliverables/<uuid:pk>/rewrite", api_review.RewriteView.as_view(), name="api-deliverable-rewrite"),
    path("api/v1/rewrites/<uuid:pk>", api_review.RewriteDetailView.as_view(), name="api-rewrite"),
    path("api/v1/runs/<uuid:run_id>/export", api_review.RunExportView.as_view(), name="api-run-export"),
]

urlpatterns += [  # pages: home, runs, deliverables, approvals, assets
    path("", home_views.home, name="home"),
    path("ui/platforms.css", home_views.platforms_css, name="platforms-css"),
    path("runs/<uuid:run_id>/", views.run_detail, name="run-detail"),
    path("runs/<uuid:run_id>/live", views.run_live, name="run-live"),
    path("runs/<uuid:run_id>/retry", views.run_retry, name="run-retry"),
    path("runs/<uuid:run_id>/export", views.run_export_download, name="run-export"),
    path("deliverables/<uuid:pk>/", views.deliverable_detail, name="deliverable-detail"),
    path("deliverables/<uuid:pk>/amend", views.deliverable_amend_view, name="deliverable-amend"),
    path("deliverables/<uuid:pk>/preview", views.deliverable_preview, name="deliverable-preview"),
    path("deliverables/<uuid:pk>/diff", views.deliverable_diff, name="deliverable-diff"),
    path("deliverables/<uuid:pk>/rewrite", views.deliverable_rewrite_view, name="deliverable-rewrite"),
    path(
        "deliverables/<uuid:pk>/rewrites/<uuid:rewrite_id>",
        views.deliverable_rewrite_status,
        name="deliverable-rewrite-status",
    ),
    *(
        path(
            f"deliverables/<uuid:pk>/{action}",
            views.deliverable_transition,
            {"action": action},
            name=f"deliverable-{action}",
        )
        for action in ("submit", "approve", "reject")
    ),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/bulk", views.approvals_bulk, name="approvals-bulk"),
    path("assets/", views.asset_gallery, name="assets"),
    path("assets", views.assets_index, name="assets-index"),  # the ChatKit sample's path (JSON or the page)
]

urlpatterns += [  # the team workflow: client review links and the inbox
    path("api/v1/deliverables/<uuid:pk>/review-links", api_team.ReviewLinkListView.as_view(), name="api-review-links"),
    path(
        "api/v1/runs/<uuid:run_id>/review-links", api_team.RunReviewLinkListView.as_view(), name="api-run-review-links"
    ),
    path("runs/<uuid:run_id>/review-link", team_views.run_review_link, name="run-review-link"),
    path("api/v1/deliverables/<uuid:pk>/comments", api_team.CommentListView.as_view(), name="api-comments"),
    path("deliverables/<uuid:pk>/comments", team_views.deliverable_comment, name="deliverable-comment"),
    path("deliverables/<uuid:pk>/review-link", team_views.deliverable_review_link, name="deliverable-review-link"),
    path("api/v1/webhooks", api_team.WebhookListView.as_view(), name="api-webhooks"),
    path(
        "api/v1/webhooks/<int:pk>/deliveries", api_team.WebhookDeliveryListView.as_view(), name="api-webhook-deliveries"
    ),
    path("api/v1/review-links/<uuid:pk>", api_team.ReviewLinkDetailView.as_view(), name="api-review-link"),
    path("r/<str:token>/", team_views.review_link_page, name="review-link-page"),
    path("inbox/", team_views.inbox, name="inbox"),
    path("inbox/read", team_views.inbox_mark_read, name="inbox-read"),
    path("inbox/email", team_views.inbox_email_setting, name="inbox-email"),
    path("inbox/unsubscribe/<str:token>/", team_views.inbox_unsubscribe, name="inbox-unsubscribe"),
]
