from django.urls import path

from . import api

urlpatterns = [
    path("api/v1/campaigns/generate", api.CampaignGenerateView.as_view(), name="api-campaigns-generate"),
]

# Pages.
from . import views  # noqa: E402

urlpatterns += [
    path("campaigns/new/", views.campaign_new, name="campaign-new"),
    path("brands/<slug:slug>/", views.brand_detail, name="brand-detail"),
]
