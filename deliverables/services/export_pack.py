"""What the branded exports (PDF report, PPTX deck, ICS calendar, the ZIP's manifest) are made from: the
brand's look, and each deliverable with its current revision, provenance, approval and image bytes, read
once through Django's storage (local folder or S3-compatible bucket alike) whatever the number of formats.

The brand kit's look (brands.Brand: `logo`, `primary_color`, `secondary_color`, `font_family`) is what both packs
wear: the logo on the PDF cover and every page header, the PPTX title slide and every slide header; the colours on
bands, headings and table headers; the font family by name on every PPTX text run, and in the PDF when that family
is installed as TrueType (else a built-in family of the same kind, see pdf_render). Each field is read with a
default, so a brand without a look, or with an unreadable logo, still exports."""

import io
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from ..kinds import KINDS
from ..models import Asset, AuditAction, AuditEvent, Deliverable
from ..platforms import PLATFORMS
from ..provenance import provenance_of

logger = logging.getLogger(__name__)

DEFAULT_PRIMARY = "#1f3a5f"
DEFAULT_SECONDARY = "#c8963e"
_HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
MAX_IMAGE_BYTES = 20 * 1024 * 1024  # an image larger than this is left out rather than held in memory


def hex_color(value, default: str) -> str:
    """'#abc', 'abc', '#AABBCC' → '#aabbcc'; anything else → `default`."""
    match = _HEX.match(str(value or "").strip())
    if not match:
        return default
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return f"#{digits}"


def font_kind(family: str) -> str:
    """'sans', 'serif' or 'mono' for a family name as a brand kit spells it ('Georgia, serif', 'Inter')."""
    name = (family or "").lower()
    if any(word in name for word in ("mono", "courier", "code", "consol")):
        return "mono"
    if "sans" not in name and any(
        word in name for word in ("serif", "times", "georgia", "garamond", "playfair", "merriweather", "baskerville")
    ):
        return "serif"
    return "sans"


@dataclass(frozen=True)
class BrandLook:
    name: str
    primary: str
    secondary: str
    font_family: str
    logo: bytes | None  # image bytes, or None when the brand has none (or it cannot be read)

    @property
    def font_kind(self) -> str:
        return font_kind(self.font_family)


def brand_look(brand) -> BrandLook:
    family = str(getattr(brand, "font_family", "") or "").strip()
    return BrandLook(
        name=brand.name,
        primary=hex_color(getattr(brand, "primary_color", ""), DEFAULT_PRIMARY),
        secondary=hex_color(getattr(brand, "secondary_color", ""), DEFAULT_SECONDARY),
        font_family=family or "Helvetica, sans-serif",
        logo=_read_file(getattr(brand, "logo", None), what="brand logo", ref=brand.pk),
    )


@dataclass(frozen=True)
class PackImage:
    asset_id: str
    name: str  # its path inside the ZIP
    content_type: str
    data: bytes


@dataclass
class PackDeliverable:
    id: str
    position: int
    kind: str
    kind_label: str
    title: str
    platform: str | None
    platform_label: str
    status: str
    version: int
    provider: str
    model: str
    written_by: str  # the provenance label: 'openai · gpt-4.1-mini', ', edited by …' after a person's amend
    approved_by: str  # username of the approver of the current state, "" unless approved
    approved_at: datetime | None
    markdown: str
    hashtags: list[str]
    structured: dict
    assets: list = field(default_factory=list, repr=False)

    @cached_property
    def images(self) -> list[PackImage]:
        """The image files' bytes, read through storage on first use (Markdown, JSON and CSV need none)."""
        return _images(self.position, self.kind, self.assets)

    @cached_property
    def entries(self) -> list[dict]:
        """The calendar entries of a content calendar (others: none), each with a date as YYYY-MM-DD; read
        once (every format asks, most of them twice)."""
        if self.kind != "content_calendar":
            return []
        return [e for e in self.structured.get("entries") or [] if isinstance(e, dict) and _is_date(e.get("date"))]


def _is_date(value) -> bool:
    """YYYY-MM-DD and a real day. (strptime, before, also let "2026-3-2" through, which the calendar's
    date.fromisoformat then refused; and it was a tenth of a 500-deliverable ZIP.)"""
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def platform_label(key: str | None) -> str:
    return PLATFORMS[key].label if key in PLATFORMS else (key or "")


def platform_color(key: str | None) -> str:
    return PLATFORMS[key].color if key in PLATFORMS else "#64748b"


