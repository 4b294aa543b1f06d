"""Writes about accounts: second-factor enrolment and reset. Each is atomic and leaves an audit row."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_otp import device_classes, devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Invitation
from accounts.second_factor import RECOVERY_CODE_COUNT, RECOVERY_DEVICE_NAME
from agreements.models import Organisation, OrganisationGroupObjectPermission, OrganisationUserObjectPermission
from agreements.roles import roles_sync
from agreements.selectors import PARTNER_PERMISSION, organisations_for_partner
from agreements.services import partner_contact_grant, partner_contact_revoke
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


# ---------------------------------------------------------------------------------------------------------
# Users and roles, for the IG lead (the accounts.manage_users permission)

MANAGE_USERS = "accounts.manage_users"
Role = Invitation.Role
STAFF_ROLE_GROUPS = [Role.IG_OFFICER.value, Role.IG_APPROVER.value, Role.AUDITOR.value, Role.IG_LEAD.value]


def _key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _require_manager(actor: User) -> None:
    if not (actor.is_active and actor.has_perm(MANAGE_USERS)):
        raise PermissionDenied


def _require_other(actor: User, user: User) -> None:
    """Nobody changes their own role or access, so nobody can raise their own; and only a superuser may touch a
    superuser."""
    if actor.pk == user.pk:
        raise ValidationError("You cannot change your own account here. Ask another IG lead.")
    if user.is_superuser and not actor.is_superuser:
        raise PermissionDenied


def user_role(user: User) -> tuple[str, list[Organisation]]:
    """(role value, the organisations of a partner contact). "" when the user has no role."""
    groups = set(user.groups.values_list("name", flat=True))
    for name in reversed(STAFF_ROLE_GROUPS):
        if name in groups:
            return name, []
    organisations = list(organisations_for_partner(user=user))
    return (Role.PARTNER_CONTACT.value, organisations) if organisations else ("", [])


@dataclass(frozen=True)
class UserSummary:
    """One line of the Users page."""

    user: User
    role: str
    second_factor: bool
    locked_out: bool


def user_summaries(users: Iterable[User]) -> list[UserSummary]:
    """What the Users page shows of each person (user_role, has_second_factor, user_locked_out), in a constant
    number of queries however many people there are. Superusers, of whom there are few, are asked one by one."""
    users = list(users)
    ids = [user.pk for user in users]
    groups: dict[int, set[str]] = defaultdict(set)
    for user_id, name in User.groups.through.objects.filter(user_id__in=ids).values_list("user_id", "group__name"):
        groups[user_id].add(name)
    # A partner contact holds the object permission on each organisation, directly or through a group (as
    # organisations_for_partner reads it).
    app_label, codename = PARTNER_PERMISSION.split(".")
    permission = {"permission__codename": codename, "permission__content_type__app_label": app_label}
    organisation_ids: dict[int, set[int]] = defaultdict(set)
    for user_id, organisation_id in OrganisationUserObjectPermission.objects.filter(
        user_id__in=ids, **permission
    ).values_list("user_id", "content_object_id"):
        organisation_ids[user_id].add(organisation_id)
    for user_id, organisation_id in OrganisationGroupObjectPermission.objects.filter(
        group__user__in=ids, **permission
    ).values_list("group__user", "content_object_id"):
        organisation_ids[user_id].add(organisation_id)
    organisations = Organisation.objects.in_bulk(set().union(*organisation_ids.values()))
    devices: set[int] = set()
    for model in device_classes():
        if not issubclass(model, StaticDevice):  # recovery codes alone are not a second factor (has_second_factor)
            devices |= set(model.objects.filter(user_id__in=ids, confirmed=True).values_list("user_id", flat=True))
    locked = set(
        AccessAttempt.objects.filter(
            username__in=[user.get_username() for user in users], failures_since_start__gte=settings.AXES_FAILURE_LIMIT
        ).values_list("username", flat=True)
    )
    summaries = []
    for user in users:
        if user.is_superuser:
            role, theirs = user_role(user)
        else:
            staff = [name for name in reversed(STAFF_ROLE_GROUPS) if name in groups[user.pk]]
            theirs = sorted((organisations[pk] for pk in organisation_ids[user.pk]), key=lambda o: (o.name, o.pk))
            role = staff[0] if staff else Role.PARTNER_CONTACT.value if theirs else ""
            theirs = [] if staff else theirs
        summaries.append(
            UserSummary(
                user=user,
                role=role_label(role, theirs),
                second_factor=user.pk in devices,
                locked_out=user.get_username() in locked,
            )
        )
    return summaries


def role_label(role: str, organisations: list[Organisation]) -> str:
    if not role:
        return "No role"
    label = str(Role(role).label)
    return f"{label} for {', '.join(o.name for o in organisations)}" if organisations else label


def _role_apply(*, actor: User, user: User, role: str, organisation: Organisation | None, reason: str) -> None:
    user.groups.remove(*Group.objects.filter(name__in=STAFF_ROLE_GROUPS))
    for current in organisations_for_partner(user=user):
        if role != Role.PARTNER_CONTACT or current != organisation:
            partner_contact_revoke(actor=actor, user=user, organisation=current, reason=reason)
    if role == Role.PARTNER_CONTACT:
        if organisation is None:
            raise ValidationError({"organisation": "Choose the partner contact's organisation"})
        partner_contact_grant(actor=actor, user=user, organisation=organisation, reason=reason)
    elif role:
        roles_sync()
        user.groups.add(Group.objects.get(name=role))


def _invitation_mail(*, invitation: Invitation, key: str) -> None:
    link = settings.SITE_URL + reverse("accounts:invitation_accept", args=[invitation.pk, key])
    days = settings.INVITATION_MAX_AGE // (24 * 3600)
    organisation = f" for {invitation.organisation.name}" if invitation.organisation else ""
    body = (
        f"{invitation.invited_by.get_full_name() or invitation.invited_by.get_username()} has invited you to the "
        f"{settings.PORTAL_SERVICE_NAME} of {settings.PORTAL_ORGANISATION_NAME}, as "
        f"{invitation.get_role_display()}{organisation}.\n\n"
        f"To accept, choose a username and password here:\n{link}\n\n"
        f"The link works once, for {days} days. At your first sign-in you will set up a second factor "
        "(an authenticator app or a security key).\n"
    )
    transaction.on_commit(
        lambda: send_mail(f"Your invitation to the {settings.PORTAL_SERVICE_NAME}", body, None, [invitation.email])
    )


@transaction.atomic
def invitation_send(*, actor: User, email: str, role: str, organisation: Organisation | None = None) -> Invitation:
    """Invite someone by e-mail to an account with this role (and, for a partner contact, organisation)."""
    _require_manager(actor)
    email = email.strip()
    if role not in Role.values:
        raise ValidationError({"role": "Choose a role"})
    if role == Role.PARTNER_CONTACT and organisation is None:
        raise ValidationError({"organisation": "Choose the partner contact's organisation"})
    if role != Role.PARTNER_CONTACT:
        organisation = None
    if get_user_model().objects.filter(email__iexact=email, is_active=True).exists():
        raise ValidationError({"email": "Someone with this e-mail address already has an account"})
    if Invitation.objects.filter(email__iexact=email, accepted_at__isnull=True).exists():
        raise ValidationError({"email": "This address has already been invited: send that invitation again instead"})
    key = secrets.token_urlsafe(32)
    invitation = Invitation(
        email=email,
        role=role,
        organisation=organisation,
        invited_by=actor,
        key=_key_digest(key),
        sent_at=timezone.now(),
    )
    invitation.full_clean()
    invitation.save()
    audit_record(
        actor=actor,
        action=Action.INVITED,
        subject=invitation,
        changes={
            "E-mail address": ["", email],
            "Role": ["", role_label(role, [organisation] if organisation else [])],
        },
    )
    _invitation_mail(invitation=invitation, key=key)
    return invitation


@transaction.atomic
def invitation_resend(*, actor: User, invitation: Invitation) -> Invitation:
    """A new link, valid for INVITATION_MAX_AGE from now; the old link stops working."""
    _require_manager(actor)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at:
        raise ValidationError("This invitation has been accepted already")
    key = secrets.token_urlsafe(32)
    invitation.key = _key_digest(key)
    invitation.sent_at = timezone.now()
    invitation.save(update_fields=["key", "sent_at"])
    audit_record(actor=actor, action=Action.INVITATION_RESENT, subject=invitation)
    _invitation_mail(invitation=invitation, key=key)
    return invitation


def invitation_check(*, pk: int, key: str) -> Invitation:
    """The open invitation this link names. Raises ValidationError with what to do when it has expired, was used,
    or never was (the message does not say which of the last two)."""
    invitation = Invitation.objects.filter(pk=pk, accepted_at__isnull=True).select_related("organisation").first()
    if invitation is None or not secrets.compare_digest(invitation.key, _key_digest(key)):
        raise ValidationError("This invitation link is not valid, or has been used already.")
    if timezone.now() - invitation.sent_at > dt.timedelta(seconds=settings.INVITATION_MAX_AGE):
        raise ValidationError("This invitation has expired. Ask your IG lead to send it again.")
    return invitation


@transaction.atomic
def invitation_accept(*, pk: int, key: str, username: str, password: str) -> User:
    """Create the invited person's account, with the role the IG lead chose."""
    invitation = invitation_check(pk=pk, key=key)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at:
        raise ValidationError("This invitation link is not valid, or has been used already.")
    User_ = get_user_model()
    username = username.strip()
    if User_.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "That username is taken: choose another"})
    user = User_(username=username, email=invitation.email)
    user.full_clean(exclude=["password"])
    validate_password(password, user)
    user.set_password(password)
    user.save()
    _role_apply(
        actor=invitation.invited_by,
        user=user,
        role=invitation.role,
        organisation=invitation.organisation,
        reason=f"Invitation accepted ({invitation.email})",
    )
    invitation.accepted_at = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["accepted_at", "user"])
    audit_record(
        actor=user,
        action=Action.INVITATION_ACCEPTED,
        subject=user,
        changes={"Role": ["", role_label(*user_role(user))]},
    )
    return user


