"""Test-only configuration. Settings themselves come from register/settings.py, as in production."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings

from register.celery import app as celery_app

# Set by `.ci/run` for the second run; tests that need the real services skip without them.
BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
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
