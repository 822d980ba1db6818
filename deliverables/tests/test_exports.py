"""Exports: each format is parsed back (python-docx, csv.DictReader, zipfile, the envelope validator)."""

import csv
import io
import json
import re
import zipfile

import docx
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from docx.shared import Inches, Pt

from aicmo.core.errors import Conflict, NotFound
from aicmo.llm.providers.offline import draw_image
from deliverables.envelope import validate_envelope
from deliverables.models import Asset, AuditEvent, Deliverable, Revision
from deliverables.services import asset_create, deliverable_amend, revision_create, run_export
from deliverables.services.docx_render import DocxWriter

from .review_helpers import generate_campaign, generate_creatives, of_kind, set_status

pytestmark = pytest.mark.django_db

FILENAME = re.compile(r"^aicmo_acme_q1-launch_[0-9a-f]{8}_\d{8}_\d{4}\.(md|json|docx|csv|pdf|pptx|ics|zip)$")


@pytest.fixture
def run(marketer, run_tasks_inline):
    return generate_campaign(marketer, run_tasks_inline)


def export(run, fmt, actor, approved_only=False):
    return run_export(run=run, fmt=fmt, approved_only=approved_only, actor=actor)


def test_markdown_has_a_title_and_a_section_per_deliverable(run, marketer):
    file = export(run, "md", marketer)

    assert FILENAME.match(file.filename) and file.filename.endswith(".md")
    assert file.content_type == "text/markdown; charset=utf-8"
    text = file.content.decode()
    assert text.startswith("# Q1 Launch — Acme Coffee Roasters\n")
    sections = re.findall(r"^## (.+)$", text, re.M)
    assert sections == list(run.deliverables.order_by("position").values_list("title", flat=True))
    assert "### Objectives" in text  # the brief's own headings nest under its section
    assert " ".join(of_kind(run, "linkedin_post").hashtags) in text  # each post's hashtags, in its own style


def test_json_is_the_envelope_and_passes_the_validator(run, marketer):
    file = export(run, "json", marketer)

    envelope = json.loads(file.content)
    assert validate_envelope(envelope) == []
    assert file.content_type == "application/json"
    assert file.content == json.dumps(envelope, indent=2, ensure_ascii=False).encode()  # orjson: the same bytes
    assert envelope["run_id"] == str(run.run_id)
    assert [d["kind"] for d in envelope["deliverables"]] == [
        "campaign_brief",
        "messaging_framework",
        "content_calendar",
        "linkedin_post",
        "instagram_post",
        "email_copy",
    ]


def test_approved_only_keeps_approved_deliverables(run, marketer):
    set_status(of_kind(run, "linkedin_post"), "approved")
    set_status(of_kind(run, "email_copy"), "approved")

    envelope = json.loads(export(run, "json", marketer, approved_only=True).content)
    markdown = export(run, "md", marketer, approved_only=True).content.decode()

    assert validate_envelope(envelope) == []
    assert [d["kind"] for d in envelope["deliverables"]] == ["linkedin_post", "email_copy"]
    assert re.findall(r"^## (.+)$", markdown, re.M) == [
        of_kind(run, "linkedin_post").title,
        of_kind(run, "email_copy").title,
    ]


def test_exports_show_the_current_revision(run, marketer):
    post = of_kind(run, "linkedin_post")
    deliverable_amend(
        deliverable=post, actor=marketer, version=1, content_markdown="Amended copy.", hashtags=["#Fresh"]
    )

    envelope = json.loads(export(run, "json", marketer).content)
    rows = list(csv.DictReader(io.StringIO(export(run, "csv", marketer).content.decode())))

    item = next(d for d in envelope["deliverables"] if d["kind"] == "linkedin_post")
    assert (item["content_markdown"], item["version"], item["hashtags"]) == ("Amended copy.", 2, ["#Fresh"])
    assert next(r for r in rows if r["date"] == "")["text"] == "Amended copy."


