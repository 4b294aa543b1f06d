"""Signing in: the NHS.UK login page, lockout after repeated failures, logout by POST only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_and_wrong_password_message() -> None:
    UserFactory(username="officer")
    client = Client()
    page = client.get(reverse("login")).content.decode()
    assert '<label class="nhsuk-label" for="id_username">Username</label>' in page
    response = client.post(reverse("login"), {"username": "officer", "password": "wrong"})
    body = response.content.decode()
    assert "There is a problem" in body
    assert 'value="officer"' in body


def test_sign_in_goes_to_the_dashboard() -> None:
    UserFactory(username="officer")
    response = Client().post(reverse("login"), {"username": "officer", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("staff:dashboard")


def test_repeated_failures_lock_the_account_out_with_a_clear_message(settings: Any) -> None:
    UserFactory(username="officer")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "officer", "password": "wrong"})
    # Even the right password is refused while locked out.
    response = client.post(reverse("login"), {"username": "officer", "password": PASSWORD})
    assert response.status_code == 429
    body = response.content.decode()
    assert "Your sign-in has been locked for a while" in body
    assert "15 minutes" in body
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post() -> None:
    user = UserFactory(username="officer")
    client = Client()
    client.force_login(user)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_signing_out_says_so_on_the_next_page() -> None:
    client = Client()
    client.force_login(UserFactory(username="officer"))
    response = client.post(reverse("logout"), follow=True)
    html = response.content.decode()
    assert "You have signed out." in html and "nhsuk-notification-banner--success" in html
    # Once only.
    assert "You have signed out." not in client.get("/").content.decode()
