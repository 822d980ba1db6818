from django.urls import path

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("health", views.healthz),
    # pages
    path("", views.home, name="home"),
    path("preferences/theme", views.theme_set, name="theme-set"),
    path("ui/platforms.css", views.platforms_css, name="platforms-css"),
]
