"""The branded PPTX deck (python-pptx): a title slide, one slide per deliverable (a social post drawn as a
post card, an ad creative with its image, a document as its text), and the content calendar, in the brand's
colours and font, its logo on the title slide and in every slide's header. Text is set as text runs (never
parsed as markup), so untrusted text stays text."""

import io
import re
from datetime import date
from xml.sax.saxutils import escape

from markdown_it import MarkdownIt
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR
from pptx.oxml import parse_xml
from pptx.oxml.ns import nsdecls
from pptx.util import Emu, Inches, Pt

from .export_pack import BrandLook, CampaignImage, PackDeliverable, image_size, platform_color

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
SLIDE_W, SLIDE_H = Inches(13.333), Inches(7.5)  # 16:9
MAX_BODY_CHARS = 1400  # of a document's text on its slide; the PDF and DOCX carry all of it
MAX_CALENDAR_ROWS = 14  # calendar entries per slide
CREATIVES_PER_SLIDE = 4
FONT_BY_KIND = {"sans": "Calibri", "serif": "Georgia", "mono": "Consolas"}


def _rgb(hex_color: str) -> RGBColor:
    return RGBColor.from_string(hex_color.lstrip("#").upper())


class _Deck:
    def __init__(self, look: BrandLook):
        self.look = look
        # the brand's own family name when it gave one (PowerPoint falls back where it is not installed)
        self.font = look.font_family.split(",")[0].strip().strip("'\"") or FONT_BY_KIND[look.font_kind]
        self.primary, self.secondary = _rgb(look.primary), _rgb(look.secondary)
        self.presentation = Presentation()
        self.presentation.slide_width, self.presentation.slide_height = SLIDE_W, SLIDE_H
        self.blank = self.presentation.slide_layouts[6]
        self.header_logo = _small_logo(look.logo)  # (PNG bytes, width, height) for every slide's header, or None

    def slide(self, title: str | None = None, *, subtitle: str = ""):
        slide = self.presentation.slides.add_slide(self.blank)
        band = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, SLIDE_W, Inches(0.18))
        self._fill(band, self.primary)
        room = 0
        if self.header_logo is not None:  # the brand's logo, top right; the title keeps clear of it
            data, width, height = self.header_logo
            slide.shapes.add_picture(io.BytesIO(data), SLIDE_W - Inches(0.6) - width, Inches(0.4), width, height)
            room = width + Inches(0.3)
        if title is not None:
            self.text(
                slide,
                title,
                Inches(0.6),
                Inches(0.4),
                SLIDE_W - Inches(1.2) - room,
                Inches(0.8),
                size=28,
                bold=True,
                color=self.primary,
            )
        if subtitle:
            self.text(
                slide,
                subtitle,
                Inches(0.6),
                Inches(1.15),
                SLIDE_W - Inches(1.2),
                Inches(0.4),
                size=13,
                color=RGBColor(0x47, 0x55, 0x69),
            )
        footer = f"{self.look.name} · AICMO"
        self.text(
            slide,
            footer,
            Inches(0.6),
            SLIDE_H - Inches(0.45),
            Inches(8),
            Inches(0.3),
            size=10,
            color=RGBColor(0x64, 0x74, 0x8B),
        )
        return slide

    def text(
        self,
        slide,
        text: str,
        left,
        top,
        width,
        height,
        *,
        size: int = 16,
        bold: bool = False,
        color=None,
        paragraphs: list[tuple[str, bool]] | None = None,
    ):
        box = slide.shapes.add_textbox(left, top, width, height)
        frame = box.text_frame
        frame.word_wrap = True
        lines = paragraphs if paragraphs is not None else [(text, bold)]
        # the paragraphs as XML in one go (python-pptx's run and font objects were a third of a deck's time);
        # the same markup `run.text`, `font.size`, `font.bold`, `font.name` and `font.color.rgb` write
        fill = f'<a:solidFill><a:srgbClr val="{color}"/></a:solidFill>' if color is not None else ""
        typeface = escape(self.font, {'"': "&quot;"})
        body = "".join(
            f'<a:p><a:r><a:rPr lang="en-US" sz="{size * 100}" b="{1 if line_bold else 0}">{fill}'
            f'<a:latin typeface="{typeface}"/></a:rPr><a:t>{escape(_XML_UNSAFE.sub("", line))}</a:t></a:r></a:p>'
            for line, line_bold in lines
        )
        txBody = frame._txBody
        for paragraph in txBody.p_lst:
            txBody.remove(paragraph)
        for paragraph in parse_xml(f"<a:txBody {nsdecls('a')}>{body}</a:txBody>"):
            txBody.append(paragraph)
        return box

    @staticmethod
    def _fill(shape, color: RGBColor):
        shape.fill.solid()
        shape.fill.fore_color.rgb = color
        shape.line.fill.background()

    def picture(self, slide, data: bytes, left, top, max_w, max_h) -> bool:
        size = image_size(data)
        if not size or not all(size):
            return False
        scale = min(max_w / size[0], max_h / size[1])
        slide.shapes.add_picture(io.BytesIO(data), left, top, Emu(int(size[0] * scale)), Emu(int(size[1] * scale)))
        return True

    def save(self) -> bytes:
        buffer = io.BytesIO()
        self.presentation.save(buffer)
        return buffer.getvalue()


