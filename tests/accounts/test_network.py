"""The client's address behind the TLS proxy: believed from X-Forwarded-For only when the proxy is trusted, so that
a stranger can neither lock a real user out nor dodge the lockout with a forged header."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.network import client_ip
from tests.factories import PASSWORD, UserFactory

PROXY = "10.0.0.5"


def _ip(remote: str, forwarded: str | None = None) -> str:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **extra))


def test_without_trusted_proxies_the_header_is_ignored(settings: Any) -> None:
    settings.TRUSTED_PROXIES = []
    assert _ip("203.0.113.9", "198.51.100.1") == "203.0.113.9"


def test_through_a_trusted_proxy_the_client_is_the_last_untrusted_hop(settings: Any) -> None:
    settings.TRUSTED_PROXIES = [PROXY, "172.16.0.0/12"]
    assert _ip(PROXY, "198.51.100.1") == "198.51.100.1"
    # Whatever the client wrote itself sits further left and is not believed.
    assert _ip(PROXY, "192.0.2.66, 198.51.100.1") == "198.51.100.1"
    # Two proxies of ours in a row.
    assert _ip(PROXY, "198.51.100.1, 172.17.0.3") == "198.51.100.1"
    assert _ip(PROXY, "[2001:db8::1]:443") == "2001:db8::1"
    # No header, or only our own proxies in it: the proxy itself.
    assert _ip(PROXY) == PROXY
    assert _ip(PROXY, "garbage") == PROXY


def test_a_forged_header_from_an_untrusted_address_is_ignored(settings: Any) -> None:
    settings.TRUSTED_PROXIES = [PROXY]
    # Even a header that names our proxy as the last hop proves nothing when it did not come from the proxy.
    assert _ip("203.0.113.9", f"198.51.100.1, {PROXY}") == "203.0.113.9"
    assert _ip("203.0.113.9", "198.51.100.1") == "203.0.113.9"


def _fail(client: Client, remote: str, forwarded: str | None, password: str = "wrong") -> Any:  # noqa: S107
    extra = {"REMOTE_ADDR": remote}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(reverse("login"), {"username": "approver", "password": password}, **extra)


@pytest.mark.django_db
def test_failures_through_the_proxy_lock_out_only_the_client_that_made_them(settings: Any) -> None:
    settings.TRUSTED_PROXIES = [PROXY]
    UserFactory(username="approver")
    stranger = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _fail(stranger, PROXY, "203.0.113.66")
    assert _fail(stranger, PROXY, "203.0.113.66", PASSWORD).status_code == 429
    # The real approver, at another address behind the same proxy, still signs in.
    response = _fail(Client(), PROXY, "198.51.100.7", PASSWORD)
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_forged_header_does_not_dodge_the_lockout(settings: Any) -> None:
    settings.TRUSTED_PROXIES = [PROXY]
    UserFactory(username="approver")
    attacker = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        # A new forged address every time: if it were believed, the attacker would never be locked out.
        _fail(attacker, "203.0.113.66", f"198.51.100.{n}")
    assert _fail(attacker, "203.0.113.66", "198.51.100.200", PASSWORD).status_code == 429
