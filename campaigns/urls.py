from django.urls import path

from . import api

urlpatterns = [
    path("api/v1/campaigns/generate", api.CampaignGenerateView.as_view(), name="api-campaigns-generate"),
]
