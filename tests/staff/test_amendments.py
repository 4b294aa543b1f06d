"""Amendments through the staff pages: the edit page of an approved agreement proposes an amendment, the review page
shows live beside proposed with the rules and the next edition, and only a second person approves."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agreements import roles, services
from agreements.models import Agreement, Amendment, DataLevel
from publishing.registers import register_kind
from tests.factories import OrganisationFactory, ParentAgreementFactory, SubLicenceFactory, UserFactory, signed

pytestmark = pytest.mark.django_db


class _FormValues(HTMLParser):
    """What a browser would send back for the first form with an input named `title`: the page's own values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.current = {}
            self.forms.append(self.current)
        elif self.current is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.current.setdefault(a["name"], []).append(a.get("value", "on"))
            elif kind not in ("submit", "file"):
                self.current[a["name"]] = a.get("value") or ""
        elif tag == "select":
            self.select = a.get("name")
            self.current.setdefault(self.select, "")
        elif tag == "option" and self.select and "selected" in a:
            self.current[self.select] = a.get("value") or ""
        elif tag == "textarea":
            self.textarea = a.get("name")
            self.current[self.textarea] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea and self.current is not None:
            self.current[self.textarea] += data


def _edit_form(client: Client, agreement: Agreement, **changes: Any) -> dict[str, Any]:
    parser = _FormValues()
    parser.feed(client.get(reverse("staff:agreement_edit", args=[agreement.pk])).content.decode())
    data = next(form for form in parser.forms if "title" in form)
    data.update(changes)
    return data


def _dates(name: str, date: dt.date) -> dict[str, str]:
    return {f"{name}_day": str(date.day), f"{name}_month": str(date.month), f"{name}_year": str(date.year)}


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _errors(response: Any) -> str:
    match = re.search(r'<div class="nhsuk-error-summary".*?</ul>', response.content.decode(), re.S)
    return match.group(0) if match else ""


def _error_summary(response: Any) -> str:
    body = response.content.decode()
    assert response.status_code == 200 and 'class="nhsuk-error-summary"' in body
    return body.split('class="nhsuk-error-summary"', 1)[1].split("</ul>", 1)[0]


def _rows() -> list[dict[str, str]]:
    return register_kind("sub-licences").snapshot(on=timezone.localdate()).rows


@pytest.fixture
def council() -> Any:
    return OrganisationFactory(name="Leicester City Council", ods_code="509")


@pytest.fixture
def sub_licence(council: Any) -> Agreement:
    parent = ParentAgreementFactory(reference="DARS-NIC-000001", end_date=dt.date(2030, 3, 31))
    return signed(
        SubLicenceFactory(
            reference="SL/25/3", sub_licensee=council, parent=parent, end_date=dt.date(2028, 3, 31), title="Council"
        )
    )


@pytest.fixture
def users(council: Any) -> dict[str, Any]:
    partner = UserFactory(username="partner")
    services.partner_contact_grant(actor=None, user=partner, organisation=council)
    return {
        "partner": partner,
        "officer": UserFactory(username="officer", role=roles.IG_OFFICER),
        "approver": UserFactory(username="approver", role=roles.IG_APPROVER),
    }


def _propose(client: Client, agreement: Agreement, **changes: Any) -> Any:
    return client.post(reverse("staff:agreement_edit", args=[agreement.pk]), _edit_form(client, agreement, **changes))


@pytest.mark.parametrize("role", ["partner", "officer"])
def test_an_edit_to_an_active_sub_licence_waits_for_another_person(
    role: str, users: dict[str, Any], sub_licence: Agreement
) -> None:
    author = _client(users[role])
    rows_before = _rows()
    response = _propose(
        author,
        sub_licence,
        data_level=["anonymised"],
        reason="Anonymised is enough",
        **_dates("end_date", dt.date(2029, 3, 31)),
    )
    amendment = Amendment.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("staff:amendment", args=[sub_licence.pk, amendment.pk])
    sub_licence.refresh_from_db()
    assert (sub_licence.data_level, sub_licence.end_date) == (DataLevel.PSEUDONYMISED, dt.date(2028, 3, 31))
    assert _rows() == rows_before
    detail = author.get(reverse("staff:agreement_detail", args=[sub_licence.pk])).content.decode()
    assert "An amendment is in progress" in detail and "Pseudonymised" in detail

    author.post(reverse("staff:amendment_submit", args=[sub_licence.pk, amendment.pk]), {"submit-reason": ""})
    amendment.refresh_from_db()
    assert amendment.status == Amendment.Status.SUBMITTED
    assert _rows() == rows_before

    approver = _client(users["approver"])
    review = approver.get(reverse("staff:amendment", args=[sub_licence.pk, amendment.pk])).content.decode()
    assert "Live (as approved)" in review and "Changed" in review
    assert "This amendment would change SL/25/3 in the Sub Licence Release Register" in review
    assert "Approve amendment" in review
    response = approver.post(
        reverse("staff:amendment_approve", args=[sub_licence.pk, amendment.pk]), {"approve-reason": "Board"}
    )
    assert response.status_code == 302
    sub_licence.refresh_from_db()
    assert (sub_licence.data_level, sub_licence.end_date) == (DataLevel.ANONYMISED, dt.date(2029, 3, 31))
    assert _rows()[0]["data_level"] == "Anonymised"


