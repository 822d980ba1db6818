from django.urls import path

from . import api

urlpatterns = [
    path("api/v1/creatives/generate", api.CreativesGenerateView.as_view(), name="api-creatives-generate"),
]
