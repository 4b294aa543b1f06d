"""Signing in: the password step, the second step (authenticator app, recovery code), enrolment at first sign-in,
lockout, the idle timeout, and logout by POST only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import second_factor_device, totp_code
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _password_step(client: Client, username: str = "officer", password: str = PASSWORD, **extra: Any) -> Any:
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def test_login_page_and_wrong_password_message() -> None:
    UserFactory(username="officer")
    client = Client()
    page = client.get(reverse("login")).content.decode()
    assert '<label class="nhsuk-label" for="id_username">Username</label>' in page
    response = _password_step(client, password="wrong")
    body = response.content.decode()
    assert "There is a problem" in body
    assert 'value="officer"' in body


def test_the_password_alone_leads_to_the_second_step_not_the_dashboard() -> None:
    user = UserFactory(username="officer")
    second_factor_device(user)
    client = Client()
    response = _password_step(client, follow=True)
    assert response.redirect_chain[-1][0] == f"{reverse('accounts:verify')}?next=%2Fstaff%2F"
    assert "Confirm it is you" in response.content.decode()
    assert client.get(reverse("staff:dashboard")).status_code == 302


def test_a_code_from_the_authenticator_app_completes_the_sign_in() -> None:
    user = UserFactory(username="officer")
    device = second_factor_device(user)
    client = Client()
    _password_step(client)
    wrong = client.post(reverse("accounts:verify"), {"token": "000000", "next": "/staff/"})
    assert wrong.status_code == 400
    assert "The code is not right" in wrong.content.decode()
    response = client.post(reverse("accounts:verify"), {"token": totp_code(device), "next": "/staff/"})
    assert response.status_code == 302
    assert response["Location"] == "/staff/"
    assert client.get(reverse("staff:dashboard")).status_code == 200


def test_the_next_address_must_be_on_this_site() -> None:
    user = UserFactory(username="officer")
    device = second_factor_device(user)
    client = Client()
    _password_step(client)
    response = client.post(reverse("accounts:verify"), {"token": totp_code(device), "next": "https://evil.example/"})
    assert response["Location"] == reverse("staff:dashboard")


def test_first_sign_in_enrols_an_authenticator_app_then_shows_recovery_codes_once() -> None:
    user = UserFactory(username="officer")
    client = Client()
    response = _password_step(client, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:setup"))
    page = response.content.decode()
    assert "<svg" in page and "Key to type in" in page
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    # The same pending device (and QR code) on every visit until it is confirmed.
    client.get(reverse("accounts:setup"))
    assert TOTPDevice.objects.filter(user=user).count() == 1

    wrong = client.post(reverse("accounts:setup"), {"token": "123456", "next": "/staff/"})
    assert wrong.status_code == 400
    assert "The code is not right" in wrong.content.decode()

    code = f"{totp(device.bin_key):06d}"
    response = client.post(reverse("accounts:setup"), {"token": code, "next": "/staff/"}, follow=True)
    body = response.content.decode()
    assert "Save your recovery codes" in body
    codes = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(codes) == 10
    assert all(c in body for c in codes)
    assert "They will not be shown again" in body
    # Shown once only.
    assert codes[0] not in client.get(reverse("accounts:recovery_codes")).content.decode()
    assert client.get(reverse("staff:dashboard")).status_code == 200


def test_a_recovery_code_signs_in_once() -> None:
    user = UserFactory(username="officer")
    second_factor_device(user)
    from accounts import services

    codes = services.recovery_codes_regenerate(actor=user)
    client = Client()
    _password_step(client)
    page = client.get(reverse("accounts:verify")).content.decode()
    assert "Use a recovery code" in page
    response = client.post(reverse("accounts:verify_recovery"), {"token": codes[0], "next": "/staff/"})
    assert response["Location"] == "/staff/"
    assert client.get(reverse("staff:dashboard")).status_code == 200

    again = Client()
    _password_step(again)
    refused = again.post(reverse("accounts:verify_recovery"), {"token": codes[0]})
    assert refused.status_code == 400
    assert "has been used already" in refused.content.decode()
    # An authenticator code is no recovery code, and the other way round.
    assert again.post(reverse("accounts:verify"), {"token": codes[1]}).status_code == 400


def test_repeated_failures_lock_the_account_out_and_say_for_how_long(settings: Any) -> None:
    UserFactory(username="officer")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _password_step(client, password="wrong")
    # Even the right password is refused while locked out.
    response = _password_step(client)
    assert response.status_code == 429
    body = response.content.decode()
    assert "Your sign-in has been locked for a while" in body
    assert "The lock lasts 15 minutes" in body
    assert "_auth_user_id" not in client.session


def test_the_lockout_page_follows_the_configured_time(settings: Any) -> None:
    settings.AXES_COOLOFF_TIME = 1 / 60  # one minute, in hours
    UserFactory(username="officer")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _password_step(client, password="wrong")
    assert "The lock lasts 1 minute " in _password_step(client).content.decode()


@pytest.mark.parametrize("length", [151, 300, 5000])
def test_an_over_long_username_is_a_form_error_not_a_server_error(length: int) -> None:
    """django-axes stores at most 255 characters; PostgreSQL refused more with a 500 before the form bounded it.
    .ci/run runs this on PostgreSQL too."""
    client = Client(raise_request_exception=False)
    response = _password_step(client, username="u" * length, password="wrong")
    assert response.status_code == 200
    assert "Enter a username of 150 characters or fewer" in response.content.decode()
    assert not AccessAttempt.objects.filter(username__startswith="uuu").exists()


def test_an_idle_session_is_signed_out_with_a_clear_message(settings: Any) -> None:
    user = UserFactory(username="officer")
    client = Client()
    start = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        client.force_login(user)
        assert client.get(reverse("staff:dashboard")).status_code == 200
        traveller.shift(dt.timedelta(minutes=29))
        assert client.get(reverse("staff:dashboard")).status_code == 200
        # 29 minutes after the last request is still within the 30: idle time, not time since sign-in.
        traveller.shift(dt.timedelta(minutes=29))
        assert client.get(reverse("staff:dashboard")).status_code == 200
        traveller.shift(dt.timedelta(minutes=31))
        response = client.get(reverse("staff:dashboard"), follow=True)
    assert response.redirect_chain[0][0] == "/accounts/login/?next=%2Fstaff%2F"
    assert "You were signed out because you had not used the portal for 30 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Said once only.
    assert "You were signed out" not in client.get(reverse("login")).content.decode()


def test_logout_is_a_post() -> None:
    user = UserFactory(username="officer")
    client = Client()
    client.force_login(user)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_security_page_needs_the_second_factor_and_makes_new_recovery_codes() -> None:
    user = UserFactory(username="officer")
    from tests.conftest import force_login_password_only

    client = Client()
    force_login_password_only(client, user)
    assert client.get(reverse("accounts:security"))["Location"].startswith(reverse("accounts:setup"))
    client.force_login(user)
    assert "Your sign-in and security" in client.get(reverse("accounts:security")).content.decode()
    response = client.post(reverse("accounts:security"), follow=True)
    codes = StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    assert len(codes) == 10
    assert codes[0] in response.content.decode()


def test_the_password_change_page_keeps_djangos_validators() -> None:
    user = UserFactory(username="officer")
    client = Client()
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "password", "new_password2": "password"},
    )
    assert response.status_code == 200
    assert "This password is too common" in response.content.decode()
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-long-new-Passphrase-42",
            "new_password2": "a-long-new-Passphrase-42",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).check_password("a-long-new-Passphrase-42")
    from audit.models import AuditEvent

    assert AuditEvent.objects.filter(action=AuditEvent.Action.PASSWORD_CHANGED, subject_label="officer").exists()


def test_signing_out_says_so_on_the_next_page() -> None:
    client = Client()
    client.force_login(UserFactory(username="officer"))
    response = client.post(reverse("logout"), follow=True)
    html = response.content.decode()
    assert "You have signed out." in html and "nhsuk-notification-banner--success" in html
    # Once only.
    assert "You have signed out." not in client.get("/").content.decode()


def test_password_reset_says_the_same_for_any_address_and_its_link_works_once() -> None:
    from django.core import mail

    UserFactory(username="officer", email="officer@nhs.net")
    client = Client()
    unknown = client.post(reverse("accounts:password_reset"), {"email": "nobody@nhs.net"}, follow=True)
    known = client.post(reverse("accounts:password_reset"), {"email": "OFFICER@nhs.net"}, follow=True)
    # The same answer either way: nobody learns whether an address has an account.
    assert unknown.redirect_chain == known.redirect_chain
    for response in (unknown, known):
        assert "If that address belongs to an account here" in response.content.decode()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["officer@nhs.net"]
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/password-reset/" in line)
    path = link.split("testserver", 1)[1]
    form = client.get(path, follow=True)
    assert "Choose a new password" in form.content.decode()
    weak = client.post(form.redirect_chain[-1][0], {"new_password1": "12345678", "new_password2": "12345678"})
    assert "This password is entirely numeric" in weak.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "A-long-Passphrase-9", "new_password2": "A-long-Passphrase-9"},
        follow=True,
    )
    assert "Your password has been changed" in done.content.decode()
    assert User.objects.get(username="officer").check_password("A-long-Passphrase-9")
    assert "This link has expired or has been used already" in Client().get(path, follow=True).content.decode()
    from audit.models import AuditEvent

    event = AuditEvent.objects.get(action=AuditEvent.Action.PASSWORD_CHANGED)
    assert (event.actor_name, event.changes) == ("officer", {"Password": ["", "Reset by e-mail link"]})


def test_recovery_codes_are_made_only_for_a_session_past_the_second_factor() -> None:
    from tests.conftest import force_login_password_only

    user = UserFactory(username="officer")
    client = Client()
    force_login_password_only(client, user)
    response = client.post(reverse("accounts:recovery_codes"))
    assert response["Location"].startswith(reverse("accounts:setup"))
    assert not StaticToken.objects.exists()
    client.force_login(user)
    page = client.post(reverse("accounts:recovery_codes"), follow=True).content.decode()
    codes = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(codes) == 10 and codes[0] in page
    # A second post does not replace codes the user already has.
    client.post(reverse("accounts:recovery_codes"))
    assert set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)) == set(codes)


def test_wrong_codes_slow_guessing_down_and_say_how_long_to_wait() -> None:
    user = UserFactory(username="officer")
    device = second_factor_device(user)
    client = Client()
    _password_step(client)
    start = dt.datetime.now(tz=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        client.post(reverse("accounts:verify"), {"token": "000000"})
        code = totp_code(device)
        # totp_code clears the replay guard and the throttle: make one wrong attempt again.
        client.post(reverse("accounts:verify"), {"token": "000000"})
        refused = client.post(reverse("accounts:verify"), {"token": code})
        assert refused.status_code == 400
        assert "Too many wrong codes. Wait 1 second, then try again." in refused.content.decode()
        traveller.shift(dt.timedelta(seconds=2))
        assert client.post(reverse("accounts:verify"), {"token": code, "next": "/staff/"})["Location"] == "/staff/"
