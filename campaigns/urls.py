from django.urls import path

from . import api, views

urlpatterns = [
    path("api/v1/campaigns/generate", api.CampaignGenerateView.as_view(), name="api-campaigns-generate"),
    # pages
    path("campaigns/new/", views.campaign_new, name="campaign-new"),
    path("brands/<slug:slug>/", views.brand_detail, name="brand-detail"),
]
