"""The one writer of assets (generated images): the file goes through Django's storage API, the row names the
brand whose members alone may fetch it."""

from django.core.files.base import ContentFile

from ..models import Asset


def asset_create(
    *,
    brand_id: int,
    content: bytes,
    deliverable=None,
    prompt: str = "",
    size: str = "",
    provider: str = "",
    model: str = "",
    content_type: str = "image/png",
    extension: str = "png",
) -> Asset:
    asset = Asset(
        brand_id=brand_id,
        deliverable=deliverable,
        prompt=prompt,
        size=size,
        provider=provider,
        model=model,
        content_type=content_type,
    )
    asset.file.save(f"{asset.id}.{extension}", ContentFile(content), save=False)
    asset.save()
    return asset
