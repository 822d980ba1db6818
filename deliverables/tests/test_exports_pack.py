"""The branded pack (PDF read back with pypdf, PPTX with python-pptx), ICS (icalendar), the richer CSV and the
ZIP of working files with its manifest, each opened with an independent reader."""

import csv
import hashlib
import io
import json
import re
import zipfile

import docx
import icalendar
import pypdf
import pytest
from django.core.files import File
from django.core.files.storage import default_storage
from django.test import Client
from pptx import Presentation

from aicmo.core.errors import Conflict
from aicmo.llm.providers.offline import draw_image
from deliverables.models import Asset, AuditEvent, Deliverable, Revision
from deliverables.services import deliverable_amend, deliverable_approve, deliverable_submit, run_export
from deliverables.services.export_pack import DEFAULT_PRIMARY, font_kind, hex_color

from .review_helpers import generate_campaign, generate_creatives, of_kind

pytestmark = pytest.mark.django_db

AMENDED = "Roasted on Tuesday, in your cup by Friday: the amended copy."


@pytest.fixture
def run(marketer, run_tasks_inline):
    return generate_campaign(marketer, run_tasks_inline)


def export(run, fmt, actor, approved_only=False):
    return run_export(run=run, fmt=fmt, approved_only=approved_only, actor=actor)


def approve(deliverable, marketer, manager):
    deliverable_submit(deliverable=deliverable, actor=marketer)
    return deliverable_approve(deliverable=deliverable, actor=manager)


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def titles(run) -> list[str]:
    return list(run.deliverables.order_by("position").values_list("title", flat=True))


def entries_of(run) -> list[dict]:
    calendar = of_kind(run, "content_calendar")
    return Revision.objects.get(deliverable=calendar, version=calendar.version).structured["entries"]


# --- PDF -----------------------------------------------------------------------------------------------------


def test_pdf_holds_the_brand_every_title_the_amended_text_and_the_approver(run, marketer, manager):
    post = of_kind(run, "linkedin_post")
    deliverable_amend(deliverable=post, actor=marketer, version=1, content_markdown=AMENDED)
    approve(of_kind(run, "email_copy"), marketer, manager)

    file = export(run, "pdf", marketer)

    assert file.content_type == "application/pdf"
    assert re.match(r"^aicmo_acme_q1-launch_[0-9a-f]{8}_\d{8}_\d{4}\.pdf$", file.filename)
    reader = pypdf.PdfReader(io.BytesIO(file.content))
    assert reader.metadata.title == "Q1 Launch — Acme Coffee Roasters"
    text = pdf_text(file.content)
    flat = " ".join(text.split())
    assert "Acme Coffee Roasters" in reader.pages[0].extract_text()  # the cover
    assert "Contents" in reader.pages[1].extract_text()
    for title in titles(run):
        assert " ".join(title.split()) in flat, title
    assert AMENDED in flat
    assert "approved by manager" in flat
    assert "offline" in flat  # the provider of each section
    # a footer on every page, numbered
    for number, page in enumerate(reader.pages, 1):
        assert f"Page {number}" in page.extract_text()
    # the outline (bookmarks) lists every deliverable, in order
    assert [item.title for item in reader.outline] == [f"{n}. {t}" for n, t in enumerate(titles(run), 1)]


def test_pdf_table_of_contents_points_at_the_right_pages(run, marketer):
    reader = pypdf.PdfReader(io.BytesIO(export(run, "pdf", marketer).content))

    contents = reader.pages[1].extract_text()
    pages = [reader.get_destination_page_number(outline) + 1 for outline in reader.outline]
    # each line of the contents: the title, dot leaders, the page number
    assert [int(n) for n in re.findall(r"^(\d+)$", contents, re.M)] == pages
    listed = re.findall(r"^\s*(\d+)\. (.+)$", contents, re.M)
    assert [(int(n), t.strip()) for n, t in listed] == list(enumerate(titles(run), 1))
    for outline, page in zip(reader.outline, pages, strict=True):  # the heading is on that page
        assert outline.title in " ".join(reader.pages[page - 1].extract_text().split())


