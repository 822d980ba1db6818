"""The branded PDF report, built natively with reportlab (platypus): a cover in the brand's colours with its
logo, a table of contents, one section per deliverable (rendered Markdown, tables, images, platform,
provider and model, status and approver), the content calendar as month grids, a footer on every page.

reportlab rather than an HTML-to-PDF engine: it installs from PyPI as wheels with no system libraries
(WeasyPrint needs Pango from the OS), and nothing is fetched from the network. The brand kit's font family is
used when a TrueType font of that family is installed on the machine (FONT_DIRS, e.g. Debian's fonts-dejavu and
fonts-liberation; Arial, Helvetica, Times New Roman and Courier New map to their metric-compatible Liberation
families); otherwise the report falls back to a family of the same kind that reportlab ships (Bitstream Vera for
sans, the PDF core Times and Courier for serif and mono). Markdown is parsed with
markdown-it (raw HTML off) and every piece of text is escaped before it reaches reportlab's paragraph markup,
so untrusted text cannot inject markup."""

import calendar
import functools
import io
import itertools
import logging
import tempfile
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import reportlab
from markdown_it import MarkdownIt
from markdown_it.token import Token
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    FrameBreak,
    Image,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
    XPreformatted,
)

from .export_pack import BrandLook, CampaignImage, PackDeliverable, platform_color, platform_label
from .markdown_tokens import table_rows

logger = logging.getLogger(__name__)
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
PAGE_W, PAGE_H = A4
MARGIN = 18 * mm
CONTENT_W = PAGE_W - 2 * MARGIN
MAX_IMAGE_H = 110 * mm
MAX_LIST_DEPTH = 4
CREATIVES_TITLE = "Campaign creatives"
CELL_PADDING = 6  # reportlab's default left + right padding of a table cell, each
TABLE_FONT_SIZE = 8
GRID_FONT_SIZE = 7
IMAGE_DPI = 150  # images are embedded at this resolution at most
COVER_SPLIT = 0.45  # the brand-coloured part of the cover starts this high up the page


def _register_fonts() -> dict[str, tuple[str, str, str, str]]:
    """Font families by kind: (regular, bold, italic, bold italic). Vera ships inside reportlab."""
    folder = Path(reportlab.__file__).parent / "fonts"
    for name, file in (("Vera", "Vera.ttf"), ("Vera-Bold", "VeraBd.ttf"), ("Vera-Italic", "VeraIt.ttf")):
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(folder / file)))
    if "Vera-BoldItalic" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("Vera-BoldItalic", str(folder / "VeraBI.ttf")))
        pdfmetrics.registerFontFamily(
            "Vera", normal="Vera", bold="Vera-Bold", italic="Vera-Italic", boldItalic="Vera-BoldItalic"
        )
    return {
        "sans": ("Vera", "Vera-Bold", "Vera-Italic", "Vera-BoldItalic"),
        "serif": ("Times-Roman", "Times-Bold", "Times-Italic", "Times-BoldItalic"),
        "mono": ("Courier", "Courier-Bold", "Courier-Oblique", "Courier-BoldOblique"),
    }


FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
GENERIC_FAMILIES = {"serif", "sans-serif", "sans", "monospace", "mono", "system-ui", "ui-sans-serif", "cursive"}
FONT_ALIASES = {  # families a brand kit often names, and the installed family that has the same metrics
    "arial": "liberation sans",
    "helvetica": "liberation sans",
    "helvetica neue": "liberation sans",
    "times new roman": "liberation serif",
    "times": "liberation serif",
    "courier new": "liberation mono",
    "courier": "liberation mono",
}
_FACES = (  # file-name endings of (regular, bold, italic, bold italic), as font packages name them
    ("", "-regular", "-book", "-roman"),
    ("-bold",),
    ("-italic", "-oblique"),
    ("-bolditalic", "-boldoblique"),
)


