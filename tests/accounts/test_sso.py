"""Single sign-on against a real OpenID Connect provider (django-oauth-toolkit, started by the `oidc_provider`
fixture in its own process): the portal's client fetches discovery, exchanges the code with PKCE, checks the ID
token's signature against the provider's keys, then links by e-mail or refuses."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from tests.conftest import OIDCProvider
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _sign_on(client: Client, provider: OIDCProvider, username: str, next_url: str = "/staff/") -> Any:
    """The browser's part, by hand: the portal sends us to the provider, we sign in there, and the provider sends
    us back to the portal's callback with a code."""
    start = client.get(reverse("accounts:oidc_authenticate"), {"next": next_url})
    assert start.status_code == 302
    authorize = start["Location"]
    assert authorize.startswith(f"{provider.issuer}/authorize/")
    assert "code_challenge=" in authorize
    browser = requests.Session()
    to_login = browser.get(authorize, allow_redirects=False)
    login_url = provider.url + to_login.headers["Location"]
    browser.get(login_url)
    signed_in = browser.post(
        login_url,
        data={
            "username": username,
            "password": provider.password,
            "csrfmiddlewaretoken": browser.cookies["provider_csrftoken"],
            "next": parse_qs(urlsplit(login_url).query)["next"][0],
        },
        headers={"Referer": login_url},
        allow_redirects=False,
    )
    assert signed_in.status_code == 302, signed_in.text[:500]
    back = browser.get(provider.url + signed_in.headers["Location"], allow_redirects=False)
    callback = urlsplit(back.headers["Location"])
    assert callback.path == reverse("accounts:oidc_callback")
    return client.get(f"{callback.path}?{callback.query}")


def test_sign_on_links_to_the_account_with_that_address_and_still_asks_for_the_second_factor(sso: OIDCProvider) -> None:
    user = UserFactory(username="officer", email="SSO-Officer@nhs.net", role="IG officer")
    client = Client()
    response = _sign_on(client, sso, "nhs-officer")
    assert response.status_code == 302
    assert response["Location"] == "/staff/"
    assert int(client.session["_auth_user_id"]) == user.pk
    # The provider did not say it used more than a password: the portal's own second factor follows.
    assert client.get("/staff/")["Location"].startswith(reverse("accounts:setup"))


def test_when_the_provider_asserts_mfa_the_portal_does_not_ask_again(sso: OIDCProvider) -> None:
    UserFactory(username="approver", email="sso-approver@nhs.net", role="IG approver")
    client = Client()
    _sign_on(client, sso, "nhs-approver-mfa")
    assert client.get("/staff/").status_code == 200


@pytest.mark.parametrize(
    ("provider_user", "message"),
    [
        ("nhs-stranger", "no account here has the address stranger@nhs.net"),
        ("unverified-officer", "your e-mail address is not verified"),
        ("elsewhere", "addresses at example.com cannot sign in to this portal"),
    ],
)
def test_sign_on_is_refused_with_a_clear_message_and_creates_no_account(
    sso: OIDCProvider, provider_user: str, message: str
) -> None:
    UserFactory(username="officer", email="sso-officer@nhs.net", role="IG officer")
    UserFactory(username="officer-elsewhere", email="sso-officer@example.com", role="IG officer")
    users_before = User.objects.count()
    client = Client()
    response = _sign_on(client, sso, provider_user)
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
    page = client.get(reverse("login")).content.decode()
    assert "You have not been signed in" in page
    assert message in page
    assert User.objects.count() == users_before
    failed = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert failed.changes == {"Method": ["", "Single sign-on"]}
    assert message in failed.reason


def test_an_inactive_account_is_not_signed_on(sso: OIDCProvider) -> None:
    UserFactory(username="officer", email="sso-officer@nhs.net", is_active=False)
    client = Client()
    _sign_on(client, sso, "nhs-officer")
    assert "_auth_user_id" not in client.session


def test_the_login_page_offers_sign_on_only_when_configured(sso: OIDCProvider, settings: Any) -> None:
    assert "Sign in with NHSmail" in Client().get(reverse("login")).content.decode()
    settings.OIDC_ISSUER_URL = ""
    assert "Sign in with" not in Client().get(reverse("login")).content.decode()
    assert Client().get(reverse("accounts:oidc_authenticate")).status_code == 404


def test_a_deactivated_users_sign_on_session_ends(sso: OIDCProvider) -> None:
    user = UserFactory(username="approver", email="sso-approver@nhs.net", role="IG approver")
    client = Client()
    _sign_on(client, sso, "nhs-approver-mfa")
    assert client.get("/staff/").status_code == 200
    user.is_active = False
    user.save()
    assert client.get("/staff/").status_code == 302


def test_a_provider_that_does_not_answer_gives_a_message_and_passwords_still_work(settings: Any) -> None:
    from django.core.cache import cache

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings.OIDC_ISSUER_URL = f"http://127.0.0.1:{closed}/o"
    settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = "id", "secret"
    settings.OIDC_ALLOWED_EMAIL_DOMAINS = ["nhs.net"]
    settings.OIDC_TIMEOUT = 2
    cache.clear()
    client = Client()
    response = client.get(reverse("accounts:oidc_authenticate"), follow=True)
    assert "the identity provider did not answer" in response.content.decode()
    UserFactory(username="officer")
    signed_in = client.post(reverse("login"), {"username": "officer", "password": "correct-horse-battery-staple"})
    assert signed_in.status_code == 302