def test_an_approver_cannot_approve_their_own_amendment(users: dict[str, Any], sub_licence: Agreement) -> None:
    client = _client(users["approver"])
    _propose(client, sub_licence, title="Renamed", reason="Clearer")
    amendment = Amendment.objects.get()
    client.post(reverse("staff:amendment_submit", args=[sub_licence.pk, amendment.pk]), {"submit-reason": ""})
    url = reverse("staff:amendment", args=[sub_licence.pk, amendment.pk])
    page = client.get(url).content.decode()
    assert "because you proposed it" in page and "Approve amendment" not in page
    response = client.post(reverse("staff:amendment_approve", args=[sub_licence.pk, amendment.pk]), {})
    assert "because you proposed it" in _errors(response)
    sub_licence.refresh_from_db()
    assert sub_licence.title == "Council"


def test_a_partner_can_never_approve(users: dict[str, Any], sub_licence: Agreement) -> None:
    amendment = services.amendment_propose(
        actor=users["officer"], agreement=sub_licence, fields={"title": "x"}, reason="y"
    )
    services.amendment_submit(actor=users["officer"], amendment=amendment)
    response = _client(users["partner"]).post(
        reverse("staff:amendment_approve", args=[sub_licence.pk, amendment.pk]), {}
    )
    assert response.status_code == 403
    assert Amendment.objects.get().status == Amendment.Status.SUBMITTED


def test_a_chain_breaking_amendment_shows_it_in_review_and_cannot_be_submitted(
    users: dict[str, Any], sub_licence: Agreement
) -> None:
    client = _client(users["partner"])
    _propose(client, sub_licence, reason="Longer", **_dates("end_date", dt.date(2031, 3, 31)))
    amendment = Amendment.objects.get()
    page = client.get(reverse("staff:amendment", args=[sub_licence.pk, amendment.pk])).content.decode()
    assert "This amendment would remove SL/25/3 from the Sub Licence Release Register" in page
    assert "The sub-licence ends on 31 March 2031, after its parent DARS-NIC-000001 ends on 31 March 2030" in page
    assert "so it cannot be approved" in page
    response = client.post(reverse("staff:amendment_submit", args=[sub_licence.pk, amendment.pk]), {})
    assert "after its parent DARS-NIC-000001" in _errors(response)
    assert Amendment.objects.get().status == Amendment.Status.DRAFT


def test_withdrawing_changes_nothing(users: dict[str, Any], sub_licence: Agreement) -> None:
    client = _client(users["partner"])
    _propose(client, sub_licence, title="Idea", reason="Trying")
    amendment = Amendment.objects.get()
    client.post(reverse("staff:amendment_withdraw", args=[sub_licence.pk, amendment.pk]), {"withdraw-reason": "No"})
    sub_licence.refresh_from_db()
    assert sub_licence.title == "Council"
    assert Amendment.objects.get().status == Amendment.Status.WITHDRAWN


def test_a_second_change_while_one_is_submitted_is_refused(users: dict[str, Any], sub_licence: Agreement) -> None:
    partner = _client(users["partner"])
    _propose(partner, sub_licence, title="First", reason="One")
    amendment = Amendment.objects.get()
    partner.post(reverse("staff:amendment_submit", args=[sub_licence.pk, amendment.pk]), {})
    officer = _client(users["officer"])
    response = _propose(officer, sub_licence, title="Second", reason="Two")
    assert "is submitted for review, so it cannot be changed" in _errors(response)
    assert Amendment.objects.count() == 1
    assert Amendment.objects.get().fields["title"] == "First"


def test_other_partners_cannot_see_the_amendment(users: dict[str, Any], sub_licence: Agreement) -> None:
    amendment = services.amendment_propose(
        actor=users["officer"], agreement=sub_licence, fields={"title": "x"}, reason="y"
    )
    stranger = UserFactory(username="stranger")
    services.partner_contact_grant(actor=None, user=stranger, organisation=OrganisationFactory())
    url = reverse("staff:amendment", args=[sub_licence.pk, amendment.pk])
    assert _client(stranger).get(url).status_code == 404
    assert Client().get(url).status_code == 302


