"""Exports of a run: Markdown, the JSON envelope, a Word document, a scheduler-ready CSV, the branded pack (PDF
report and PPTX deck), the content calendar as iCalendar, or the working files: a ZIP of the Markdown, JSON,
DOCX, CSV and calendar with the images and a manifest.json (a SHA-256 for every file, the approvals that cover
them, and where to download the branded pack, which the ZIP does not embed).

Each export loads the run's deliverables in a constant number of queries (whatever their count), reads each
image once through Django's storage, keeps a copy of the file in storage (under exports/, so every web
process and worker sees it, on a local folder or an S3-compatible bucket alike; AICMO_KEEP_EXPORTS=0 turns
that off) and writes one AuditEvent naming that copy and its SHA-256."""

import csv
import hashlib
import io
import json
import logging
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import docx
import orjson
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import slugify
from docx.shared import Inches

from aicmo.core.errors import ApplicationError, Conflict, NotFound
from brands.selectors import brands_for

from ..envelope import build_envelope
from ..events import run_exported_event
from ..models import Deliverable, Run
from ..platforms import PLATFORMS
from ..provenance import provenance_of
from ..selectors import with_current_revision
from .docx_render import DocxWriter
from .export_pack import CampaignImage, PackDeliverable, brand_look, campaign_images, pack_deliverables

logger = logging.getLogger(__name__)

CONTENT_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "json": "application/json",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "ics": "text/calendar; charset=utf-8",
    "zip": "application/zip",
}
FORMATS = tuple(CONTENT_TYPES)
ZIP_FORMATS = ("md", "json", "docx", "csv", "ics")  # the working files the ZIP holds, images aside
# The branded pack stays its own downloads: the ZIP's manifest names them. Rendering them into every ZIP cost
# ten of its eleven seconds for 500 deliverables (issue 16).
BRANDED_PACK_FORMATS = ("pdf", "pptx")
# provenance last: who wrote each row (provider, model), so a scheduler's import keeps its first columns
CSV_COLUMNS = ["date", "time", "platform", "title", "text", "hashtags", "media", "status", "provider", "model"]
# Calendar entries carry a day, not a time; schedulers' bulk imports want both: a calendar entry's own
# "time" (HH:MM) wins, else this morning slot.
DEFAULT_POST_TIME = "09:00"
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
STORAGE_FOLDER = "exports"


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes
    stored_as: str = ""  # its copy's name in Django's default storage
    sha256: str = ""


def run_export(*, run: Run, fmt: str, approved_only: bool, actor) -> ExportFile:
    """Export `run` as `fmt` (one of FORMATS). `approved_only` keeps approved deliverables only.
    `actor` must belong to the run's brand (None: an operator at the command line)."""
    if fmt not in CONTENT_TYPES:
        raise ApplicationError(
            f"Unknown export format {fmt!r}: use one of {', '.join(FORMATS)}.",
            details={"format": [f"Choose one of {', '.join(FORMATS)}."]},
        )
    if actor is not None and not brands_for(actor).filter(pk=run.brand_id).exists():
        raise NotFound("No such run.")
    deliverables = _deliverables(run, approved_only=approved_only)
    if not deliverables:
        raise Conflict(
            "Nothing to export: no deliverable of this run is approved yet."
            if approved_only
            else "Nothing to export: this run has no generated deliverables.",
            details={"status": run.status, "approved_only": approved_only},
        )
    export = _Export(run=run, deliverables=deliverables, stamp=timezone.localtime(), approved_only=approved_only)
    if fmt == "ics" and not export.has_calendar:
        raise Conflict(
            "Nothing to export as a calendar: no content calendar with entries"
            + (" is approved in this run." if approved_only else " in this run."),
            details={"format": fmt, "approved_only": approved_only},
        )
    content = export.render(fmt)
    filename = export.filename(fmt)
    digest = hashlib.sha256(content).hexdigest()
    stored_as = ""
    if settings.AICMO_KEEP_EXPORTS:  # the file as it was handed out, for every process (and the audit trail)
        stored_as = default_storage.save(
            f"{STORAGE_FOLDER}/{run.brand_id}/{run.run_id}/{filename}", ContentFile(content)
        )
    with transaction.atomic():
        run_exported_event(
            run=run, actor=actor, fmt=fmt, approved_only=approved_only, stored_as=stored_as, sha256=digest
        )
    return ExportFile(
        filename=filename, content_type=CONTENT_TYPES[fmt], content=content, stored_as=stored_as, sha256=digest
    )


