"""Provenance everywhere: the provider and model of each piece on its card, in the approvals queue, in every
export format, in the studio's saved concepts; a person's amend names its editor."""

import csv
import io
import json

import docx
import pytest

from deliverables.models import Deliverable
from deliverables.services import deliverable_amend, run_export

from .review_helpers import generate_campaign, of_kind, set_status

pytestmark = pytest.mark.django_db

OFFLINE = "offline · offline-templates-v1 (template draft, no AI model)"


@pytest.fixture
def run(marketer, run_tasks_inline):
    return generate_campaign(marketer, run_tasks_inline)


def export(run, fmt, actor):
    return run_export(run=run, fmt=fmt, approved_only=False, actor=actor).content


def test_markdown_names_the_provider_of_every_piece(run, marketer):
    text = export(run, "md", marketer).decode()

    assert text.count(f"written by {OFFLINE}*") == run.deliverables.count() == 6


def test_docx_names_the_provider_of_every_piece(run, marketer):
    document = docx.Document(io.BytesIO(export(run, "docx", marketer)))

    lines = [p.text for p in document.paragraphs if "written by" in p.text]
    assert len(lines) == 6 and all(line.endswith(f"written by {OFFLINE}") for line in lines)


def test_csv_has_provider_and_model_columns(run, marketer):
    rows = list(csv.DictReader(io.StringIO(export(run, "csv", marketer).decode())))

    assert rows and {(r["provider"], r["model"]) for r in rows} == {("offline", "offline-templates-v1")}


def test_json_names_who_wrote_each_piece_and_who_edited_it(run, marketer):
    post = of_kind(run, "linkedin_post")
    deliverable_amend(deliverable=post, actor=marketer, version=1, content_markdown="A better post.")

    envelope = json.loads(export(run, "json", marketer))

    written = {d["kind"]: d["metadata"]["written_by"] for d in envelope["deliverables"]}
    assert written["linkedin_post"] == {"provider": "offline", "model": "offline-templates-v1", "edited_by": "marketer"}
    assert written["email_copy"] == {"provider": "offline", "model": "offline-templates-v1", "edited_by": ""}
    assert all(d["metadata"]["provider"] == "offline" for d in envelope["deliverables"])
    md = export(run, "md", marketer).decode()
    assert f"written by {OFFLINE}, edited by marketer*" in md


def test_run_page_cards_say_a_template_wrote_them(run, marketer_client):
    html = marketer_client.get(f"/runs/{run.run_id}/").content.decode()

    assert html.count('<dd data-provider>offline <span class="chip"') == 6


def test_approvals_queue_names_the_provider(run, manager_client):
    set_status(of_kind(run, "linkedin_post"), Deliverable.Status.IN_REVIEW)

    html = manager_client.get("/approvals/").content.decode()

    assert f'<div class="small muted" data-provenance>Written by {OFFLINE}</div>' in html
