"""The demo accounts' shared second factor. It exists only in the demo data, which creates accounts only with DEBUG
on: a newcomer adds the secret printed in the README to any authenticator app and signs in as any demo account."""

from __future__ import annotations

from base64 import b32decode
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

# Base32, as authenticator apps take it. Printed in README.md ("Demo accounts"); never used outside the demo.
DEMO_TOTP_SECRET = "REGISTERDEMOTOTPSHAREDBYALLDEMO2"  # noqa: S105
DEMO_DEVICE_NAME = "Demo authenticator (shared secret from the README)"


def demo_totp_enrol(users: Iterable[User]) -> None:
    """Give each demo account the shared authenticator. Idempotent; refuses to run with DEBUG off."""
    if not settings.DEVELOPMENT:
        raise RuntimeError("The demo's shared second factor is for DEBUG only")
    key = b32decode(DEMO_TOTP_SECRET).hex()
    for user in users:
        TOTPDevice.objects.update_or_create(user=user, name=DEMO_DEVICE_NAME, defaults={"key": key, "confirmed": True})


def demo_totp_code() -> str:
    totp = TOTP(b32decode(DEMO_TOTP_SECRET))
    return f"{totp.token():06d}"