def _deliverables(run: Run, *, approved_only: bool) -> list[Deliverable]:
    generated = run.deliverables.filter(generation_status=Deliverable.Generation.DONE)
    if approved_only:
        generated = generated.filter(status=Deliverable.Status.APPROVED)
    return with_current_revision(list(generated.order_by("position")))


class _Export:
    def __init__(self, *, run: Run, deliverables: Sequence[Deliverable], stamp, approved_only: bool = False):
        self.run = run
        self.deliverables = deliverables
        self.stamp = stamp
        self.approved_only = approved_only
        self.brand = run.brand
        self.campaign = run.campaign

    def render(self, fmt: str) -> bytes:
        return getattr(self, f"_{fmt}")()

    def filename(self, fmt: str) -> str:
        """Unique per brand, campaign (or module) and run; the time says which export of the run it is."""
        subject = (slugify(self.campaign.name) if self.campaign else "") or self.run.module
        return f"aicmo_{self.brand.slug}_{subject}_{self.run.run_id.hex[:8]}_{self.stamp:%Y%m%d_%H%M}.{fmt}"

    def download_url(self, fmt: str) -> str:
        """The API path (relative to the app's address) that downloads this run as `fmt`, in the same scope."""
        query = {"format": fmt} | ({"approved_only": "1"} if self.approved_only else {})
        return f"{reverse('api-run-export', kwargs={'run_id': self.run.run_id})}?{urlencode(query)}"

    @property
    def heading(self) -> str:
        subject = self.campaign.name if self.campaign else f"{self.run.module.capitalize()} run"
        return f"{subject} — {self.brand.name}"

    @property
    def subtitle(self) -> str:
        scope = "approved work only" if self.approved_only else "all generated work"
        return f"Run {self.run.run_id} · {self.run.module} · {scope} · exported {self.stamp:%Y-%m-%d %H:%M %Z}"

    @cached_property
    def look(self):
        return brand_look(self.brand)

    @cached_property
    def items(self) -> list[PackDeliverable]:
        """The deliverables with provenance, approver and image bytes: built once for every format of a pack."""
        return pack_deliverables(list(self.deliverables))

    @cached_property
    def campaign_images(self) -> list[CampaignImage]:
        """A campaign run's exports also show the images made for its campaign by creatives runs."""
        if self.run.module != "campaigns":
            return []
        return campaign_images(self.run, approved_only=self.approved_only)

    @property
    def has_calendar(self) -> bool:
        return any(item.entries for item in self.items)

    # --- md -------------------------------------------------------------------------------------------------

    def _md(self) -> bytes:
        blocks = [
            f"# {self.heading}\n\nRun `{self.run.run_id}` · {self.run.module} · {self.run.status} · "
            f"exported {self.stamp:%Y-%m-%d %H:%M %Z}"
        ]
        for deliverable, item in zip(self.deliverables, self.items, strict=True):
            revision = deliverable.current_revision
            parts = [
                f"## {revision.title or deliverable.title}",
                f"*{_describe(deliverable, item)}*",
                _demote_headings(revision.content_markdown),
            ]
            if revision.hashtags:
                parts.append(" ".join(revision.hashtags))
            parts += [
                f"![Image for {revision.title or deliverable.kind}]({asset.url})" for asset in deliverable.image_assets
            ]
            blocks.append("\n\n".join(parts))
        if self.campaign_images:
            blocks.append(
                "## Campaign creatives\n\n"
                + "\n\n".join(f"![{c.caption}](/assets/{c.image.asset_id}/file)" for c in self.campaign_images)
            )
        return ("\n\n---\n\n".join(blocks) + "\n").encode()

    # --- json -----------------------------------------------------------------------------------------------

    def _json(self) -> bytes:
        envelope = build_envelope(self.run, deliverables=self.deliverables)  # validates it, or raises
        return pretty_json(envelope)

    # --- docx -----------------------------------------------------------------------------------------------

    def _docx(self) -> bytes:
        document = docx.Document()
        document.core_properties.title = self.heading
        document.core_properties.author = "AICMO"
        writer = DocxWriter(document)
        if self.look.logo:
            self._add_image(writer, self.look.logo, width=Inches(1.8), what="the brand logo")
        writer.heading(self.heading, level=0)
        writer.paragraph(self.subtitle)
        for deliverable, item in zip(self.deliverables, self.items, strict=True):
            revision = deliverable.current_revision
            writer.heading(item.title, level=1)
            writer.paragraph(_describe(deliverable, item), italic=True)
            if item.entries:
                writer.table(
                    ["Date", "Platform", "Title", "Copy"],
                    [
                        [e.get("date", ""), _platform_label(e.get("platform")), e.get("title", ""), e.get("text", "")]
                        for e in item.entries
                    ],
                )
            else:
                writer.markdown(revision.content_markdown, heading_offset=1)
            if revision.hashtags:
                writer.paragraph(" ".join(revision.hashtags))
            for image in item.images:
                self._add_image(writer, image.data, width=Inches(4.5), what=f"image {image.asset_id}")
        if self.campaign_images:
            writer.heading("Campaign creatives", level=1)
            writer.paragraph("Images of the ad creatives made for this campaign.")
            for creative in self.campaign_images:
                writer.paragraph(creative.caption, italic=True)
                self._add_image(writer, creative.image.data, width=Inches(3.5), what=f"image {creative.image.asset_id}")
        return writer.save()

    @staticmethod
    def _add_image(writer: DocxWriter, data: bytes, *, width, what: str) -> None:
        try:
            writer.picture(io.BytesIO(data), width=width)
        except Exception as error:  # a file python-docx cannot read must not fail the whole export
            logger.warning("image left out of an export", extra={"image": what, "error": str(error)})
            writer.paragraph(f"({what.capitalize()} is unavailable.)")

    # --- csv ------------------------------------------------------------------------------------------------

    def _csv(self) -> bytes:
        """One row per social post and per calendar entry, for social schedulers' bulk import: date and time,
        platform, text, hashtags and the post's images (the app's brand-scoped URLs)."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for deliverable, item in zip(self.deliverables, self.items, strict=True):
            if item.entries:
                for entry in item.entries:
                    time = str(entry.get("time") or "")
                    writer.writerow(
                        _csv_safe(
                            {
                                "date": entry["date"],
                                "time": time if _TIME.match(time) else DEFAULT_POST_TIME,
                                "platform": entry.get("platform", ""),
                                "title": entry.get("title", ""),
                                "text": entry.get("text", ""),
                                "hashtags": "",
                                "media": "",
                                "status": item.status,
                                **_written_by(deliverable),
                            }
                        )
                    )
            elif item.platform:
                writer.writerow(
                    _csv_safe(
                        {
                            "date": "",
                            "time": "",
                            "platform": item.platform,
                            "title": item.title,
                            "text": item.markdown,
                            "hashtags": " ".join(item.hashtags),
                            "media": " ".join(asset.url for asset in deliverable.image_assets),
                            "status": item.status,
                            **_written_by(deliverable),
                        }
                    )
                )
        return buffer.getvalue().encode()

    # --- pdf, pptx, ics -------------------------------------------------------------------------------------

    def _pdf(self) -> bytes:
        from .pdf_render import render_pdf  # reportlab is loaded only by the exports that use it

        footer = f"{self.brand.name} · {self.heading} · run {self.run.run_id.hex[:8]} · {self.stamp:%Y-%m-%d}"
        return render_pdf(
            look=self.look,
            heading=self.heading,
            subtitle=self.subtitle,
            footer=footer,
            items=self.items,
            campaign_images=self.campaign_images,
        )

    def _pptx(self) -> bytes:
        from .pptx_render import render_pptx

        return render_pptx(
            look=self.look,
            heading=self.heading,
            subtitle=self.subtitle,
            items=self.items,
            campaign_images=self.campaign_images,
        )

    def _ics(self) -> bytes:
        from .ics_render import render_ics

        return render_ics(name=self.heading, items=self.items, stamp=self.stamp)

    # --- zip: the working files -----------------------------------------------------------------------------

    def _zip(self) -> bytes:
        """The working files (the calendar file when there is a calendar), the images as they are, and a
        manifest with each file's SHA-256, the approvals that cover it and the branded pack's downloads."""
        files: list[tuple[str, bytes, list[str]]] = []  # name, bytes, ids of the deliverables it carries
        every = [item.id for item in self.items]
        for fmt in ZIP_FORMATS:
            if fmt == "ics" and not self.has_calendar:
                continue
            covered = [item.id for item in self.items if item.entries] if fmt == "ics" else every
            files.append((self.filename(fmt), self.render(fmt), covered))
        images = [(image.name, image.data, [item.id]) for item in self.items for image in item.images]
        images += [(c.image.name, c.image.data, [c.deliverable_id]) for c in self.campaign_images]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data, _ in files:
                archive.writestr(name, data)
            for name, data, _ in images:
                # stored as they are: image formats are compressed already, deflating them again cost
                # a tenth of a 500-deliverable export and saved 6 % of their size
                archive.writestr(name, data, compress_type=zipfile.ZIP_STORED)
            archive.writestr("manifest.json", pretty_json(self._manifest(files + images)))
        return buffer.getvalue()

    def _manifest(self, files: list[tuple[str, bytes, list[str]]]) -> dict:
        return {
            "brand": {"slug": self.brand.slug, "name": self.brand.name},
            "campaign": self.campaign.name if self.campaign else None,
            "run_id": str(self.run.run_id),
            "module": self.run.module,
            "exported_at": self.stamp.isoformat(),
            "approved_only": self.approved_only,
            "branded_pack": [
                {"format": fmt, "content_type": CONTENT_TYPES[fmt], "url": self.download_url(fmt)}
                for fmt in BRANDED_PACK_FORMATS
            ],
            "files": [
                {"path": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "deliverables": ids}
                for name, data, ids in files
            ],
            "deliverables": [
                {
                    "id": item.id,
                    "title": item.title,
                    "kind": item.kind,
                    "platform": item.platform,
                    "status": item.status,
                    "version": item.version,
                    "provider": item.provider,
                    "model": item.model,
                    "written_by": item.written_by,
                }
                for item in self.items
            ],
            "approvals": [
                {
                    "deliverable_id": item.id,
                    "version": item.version,
                    "approved_by": item.approved_by,
                    "approved_at": item.approved_at.isoformat() if item.approved_at else None,
                    "files": [name for name, _, ids in files if item.id in ids],
                }
                for item in self.items
                if item.status == Deliverable.Status.APPROVED
            ],
        }


def pretty_json(value) -> bytes:
    """`json.dumps(value, indent=2, ensure_ascii=False)` as UTF-8, written by orjson: the json module's
    indenting encoder is pure Python (a sixth of a 500-deliverable ZIP). The same bytes, but for a float's
    exponent, written shorter (1e-7, json's 1e-07: the same number). A value orjson refuses (an integer
    beyond 64 bits) goes through json as before."""
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        return json.dumps(value, indent=2, ensure_ascii=False).encode()


def _describe(deliverable: Deliverable, item: PackDeliverable) -> str:
    parts = [deliverable.kind.replace("_", " ")]
    if deliverable.platform:
        parts.append(_platform_label(deliverable.platform))
    if item.status == Deliverable.Status.APPROVED and item.approved_by:
        parts.append(f"approved by {item.approved_by}")
    else:
        parts.append(deliverable.status.replace("_", " "))
    parts.append(f"version {deliverable.version}")
    return " · ".join(parts) + f" · written by {item.written_by}"


def _written_by(deliverable: Deliverable) -> dict[str, str]:
    written = provenance_of(deliverable)
    return {"provider": written.provider, "model": written.model}


def _platform_label(key: str | None) -> str:
    return PLATFORMS[key].label if key in PLATFORMS else (key or "")


_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_HEADING = re.compile(r"^(#{1,4})(\s)")  # ##### and ###### stay: Markdown stops at 6


def _demote_headings(markdown: str) -> str:
    """Nest a deliverable's own headings under its `##` title (# → ###), leaving code blocks alone."""
    lines, in_fence = [], False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            line = _HEADING.sub(lambda m: m.group(1) + "##" + m.group(2), line)
        lines.append(line)
    return "\n".join(lines)


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_safe(row: dict[str, str]) -> dict[str, str]:
    """LLM text is untrusted: a cell starting like a formula is quoted so spreadsheets show it as text."""
    return {
        key: f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA_STARTS) else value
        for key, value in row.items()
    }
