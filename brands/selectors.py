"""Reads of brands, always through the user's memberships: every other app scopes its queries with these."""

from django.db.models import QuerySet

from .models import Brand
from .roles import CAPABILITIES


def brands_for(user) -> QuerySet[Brand]:
    """The brands `user` belongs to (superusers: all; anonymous: none)."""
    if not getattr(user, "is_authenticated", False):
        return Brand.objects.none()
    return Brand.objects.all() if user.is_superuser else Brand.objects.filter(memberships__user=user)


def brands_where(user, capability: str) -> QuerySet[Brand]:
    """The brands in which `user` may do `capability` (a manager's brands for "approve", and so on)."""
    if not getattr(user, "is_authenticated", False):
        return Brand.objects.none()
    if user.is_superuser:
        return Brand.objects.all()
    roles = [role for role, capabilities in CAPABILITIES.items() if capability in capabilities]
    return Brand.objects.filter(memberships__user=user, memberships__role__in=roles)


def brand_for(user, slug: str | None) -> Brand | None:
    """The brand a request means: the slug given, else the user's only brand; None when ambiguous or absent."""
    brands = brands_for(user)
    if slug:
        return brands.filter(slug=slug).first()
    only = list(brands[:2])
    return only[0] if len(only) == 1 else None
