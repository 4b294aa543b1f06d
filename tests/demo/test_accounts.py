"""The demo's shared second factor: in the README, enrolled by load_demo with DEBUG on, and nowhere else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from demo.accounts import DEMO_TOTP_SECRET, demo_totp_code
from demo.agreements import ACCOUNTS, DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def test_the_readme_prints_the_demo_secret() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert DEMO_TOTP_SECRET in readme


def test_load_demo_enrols_every_demo_account_and_a_newcomer_signs_in_with_the_readme(
    settings: Any, capsys: Any
) -> None:
    settings.DEVELOPMENT = True
    call_command("load_demo")
    assert DEMO_TOTP_SECRET in capsys.readouterr().out
    for account in ACCOUNTS:
        assert TOTPDevice.objects.filter(user__username=account.username, confirmed=True).count() == 1
    call_command("load_demo")
    assert TOTPDevice.objects.count() == len(ACCOUNTS)

    client = Client()
    client.post(reverse("login"), {"username": "ig-lead", "password": DEMO_PASSWORD})
    response = client.post(reverse("accounts:verify"), {"token": demo_totp_code(), "next": "/staff/"})
    assert response["Location"] == "/staff/"
    assert client.get(reverse("staff:dashboard")).status_code == 200
    assert get_user_model().objects.get(username="ig-lead").has_perm("accounts.manage_users")


def test_without_debug_there_is_no_shared_second_factor(settings: Any, capsys: Any) -> None:
    settings.DEVELOPMENT = False
    call_command("load_demo")
    assert not TOTPDevice.objects.exists()
    assert DEMO_TOTP_SECRET not in capsys.readouterr().out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("demo_totp")


def test_demo_totp_prints_the_current_code(settings: Any, capsys: Any) -> None:
    settings.DEVELOPMENT = True
    call_command("demo_totp")
    assert capsys.readouterr().out.strip() == demo_totp_code()
