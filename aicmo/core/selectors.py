"""Reads of the core app: display preferences."""

from .models import UserPreference


def theme_for(user) -> str:
    """'light', 'dark' or 'system' (also for anonymous users)."""
    if not getattr(user, "is_authenticated", False):
        return UserPreference.Theme.SYSTEM
    theme = UserPreference.objects.filter(user=user).values_list("theme", flat=True).first()
    return theme or UserPreference.Theme.SYSTEM
