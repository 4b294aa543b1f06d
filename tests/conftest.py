"""Test-only configuration. Settings themselves come from register/settings.py, as in production."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from register.celery import app as celery_app

# Set by `.ci/run` for the second run; tests that need the real services skip without them.
BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
ON_POSTGRES = "postgres" in os.environ.get("DATABASE_URL", "")

# A slow password hash is a production defence; in tests it only costs time.
django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_root(tmp_path_factory: pytest.TempPathFactory, settings: Any) -> None:
    """Uploaded and rendered files go to a fresh folder, never to var/media."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _celery_eager(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tasks run in-process in tests, even when a broker is configured, except in tests marked `broker`,
    which start a real worker."""
    if request.node.get_closest_marker("broker"):
        yield
        return
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_broker = pytest.mark.skip(reason="needs CELERY_BROKER_URL (a real Redis); .ci/run sets it")
    for item in items:
        if item.get_closest_marker("broker") and not BROKER_URL:
            item.add_marker(skip_broker)


def second_factor_device(user: Any) -> Any:
    """The user's authenticator app, made (confirmed, with a fixed test key) if they have none."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)
    return device


def totp_code(device: Any) -> str:
    """The code the device's app shows now. The device's replay guard is cleared first, so a test may sign the
    same user in twice within one 30-second step."""
    from django_otp.oath import totp

    device.refresh_from_db()
    device.last_t = -1
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save(update_fields=["last_t", "throttling_failure_count", "throttling_failure_timestamp"])
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def force_login_password_only(client: Client, user: Any) -> None:
    """Signed in as after the password step alone: the second factor still to come."""
    _django_force_login(client, user)


_django_force_login = Client.force_login


def _force_login_with_second_factor(self: Client, user: Any, backend: str | None = None) -> None:
    """Most tests are about what a signed-in user may do, so the test client's force_login stands for the whole
    sign-in (password and second factor), as a real session would be after both steps. Only the test client is
    changed: production has no such shortcut. Tests of the sign-in itself use the pages, or
    force_login_password_only."""
    from django_otp import DEVICE_ID_SESSION_KEY

    _django_force_login(self, user, backend)
    session = self.session
    session[DEVICE_ID_SESSION_KEY] = second_factor_device(user).persistent_id
    session.save()


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Client, "force_login", _force_login_with_second_factor)