def test_pdf_draws_the_calendar_as_a_month_grid(run, marketer):
    text = pdf_text(export(run, "pdf", marketer).content)

    months = sorted({e["date"][:7] for e in entries_of(run)})
    import calendar

    for month in months:
        year, number = (int(part) for part in month.split("-"))
        assert f"{calendar.month_name[number]} {year}" in text
    assert "Mon Tue Wed Thu Fri Sat Sun" in " ".join(text.split())


def test_pdf_and_docx_embed_images_and_the_brand_logo(marketer, run_tasks_inline, brand):
    run = generate_creatives(marketer, run_tasks_inline, count=2)

    reader = pypdf.PdfReader(io.BytesIO(export(run, "pdf", marketer).content))
    document = docx.Document(io.BytesIO(export(run, "docx", marketer).content))

    assert sum(len(page.images) for page in reader.pages) == 2
    assert len(document.inline_shapes) == 2


def test_pdf_escapes_markup_in_untrusted_text(run, marketer):
    post = of_kind(run, "linkedin_post")
    deliverable_amend(
        deliverable=post, actor=marketer, version=1, content_markdown='<b>bold?</b> <font size="90">x</font> & co'
    )

    text = " ".join(pdf_text(export(run, "pdf", marketer).content).split())

    assert '<b>bold?</b> <font size="90">x</font> & co' in text


# --- PPTX ----------------------------------------------------------------------------------------------------


def test_pptx_has_a_title_slide_one_slide_per_deliverable_and_the_calendar(run, marketer):
    deliverable_amend(deliverable=of_kind(run, "linkedin_post"), actor=marketer, version=1, content_markdown=AMENDED)

    file = export(run, "pptx", marketer)

    assert file.content_type == "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    deck = Presentation(io.BytesIO(file.content))
    slides = [[shape.text_frame.text for shape in slide.shapes if shape.has_text_frame] for slide in deck.slides]
    assert "Q1 Launch — Acme Coffee Roasters" in slides[0]
    calendar_slides = [s for s in slides if re.match(r"^Content calendar( \(\d+/\d+\))?$", s[1])]
    deliverable_slides = slides[1 : len(slides) - len(calendar_slides)]
    assert [s[1] for s in deliverable_slides] == titles(run)  # the band's title box follows the band
    assert len(deliverable_slides) == run.deliverables.count()
    post_slide = deliverable_slides[titles(run).index(of_kind(run, "linkedin_post").title)]
    assert any(AMENDED in text for text in post_slide)
    rows = sum(len(s.shapes[-1].table.rows) - 1 for s in deck.slides if s.shapes[-1].has_table)
    assert calendar_slides and rows == len(entries_of(run))


def test_pptx_shows_ad_creatives_with_their_images(marketer, run_tasks_inline):
    run = generate_creatives(marketer, run_tasks_inline, count=2)

    deck = Presentation(io.BytesIO(export(run, "pptx", marketer).content))

    slides = list(deck.slides)[1:]
    assert len(slides) == run.deliverables.count() == 3  # two ads and the Instagram post
    ads = run.deliverables.filter(kind="ad_copy").order_by("position")
    for slide, deliverable in zip(slides, ads, strict=False):
        structured = deliverable.revisions.get(version=1).structured
        texts = [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]
        assert structured["headline"] in texts and structured["primary_text"] in texts
        assert structured["call_to_action"] in texts
        assert sum(1 for shape in slide.shapes if shape.shape_type == 13) == 1  # a picture


# --- ICS -----------------------------------------------------------------------------------------------------


