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
    allow_self_approval = models.BooleanField(
        default=False, help_text="Let a manager approve a revision they wrote themselves."
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="brands", blank=True)
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


class Role(models.TextChoices):
    """What a member may do in one brand (contract §3). The same person can hold different roles in two brands."""

    MARKETER = "marketer", "Marketer"  # generate, amend, submit, export
    MANAGER = "manager", "Manager"  # all that, plus approve and reject


class Membership(models.Model):
    """A user's role in one brand: the only source of brand access and brand permissions."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MARKETER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["brand", "user"]
        constraints = [models.UniqueConstraint(fields=["user", "brand"], name="one_membership_per_brand")]

    def __str__(self) -> str:
        return f"{self.user} · {self.brand} ({self.role})"
