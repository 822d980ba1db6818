from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

HEX_COLOUR = RegexValidator(r"^#[0-9a-fA-F]{6}$", "A colour is written #RRGGBB, e.g. #1F6FEB.")


def brand_logo_upload_to(brand: "Brand", filename: str) -> str:
    extension = filename[filename.rfind(".") :].lower() if "." in filename else ".png"
    return f"brands/{brand.pk or 'new'}/logo{extension}"


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
    website_url = models.URLField(blank=True, help_text="The brand's site: prompts may link to it.")
    offer_url = models.URLField(blank=True, help_text="Where calls to action send people (a landing or offer page).")
    # Served only to members, through a view (like assets): MEDIA_URL is never exposed.
    logo = models.ImageField(upload_to=brand_logo_upload_to, blank=True)
    primary_color = models.CharField(max_length=7, blank=True, validators=[HEX_COLOUR])
    secondary_color = models.CharField(max_length=7, blank=True, validators=[HEX_COLOUR])
    font_family = models.CharField(max_length=120, blank=True, help_text="e.g. Inter, Georgia, serif.")
    image_style = models.CharField(
        max_length=240, blank=True, help_text="How images should look, e.g. warm film photography, natural light."
    )
    monthly_budget_usd = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Provider spend allowed per calendar month (UTC); empty = no cap.",
    )
    kit_version = models.PositiveIntegerField(default=1, help_text="Bumped by every saved change of the kit.")
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
            "languages": list(self.languages),
            "website_url": self.website_url,
            "offer_url": self.offer_url,
            "primary_color": self.primary_color,
            "secondary_color": self.secondary_color,
            "font_family": self.font_family,
            "image_style": self.image_style,
            "has_logo": bool(self.logo),
            "kit_version": self.kit_version,
        }

    def editable_kit(self) -> dict:
        """The fields a manager edits on the brand page, as stored in each BrandKitVersion."""
        return {
            "audience": self.audience,
            "tone_of_voice": self.tone_of_voice,
            "voice_examples": list(self.voice_examples),
            "banned_words": list(self.banned_words),
            "required_disclaimers": list(self.required_disclaimers),
            "languages": list(self.languages),
            "website_url": self.website_url,
            "offer_url": self.offer_url,
            "logo": self.logo.name if self.logo else "",
            "primary_color": self.primary_color,
            "secondary_color": self.secondary_color,
            "font_family": self.font_family,
            "image_style": self.image_style,
            "monthly_budget_usd": str(self.monthly_budget_usd) if self.monthly_budget_usd is not None else None,
            "allow_self_approval": self.allow_self_approval,
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


class BrandKitVersion(models.Model):
    """One saved change of a brand kit: who, when, which fields, and the whole kit as it became (the audit
    trail of the brand page; version 1 is the kit as it was before its first edit in the product)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="kit_versions")
    version = models.PositiveIntegerField()
    kit = models.JSONField()
    changed = models.JSONField(default=list, help_text="Names of the fields this save changed.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["brand", "-version"]
        constraints = [models.UniqueConstraint(fields=["brand", "version"], name="one_kit_version_per_number")]

    def __str__(self) -> str:
        return f"{self.brand} kit v{self.version}"


class BrandMonthSpend(models.Model):
    """What a brand's provider calls cost in one calendar month (UTC): the row budget checks lock on."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="month_spend")
    month = models.DateField(help_text="The first day of the month (UTC).")
    spent_usd = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["brand", "-month"]
        constraints = [models.UniqueConstraint(fields=["brand", "month"], name="one_spend_row_per_brand_month")]

    def __str__(self) -> str:
        return f"{self.brand} {self.month:%Y-%m}: ${self.spent_usd}"