def test_docx_has_headings_lists_and_the_calendar_as_a_table(run, marketer):
    file = export(run, "docx", marketer)

    document = docx.Document(io.BytesIO(file.content))
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[0] == ("Title", "Q1 Launch — Acme Coffee Roasters")
    titles = list(run.deliverables.order_by("position").values_list("title", flat=True))
    assert [text for style, text in headings if style == "Heading 1"] == titles
    assert ("Heading 3", "Objectives") in headings  # the brief's ## sections, one level under its title
    bullets = [p.text for p in document.paragraphs if p.style.name == "List Bullet"]
    assert "Made with care by Acme Coffee Roasters" in bullets  # the email's list
    numbered = [p.text for p in document.paragraphs if p.style.name == "List Number"]
    assert numbered[0].startswith("Craft — how Q1 Launch is made")  # bold run kept as text

    entries = Revision.objects.get(deliverable=of_kind(run, "content_calendar"), version=1).structured["entries"]
    calendar = next(t for t in document.tables if t.rows[0].cells[0].text == "Date")
    assert [c.text for c in calendar.rows[0].cells] == ["Date", "Platform", "Title", "Copy"]
    assert len(calendar.rows) == len(entries) + 1
    assert [c.text for c in calendar.rows[1].cells] == [
        entries[0]["date"],
        "LinkedIn",
        entries[0]["title"],
        entries[0]["text"],
    ]
    budget = next(t for t in document.tables if t.rows[0].cells[0].text == "Channel")  # a Markdown table
    brief = Revision.objects.get(deliverable=of_kind(run, "campaign_brief"), version=1).content_markdown
    first_row = next(line for line in brief.splitlines() if line.startswith("| LinkedIn"))
    assert [c.text for c in budget.rows[0].cells] == ["Channel", "Amount"]  # amounts of the brief's budget, no shares
    assert [c.text for c in budget.rows[1].cells] == [cell.strip() for cell in first_row.strip("|").split("|")]


def test_docx_embeds_the_images(marketer, run_tasks_inline):
    run = generate_creatives(marketer, run_tasks_inline, count=2)

    document = docx.Document(io.BytesIO(export(run, "docx", marketer).content))

    assert len(document.inline_shapes) == 2
    numbered = [p.text for p in document.paragraphs if p.style.name == "List Number"]
    assert len(numbered) >= 6  # both ads' image prompts (each list restarts its numbering)


def test_docx_writer_writes_what_python_docx_itself_writes():
    """The writer resolves each style once and numbers pictures itself: the XML must stay python-docx's own."""
    cup, mug = draw_image("A cup", "256x256"), draw_image("A mug", "256x256")
    by_python_docx, by_writer = docx.Document(), docx.Document()
    for document in (by_python_docx, by_writer):  # a picture already there: the writer's ids follow its id
        document.add_picture(io.BytesIO(mug), width=Inches(1))
    writer = DocxWriter(by_writer)
    for level in (0, 1, 3, 9):
        by_python_docx.add_heading(f"Level {level}", level=level)
        writer.heading(f"Level {level}", level=level)
    for style in (None, "Normal", "List Bullet", "List Number 2", "Quote", "List Bullet"):
        by_python_docx.add_paragraph(f"Styled {style}", style=style)
        writer.paragraph(f"Styled {style}", style=style)
    rows = [["2026-01-05", "LinkedIn", "Tab\tand\nnew line"], ["", "=SUM(A1)", " padded "]]
    table = by_python_docx.add_table(rows=3, cols=3)
    table.style = "Table Grid"
    for column, text in enumerate(["Date", "Platform", "Copy"]):
        table.rows[0].cells[column].text = ""
        table.rows[0].cells[column].paragraphs[0].add_run(text).bold = True
    for r, row in enumerate(rows, 1):
        for column, text in enumerate(row):
            table.rows[r].cells[column].text = text
    writer.table(["Date", "Platform", "Copy"], rows)
    for image in (cup, mug, cup):  # the same image twice: one image part, two pictures
        by_python_docx.add_picture(io.BytesIO(image), width=Inches(4.5))
        writer.picture(io.BytesIO(image), width=Inches(4.5))
    writer.flush()

    assert by_writer.element.xml == by_python_docx.element.xml
    assert [shape._inline.docPr.id for shape in by_writer.inline_shapes] == [1, 2, 3, 4]
    with pytest.raises(KeyError):  # a style the template lacks is refused as python-docx refuses it
        writer.paragraph("x", style="No Such Style")