@functools.cache
def _installed_fonts() -> dict[str, Path]:
    """Every TrueType file under FONT_DIRS by its lower-case file stem ("liberationserif-bold"); read once."""
    found: dict[str, Path] = {}
    for folder in FONT_DIRS:
        if folder.is_dir():
            for path in sorted(folder.rglob("*.ttf")):
                found.setdefault(path.stem.lower(), path)
    return found


@functools.cache
def brand_font(font_family: str) -> tuple[str, tuple[str, str, str, str]] | None:
    """The first family of the brand kit's list ("Liberation Serif, Georgia, serif") installed as TrueType,
    registered with reportlab: (its name, its four face names); None when none is (the caller falls back)."""
    files = _installed_fonts()
    for wanted in font_family.split(","):
        family = " ".join(wanted.strip().strip("'\"").lower().split())
        if not family or family in GENERIC_FAMILIES:
            continue
        family = FONT_ALIASES.get(family, family)
        compact = family.replace(" ", "")
        faces = [next((files[compact + end] for end in ends if compact + end in files), None) for ends in _FACES]
        if faces[0] is None:
            continue
        name = "Brand-" + compact
        names = (name, f"{name}-Bold", f"{name}-Italic", f"{name}-BoldItalic")
        try:
            for face_name, path in zip(names, faces, strict=True):
                if face_name not in pdfmetrics.getRegisteredFontNames():
                    pdfmetrics.registerFont(TTFont(face_name, str(path or faces[0])))
        except Exception as error:  # an unreadable font file: try the next family, else fall back
            logger.warning("brand font not usable", extra={"family": family, "error": str(error)})
            continue
        pdfmetrics.registerFontFamily(name, normal=names[0], bold=names[1], italic=names[2], boldItalic=names[3])
        return family, names
    return None


class _Styles:
    def __init__(self, look: BrandLook):
        found = brand_font(look.font_family)
        fonts = found[1] if found else _register_fonts()[look.font_kind]
        self.font_used = found[0] if found else fonts[0]
        self.regular, self.bold, self.italic = fonts[0], fonts[1], fonts[2]
        self.primary = colors.HexColor(look.primary)
        self.secondary = colors.HexColor(look.secondary)
        self.body = ParagraphStyle("body", fontName=self.regular, fontSize=10, leading=14, spaceAfter=5)
        self.small = ParagraphStyle("small", parent=self.body, fontSize=8, leading=10, spaceAfter=0)
        self.meta = ParagraphStyle(
            "meta", parent=self.body, fontSize=8.5, leading=11, textColor=colors.HexColor("#475569")
        )
        self.facts = ParagraphStyle(
            "facts",
            parent=self.meta,
            backColor=colors.HexColor("#f1f5f9"),
            borderColor=self.secondary,
            borderWidth=0,
            borderPadding=(3, 4, 3, 6),
            leftIndent=6,
            spaceBefore=2,
            spaceAfter=4,
        )
        self.quote = ParagraphStyle(
            "quote", parent=self.body, leftIndent=12, textColor=colors.HexColor("#475569"), fontName=self.italic
        )
        self.code = ParagraphStyle("code", parent=self.body, fontName="Courier", fontSize=8.5, leading=11, leftIndent=6)
        self.h1 = ParagraphStyle(
            "h1", parent=self.body, fontName=self.bold, fontSize=17, leading=21, textColor=self.primary, spaceAfter=4
        )
        self.h2 = ParagraphStyle("h2", parent=self.body, fontName=self.bold, fontSize=13, leading=17, spaceBefore=6)
        self.h3 = ParagraphStyle("h3", parent=self.body, fontName=self.bold, fontSize=11, leading=15, spaceBefore=4)
        self.cover_title = ParagraphStyle(
            "cover_title", parent=self.body, fontName=self.bold, fontSize=28, leading=34, textColor=colors.white
        )
        self.cover_sub = ParagraphStyle(
            "cover_sub", parent=self.body, fontSize=13, leading=18, textColor=colors.white, spaceAfter=2
        )
        self.day = ParagraphStyle("day", parent=self.small, fontName=self.bold, fontSize=7.5)
        self.day_head = ParagraphStyle("dayhead", parent=self.small, fontName=self.bold, alignment=TA_CENTER)

    def heading(self, level: int) -> ParagraphStyle:
        return self.h2 if level <= 1 else self.h3


