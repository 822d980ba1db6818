from django.urls import path

from . import api, chatkit_views, studio_views, views

urlpatterns = [
    path("api/v1/creatives/generate", api.CreativesGenerateView.as_view(), name="api-creatives-generate"),
    # the ChatKit protocol (the studio page and any ChatKit front end)
    path("chatkit", chatkit_views.chatkit, name="chatkit"),
    path(
        "chatkit/attachments/<str:attachment_id>/upload",
        chatkit_views.chatkit_attachment_upload,
        name="chatkit-attachment-upload",
    ),
    path(
        "chatkit/attachments/<str:attachment_id>/file",
        chatkit_views.chatkit_attachment_file,
        name="chatkit-attachment-file",
    ),
    # pages
    path("creatives/new/", views.creatives_new, name="creatives-new"),
    path("studio/", studio_views.studio, name="studio"),
    path("studio/new/", studio_views.studio_new, name="studio-new"),
    path("studio/<uuid:thread_id>/", studio_views.studio, name="studio-thread"),
    path("studio/<uuid:thread_id>/assets", studio_views.studio_thread_assets, name="studio-thread-assets"),
]