def test_docx_writer_writes_markdown_as_python_docx_calls_write_it():
    """Markdown goes in as XML text: it must be what the python-docx calls for the same blocks and runs write."""
    by_python_docx, by_writer = docx.Document(), docx.Document()
    writer = DocxWriter(by_writer)
    writer.markdown(
        "# Plan\n\nSome **bold**, *em*, ~~gone~~, `code`, [a link](https://e.x/?a=1&b=2) <b>\nnext  \nbreak\n\n"
        "1. one\n2. two\n\n- dot\n\n> quoted\n\n```\nx = 1\n\tindented\n```\n",
        heading_offset=2,
    )
    writer.flush()

    document = by_python_docx
    document.add_heading("Plan", level=3)
    paragraph = document.add_paragraph(style="Normal")
    for text, bold, italic, strike, code in [
        ("Some ", None, None, None, False),
        ("bold", True, None, None, False),
        (", ", None, None, None, False),
        ("em", None, True, None, False),
        (", ", None, None, None, False),
        ("gone", None, None, True, False),
        (", ", None, None, None, False),
        ("code", None, None, None, True),
        (", ", None, None, None, False),
        ("a link", None, None, None, False),
        (" (https://e.x/?a=1&b=2)", "plain", None, None, False),
        (" <b>", None, None, None, False),
        (" ", "plain", None, None, False),  # the soft break
        ("next", None, None, None, False),
        ("break", None, None, None, False),
    ]:
        run = paragraph.add_run(text)
        if bold != "plain":
            run.bold, run.italic, run.font.strike = bold, italic, strike
        if code:
            run.font.name = "Courier New"
        if text == "next":
            paragraph.add_run().add_break()
    numbering = document.part.numbering_part.element
    for number, text in enumerate(["one", "two"]):
        paragraph = document.add_paragraph(style="List Number")
        if number == 0:  # the list restarts at 1: its own numbering instance
            style_num_id = paragraph.style.element.pPr.numPr.numId.val
            num = numbering.add_num(numbering.num_having_numId(style_num_id).abstractNumId.val)
            num.add_lvlOverride(ilvl=0).add_startOverride(1)
            properties = paragraph._p.get_or_add_pPr().get_or_add_numPr()
            properties.get_or_add_numId().val = num.numId
            properties.get_or_add_ilvl().val = 0
        run = paragraph.add_run(text)
        run.bold = run.italic = run.font.strike = None
    for text, style in (("dot", "List Bullet"), ("quoted", "Quote")):
        run = document.add_paragraph(style=style).add_run(text)
        run.bold = run.italic = run.font.strike = None
    code = document.add_paragraph().add_run("x = 1\n\tindented")
    code.font.name, code.font.size = "Courier New", Pt(9)

    assert by_writer.element.xml == by_python_docx.element.xml
    assert by_writer.part.numbering_part.element.xml == by_python_docx.part.numbering_part.element.xml


def test_docx_writer_leaves_out_what_xml_cannot_carry():
    """python-docx refuses control characters (ValueError); the writer drops them and keeps the rest."""
    writer = DocxWriter(docx.Document())
    writer.paragraph("bell\x07 and\x00 null", style="Heading 1")
    writer.markdown("tab\x0bbed **bold\x1b**")
    writer.table(["A\x01"], [["b\x02"]])

    document = docx.Document(io.BytesIO(writer.save()))
    assert [p.text for p in document.paragraphs] == ["bell and null", "tabbed bold"]
    assert [c.text for row in document.tables[0].rows for c in row.cells] == ["A", "b"]


def test_csv_has_a_row_per_post_and_per_calendar_entry(run, marketer):
    file = export(run, "csv", marketer)

    assert file.content_type == "text/csv; charset=utf-8"
    reader = csv.DictReader(io.StringIO(file.content.decode()))
    rows = list(reader)
    assert reader.fieldnames == [
        "date",
        "time",
        "platform",
        "title",
        "text",
        "hashtags",
        "media",
        "status",
        "provider",
        "model",
    ]
    entries = Revision.objects.get(deliverable=of_kind(run, "content_calendar"), version=1).structured["entries"]
    calendar_rows = [r for r in rows if r["date"]]
    assert calendar_rows == [
        {
            "date": e["date"],
            "time": "09:00",
            "platform": e["platform"],
            "title": e["title"],
            "text": e["text"],
            "hashtags": "",
            "media": "",
            "status": "draft",
            "provider": "offline",
            "model": "offline-templates-v1",
        }
        for e in entries
    ]
    post_rows = [r for r in rows if not r["date"]]
    assert [(r["platform"], r["title"], r["hashtags"]) for r in post_rows] == [
        ("linkedin", of_kind(run, "linkedin_post").title, " ".join(of_kind(run, "linkedin_post").hashtags)),
        ("instagram", of_kind(run, "instagram_post").title, " ".join(of_kind(run, "instagram_post").hashtags)),
    ]
    assert len(rows) == len(entries) + 2


def test_csv_quotes_commas_quotes_and_newlines(run, marketer):
    deliverable_amend(
        deliverable=of_kind(run, "linkedin_post"),
        actor=marketer,
        version=1,
        content_markdown='Line one, with "quotes"\nLine two',
    )

    rows = list(csv.DictReader(io.StringIO(export(run, "csv", marketer).content.decode())))

    assert (
        next(r for r in rows if r["platform"] == "linkedin" and not r["date"])["text"]
        == 'Line one, with "quotes"\nLine two'
    )


