from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from aicmo.core.login import AicmoLoginView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", AicmoLoginView.as_view(), name="login"),  # above the include: it wins
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script for the CSP to block.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("", include("aicmo.core.urls")),
    path("", include("brands.urls")),
    path("", include("deliverables.urls")),
    path("", include("campaigns.urls")),
    path("", include("creatives.urls")),
]

# JSON for API paths, the site's error pages elsewhere.
handler400 = "aicmo.core.handlers.bad_request"
handler403 = "aicmo.core.handlers.permission_denied"
handler404 = "aicmo.core.handlers.not_found"
handler500 = "aicmo.core.handlers.server_error"
