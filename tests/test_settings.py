"""Settings are read once, at start-up, so each case starts a fresh interpreter with its own environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "-a-long-random-production-secret-key-for-tests-only",
    "ALLOWED_HOSTS": "register.example.nhs.uk",
    "CSRF_TRUSTED_ORIGINS": "https://register.example.nhs.uk",
}


def _run(*args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    # A clean slate: only what the case sets (the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE must not leak in).
    inherited = {"DEBUG", "DEBUG_PAGES", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in inherited}
    env.update(environment)
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = _run("check", DEBUG="false", ALLOWED_HOSTS="register.example.nhs.uk")
    assert result.returncode != 0
    assert "SECRET_KEY must be set to a random value of at least 50 characters" in result.stderr


@pytest.mark.parametrize("key", ["short", "django-insecure-" + "x" * 60])
def test_production_refuses_a_weak_secret_key(key: str) -> None:
    result = _run("check", **{**PRODUCTION, "SECRET_KEY": key})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_debug_is_off_unless_asked_for() -> None:
    result = _run("check")  # nothing set: DEBUG off, so the missing key stops it
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_debug_refuses_to_serve_public_host_names() -> None:
    result = _run("check", DEBUG="true", ALLOWED_HOSTS="register.example.nhs.uk")
    assert result.returncode != 0
    assert "DEBUG must be off when ALLOWED_HOSTS names hosts other than this machine" in result.stderr


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = _run("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_production_cookies_are_secure() -> None:
    result = _run(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0)",
        **PRODUCTION,
    )
    assert result.stdout.strip().splitlines()[-1] == "True True True True", result.stderr


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        # `make run`: development mode, but the NHS.UK 404 and 500 pages, as the product shows them.
        ({"DEBUG": "true"}, "True False"),
        # The developer asks for Django's debug pages.
        ({"DEBUG": "true", "DEBUG_PAGES": "true"}, "True True"),
        # Never in production, whatever DEBUG_PAGES says.
        ({**PRODUCTION, "DEBUG_PAGES": "true"}, "False False"),
    ],
)
def test_debug_pages_are_a_separate_opt_in(environment: dict[str, str], expected: str) -> None:
    result = _run("shell", "-c", "from django.conf import settings as s; print(s.DEVELOPMENT, s.DEBUG)", **environment)
    assert result.stdout.strip().splitlines()[-1] == expected, result.stderr
