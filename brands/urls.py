from django.urls import path

from . import views

urlpatterns = [
    path("brands/<slug:slug>/logo", views.brand_logo, name="brand-logo"),
]
