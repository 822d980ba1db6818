from django.urls import path

from . import api, studio_views, views

urlpatterns = [
    path("api/v1/creatives/generate", api.CreativesGenerateView.as_view(), name="api-creatives-generate"),
    # pages
    path("creatives/new/", views.creatives_new, name="creatives-new"),
    # the creative studio: the chat, its messages, and the SSE stream of each reply
    path("studio/", studio_views.studio, name="studio"),
    path("studio/threads/", studio_views.studio_thread_create, name="studio-thread-create"),
    path("studio/<uuid:thread_id>/", studio_views.studio, name="studio-thread"),
    path("studio/<uuid:thread_id>/messages", studio_views.studio_message_post, name="studio-message-post"),
    path("studio/<uuid:thread_id>/assets", studio_views.studio_thread_assets, name="studio-thread-assets"),
    path("studio/messages/<int:pk>/stream", studio_views.studio_message_stream, name="studio-message-stream"),
    path("studio/messages/<int:pk>/retry", studio_views.studio_message_retry, name="studio-message-retry"),
]