class _Report(BaseDocTemplate):
    """Lays the report out in one pass. Each deliverable heading, as it lands on a page, gets a bookmark, an
    outline entry and the page number its contents line shows (see `_ContentsLine`)."""

    def afterFlowable(self, flowable):
        key = getattr(flowable, "toc_key", None)
        if key:
            title = flowable.getPlainText()
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(title, key, level=0)
            # the contents line drew this form pages ago; it is defined now that the page is known
            self.canv.beginForm(f"page-{key}", lowerx=-60, lowery=-4, upperx=2, uppery=12)
            self.canv.setFont(self._contents_font, 10)
            self.canv.drawRightString(0, 0, str(self.page))
            self.canv.endForm()


class _ContentsLine(Flowable):
    """One line of the contents: number and title, dot leaders, and the page number, which is a form XObject
    drawn here and defined when the heading is laid out. One layout pass instead of reportlab's
    TableOfContents, which lays the whole document out until the page numbers settle (three passes here)."""

    HEIGHT = 15

    def __init__(self, key: str, text: str, font: str):
        super().__init__()
        self.key, self.text, self.font = key, text, font

    def wrap(self, available_width, available_height):
        self.width = available_width
        return available_width, self.HEIGHT

    def draw(self):
        canvas = self.canv
        room = self.width - 40
        text = self.text
        if stringWidth(text, self.font, 10) > room:  # one line each: a long title is cut with an ellipsis
            while text and stringWidth(text + "…", self.font, 10) > room:
                text = text[:-1]
            text = text.rstrip() + "…"
        canvas.setFont(self.font, 10)
        canvas.drawString(8, 3, text)
        start = 8 + stringWidth(text, self.font, 10) + 6
        canvas.setFillColor(colors.HexColor("#94a3b8"))
        dots = int(max(0, self.width - 34 - start) / stringWidth(" .", self.font, 10))
        canvas.drawRightString(self.width - 28, 3, " ." * dots)
        canvas.saveState()
        canvas.setFillColor(colors.black)
        canvas.translate(self.width, 3)
        canvas.doForm(f"page-{self.key}")
        canvas.restoreState()
        canvas.linkRect("", self.key, (0, 0, self.width, self.HEIGHT), relative=1, thickness=0)


def render_pdf(
    *,
    look: BrandLook,
    heading: str,
    subtitle: str,
    footer: str,
    items: list[PackDeliverable],
    campaign_images: list[CampaignImage] = (),
) -> bytes:
    with tempfile.TemporaryDirectory(prefix="aicmo-pdf-") as folder:
        styles = _Styles(look)
        styles.image_folder, styles.image_numbers = Path(folder), itertools.count(1)
        return _render(styles, look, heading, subtitle, footer, items, campaign_images)


