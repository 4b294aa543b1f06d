"""Audit rows for what the sign-in libraries do themselves: Django's sign-in signals, django-axes' lockout and a
security key registered through django-otp-webauthn's views."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django_otp_webauthn.models import WebAuthnCredential

from accounts.oidc import REFUSAL_SESSION_KEY
from audit.services import Action, audit_record

_USERNAME_SHOWN = 150


def _user_named(username: str) -> Any:
    return get_user_model().objects.filter(username=username[:_USERNAME_SHOWN]).first()


@receiver(user_logged_in, dispatch_uid="accounts_audit_signed_in")
def _signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    method = "Single sign-on" if request is not None and "code" in request.GET else "Password"
    audit_record(
        actor=user,
        action=Action.SIGNED_IN,
        subject=user,
        changes={"Method": ["", method]},
    )


@receiver(user_login_failed, dispatch_uid="accounts_audit_sign_in_failed")
def _sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    single_sign_on = "nonce" in credentials
    username = str(credentials.get("username") or "")[:_USERNAME_SHOWN]
    changes = {"Method": ["", "Single sign-on" if single_sign_on else "Password"]}
    if username:
        changes["Username"] = ["", username]
    refusal = request.session.get(REFUSAL_SESSION_KEY, "") if single_sign_on and request is not None else ""
    audit_record(
        actor=None,
        action=Action.SIGN_IN_FAILED,
        subject=_user_named(username) if username else None,
        reason=refusal,
        changes=changes,
    )


@receiver(user_locked_out, dispatch_uid="accounts_audit_locked_out")
def _locked_out(sender: Any, request: HttpRequest, username: str | None, ip_address: str, **kwargs: Any) -> None:
    username = (username or "")[:_USERNAME_SHOWN]
    audit_record(
        actor=None,
        action=Action.LOCKED_OUT,
        subject=_user_named(username),
        ip_address=ip_address,
        changes={"Username": ["", username]},
    )


@receiver(post_save, sender=WebAuthnCredential, dispatch_uid="accounts_audit_webauthn_enrolled")
def _security_key_added(sender: Any, instance: WebAuthnCredential, created: bool, **kwargs: Any) -> None:
    if created:
        audit_record(
            actor=instance.user,
            action=Action.MFA_ENROLLED,
            subject=instance.user,
            changes={"Second factor": ["", "Security key or passkey"]},
        )
