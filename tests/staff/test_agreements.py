"""The staff pages: what a person sees and what gets saved, bad input included."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from agreements import roles, services
from agreements.models import Agreement, Organisation, Party
from audit.models import AuditEvent
from tests.factories import (
    AgreementFactory,
    OrganisationFactory,
    PartyFactory,
    SubLicenceFactory,
    UserFactory,
    signed,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def officer() -> Any:
    return UserFactory(username="officer", role=roles.IG_OFFICER)


@pytest.fixture
def approver() -> Any:
    return UserFactory(username="approver", role=roles.IG_APPROVER)


@pytest.fixture
def officer_client(officer: Any) -> Client:
    return _client(officer)


def _organisation_data(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Rutland County Council",
        "ods_code": "465",
        "kind": "local_authority",
        "website": "",
        "ico_registration_number": "",
        "ico_registration_expires_day": "",
        "ico_registration_expires_month": "",
        "ico_registration_expires_year": "",
        "dspt_status": "met",
        "dspt_assessment_year": "2025-26",
        "creation_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def _sub_licence_data(sub_licensee: Organisation, **overrides: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "sub_licensee": sub_licensee.pk,
        "licensor": "",
        "parent": "",
        "title": "Sub-licence to Rutland",
        "summary": "Rutland uses pseudonymised data to plan services.",
        "start_date_day": "1",
        "start_date_month": "4",
        "start_date_year": "2026",
        "end_date_day": "31",
        "end_date_month": "3",
        "end_date_year": "2028",
        "review_date_day": "",
        "review_date_month": "",
        "review_date_year": "",
        "data_level": "pseudonymised",
        "article_6_basis": "6_1_e",
        "article_9_condition": "9_2_h",
        "common_law_basis": "not_confidential",
        "statutory_gateway": "",
        "opt_out": "applied",
        "opt_out_reason": "",
        "dpia_reference": "",
        "is_public": "on",
        "owner": "",
        "creation_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def _errors(response: Any) -> str:
    body = response.content.decode()
    match = re.search(r'<div class="nhsuk-error-summary".*?</ul>', body, re.S)
    return match.group(0) if match else ""


# ---------------------------------------------------------------------------------------------------------
# Organisations


def test_create_organisation_normalises_a_lower_case_ods_code(officer_client: Client) -> None:
    response = officer_client.post(reverse("staff:organisation_create"), _organisation_data(ods_code="  465 "))
    organisation = Organisation.objects.get(name="Rutland County Council")
    assert organisation.ods_code == "465"
    assert response.url == reverse("staff:organisation_detail", args=[organisation.pk])
    page = officer_client.get(response.url).content.decode()
    assert "Organisation Rutland County Council added" in page
    assert AuditEvent.objects.filter(organisation=organisation, action="created").count() == 1


@pytest.mark.parametrize("code", ["q k1", "QK-1", "Q$1", "QK", "ABCDEFGHIJK1"])
def test_create_organisation_refuses_a_bad_ods_code(officer_client: Client, code: str) -> None:
    response = officer_client.post(reverse("staff:organisation_create"), _organisation_data(ods_code=code))
    assert response.status_code == 200
    summary = _errors(response)
    assert 'href="#id_ods_code"' in summary
    assert "Enter an ODS code of 3 to 10 letters and numbers" in summary
    body = response.content.decode()
    assert 'id="id_ods_code-error"' in body
    assert "nhsuk-form-group--error" in body
    assert "Rutland County Council" in body  # what was typed is kept
    assert response.context["form"]["name"].value() == "Rutland County Council"
    assert not Organisation.objects.exists()


def test_lower_case_ods_code_is_corrected(officer_client: Client) -> None:
    officer_client.post(reverse("staff:organisation_create"), _organisation_data(ods_code="qk1"))
    assert Organisation.objects.get().ods_code == "QK1"


def test_duplicate_organisation_is_refused(officer_client: Client) -> None:
    OrganisationFactory(name="Rutland County Council", ods_code="465")
    response = officer_client.post(reverse("staff:organisation_create"), _organisation_data(ods_code="465"))
    summary = _errors(response)
    assert "An organisation with this ODS code already exists" in summary
    assert "An organisation called Rutland County Council already exists" in summary
    assert Organisation.objects.count() == 1


def test_double_clicked_create_makes_one_organisation(officer_client: Client) -> None:
    data = _organisation_data()
    first = officer_client.post(reverse("staff:organisation_create"), data)
    second = officer_client.post(reverse("staff:organisation_create"), data)
    assert Organisation.objects.count() == 1
    assert first.url == second.url


def test_create_form_has_a_creation_key_and_prevents_double_clicks(officer_client: Client) -> None:
    body = officer_client.get(reverse("staff:organisation_create")).content.decode()
    assert re.search(r'name="creation_key" value="[0-9a-f-]{36}"', body)
    assert 'data-prevent-double-click="true"' in body


def test_edit_organisation_records_the_change(officer: Any, officer_client: Client) -> None:
    organisation = OrganisationFactory(name="Old name", ods_code="ABC12")
    data = _organisation_data(name="New name", ods_code="abc12", reason="Renamed in April")
    data.pop("creation_key")
    response = officer_client.post(reverse("staff:organisation_edit", args=[organisation.pk]), data)
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert organisation.name == "New name"
    event = AuditEvent.objects.get(organisation=organisation, action="updated")
    assert event.reason == "Renamed in April"
    assert event.changes["Name"] == ["Old name", "New name"]


def test_organisation_search_by_name_and_ods_code(officer_client: Client) -> None:
    OrganisationFactory(name="Leicester City Council", ods_code="509")
    OrganisationFactory(name="Rutland County Council", ods_code="465")
    url = reverse("staff:organisation_list")
    by_name = officer_client.get(url, {"q": "leicester"}).content.decode()
    assert "Leicester City Council" in by_name and "Rutland County Council" not in by_name
    by_code = officer_client.get(url, {"q": "465"}).content.decode()
    assert "Rutland County Council" in by_code and "Leicester City Council" not in by_code


# ---------------------------------------------------------------------------------------------------------
# Sub-licences and agreements


@time_machine.travel("2026-05-01 12:00 +0100")
def test_new_sub_licence_is_given_a_reference_and_a_banner(officer_client: Client) -> None:
    partner = OrganisationFactory(name="Rutland County Council")
    response = officer_client.post(reverse("staff:sub_licence_create"), _sub_licence_data(partner), follow=True)
    agreement = Agreement.objects.get()
    assert agreement.reference == "SL/26/1"
    assert agreement.kind == Agreement.Kind.SUB_LICENCE
    assert agreement.status == Agreement.Status.DRAFT
    assert agreement.parties.get().organisation == partner
    assert "Sub-licence SL/26/1 created" in response.content.decode()


def test_double_clicked_sub_licence_creates_one(officer_client: Client) -> None:
    data = _sub_licence_data(OrganisationFactory())
    officer_client.post(reverse("staff:sub_licence_create"), data)
    officer_client.post(reverse("staff:sub_licence_create"), data)
    assert Agreement.objects.count() == 1


def test_end_before_start_is_refused_and_nothing_is_saved(officer_client: Client) -> None:
    data = _sub_licence_data(OrganisationFactory(), end_date_year="2025")
    response = officer_client.post(reverse("staff:sub_licence_create"), data)
    summary = _errors(response)
    assert "The end date must be the same as or after the start date" in summary
    assert 'href="#id_end_date_day"' in summary
    assert 'value="2025"' in response.content.decode()
    assert not Agreement.objects.exists()


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("31", "2", "2026", "Start date must be a real date"),
        ("1", "", "2026", "Start date must include a month"),
        ("x", "4", "2026", "Start date must be a real date"),
        ("", "", "", "Enter the start date"),
    ],
)
def test_bad_dates_are_explained(officer_client: Client, day: str, month: str, year: str, message: str) -> None:
    data = _sub_licence_data(OrganisationFactory(), start_date_day=day, start_date_month=month, start_date_year=year)
    response = officer_client.post(reverse("staff:sub_licence_create"), data)
    assert message in _errors(response)
    assert not Agreement.objects.exists()


def test_ten_thousand_character_title_is_refused(officer_client: Client) -> None:
    response = officer_client.post(
        reverse("staff:sub_licence_create"), _sub_licence_data(OrganisationFactory(), title="x" * 10_000)
    )
    assert "Title must be 200 characters or fewer" in _errors(response)
    assert not Agreement.objects.exists()


def test_html_in_text_fields_is_shown_escaped(officer_client: Client) -> None:
    script = "<script>alert('x')</script>"
    data = _sub_licence_data(OrganisationFactory(), title=f"Title {script}", summary=f"Summary {script}")
    response = officer_client.post(reverse("staff:sub_licence_create"), data, follow=True)
    agreement = Agreement.objects.get()
    assert agreement.title == f"Title {script}"
    for url in [
        reverse("staff:agreement_detail", args=[agreement.pk]),
        reverse("staff:agreement_list"),
        reverse("staff:agreement_edit", args=[agreement.pk]),
    ]:
        body = officer_client.get(url).content.decode()
        assert "<script>alert" not in body, url
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body, url
    assert "<script>alert" not in response.content.decode()


def _agreement_data(**overrides: Any) -> dict[str, Any]:
    data = _sub_licence_data(OrganisationFactory())
    for name in ("sub_licensee", "licensor"):
        data.pop(name)
    data.update({"kind": "dsa", "reference": "DSA-TEST-900", "title": "Hospital data for planning", "party_rows": "3"})
    data.update(overrides)
    return data


def test_create_a_dsa_with_parties(officer_client: Client) -> None:
    icb, trust = OrganisationFactory(), OrganisationFactory()
    data = _agreement_data(
        party_1_organisation=icb.pk,
        party_1_role="controller",
        party_2_organisation=trust.pk,
        party_2_role="processor",
    )
    response = officer_client.post(reverse("staff:agreement_create"), data, follow=True)
    agreement = Agreement.objects.get(reference="DSA-TEST-900")
    assert {(p.organisation, p.role) for p in agreement.parties.all()} == {(icb, "controller"), (trust, "processor")}
    assert "Data sharing agreement DSA-TEST-900 created" in response.content.decode()


def test_agreement_needs_a_party_and_each_party_a_role(officer_client: Client) -> None:
    response = officer_client.post(reverse("staff:agreement_create"), _agreement_data())
    assert "Add at least one organisation that is party to the agreement" in _errors(response)
    organisation = OrganisationFactory(name="Trust")
    response = officer_client.post(
        reverse("staff:agreement_create"), _agreement_data(party_1_organisation=organisation.pk)
    )
    assert "Select the role of Trust" in _errors(response)
    assert not Agreement.objects.exists()


def test_sub_licence_references_are_kept_for_sub_licences(officer_client: Client) -> None:
    organisation = OrganisationFactory()
    response = officer_client.post(
        reverse("staff:agreement_create"),
        _agreement_data(reference="SL/26/9", party_1_organisation=organisation.pk, party_1_role="recipient"),
    )
    assert "References like SL/25/1 are kept for sub-licences" in _errors(response)


def _edit_data(agreement: Agreement, **overrides: Any) -> dict[str, Any]:
    data = _agreement_data()
    data.pop("kind")
    data.pop("creation_key")
    data.pop("reference")
    data["title"] = agreement.title
    parties = list(agreement.parties.all())
    for number, party in enumerate(parties, start=1):
        data[f"party_{number}_organisation"] = party.organisation_id
        data[f"party_{number}_role"] = party.role
    data.update(overrides)
    return data


def test_change_to_an_active_agreement_needs_a_reason_and_becomes_an_amendment(
    officer: Any, officer_client: Client
) -> None:
    agreement = AgreementFactory(status=Agreement.Status.ACTIVE, title="Before")
    PartyFactory(agreement=agreement)
    url = reverse("staff:agreement_edit", args=[agreement.pk])
    response = officer_client.post(url, _edit_data(agreement, title="After"))
    assert "Enter why you are changing an active agreement" in _errors(response)
    agreement.refresh_from_db()
    assert agreement.title == "Before"
    response = officer_client.post(url, _edit_data(agreement, title="After", reason="New scope agreed"))
    amendment = agreement.amendments.get()
    assert response.url == reverse("staff:amendment", args=[agreement.pk, amendment.pk])
    agreement.refresh_from_db()
    assert agreement.title == "Before"
    event = AuditEvent.objects.get(agreement=agreement, action="amendment_proposed")
    assert event.reason == "New scope agreed"
    assert event.changes["Title"] == ["Before", "After"]
    history = officer_client.get(reverse("staff:agreement_detail", args=[agreement.pk])).content.decode()
    assert "New scope agreed" in history and "An amendment is in progress" in history


def test_partner_edits_details_but_not_parties(officer: Any) -> None:
    organisation = OrganisationFactory()
    partner = UserFactory(username="partner")
    services.partner_contact_grant(actor=None, user=partner, organisation=organisation)
    agreement = AgreementFactory(status=Agreement.Status.DRAFT, title="Before")
    PartyFactory(agreement=agreement, organisation=organisation)
    client = _client(partner)
    url = reverse("staff:agreement_edit", args=[agreement.pk])
    page = client.get(url).content.decode()
    assert "party_1_organisation" not in page
    data = _edit_data(agreement, title="After")
    response = client.post(url, data)
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.title == "After"
    assert agreement.parties.get().organisation == organisation


# ---------------------------------------------------------------------------------------------------------
# Workflow


def test_submit_approve_and_history(officer: Any, officer_client: Client, approver: Any) -> None:
    agreement = signed(SubLicenceFactory(status=Agreement.Status.DRAFT, last_edited_by=officer))
    officer_client.post(reverse("staff:agreement_submit", args=[agreement.pk]), {"reason": ""})
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.IN_REVIEW
    response = _client(approver).post(
        reverse("staff:agreement_approve", args=[agreement.pk]), {"reason": "Checked"}, follow=True
    )
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.ACTIVE
    body = response.content.decode()
    assert f"{agreement.reference} approved" in body
    assert "Approved" in body and "Submitted for review" in body and "Checked" in body


def test_four_eyes_refusal_is_shown_plainly(approver: Any) -> None:
    agreement = AgreementFactory(status=Agreement.Status.IN_REVIEW, last_edited_by=approver)
    client = _client(approver)
    url = reverse("staff:agreement_approve", args=[agreement.pk])
    message = "You cannot approve this agreement because you were the last person to edit it"
    assert message in client.get(url).content.decode()
    response = client.post(url, {"reason": ""})
    assert message in _errors(response)
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.IN_REVIEW
    detail = client.get(reverse("staff:agreement_detail", args=[agreement.pk])).content.decode()
    assert "another approver must approve it" in detail.lower()
    assert url not in detail


def test_a_team_with_one_approver_is_told_it_is_stuck_and_then_who_can_approve(approver: Any) -> None:
    agreement = AgreementFactory(status=Agreement.Status.IN_REVIEW, last_edited_by=approver)
    url = reverse("staff:agreement_detail", args=[agreement.pk])
    detail = _client(approver).get(url).content.decode()
    assert "Nobody can approve it yet" in detail and "give the IG approver role to a second person" in detail
    UserFactory(username="second-approver", first_name="Priya", last_name="Shah", role=roles.IG_APPROVER)
    UserFactory(username="gone", role=roles.IG_APPROVER, is_active=False)
    detail = _client(approver).get(url).content.decode()
    assert "Who can approve it: Priya Shah." in detail and "Nobody can approve" not in detail


def test_terminate_needs_a_reason_and_an_active_agreement_a_second_approver(approver: Any) -> None:
    agreement = AgreementFactory(status=Agreement.Status.ACTIVE)
    client = _client(approver)
    url = reverse("staff:agreement_terminate", args=[agreement.pk])
    response = client.post(url, {"reason": "  "})
    assert "Enter why the agreement is being terminated" in _errors(response)
    response = client.post(url, {"reason": "Partner withdrew"}, follow=True)
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.ACTIVE
    assert "another approver must approve it" in response.content.decode()
    request = agreement.amendments.get()
    second = _client(UserFactory(username="second", role=roles.IG_APPROVER))
    second.post(reverse("staff:amendment_approve", args=[agreement.pk, request.pk]), {"approve-reason": ""})
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.TERMINATED
    assert "Partner withdrew" in AuditEvent.objects.get(agreement=agreement, action="terminated").reason


def test_return_to_draft_needs_what_to_change(approver: Any) -> None:
    agreement = AgreementFactory(status=Agreement.Status.IN_REVIEW)
    client = _client(approver)
    url = reverse("staff:agreement_return", args=[agreement.pk])
    assert "Enter what needs to change" in _errors(client.post(url, {"reason": ""}))
    client.post(url, {"reason": "Add the DPIA reference"})
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.DRAFT


def test_double_submitted_transition_explains_instead_of_failing(officer_client: Client) -> None:
    agreement = signed(AgreementFactory(status=Agreement.Status.DRAFT))
    url = reverse("staff:agreement_submit", args=[agreement.pk])
    officer_client.post(url, {"reason": ""})
    response = officer_client.post(url, {"reason": ""})
    assert response.status_code == 200
    assert "in review" in _errors(response)
    assert AuditEvent.objects.filter(agreement=agreement, action="submitted").count() == 1


# ---------------------------------------------------------------------------------------------------------
# Documents


def test_upload_and_download_a_pdf(officer_client: Client) -> None:
    agreement = AgreementFactory()
    upload = SimpleUploadedFile("signed copy.pdf", PDF, content_type="application/pdf")
    response = officer_client.post(
        reverse("staff:document_create", args=[agreement.pk]),
        {"title": "Signed copy", "kind": "signed_copy", "file": upload},
    )
    assert response.status_code == 302
    document = agreement.documents.get()
    download = officer_client.get(reverse("staff:document_download", args=[agreement.pk, document.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert "attachment" in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == PDF


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"hello", "The selected file must be a PDF"),
        ("fake.pdf", b"MZ\x90\x00 not a pdf", "The selected file must be a PDF"),
        ("big.pdf", PDF + b"0" * 2048, "The selected file must be smaller than"),
    ],
)
def test_upload_refuses_bad_files(
    officer_client: Client, settings: Any, name: str, content: bytes, message: str
) -> None:
    settings.DOCUMENT_MAX_BYTES = 1024 * 1024 if "big" not in name else 1024
    agreement = AgreementFactory()
    response = officer_client.post(
        reverse("staff:document_create", args=[agreement.pk]),
        {"title": "Signed copy", "kind": "signed_copy", "file": SimpleUploadedFile(name, content)},
    )
    assert message in _errors(response)
    assert not agreement.documents.exists()


# ---------------------------------------------------------------------------------------------------------
# Lists and dashboard


def test_agreement_list_searches_and_filters(officer_client: Client) -> None:
    partner = OrganisationFactory(name="Rutland County Council")
    rutland = SubLicenceFactory(title="Rutland planning", sub_licensee=partner)
    other = AgreementFactory(title="Hospital data", kind=Agreement.Kind.DPA, status=Agreement.Status.DRAFT)
    url = reverse("staff:agreement_list")

    def shown(**params: str) -> set[str]:
        body = officer_client.get(url, params).content.decode()
        return {a.reference for a in (rutland, other) if a.reference in body}

    assert shown(q="rutland county") == {rutland.reference}
    assert shown(q=rutland.reference) == {rutland.reference}
    assert shown(q="hospital") == {other.reference}
    assert shown(kind="dpa") == {other.reference}
    assert shown(status="draft") == {other.reference}
    assert shown(data_level="pseudonymised") == {rutland.reference, other.reference}
    assert shown(data_level="aggregate") == set()


@time_machine.travel("2026-05-01 12:00 +0100")
def test_agreement_list_filters_by_organisation_owner_and_overdue_review_and_sorts_all_in_the_url(
    officer: Any, officer_client: Client
) -> None:
    import datetime as dt

    partner = OrganisationFactory(name="Rutland County Council")
    rutland = SubLicenceFactory(title="Zebra planning", sub_licensee=partner, review_date=dt.date(2027, 1, 1))
    owned = AgreementFactory(title="Alpha hospital data", owner=officer, review_date=dt.date(2026, 6, 1))
    overdue = AgreementFactory(title="Middle data", review_date=dt.date(2026, 1, 1))
    url = reverse("staff:agreement_list")

    def shown(**params: str) -> list[str]:
        body = officer_client.get(url, params).content.decode()
        positions = {a.reference: body.find(f">{a.reference}<") for a in (rutland, owned, overdue)}
        return [reference for reference, at in sorted(positions.items(), key=lambda item: item[1]) if at >= 0]

    assert shown(organisation=str(partner.pk)) == [rutland.reference]
    assert shown(owner=str(officer.pk)) == [owned.reference]
    assert shown(review_overdue="on") == [overdue.reference]
    assert shown(sort="title") == [owned.reference, overdue.reference, rutland.reference]
    assert shown(sort="review_date") == [overdue.reference, owned.reference, rutland.reference]
    # The choices are in the page's address, so a filtered, sorted list can be bookmarked and paged.
    page = officer_client.get(url, {"owner": str(officer.pk), "sort": "title"}).content.decode()
    assert "Clear search and filters" in page
    assert '<option value="title" selected>' in page
    assert f"Rutland County Council ({partner.ods_code})</option>" in page


@time_machine.travel("2026-05-01 12:00 +0100")
def test_ending_soon_filter_and_dashboard(officer_client: Client, approver: Any) -> None:
    import datetime as dt

    soon = AgreementFactory(end_date=dt.date(2026, 6, 1), title="Ends soon")
    later = AgreementFactory(end_date=dt.date(2028, 6, 1), title="Ends later")
    overdue = AgreementFactory(review_date=dt.date(2026, 1, 1), title="Review overdue")
    waiting = AgreementFactory(status=Agreement.Status.IN_REVIEW, title="Waiting")
    body = officer_client.get(reverse("staff:agreement_list"), {"ending_soon": "on"}).content.decode()
    assert soon.reference in body and later.reference not in body

    dashboard = officer_client.get(reverse("staff:dashboard")).content.decode()
    assert soon.reference in dashboard and overdue.reference in dashboard
    assert waiting.reference not in dashboard  # officers do not approve
    assert _client(approver).get(reverse("staff:dashboard")).content.decode().count(waiting.reference) == 1


def test_pagination(officer_client: Client) -> None:
    for _ in range(30):
        AgreementFactory()
    first = officer_client.get(reverse("staff:agreement_list"), {"status": "active"}).content.decode()
    assert "Page 1 of 2" in first
    assert "?status=active&amp;page=2" in first
    second = officer_client.get(reverse("staff:agreement_list"), {"status": "active", "page": "2"})
    assert len(second.context["page"].object_list) == 5


def test_every_staff_page_has_breadcrumbs_and_a_title(officer_client: Client) -> None:
    agreement = AgreementFactory()
    PartyFactory(agreement=agreement, role=Party.Role.RECIPIENT)
    organisation = agreement.parties.get().organisation
    for url in [
        reverse("staff:dashboard"),
        reverse("staff:organisation_list"),
        reverse("staff:organisation_detail", args=[organisation.pk]),
        reverse("staff:organisation_create"),
        reverse("staff:organisation_edit", args=[organisation.pk]),
        reverse("staff:agreement_list"),
        reverse("staff:agreement_detail", args=[agreement.pk]),
        reverse("staff:agreement_create"),
        reverse("staff:sub_licence_create"),
        reverse("staff:agreement_edit", args=[agreement.pk]),
        reverse("staff:agreement_submit", args=[agreement.pk]),
        reverse("staff:document_create", args=[agreement.pk]),
    ]:
        body = officer_client.get(url).content.decode()
        assert 'class="nhsuk-breadcrumb"' in body, url
        title = re.search(r"<title>(.*?)</title>", body, re.S).group(1)
        assert title.split(" \u2013 ")[0].strip(), url
        assert "<h1" in body, url


# Digits that are not 0-9: "²".isdigit() is True but int("²") raises; "٣" (Arabic-Indic three) int() reads as 3.
UNICODE_DIGITS = ["²", "٣", "\uff11\uff12", "³⁴", "\U0001d7d7"]  # fullwidth 12, mathematical bold 9


@pytest.mark.parametrize("digits", UNICODE_DIGITS)
def test_unicode_digits_in_party_rows_fall_back_to_the_usual_rows(officer_client: Client, digits: str) -> None:
    organisation = OrganisationFactory()
    data = _agreement_data(party_rows=digits, party_1_organisation=organisation.pk, party_1_role="controller")
    response = officer_client.post(reverse("staff:agreement_create"), data)
    assert response.status_code == 302
    assert Agreement.objects.get(reference="DSA-TEST-900").parties.get().organisation == organisation
    response = officer_client.get(reverse("staff:agreement_edit", args=[Agreement.objects.get().pk]))
    edit = _edit_data(Agreement.objects.get(), party_rows=digits, title="Renamed")
    response = officer_client.post(reverse("staff:agreement_edit", args=[Agreement.objects.get().pk]), edit)
    assert response.status_code < 500


@pytest.mark.parametrize("digits", UNICODE_DIGITS)
def test_unicode_digits_in_a_date_or_a_list_of_ids_are_refused_plainly(officer_client: Client, digits: str) -> None:
    data = _sub_licence_data(OrganisationFactory(), start_date_day=digits, datasets=[digits])
    response = officer_client.post(reverse("staff:sub_licence_create"), data)
    assert response.status_code == 200
    assert "Start date must be a real date" in _errors(response)
    assert "is not a valid value" in _errors(response)
    assert not Agreement.objects.exists()


def test_the_organisations_list_sorts_by_a_column_kept_in_the_address(officer_client: Client) -> None:
    OrganisationFactory(name="Alpha Council", ods_code="ZZ9")
    OrganisationFactory(name="Zulu Council", ods_code="AA1")
    url = reverse("staff:organisation_list")
    by_name = officer_client.get(url).content.decode()
    assert by_name.index("Alpha Council") < by_name.index("Zulu Council")
    by_code = officer_client.get(url, {"sort": "ods_code"})
    html = by_code.content.decode()
    assert html.index("Zulu Council") < html.index("Alpha Council")
    assert '<option value="ods_code" selected>' in html
    # An unknown order is a form error, shown plainly, and the list keeps its default order.
    assert officer_client.get(url, {"sort": "password"}).status_code == 200