def _render(styles, look, heading, subtitle, footer, items, campaign_images) -> bytes:
    buffer = io.BytesIO()
    document = _Report(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 6 * mm,
        title=heading,
        author=look.name,
        creator="AICMO",
    )
    frame = Frame(MARGIN, MARGIN + 6 * mm, CONTENT_W, PAGE_H - 2 * MARGIN - 6 * mm, id="body")
    # the cover: title and logo on the brand colour (the top 55 % of the page), the summary below it
    split = PAGE_H * COVER_SPLIT
    cover_frames = [
        Frame(MARGIN, split + 8 * mm, CONTENT_W, PAGE_H - split - 8 * mm - MARGIN, id="cover-top"),
        Frame(MARGIN, MARGIN + 6 * mm, CONTENT_W, split - 12 * mm - MARGIN - 6 * mm, id="cover-bottom"),
    ]

    header_logo = _header_logo(styles, look.logo)

    def decorate(canvas, doc, *, cover: bool):
        canvas.saveState()
        if cover:
            canvas.setFillColor(styles.primary)
            canvas.rect(0, PAGE_H * COVER_SPLIT, PAGE_W, PAGE_H * (1 - COVER_SPLIT), stroke=0, fill=1)
            canvas.setFillColor(styles.secondary)
            canvas.rect(0, PAGE_H * COVER_SPLIT - 4 * mm, PAGE_W, 4 * mm, stroke=0, fill=1)
        else:
            canvas.setFillColor(styles.primary)
            canvas.rect(0, PAGE_H - 6 * mm, PAGE_W, 6 * mm, stroke=0, fill=1)
            if header_logo is not None:  # the brand's logo in the header, right-aligned under the band
                path, width, height = header_logo
                canvas.drawImage(path, PAGE_W - MARGIN - width, PAGE_H - 8 * mm - height, width, height, mask="auto")
        canvas.setStrokeColor(styles.secondary)
        canvas.setLineWidth(0.6)
        canvas.line(MARGIN, MARGIN + 2 * mm, PAGE_W - MARGIN, MARGIN + 2 * mm)
        canvas.setFont(styles.regular, 7.5)
        canvas.setFillColor(colors.HexColor("#475569"))
        canvas.drawString(MARGIN, MARGIN - 2 * mm, footer[:140])
        canvas.drawRightString(PAGE_W - MARGIN, MARGIN - 2 * mm, f"Page {doc.page}")
        canvas.restoreState()

    document.addPageTemplates(
        [
            PageTemplate(id="cover", frames=cover_frames, onPage=lambda c, d: decorate(c, d, cover=True)),
            PageTemplate(id="body", frames=[frame], onPage=lambda c, d: decorate(c, d, cover=False)),
        ]
    )
    document._contents_font = styles.regular
    story = _cover(styles, look, heading, subtitle, items)
    story += [NextPageTemplate("body"), PageBreak(), Paragraph("Contents", styles.h1)]
    story += [_ContentsLine(f"d{n}", f"{n}. {item.title}", styles.regular) for n, item in enumerate(items, 1)]
    if campaign_images:
        story.append(_ContentsLine("creatives", f"{len(items) + 1}. {CREATIVES_TITLE}", styles.regular))
    story.append(PageBreak())
    for number, item in enumerate(items, 1):
        story += _section(styles, number, item)
    if campaign_images:
        story += _creatives(styles, len(items) + 1, campaign_images)
    document.build(story)
    return buffer.getvalue()


HEADER_LOGO_W, HEADER_LOGO_H = 32 * mm, 8 * mm


def _header_logo(styles: _Styles, logo: bytes | None) -> tuple[str, float, float] | None:
    """The logo for every page's header, scaled once to at most IMAGE_DPI at its shown size and stored as one
    PNG file (reportlab embeds a file drawn on many pages once): (path, width, height) in points."""
    if not logo:
        return None
    from PIL import Image as PILImage

    try:
        with PILImage.open(io.BytesIO(logo)) as picture:
            width, height = picture.size
            if not width or not height:
                return None
            scale = min(HEADER_LOGO_W / width, HEADER_LOGO_H / height)
            shown = (width * scale, height * scale)
            pixels = (max(1, round(shown[0] / 72 * IMAGE_DPI)), max(1, round(shown[1] / 72 * IMAGE_DPI)))
            small = picture.convert("RGBA").resize(pixels) if pixels[0] < width else picture.convert("RGBA")
            path = styles.image_folder / "header-logo.png"
            small.save(path, format="PNG")
    except Exception:  # not an image Pillow can read: no header logo
        return None
    return str(path), shown[0], shown[1]


