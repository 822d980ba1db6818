"""Markdown into a python-docx Document: headings, paragraphs with bold / italic / code, bullet and numbered
lists (each numbered list restarts at 1), tables, quotes and code blocks. Raw HTML is not rendered (it stays
text), so untrusted text cannot smuggle anything into the file.

Everything goes through one `DocxWriter` per document. python-docx builds each paragraph, run and cell as an lxml
element through several Python objects, and resolves a style by name each time one is assigned: at hundreds of
deliverables that was about three quarters of an export. The writer instead writes the WordprocessingML of
headings, paragraphs, runs and tables as text, in the order and form python-docx writes them (the style ids
python-docx answers, asked once per style; `<w:rPr/>` where python-docx leaves an empty one), and parses it in
one go into the document's body when the document is saved (`flush()`); each picture, built by python-docx, goes
into its placeholder `w:drawing` then. The document.xml is the one python-docx's own calls write
(deliverables/tests/test_exports.py compares them; bench/findings.md, item 8, the whole 500-deliverable file)."""

import io
import re
import threading
from typing import IO

from docx.document import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import nsmap, qn
from docx.oxml.numbering import CT_Num
from docx.oxml.parser import element_class_lookup
from docx.oxml.shape import CT_Inline
from docx.shared import Emu, Length, Pt
from lxml import etree
from markdown_it import MarkdownIt
from markdown_it.token import Token

from .markdown_tokens import plain_text, table_rows

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
MAX_HEADING_LEVEL = 9
MAX_LIST_DEPTH = 3  # the default template has List Bullet / List Number 1–3
TABLE_STYLE = "Table Grid"
CODE_FONT = "Courier New"
CODE_SIZE = Pt(9)

_PARSERS = threading.local()  # an lxml parser must not be used by two threads at once: one per thread
# characters XML 1.0 cannot carry: python-docx refuses them (ValueError); the writer leaves them out
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_RUN_BREAKS = re.compile(r"([\t\r\n])")


