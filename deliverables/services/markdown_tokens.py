"""What the document renderers (DOCX, PDF) read alike from markdown-it tokens: a cell's plain text and a table's
rows. Each renderer then lays them out in its own format."""

from markdown_it.token import Token


def plain_text(inline: Token) -> str:
    """The text of an inline token without its Markdown marks (headings and table cells are plain text)."""
    parts = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline", "html_inline", "image"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts).strip()


def table_rows(tokens: list[Token], start: int) -> tuple[list[list[str]], int]:
    """The rows of the table opening at `tokens[start]`, as plain text, and the index just after it."""
    rows: list[list[str]] = []
    i = start
    while tokens[i].type != "table_close":
        if tokens[i].type == "tr_open":
            rows.append([])
        elif tokens[i].type == "inline":
            rows[-1].append(plain_text(tokens[i]))
        i += 1
    return rows, i + 1
