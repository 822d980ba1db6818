"""The PDF report and PPTX deck wear the brand kit as a manager saved it in the product: the logo on the cover
(title slide) and every page (slide) header, the colours, and the font family (by name on every PPTX run; in the
PDF when that family is installed as TrueType, else a built-in family of the same kind)."""

import io

import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from brands.models import Brand
from brands.services import brand_kit_update
from deliverables.services import run_export
from deliverables.services.pdf_render import brand_font

from .review_helpers import generate_campaign

pytestmark = pytest.mark.django_db

LOGO_SIZE = (400, 100)


def logo_png() -> bytes:
    picture = Image.new("RGBA", LOGO_SIZE, (0, 0, 0, 0))
    picture.paste((20, 160, 90, 255), (0, 0, 400, 100))
    picture.paste((250, 250, 250, 255), (20, 20, 380, 80))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def run(marketer, manager, run_tasks_inline, brand):
    brand_kit_update(
        brand=brand,
        actor=manager,
        changes={"primary_color": "#FF0000", "secondary_color": "#0000FF", "font_family": "Liberation Serif, serif"},
        logo=SimpleUploadedFile("logo.png", logo_png(), content_type="image/png"),
    )
    return generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])


def export(run, fmt, actor):
    run = type(run).objects.select_related("brand").get(pk=run.pk)  # the brand as stored, logo file included
    return run_export(run=run, fmt=fmt, approved_only=False, actor=actor).content


def fonts_of(page) -> set[str]:
    return {str(font.get_object()["/BaseFont"]) for font in page["/Resources"]["/Font"].values()}


needs_liberation = pytest.mark.skipif(
    brand_font("Liberation Serif") is None, reason="fonts-liberation is not installed"
)


@needs_liberation
def test_the_pdf_uses_the_kit_logo_on_the_cover_and_every_page_header_colours_and_font(run, marketer):
    reader = pypdf.PdfReader(io.BytesIO(export(run, "pdf", marketer)))

    cover = reader.pages[0]
    assert [image.image.size for image in cover.images] == [LOGO_SIZE]  # the logo itself, on the brand colour
    for page in reader.pages[1:]:  # every other page: the logo in its header
        sizes = [image.image.size for image in page.images]
        assert any(abs(w / h - 4) < 0.1 for w, h in sizes), sizes
    header_logos = set()
    for page in reader.pages[1:]:
        for xobject in page["/Resources"]["/XObject"].values():
            image = xobject.get_object()
            if image["/Subtype"] == "/Image" and abs(image["/Width"] / image["/Height"] - 4) < 0.1:
                header_logos.add(xobject.idnum)
    assert len(header_logos) == 1  # embedded once, drawn on every page

    fonts = set().union(*(fonts_of(page) for page in reader.pages))
    assert any("LiberationSerif" in font for font in fonts) and not any("Vera" in font for font in fonts)
    assert any("LiberationSerif-Bold" in font for font in fonts)  # headings in the family's bold face
    content = cover.get_contents().get_data().decode("latin-1")
    assert "1 0 0 rg" in content and "0 0 1 rg" in content  # the primary and secondary colours


def test_a_font_that_is_not_installed_falls_back_to_a_built_in_family_of_its_kind(brand, manager, marketer, run):
    Brand.objects.filter(pk=brand.pk).update(font_family="Playfair Display, Georgia, serif")
    reader = pypdf.PdfReader(io.BytesIO(export(run, "pdf", marketer)))
    fonts = set().union(*(fonts_of(page) for page in reader.pages[:3]))
    assert any("Times-Roman" in font for font in fonts) and not any("Liberation" in font for font in fonts)

    Brand.objects.filter(pk=brand.pk).update(font_family="Inter")
    fonts = set().union(*(fonts_of(page) for page in pypdf.PdfReader(io.BytesIO(export(run, "pdf", marketer))).pages))
    assert any("Vera" in font for font in fonts)


def test_the_pptx_uses_the_kit_logo_on_the_title_and_every_slide_header_colours_and_font(run, marketer):
    deck = Presentation(io.BytesIO(export(run, "pptx", marketer)))

    title = deck.slides[0]
    assert str(title.shapes[0].fill.fore_color.rgb) == "FF0000"
    pictures = [shape for shape in title.shapes if shape.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert len(pictures) == 1 and pictures[0].image.size == LOGO_SIZE
    for slide in list(deck.slides)[1:]:
        logos = [
            shape
            for shape in slide.shapes
            if shape.shape_type == MSO_SHAPE_TYPE.PICTURE and shape.top < 914400 and shape.left > deck.slide_width / 2
        ]
        assert len(logos) == 1, "the logo in the slide's header"
        assert abs(logos[0].width / logos[0].height - 4) < 0.05
        assert str(slide.shapes[0].fill.fore_color.rgb) == "FF0000"  # the band in the primary colour
    runs = [
        r
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_text_frame
        for p in shape.text_frame.paragraphs
        for r in p.runs
    ]
    assert runs and {r.font.name for r in runs} == {"Liberation Serif"}


def test_an_unreadable_logo_leaves_the_logo_out_and_still_exports(run, marketer, brand):
    stored = Brand.objects.get(pk=brand.pk).logo
    with stored.storage.open(stored.name, "wb") as handle:
        handle.write(b"not an image")
    reader = pypdf.PdfReader(io.BytesIO(export(run, "pdf", marketer)))
    assert not reader.pages[0].images and not reader.pages[1].images
    deck = Presentation(io.BytesIO(export(run, "pptx", marketer)))
    assert not [s for s in deck.slides[1].shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