def test_ics_has_one_event_per_entry_and_keeps_its_uids_on_re_export(run, marketer):
    entries = entries_of(run)
    calendar = of_kind(run, "content_calendar")

    first = icalendar.Calendar.from_ical(export(run, "ics", marketer).content)
    markdown = Revision.objects.get(deliverable=calendar, version=1).content_markdown
    assert markdown.count(entries[0]["text"]) == 1
    # the first entry's copy changes and an entry is added at the end: the others keep their UIDs
    amended = markdown.replace(entries[0]["text"], "A new text for the first entry.")
    amended += "\n| 2031-01-01 | LinkedIn | Added later | A later post. |"
    deliverable_amend(deliverable=calendar, actor=marketer, version=1, content_markdown=amended)
    second_file = export(run, "ics", marketer)
    second = icalendar.Calendar.from_ical(second_file.content)

    assert second_file.content_type == "text/calendar; charset=utf-8"
    events = [c for c in first.walk("VEVENT")]
    assert len(events) == len(entries)
    assert [(e.decoded("dtstart").isoformat(), str(e["description"])) for e in events] == [
        (entry["date"], entry["text"]) for entry in entries
    ]
    assert str(events[0]["summary"]) == f"[LinkedIn] {entries[0]['title']}"
    uids = [str(e["uid"]) for e in events]
    assert len(set(uids)) == len(uids)
    assert all(uid.startswith(f"{calendar.pk}-") for uid in uids)
    again = [c for c in second.walk("VEVENT")]
    assert [str(e["uid"]) for e in again][: len(uids)] == uids
    assert len(again) == len(entries) + 1 and str(again[-1]["summary"]) == "[LinkedIn] Added later"
    assert str(again[0]["description"]) == "A new text for the first entry."
    assert (int(events[0]["sequence"]), int(again[0]["sequence"])) == (1, 2)


def test_ics_without_a_calendar_is_refused_and_writes_nothing(marketer, run_tasks_inline):
    run = generate_creatives(marketer, run_tasks_inline, count=1, with_images=False)
    stored = _stored()

    with pytest.raises(Conflict, match="no content calendar"):
        export(run, "ics", marketer)

    assert AuditEvent.objects.filter(action="export").count() == 0
    assert _stored() == stored


def _stored() -> list[str]:
    try:
        return sorted(default_storage.listdir("exports")[0])
    except FileNotFoundError:
        return []


# --- provenance in the pack's own formats -------------------------------------------------------------------

WRITTEN = "offline · offline-templates-v1 (template draft, no AI model)"


def test_pdf_pptx_ics_and_the_manifest_say_who_wrote_each_piece(run, marketer):
    post = of_kind(run, "linkedin_post")
    deliverable_amend(deliverable=post, actor=marketer, version=1, content_markdown=AMENDED)
    count = run.deliverables.count()

    flat = " ".join(pdf_text(export(run, "pdf", marketer).content).split())
    assert flat.count(f"Written by {WRITTEN}") == count
    assert flat.count(f"Written by {WRITTEN}, edited by marketer") == 1

    deck = Presentation(io.BytesIO(export(run, "pptx", marketer).content))
    texts = [shape.text_frame.text for slide in deck.slides for shape in slide.shapes if shape.has_text_frame]
    assert sum(f"written by {WRITTEN}" in text for text in texts) == count
    assert sum(f"written by {WRITTEN}, edited by marketer" in text for text in texts) == 1

    events = list(icalendar.Calendar.from_ical(export(run, "ics", marketer).content).walk("VEVENT"))
    assert events and {str(e["comment"]) for e in events} == {f"Written by {WRITTEN}"}

    archive = zipfile.ZipFile(io.BytesIO(export(run, "zip", marketer).content))
    written = {d["id"]: d for d in json.loads(archive.read("manifest.json"))["deliverables"]}
    assert written[str(post.pk)]["written_by"] == f"{WRITTEN}, edited by marketer"
    assert {(d["provider"], d["model"]) for d in written.values()} == {("offline", "offline-templates-v1")}


# --- CSV -----------------------------------------------------------------------------------------------------


def test_csv_has_time_platform_and_media_columns(marketer, run_tasks_inline, run):
    reader = csv.DictReader(io.StringIO(export(run, "csv", marketer).content.decode()))
    rows = list(reader)

    assert reader.fieldnames[:8] == ["date", "time", "platform", "title", "text", "hashtags", "media", "status"]
    assert reader.fieldnames[8:] == ["provider", "model"]  # provenance, last
    calendar_rows = [r for r in rows if r["date"]]
    assert [(r["date"], r["time"], r["platform"]) for r in calendar_rows] == [
        (e["date"], "09:00", e["platform"]) for e in entries_of(run)
    ]
    assert all(r["media"] == "" for r in rows)  # a campaign run has no images


