from django.urls import path

from . import api

urlpatterns = [
    path("api/v1/creatives/generate", api.CreativesGenerateView.as_view(), name="api-creatives-generate"),
]

# Pages (the chat studio, /studio/, is its own page).
from . import views  # noqa: E402

urlpatterns += [
    path("creatives/new/", views.creatives_new, name="creatives-new"),
]

# The creative studio (/studio/): the chat, its messages, and the SSE stream of each reply.
from . import studio_views  # noqa: E402

urlpatterns += [
    path("studio/", studio_views.studio, name="studio"),
    path("studio/threads/", studio_views.studio_thread_create, name="studio-thread-create"),
    path("studio/<uuid:thread_id>/", studio_views.studio, name="studio-thread"),
    path("studio/<uuid:thread_id>/messages", studio_views.studio_message_post, name="studio-message-post"),
    path("studio/<uuid:thread_id>/assets", studio_views.studio_thread_assets, name="studio-thread-assets"),
    path("studio/messages/<int:pk>/stream", studio_views.studio_message_stream, name="studio-message-stream"),
    path("studio/messages/<int:pk>/retry", studio_views.studio_message_retry, name="studio-message-retry"),
]
