"""Password-guessing guard (SPEC §6.3): django-ratelimit on the admin login and ``auth/token/``.

Attempts are counted per client IP and per submitted username in the shared ``counters``
cache; a blocked attempt answers 429 (the error body for the API, a message for the admin).
"""

from __future__ import annotations

import functools
import json

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.template.response import TemplateResponse
from django_ratelimit.core import is_ratelimited
from django_ratelimit.exceptions import Ratelimited

from mamcrawler.api.exception_handlers import json_error_response


def _username(group, request) -> str:
    """The username of a login attempt, from a form or a JSON body."""
    if request.POST.get("username"):
        return request.POST["username"].strip().lower()
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return ""
        if isinstance(data, dict):
            return str(data.get("username", "")).strip().lower()
    return ""


def login_attempt_blocked(request, username: str | None = None) -> bool:
    """Count this login attempt; True when its IP or its username is over the limit.

    ``request`` is Django's HttpRequest; ``username`` defaults to the one in its body.
    """
    rate = settings.LOGIN_ATTEMPTS_RATE
    # REMOTE_ADDR is optional in WSGI (a Unix socket, an in-process client); without it the
    # ``ip`` key raises, so such attempts share one bucket instead of answering 500.
    ip_key = "ip" if request.META.get("REMOTE_ADDR") else (lambda group, req: "no-address")
    by_ip = is_ratelimited(request, group="login-ip", key=ip_key, rate=rate, method="POST", increment=True)
    username = (username if username is not None else _username(None, request)).strip().lower()
    by_user = bool(username) and is_ratelimited(
        request, group="login-user", key=lambda group, req: username, rate=rate, method="POST", increment=True
    )
    return by_ip or by_user


def guard_login(view):
    """Wrap a login view so that too many POSTs are answered by ``login_blocked``."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "POST" and login_attempt_blocked(request):
            return login_blocked(request, Ratelimited())
        return view(request, *args, **kwargs)

    return wrapper


def login_blocked(request, exception):
    """What a blocked login attempt sees: the API error body, or the admin form with a message."""
    if request.path.startswith("/api/"):
        response = json_error_response(
            request,
            429,
            message="Too many login attempts.",
            detail="Wait a minute before trying again.",
            context={"retry_after": 60},
        )
        response["Retry-After"] = "60"
        return response
    messages.error(request, "Too many login attempts. Wait a minute before trying again.")
    context = {
        **admin.site.each_context(request),
        "title": "Log in",
        "app_path": request.get_full_path(),
        "form": AdminAuthenticationForm(request),
        "username": request.user.get_username(),
    }
    return TemplateResponse(request, "admin/login.html", context, status=429)
