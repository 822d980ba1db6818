"""Log-in lockout through django-axes (why a library: its attempt log, admin, reverse-proxy handling and the
same check for every authentication path beat a hand-written counter).

AICMO_LOGIN_MAX_FAILURES failed log-ins from one client address lock that address for AICMO_LOGIN_WINDOW_S,
whatever usernames it tried, so password spraying is limited as much as guessing one password. Accounts
themselves are never locked: a stranger elsewhere cannot keep you out. The page log-in, the admin's and HTTP
Basic on the API all go through `authenticate()`, which axes guards; a locked address gets 429 with
Retry-After. Behind reverse proxies, set AICMO_TRUSTED_PROXIES so the address is the client's, not the proxy's."""

import math

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import JsonResponse
from django.shortcuts import render

LOCKED_MESSAGE = "Too many failed log-ins from your address. Wait %(minutes)s minutes and try again."


def client_ip(request) -> str:
    """The client's address. Behind AICMO_TRUSTED_PROXIES reverse proxies (each appends the address it saw to
    X-Forwarded-For), it is the entry the outermost trusted proxy added; without proxies, REMOTE_ADDR. Entries
    further left are the client's own claims and are never trusted. (axes asks this: AXES_CLIENT_IP_CALLABLE.)"""
    proxies = settings.AICMO_TRUSTED_PROXIES
    if proxies:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"  # no address at all: one shared bucket


def lockout_response(request, original_response=None, credentials=None):
    """429 with Retry-After: JSON on the API, the log-in page (with the reason) elsewhere."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    message = LOCKED_MESSAGE % {"minutes": max(1, math.ceil(seconds / 60))}
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message, "code": "throttled"}, status=429)
    else:
        context = {"form": AuthenticationForm(request), "lockout_message": message}
        response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


class AicmoLoginView(LoginView):
    """Django's LoginView with the site's template."""

    template_name = "registration/login.html"