HEADER_LOGO_W, HEADER_LOGO_H = Inches(1.6), Inches(0.6)


def _small_logo(logo: bytes | None) -> tuple[bytes, int, int] | None:
    """The logo scaled once for slide headers (at most 150 DPI at its shown size), so a 500-slide deck neither
    parses nor stores a large logo 500 times (python-pptx stores one image part for identical bytes)."""
    if not logo:
        return None
    from PIL import Image as PILImage

    try:
        with PILImage.open(io.BytesIO(logo)) as picture:
            width, height = picture.size
            if not width or not height:
                return None
            scale = min(HEADER_LOGO_W / width, HEADER_LOGO_H / height)
            shown = (int(width * scale), int(height * scale))
            pixels = (max(1, round(shown[0] / 914400 * 150)), max(1, round(shown[1] / 914400 * 150)))
            small = picture.convert("RGBA").resize(pixels) if pixels[0] < width else picture.convert("RGBA")
            buffer = io.BytesIO()
            small.save(buffer, format="PNG")
    except Exception:  # not an image Pillow can read: no header logo
        return None
    return buffer.getvalue(), Emu(shown[0]), Emu(shown[1])


def render_pptx(
    *,
    look: BrandLook,
    heading: str,
    subtitle: str,
    items: list[PackDeliverable],
    campaign_images: list[CampaignImage] = (),
) -> bytes:
    deck = _Deck(look)
    _title_slide(deck, heading, subtitle, items)
    for item in items:
        _deliverable_slide(deck, item)
    entries = [(item, entry) for item in items for entry in item.entries]
    if entries:
        _calendar_slides(deck, entries)
    for start in range(0, len(campaign_images), CREATIVES_PER_SLIDE):
        _creatives_slide(deck, campaign_images[start : start + CREATIVES_PER_SLIDE])
    return deck.save()


def _creatives_slide(deck: _Deck, creatives: list[CampaignImage]) -> None:
    """Up to four of the campaign's ad creative images side by side, each with its title."""
    slide = deck.slide("Campaign creatives", subtitle="Images of the ad creatives made for this campaign")
    width = (SLIDE_W - Inches(1.2) - Inches(0.3) * (CREATIVES_PER_SLIDE - 1)) / CREATIVES_PER_SLIDE
    for index, creative in enumerate(creatives):
        left = Inches(0.6) + index * (width + Inches(0.3))
        deck.picture(slide, creative.image.data, left, Inches(1.8), width, Inches(3.6))
        deck.text(slide, creative.caption, left, Inches(5.6), width, Inches(0.9), size=12)


def _title_slide(deck: _Deck, heading: str, subtitle: str, items: list[PackDeliverable]) -> None:
    slide = deck.presentation.slides.add_slide(deck.blank)
    background = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, SLIDE_W, SLIDE_H)
    deck._fill(background, deck.primary)
    accent = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, SLIDE_H - Inches(0.35), SLIDE_W, Inches(0.35))
    deck._fill(accent, deck.secondary)
    white = RGBColor(0xFF, 0xFF, 0xFF)
    if deck.look.logo:
        deck.picture(slide, deck.look.logo, Inches(0.8), Inches(0.7), Inches(2.6), Inches(1.3))
    deck.text(
        slide, heading, Inches(0.8), Inches(2.6), SLIDE_W - Inches(1.6), Inches(1.5), size=40, bold=True, color=white
    )
    approved = sum(1 for item in items if item.status == "approved")
    deck.text(
        slide,
        "",
        Inches(0.8),
        Inches(4.3),
        SLIDE_W - Inches(1.6),
        Inches(1.6),
        size=18,
        color=white,
        paragraphs=[
            (deck.look.name, True),
            (subtitle, False),
            (f"{len(items)} deliverables · {approved} approved", False),
        ],
    )


