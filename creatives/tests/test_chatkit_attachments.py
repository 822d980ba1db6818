"""Attachments over the ChatKit protocol: `attachments.create` (built from chatkit.types) answers where to
upload, the bytes go to that URL, a message names the attachment, items.list shows it, and the assistant is
told of it. Another user's attachment does not exist for them; a wrong type or size is refused clearly."""

from urllib.parse import urlparse

import pytest
from chatkit.types import (
    Attachment,
    AttachmentCreateParams,
    AttachmentDeleteParams,
    AttachmentsCreateReq,
    AttachmentsDeleteReq,
    ImageAttachment,
    InferenceOptions,
    ItemsListParams,
    ItemsListReq,
    ThreadAddUserMessageParams,
    ThreadCreateParams,
    ThreadItemDoneEvent,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    UserMessageInput,
    UserMessageItem,
    UserMessageTextContent,
)
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pydantic import TypeAdapter

from creatives.models import StudioAttachment, StudioThread
from deliverables.models import Asset

from .conftest import token_for
from .test_chatkit import assistant_text

pytestmark = pytest.mark.django_db(transaction=True)

ATTACHMENT = TypeAdapter(Attachment)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)
JPEG = b"\xff\xd8\xff\xe0" + bytes(200)


def said(text: str, attachments: list[str]) -> UserMessageInput:
    return UserMessageInput(
        content=[UserMessageTextContent(text=text)] if text else [],
        attachments=attachments,
        inference_options=InferenceOptions(),
    )


def created(chatkit, name="bottle.png", size=None, mime_type="image/png"):
    size = len(PNG) if size is None else size
    return chatkit.call(AttachmentsCreateReq(params=AttachmentCreateParams(name=name, size=size, mime_type=mime_type)))


def upload(user, attachment, content: bytes, *, raw: bool = False, filename="bottle.png"):
    path = urlparse(str(attachment.upload_descriptor.url)).path
    headers = {"Authorization": f"Token {token_for(user)}"}
    if raw:
        return Client().post(path, data=content, content_type="image/png", headers=headers)
    return Client().post(path, {"file": SimpleUploadedFile(filename, content)}, headers=headers)


def fetch(user, url):
    return Client().get(urlparse(str(url)).path, headers={"Authorization": f"Token {token_for(user)}"})


def ready_attachment(chatkit, user, **kwargs) -> ImageAttachment:
    status, body = created(chatkit, **kwargs)
    assert status == 200, body
    attachment = ATTACHMENT.validate_python(body)
    response = upload(user, attachment, PNG)
    assert response.status_code == 200, response.content
    return ATTACHMENT.validate_json(response.content)


def test_an_image_is_uploaded_sent_listed_and_seen_by_the_assistant(chatkit_as, marketer, brand, worker_threads):
    chatkit = chatkit_as(marketer)
    status, body = created(chatkit)
    assert status == 200
    attachment = ATTACHMENT.validate_python(body)
    assert isinstance(attachment, ImageAttachment) and attachment.name == "bottle.png"
    assert attachment.upload_descriptor.method == "POST"
    assert urlparse(str(attachment.upload_descriptor.url)).path == f"/chatkit/attachments/{attachment.id}/upload"
    row = StudioAttachment.objects.get(pk=attachment.id)
    assert (row.user, row.brand, row.uploaded_at, bool(row.file)) == (marketer, brand, None, False)

    response = upload(marketer, attachment, PNG)
    assert response.status_code == 200, response.content
    ready = ATTACHMENT.validate_json(response.content)
    assert ready.upload_descriptor is None and ready.id == attachment.id
    row.refresh_from_db()
    assert row.size == len(PNG) and default_storage.open(row.file.name).read() == PNG
    preview = fetch(marketer, ready.preview_url)
    assert preview.status_code == 200 and preview["Content-Type"] == "image/png"
    assert b"".join(preview.streaming_content) == PNG

    events = chatkit.stream(
        ThreadsCreateReq(params=ThreadCreateParams(input=said("I want to promote our cold brew", [ready.id])))
    )
    thread_id = events[0].thread.id
    sent = next(e.item for e in events if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, UserMessageItem))
    assert [(a.id, a.name, a.thread_id) for a in sent.attachments] == [(ready.id, "bottle.png", thread_id)]
    assert assistant_text(events).startswith(
        "Thanks for the image “bottle.png”: I'll use it as the product image reference. Hi! I'm your ad-concept "
        "assistant for Acme Coffee Roasters. What visual style"
    )
    assert StudioAttachment.objects.get(pk=ready.id).thread_id is not None
    assert StudioThread.objects.get(pk=thread_id).title == "Cold brew"

    status, page = chatkit.call(ItemsListReq(params=ItemsListParams(thread_id=thread_id, order="asc")))
    assert status == 200
    listed = page["data"][0]
    assert listed["type"] == "user_message" and [a["id"] for a in listed["attachments"]] == [ready.id]
    assert listed["attachments"][0]["preview_url"] == str(ready.preview_url)

    # the image is the product reference of the images the assistant makes next
    chatkit.stream(
        ThreadsAddUserMessageReq(
            params=ThreadAddUserMessageParams(
                thread_id=thread_id, input=said("Make an image of a glass of iced coffee", [])
            )
        )
    )
    made = Asset.objects.get(brand=brand)
    assert made.prompt.endswith("the product as in the attached photo “bottle.png”")


