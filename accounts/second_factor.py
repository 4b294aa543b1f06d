"""The second factor: which devices a user has, whether this session has passed one, and enrolment.

The cryptography is django-otp's (TOTP, RFC 6238; one-time static codes) and django-otp-webauthn's (WebAuthn).
"""

from __future__ import annotations

from base64 import b32encode

import segno
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.http import HttpRequest
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

# Set on the session when the identity provider said it had done multi-factor authentication (the `amr` claim).
IDP_MFA_SESSION_KEY = "accounts_mfa_by_identity_provider"
RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "Recovery codes"
# A TOTP device being enrolled stays unconfirmed until the user types a code from it.
TOTP_DEVICE_NAME = "Authenticator app"


def second_factor_passed(request: HttpRequest) -> bool:
    user = request.user
    if not user.is_authenticated:
        return False
    if request.session.get(IDP_MFA_SESSION_KEY):
        return True
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def has_second_factor(user: AbstractBaseUser | AnonymousUser) -> bool:
    """A confirmed authenticator app or security key (recovery codes alone are not enough to sign in for good)."""
    return any(not isinstance(device, StaticDevice) for device in devices_for_user(user, confirmed=True))


def has_recovery_codes(user: User) -> bool:
    return user_has_device(user) and StaticToken.objects.filter(device__user=user).exists()


def totp_devices(user: User) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.devices_for_user(user, confirmed=True))


def webauthn_devices(user: User) -> list[WebAuthnCredential]:
    return list(WebAuthnCredential.objects.devices_for_user(user, confirmed=True))


def totp_pending(user: User) -> TOTPDevice:
    """The unconfirmed authenticator the user is setting up, created on first asking and kept across page loads
    so that the QR code does not change under them."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_secret(device: TOTPDevice) -> str:
    """The base32 secret, as authenticator apps take it when typed in."""
    return b32encode(device.bin_key).decode()


def totp_qr_svg(device: TOTPDevice) -> str:
    # segno writes plain SVG attributes (no style attribute), which the Content-Security-Policy allows inline.
    return segno.make(device.config_url, error="m").svg_inline(scale=5, title="QR code for your authenticator app")
