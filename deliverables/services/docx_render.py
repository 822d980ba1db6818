"""Markdown into a python-docx Document: headings, paragraphs with bold / italic / code, bullet and numbered
lists (each numbered list restarts at 1), tables, quotes and code blocks. Raw HTML is not rendered (it stays
text), so untrusted text cannot smuggle anything into the file.

Everything goes through one `DocxWriter` per document. python-docx resolves a style by name each time one is
assigned and then scans all the template's styles to tell whether it is the default one (whose id is left
out); at hundreds of deliverables that was half of an export. The writer asks python-docx once per style and
sets the id it answered on each new paragraph or table, so the XML is the one python-docx would write."""

from typing import IO

from docx.document import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.shape import CT_Inline
from docx.shared import Length, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph
from markdown_it import MarkdownIt
from markdown_it.token import Token

from .markdown_tokens import plain_text, table_rows

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
MAX_HEADING_LEVEL = 9
MAX_LIST_DEPTH = 3  # the default template has List Bullet / List Number 1–3
TABLE_STYLE = "Table Grid"


class DocxWriter:
    """Appends headings, paragraphs, Markdown and tables to `document`, resolving each style once."""

    def __init__(self, document: Document):
        self.document = document
        self._style_ids: dict[tuple[str, WD_STYLE_TYPE], str | None] = {}
        self._next_shape_id: int | None = None

    def heading(self, text: str, *, level: int) -> Paragraph:
        """As `Document.add_heading`: level 0 is the Title style, 1–9 Heading n."""
        if not 0 <= level <= MAX_HEADING_LEVEL:
            raise ValueError(f"level must be in range 0-{MAX_HEADING_LEVEL}, got {level}")
        return self.paragraph(text, style="Title" if level == 0 else f"Heading {level}")

    def paragraph(self, text: str = "", *, style: str | None = None) -> Paragraph:
        """As `Document.add_paragraph(text, style)`."""
        paragraph = self.document.add_paragraph(text)
        if style is not None:  # what `paragraph.style = style` sets (an empty pPr for the default style)
            paragraph._p.style = self._style_id(style, WD_STYLE_TYPE.PARAGRAPH)
        return paragraph

    def table(self, header: list[str], rows: list[list[str]]) -> Table:
        """A "Table Grid" table: `header` in bold, then `rows` (a shorter row leaves its last cells empty)."""
        table = self.document.add_table(rows=1 + len(rows), cols=len(header))
        table._tbl.tblStyle_val = self._style_id(TABLE_STYLE, WD_STYLE_TYPE.TABLE)  # as `table.style = ...`
        # python-docx builds a row's cell list on each `.cells` and the row list on each `.rows`: read them once
        cells = [row.cells for row in table.rows]
        for cell, text in zip(cells[0], header, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(text).bold = True
        for row_cells, row in zip(cells[1:], rows, strict=True):
            for cell, text in zip(row_cells, row, strict=False):
                # a new cell holds one empty paragraph: the run goes into it (the XML `cell.text = text`
                # writes, without removing the paragraph and making another)
                cell.paragraphs[0].add_run(text)
        return table

    def picture(self, image: IO[bytes], *, width: Length) -> None:
        """As `Document.add_picture(image, width=width)`. python-docx numbers each new picture by reading every
        id attribute of the document; the writer reads them once and counts on from there, so every picture
        of the document must be added through it."""
        run = self.paragraph().add_run()
        part = self.document.part
        rel_id, picture = part.get_or_add_image(image)
        cx, cy = picture.scaled_dimensions(width, None)
        if self._next_shape_id is None:
            self._next_shape_id = part.next_id
        run._r.add_drawing(CT_Inline.new_pic_inline(self._next_shape_id, rel_id, picture.filename, cx, cy))
        self._next_shape_id += 1

    def markdown(self, text: str, *, heading_offset: int = 0) -> None:
        """Append `text`; Markdown heading level n becomes Word heading n + heading_offset."""
        tokens = _MARKDOWN.parse(text or "")
        lists: list[str] = []  # "bullet" / "number", innermost last
        quote_depth = 0
        restart_numbering = False
        i = 0
        while i < len(tokens):
            token = tokens[i]
            kind = token.type
            if kind == "heading_open":
                level = min(int(token.tag[1:]) + heading_offset, MAX_HEADING_LEVEL)
                self.heading(plain_text(tokens[i + 1]), level=level)
                i += 3
                continue
            if kind in ("bullet_list_open", "ordered_list_open"):
                lists.append("bullet" if kind == "bullet_list_open" else "number")
                restart_numbering = kind == "ordered_list_open"
            elif kind in ("bullet_list_close", "ordered_list_close"):
                lists.pop()
            elif kind == "blockquote_open":
                quote_depth += 1
            elif kind == "blockquote_close":
                quote_depth -= 1
            elif kind == "paragraph_open":
                paragraph = self.paragraph(style=_paragraph_style(lists, quote_depth))
                if restart_numbering and lists and lists[-1] == "number":
                    _restart_numbering(self.document, paragraph, ilvl=min(len(lists), MAX_LIST_DEPTH) - 1)
                    restart_numbering = False
                _add_inline(paragraph, tokens[i + 1])
                i += 3
                continue
            elif kind in ("fence", "code_block"):
                run = self.paragraph().add_run(token.content.rstrip("\n"))
                run.font.name = "Courier New"
                run.font.size = Pt(9)
            elif kind == "table_open":
                i = self._markdown_table(tokens, i)
                continue
            i += 1

    def _markdown_table(self, tokens: list[Token], start: int) -> int:
        rows, after = table_rows(tokens, start)
        if rows:
            width = max(len(row) for row in rows)
            rows = [row + [""] * (width - len(row)) for row in rows]
            self.table(rows[0], rows[1:])
        return after

    def _style_id(self, name: str, style_type: WD_STYLE_TYPE) -> str | None:
        """The id python-docx would set for style `name`: None for the default style; raises as python-docx
        does for a style the template lacks or of another type."""
        key = (name, style_type)
        if key not in self._style_ids:
            self._style_ids[key] = self.document.part.get_style_id(name, style_type)
        return self._style_ids[key]


def _paragraph_style(lists: list[str], quote_depth: int) -> str:
    if lists:
        depth = min(len(lists), MAX_LIST_DEPTH)
        base = "List Bullet" if lists[-1] == "bullet" else "List Number"
        return base if depth == 1 else f"{base} {depth}"
    return "Quote" if quote_depth else "Normal"


def _restart_numbering(document: Document, paragraph: Paragraph, *, ilvl: int) -> None:
    """Word numbers every "List Number" paragraph of a document as one list; give this list its own
    numbering instance that starts at 1."""
    style_numbering = paragraph.style.element.pPr.numPr if paragraph.style.element.pPr is not None else None
    if style_numbering is None or style_numbering.numId is None:
        return
    numbering = document.part.numbering_part.element
    abstract_id = numbering.num_having_numId(style_numbering.numId.val).abstractNumId.val
    num = numbering.add_num(abstract_id)
    num.add_lvlOverride(ilvl=ilvl).add_startOverride(1)
    numbering_properties = paragraph._p.get_or_add_pPr().get_or_add_numPr()
    numbering_properties.get_or_add_numId().val = num.numId
    numbering_properties.get_or_add_ilvl().val = ilvl


def _add_inline(paragraph: Paragraph, inline: Token) -> None:
    bold = italic = strike = False
    link: str | None = None
    for child in inline.children or []:
        kind = child.type
        if kind == "strong_open":
            bold = True
        elif kind == "strong_close":
            bold = False
        elif kind == "em_open":
            italic = True
        elif kind == "em_close":
            italic = False
        elif kind == "s_open":
            strike = True
        elif kind == "s_close":
            strike = False
        elif kind == "link_open":
            link = str(child.attrs.get("href") or "")
        elif kind == "link_close":
            if link:
                paragraph.add_run(f" ({link})")
            link = None
        elif kind in ("softbreak",):
            paragraph.add_run(" ")
        elif kind == "hardbreak":
            paragraph.add_run().add_break()
        elif kind in ("text", "code_inline", "html_inline", "image"):
            text = child.content
            run = paragraph.add_run(text)
            run.bold, run.italic, run.font.strike = bold or None, italic or None, strike or None
            if kind == "code_inline":
                run.font.name = "Courier New"
