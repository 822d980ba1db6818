"""Markdown rendering for pages and the admin: useful HTML out, nothing executable."""

from django.utils.safestring import SafeString

from aicmo.core.markdown import render_markdown


def test_markdown_becomes_html_with_tables_and_lists():
    html = render_markdown("## Plan\n\n- **one**\n- two\n\n| a | b |\n|---|--:|\n| 1 | 2 |")

    assert isinstance(html, SafeString)
    assert "<h2>Plan</h2>" in html
    assert "<li><strong>one</strong></li>" in html
    assert "<td>2</td>" in html  # no inline style: the CSP would block it
    assert '<table tabindex="0">' in html  # a wide table scrolls: the keyboard must reach it


def test_raw_html_and_script_links_never_survive():
    html = render_markdown(
        '<script>alert(1)</script> <img src=x onerror="alert(1)"> [a](javascript:alert(1)) '
        '<a href="https://evil.example" onclick="x()">b</a>'
    )

    assert "<script" not in html and "<img" not in html and "<a " not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript' not in html and "[a](javascript:alert(1))" in html  # it stays text


def test_images_from_model_output_are_dropped():
    # An <img> would make every reviewer's browser fetch a URL the model chose (a tracking pixel).
    html = render_markdown("![pixel](https://tracker.example/p.gif) text")

    assert "<img" not in html and "tracker.example" not in html
    assert "text" in html


def test_links_are_kept_with_a_safe_rel():
    assert str(render_markdown("[site](https://example.com)")) == (
        '<p><a href="https://example.com" rel="noopener noreferrer">site</a></p>\n'
    )


def test_nothing_renders_as_empty():
    assert render_markdown(None) == "" and render_markdown("") == ""
