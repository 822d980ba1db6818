"""`POST /chatkit`: the ChatKit protocol, served by the official `openai-chatkit` server (creatives/studio/server.py).

An async view: `ChatKitServer.process()` is a coroutine and its streaming result an async iterator, so under ASGI
an open stream holds no thread. Authentication is the API's (DRF token, session with CSRF, whatever
`DEFAULT_AUTHENTICATION_CLASSES` lists): a ChatKit front end sends its token through its custom `fetch`, the
studio page its session. The request is parsed here first, so bad input answers 400, someone else's (or a
missing) thread 404 and a role that may not ask 403, before the library starts a stream."""

import logging

from chatkit.server import StreamingResult
from chatkit.store import NotFoundError
from chatkit.types import (
    AttachmentsCreateReq,
    ThreadsAddClientToolOutputReq,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsCustomActionReq,
    ThreadsRetryAfterItemReq,
)
from django.conf import settings
from django.http import FileResponse, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError
from rest_framework import exceptions
from rest_framework.parsers import BaseParser, FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.settings import api_settings

from aicmo.core.errors import ApplicationError
from aicmo.core.limits import ConcurrencyLimited, stream_slot
from brands.selectors import brand_for, brands_for

from .models import StudioItem
from .studio.attachments import TooLarge, attachment_check, attachment_upload, attachments_usable, owned_attachment
from .studio.db import run_db
from .studio.items import owned_thread
from .studio.replay import have_from
from .studio.server import REQUEST, studio_server
from .studio.services import message_text_check, require_ask_permission
from .studio.store import StudioContext

logger = logging.getLogger(__name__)

BODY_MAX_BYTES = 64 * 1024
ASKING = (ThreadsCreateReq, ThreadsAddUserMessageReq)
# How long an open answer may count against the user's stream cap if its close is never seen.
STREAM_HOLD_S = 15 * 60


def _error(status: int, detail: str, **extra) -> JsonResponse:
    return JsonResponse({"detail": detail, **extra}, status=status)


class _Unparsed(BaseParser):
    """Any other body (an upload's raw bytes): left unread for the view."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return {}


def _authenticate(request, parsers=None):
    """(user, None) or (None, error response): the API's authenticators, CSRF included for sessions."""
    drf_request = Request(
        request,
        # the CSRF check reads the form data of a session's POST
        parsers=parsers or [JSONParser(), FormParser()],
        authenticators=[cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES],
    )
    try:
        user = drf_request.user
    except exceptions.AuthenticationFailed as error:
        return None, _error(401, str(error.detail))
    except exceptions.PermissionDenied as error:  # a session without its CSRF token
        return None, _error(403, str(error.detail))
    except exceptions.Throttled as error:  # HTTP Basic from a locked-out address
        response = _error(429, str(error.detail))
        response["Retry-After"] = str(int(error.wait or 1))
        return None, response
    except exceptions.APIException as error:
        return None, _error(400, str(error.detail))
    if not getattr(user, "is_authenticated", False):
        response = _error(401, "Authentication credentials were not provided.")
        response["WWW-Authenticate"] = 'Token realm="api"'
        return None, response
    return user, None


def _client_call_waits(thread) -> bool:
    last = StudioItem.objects.filter(thread=thread).order_by("-seq").values("type", "data").first()
    return bool(last and last["type"] == "client_tool_call" and last["data"].get("status") == "pending")


def _prepare(request, body: bytes):
    """The parsed request and its context, or an error response."""
    user, refused = _authenticate(request)
    if refused is not None:
        return None, None, refused
    try:
        parsed = REQUEST.validate_json(body)
    except ValidationError as error:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:5]]
        return None, None, _error(400, "This is not a ChatKit request.", errors=problems)
    slug = parsed.metadata.get("brand") if isinstance(parsed.metadata, dict) else None
    if slug is not None and not isinstance(slug, str):
        return None, None, _error(400, "metadata.brand must be a brand's slug.")
    brand = brand_for(user, slug) if slug else brands_for(user).order_by("name").first()
    if slug and brand is None:
        return None, None, _error(404, "No brand of yours has this slug.")
    thread_id = getattr(parsed.params, "thread_id", None)
    thread = None
    try:
        if thread_id is not None:
            thread = owned_thread(user, thread_id)
            brand = thread.brand if not slug else brand
        if isinstance(parsed, (*ASKING, ThreadsRetryAfterItemReq, AttachmentsCreateReq)) and brand is not None:
            require_ask_permission(user, brand.pk)
        if isinstance(parsed, ASKING):
            message_text_check(
                " ".join(getattr(c, "text", "") for c in parsed.params.input.content),
                with_attachments=bool(parsed.params.input.attachments),
            )
            attachments_usable(user, parsed.params.input.attachments, brand=brand)
        if isinstance(parsed, AttachmentsCreateReq):
            params = parsed.params
            attachment_check(name=params.name, size=params.size, mime_type=params.mime_type)
            if brand is None:
                raise ApplicationError("You are not a member of any brand: an attachment belongs to one.")
    except NotFoundError:
        return None, None, _error(404, "Not found.")
    except ApplicationError as error:
        return None, None, _error(error.http_status, error.message, code=error.code)
    if isinstance(parsed, ThreadsAddClientToolOutputReq) and not _client_call_waits(thread):
        # The library would fail mid-stream (after its 200): refuse before, clearly.
        return None, None, _error(409, "In this thread no client tool call is waiting for an answer.")
    if isinstance(parsed, ThreadsCreateReq) and brand is None:
        return None, None, _error(400, "You are not a member of any brand: a conversation belongs to one.")
    if isinstance(parsed, ThreadsRetryAfterItemReq):
        return None, None, _error(400, "threads.retry_after_item is not supported: send the message again.")
    if isinstance(parsed, ThreadsCustomActionReq) and have_from(parsed.params.action.payload) is None:
        return None, None, _error(400, "payload.have must be a list of item ids.")
    context = StudioContext(
        user=user,
        brand=brand,
        brand_named=bool(slug),
        trace_id=getattr(request, "trace_id", "") or "",
        base_url=_base_url(request),
    )
    return parsed, context, None