def test_csv_media_lists_the_posts_images(marketer, run_tasks_inline):
    run = generate_creatives(marketer, run_tasks_inline, count=1)
    ad, post = of_kind(run, "ad_copy"), of_kind(run, "instagram_post")
    assert ad.platform is None  # an ad creative is not a scheduled post: no row of its own
    Deliverable.objects.filter(pk=ad.pk).update(platform="instagram")  # set-up: an ad scheduled as a post

    rows = list(csv.DictReader(io.StringIO(export(run, "csv", marketer).content.decode())))

    assert [(r["title"], r["media"]) for r in rows] == [
        (ad.title, f"/assets/{ad.assets.get().pk}/file"),
        (post.title, ""),
    ]


# --- the ZIP pack --------------------------------------------------------------------------------------------


def test_zip_holds_the_working_files_and_a_manifest_whose_hashes_match(run, marketer, manager):
    approve(of_kind(run, "linkedin_post"), marketer, manager)

    file = export(run, "zip", marketer)

    archive = zipfile.ZipFile(io.BytesIO(file.content))
    stem = file.filename.removesuffix(".zip")
    assert archive.namelist() == [f"{stem}.{fmt}" for fmt in ("md", "json", "docx", "csv", "ics")] + ["manifest.json"]
    manifest = json.loads(archive.read("manifest.json"))
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) == set(archive.namelist()) - {"manifest.json"}
    for name, entry in listed.items():
        data = archive.read(name)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["bytes"] == len(data)
    assert manifest["run_id"] == str(run.run_id) and manifest["approved_only"] is False
    post = of_kind(run, "linkedin_post")
    assert manifest["approvals"] == [
        {
            "deliverable_id": str(post.pk),
            "version": 1,
            "approved_by": "manager",
            "approved_at": manifest["approvals"][0]["approved_at"],
            "files": [f"{stem}.{fmt}" for fmt in ("md", "json", "docx", "csv")],
        }
    ]
    assert listed[f"{stem}.ics"]["deliverables"] == [str(of_kind(run, "content_calendar").pk)]
    # every file of the ZIP opens with its own reader
    assert len(docx.Document(io.BytesIO(archive.read(f"{stem}.docx"))).paragraphs) > run.deliverables.count()
    assert list(icalendar.Calendar.from_ical(archive.read(f"{stem}.ics")).walk("VEVENT"))
    assert json.loads(archive.read(f"{stem}.json"))["run_id"] == str(run.run_id)
    # the branded pack is not in the ZIP: the manifest says where to download it, and those paths answer it
    assert [(p["format"], p["content_type"]) for p in manifest["branded_pack"]] == [
        ("pdf", "application/pdf"),
        ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ]
    client = Client()
    client.force_login(marketer)
    for pack in manifest["branded_pack"]:
        assert pack["url"] == f"/api/v1/runs/{run.run_id}/export?format={pack['format']}"
        answer = client.get(pack["url"])
        assert answer.status_code == 200 and answer["Content-Type"] == pack["content_type"]
    assert pypdf.PdfReader(io.BytesIO(client.get(manifest["branded_pack"][0]["url"]).content)).pages


def test_zip_pack_with_images_lists_them_in_the_manifest(marketer, run_tasks_inline):
    run = generate_creatives(marketer, run_tasks_inline, count=2)

    archive = zipfile.ZipFile(io.BytesIO(export(run, "zip", marketer).content))

    manifest = json.loads(archive.read("manifest.json"))
    images = [e for e in manifest["files"] if e["path"].startswith("images/")]
    assert len(images) == 2
    for entry in images:
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
        assert len(entry["deliverables"]) == 1
    assert not any(name.endswith(".ics") for name in archive.namelist())  # no calendar in an ads run