def test_csv_cells_that_look_like_formulas_are_kept_as_text(run, marketer):
    deliverable_amend(
        deliverable=of_kind(run, "linkedin_post"),
        actor=marketer,
        version=1,
        content_markdown='=HYPERLINK("http://evil.example","click")',
    )

    rows = list(csv.DictReader(io.StringIO(export(run, "csv", marketer).content.decode())))

    post = next(r for r in rows if r["platform"] == "linkedin" and not r["date"])
    assert post["text"] == '\'=HYPERLINK("http://evil.example","click")'


def test_zip_holds_the_working_files_and_the_images(marketer, run_tasks_inline):
    run = generate_creatives(marketer, run_tasks_inline, count=1)

    file = export(run, "zip", marketer)

    assert file.content_type == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(file.content))
    names = archive.namelist()
    stem = file.filename.removesuffix(".zip")
    assert names[:4] == [f"{stem}.md", f"{stem}.json", f"{stem}.docx", f"{stem}.csv"]
    assert not any(name.endswith((".pdf", ".pptx")) for name in names)  # the branded pack: its own downloads
    images = [n for n in names if n.startswith("images/")]
    assert len(images) == 1 and re.match(r"^images/001_ad_copy_[0-9a-f-]{36}\.png$", images[0])
    assert archive.read(images[0])[:8] == b"\x89PNG\r\n\x1a\n"
    assert validate_envelope(json.loads(archive.read(f"{stem}.json"))) == []
    assert stem.startswith("aicmo_acme_creatives_")  # no campaign: the module names the file


def test_zip_stores_the_images_as_they_are_and_compresses_the_rest(marketer, run_tasks_inline):
    run = generate_creatives(marketer, run_tasks_inline, count=2)

    archive = zipfile.ZipFile(io.BytesIO(export(run, "zip", marketer).content))

    methods = [(info.filename.rsplit(".", 1)[-1], info.compress_type) for info in archive.infolist()]
    assert methods == [
        ("md", zipfile.ZIP_DEFLATED),
        ("json", zipfile.ZIP_DEFLATED),
        ("docx", zipfile.ZIP_DEFLATED),
        ("csv", zipfile.ZIP_DEFLATED),
        ("png", zipfile.ZIP_STORED),
        ("png", zipfile.ZIP_STORED),
        ("json", zipfile.ZIP_DEFLATED),  # the manifest, written last
    ]


def test_an_export_writes_one_audit_event(run, marketer):
    file = export(run, "zip", marketer, approved_only=False)

    assert list(AuditEvent.objects.values("run_id", "deliverable_id", "actor__username", "action", "data")) == [
        {
            "run_id": run.pk,
            "deliverable_id": None,
            "actor__username": "marketer",
            "action": "export",
            "data": {"format": "zip", "approved_only": False, "file": file.stored_as, "sha256": file.sha256},
        }
    ]


def test_refused_exports_write_nothing(run, marketer, outsider):
    with pytest.raises(Conflict):
        export(run, "md", marketer, approved_only=True)
    with pytest.raises(NotFound):
        export(run, "md", outsider)
    assert AuditEvent.objects.count() == 0


def test_export_queries_do_not_grow_with_the_number_of_deliverables(marketer, run_tasks_inline):
    small = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    large = generate_campaign(
        marketer,
        run_tasks_inline,
        campaign_name="Big",
        platforms=["linkedin", "instagram", "twitter", "facebook", "threads", "tiktok"],
    )
    assert Deliverable.objects.filter(run=large).count() > Deliverable.objects.filter(run=small).count() + 4

    counts = {}
    for fmt in ("md", "json", "docx", "csv", "pdf", "pptx", "ics", "zip"):
        for name, run in (("small", small), ("large", large)):
            with CaptureQueriesContext(connection) as queries:
                export(run, fmt, marketer)
            counts[(fmt, name)] = len(queries)
        assert counts[(fmt, "small")] == counts[(fmt, "large")], fmt


