import datetime as dt

import pytest
from django.urls import reverse

from agreements import roles
from publishing import services
from publishing.models import Edition
from tests.factories import UserFactory
from tests.publishing.factories import SEED_DAY, partner, publish, seed_sub_licence, sub_licence, sub_licence_register

pytestmark = pytest.mark.django_db

BASE = "/registers/sub-licences/"


@pytest.fixture
def two_editions():
    seed_sub_licence()
    first = publish(on=dt.date(2025, 7, 1))
    sub_licence(reference="SL/25/2", sub_licensee=partner(name="<script>alert(1)</script> & Sons", ods_code="RX1"))
    second = publish(on=SEED_DAY)
    return first, second


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_current_register_page_shows_table_downloads_changes_and_archive(client, two_editions) -> None:
    response = client.get(BASE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Sub Licence Release Register</h1>" in html
    assert "NHS Leicester, Leicestershire and Rutland" in html
    assert "Last updated 22 October 2025" in html
    assert (
        '<caption class="nhsuk-table__caption">Sub Licence Release Register (last updated 22 October 2025)</caption>'
        in html
    )
    assert '<th scope="col" class="nhsuk-table__header">Reference Number</th>' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Sons" in html and "<script>alert(1)" not in html
    assert f'href="{BASE}latest.pdf">Sub Licence Release Register (PDF, ' in html
    assert "KB)" in html and "(CSV, " in html and "(JSON, " in html
    assert "What changed since the previous edition" in html
    assert "Added (2)" in html and "SL/25/2" in html
    assert f'href="{BASE}editions/"' in html
    assert response["Cache-Control"] == "public, max-age=300"


def test_files_have_permanent_names_etags_and_cache_headers(client, two_editions) -> None:
    _first, second = two_editions
    response = client.get(f"{BASE}latest.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="sub-licence-release-register-2025-10-22.pdf"'
    pdf = second.files.get(format="pdf")
    assert response["ETag"] == f'"{pdf.sha256}"'
    assert _body(response).startswith(b"%PDF")
    assert client.get(f"{BASE}latest.pdf", HTTP_IF_NONE_MATCH=f'"{pdf.sha256}"').status_code == 304
    csv_response = client.get(f"{BASE}editions/2025-07-01.csv")
    assert csv_response["Content-Disposition"] == 'attachment; filename="sub-licence-release-register-2025-07-01.csv"'
    assert csv_response["Content-Type"] == "text/csv; charset=utf-8"
    assert "max-age=3600" in csv_response["Cache-Control"]
    json_response = client.get(f"{BASE}latest.json")
    assert json_response["Content-Type"] == "application/json"
    assert b'"last_updated": "2025-10-22"' in _body(json_response)
    assert client.get(f"{BASE}latest.exe").status_code == 404
    assert client.get(f"{BASE}editions/2025-07-01.html").status_code == 404


def test_the_archive_lists_every_published_edition_and_each_has_a_permanent_page(client, two_editions) -> None:
    html = client.get(f"{BASE}editions/").content.decode()
    assert f'href="{BASE}editions/2025-10-22/"' in html and f'href="{BASE}editions/2025-07-01/"' in html
    old = client.get(f"{BASE}editions/2025-07-01/").content.decode()
    assert "This is an earlier edition" in old and "This is the first edition of this register." in old


def test_withdrawn_drafts_failed_and_unknown_editions_never_appear(client, two_editions) -> None:
    _first, second = two_editions
    approver = UserFactory(role=roles.IG_APPROVER)
    services.edition_withdraw(actor=approver, edition=second, reason="Mistake")
    preview = services.edition_preview(actor=approver, register=sub_licence_register())
    assert client.get(f"{BASE}editions/2025-10-22/").status_code == 404
    assert client.get(f"{BASE}editions/2025-10-22.pdf").status_code == 404
    assert client.get(f"{BASE}editions/{preview.slug}/").status_code == 404
    assert client.get(f"{BASE}latest.json")["Content-Disposition"].endswith('2025-07-01.json"')
    html = client.get(BASE).content.decode()
    assert "Last updated 1 July 2025" in html and "SL/25/2" not in html
    assert "2025-10-22" not in client.get(f"{BASE}editions/").content.decode()
    assert client.get("/registers/no-such-register/").status_code == 404


def test_public_pages_never_query_live_agreements(client, two_editions) -> None:
    from agreements.models import Agreement

    Agreement.objects.all().update(is_public=False)
    assert "SL/25/2" in client.get(BASE).content.decode()


def test_an_unpublished_register_says_so_and_home_lists_registers_with_dates(client) -> None:
    sub_licence_register()
    assert "has not been published yet" in client.get(BASE).content.decode()
    assert "Not published yet" in client.get("/").content.decode()
    seed_sub_licence()
    publish()
    home = client.get("/").content.decode()
    assert f'href="{BASE}">Sub Licence Release Register</a>' in home and "Last updated 22 October 2025" in home


# Staff area: the role matrix.

STAFF_PAGES = ["/staff/registers/", "/staff/registers/sub-licences/"]


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
    response = client.post(reverse("publishing:staff_edition_withdraw", args=["sub-licences", edition.pk]), {})
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


def test_a_row_dropped_for_lapsed_assurance_shows_as_removed_with_a_public_reason(client) -> None:
    from agreements.models import Organisation

    lapsing = partner(name="Lapsing Partner", ods_code="LP1")
    seed_sub_licence()
    sub_licence(reference="SL/25/2", sub_licensee=lapsing)
    first = publish(on=dt.date(2025, 7, 1))
    assert "SL/25/2" in [row["reference"] for row in first.rows]
    Organisation.objects.filter(pk=lapsing.pk).update(dspt_status=Organisation.DsptStatus.NOT_MET)
    second = publish(on=SEED_DAY)
    assert "SL/25/2" not in [row["reference"] for row in second.rows]
    html = client.get(BASE).content.decode()
    assert "Removed (1)" in html
    reason = second.metadata["removal_notes"]["SL/25/2"]
    assert reason and f"({reason})" in html.replace("&#x27;", "'")
    assert "Not Met" not in html