@transaction.atomic
def user_role_change(
    *, actor: User, user: User, role: str, organisation: Organisation | None = None, reason: str
) -> None:
    _require_manager(actor)
    _require_other(actor, user)
    if role not in ["", *Role.values]:
        raise ValidationError({"role": "Choose a role"})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the role is changing"})
    before = role_label(*user_role(user))
    _role_apply(actor=actor, user=user, role=role, organisation=organisation, reason=reason)
    after = role_label(*user_role(user))
    if before != after:
        audit_record(
            actor=actor, action=Action.ROLE_CHANGED, subject=user, reason=reason, changes={"Role": [before, after]}
        )


@transaction.atomic
def user_active_set(*, actor: User, user: User, active: bool, reason: str) -> None:
    """Deactivate (they can no longer sign in, and any session of theirs ends at its next request) or reactivate."""
    _require_manager(actor)
    _require_other(actor, user)
    if not reason.strip():
        raise ValidationError({"reason": "Say why"})
    if user.is_active == active:
        return
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_record(actor=actor, action=Action.REACTIVATED if active else Action.DEACTIVATED, subject=user, reason=reason)


@transaction.atomic
def user_lockout_clear(*, actor: User, user: User) -> int:
    """Lift a sign-in lockout (django-axes) on the user's username, from every address."""
    _require_manager(actor)
    cleared = axes_reset(username=user.get_username())
    audit_record(
        actor=actor, action=Action.LOCKOUT_CLEARED, subject=user, changes={"Lockouts cleared": ["", str(cleared)]}
    )
    return cleared


def user_locked_out(user: User) -> bool:
    return AccessAttempt.objects.filter(
        username=user.get_username(), failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    ).exists()


def password_changed(*, user: User, how: str) -> None:
    """Record a password change that Django's own views made (change or reset by e-mail link)."""
    audit_record(actor=user, action=Action.PASSWORD_CHANGED, subject=user, changes={"Password": ["", how]})