def _facts(item: PackDeliverable) -> str:
    status = (
        f"approved by {item.approved_by}"
        if item.status == "approved" and item.approved_by
        else item.status.replace("_", " ")
    )
    parts = [item.kind_label]
    if item.platform_label:
        parts.append(item.platform_label)
    parts += [f"written by {item.written_by}", f"{status} · v{item.version}"]
    return " · ".join(parts)


def _deliverable_slide(deck: _Deck, item: PackDeliverable) -> None:
    slide = deck.slide(item.title, subtitle=_facts(item))
    if item.kind == "ad_copy":
        _ad(deck, slide, item)
    elif item.platform:
        _post(deck, slide, item)
    elif item.entries:
        rows = [f"{e['date']} · {e.get('platform', '')} · {e.get('title', '')}" for e in item.entries]
        shown = rows[:MAX_CALENDAR_ROWS] + (
            [f"… and {len(rows) - MAX_CALENDAR_ROWS} more (see the calendar slides)"]
            if len(rows) > MAX_CALENDAR_ROWS
            else []
        )
        deck.text(
            slide,
            "",
            Inches(0.6),
            Inches(1.7),
            SLIDE_W - Inches(1.2),
            Inches(5),
            size=14,
            paragraphs=[(row, False) for row in shown],
        )
    else:
        paragraphs = _plain_paragraphs(item.markdown)
        deck.text(
            slide, "", Inches(0.6), Inches(1.7), SLIDE_W - Inches(1.2), Inches(5.2), size=14, paragraphs=paragraphs
        )


def _post(deck: _Deck, slide, item: PackDeliverable) -> None:
    """The post as its feed shows it: a card with the brand as author, the text, hashtags, image."""
    left, top, width, height = Inches(3.4), Inches(1.75), Inches(6.5), Inches(5.1)
    card = slide.shapes.add_shape(MSO_SHAPE.ROUNDED_RECTANGLE, left, top, width, height)
    card.adjustments[0] = 0.04
    card.fill.solid()
    card.fill.fore_color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
    card.line.color.rgb = _rgb(platform_color(item.platform))
    card.line.width = Pt(1.5)
    avatar = slide.shapes.add_shape(MSO_SHAPE.OVAL, left + Inches(0.25), top + Inches(0.2), Inches(0.5), Inches(0.5))
    deck._fill(avatar, deck.primary)
    deck.text(
        slide,
        "",
        left + Inches(0.85),
        top + Inches(0.15),
        width - Inches(1.1),
        Inches(0.6),
        size=13,
        paragraphs=[(deck.look.name, True), (item.platform_label, False)],
    )
    text_top = top + Inches(0.85)
    image_h = Inches(2.2) if item.images else 0
    body = deck.text(
        slide,
        "",
        left + Inches(0.25),
        text_top,
        width - Inches(0.5),
        height - Inches(1.0) - image_h,
        size=12,
        paragraphs=_plain_paragraphs(item.markdown, limit=900),
    )
    body.text_frame.vertical_anchor = MSO_ANCHOR.TOP
    if item.hashtags:
        paragraph = body.text_frame.add_paragraph()
        run = paragraph.add_run()
        run.text = " ".join(item.hashtags)
        run.font.size, run.font.name = Pt(12), deck.font
        run.font.color.rgb = _rgb(platform_color(item.platform))
    if item.images:
        deck.picture(
            slide,
            item.images[0].data,
            left + Inches(0.25),
            top + height - image_h - Inches(0.15),
            width - Inches(0.5),
            image_h,
        )


def _ad(deck: _Deck, slide, item: PackDeliverable) -> None:
    """An ad creative: its image on the left, headline, primary text and call to action on the right."""
    text_left = Inches(0.6)
    if item.images and deck.picture(slide, item.images[0].data, Inches(0.6), Inches(1.75), Inches(5.2), Inches(5.1)):
        text_left = Inches(6.2)
    fields = item.structured
    width = SLIDE_W - text_left - Inches(0.6)
    deck.text(
        slide,
        str(fields.get("headline") or item.title),
        text_left,
        Inches(1.75),
        width,
        Inches(0.9),
        size=24,
        bold=True,
        color=deck.primary,
    )
    deck.text(slide, str(fields.get("primary_text") or ""), text_left, Inches(2.7), width, Inches(2.8), size=15)
    if fields.get("call_to_action"):
        button = slide.shapes.add_shape(MSO_SHAPE.ROUNDED_RECTANGLE, text_left, Inches(5.7), Inches(3.0), Inches(0.6))
        deck._fill(button, deck.secondary)
        frame = button.text_frame
        run = frame.paragraphs[0].add_run()
        run.text = str(fields["call_to_action"])
        run.font.size, run.font.bold, run.font.name = Pt(16), True, deck.font
        run.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)


