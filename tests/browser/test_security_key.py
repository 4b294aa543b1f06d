"""A security key (WebAuthn) as the second factor, with Chromium's virtual authenticator standing in for the key:
registered at the first sign-in, then used to sign in. WebAuthn needs a host name, so the page stays on
localhost."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django_otp_webauthn.models import WebAuthnCredential

from audit.models import AuditEvent
from tests.browser.conftest import follow
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _password(page: Any, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_register_a_security_key_at_first_sign_in_then_sign_in_with_it(
    page: Any, live_server: Any, settings: Any
) -> None:
    assert urlsplit(live_server.url).hostname == "localhost"
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    UserFactory(username="keyholder", role="IG officer")
    _password(page, "keyholder")
    assert urlsplit(page.url).path == "/accounts/set-up/"
    page.get_by_role("button", name="Register a security key or passkey").click()
    page.wait_for_function("() => document.querySelector('#passkey-register-status-message').textContent.trim()")
    assert WebAuthnCredential.objects.filter(user__username="keyholder", confirmed=True).count() == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.MFA_ENROLLED, subject_label="keyholder").exists()
    # Then the first recovery codes, shown once.
    page.get_by_role("button", name="Continue", exact=True).click()
    page.wait_for_load_state()
    assert page.locator(".app-recovery-codes li").count() == 10
    follow(page, page.get_by_role("button", name="I have saved my codes, continue"))
    assert urlsplit(page.url).path == "/staff/"

    page.get_by_role("button", name="Sign out").click()
    _password(page, "keyholder")
    assert urlsplit(page.url).path == "/accounts/verify/"
    page.get_by_role("button", name="Use security key or passkey").click()
    page.wait_for_url("**/staff/")
    assert urlsplit(page.url).path == "/staff/"
