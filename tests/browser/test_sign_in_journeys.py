"""Signing in as a person does it, in Chromium: enrolment and a code from an authenticator app, a recovery code,
and single sign-on through the local OpenID Connect provider. axe checks each sign-in page; the `page` fixture
fails the test on any Content-Security-Policy violation."""

from __future__ import annotations

from base64 import b32decode
from typing import Any
from urllib.parse import urlsplit

import pytest
from django_otp.oath import totp

from accounts import services
from tests.browser.conftest import assert_accessible, follow
from tests.conftest import OIDCProvider, second_factor_device, totp_code
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _password(page: Any, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_first_sign_in_sets_up_an_authenticator_app_then_signs_in_with_its_code(page: Any) -> None:
    UserFactory(username="newcomer", role="IG officer")
    _password(page, "newcomer")
    assert urlsplit(page.url).path == "/accounts/set-up/"
    assert_accessible(page)
    secret = page.locator(".app-secret").inner_text().strip()
    page.get_by_label("Security code").fill(f"{totp(b32decode(secret)):06d}")
    page.get_by_role("button", name="Confirm and continue").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Save your recovery codes").is_visible()
    assert page.locator(".app-recovery-codes li").count() == 10
    assert_accessible(page)
    follow(page, page.get_by_role("button", name="I have saved my codes, continue"))
    assert urlsplit(page.url).path == "/staff/"

    page.get_by_role("button", name="Sign out").click()
    _password(page, "newcomer")
    assert urlsplit(page.url).path == "/accounts/verify/"
    assert_accessible(page)
    from django_otp.plugins.otp_totp.models import TOTPDevice

    page.get_by_label("Security code").fill(totp_code(TOTPDevice.objects.get(user__username="newcomer")))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/staff/"
    assert page.get_by_role("heading", level=1).is_visible()


def test_sign_in_with_a_recovery_code(page: Any) -> None:
    user = UserFactory(username="officer", role="IG officer")
    second_factor_device(user)
    codes = services.recovery_codes_regenerate(actor=user)
    _password(page, "officer")
    page.get_by_role("link", name="Use a recovery code").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_label("Recovery code").fill("wrong-code")
    follow(page, page.get_by_role("button", name="Continue"))
    assert page.locator(".nhsuk-error-summary").is_visible()
    assert_accessible(page)
    # After a wrong code django-otp refuses any code for a second (then 2, 4, …), as a person takes to retype.
    page.wait_for_timeout(1500)
    page.get_by_label("Recovery code").fill(codes[3])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/staff/"


def test_sign_on_through_the_local_identity_provider(page: Any, live_server: Any, sso: OIDCProvider) -> None:
    """The provider accepts a callback on any port of 127.0.0.1 (RFC 8252), so the browser uses that address."""
    UserFactory(username="approver", email="sso-approver@nhs.net", role="IG approver")
    portal = "http://127.0.0.1:" + str(urlsplit(live_server.url).port)
    page.goto(f"{portal}/accounts/login/")
    assert_accessible(page)
    page.get_by_role("button", name="Sign in with NHSmail").click()
    page.wait_for_load_state()
    assert page.url.startswith(sso.url)
    page.get_by_label("Provider username").fill("nhs-approver-mfa")
    page.get_by_label("Provider password").fill(sso.password)
    page.get_by_role("button", name="Sign in to the provider").click()
    page.wait_for_load_state()
    # The provider said it did multi-factor authentication: straight to the staff area.
    assert page.url == f"{portal}/staff/"
    assert page.get_by_text("approver", exact=True).is_visible()


def test_sign_on_without_mfa_at_the_provider_asks_for_the_portals_second_factor(
    page: Any, live_server: Any, sso: OIDCProvider
) -> None:
    user = UserFactory(username="officer", email="sso-officer@nhs.net", role="IG officer")
    device = second_factor_device(user)
    portal = "http://127.0.0.1:" + str(urlsplit(live_server.url).port)
    page.goto(f"{portal}/accounts/login/")
    page.get_by_role("button", name="Sign in with NHSmail").click()
    page.get_by_label("Provider username").fill("nhs-officer")
    page.get_by_label("Provider password").fill(sso.password)
    page.get_by_role("button", name="Sign in to the provider").click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/accounts/verify/"
    page.get_by_label("Security code").fill(totp_code(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert page.url == f"{portal}/staff/"
