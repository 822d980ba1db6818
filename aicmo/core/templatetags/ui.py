"""Template helpers of every page: theme, icons, money and token formats, sanitised Markdown, post text.
(Labels of kinds, platforms and runs live with their registry: `{% load labels %}`, deliverables app.)"""

import re
from decimal import Decimal, InvalidOperation

from django import template
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from aicmo.core.markdown import render_markdown
from aicmo.core.selectors import theme_for

register = template.Library()

# Feather-style line icons (24×24, stroke = currentColor), inlined so they need no request and no CSP rule.
ICONS = {
    "home": '<path d="M3 10.5 12 3l9 7.5"/><path d="M5 9.5V21h14V9.5"/>',
    "plus": '<path d="M12 5v14M5 12h14"/>',
    "image": '<rect x="3" y="3" width="18" height="18" rx="2"/><circle cx="9" cy="9" r="2"/>'
    '<path d="m21 15-5-5L5 21"/>',
    "check": '<path d="M20 6 9 17l-5-5"/>',
    "copy": '<rect x="9" y="9" width="12" height="12" rx="2"/>'
    '<path d="M5 15H4a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1h10a1 1 0 0 1 1 1v1"/>',
    "x": '<path d="M18 6 6 18M6 6l12 12"/>',
    "refresh": '<path d="M21 12a9 9 0 1 1-3-6.7L21 8"/><path d="M21 3v5h-5"/>',
    "download": '<path d="M12 3v12"/><path d="m7 10 5 5 5-5"/><path d="M5 21h14"/>',
    "alert": '<path d="M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z"/>'
    '<path d="M12 9v4M12 17h.01"/>',
    "clock": '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>',
    "chart": '<path d="M3 3v18h18"/><path d="m7 15 4-4 3 3 6-6"/>',
    "user": '<circle cx="12" cy="8" r="4"/><path d="M4 21a8 8 0 0 1 16 0"/>',
    "logout": '<path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4"/><path d="m16 17 5-5-5-5M21 12H9"/>',
    "menu": '<path d="M3 6h18M3 12h18M3 18h18"/>',
    "sparkles": '<path d="M12 3l1.8 4.7L18.5 9.5l-4.7 1.8L12 16l-1.8-4.7L5.5 9.5l4.7-1.8z"/>'
    '<path d="M19 15l.8 2.2L22 18l-2.2.8L19 21l-.8-2.2L16 18l2.2-.8z"/>',
    "calendar": '<rect x="3" y="4" width="18" height="18" rx="2"/><path d="M16 2v4M8 2v4M3 10h18"/>',
    "sun": '<circle cx="12" cy="12" r="4"/><path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2'
    'M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4"/>',
    "moon": '<path d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z"/>',
    "heart": '<path d="M20.8 4.6a5.5 5.5 0 0 0-7.8 0L12 5.7l-1-1.1a5.5 5.5 0 0 0-7.8 7.8L12 21.2l8.8-8.8a5.5 5.5 0 0 0 '
    '0-7.8z"/>',
    "comment": '<path d="M21 11.5a8.4 8.4 0 0 1-9 8.4 8.5 8.5 0 0 1-3.8-.9L3 21l2-5.2a8.4 8.4 0 0 1-1-4.3A8.5 8.5 0 '
    '0 1 12.5 3 8.4 8.4 0 0 1 21 11.5z"/>',
    "repost": '<path d="m17 1 4 4-4 4"/><path d="M3 11V9a4 4 0 0 1 4-4h14"/><path d="m7 23-4-4 4-4"/>'
    '<path d="M21 13v2a4 4 0 0 1-4 4H3"/>',
    "send": '<path d="M22 2 11 13"/><path d="M22 2 15 22l-4-9-9-4z"/>',
    "share": '<path d="M4 12v8a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-8"/><path d="m16 6-4-4-4 4M12 2v13"/>',
    "bookmark": '<path d="M19 21 12 16l-7 5V5a2 2 0 0 1 2-2h10a2 2 0 0 1 2 2z"/>',
    "thumbs-up": '<path d="M7 10v12"/><path d="M15 5.9 14 10h5.8a2 2 0 0 1 2 2.3l-1.4 8a2 2 0 0 1-2 1.7H7V10l4-8a3 3 '
    '0 0 1 4 3.9z"/>',
    "globe": '<circle cx="12" cy="12" r="9"/><path d="M3 12h18M12 3a14 14 0 0 1 0 18M12 3a14 14 0 0 0 0 18"/>',
    "eye": '<path d="M1 12s4-8 11-8 11 8 11 8-4 8-11 8S1 12 1 12z"/><circle cx="12" cy="12" r="3"/>',
    "music": '<path d="M9 18V5l12-2v13"/><circle cx="6" cy="18" r="3"/><circle cx="18" cy="16" r="3"/>',
    "inbox": '<path d="M22 12h-6l-2 3h-4l-2-3H2"/><path d="M5.5 5.1 2 12v6a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2v-6l-3.5-6.9'
    'A2 2 0 0 0 16.8 4H7.2a2 2 0 0 0-1.7 1.1z"/>',
    "file": '<path d="M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z"/><path d="M14 2v6h6"/>',
    "chat": '<path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/>',
    "megaphone": '<path d="m3 11 18-5v12L3 14v-3z"/><path d="M11.6 16.8a3 3 0 1 1-5.8-1.6"/>',
    "bell": '<path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9"/><path d="M10.3 21a1.94 1.94 0 0 0 3.4 0"/>',
    "settings": '<circle cx="12" cy="12" r="3"/><path d="M12 2v3M12 19v3M2 12h3M19 12h3M4.9 4.9l2.1 2.1M17 17l2.1 2.1'
    'M4.9 19.1 7 17M17 7l2.1-2.1"/>',
    "tag": '<path d="M20.6 13.4 13.4 20.6a2 2 0 0 1-2.8 0L2 12V2h10l8.6 8.6a2 2 0 0 1 0 2.8z"/><path d="M7 7h.01"/>',
}


