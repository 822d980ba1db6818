from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .errors import ApplicationError
from .health import broker_ok, database_ok, report
from .http import post_only
from .services import preference_set_theme


@never_cache
@require_GET
def healthz(request):
    """200 when the database and broker answer; 503 naming what is down (served under ASGI, probes.py answers
    before Django does, with the same response)."""
    status, body = report(db=database_ok(), broker=broker_ok())
    return JsonResponse(body, status=status)


@login_required
@post_only("home")
def theme_set(request):
    """Remember the theme. Script callers (the toggle) get 204; a plain form post goes back where it came from."""
    try:
        preference_set_theme(user=request.user, theme=request.POST.get("theme", ""))
    except ApplicationError as error:
        if request.headers.get("X-Requested-With") == "fetch":
            return JsonResponse({"detail": error.message}, status=400)
        messages.error(request, error.message)  # a plain form post: back to its page, with the message
    if request.headers.get("X-Requested-With") == "fetch":
        return HttpResponse(status=204)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = "/"
    return redirect(back)
