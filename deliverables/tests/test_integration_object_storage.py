"""Across machines: web and two workers that share no media folder keep images and export files on
S3-compatible object storage (a local moto server started here), and the web process serves each image only to
members of its brand. Every process is real (gunicorn, two Celery workers, one after the other so each image is
known to come from one of them), each with its own AICMO_MEDIA_ROOT, configured by the environment alone."""

import io
import zipfile

import boto3
import pytest
import requests
from rest_framework.authtoken.models import Token

from aicmo.testing.processes import S3_READY, celery_worker, flush_redis, gunicorn, s3_server, wait_http
from deliverables.models import Asset, Run

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BUCKET = "aicmo-test-media"
KEYS = {"aws_access_key_id": "test-key", "aws_secret_access_key": "test-secret", "region_name": "us-east-1"}


@pytest.fixture
def object_storage(tmp_path):
    server = s3_server(tmp_path / "s3.log").start(ready_text=S3_READY)
    wait_http(server.url, expect=None)
    client = boto3.client("s3", endpoint_url=server.url, **KEYS)
    client.create_bucket(Bucket=BUCKET)
    env = {
        "AICMO_S3_BUCKET": BUCKET,
        "AICMO_S3_ENDPOINT_URL": server.url,
        "AICMO_S3_ACCESS_KEY_ID": KEYS["aws_access_key_id"],
        "AICMO_S3_SECRET_ACCESS_KEY": KEYS["aws_secret_access_key"],
        "AICMO_S3_REGION": KEYS["region_name"],
        "AICMO_S3_ADDRESSING_STYLE": "path",
    }
    yield client, env
    server.stop()


def keys(client) -> set[str]:
    return {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def files_in(folder) -> list:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_images_made_by_two_workers_without_a_shared_folder_are_served_to_members_only(
    tmp_path, object_storage, marketer, outsider
):
    client, storage_env = object_storage
    media = {name: tmp_path / f"media-{name}" for name in ("web", "worker-a", "worker-b")}
    for folder in media.values():
        folder.mkdir()
    flush_redis()
    web = gunicorn(tmp_path / "web.log", workers=1, AICMO_MEDIA_ROOT=str(media["web"]), **storage_env)
    web.start(ready_text="Booting worker")
    member = {"Authorization": f"Token {Token.objects.create(user=marketer).key}"}
    stranger = {"Authorization": f"Token {Token.objects.create(user=outsider).key}"}
    runs = []
    try:
        wait_http(f"{web.url}/healthz")
        for name in ("worker-a", "worker-b"):  # one worker at a time: each run's image is made by that one
            worker = celery_worker(
                tmp_path / f"{name}.log", concurrency=1, node=name, AICMO_MEDIA_ROOT=str(media[name]), **storage_env
            ).start(ready_text="ready.")
            try:
                response = requests.post(
                    f"{web.url}/api/v1/creatives/generate?wait=60",
                    json={"product": "Cold brew", "platforms": ["instagram"], "count": 1, "with_images": True},
                    headers=member,
                    timeout=90,
                )
            finally:
                worker.stop()
            assert response.status_code == 200, worker.output()[-2000:]
            assert response.json()["status"] == "SUCCESS"
            assert "generate_deliverable" in worker.output()
            runs.append(Run.objects.get(run_id=response.json()["run_id"]))

        assets = [Asset.objects.get(deliverable__run=run) for run in runs]
        # the files are in the bucket, and in no process's media folder
        assert {asset.file.name for asset in assets} <= keys(client)
        assert [files_in(folder) for folder in media.values()] == [[], [], []]

        for asset in assets:
            stored = client.get_object(Bucket=BUCKET, Key=asset.file.name)["Body"].read()
            served = requests.get(f"{web.url}{asset.url}", headers=member, timeout=30)
            assert (served.status_code, served.headers["Content-Type"]) == (200, "image/png")
            assert served.content == stored and stored[:8] == b"\x89PNG\r\n\x1a\n"
            assert served.headers["Cache-Control"] == "private, max-age=3600"
            refused = requests.get(f"{web.url}{asset.url}", headers=stranger, timeout=30)
            assert refused.status_code == 404 and stored not in refused.content
            assert requests.get(f"{web.url}{asset.url}", timeout=30).status_code == 401
        # no object of the bucket is readable without the app: nothing was made public
        anonymous = requests.get(f"{client.meta.endpoint_url}/{BUCKET}/{assets[0].file.name}", timeout=30)
        assert anonymous.status_code == 403

        # the web process exports worker A's run: the pack reads the image from the bucket and is kept there
        export = requests.get(f"{web.url}/api/v1/runs/{runs[0].run_id}/export?format=zip", headers=member, timeout=60)
        assert export.status_code == 200
        archive = zipfile.ZipFile(io.BytesIO(export.content))
        (image,) = [name for name in archive.namelist() if name.startswith("images/")]
        assert archive.read(image) == client.get_object(Bucket=BUCKET, Key=assets[0].file.name)["Body"].read()
        kept = [key for key in keys(client) if key.startswith(f"exports/{runs[0].brand_id}/{runs[0].run_id}/")]
        assert len(kept) == 1 and kept[0].endswith(".zip")
        assert client.get_object(Bucket=BUCKET, Key=kept[0])["Body"].read() == export.content
        assert files_in(media["web"]) == []
    finally:
        web.stop()