def _grow(run, size: int) -> None:
    """Fill `run` up to `size` deliverables: copies of its own, each with a revision (through the revisions
    service), an image on every fifth and every third one approved."""
    originals = list(run.deliverables.order_by("position"))
    revisions = {r.deliverable_id: r for r in Revision.objects.filter(deliverable__run=run)}
    image = draw_image("A cup", "256x256")
    for position in range(len(originals), size):
        original = originals[position % len(originals)]
        copy = Deliverable.objects.create(
            run=run,
            position=position,
            kind=original.kind,
            platform=original.platform,
            title=original.title,
            hashtags=original.hashtags,
            metadata=original.metadata,
            status="approved" if position % 3 == 0 else "draft",
            version=1,
            generation_status=Deliverable.Generation.DONE,
        )
        revision = revisions[original.pk]
        revision_create(
            deliverable=copy,
            version=1,
            title=revision.title,
            content_markdown=revision.content_markdown,
            hashtags=revision.hashtags,
            structured=revision.structured,
            brand_kit=run.input_snapshot.get("brand") or {},
        )
        if position % 5 == 0:
            asset_create(brand_id=run.brand_id, deliverable=copy, content=image)


# Every export of a run reads it in a fixed number of queries, one each: the actor's brand check, the
# deliverables, their current revisions, their images, the run's brand and campaign, the approvers, the campaign's
# creatives (the ZIP's JSON envelope adds its deliverable count); then the audit event (savepoint, insert,
# release). One query per deliverable more (an N+1) breaks the cap at once.
MAX_EXPORT_QUERIES = {"docx": 11, "zip": 12}


@pytest.mark.parametrize("fmt", sorted(MAX_EXPORT_QUERIES))
def test_an_export_of_fifty_deliverables_stays_within_its_queries(fmt, run, marketer, django_assert_max_num_queries):
    _grow(run, 50)
    assert run.deliverables.count() == 50
    images = Asset.objects.filter(deliverable__run=run).count()
    assert images >= 8

    with django_assert_max_num_queries(MAX_EXPORT_QUERIES[fmt]):
        file = export(run, fmt, marketer)

    if fmt == "docx":
        document = docx.Document(io.BytesIO(file.content))
        assert len(document.inline_shapes) == images
        assert sum(p.style.name == "Heading 1" for p in document.paragraphs) == 50
    else:
        names = zipfile.ZipFile(io.BytesIO(file.content)).namelist()
        assert sum(name.startswith("images/") for name in names) == images


# --- the operator command ------------------------------------------------------------------------------------


def test_export_run_writes_the_file_into_a_directory(run, tmp_path, capsys):
    call_command("export_run", str(run.run_id), "--format", "docx", "--output", str(tmp_path))

    written = list(tmp_path.iterdir())
    assert len(written) == 1 and FILENAME.match(written[0].name)
    document = docx.Document(str(written[0]))
    assert document.paragraphs[0].text == "Q1 Launch — Acme Coffee Roasters"
    assert f"Wrote {written[0]}" in capsys.readouterr().out
    event = AuditEvent.objects.get(action="export")
    assert (event.actor, event.data["format"], event.data["approved_only"]) == (None, "docx", False)


def test_export_run_writes_to_a_named_file_with_approved_only(run, tmp_path):
    set_status(of_kind(run, "email_copy"), "approved")
    target = tmp_path / "out.json"

    call_command("export_run", str(run.run_id), "--format", "json", "--approved-only", "--output", str(target))

    assert [d["kind"] for d in json.loads(target.read_text())["deliverables"]] == ["email_copy"]


@pytest.mark.parametrize(
    "arguments, returncode, message",
    [
        (["not-a-uuid", "--format", "md"], 2, "is not a run id"),
        (["00000000-0000-0000-0000-000000000000", "--format", "md"], 3, "No run"),
        (["{run}", "--format", "md", "--approved-only"], 4, "Nothing to export"),
        (["{run}", "--format", "md", "--output", "/nonexistent-dir/x.md"], 5, "Cannot write"),
    ],
)
def test_export_run_fails_with_clear_exit_codes(run, arguments, returncode, message):
    arguments = [a.format(run=run.run_id) for a in arguments]

    with pytest.raises(CommandError) as failure:
        call_command("export_run", *arguments)

    assert failure.value.returncode == returncode
    assert message in str(failure.value)


def test_export_run_rejects_an_unknown_format(run):
    with pytest.raises(CommandError, match="invalid choice: 'rtf'"):
        call_command("export_run", str(run.run_id), "--format", "rtf")
    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize("fmt", ["pdf", "pptx", "ics"])
def test_export_run_writes_the_branded_formats(run, tmp_path, fmt):
    call_command("export_run", str(run.run_id), "--format", fmt, "--output", str(tmp_path))

    (written,) = tmp_path.iterdir()
    assert FILENAME.match(written.name) and written.suffix == f".{fmt}"
    assert written.read_bytes()[:4] == {"pdf": b"%PDF", "pptx": b"PK\x03\x04", "ics": b"BEGIN:VCALENDAR"[:4]}[fmt]
