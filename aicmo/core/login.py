"""Log-in with a brake on password guessing: after AICMO_LOGIN_MAX_FAILURES failed attempts for one username
from one IP address within AICMO_LOGIN_WINDOW_S, the form refuses (even the right password) until the window
ends. Counts live in Django's cache (Redis in production), so every web process shares them. Behind a reverse
proxy, set AICMO_TRUSTED_PROXIES so the address is the client's, not the proxy's (else every user shares the
proxy's address and anyone can hold an account's log-in shut for the window). A throttle slows guessing down;
it is not a security boundary on its own."""

import hashlib
import logging

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.core.exceptions import ValidationError

logger = logging.getLogger(__name__)


def _key(*, username: str, ip: str) -> str:
    digest = hashlib.sha256(f"{username.strip().lower()}|{ip}".encode()).hexdigest()[:32]
    return f"aicmo:login:failures:{digest}"


def login_blocked(*, username: str, ip: str) -> bool:
    try:
        return (cache.get(_key(username=username, ip=ip)) or 0) >= settings.AICMO_LOGIN_MAX_FAILURES
    except Exception:  # a cache outage must not lock everyone out
        logger.warning("login throttle cache unavailable")
        return False


def login_failed(*, username: str, ip: str) -> int:
    """Count a failed attempt; the window starts with the first failure. Returns the count."""
    key = _key(username=username, ip=ip)
    try:
        cache.add(key, 0, timeout=settings.AICMO_LOGIN_WINDOW_S)
        return cache.incr(key)
    except Exception:
        logger.warning("login throttle cache unavailable")
        return 0


def login_succeeded(*, username: str, ip: str) -> None:
    try:
        cache.delete(_key(username=username, ip=ip))
    except Exception:
        logger.warning("login throttle cache unavailable")


def client_ip(request) -> str:
    """The client's address. Behind AICMO_TRUSTED_PROXIES reverse proxies (each appends the address it saw to
    X-Forwarded-For), it is the entry the outermost trusted proxy added; without proxies, REMOTE_ADDR. Entries
    further left are the client's own claims and are never trusted."""
    proxies = settings.AICMO_TRUSTED_PROXIES
    if proxies:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or "unknown"


class LoginThrottleMixin:
    """For Django's AuthenticationForm and the admin's: refuse while blocked, count failures, reset on success."""

    throttled_message = (
        "Too many failed log-ins for this account from your address. Wait %(minutes)s minutes and try again."
    )

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = client_ip(self.request) if self.request is not None else "unknown"
        if username and login_blocked(username=username, ip=ip):
            logger.warning("log-in refused: too many failures", extra={"ip": ip})
            raise ValidationError(
                self.throttled_message,
                code="throttled",
                params={"minutes": max(1, settings.AICMO_LOGIN_WINDOW_S // 60)},
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            if username:
                failures = login_failed(username=username, ip=ip)
                logger.info("log-in failed", extra={"ip": ip, "failures": failures})
            raise
        login_succeeded(username=username, ip=ip)
        return cleaned


class ThrottledAuthenticationForm(LoginThrottleMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(LoginThrottleMixin, AdminAuthenticationForm):
    pass


class ThrottledLoginView(LoginView):
    """Django's LoginView and template (`registration/login.html`) with the throttled form."""

    form_class = ThrottledAuthenticationForm
    template_name = "registration/login.html"