def _calendar_slides(deck: _Deck, entries: list[tuple[PackDeliverable, dict]]) -> None:
    entries = sorted(entries, key=lambda pair: (pair[1]["date"], pair[1].get("platform", "")))
    pages = [entries[i : i + MAX_CALENDAR_ROWS] for i in range(0, len(entries), MAX_CALENDAR_ROWS)]
    white = "FFFFFF"
    for number, page in enumerate(pages, 1):
        first, last = date.fromisoformat(page[0][1]["date"]), date.fromisoformat(page[-1][1]["date"])
        title = "Content calendar" + (f" ({number}/{len(pages)})" if len(pages) > 1 else "")
        slide = deck.slide(title, subtitle=f"{first:%d %b %Y} – {last:%d %b %Y}")
        shape = slide.shapes.add_table(1, 4, Inches(0.6), Inches(1.7), SLIDE_W - Inches(1.2), Inches(0.3))
        table = shape.table
        for column, width in enumerate((1.6, 1.6, 3.4, 5.5)):
            table.columns[column].width = Inches(width)
        rows = [[("Date", white), ("Platform", white), ("Title", white), ("Copy", white)]]
        for _item, entry in page:
            day = date.fromisoformat(entry["date"])
            rows.append(
                [
                    (f"{day:%a %d %b}", None),
                    (str(entry.get("platform", "")), platform_color(entry.get("platform")).lstrip("#").upper()),
                    (str(entry.get("title", "")), None),
                    (str(entry.get("text", ""))[:140], None),
                ]
            )
        _fill_table(table, rows, font=deck.font, header_fill=deck.look.primary.lstrip("#").upper())


_XML_UNSAFE = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _fill_table(table, rows: list[list[tuple[str, str | None]]], *, font: str, header_fill: str) -> None:
    """Replace the table's rows with `rows` of (text, colour or None); the first row is the header, bold on
    `header_fill`. Written as XML in one go: python-pptx's cell, run and font objects cost a quarter of a
    second per calendar slide."""
    tbl = table._tbl
    for tr in tbl.tr_lst:
        tbl.remove(tr)
    typeface = escape(font, {'"': "&quot;"})
    parts = []
    for index, row in enumerate(rows):
        cells = []
        for text, color in row:
            fill = f'<a:solidFill><a:srgbClr val="{color}"/></a:solidFill>' if color else ""
            bold = ' b="1"' if index == 0 else ""
            cell_fill = f'<a:solidFill><a:srgbClr val="{header_fill}"/></a:solidFill>' if index == 0 else ""
            cells.append(
                f'<a:tc><a:txBody><a:bodyPr/><a:lstStyle/><a:p><a:r><a:rPr lang="en-US" sz="1100"{bold}>{fill}'
                f'<a:latin typeface="{typeface}"/></a:rPr><a:t>{escape(_XML_UNSAFE.sub("", text))}</a:t></a:r>'
                f"</a:p></a:txBody><a:tcPr>{cell_fill}</a:tcPr></a:tc>"
            )
        parts.append(f'<a:tr h="{Inches(0.3)}">{"".join(cells)}</a:tr>')
    fragment = parse_xml(f"<a:tbl {nsdecls('a')}>{''.join(parts)}</a:tbl>")
    for tr in list(fragment):
        tbl.append(tr)


def _plain_paragraphs(markdown: str, *, limit: int = MAX_BODY_CHARS) -> list[tuple[str, bool]]:
    """Markdown as slide paragraphs: headings bold, list items with a bullet, the rest as text; cut at
    `limit` characters with an ellipsis."""
    tokens = _MARKDOWN.parse(markdown or "")
    paragraphs: list[tuple[str, bool]] = []
    depth, used = 0, 0
    row: list[str] | None = None  # the cells of the table row being read
    for index, token in enumerate(tokens):
        if token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            paragraphs.append((" · ".join(row), False))
            row = None
        elif token.type == "inline" and row is not None:
            row.append(token.content)
        elif token.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif token.type == "inline":
            parent = tokens[index - 1].type if index else ""
            text = token.content.replace("**", "").replace("__", "")
            if parent == "heading_open":
                paragraphs.append((text, True))
            else:
                paragraphs.append((("  " * (depth - 1) + "• " if depth else "") + text, False))
            used += len(text)
            if used > limit:
                paragraphs.append(("…", False))
                break
        elif token.type in ("fence", "code_block"):
            paragraphs.append((token.content.rstrip(), False))
    return paragraphs or [("", False)]
