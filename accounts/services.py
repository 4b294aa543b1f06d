"""Writes about accounts: second-factor enrolment and reset. Each is atomic and leaves an audit row."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.second_factor import RECOVERY_CODE_COUNT, RECOVERY_DEVICE_NAME
from audit.services import Action, audit_record


def _recovery_codes_create(*, user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def totp_confirm(*, actor: User, device: TOTPDevice, token: str) -> list[str]:
    """Confirm an authenticator app by a code from it. Returns new recovery codes when the user had none (shown
    once), else an empty list. Raises ValidationError on a wrong code."""
    if device.user_id != actor.pk or device.confirmed:
        raise PermissionDenied
    if not device.verify_token(token):
        raise ValidationError({"token": "The code is not right. Check the time on your phone and try again."})
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    had_recovery_codes = StaticToken.objects.filter(device__user=actor).exists()
    codes = [] if had_recovery_codes else _recovery_codes_create(user=actor)
    audit_record(
        actor=actor,
        action=Action.MFA_ENROLLED,
        subject=actor,
        changes={"Second factor": ["", "Authenticator app"]},
    )
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, actor: User) -> list[str]:
    """A new set of recovery codes; the old ones stop working."""
    codes = _recovery_codes_create(user=actor)
    audit_record(
        actor=actor,
        action=Action.MFA_ENROLLED,
        subject=actor,
        changes={"Second factor": ["", "New recovery codes"]},
    )
    return codes


@transaction.atomic
def user_devices_reset(*, actor: User, user: User, reason: str) -> None:
    """Remove every second-factor device of a user (a lost phone): they enrol again at their next sign-in."""
    if not actor.has_perm("accounts.manage_users"):
        raise PermissionDenied
    if not reason.strip():
        raise ValidationError({"reason": "Say why the devices are being reset"})
    removed = [str(device) for device in devices_for_user(user, confirmed=None)]
    for device in devices_for_user(user, confirmed=None):
        device.delete()
    audit_record(
        actor=actor,
        action=Action.MFA_RESET,
        subject=user,
        reason=reason,
        changes={"Second factor": [", ".join(sorted(removed)), ""]},
    )