@register.simple_tag
def icon(name: str, label: str = "", size: int = 18) -> SafeString:
    """An inline SVG icon; decorative (aria-hidden) unless a label is given."""
    body = ICONS[name]
    a11y = format_html('role="img" aria-label="{}"', label) if label else mark_safe('aria-hidden="true"')
    return format_html(
        '<svg class="icon icon-{}" width="{}" height="{}" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
        'stroke-width="2" stroke-linecap="round" stroke-linejoin="round" focusable="false" {}>{}</svg>',
        name,
        size,
        size,
        a11y,
        mark_safe(body),
    )


@register.simple_tag(takes_context=True)
def user_theme(context) -> str:
    """The theme to render into <html data-theme>: 'light', 'dark' or 'system'."""
    request = context.get("request")
    return theme_for(getattr(request, "user", None))


@register.filter
def markdown(text: str) -> SafeString:
    """Untrusted Markdown (LLM output, user text) through the one sanitising renderer."""
    return render_markdown(text or "")


@register.filter
def usd(value) -> str:
    """$1,234.56 for large sums, four decimals for the small ones LLM calls cost; — when unknown."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return "—"
    if amount == 0:
        return "$0.00"
    return f"${amount:,.2f}" if abs(amount) >= 1 else f"${amount:.4f}"


@register.filter
def count(value) -> str:
    """12,345 (tokens, calls)."""
    try:
        return f"{int(value or 0):,}"
    except (TypeError, ValueError):
        return "0"


@register.filter
def humanize_status(status: str) -> str:
    return (status or "").replace("_", " ").capitalize()


# Hashtags not preceded by "&" or a word character, so escaped entities (&#x27;) are never matched.
_HASHTAG_OR_LINK = re.compile(r"((?<![&\w])#\w+|https?://[^\s<]+)")


@register.filter
def post_text(text: str) -> SafeString:
    """A post as its platform shows it: plain text (never Markdown or HTML), line breaks kept, hashtags and
    links highlighted. Escaped first, so nothing in the text can become markup."""
    escaped = str(conditional_escape(text or ""))
    highlighted = _HASHTAG_OR_LINK.sub(r'<span class="post-link">\1</span>', escaped)
    return mark_safe(highlighted.replace("\n", "<br>"))


@register.filter
def has_field_errors(form) -> bool:
    """Whether any field (not the form as a whole) has an error, so the page points at the marked fields."""
    return any(name != NON_FIELD_ERRORS for name in form.errors)
