"""Markdown to safe HTML for pages and the admin. LLM output and user text are untrusted: markdown-it-py's
"js-default" preset leaves raw HTML as text (and refuses javascript: links), and nh3 then sanitises what
it made, so nothing executable reaches the page even if a rule above changes."""

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("js-default")  # CommonMark + tables + strikethrough, html disabled

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "s",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}
# A wide table scrolls sideways inside the text (`.prose table` in app.css): keyboard users must be able to
# focus it to scroll it (WCAG 2.1.1, axe's scrollable-region-focusable).
SET_ATTRIBUTES = {"table": {"tabindex": "0"}}


def render_markdown(text: str | None) -> SafeString:
    """Sanitised HTML of `text`; links get rel="noopener noreferrer"."""
    html = _MARKDOWN.render(text or "")
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        set_tag_attribute_values=SET_ATTRIBUTES,
    )
    return mark_safe(cleaned)  # sanitised by nh3 just above
