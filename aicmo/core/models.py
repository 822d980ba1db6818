from django.conf import settings
from django.db import models


class UserPreference(models.Model):
    """Per-user display settings. The theme lives here (not only in a cookie) so it follows the person to
    every browser they log in from, and is rendered server-side into <html data-theme>: no flash of the wrong
    theme and no inline script in <head>, which a strict CSP would block."""

    class Theme(models.TextChoices):
        SYSTEM = "system", "Follow the system"
        LIGHT = "light", "Light"
        DARK = "dark", "Dark"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    theme = models.CharField(max_length=10, choices=Theme.choices, default=Theme.SYSTEM)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.theme}"
