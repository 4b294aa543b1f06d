"""Two guards that run on every request: the idle timeout, and the second factor before any staff page."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accounts.network import client_ip
from accounts.second_factor import has_second_factor, second_factor_passed
from audit.context import client_address

LAST_SEEN_SESSION_KEY = "accounts_last_seen"
# Set on the fresh session after an idle sign-out, so the sign-in page can say why.
IDLE_SIGNED_OUT_SESSION_KEY = "accounts_signed_out_idle"


class AuditContextMiddleware:
    """Every audit row written while serving a request records the client's address (see audit.context)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = client_address.set(client_ip(request) or None)
        try:
            return self.get_response(request)
        finally:
            client_address.reset(token)


class IdleTimeoutMiddleware:
    """Sign out a session that has seen no request for SESSION_IDLE_TIMEOUT seconds."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN_SESSION_KEY, now)
            if now - last_seen > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
                request.session[IDLE_SIGNED_OUT_SESSION_KEY] = True
                return HttpResponseRedirect(f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}")
            request.session[LAST_SEEN_SESSION_KEY] = now
        return self.get_response(request)


@cache
def _protected_prefixes() -> tuple[str, ...]:
    return (reverse("staff:dashboard"), reverse("admin:index"), reverse("accounts:security"))


class SecondFactorRequiredMiddleware:
    """A signed-in user reaches no staff page, no account page and not the admin until this session has passed a
    second factor: the sign-in page's password is only the first step. Without a device, they are led through
    enrolment; with one, they are asked for a code. Pages outside these areas (the public registers, the sign-in
    flow itself) are not affected."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.user.is_authenticated
            and request.path.startswith(_protected_prefixes())
            and not second_factor_passed(request)
        ):
            step = "accounts:verify" if has_second_factor(request.user) else "accounts:setup"
            return HttpResponseRedirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
