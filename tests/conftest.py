"""Test-only configuration. Settings themselves come from register/settings.py, as in production."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings as django_settings
from django.test import Client

from register.celery import app as celery_app

# Set by `.ci/run` for the second run; tests that need the real services skip without them.
BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
if BROKER_URL and os.environ.get("PYTEST_XDIST_WORKER"):
    # With the suite spread over processes (make test), each has a queue of its own on the shared Redis, which its
    # workers (threads here, processes in test_worker_kill: they inherit the environment) read: a worker must only
    # take its own process's tasks, whose test database and files are its own. Two CI runs failed when they did not.
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"test-{os.environ['PYTEST_XDIST_WORKER']}"
    celery_app.conf.task_default_queue = os.environ["CELERY_TASK_DEFAULT_QUEUE"]
ON_POSTGRES = "postgres" in os.environ.get("DATABASE_URL", "")

# A slow password hash is a production defence; in tests it only costs time.
django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Stored public pages: each request looks for the latest generation, so a test sees a publication at once.
django_settings.PUBLIC_PAGES_RECHECK_SECONDS = 0


@pytest.fixture(autouse=True)
def _media_root(tmp_path_factory: pytest.TempPathFactory, settings: Any) -> None:
    """Uploaded and rendered files go to a fresh folder, never to var/media."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache: a test's database is rolled back or flushed afterwards, so the count of
    changes to the rules' inputs (agreements.rule_inputs) starts again, and what an earlier test kept under a count
    is not this test's."""
    from django.core.cache import cache

    cache.clear()


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


def _close_worker_connections(**kwargs: object) -> None:
    # The worker thread opened its own database connection; close it so the test database can be dropped.
    from django.db import connections

    connections.close_all()


@pytest.fixture
def celery_worker() -> Iterator[Any]:
    """A real worker in a thread, on the configured broker (tests marked `broker`). The queue is emptied first:
    a task that an earlier test's work sent after its worker stopped (an e-mail on commit, say) would otherwise
    run here, against this test's database."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun

    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    task_postrun.connect(_close_worker_connections)
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
            yield worker
    finally:
        task_postrun.disconnect(_close_worker_connections)
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


@dataclass(frozen=True)
class OIDCProvider:
    """The test provider (tests/oidc_provider/), running in its own process."""

    url: str
    issuer: str
    client_id: str
    client_secret: str
    password: str


OIDC_PROVIDER_USERS = {
    # provider username: e-mail address. See tests/oidc_provider/validators.py for what each one's name means.
    "nhs-officer": "sso-officer@nhs.net",
    "nhs-approver-mfa": "sso-approver@nhs.net",
    "nhs-stranger": "stranger@nhs.net",
    "unverified-officer": "sso-officer@nhs.net",
    "elsewhere": "sso-officer@example.com",
}


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OIDCProvider]:
    """A real OpenID Connect provider (django-oauth-toolkit) on a free local port, for the whole session."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = OIDCProvider(
        url=f"http://127.0.0.1:{port}",
        issuer=f"http://127.0.0.1:{port}/o",
        client_id="data-sharing-register",
        client_secret="test-client-secret-" + secrets.token_hex(8),
        password="provider-password-42",
    )
    setup = {
        "users": [
            {"username": name, "email": email, "password": provider.password}
            for name, email in OIDC_PROVIDER_USERS.items()
        ],
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,
        # The test client's host, and any port on the loopback address (RFC 8252) for the browser's live server.
        "redirect_uris": ["http://testserver/accounts/sso/callback/", "http://127.0.0.1/accounts/sso/callback/"],
    }
    env = {
        **os.environ,
        "OIDC_PROVIDER_DB": str(tmp_path_factory.mktemp("oidc") / "provider.sqlite3"),
        "OIDC_PROVIDER_KEY": key.decode(),
        "OIDC_PROVIDER_SETUP": json.dumps(setup),
    }
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tests.oidc_provider.serve", str(port)],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                error = process.stderr.read().decode() if process.stderr and process.poll() is not None else ""
                raise RuntimeError(f"The test OIDC provider did not start: {error[-2000:]}")
            time.sleep(0.2)
        yield provider
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def sso(oidc_provider: OIDCProvider, settings: Any) -> OIDCProvider:
    """The portal configured, as by its environment variables, to sign on with the test provider."""
    from django.core.cache import cache

    settings.OIDC_ISSUER_URL = oidc_provider.issuer
    settings.OIDC_RP_CLIENT_ID = oidc_provider.client_id
    settings.OIDC_RP_CLIENT_SECRET = oidc_provider.client_secret
    settings.OIDC_ALLOWED_EMAIL_DOMAINS = ["nhs.net"]
    settings.OIDC_PROVIDER_NAME = "NHSmail"
    cache.clear()
    return oidc_provider


# The data migrations that seed reference rows, in migration order. Each is idempotent.
_SEEDING_MIGRATIONS = [
    ("agreements.migrations.0003_permitted_purposes", "load"),
    ("publishing.migrations.0002_sub_licence_register", "create_register"),
    ("publishing.migrations.0004_information_sharing_register", "create_register"),
    ("publishing.migrations.0005_register_wording", "fill_wording"),
]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    """pytest-django's test database, seeded. With --reuse-db the test database outlives the run, but a
    transactional test (browser, concurrency) flushes every table, the data migrations' rows included: the next
    run would start without the registers and NHS England's permitted purposes. Seed them again before each run,
    as migrate did. Here rather than in a fixture of every session: a run in which no test uses the database sets
    none up, and the seeds would be written to the development database (var/db.sqlite3)."""
    from importlib import import_module

    from django.apps import apps

    with django_db_blocker.unblock():
        for module, function in _SEEDING_MIGRATIONS:
            getattr(import_module(module), function)(apps, None)
