"""Writes of the core app: the user's display preferences."""

from django.db import transaction

from .errors import ApplicationError
from .models import UserPreference


def preference_set_theme(*, user, theme: str) -> UserPreference:
    """Remember the user's theme (light, dark or system)."""
    if theme not in UserPreference.Theme.values:
        raise ApplicationError(f"Unknown theme “{theme}”.", details={"theme": list(UserPreference.Theme.values)})
    with transaction.atomic():
        preference, _ = UserPreference.objects.update_or_create(user=user, defaults={"theme": theme})
    return preference