def test_approved_only_pack_holds_only_approved_work(run, marketer, manager):
    post = of_kind(run, "linkedin_post")
    approve(post, marketer, manager)
    others = [t for t in titles(run) if t != post.title]

    file = export(run, "zip", marketer, approved_only=True)

    archive = zipfile.ZipFile(io.BytesIO(file.content))
    stem = file.filename.removesuffix(".zip")
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["approved_only"] is True
    assert [d["id"] for d in manifest["deliverables"]] == [str(post.pk)]
    assert [a["deliverable_id"] for a in manifest["approvals"]] == [str(post.pk)]
    assert f"{stem}.ics" not in archive.namelist()  # the calendar is not approved
    markdown = archive.read(f"{stem}.md").decode()
    assert post.title in markdown and not any(title in markdown for title in others)
    # the branded pack's downloads keep the scope: approved work only
    client = Client()
    client.force_login(marketer)
    pdf_url, deck_url = (p["url"] for p in manifest["branded_pack"])
    assert pdf_url == f"/api/v1/runs/{run.run_id}/export?format=pdf&approved_only=1"
    pdf = " ".join(pdf_text(client.get(pdf_url).content).split())
    assert post.title in pdf and not any(title in pdf for title in others)
    deck = Presentation(io.BytesIO(client.get(deck_url).content))
    assert len(deck.slides) == 2  # title + the one approved post
    envelope = json.loads(archive.read(f"{stem}.json"))
    assert [d["id"] for d in envelope["deliverables"]] == [str(post.pk)]
    rows = list(csv.DictReader(io.StringIO(archive.read(f"{stem}.csv").decode())))
    assert [r["title"] for r in rows] == [post.title]


# --- storage, names, audit -----------------------------------------------------------------------------------


