from django.conf import settings
from django.db import models


class Brand(models.Model):
    """A client brand: its kit goes into every prompt, and its members are the only people who see its work."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    industry = models.CharField(max_length=120, blank=True)
    audience = models.TextField(blank=True, help_text="Who the brand speaks to.")
    tone_of_voice = models.CharField(max_length=240, blank=True)
    voice_examples = models.JSONField(default=list, blank=True, help_text="Short lines that sound like the brand.")
    banned_words = models.JSONField(default=list, blank=True)
    required_disclaimers = models.JSONField(default=list, blank=True)
    languages = models.JSONField(
        default=list, blank=True, help_text='Language codes, the first is the default, e.g. ["en"].'
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="brands", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def language(self) -> str:
        return self.languages[0] if self.languages else "en"

    def kit(self) -> dict:
        """The brand kit as plain data, as it goes into prompts and run snapshots."""
        return {
            "name": self.name,
            "slug": self.slug,
            "industry": self.industry,
            "audience": self.audience,
            "tone_of_voice": self.tone_of_voice,
            "voice_examples": list(self.voice_examples),
            "banned_words": list(self.banned_words),
            "required_disclaimers": list(self.required_disclaimers),
            "language": self.language,
        }


class Campaign(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=200)
    objectives = models.JSONField(default=list, blank=True)
    platforms = models.JSONField(default=list, blank=True)
    budget = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    timeline_days = models.PositiveIntegerField(default=30)
    audience = models.TextField(blank=True)
    key_message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.brand.slug} / {self.name}"
