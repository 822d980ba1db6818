"""Markdown into a python-docx Document: headings, paragraphs with bold / italic / code, bullet and numbered
lists (each numbered list restarts at 1), tables, quotes and code blocks. Raw HTML is not rendered (it stays
text), so untrusted text cannot smuggle anything into the file."""

from docx.document import Document
from docx.shared import Pt
from docx.text.paragraph import Paragraph
from markdown_it import MarkdownIt
from markdown_it.token import Token

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
MAX_HEADING_LEVEL = 9
MAX_LIST_DEPTH = 3  # the default template has List Bullet / List Number 1–3


def add_markdown(document: Document, text: str, *, heading_offset: int = 0) -> None:
    """Append `text` to `document`; Markdown heading level n becomes Word heading n + heading_offset."""
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
            document.add_heading(_plain(tokens[i + 1]), level=level)
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
            paragraph = document.add_paragraph(style=_paragraph_style(lists, quote_depth))
            if restart_numbering and lists and lists[-1] == "number":
                _restart_numbering(document, paragraph, ilvl=min(len(lists), MAX_LIST_DEPTH) - 1)
                restart_numbering = False
            _add_inline(paragraph, tokens[i + 1])
            i += 3
            continue
        elif kind in ("fence", "code_block"):
            paragraph = document.add_paragraph()
            run = paragraph.add_run(token.content.rstrip("\n"))
            run.font.name = "Courier New"
            run.font.size = Pt(9)
        elif kind == "table_open":
            i = _add_table(document, tokens, i)
            continue
        i += 1


def add_table(document: Document, header: list[str], rows: list[list[str]]):
    table = document.add_table(rows=1 + len(rows), cols=len(header))
    table.style = "Table Grid"
    for column, text in enumerate(header):
        cell = table.rows[0].cells[column]
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for r, row in enumerate(rows, 1):
        for column, text in enumerate(row):
            table.rows[r].cells[column].text = text
    return table


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


def _add_table(document: Document, tokens: list[Token], start: int) -> int:
    rows: list[list[str]] = []
    i = start
    while tokens[i].type != "table_close":
        if tokens[i].type == "tr_open":
            rows.append([])
        elif tokens[i].type == "inline":
            rows[-1].append(_plain(tokens[i]))
        i += 1
    if rows:
        width = max(len(row) for row in rows)
        rows = [row + [""] * (width - len(row)) for row in rows]
        add_table(document, rows[0], rows[1:])
    return i + 1


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


def _plain(inline: Token) -> str:
    parts = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline", "html_inline", "image"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts).strip()
