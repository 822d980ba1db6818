from django.urls import path

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("health", views.healthz),
    path("preferences/theme", views.theme_set, name="theme-set"),
]