def test_each_export_is_kept_in_storage_and_named_in_its_audit_event(run, marketer):
    file = export(run, "pdf", marketer)

    event = AuditEvent.objects.get(action="export")
    assert event.data == {"format": "pdf", "approved_only": False, "file": file.stored_as, "sha256": file.sha256}
    assert file.stored_as == f"exports/{run.brand_id}/{run.run_id}/{file.filename}"
    with default_storage.open(file.stored_as, "rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == file.sha256 == hashlib.sha256(file.content).hexdigest()


def test_file_names_differ_per_run_of_the_same_campaign(marketer, run_tasks_inline):
    first = generate_campaign(marketer, run_tasks_inline)
    second = generate_campaign(marketer, run_tasks_inline)

    names = {export(r, "pdf", marketer).filename for r in (first, second)}

    assert len(names) == 2


def test_brand_look_is_read_defensively():
    assert hex_color("#ABC", "#000000") == "#aabbcc"
    assert hex_color("12ab34", "#000000") == "#12ab34"
    assert hex_color("red; }", "#000000") == "#000000"
    assert hex_color(None, "#111111") == "#111111"
    assert [font_kind(f) for f in ("Inter", "Georgia, serif", "Open Sans", "JetBrains Mono", "")] == [
        "sans",
        "serif",
        "sans",
        "mono",
        "sans",
    ]


def test_pdf_and_pptx_wear_the_brand_kit_logo_colours_and_font(run, marketer):
    # the brand kit's look fields (logo, colours, font) are read where the Brand has them
    logo = draw_image("Acme logo", "256x256")
    run.brand.primary_color, run.brand.secondary_color, run.brand.font_family = "#5B2C1A", "e0a060", "Georgia, serif"

    run.brand.logo = File(io.BytesIO(logo), name="logo.png")
    reader = pypdf.PdfReader(io.BytesIO(export(run, "pdf", marketer).content))
    run.brand.logo = File(io.BytesIO(logo), name="logo.png")  # (reading closes a plain File; a FieldFile reopens)
    deck = Presentation(io.BytesIO(export(run, "pptx", marketer).content))

    assert len(reader.pages[0].images) == 1  # the logo on the cover
    fonts = {font for page in reader.pages[:3] for font in page["/Resources"]["/Font"].values()}
    assert any("Times-Roman" in str(font.get_object()["/BaseFont"]) for font in fonts)
    title = deck.slides[0]
    assert str(title.shapes[0].fill.fore_color.rgb) == "5B2C1A"  # the background in the primary colour
    assert str(title.shapes[1].fill.fore_color.rgb) == "E0A060"
    assert sum(1 for shape in title.shapes if shape.shape_type == 13) == 1
    runs = [
        r
        for shape in deck.slides[1].shapes
        if shape.has_text_frame
        for p in shape.text_frame.paragraphs
        for r in p.runs
    ]
    assert runs and {r.font.name for r in runs} == {"Georgia"}


def test_a_brand_without_a_kit_look_gets_the_defaults(run, marketer):
    deck = Presentation(io.BytesIO(export(run, "pptx", marketer).content))

    assert str(deck.slides[0].shapes[0].fill.fore_color.rgb) == DEFAULT_PRIMARY.lstrip("#").upper()


def test_exports_are_not_kept_when_turned_off(run, marketer, settings):
    settings.AICMO_KEEP_EXPORTS = False
    stored = _stored()

    file = export(run, "csv", marketer)

    assert (file.stored_as, _stored()) == ("", stored)
    assert AuditEvent.objects.get(action="export").data == {
        "format": "csv",
        "approved_only": False,
        "file": "",
        "sha256": hashlib.sha256(file.content).hexdigest(),
    }


# --- a campaign's creatives in the campaign's exports ----------------------------------------------------------


def creatives_for(campaign, user, run_tasks_inline, count=2):
    from creatives.services import creatives_generate

    with run_tasks_inline():
        run = creatives_generate(
            brand=campaign.brand,
            user=user,
            trace_id="trace-campaign-creatives",
            campaign=campaign,
            brief={"product": "Cold brew", "platforms": [], "count": count, "with_images": True},
        )
    run.refresh_from_db()
    assert run.status == "SUCCESS" and run.campaign_id == campaign.pk
    return run


def test_a_campaign_docx_pdf_and_pack_carry_the_images_of_its_creatives(run, marketer, run_tasks_inline):
    creatives = creatives_for(run.campaign, marketer, run_tasks_inline)
    assets = list(Asset.objects.filter(deliverable__run=creatives))
    assert len(assets) == 2

    document = docx.Document(io.BytesIO(export(run, "docx", marketer).content))
    reader = pypdf.PdfReader(io.BytesIO(export(run, "pdf", marketer).content))
    deck = Presentation(io.BytesIO(export(run, "pptx", marketer).content))
    pack = export(run, "zip", marketer)

    assert len(document.inline_shapes) == 2
    assert "Campaign creatives" in [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert sum(len(page.images) for page in reader.pages) == 2
    assert reader.outline[-1].title == f"{run.deliverables.count() + 1}. Campaign creatives"
    last = list(deck.slides)[-1]
    assert sum(1 for shape in last.shapes if shape.shape_type == 13) == 2
    archive = zipfile.ZipFile(io.BytesIO(pack.content))
    manifest = {e["path"]: e for e in json.loads(archive.read("manifest.json"))["files"]}
    for asset in assets:
        name = f"images/campaign/{asset.pk}.png"
        with asset.file.open("rb") as stored:
            assert archive.read(name) == stored.read()
        assert manifest[name]["sha256"] == hashlib.sha256(archive.read(name)).hexdigest()
        assert manifest[name]["deliverables"] == [str(asset.deliverable_id)]
    # the creatives run's own export is not a campaign document: it shows its own images only
    assert len(docx.Document(io.BytesIO(export(creatives, "docx", marketer).content)).inline_shapes) == 2


def test_approved_only_campaign_exports_carry_only_approved_creatives(run, marketer, manager, run_tasks_inline):
    creatives = creatives_for(run.campaign, marketer, run_tasks_inline)
    first, second = creatives.deliverables.order_by("position")
    approve(first, marketer, manager)
    approve(of_kind(run, "linkedin_post"), marketer, manager)

    archive = zipfile.ZipFile(io.BytesIO(export(run, "zip", marketer, approved_only=True).content))

    images = [n for n in archive.namelist() if n.startswith("images/campaign/")]
    assert images == [f"images/campaign/{first.assets.get().pk}.png"]
    assert second.assets.get().pk not in {n.rsplit("/", 1)[-1].split(".")[0] for n in images}