def test_an_image_without_words_is_acknowledged_and_not_filed_as_the_brief(chatkit_as, marketer, brand, worker_threads):
    chatkit = chatkit_as(marketer)
    ready = ready_attachment(chatkit, marketer, name="../../etc/photo\x07.png")
    assert ready.name == "photo.png"  # no path, no control characters
    events = chatkit.stream(ThreadsCreateReq(params=ThreadCreateParams(input=said("", [ready.id]))))
    assert assistant_text(events) == (
        "Thanks for the image “photo.png”: I'll use it as the product image reference. "
        "What would you like to promote? Tell me about the product or service."
    )
    thread = StudioThread.objects.get(pk=events[0].thread.id)
    assert (thread.brief, thread.title) == ({}, "New conversation")


def test_someone_elses_attachment_is_not_found(chatkit_as, marketer, outsider, brand, worker_threads):
    mine = ready_attachment(chatkit_as(marketer), marketer)
    status, body = created(chatkit_as(marketer))
    waiting = ATTACHMENT.validate_python(body)
    other = chatkit_as(outsider)

    assert fetch(outsider, mine.preview_url).status_code == 404
    assert upload(outsider, waiting, PNG).status_code == 404
    status, body = other.call(ThreadsCreateReq(params=ThreadCreateParams(input=said("hi", [mine.id]))))
    assert (status, body) == (404, {"detail": "Not found."})
    status, body = other.call(AttachmentsDeleteReq(params=AttachmentDeleteParams(attachment_id=mine.id)))
    assert status == 404
    assert StudioAttachment.objects.filter(pk=mine.id).exists() and StudioThread.objects.count() == 0
    assert Client().get(urlparse(str(mine.preview_url)).path).status_code == 401  # anonymous


def test_wrong_types_sizes_and_states_are_refused_clearly(chatkit_as, marketer, brand, worker_threads, settings):
    chatkit = chatkit_as(marketer)
    status, body = created(chatkit, name="anim.gif", mime_type="image/gif")
    assert (status, body["detail"]) == (415, "Only PNG, JPEG or WebP images can be attached (this file is image/gif).")
    status, body = created(chatkit, size=11 * 1024 * 1024)
    assert (status, body["detail"]) == (413, "The image is too large (11.0 MB): at most 10 MB.")
    assert created(chatkit, size=0)[0] == 400
    assert StudioAttachment.objects.count() == 0

    status, body = created(chatkit)
    waiting = ATTACHMENT.validate_python(body)
    # a message cannot carry an image still waiting for its bytes
    status, body = chatkit.call(ThreadsCreateReq(params=ThreadCreateParams(input=said("hi", [waiting.id]))))
    assert (status, body["detail"]) == (400, "The image “bottle.png” has not finished uploading.")
    response = upload(marketer, waiting, b"GIF89a" + bytes(100))
    assert (response.status_code, response.json()["detail"]) == (415, "This file is not a PNG, JPEG or WebP image.")
    response = upload(marketer, waiting, JPEG, raw=True)
    assert response.status_code == 415 and response.json()["detail"] == (
        "The file is a JPG image, not the image/png declared."
    )
    settings.AICMO_STUDIO_ATTACHMENT_MAX_BYTES = 100
    response = upload(marketer, waiting, PNG)
    assert (response.status_code, response.json()["code"]) == (413, "too_large")
    settings.AICMO_STUDIO_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    assert upload(marketer, waiting, PNG, raw=True).status_code == 200  # the raw body works too
    response = upload(marketer, waiting, PNG)
    assert (response.status_code, response.json()["detail"]) == (409, "This attachment was already uploaded.")

    many = [ready_attachment(chatkit, marketer).id for _ in range(5)]
    status, body = chatkit.call(ThreadsCreateReq(params=ThreadCreateParams(input=said("hi", many))))
    assert (status, body["detail"]) == (400, "At most 4 images per message.")


def test_a_deleted_attachment_loses_its_bytes_and_record(chatkit_as, marketer, brand, worker_threads):
    chatkit = chatkit_as(marketer)
    ready = ready_attachment(chatkit, marketer)
    name = StudioAttachment.objects.get(pk=ready.id).file.name
    assert default_storage.exists(name)
    status, body = chatkit.call(AttachmentsDeleteReq(params=AttachmentDeleteParams(attachment_id=ready.id)))
    assert (status, body) == (200, {})
    assert not StudioAttachment.objects.filter(pk=ready.id).exists() and not default_storage.exists(name)
    assert fetch(marketer, ready.preview_url).status_code == 404
