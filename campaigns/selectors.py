"""Reads of brands and campaigns, always through the user's brand membership."""

from django.db.models import QuerySet

from .models import Brand


def brands_for(user) -> QuerySet[Brand]:
    if not user.is_authenticated:
        return Brand.objects.none()
    return Brand.objects.all() if user.is_superuser else Brand.objects.filter(members=user)


def brand_for(user, slug: str | None) -> Brand | None:
    """The brand a request means: the slug given, else the user's only brand; None when ambiguous or absent."""
    brands = brands_for(user)
    if slug:
        return brands.filter(slug=slug).first()
    only = list(brands[:2])
    return only[0] if len(only) == 1 else None
