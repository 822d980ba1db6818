from django.urls import path

from . import api

urlpatterns = [
    path("api/v1/runs/", api.RunListView.as_view(), name="api-runs"),
    path("api/v1/runs/<uuid:run_id>", api.RunDetailView.as_view(), name="api-run"),
    path("api/v1/assets", api.AssetListView.as_view(), name="api-assets"),
    path("assets/<uuid:pk>/file", api.AssetFileView.as_view(), name="asset-file"),
]
