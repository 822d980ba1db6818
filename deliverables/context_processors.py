"""The inbox count in the navigation (three COUNT queries, only on pages that render it)."""

from django.utils.functional import SimpleLazyObject

from .selectors import inbox_count


def inbox(request) -> dict:
    user = getattr(request, "user", None)
    return {"inbox_count": SimpleLazyObject(lambda: inbox_count(user))}
