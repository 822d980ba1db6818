"""The brand kit page: managers edit (each save a version), marketers read, outsiders get 404."""

import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from brands.models import Brand, BrandKitVersion
from deliverables.prompts import brand_instructions, image_prompt

KIT_POST = {
    "audience": "Home baristas",
    "tone_of_voice": "Warm",
    "voice_examples": "Good coffee, no fuss.",
    "banned_words": "cheap\nbest ever",
    "required_disclaimers": "Contains caffeine.",
    "languages": "en\nde",
    "website_url": "https://acme.example",
    "offer_url": "https://acme.example/winter",
    "primary_color": "#6B3E26",
    "secondary_color": "#F2E8DC",
    "font_family": "Georgia, serif",
    "image_style": "warm film photography",
    "monthly_budget_usd": "25.00",
}


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "#6B3E26").save(out, format="PNG")
    return out.getvalue()


def test_a_manager_saves_the_kit_and_each_save_is_a_version(manager_client, manager, brand):
    logo = SimpleUploadedFile("mine.png", png_bytes(), content_type="image/png")
    response = manager_client.post("/brands/acme/", {**KIT_POST, "logo": logo})
    assert response.status_code == 302 and response["Location"] == "/brands/acme/"

    brand.refresh_from_db()
    assert brand.banned_words == ["cheap", "best ever"]
    assert brand.languages == ["en", "de"]
    assert brand.monthly_budget_usd == Decimal("25.00")
    assert (brand.primary_color, brand.secondary_color, brand.font_family) == ("#6B3E26", "#F2E8DC", "Georgia, serif")
    assert brand.logo.name == f"brands/{brand.pk}/logo.png"
    assert brand.kit_version == 2
    versions = list(BrandKitVersion.objects.filter(brand=brand).order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].author is None and versions[0].kit["banned_words"] == ["cheap"]
    assert versions[1].author == manager
    assert "offer_url" in versions[1].changed and "logo" in versions[1].changed
    assert versions[1].kit["offer_url"] == "https://acme.example/winter"

    # Saving the same values again changes nothing and writes no version.
    manager_client.post("/brands/acme/", KIT_POST)
    assert BrandKitVersion.objects.filter(brand=brand).count() == 2

    page = manager_client.get("/brands/acme/").content.decode()
    assert 'src="/brands/acme/logo"' in page and "Version 2" in page and "changed " in page


def test_the_kit_goes_into_prompts_and_image_prompts(brand):
    Brand.objects.filter(pk=brand.pk).update(
        offer_url="https://acme.example/winter", primary_color="#6B3E26", image_style="warm film photography"
    )
    brand.refresh_from_db()
    kit = brand.kit()
    assert kit.get("offer_url") == "https://acme.example/winter"
    assert "https://acme.example/winter" in brand_instructions(kit)
    assert image_prompt("A cup on a table.", kit) == (
        "A cup on a table. Brand look: brand colours #6B3E26; style: warm film photography."
    )
    assert image_prompt("A cup", {"name": "x"}) == "A cup"


def test_a_marketer_reads_the_kit_but_cannot_edit_it(marketer_client, brand):
    page = marketer_client.get("/brands/acme/").content.decode()
    assert "Edit the brand kit" not in page and "Urban professionals" in page

    response = marketer_client.post("/brands/acme/", {**KIT_POST, "banned_words": ""})
    assert response.status_code == 403
    brand.refresh_from_db()
    assert brand.banned_words == ["cheap"] and brand.kit_version == 1
    assert not BrandKitVersion.objects.exists()


def test_bad_values_are_shown_on_the_page_and_nothing_is_saved(manager_client, brand):
    response = manager_client.post(
        "/brands/acme/", {**KIT_POST, "primary_color": "brown", "offer_url": "not a url", "monthly_budget_usd": "-1"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "A colour is written #RRGGBB" in html and "Enter a valid URL." in html
    assert "Ensure this value is greater than or equal to 0." in html
    brand.refresh_from_db()
    assert brand.primary_color == "" and brand.kit_version == 1 and not BrandKitVersion.objects.exists()


def test_a_logo_that_is_not_an_image_is_refused(manager_client, brand):
    fake = SimpleUploadedFile("logo.svg", b"<svg onload='alert(1)'/>", content_type="image/svg+xml")
    response = manager_client.post("/brands/acme/", {**KIT_POST, "logo": fake})
    assert response.status_code == 400
    brand.refresh_from_db()
    assert not brand.logo and brand.kit_version == 1


def test_the_logo_is_served_to_members_only(manager_client, outsider_client, brand):
    manager_client.post("/brands/acme/", {**KIT_POST, "logo": SimpleUploadedFile("l.png", png_bytes())})
    response = manager_client.get("/brands/acme/logo")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == png_bytes()
    assert outsider_client.get("/brands/acme/logo").status_code == 404