def pack_deliverables(deliverables: list[Deliverable]) -> list[PackDeliverable]:
    """`deliverables` carry `current_revision` and `image_assets` (selectors.with_current_revision); one query
    more finds who approved the approved ones, and each image file is read once."""
    approvals = _approvals([d for d in deliverables if d.status == Deliverable.Status.APPROVED])
    packed = []
    for deliverable in deliverables:
        revision = deliverable.current_revision
        written = provenance_of(deliverable)
        approver, approved_at = approvals.get(deliverable.pk, ("", None))
        spec = KINDS.get(deliverable.kind)
        packed.append(
            PackDeliverable(
                id=str(deliverable.pk),
                position=deliverable.position,
                kind=deliverable.kind,
                kind_label=spec.label if spec else deliverable.kind.replace("_", " ").capitalize(),
                title=revision.title or deliverable.title or deliverable.kind,
                platform=deliverable.platform,
                platform_label=platform_label(deliverable.platform),
                status=deliverable.status,
                version=deliverable.version,
                # an amended revision was written by a person: the provenance is the generating call's
                provider=written.provider,
                model=written.model,
                written_by=written.label,
                approved_by=approver,
                approved_at=approved_at,
                markdown=revision.content_markdown,
                hashtags=list(revision.hashtags or []),
                structured=dict(revision.structured or {}),
                assets=list(getattr(deliverable, "image_assets", [])),
            )
        )
    return packed


def _approvals(approved: list[Deliverable]) -> dict:
    """Who approved each approved deliverable's current version, and when (the latest approval)."""
    if not approved:
        return {}
    found: dict = {}
    events = (
        AuditEvent.objects.filter(deliverable_id__in=[d.pk for d in approved], action=AuditAction.APPROVE)
        .order_by("created_at")
        .values_list("deliverable_id", "actor__username", "created_at")
    )
    for deliverable_id, username, created_at in events:
        found[deliverable_id] = (username or "", created_at)
    return found


def _images(position: int, kind: str, assets: list) -> list[PackImage]:
    images = []
    for asset in assets:
        data = _read_file(asset.file, what="image", ref=asset.pk)
        if data is None:
            continue
        name = asset.file.name or ""
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else "png"
        images.append(
            PackImage(
                asset_id=str(asset.pk),
                name=f"images/{position + 1:03d}_{kind}_{asset.pk}.{extension}",
                content_type=asset.content_type,
                data=data,
            )
        )
    return images


def _read_file(file, *, what: str, ref) -> bytes | None:
    """The bytes of a stored file through its storage, or None (logged) when it is missing or unreadable: one
    lost image must not fail a whole export."""
    if not file:
        return None
    try:
        if file.size > MAX_IMAGE_BYTES:
            raise ValueError(f"{file.size} bytes is over the {MAX_IMAGE_BYTES}-byte limit")
        with file.open("rb") as handle:
            return handle.read()
    except Exception as error:
        logger.warning(f"{what} left out of an export", extra={"ref": str(ref), "error": str(error)})
        return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) in pixels, or None when Pillow cannot read it."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:
        return None


MAX_CAMPAIGN_IMAGES = 24  # of the campaign's other runs, in a campaign run's exports


@dataclass(frozen=True)
class CampaignImage:
    """An image made for the same campaign by another run (its ad creatives), shown in a campaign's exports."""

    deliverable_id: str
    caption: str
    image: PackImage


def campaign_images(run, *, approved_only: bool) -> list[CampaignImage]:
    """The images of the campaign's creatives (other runs filed under the same campaign), newest first, at
    most MAX_CAMPAIGN_IMAGES; with `approved_only`, those of approved deliverables only. One query."""
    if run.campaign_id is None:
        return []
    assets = (
        Asset.objects.filter(
            deliverable__run__campaign_id=run.campaign_id,
            deliverable__run__brand_id=run.brand_id,
            deliverable__generation_status=Deliverable.Generation.DONE,
        )
        .exclude(deliverable__run_id=run.pk)
        .select_related("deliverable")
        .order_by("-created_at")
    )
    if approved_only:
        assets = assets.filter(deliverable__status=Deliverable.Status.APPROVED)
    found = []
    for asset in assets[:MAX_CAMPAIGN_IMAGES]:
        data = _read_file(asset.file, what="image", ref=asset.pk)
        if data is None:
            continue
        name = asset.file.name or ""
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else "png"
        deliverable = asset.deliverable
        found.append(
            CampaignImage(
                deliverable_id=str(deliverable.pk),
                caption=deliverable.title or deliverable.kind,
                image=PackImage(
                    asset_id=str(asset.pk),
                    name=f"images/campaign/{asset.pk}.{extension}",
                    content_type=asset.content_type,
                    data=data,
                ),
            )
        )
    return found