def _cover(styles: _Styles, look: BrandLook, heading: str, subtitle: str, items: list[PackDeliverable]) -> list:
    story: list = [Spacer(1, 12 * mm)]
    if look.logo:
        logo = _image(styles, look.logo, max_w=55 * mm, max_h=30 * mm, keep_alpha=True)
        if logo is not None:
            logo.hAlign = "LEFT"
            story += [logo, Spacer(1, 8 * mm)]
    story += [
        Paragraph(escape(heading), styles.cover_title),
        Spacer(1, 4 * mm),
        Paragraph(escape(look.name), styles.cover_sub),
        Paragraph(escape(subtitle), styles.cover_sub),
        FrameBreak(),
        Spacer(1, 6 * mm),
    ]
    approved = sum(1 for item in items if item.status == "approved")
    summary = [
        ["Deliverables", str(len(items))],
        ["Approved", f"{approved} of {len(items)}"],
        ["Kinds", ", ".join(sorted({item.kind_label for item in items}))],
    ]
    table = Table(
        [[Paragraph(escape(a), styles.meta), Paragraph(escape(b), styles.body)] for a, b in summary],
        colWidths=[35 * mm, CONTENT_W - 35 * mm],
    )
    table.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -2), 0.3, colors.lightgrey)])
    )
    story.append(table)
    return story


def _section(styles: _Styles, number: int, item: PackDeliverable) -> list:
    title = Paragraph(f"{number}. {escape(item.title)}", styles.h1)
    title.toc_key = f"d{number}"
    approval = (
        f"approved by {item.approved_by or 'unknown'}"
        + (f" on {item.approved_at:%Y-%m-%d}" if item.approved_at else "")
        if item.status == "approved"
        else item.status.replace("_", " ")
    )
    facts = [
        ("Kind", item.kind_label),
        ("Platform", item.platform_label or "—"),
        ("Written by", item.written_by),
        ("Status", f"{approval} · version {item.version}"),
    ]
    # one paragraph, not a table of paragraphs: a table's cells are measured again and again
    meta = Paragraph("<br/>".join(f"<b>{escape(k)}</b>  {escape(v)}" for k, v in facts), styles.facts)
    story: list = [CondPageBreak(60 * mm), KeepTogether([title, meta]), Spacer(1, 4 * mm)]
    entries = item.entries
    if entries:
        story += _calendar(styles, entries)
    else:
        story += _markdown(styles, item.markdown)
    if item.hashtags:
        story.append(
            Paragraph(
                escape(" ".join(item.hashtags)), ParagraphStyle("tags", parent=styles.body, textColor=styles.primary)
            )
        )
    for image in item.images:
        flowable = _image(styles, image.data, max_w=CONTENT_W * 0.8, max_h=MAX_IMAGE_H)
        story.append(flowable if flowable is not None else Paragraph("(An image could not be read.)", styles.meta))
        story.append(Spacer(1, 3 * mm))
    story.append(Spacer(1, 6 * mm))
    return story


def _creatives(styles: _Styles, number: int, creatives: list[CampaignImage]) -> list:
    title = Paragraph(f"{number}. {CREATIVES_TITLE}", styles.h1)
    title.toc_key = "creatives"
    story: list = [
        CondPageBreak(80 * mm),
        title,
        Paragraph("Images of the ad creatives made for this campaign.", styles.meta),
    ]
    for creative in creatives:
        flowable = _image(styles, creative.image.data, max_w=CONTENT_W * 0.6, max_h=80 * mm)
        if flowable is not None:
            story.append(KeepTogether([Paragraph(escape(creative.caption), styles.h3), flowable, Spacer(1, 4 * mm)]))
    return story