def test_the_agreement_page_shows_the_readiness_checklist_and_submit_is_refused_with_it(
    users: dict[str, Any], council: Any
) -> None:
    draft = SubLicenceFactory(status=Agreement.Status.DRAFT, parent=None, sub_licensee=council)
    Organisation = type(council)
    Organisation.objects.filter(pk=council.pk).update(ico_registration_number="")
    client = _client(users["officer"])
    page = client.get(reverse("staff:agreement_detail", args=[draft.pk])).content.decode()
    assert "Ready for review?" in page
    assert "The sub-licence has no parent agreement" in page
    assert "Leicester City Council has no ICO registration number on record" in page
    assert reverse("staff:organisation_edit", args=[council.pk]) in page
    assert "No signed copy is uploaded" in page and reverse("staff:document_create", args=[draft.pk]) in page
    response = client.post(reverse("staff:agreement_submit", args=[draft.pk]), {"reason": ""})
    # Refused by the service, with every failing item in the error summary, each linked to where it is fixed.
    summary = _error_summary(response)
    assert f"{draft.reference} cannot be submitted until every item of its readiness checklist is done" in summary
    assert "The sub-licence has no parent agreement" in summary and "no ICO registration number" in summary
    assert "No signed copy is uploaded" in summary
    for url in [
        reverse("staff:agreement_edit", args=[draft.pk]),
        reverse("staff:organisation_edit", args=[council.pk]),
        reverse("staff:document_create", args=[draft.pk]),
    ]:
        assert f'href="{url}"' in summary
    draft.refresh_from_db()
    assert draft.status == Agreement.Status.DRAFT


def test_the_sub_licence_form_offers_only_valid_parents_and_preselects_the_only_one(users: dict[str, Any]) -> None:
    only = ParentAgreementFactory(reference="DARS-NIC-000777")
    ParentAgreementFactory(reference="DARS-NIC-000778", status=Agreement.Status.DRAFT)
    ParentAgreementFactory(reference="DARS-NIC-000779", end_date=dt.date(2020, 12, 31))
    ParentAgreementFactory(reference="DARS-NIC-000780", permits_sub_licensing=False)
    page = _client(users["officer"]).get(reverse("staff:sub_licence_create")).content.decode()
    assert re.search(rf"<option value=\"{only.pk}\" selected>DARS-NIC-000777", page)
    for refused in ("DARS-NIC-000778", "DARS-NIC-000779", "DARS-NIC-000780"):
        assert refused not in page


def test_supersede_from_the_agreement_page_then_a_second_person_approves(
    users: dict[str, Any], sub_licence: Agreement
) -> None:
    replacement = SubLicenceFactory(reference="SL/26/1", parent=sub_licence.parent, title="Council, 2026")
    draft = SubLicenceFactory(reference="SL/26/2", parent=sub_licence.parent, status=Agreement.Status.DRAFT)
    officer, approver = _client(users["officer"]), _client(users["approver"])
    detail = reverse("staff:agreement_detail", args=[sub_licence.pk])
    url = reverse("staff:agreement_supersede", args=[sub_licence.pk])
    assert f'href="{url}"' in officer.get(detail).content.decode()
    assert f'href="{url}"' not in _client(users["partner"]).get(detail).content.decode()
    assert _client(users["partner"]).get(url).status_code == 403
    form = officer.get(url).content.decode()
    # Only valid replacements are offered: approved, of the same kind, not itself.
    choices = form.split("<select", 1)[1].split("</select>", 1)[0]
    assert "SL/26/1: Council, 2026" in choices and f'value="{replacement.pk}"' in choices
    assert f'value="{draft.pk}"' not in choices and f'value="{sub_licence.pk}"' not in choices
    assert f'value="{sub_licence.parent.pk}"' not in choices
    response = officer.post(url, {"superseded_by": "", "reason": ""})
    errors = _errors(response)
    assert "Choose the agreement that replaces this one" in errors
    assert "Enter why this agreement is being superseded" in errors
    response = officer.post(url, {"superseded_by": replacement.pk, "reason": "Re-signed for 2026"}, follow=True)
    assert "Request to supersede SL/25/3 sent: another approver must approve it" in response.content.decode()
    amendment = Amendment.objects.get()
    sub_licence.refresh_from_db()
    assert (sub_licence.status, amendment.superseded_by) == (Agreement.Status.ACTIVE, replacement)
    # The officer cannot approve it; an approver who did not propose it does.
    step = reverse("staff:amendment_approve", args=[sub_licence.pk, amendment.pk])
    assert officer.post(step, {}).status_code == 403
    page = approver.get(reverse("staff:amendment", args=[sub_licence.pk, amendment.pk])).content.decode()
    assert "Request to supersede SL/25/3" in page and "Replaced by" in page and "SL/26/1" in page
    approver.post(step, {"approve-reason": ""})
    sub_licence.refresh_from_db()
    assert (sub_licence.status, sub_licence.superseded_by) == (Agreement.Status.SUPERSEDED, replacement)
    page = approver.get(detail).content.decode()
    assert "Superseded by" in page and reverse("staff:agreement_detail", args=[replacement.pk]) in page
    assert "Supersedes" in approver.get(reverse("staff:agreement_detail", args=[replacement.pk])).content.decode()


