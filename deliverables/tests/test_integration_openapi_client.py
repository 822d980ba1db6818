"""An API user's client: generated from the live server's `/api/schema/` by `openapi-python-client` with its
defaults (no config file, no options), imported, and driven through generate → run → amend → submit."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from rest_framework.authtoken.models import Token

from aicmo.testing.processes import UVICORN_READY, uvicorn, wait_http
from deliverables.models import Deliverable

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PACKAGE = "aicmo_api_client"  # from the schema's title, "AICMO API"


@pytest.fixture
def generated_client(celery_worker_process, tmp_path):
    web = uvicorn(tmp_path / "web.log").start(ready_text=UVICORN_READY)
    try:
        wait_http(web.url + "/healthz")
        schema = requests.get(web.url + "/api/schema/", headers={"Accept": "application/json"}, timeout=30)
        assert schema.status_code == 200
        (tmp_path / "schema.json").write_text(json.dumps(schema.json()))
        bin_dir = str(Path(sys.executable).parent)  # the generator's post-hooks run `ruff`
        generated = subprocess.run(
            [os.path.join(bin_dir, "openapi-python-client"), "generate", "--path", "schema.json"],
            cwd=tmp_path,
            env={**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"},
            capture_output=True,
            text=True,
            timeout=300,
        )
        output = generated.stdout + generated.stderr
        assert generated.returncode == 0, output
        # The one piece it leaves out: an image download (`image/png` has no model); everything else is generated.
        warnings = [line for line in output.splitlines() if line.startswith("WARNING parsing")]
        assert warnings == ["WARNING parsing GET /assets/{id}/file within assets."], output
        sys.path.insert(0, str(tmp_path / "aicmo-api-client"))
        try:
            yield importlib.import_module(PACKAGE), web.url
        finally:
            sys.path.remove(str(tmp_path / "aicmo-api-client"))
            for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
                del sys.modules[name]
    finally:
        web.stop()


class Operations:
    """`api.<operation>` is the generated module of that operation (they are imported one by one, as users do)."""

    def __getattr__(self, name):
        return importlib.import_module(f"{PACKAGE}.api.api.{name}")


def test_a_generated_client_drives_generate_run_amend_submit(marketer, generated_client):
    package, url = generated_client
    api = Operations()
    models = importlib.import_module(f"{PACKAGE}.models")
    client = package.AuthenticatedClient(base_url=url, token=Token.objects.create(user=marketer).key, prefix="Token")

    kinds = models.CampaignBriefDeliverablesEnum
    started = api.api_v1_campaigns_generate_create.sync_detailed(
        client=client,
        body=models.CampaignBriefRequest(
            campaign_name="Client Launch",
            platforms=["LinkedIn"],
            deliverables=[kinds.CAMPAIGN_BRIEF, kinds.LINKEDIN_POST],
        ),
        wait=0,
    )
    assert started.status_code == 202
    run_id = started.parsed.run_id
    final = api.api_v1_runs_retrieve.sync_detailed(run_id, client=client, wait=60)
    assert final.status_code == 200
    envelope = final.parsed
    assert envelope.status == models.EnvelopeStatusEnum.SUCCESS
    assert [d.kind for d in envelope.deliverables] == ["campaign_brief", "linkedin_post"]
    post = envelope.deliverables[1]

    amended = api.api_v1_deliverables_partial_update.sync_detailed(
        post.id,
        client=client,
        body=models.AmendRequest(content_markdown="Fresh beans, roasted this week. #coffee", version=post.version),
    )
    assert amended.status_code == 200, amended.content
    assert amended.parsed.version == 2
    stale = api.api_v1_deliverables_partial_update.sync_detailed(
        post.id, client=client, body=models.AmendRequest(content_markdown="Stale edit", version=1)
    )
    assert stale.status_code == 409
    submitted = api.api_v1_deliverables_submit_create.sync_detailed(
        post.id, client=client, body=models.CommentRequest(comment="Ready for review")
    )
    assert submitted.status_code == 200, submitted.content
    assert str(submitted.parsed.status) == "in_review"

    listed = api.api_v1_runs_list.sync_detailed(client=client, status=models.ApiV1RunsListStatus.SUCCESS)
    assert listed.status_code == 200
    assert [str(summary.run_id) for summary in listed.parsed.results] == [str(run_id)]
    saved = Deliverable.objects.get(pk=post.id)
    assert (saved.status, saved.version) == ("in_review", 2)
    assert saved.revisions.get(version=2).content_markdown == "Fresh beans, roasted this week. #coffee"