def _image(styles: "_Styles", data: bytes, *, max_w: float, max_h: float, keep_alpha: bool = False) -> Image | None:
    """The image scaled to fit, as a file in the render's folder. Unless it must keep its transparency (a
    logo), it is stored as JPEG, reduced by a whole factor when it has twice the pixels IMAGE_DPI needs.

    A file, not bytes: reportlab decodes an in-memory image to raw RGB to name it (and keeps the pixels until
    the document is saved: about 3 MiB per image, half a GiB for a 500-deliverable report), while a JPEG file is
    named by its path and copied into the PDF as it is."""
    from PIL import Image as PILImage

    try:
        with PILImage.open(io.BytesIO(data)) as picture:
            width, height = picture.size
            if not width or not height:
                return None
            scale = min(max_w / width, max_h / height)
            shown = (width * scale, height * scale)
            path = styles.image_folder / f"{next(styles.image_numbers)}"
            if keep_alpha:
                path = path.with_suffix(".png")
                picture.save(path, format="PNG")
            elif picture.format == "JPEG" and width < 2 * shown[0] / 72 * IMAGE_DPI:
                path = path.with_suffix(".jpg")
                path.write_bytes(data)
            else:
                picture = picture.convert("RGB") if picture.mode != "RGB" else picture
                factor = int(width // max(shown[0] / 72 * IMAGE_DPI, 1))
                if factor >= 2:  # a box reduction by a whole factor (resampling to the exact size cost more)
                    picture = picture.reduce(factor)
                path = path.with_suffix(".jpg")
                picture.save(path, format="JPEG", quality=85)
    except Exception:  # not an image Pillow can read: the section says so instead
        return None
    return Image(str(path), width=shown[0], height=shown[1])


# --- the content calendar ------------------------------------------------------------------------------------


def _calendar(styles: _Styles, entries: list[dict]) -> list:
    """A month grid (Monday first) per month the entries span, then the entries in full. Cells hold plain text
    wrapped here (a Paragraph per cell made the calendar the slowest part of a report)."""
    by_day: dict[date, list[dict]] = {}
    for entry in entries:
        by_day.setdefault(date.fromisoformat(entry["date"]), []).append(entry)
    months = sorted({(day.year, day.month) for day in by_day})
    story: list = []
    column = CONTENT_W / 7
    text_width = column - 2 * CELL_PADDING
    for year, month in months:
        rows: list[list[str]] = [["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]]
        marks: list[tuple] = []  # (column, row, colour) of cells that hold entries
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            row = []
            for day in week:
                if day.month != month:
                    row.append("")
                    continue
                lines = [str(day.day)]
                for entry in by_day.get(day, []):
                    title = f"• {entry.get('title', '')}"
                    lines += simpleSplit(title, styles.regular, GRID_FONT_SIZE, text_width)[:3]
                if len(lines) > 1:
                    marks.append((len(row), len(rows), platform_color(by_day[day][0].get("platform"))))
                row.append("\n".join(lines))
            rows.append(row)
        commands = [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#cbd5e1")),
            ("BACKGROUND", (0, 0), (-1, 0), styles.primary),
            ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
            ("FONT", (0, 0), (-1, 0), styles.bold, GRID_FONT_SIZE + 0.5),
            ("ALIGN", (0, 0), (-1, 0), "CENTER"),
            ("FONT", (0, 1), (-1, -1), styles.regular, GRID_FONT_SIZE, GRID_FONT_SIZE + 2),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 1), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 1), (-1, -1), 8),
        ]
        # a cell with posts gets its first platform's colour as a left rule
        commands += [("LINEBEFORE", (c, r), (c, r), 2, colors.HexColor(color)) for c, r, color in marks]
        grid = Table(rows, colWidths=[column] * 7, style=TableStyle(commands))
        story += [Paragraph(escape(f"{calendar.month_name[month]} {year}"), styles.h2), grid, Spacer(1, 4 * mm)]
    rows = [["Date", "Platform", "Title", "Copy"]] + [
        [e["date"], platform_label(e.get("platform")), str(e.get("title", "")), str(e.get("text", ""))] for e in entries
    ]
    story += [Paragraph("Entries", styles.h2), _table(styles, rows, widths=[0.14, 0.14, 0.24, 0.48])]
    return story