def test_the_author_of_a_request_to_supersede_cannot_approve_it(users: dict[str, Any], sub_licence: Agreement) -> None:
    replacement = SubLicenceFactory(reference="SL/26/1", parent=sub_licence.parent)
    approver = _client(users["approver"])
    approver.post(
        reverse("staff:agreement_supersede", args=[sub_licence.pk]),
        {"superseded_by": replacement.pk, "reason": "Re-signed"},
    )
    amendment = Amendment.objects.get()
    response = approver.post(reverse("staff:amendment_approve", args=[sub_licence.pk, amendment.pk]), {})
    assert "because you proposed it" in _errors(response)
    sub_licence.refresh_from_db()
    assert (sub_licence.status, sub_licence.superseded_by) == (Agreement.Status.ACTIVE, None)


def test_a_partner_adds_a_document_to_its_amendment_and_it_is_attached_on_approval(
    users: dict[str, Any], sub_licence: Agreement
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import TINY_PDF

    partner = _client(users["partner"])
    _propose(partner, sub_licence, title="Council, re-signed", reason="Re-signed in 2026")
    amendment = Amendment.objects.get()
    review = reverse("staff:amendment", args=[sub_licence.pk, amendment.pk])
    upload_url = reverse("staff:amendment_document_create", args=[sub_licence.pk, amendment.pk])
    assert f'href="{upload_url}"' in partner.get(review).content.decode()
    response = partner.post(upload_url, {"title": "Signed copy, 2026", "kind": "signed_copy", "file": ""})
    assert "Select a PDF file to upload" in _errors(response)
    upload = SimpleUploadedFile("signed-2026.pdf", TINY_PDF, content_type="application/pdf")
    response = partner.post(upload_url, {"title": "Signed copy, 2026", "kind": "signed_copy", "file": upload})
    assert response.status_code == 302
    document = amendment.documents.get()
    assert not sub_licence.documents.filter(pk=document.pk).exists()
    # The review lists it as added, and whoever may see the agreement may download it.
    page = _client(users["approver"]).get(review).content.decode()
    assert "Added:" in page and "Signed copy, 2026" in page
    download = reverse("staff:document_download", args=[sub_licence.pk, document.pk])
    assert _client(users["approver"]).get(download).status_code == 200
    partner.post(reverse("staff:amendment_submit", args=[sub_licence.pk, amendment.pk]), {"submit-reason": ""})
    # Submitted: no more documents can be added to it.
    assert partner.get(upload_url).status_code == 403
    _client(users["approver"]).post(
        reverse("staff:amendment_approve", args=[sub_licence.pk, amendment.pk]), {"approve-reason": ""}
    )
    assert sub_licence.documents.filter(pk=document.pk).exists()


def test_an_amendment_submit_refused_by_the_checklist_lists_it_with_links(users: dict[str, Any]) -> None:
    # Recorded as approved without its signed copy (an existing register): the amendment must bring one.
    unsigned = SubLicenceFactory(reference="SL/25/9", parent=ParentAgreementFactory())
    officer = _client(users["officer"])
    amendment = services.amendment_propose(
        actor=users["officer"], agreement=unsigned, fields={"title": "Renamed"}, reason="Clearer"
    )
    response = officer.post(reverse("staff:amendment_submit", args=[unsigned.pk, amendment.pk]), {"submit-reason": ""})
    summary = _error_summary(response)
    assert "This amendment cannot be submitted until every item of its readiness checklist is done" in summary
    assert "No signed copy is uploaded" in summary
    assert f'href="{reverse("staff:amendment_document_create", args=[unsigned.pk, amendment.pk])}"' in summary
    amendment.refresh_from_db()
    assert amendment.status == Amendment.Status.DRAFT