@csrf_exempt  # session callers are CSRF-checked by DRF's SessionAuthentication; token callers need none
async def chatkit(request):
    if request.method != "POST":
        response = _error(405, f'Method "{request.method}" not allowed.')
        response["Allow"] = "POST"
        return response
    body = request.body
    if len(body) > BODY_MAX_BYTES:
        return _error(413, f"The request is too large (at most {BODY_MAX_BYTES} bytes).")
    parsed, context, refused = await run_db(_prepare, request, body)
    if refused is not None:
        return refused
    try:
        result = await studio_server().process_parsed(parsed, context)
    except NotFoundError:
        return _error(404, "Not found.")
    except ApplicationError as error:  # attachments.create, checked again by its service
        return _error(error.http_status, error.message, code=error.code)
    except NotImplementedError:  # input.transcribe, threads.sync_custom_action: not offered by the studio
        return _error(400, f"{parsed.type} is not supported here.")
    if isinstance(result, StreamingResult):
        try:  # one of the user's AICMO_MAX_CONCURRENT_STREAMS open answers
            events = await stream_slot(context.user, result, hold_s=STREAM_HOLD_S)
        except ConcurrencyLimited as refusal:
            response = _error(429, refusal.message, code=refusal.default_code)
            response["Retry-After"] = str(int(refusal.wait or 5))
            return response
        response = StreamingHttpResponse(events, content_type="text/event-stream; charset=utf-8")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # proxies: pass each event on at once
        return response
    return HttpResponse(result.json, content_type="application/json")


def _base_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


# --- attachments: the bytes of ChatKit's two-phase upload (creatives/studio/attachments.py) -----------------


@csrf_exempt  # as /chatkit: DRF's SessionAuthentication checks a session's CSRF token, a token needs none
def chatkit_attachment_upload(request, attachment_id: str):
    """`POST` (or `PUT`) the bytes of an attachment made by `attachments.create`: multipart `file`, or the raw
    body. Answers the ready attachment (the protocol's JSON)."""
    if request.method not in ("POST", "PUT"):
        response = _error(405, f'Method "{request.method}" not allowed.')
        response["Allow"] = "POST, PUT"
        return response
    user, refused = _authenticate(request, parsers=[MultiPartParser(), _Unparsed()])
    if refused is not None:
        return refused
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    limit = settings.AICMO_STUDIO_ATTACHMENT_MAX_BYTES
    try:
        owned_attachment(user, attachment_id)  # someone else's: 404 before anything is read
        if declared > limit + 64 * 1024:  # (a multipart envelope adds a little)
            raise TooLarge(f"The image is too large: at most {limit // (1024 * 1024)} MB.")
        if request.content_type == "multipart/form-data":
            content = request.FILES.get("file")
            if content is None:
                raise ApplicationError("Send the image as the multipart field `file`, or as the request body.")
        else:
            content = request
        attachment = attachment_upload(
            user=user, attachment_id=attachment_id, content=content, base_url=_base_url(request)
        )
    except NotFoundError:
        return _error(404, "Not found.")
    except ApplicationError as error:
        return _error(error.http_status, error.message, code=error.code)
    return HttpResponse(attachment.model_dump_json(exclude_none=True), content_type="application/json")


def chatkit_attachment_file(request, attachment_id: str):
    """The bytes of an attachment (its `preview_url`), for its owner only (anyone else: 404)."""
    if request.method != "GET":
        response = _error(405, f'Method "{request.method}" not allowed.')
        response["Allow"] = "GET"
        return response
    user, refused = _authenticate(request)
    if refused is not None:
        return refused
    try:
        row = owned_attachment(user, attachment_id)
    except NotFoundError:
        return _error(404, "Not found.")
    if not row.file:
        return _error(404, "This attachment has not been uploaded yet.")
    response = FileResponse(row.file.open("rb"), content_type=row.mime_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
