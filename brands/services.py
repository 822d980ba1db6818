"""Writes of brands: the brand kit is edited here only, by managers of the brand, and every save leaves a
BrandKitVersion (who, when, which fields, the kit as it became)."""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from aicmo.core.errors import ApplicationError, PermissionDenied

from .models import Brand, BrandKitVersion
from .roles import EDIT_BRAND, may

KIT_FIELDS = (
    "audience",
    "tone_of_voice",
    "voice_examples",
    "banned_words",
    "required_disclaimers",
    "languages",
    "website_url",
    "offer_url",
    "primary_color",
    "secondary_color",
    "font_family",
    "image_style",
    "monthly_budget_usd",
    "allow_self_approval",
)
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_TYPES = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}  # no SVG: a script inside would run when opened


def brand_kit_update(
    *, brand: Brand, actor, changes: Mapping[str, Any], logo: UploadedFile | None = None, remove_logo: bool = False
) -> BrandKitVersion | None:
    """Apply `changes` (a subset of KIT_FIELDS) and an optional new logo; save a BrandKitVersion when anything
    changed (None when nothing did). Only a manager of the brand may (PermissionDenied otherwise)."""
    if not may(actor, brand.pk, EDIT_BRAND):
        raise PermissionDenied(f"Only a manager of {brand.name} may edit its brand kit.")
    unknown = sorted(set(changes) - set(KIT_FIELDS))
    if unknown:
        raise ApplicationError(
            "Unknown brand kit fields.", details={name: ["Not a brand kit field."] for name in unknown}
        )
    if logo is not None:
        _check_logo(logo)
    with transaction.atomic():
        locked = Brand.objects.select_for_update().get(pk=brand.pk)
        if not locked.kit_versions.exists():  # keep the kit as it was before its first edit in the product
            BrandKitVersion.objects.create(brand=locked, version=locked.kit_version, kit=locked.editable_kit())
        before = locked.editable_kit()
        for name, value in changes.items():
            setattr(locked, name, value)
        if remove_logo and locked.logo:
            locked.logo = ""
        try:
            locked.full_clean(exclude=["logo", "members"])
        except ValidationError as error:
            raise ApplicationError("The brand kit needs a few fixes.", details=error.message_dict) from error
        if logo is not None:
            logo.seek(0)
            locked.logo.save(logo.name, logo, save=False)
        after = locked.editable_kit()
        changed = [name for name in after if after[name] != before[name]]
        if logo is not None and "logo" not in changed:
            changed.append("logo")
        if not changed:
            return None
        locked.kit_version += 1
        locked.save()
        version = BrandKitVersion.objects.create(
            brand=locked, version=locked.kit_version, kit=after, changed=changed, author=actor
        )
    brand.refresh_from_db()
    return version


def _check_logo(logo: UploadedFile) -> None:
    from PIL import Image, UnidentifiedImageError

    if logo.size > LOGO_MAX_BYTES:
        raise ApplicationError("The logo is too large (at most 2 MB).", details={"logo": ["At most 2 MB."]})
    try:
        logo.seek(0)
        with Image.open(logo) as image:
            image.verify()
            kind = image.format
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ApplicationError(
            "The logo is not an image.", details={"logo": ["Upload a PNG, JPEG or WebP image."]}
        ) from error
    if kind not in LOGO_TYPES:
        raise ApplicationError("Unsupported logo format.", details={"logo": ["Upload a PNG, JPEG or WebP image."]})
    logo.name = f"logo.{LOGO_TYPES[kind]}"
    logo.content_type = Image.MIME.get(kind, "image/png")
