"""The Users page: invitations (and their expiry), role changes, deactivation, second-factor reset and lockout
unlock, each audited; nobody changes their own role."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import Invitation
from audit.models import AuditEvent
from tests.conftest import second_factor_device
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db
Action = AuditEvent.Action


@pytest.fixture
def lead() -> User:
    return UserFactory(username="lead", role="IG lead")


@pytest.fixture
def lead_client(lead: User) -> Client:
    client = Client()
    client.force_login(lead)
    return client


def _link(message: Any) -> str:
    return (
        re.search(r"http://\S+/accounts/invitation/\S+/", message.body)
        .group(0)
        .split("testserver", 1)[-1]
        .split("8000", 1)[-1]
    )


def _invite(client: Client, **data: Any) -> Any:
    return client.post(reverse("staff:user_invite"), data, follow=True)


def test_only_the_ig_lead_sees_the_users_page(lead_client: Client) -> None:
    assert lead_client.get(reverse("staff:users")).status_code == 200
    for role in ("IG approver", "IG officer", "Auditor"):
        client = Client()
        client.force_login(UserFactory(username=f"{role}-user".replace(" ", "-"), role=role))
        assert client.get(reverse("staff:users")).status_code == 403
        assert (
            client.post(reverse("staff:user_invite"), {"email": "x@nhs.net", "role": "IG officer"}).status_code == 403
        )
    assert not Invitation.objects.exists()


def test_invite_a_partner_contact_who_accepts_and_gets_exactly_that_role(
    lead_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    council = OrganisationFactory(name="Leicester City Council", ods_code="509")
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(lead_client, email="jo@leicester.gov.uk", role="partner", organisation=council.pk)
    assert "Invitation sent to jo@leicester.gov.uk" in response.content.decode()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["jo@leicester.gov.uk"]
    link = _link(mail.outbox[0])
    invitation = Invitation.objects.get()
    # The key is in the e-mail only, never stored as it is.
    assert link.rstrip("/").rsplit("/", 1)[1] not in invitation.key

    visitor = Client()
    page = visitor.get(link).content.decode()
    assert "Partner contact for Leicester City Council" in page
    weak = visitor.post(link, {"username": "jo", "password1": "password", "password2": "password"})
    assert weak.status_code == 400 and "This password is too common" in weak.content.decode()
    accepted = visitor.post(
        link, {"username": "jo", "password1": "A-long-Passphrase-9", "password2": "A-long-Passphrase-9"}
    )
    assert accepted["Location"] == reverse("login")
    jo = User.objects.get(username="jo")
    assert jo.email == "jo@leicester.gov.uk"
    assert services.user_role(jo) == ("partner", [council])
    assert not jo.groups.exists()
    # Used once only.
    assert "not valid, or has been used already" in visitor.get(link).content.decode()
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
        Action.INVITED,
        Action.INVITATION_ACCEPTED,
        Action.ACCESS_GRANTED,
    }


def test_an_invitation_expires_and_sending_it_again_gives_a_new_link(
    lead: User, lead_client: Client, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            _invite(lead_client, email="sam@nhs.net", role="IG officer")
        old_link = _link(mail.outbox[0])
        traveller.shift(dt.timedelta(seconds=settings.INVITATION_MAX_AGE + 60))
        page = Client().get(old_link)
        assert page.status_code == 400
        assert "This invitation has expired. Ask your IG lead to send it again." in page.content.decode()
        lead_client.force_login(lead)  # a week later: the idle timeout has signed the lead out
        assert "(expired)" in lead_client.get(reverse("staff:users")).content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            lead_client.post(reverse("staff:invitation_resend", args=[Invitation.objects.get().pk]))
        new_link = _link(mail.outbox[1])
        assert new_link != old_link
        assert "not valid" in Client().get(old_link).content.decode()
        Client().post(
            new_link, {"username": "sam", "password1": "A-long-Passphrase-9", "password2": "A-long-Passphrase-9"}
        )
    assert User.objects.get(username="sam").groups.get().name == "IG officer"
    assert AuditEvent.objects.filter(action=Action.INVITATION_RESENT).exists()


def test_an_invitation_is_refused_for_an_address_that_has_an_account(lead_client: Client) -> None:
    UserFactory(username="existing", email="taken@nhs.net")
    response = lead_client.post(reverse("staff:user_invite"), {"email": "Taken@nhs.net", "role": "Auditor"})
    assert response.status_code == 400
    assert "already has an account" in response.content.decode()
    response = lead_client.post(reverse("staff:user_invite"), {"email": "new@nhs.net", "role": "partner"})
    assert "Choose the partner contact&#x27;s organisation" in response.content.decode()
    assert 'value="new@nhs.net"' in response.content.decode()
    assert not Invitation.objects.exists()


def test_change_a_role_with_a_reason_audited(lead_client: Client) -> None:
    officer = UserFactory(username="officer", role="IG officer")
    url = reverse("staff:user", args=[officer.pk])
    missing = lead_client.post(url, {"action": "role", "role-role": "IG approver", "role-reason": ""})
    assert missing.status_code == 400
    response = lead_client.post(url, {"action": "role", "role-role": "IG approver", "role-reason": "Promoted"})
    assert response.status_code == 302
    officer.refresh_from_db()
    assert services.user_role(officer)[0] == "IG approver"
    event = AuditEvent.objects.get(action=Action.ROLE_CHANGED)
    assert event.changes == {"Role": ["IG officer", "IG approver"]}
    assert event.reason == "Promoted" and event.subject_label == "officer"


def test_nobody_can_change_their_own_role(lead: User, lead_client: Client) -> None:
    response = lead_client.post(
        reverse("staff:user", args=[lead.pk]), {"action": "role", "role-role": "IG lead", "role-reason": "me"}
    )
    assert response.status_code == 400
    assert "You cannot change your own account here" in response.content.decode()
    with pytest.raises(ValidationError, match="own account"):
        services.user_role_change(actor=lead, user=lead, role="IG lead", reason="me")
    # Nor can someone without the permission raise anyone's.
    officer = UserFactory(username="officer", role="IG officer")
    with pytest.raises(PermissionDenied):
        services.user_role_change(actor=officer, user=officer, role="IG lead", reason="me")
    assert not AuditEvent.objects.filter(action=Action.ROLE_CHANGED).exists()


def test_an_ig_lead_cannot_change_a_superuser(lead_client: Client) -> None:
    root = UserFactory(username="root", is_superuser=True)
    response = lead_client.post(reverse("staff:user", args=[root.pk]), {"action": "deactivate", "active-reason": "no"})
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.is_active


def test_deactivate_ends_their_session_and_reactivate(lead_client: Client) -> None:
    officer = UserFactory(username="officer", role="IG officer")
    theirs = Client()
    theirs.force_login(officer)
    assert theirs.get(reverse("staff:dashboard")).status_code == 200
    url = reverse("staff:user", args=[officer.pk])
    lead_client.post(url, {"action": "deactivate", "active-reason": "Left the ICB"})
    assert theirs.get(reverse("staff:dashboard")).status_code == 302
    lead_client.post(url, {"action": "reactivate", "active-reason": "Back"})
    officer.refresh_from_db()
    assert officer.is_active
    assert list(AuditEvent.objects.filter(subject_label="officer").values_list("action", flat=True))[:2] == [
        Action.REACTIVATED,
        Action.DEACTIVATED,
    ]


def test_reset_a_lost_second_factor(lead_client: Client) -> None:
    officer = UserFactory(username="officer", role="IG officer")
    second_factor_device(officer)
    services.recovery_codes_regenerate(actor=officer)
    lead_client.post(
        reverse("staff:user", args=[officer.pk]), {"action": "reset_second_factor", "reset-reason": "Lost phone"}
    )
    assert not TOTPDevice.objects.filter(user=officer).exists()
    event = AuditEvent.objects.get(action=Action.MFA_RESET)
    assert event.reason == "Lost phone" and event.subject_label == "officer"
    # At the next sign-in they set up a new one.
    client = Client()
    client.post(reverse("login"), {"username": "officer", "password": "correct-horse-battery-staple"})
    assert client.get(reverse("staff:dashboard"))["Location"].startswith(reverse("accounts:setup"))


def test_unlock_a_locked_out_user(lead_client: Client, settings: Any) -> None:
    officer = UserFactory(username="officer", role="IG officer")
    stranger = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        stranger.post(reverse("login"), {"username": "officer", "password": "wrong"})
    assert (
        stranger.post(reverse("login"), {"username": "officer", "password": "correct-horse-battery-staple"}).status_code
        == 429
    )
    assert AuditEvent.objects.filter(action=Action.LOCKED_OUT, subject_label="officer").exists()
    url = reverse("staff:user", args=[officer.pk])
    assert "Locked out after failed sign-ins" in lead_client.get(url).content.decode()
    lead_client.post(url, {"action": "unlock"})
    assert "Locked out" not in lead_client.get(url).content.decode()
    assert (
        stranger.post(reverse("login"), {"username": "officer", "password": "correct-horse-battery-staple"}).status_code
        == 302
    )
    assert AuditEvent.objects.filter(action=Action.LOCKOUT_CLEARED, subject_label="officer").exists()


def _people(count: int, start: int) -> None:
    """Staff of each role, partner contacts (one through a group), people with no role, a second factor or
    a lockout here and there."""
    from axes.models import AccessAttempt
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm

    from agreements.roles import roles_sync
    from agreements.services import partner_contact_grant

    roles_sync()
    roles_ = ["IG officer", "IG approver", "Auditor", "IG lead", None, None]
    for n in range(start, start + count):
        user = UserFactory(username=f"person-{n:03d}", password=None)
        if role := roles_[n % len(roles_)]:
            user.groups.add(Group.objects.get(name=role))
        if roles_[n % len(roles_)] is None and n % 2:
            partner_contact_grant(actor=None, user=user, organisation=OrganisationFactory(name=f"Council {n:03d}"))
        if n % 3 == 0:
            second_factor_device(user)
        if n % 7 == 0:
            AccessAttempt.objects.create(
                username=user.username, ip_address="127.0.0.1", user_agent="test", failures_since_start=99
            )
        if n == start:
            group = Group.objects.create(name=f"Contacts of council {n}")
            assign_perm("agreements.act_for_organisation", group, OrganisationFactory(name=f"Grouped council {n}"))
            UserFactory(username=f"grouped-{n:03d}", password=None).groups.add(group)


def test_the_users_page_says_of_each_person_what_their_own_page_says(lead_client: Client) -> None:
    from django.contrib.auth import get_user_model

    from accounts.second_factor import has_second_factor

    _people(14, 0)
    UserFactory(username="root", is_superuser=True)
    summaries = services.user_summaries(get_user_model().objects.order_by("username"))
    assert [(s.role, s.second_factor, s.locked_out) for s in summaries] == [
        (services.role_label(*services.user_role(u)), has_second_factor(u), services.user_locked_out(u))
        for u in get_user_model().objects.order_by("username")
    ]
    assert {s.role.split(" for ")[0] for s in summaries} >= {"IG officer", "Auditor", "Partner contact", "No role"}
    assert any(s.second_factor for s in summaries) and any(s.locked_out for s in summaries)


def test_the_users_page_costs_the_same_for_5_and_50_people(lead_client: Client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        assert lead_client.get(reverse("staff:users")).status_code == 200
        with CaptureQueriesContext(connection) as context:
            assert lead_client.get(reverse("staff:users")).status_code == 200
        return len(context.captured_queries)

    _people(5, 0)
    few = queries()
    _people(45, 100)
    assert queries() == few