def _table(styles: _Styles, rows: list[list[str]], *, widths: list[float] | None = None) -> Table:
    """A table of plain text, each cell wrapped to its column here; the header row in the brand colour."""
    count = max(len(row) for row in rows)
    rows = [row + [""] * (count - len(row)) for row in rows]
    column_widths = [CONTENT_W * f for f in (widths or [1 / count] * count)]
    data = [
        [
            "\n".join(
                simpleSplit(cell, styles.bold if r == 0 else styles.regular, TABLE_FONT_SIZE, w - 2 * CELL_PADDING)
            )
            for cell, w in zip(row, column_widths, strict=True)
        ]
        for r, row in enumerate(rows)
    ]
    return Table(
        data,
        colWidths=column_widths,
        repeatRows=1,
        style=TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#cbd5e1")),
                ("BACKGROUND", (0, 0), (-1, 0), styles.primary),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("FONT", (0, 0), (-1, 0), styles.bold, TABLE_FONT_SIZE, TABLE_FONT_SIZE + 2),
                ("FONT", (0, 1), (-1, -1), styles.regular, TABLE_FONT_SIZE, TABLE_FONT_SIZE + 2),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f8fafc")]),
            ]
        ),
    )


# --- Markdown ------------------------------------------------------------------------------------------------


def _markdown(styles: _Styles, text: str) -> list:
    tokens = _MARKDOWN.parse(text or "")
    story: list = []
    lists: list[list] = []  # per open list: [kind, next number, whether the open item has its bullet yet]
    quote = 0
    i = 0
    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if kind == "heading_open":
            story.append(Paragraph(_inline(tokens[i + 1], styles), styles.heading(int(token.tag[1:]))))
            i += 3
            continue
        if kind == "bullet_list_open":
            lists.append(["bullet", 0, False])
        elif kind == "ordered_list_open":
            lists.append(["number", int(token.attrs.get("start") or 1), False])
        elif kind == "list_item_open" and lists:
            lists[-1][2] = False
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "blockquote_open":
            quote += 1
        elif kind == "blockquote_close":
            quote -= 1
        elif kind == "paragraph_open":
            markup = _inline(tokens[i + 1], styles)
            if lists:
                depth = min(len(lists), MAX_LIST_DEPTH)
                style = ParagraphStyle(
                    f"li{depth}",
                    parent=styles.body,
                    leftIndent=12 * depth + 4,
                    bulletIndent=12 * depth - 8,
                    spaceAfter=2,
                )
                current = lists[-1]
                if current[2]:  # a second paragraph of the same item: no second bullet
                    bullet = None
                elif current[0] == "number":
                    bullet = f"{current[1]}."
                    current[1] += 1
                else:
                    bullet = "•"
                current[2] = True
                story.append(Paragraph(markup, style, bulletText=bullet))
            else:
                story.append(Paragraph(markup, styles.quote if quote else styles.body))
            i += 3
            continue
        elif kind in ("fence", "code_block"):
            story.append(XPreformatted(escape(token.content.rstrip("\n")), styles.code))
        elif kind == "table_open":
            i = _markdown_table(styles, tokens, i, story)
            continue
        elif kind == "hr":
            story.append(Spacer(1, 4 * mm))
        i += 1
    return story


def _markdown_table(styles: _Styles, tokens: list[Token], start: int, story: list) -> int:
    rows, after = table_rows(tokens, start)
    if rows:
        story.append(_table(styles, rows))
        story.append(Spacer(1, 3 * mm))
    return after


def _inline(inline: Token, styles: _Styles) -> str:
    """reportlab paragraph markup for an inline token: text escaped, emphasis as tags, links as text + URL."""
    parts: list[str] = []
    link = None
    for child in inline.children or []:
        kind = child.type
        if kind == "strong_open":
            parts.append("<b>")
        elif kind == "strong_close":
            parts.append("</b>")
        elif kind == "em_open":
            parts.append("<i>")
        elif kind == "em_close":
            parts.append("</i>")
        elif kind == "s_open":
            parts.append("<strike>")
        elif kind == "s_close":
            parts.append("</strike>")
        elif kind == "link_open":
            link = str(child.attrs.get("href") or "")
        elif kind == "link_close":
            if link:
                parts.append(f" ({escape(link)})")
            link = None
        elif kind == "softbreak":
            parts.append(" ")
        elif kind == "hardbreak":
            parts.append("<br/>")
        elif kind == "code_inline":
            parts.append(f'<font name="Courier">{escape(child.content)}</font>')
        elif kind in ("text", "html_inline", "image"):
            parts.append(escape(child.content))
    return "".join(parts)
