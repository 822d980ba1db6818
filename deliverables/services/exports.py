"""Exports of a run: Markdown, the JSON envelope, a Word document, a scheduler-ready CSV, or a zip of all four
with the images. Each export loads the run's deliverables in a constant number of queries (whatever their
count) and writes one AuditEvent."""

import csv
import io
import json
import logging
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

import docx
from django.db import transaction
from django.utils import timezone
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

logger = logging.getLogger(__name__)

CONTENT_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "json": "application/json",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "csv": "text/csv; charset=utf-8",
    "zip": "application/zip",
}
FORMATS = tuple(CONTENT_TYPES)
CSV_COLUMNS = ["date", "platform", "title", "text", "hashtags", "status", "provider", "model"]


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes


def run_export(*, run: Run, fmt: str, approved_only: bool, actor) -> ExportFile:
    """Export `run` as `fmt` (md, json, docx, csv, zip). `approved_only` keeps approved deliverables only.
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
    export = _Export(run=run, deliverables=deliverables, stamp=timezone.localtime())
    content = export.render(fmt)
    with transaction.atomic():
        run_exported_event(run=run, actor=actor, fmt=fmt, approved_only=approved_only)
    return ExportFile(filename=export.filename(fmt), content_type=CONTENT_TYPES[fmt], content=content)


def _deliverables(run: Run, *, approved_only: bool) -> list[Deliverable]:
    generated = run.deliverables.filter(generation_status=Deliverable.Generation.DONE)
    if approved_only:
        generated = generated.filter(status=Deliverable.Status.APPROVED)
    return with_current_revision(list(generated.order_by("position")))


class _Export:
    def __init__(self, *, run: Run, deliverables: Sequence[Deliverable], stamp):
        self.run = run
        self.deliverables = deliverables
        self.stamp = stamp
        self.brand = run.brand
        self.campaign = run.campaign

    def render(self, fmt: str) -> bytes:
        return getattr(self, f"_{fmt}")()

    def filename(self, fmt: str) -> str:
        subject = (slugify(self.campaign.name) if self.campaign else "") or self.run.module
        return f"aicmo_{self.brand.slug}_{subject}_{self.stamp:%Y%m%d_%H%M}.{fmt}"

    @property
    def heading(self) -> str:
        subject = self.campaign.name if self.campaign else f"{self.run.module.capitalize()} run"
        return f"{subject} — {self.brand.name}"

    # --- md -------------------------------------------------------------------------------------------------

    def _md(self) -> bytes:
        blocks = [
            f"# {self.heading}\n\nRun `{self.run.run_id}` · {self.run.module} · {self.run.status} · "
            f"exported {self.stamp:%Y-%m-%d %H:%M %Z}"
        ]
        for deliverable in self.deliverables:
            revision = deliverable.current_revision
            parts = [
                f"## {revision.title or deliverable.title}",
                f"*{_describe(deliverable)}*",
                _demote_headings(revision.content_markdown),
            ]
            if revision.hashtags:
                parts.append(" ".join(revision.hashtags))
            parts += [
                f"![Image for {revision.title or deliverable.kind}]({asset.url})" for asset in deliverable.image_assets
            ]
            blocks.append("\n\n".join(parts))
        return ("\n\n---\n\n".join(blocks) + "\n").encode()

    # --- json -----------------------------------------------------------------------------------------------

    def _json(self) -> bytes:
        envelope = build_envelope(self.run, deliverables=self.deliverables)  # validates it, or raises
        return json.dumps(envelope, indent=2, ensure_ascii=False).encode()

    # --- docx -----------------------------------------------------------------------------------------------

    def _docx(self) -> bytes:
        document = docx.Document()
        document.core_properties.title = self.heading
        document.core_properties.author = "AICMO"
        writer = DocxWriter(document)
        writer.heading(self.heading, level=0)
        writer.paragraph(
            f"Run {self.run.run_id} · {self.run.module} · {self.run.status} · exported {self.stamp:%Y-%m-%d %H:%M %Z}"
        )
        for deliverable in self.deliverables:
            revision = deliverable.current_revision
            writer.heading(revision.title or deliverable.title, level=1)
            writer.paragraph(_describe(deliverable)).runs[0].italic = True
            entries = revision.structured.get("entries") if deliverable.kind == "content_calendar" else None
            if entries:
                writer.table(
                    ["Date", "Platform", "Title", "Copy"],
                    [
                        [e.get("date", ""), _platform_label(e.get("platform")), e.get("title", ""), e.get("text", "")]
                        for e in entries
                    ],
                )
            else:
                writer.markdown(revision.content_markdown, heading_offset=1)
            if revision.hashtags:
                writer.paragraph(" ".join(revision.hashtags))
            for asset in deliverable.image_assets:
                self._add_image(writer, asset)
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()

    @staticmethod
    def _add_image(writer: DocxWriter, asset) -> None:
        try:
            with asset.file.open("rb") as file:
                writer.picture(io.BytesIO(file.read()), width=Inches(4.5))
        except Exception as error:  # a missing or unreadable file must not fail the whole export
            logger.warning("image left out of an export", extra={"asset_id": str(asset.pk), "error": str(error)})
            writer.paragraph(f"(Image {asset.pk} is unavailable.)")

    # --- csv ------------------------------------------------------------------------------------------------

    def _csv(self) -> bytes:
        """One row per social post and per calendar entry, for social schedulers' bulk import."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for deliverable in self.deliverables:
            revision = deliverable.current_revision
            if deliverable.kind == "content_calendar":
                for entry in revision.structured.get("entries") or []:
                    writer.writerow(
                        _csv_safe(
                            {
                                "date": entry.get("date", ""),
                                "platform": entry.get("platform", ""),
                                "title": entry.get("title", ""),
                                "text": entry.get("text", ""),
                                "hashtags": "",
                                "status": deliverable.status,
                                **_written_by(deliverable),
                            }
                        )
                    )
            elif deliverable.platform:
                writer.writerow(
                    _csv_safe(
                        {
                            "date": "",
                            "platform": deliverable.platform,
                            "title": revision.title or deliverable.title,
                            "text": revision.content_markdown,
                            "hashtags": " ".join(revision.hashtags),
                            "status": deliverable.status,
                            **_written_by(deliverable),
                        }
                    )
                )
        return buffer.getvalue().encode()

    # --- zip ------------------------------------------------------------------------------------------------

    def _zip(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for fmt in ("md", "json", "docx", "csv"):
                archive.writestr(self.filename(fmt), self.render(fmt))
            for deliverable in self.deliverables:
                for asset in deliverable.image_assets:
                    try:
                        with asset.file.open("rb") as file:
                            data = file.read()
                    except Exception as error:
                        logger.warning(
                            "image left out of an export", extra={"asset_id": str(asset.pk), "error": str(error)}
                        )
                        continue
                    extension = asset.file.name.rsplit(".", 1)[-1] if "." in asset.file.name else "png"
                    # stored as they are: image formats are compressed already, deflating them again cost
                    # a tenth of a 500-deliverable export and saved 6 % of their size
                    archive.writestr(
                        f"images/{deliverable.position + 1:03d}_{deliverable.kind}_{asset.pk}.{extension}",
                        data,
                        compress_type=zipfile.ZIP_STORED,
                    )
        return buffer.getvalue()


def _describe(deliverable: Deliverable) -> str:
    parts = [deliverable.kind.replace("_", " ")]
    if deliverable.platform:
        parts.append(_platform_label(deliverable.platform))
    parts += [deliverable.status.replace("_", " "), f"version {deliverable.version}"]
    return " · ".join(parts) + f" · written by {provenance_of(deliverable).label}"


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
