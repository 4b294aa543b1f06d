"""The audit log page: each kind of event appears after the action that makes it, with who, when, from which
address and what; filters; CSV (formula-neutralised); only auditors and the IG lead may read it."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from agreements import services as agreement_services
from agreements.models import Agreement
from audit.models import AuditEvent
from tests.factories import PASSWORD, OrganisationFactory, SubLicenceFactory, UserFactory
from tests.publishing.factories import publish, seed_sub_licence

pytestmark = pytest.mark.django_db
Action = AuditEvent.Action
PROXY = "10.0.0.5"


def _via_proxy(client_ip: str) -> dict[str, str]:
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": client_ip}


def _log(client: Client, **filters: Any) -> str:
    response = client.get(reverse("staff:audit_log"), filters)
    assert response.status_code == 200
    return response.content.decode()


def test_the_log_shows_each_kind_of_event_after_the_action_that_makes_it(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TRUSTED_PROXIES = [PROXY]
    lead = UserFactory(username="lead", role="IG lead")
    auditor = UserFactory(username="auditor", role="Auditor")
    lead_client, auditor_client = Client(), Client()
    lead_client.force_login(lead)
    auditor_client.force_login(auditor)
    expected: dict[str, str] = {}

    # Sign-in, failed sign-in and lockout, from a client behind the proxy.
    newcomer = UserFactory(username="newcomer", role="IG officer")
    browser = Client()
    browser.post(reverse("login"), {"username": "newcomer", "password": PASSWORD}, **_via_proxy("198.51.100.20"))
    expected[Action.SIGNED_IN] = "198.51.100.20"
    # Second-factor enrolment.
    browser.get(reverse("accounts:setup"))
    device = TOTPDevice.objects.get(user=newcomer)
    browser.post(reverse("accounts:setup"), {"token": f"{totp(device.bin_key):06d}"}, **_via_proxy("198.51.100.20"))
    expected[Action.MFA_ENROLLED] = "newcomer"
    stranger = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        stranger.post(reverse("login"), {"username": "newcomer", "password": "wrong"}, **_via_proxy("203.0.113.66"))
    expected[Action.SIGN_IN_FAILED] = "203.0.113.66"
    expected[Action.LOCKED_OUT] = "203.0.113.66"

    # The IG lead's Users page: invitation, role change, second-factor reset, lockout cleared.
    with django_capture_on_commit_callbacks(execute=True):
        lead_client.post(reverse("staff:user_invite"), {"email": "jo@nhs.net", "role": "Auditor"})
    expected[Action.INVITED] = "jo@nhs.net"
    user_url = reverse("staff:user", args=[newcomer.pk])
    lead_client.post(user_url, {"action": "role", "role-role": "IG approver", "role-reason": "Promoted"})
    expected[Action.ROLE_CHANGED] = "Promoted"
    lead_client.post(user_url, {"action": "reset_second_factor", "reset-reason": "Lost phone"})
    expected[Action.MFA_RESET] = "Lost phone"
    lead_client.post(user_url, {"action": "unlock"})
    expected[Action.LOCKOUT_CLEARED] = "newcomer"

    # A record change, an approval and a publication.
    officer = UserFactory(username="officer", role="IG officer")
    officer_client = Client()
    officer_client.force_login(officer)
    organisation = OrganisationFactory(name="Rutland County Council", ods_code="RUT")
    agreement_services.organisation_update(
        actor=officer, organisation=organisation, fields={"website": "https://www.rutland.gov.uk/"}, reason="New site"
    )
    expected[Action.UPDATED] = "Rutland County Council"
    sub_licence = seed_sub_licence()
    expected[Action.APPROVED] = sub_licence.reference
    publish()
    expected[Action.PUBLISHED] = "Sub Licence"

    # A staff export and a signed-document download.
    officer_client.get(reverse("staff:export_register_csv"))
    expected[Action.EXPORTED] = "register.csv"
    document = agreement_services.document_add(
        actor=officer,
        agreement=sub_licence,
        upload=SimpleUploadedFile("signed.pdf", b"%PDF-1.7\n%%EOF\n", content_type="application/pdf"),
        title="Signed copy",
        kind="signed_copy",
    )
    assert officer_client.get(reverse("staff:document_download", args=[sub_licence.pk, document.pk])).status_code == 200
    expected[Action.DOCUMENT_DOWNLOADED] = "signed.pdf"

    missing = []
    for action, text in expected.items():
        page = _log(auditor_client, action=action)
        label = str(Action(action).label).replace("'", "&#x27;")
        if label not in page or text not in page:
            missing.append(f"{action}: {label!r} with {text!r}")
    assert not missing, "Not in the audit log: " + ", ".join(missing)
    assert "0 events" not in _log(auditor_client, person="newcomer")


def test_filters_by_person_organisation_record_and_dates() -> None:
    lead = UserFactory(username="lead", role="IG lead")
    client = Client()
    client.force_login(lead)
    officer = UserFactory(username="officer", role="IG officer")
    council = OrganisationFactory(name="Leicester City Council", ods_code="509")
    other = OrganisationFactory(name="Other Council", ods_code="OTH")
    # A draft: a change to an approved agreement is an amendment, which another person approves.
    sub_licence = SubLicenceFactory(title="Council analytics", status=Agreement.Status.DRAFT, sub_licensee=council)
    agreement_services.organisation_update(
        actor=officer, organisation=council, fields={"website": "https://a.example/"}, reason="r1"
    )
    agreement_services.organisation_update(
        actor=officer, organisation=other, fields={"website": "https://b.example/"}, reason="r2"
    )
    agreement_services.agreement_update(actor=officer, agreement=sub_licence, fields={"title": "Renamed"}, reason="r3")

    by_org = _log(client, organisation=council.pk)
    assert "Reason: r1" in by_org and "Reason: r3" in by_org and "Reason: r2" not in by_org
    by_person = _log(client, person="OFFICER")
    assert "Reason: r1" in by_person and "Reason: r2" in by_person
    assert "Reason: r1" not in _log(client, person="lead")
    by_record = _log(client, record=sub_licence.reference)
    assert "Reason: r3" in by_record and "Reason: r1" not in by_record
    assert "Reason: r1" not in _log(client, start_day="1", start_month="1", start_year="2099")
    bad = client.get(reverse("staff:audit_log"), {"start_day": "31", "start_month": "2", "start_year": "2026"})
    assert bad.status_code == 400 and "must be a real date" in bad.content.decode()


def test_csv_export_is_filtered_and_formula_neutralised() -> None:
    lead = UserFactory(username="lead", role="IG lead")
    client = Client()
    client.force_login(lead)
    officer = UserFactory(username="officer", role="IG officer")
    organisation = OrganisationFactory(name="Council", ods_code="COU")
    agreement_services.organisation_update(
        actor=officer, organisation=organisation, fields={"website": "https://a.example/"}, reason='=HYPERLINK("x")'
    )
    response = client.get(reverse("staff:audit_log"), {"person": "officer", "format": "csv"})
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["When (UK time)", "Who", "Action", "Record", "IP address", "Reason", "What changed"]
    assert len(rows) == 2
    assert rows[1][1] == "officer" and rows[1][3] == "Council (COU)"
    assert rows[1][5] == '\'=HYPERLINK("x")'


def test_only_auditors_and_the_ig_lead_read_the_log() -> None:
    for role, status in [("Auditor", 200), ("IG lead", 200), ("IG approver", 403), ("IG officer", 403), ("", 403)]:
        client = Client()
        client.force_login(UserFactory(username=f"user-{role or 'none'}".replace(" ", "-"), role=role or None))
        assert client.get(reverse("staff:audit_log")).status_code == status, role