class DocxWriter:
    """Appends headings, paragraphs, Markdown, tables and pictures to `document`; `save()` writes the file.
    Everything added to the body between the first call and `save()` must go through the writer."""

    def __init__(self, document: Document):
        self.document = document
        self._xml: list[str] = []  # WordprocessingML not yet parsed into the body
        self._pictures: list[CT_Inline] = []  # the pictures of its `<w:drawing/>`s, in order
        self._style_ids: dict[tuple[str, WD_STYLE_TYPE], str | None] = {}
        self._list_abstract_ids: dict[str | None, str | None] = {}  # paragraph style id -> its list's abstractNumId
        self._used_num_ids: set[int] | None = None
        self._next_shape_id: int | None = None
        self._column_width: dict[int, int] = {}  # columns -> twips

    # --- blocks -------------------------------------------------------------------------------------------

    def heading(self, text: str, *, level: int) -> None:
        """As `Document.add_heading`: level 0 is the Title style, 1–9 Heading n."""
        if not 0 <= level <= MAX_HEADING_LEVEL:
            raise ValueError(f"level must be in range 0-{MAX_HEADING_LEVEL}, got {level}")
        self.paragraph(text, style="Title" if level == 0 else f"Heading {level}")

    def paragraph(self, text: str = "", *, style: str | None = None, italic: bool = False) -> None:
        """As `Document.add_paragraph(text, style)` (with `italic`: then `.runs[0].italic = True`)."""
        properties = "" if style is None else self._paragraph_properties(self._style_id(style))
        run = _run(text, "<w:rPr><w:i/></w:rPr>" if italic else "") if text else ""
        self._xml.append(f"<w:p>{properties}{run}</w:p>")

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        """A "Table Grid" table: `header` in bold, then `rows` (a shorter row leaves its last cells empty), as
        `add_table(rows, cols)`, `.style = "Table Grid"`, header cells `.text = ""` then a bold run each, and
        a run in each body cell's paragraph."""
        style_id = self._style_id(TABLE_STYLE, WD_STYLE_TYPE.TABLE)
        columns = len(header)
        width = self._twips(columns)
        cell_open = f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/></w:tcPr><w:p>'
        empty_cell = f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/></w:tcPr><w:p/></w:tc>'
        xml = [
            "<w:tbl><w:tblPr>",
            "" if style_id is None else f'<w:tblStyle w:val="{_attribute(style_id)}"/>',
            '<w:tblW w:type="auto" w:w="0"/><w:tblLook w:firstColumn="1" w:firstRow="1" w:lastColumn="0" '
            'w:lastRow="0" w:noHBand="0" w:noVBand="1" w:val="04A0"/></w:tblPr><w:tblGrid>',
            f'<w:gridCol w:w="{width}"/>' * columns,
            "</w:tblGrid><w:tr>",
        ]
        for text in header:
            xml.append(f"{cell_open}<w:r/>{_run(text, '<w:rPr><w:b/></w:rPr>')}</w:p></w:tc>")
        xml.append("</w:tr>")
        for row in rows:
            xml.append("<w:tr>")
            cells = row[:columns]
            xml += [f"{cell_open}{_run(text)}</w:p></w:tc>" for text in cells]
            xml.append(empty_cell * (columns - len(cells)))
            xml.append("</w:tr>")
        xml.append("</w:tbl>")
        self._xml.append("".join(xml))

    def picture(self, image: IO[bytes], *, width: Length) -> None:
        """As `Document.add_picture(image, width=width)` (a paragraph with one run holding the picture; when
        python-docx cannot read the image it raises, leaving the paragraph and its empty run, as
        python-docx does). python-docx numbers each new picture by reading every id attribute of the
        document; the writer reads them once and counts on from there, so every picture of the document
        must be added through it."""
        part = self.document.part
        try:
            rel_id, picture = part.get_or_add_image(image)
            cx, cy = picture.scaled_dimensions(width, None)
        except Exception:
            self._xml.append("<w:p><w:r/></w:p>")
            raise
        if self._next_shape_id is None:
            self._next_shape_id = part.next_id
        self._pictures.append(CT_Inline.new_pic_inline(self._next_shape_id, rel_id, picture.filename, cx, cy))
        self._next_shape_id += 1
        self._xml.append("<w:p><w:r><w:drawing/></w:r></w:p>")  # the picture goes in when the XML is parsed

    def save(self) -> bytes:
        """The .docx file of everything written."""
        self.flush()
        buffer = io.BytesIO()
        self.document.save(buffer)
        return buffer.getvalue()

    def flush(self) -> None:
        """Parse the XML written so far, put each picture into its `w:drawing` (as `CT_R.add_drawing`) and
        append it all to the body, before the section properties (as python-docx's `_insert_p`). The
        fragment declares the namespaces the document's root declares, so each picture keeps the same
        declarations as when python-docx adds it to the document itself."""
        if not self._xml:
            return
        root = self.document.element
        namespaces = {"w": nsmap["w"], **{prefix: uri for prefix, uri in root.nsmap.items() if prefix}}
        declarations = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in namespaces.items())
        fragment = etree.fromstring(f"<w:body {declarations}>{''.join(self._xml)}</w:body>", _parser())
        for drawing, inline in zip(fragment.iter(qn("w:drawing")), self._pictures, strict=True):
            drawing.append(inline)
        self._xml, self._pictures = [], []
        body = root.body
        section = body[-1] if len(body) and body[-1].tag == qn("w:sectPr") else None
        for child in list(fragment):
            if section is None:
                body.append(child)
            else:
                section.addprevious(child)

    # --- Markdown -----------------------------------------------------------------------------------------

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
                style_id = self._style_id(_paragraph_style(lists, quote_depth))
                numbering = None
                if restart_numbering and lists and lists[-1] == "number":
                    numbering = self._restarted_list(style_id, ilvl=min(len(lists), MAX_LIST_DEPTH) - 1)
                    restart_numbering = False
                properties = self._paragraph_properties(style_id, numbering)
                self._xml.append(f"<w:p>{properties}{_inline_runs(tokens[i + 1])}</w:p>")
                i += 3
                continue
            elif kind in ("fence", "code_block"):
                code = token.content.rstrip("\n")
                self._xml.append(f"<w:p>{_run(code, _CODE_PROPERTIES)}</w:p>")
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

    # --- styles, numbering, widths ------------------------------------------------------------------------

    def _style_id(self, name: str, style_type: WD_STYLE_TYPE = WD_STYLE_TYPE.PARAGRAPH) -> str | None:
        """The id python-docx would set for style `name`: None for the default style; raises as python-docx
        does for a style the template lacks or of another type."""
        key = (name, style_type)
        if key not in self._style_ids:
            self._style_ids[key] = self.document.part.get_style_id(name, style_type)
        return self._style_ids[key]

    @staticmethod
    def _paragraph_properties(style_id: str | None, numbering: tuple[int, int] | None = None) -> str:
        """`w:pPr` as `paragraph.style = …` leaves it (empty for the default style), with `numbering` (ilvl,
        numId) as `get_or_add_numPr()` adds it."""
        style = "" if style_id is None else f'<w:pStyle w:val="{_attribute(style_id)}"/>'
        if numbering is not None:
            style += f'<w:numPr><w:ilvl w:val="{numbering[0]}"/><w:numId w:val="{numbering[1]}"/></w:numPr>'
        return f"<w:pPr>{style}</w:pPr>"

    def _restarted_list(self, style_id: str | None, *, ilvl: int) -> tuple[int, int] | None:
        """Word numbers every "List Number" paragraph of a document as one list: a new numbering instance of
        the style's list that starts at 1 at `ilvl` (as `CT_Numbering.add_num` and `add_lvlOverride` add it),
        as (ilvl, numId); None when the style has no list."""
        if style_id not in self._list_abstract_ids:
            style = self.document.part.get_style(style_id, WD_STYLE_TYPE.PARAGRAPH)
            style_numbering = style.element.pPr.numPr if style.element.pPr is not None else None
            abstract_id = None
            if style_numbering is not None and style_numbering.numId is not None:
                numbering = self.document.part.numbering_part.element
                abstract_id = numbering.num_having_numId(style_numbering.numId.val).abstractNumId.val
            self._list_abstract_ids[style_id] = abstract_id
        abstract_id = self._list_abstract_ids[style_id]
        if abstract_id is None:
            return None
        numbering = self.document.part.numbering_part.element
        if self._used_num_ids is None:  # python-docx reads every numId for each new list; the writer once
            self._used_num_ids = {int(value) for value in numbering.xpath("./w:num/@w:numId")}
        num_id = next(n for n in range(1, len(self._used_num_ids) + 2) if n not in self._used_num_ids)
        self._used_num_ids.add(num_id)
        num = CT_Num.new(num_id, abstract_id)
        num.add_lvlOverride(ilvl=ilvl).add_startOverride(1)
        numbering._insert_num(num)
        return ilvl, num_id

    def _twips(self, columns: int) -> int:
        """A column's width in a table of `columns` across the last section's text width, as `add_table`."""
        if columns not in self._column_width:
            width = self.document._block_width
            self._column_width[columns] = (Emu(width // columns) if columns > 0 else Emu(0)).twips
        return self._column_width[columns]


def _parser() -> etree.XMLParser:
    """The writer's own text is parsed with python-docx's element classes; no blank-text removal (a run's
    spaces are content) and no size limit on one text node (the text is the export's own, built here)."""
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = etree.XMLParser(resolve_entities=False, huge_tree=True)
        parser.set_element_class_lookup(element_class_lookup)
    return parser


_CODE_FONT = f'<w:rFonts w:ascii="{CODE_FONT}" w:hAnsi="{CODE_FONT}"/>'
_CODE_PROPERTIES = f'<w:rPr>{_CODE_FONT}<w:sz w:val="{round(CODE_SIZE.pt * 2)}"/></w:rPr>'  # half-points


def _paragraph_style(lists: list[str], quote_depth: int) -> str:
    if lists:
        depth = min(len(lists), MAX_LIST_DEPTH)
        base = "List Bullet" if lists[-1] == "bullet" else "List Number"
        return base if depth == 1 else f"{base} {depth}"
    return "Quote" if quote_depth else "Normal"


def _inline_runs(inline: Token) -> str:
    """The runs of a paragraph's inline Markdown: each text a run with bold / italic / strike (an empty
    `w:rPr` when none, as python-docx leaves it after `run.bold = None`), code in Courier New, a link's
    address after its text, line breaks."""
    bold = italic = strike = False
    link: str | None = None
    runs = []
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
                runs.append(_run(f" ({link})"))
            link = None
        elif kind == "softbreak":
            runs.append(_run(" "))
        elif kind == "hardbreak":
            runs.append("<w:r><w:br/></w:r>")
        elif kind in ("text", "code_inline", "html_inline", "image"):
            font = _CODE_FONT if kind == "code_inline" else ""
            properties = (
                f"<w:rPr>{font}{'<w:b/>' if bold else ''}{'<w:i/>' if italic else ''}"
                f"{'<w:strike/>' if strike else ''}</w:rPr>"
            )
            runs.append(_run(child.content, properties))
    return "".join(runs)


def _run(text: str, properties: str = "") -> str:
    """`w:r` with `properties` (a `w:rPr`) and `text` as python-docx's `run.text = text` writes it: a `w:t`
    per stretch of text (`xml:space="preserve"` when it starts or ends with white space), `w:tab` for a tab,
    `w:br` for each newline or carriage return."""
    if not text:
        return f"<w:r>{properties}</w:r>"
    if "\t" not in text and "\n" not in text and "\r" not in text:
        return f"<w:r>{properties}{_t(text)}</w:r>"
    content = []
    for piece in _RUN_BREAKS.split(text):
        if piece == "\t":
            content.append("<w:tab/>")
        elif piece == "\n" or piece == "\r":
            content.append("<w:br/>")
        elif piece:
            content.append(_t(piece))
    return f"<w:r>{properties}{''.join(content)}</w:r>"


def _t(text: str) -> str:
    text = _NOT_XML.sub("", text)
    if not text:
        return ""
    if len(text.strip()) < len(text):
        return f'<w:t xml:space="preserve">{_escape(text)}</w:t>'
    return f"<w:t>{_escape(text)}</w:t>"


def _attribute(value: str) -> str:
    return _escape(_NOT_XML.sub("", value)).replace('"', "&quot;")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
