"""The registers' staff pages (staff.views.registers): the role matrix, sign-in, withdrawal, wording, drafts."""

import pytest
from django.urls import reverse

from agreements import roles
from audit.models import AuditEvent
from publishing import services
from publishing.models import Edition
from tests.factories import UserFactory
from tests.publishing.factories import publish, seed_sub_licence, sub_licence_register

pytestmark = pytest.mark.django_db


# Staff area: the role matrix.

STAFF_PAGES = ["/staff/registers/", "/staff/registers/sub-licences/", "/staff/registers/sub-licences/next/"]


@pytest.mark.parametrize(
    ("role", "can_view", "can_change", "can_publish"),
    [
        (roles.IG_OFFICER, True, True, False),
        (roles.IG_APPROVER, True, True, True),
        (roles.AUDITOR, True, False, False),
        ("", False, False, False),
    ],
)
def test_staff_role_matrix(client, role, can_view, can_change, can_publish, django_capture_on_commit_callbacks) -> None:
    seed_sub_licence()
    edition = publish()
    user = UserFactory(role=role or None)
    client.force_login(user)
    for url in [*STAFF_PAGES, f"/staff/registers/sub-licences/editions/{edition.pk}/"]:
        assert client.get(url).status_code == (200 if can_view else 403), url
    assert client.get("/staff/registers/sub-licences/edit/").status_code == (200 if can_change else 403)
    response = client.post("/staff/registers/sub-licences/preview/")
    assert response.status_code == (302 if can_change else 403)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/staff/registers/sub-licences/publish/")
    assert response.status_code == (302 if can_publish else 403)
    response = client.post(f"/staff/registers/sub-licences/editions/{edition.pk}/withdraw/", {"reason": "Wrong"})
    assert response.status_code == (302 if can_publish else 403)
    edition.refresh_from_db()
    assert (edition.status == Edition.Status.WITHDRAWN) is can_publish
    page = client.get("/staff/registers/sub-licences/").content.decode() if can_view else ""
    assert ("Check and publish" in page) is can_publish
    # Those who may not publish still reach the comparison, under a name that promises no publishing.
    assert ("Check the next edition" in page) is (can_view and not can_publish)
    page = client.get("/staff/registers/sub-licences/next/").content.decode() if can_view else ""
    assert ("Publish now" in page) is can_publish


def test_staff_pages_send_anonymous_users_to_sign_in(client) -> None:
    sub_licence_register()
    for url in [*STAFF_PAGES, "/staff/registers/sub-licences/edit/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.post("/staff/registers/sub-licences/publish/").status_code == 302
    assert not Edition.objects.exists()


def test_withdraw_without_a_reason_shows_the_error_and_changes_nothing(client) -> None:
    seed_sub_licence()
    edition = publish()
    client.force_login(UserFactory(role=roles.IG_APPROVER))
    response = client.post(reverse("staff:edition_withdraw", args=["sub-licences", edition.pk]), {})
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert "Enter why the edition is being withdrawn" in response.content.decode()
    edition.refresh_from_db()
    assert edition.status == Edition.Status.PUBLISHED


def test_register_edit_form_keeps_what_was_typed_on_error(client) -> None:
    register = sub_licence_register()
    client.force_login(UserFactory(role=roles.IG_OFFICER))
    data = {
        "organisation_name": "NHS Somewhere",
        "introduction": "Typed words.",
        "contact_email": "not-an-email",
        "privacy_notice_url": register.privacy_notice_url,
        "privacy_notice_title": "Privacy notice",
    }
    response = client.post("/staff/registers/sub-licences/edit/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html and "Typed words." in html
    register.refresh_from_db()
    assert register.organisation_name != "NHS Somewhere"
    response = client.post("/staff/registers/sub-licences/edit/", {**data, "contact_email": "ig@nhs.net"})
    assert response.status_code == 302
    register.refresh_from_db()
    assert register.contact_email == "ig@nhs.net" and register.introduction == "Typed words."


def test_staff_can_download_a_draft_pdf_but_the_public_cannot(client) -> None:
    seed_sub_licence()
    officer = UserFactory(role=roles.IG_OFFICER)
    preview = services.edition_preview(actor=officer, register=sub_licence_register())
    url = f"/staff/registers/sub-licences/editions/{preview.pk}.pdf"
    assert client.get(url).status_code == 302
    client.force_login(officer)
    response = client.get(url)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    status = client.get(f"/staff/registers/sub-licences/editions/{preview.pk}/status/").json()
    assert status["status"] == "draft"


def test_register_wording_changes_and_publication_leave_audit_rows(client, django_capture_on_commit_callbacks) -> None:
    register = sub_licence_register()
    seed_sub_licence()
    approver = UserFactory(role=roles.IG_APPROVER)
    client.force_login(approver)
    data = {**services.register_editable_values(register), "contact_email": "new-team@nhs.net"}
    assert client.post("/staff/registers/sub-licences/edit/", data).status_code == 302
    [changed] = AuditEvent.objects.filter(action=AuditEvent.Action.REGISTER_CHANGED)
    assert changed.actor == approver and changed.subject == register
    assert changed.changes["Contact email address"][1] == "new-team@nhs.net"
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/staff/registers/sub-licences/publish/")
    edition = Edition.objects.get(status=Edition.Status.PUBLISHED)
    actions = set(AuditEvent.objects.filter(subject_id=edition.pk).values_list("action", flat=True))
    assert {AuditEvent.Action.PUBLICATION_REQUESTED, AuditEvent.Action.PUBLISHED} <= actions
    client.post(f"/staff/registers/sub-licences/editions/{edition.pk}/withdraw/", {"reason": "Wrong partner"})
    withdrawn = AuditEvent.objects.get(action=AuditEvent.Action.WITHDRAWN)
    assert withdrawn.reason == "Wrong partner" and withdrawn.actor == approver


def test_the_pdfs_wording_is_edited_on_the_register_page_with_errors_next_to_the_field(client) -> None:
    register = sub_licence_register()
    client.force_login(UserFactory(role=roles.IG_OFFICER))
    data = {
        **services.register_editable_values(register),
        "heading": "Sub Licensing Release Register",
        "team_name": "",
        "contact_sentence": "Please contact the LLR ICB\u2019s {team} via the below email address:",
    }
    response = client.post("/staff/registers/sub-licences/edit/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html and "Enter the team" in html and "Sub Licensing Release Register" in html
    response = client.post("/staff/registers/sub-licences/edit/", {**data, "team_name": "Corporate Governance Team"})
    assert response.status_code == 302
    page = client.get("/staff/registers/sub-licences/").content.decode()
    assert "Corporate Governance Team" in page and "Sub Licensing Release Register" in page


def test_counts_read_in_the_singular_for_one(client) -> None:
    seed_sub_licence()
    publish()
    client.force_login(UserFactory(role=roles.IG_OFFICER))
    html = client.get("/staff/registers/").content.decode()
    assert "(1 entry)" in html and "1 entries" not in html
