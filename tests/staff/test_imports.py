import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from guardian.shortcuts import assign_perm

from agreements.models import Organisation
from audit.models import AuditEvent
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

EXAMPLES = Path(settings.BASE_DIR) / "static" / "examples"
HEADER = b"Name,ODS code,Type of organisation\r\n"


def _user(kind: str):
    if kind == "anonymous":
        return None
    if kind == "superuser":
        return UserFactory(username="root", is_superuser=True, is_staff=True)
    if kind == "partner":
        user = UserFactory(username="partner")
        assign_perm("agreements.act_for_organisation", user, OrganisationFactory())
        return user
    return UserFactory(username=kind.replace(" ", "-").lower(), role=kind)


ROLES = ["anonymous", "partner", "Auditor", "IG officer", "IG approver", "superuser"]


@pytest.mark.parametrize(
    ("role", "import_status", "export_status"),
    [
        ("anonymous", 302, 302),
        ("partner", 403, 403),
        ("Auditor", 403, 200),
        ("IG officer", 200, 200),
        ("IG approver", 200, 200),
        ("superuser", 200, 200),
    ],
)
def test_permission_matrix(client, role, import_status, export_status) -> None:
    user = _user(role)
    if user:
        client.force_login(user)
    response = client.get(reverse("staff:import"))
    assert response.status_code == import_status
    if role == "anonymous":
        assert response["Location"].startswith("/accounts/login/")
    upload = SimpleUploadedFile("o.csv", HEADER + b"Council,509,Local authority\r\n", content_type="text/csv")
    response = client.post(reverse("staff:import"), {"importer": "organisations", "file": upload})
    assert response.status_code == (302 if import_status == 200 else import_status)
    for name in ["export", "export_register_csv", "export_register_xlsx", "export_organisations_csv"]:
        response = client.get(reverse(f"staff:{name}"))
        assert response.status_code == export_status, name
        if role == "anonymous":
            assert response["Location"].startswith("/accounts/login/")


@pytest.fixture
def officer_client(client):
    officer = UserFactory(username="officer", role="IG officer")
    client.force_login(officer)
    client.user = officer
    return client


def _upload(client, content: bytes, name: str = "partners.csv", importer: str = "organisations"):
    return client.post(
        reverse("staff:import"), {"importer": importer, "file": SimpleUploadedFile(name, content)}, follow=False
    )


def test_import_page_links_the_example_files(officer_client) -> None:
    response = officer_client.get(reverse("staff:import"))
    html = response.content.decode()
    assert "/static/examples/organisations.csv" in html
    assert "/static/examples/agreements.csv" in html


def test_preview_confirm_then_reimport_gives_no_duplicates(officer_client) -> None:
    data = (EXAMPLES / "organisations.csv").read_bytes()
    response = _upload(officer_client, data, "orgs.csv")
    assert response.status_code == 302
    preview_url = response["Location"]
    response = officer_client.get(preview_url)
    html = response.content.decode()
    assert "Check orgs.csv before importing" in html
    assert html.count("Will be added") == 5
    # Nothing is written by the preview.
    assert not Organisation.objects.exists()

    response = officer_client.post(preview_url)
    assert response.status_code == 302 and response["Location"] == reverse("staff:import_done")
    assert Organisation.objects.count() == 5
    assert set(AuditEvent.objects.values_list("reason", flat=True)) == {"Imported from orgs.csv"}
    done = officer_client.get(reverse("staff:import_done")).content.decode()
    assert "5 records added" in done and "Leicester City Council" in done

    # The used upload cannot be confirmed again.
    response = officer_client.post(preview_url)
    assert response.status_code == 302 and response["Location"] == reverse("staff:import")

    response = officer_client.get(_upload(officer_client, data, "orgs.csv")["Location"])
    html = response.content.decode()
    assert html.count("Already in the register") == 5
    assert "nothing to import" in html
    assert Organisation.objects.count() == 5


def test_preview_shows_row_column_and_problem_and_confirm_is_refused(officer_client) -> None:
    data = HEADER + b"Good Council,509,Local authority\r\nBad Council,R W?,Local authority\r\n"
    preview_url = _upload(officer_client, data)["Location"]
    html = officer_client.get(preview_url).content.decode()
    assert "There is a problem" in html
    # One line per row, the column named once.
    assert re.search(r"Row 3: Enter an ODS code", html) and "ODS code: Enter an ODS code" not in html
    assert 'href="#row-3"' in html and 'id="row-3"' in html
    assert "Import 1 record" not in html
    response = officer_client.post(preview_url)
    assert response.status_code == 400
    assert "Nothing was imported" in response.content.decode()
    assert not Organisation.objects.exists()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"%PDF-1.4 binary\x00", "register.pdf", "must be a CSV or an Excel (.xlsx) file"),
        (b"Name,ODS code,Type of organisation\r\n", "empty-rows.csv", "no rows of data"),
        (b"just,text\r\n1,2\r\n", "fake.xlsx", "not a real Excel (.xlsx) file"),
    ],
)
def test_bad_files_are_refused_on_the_upload_page(officer_client, content, name, message) -> None:
    response = _upload(officer_client, content, name)
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html and message in html


def test_empty_and_too_large_files(officer_client, settings) -> None:
    response = officer_client.post(
        reverse("staff:import"), {"importer": "organisations", "file": SimpleUploadedFile("e.csv", b"")}
    )
    assert response.status_code == 400 and "The selected file is empty" in response.content.decode()
    settings.IMPORT_MAX_MB = 1
    response = _upload(officer_client, HEADER + b"A,AB1,Other\r\n" * 100_000)
    assert response.status_code == 400 and "smaller than 1 MB" in response.content.decode()


def test_another_users_upload_cannot_be_seen_or_confirmed(officer_client, client) -> None:
    preview_url = _upload(officer_client, HEADER + b"Council,509,Local authority\r\n")["Location"]
    other = UserFactory(username="other-officer", role="IG officer")
    officer_client.force_login(other)
    response = officer_client.post(preview_url)
    assert response.status_code == 302 and response["Location"] == reverse("staff:import")
    assert not Organisation.objects.exists()


def test_the_file_is_read_once_for_the_upload_the_preview_and_the_confirmation(officer_client, monkeypatch) -> None:
    from agreements.interchange import importers

    reads = []
    real_read_table = importers.read_table

    def counting_read_table(*args, **kwargs):
        reads.append(kwargs.get("filename"))
        return real_read_table(*args, **kwargs)

    monkeypatch.setattr(importers, "read_table", counting_read_table)
    data = HEADER + b"Good Council,509,Local authority\r\nBad Council,R W?,Local authority\r\n"
    preview_url = _upload(officer_client, data)["Location"]
    assert "There is a problem" in officer_client.get(preview_url).content.decode()
    assert officer_client.post(preview_url).status_code == 400  # refused, and the preview is shown again
    assert officer_client.get(preview_url).status_code == 200
    assert reads == ["partners.csv"]
    assert not Organisation.objects.exists()


def test_a_file_with_too_many_columns_is_refused_on_the_upload_page(officer_client) -> None:
    wide = b"Name,ODS code,Type of organisation," + b",".join(b"x%d" % n for n in range(100_000)) + b"\r\n"
    response = _upload(officer_client, wide + b"Council,509,Local authority\r\n")
    assert response.status_code == 400
    assert "has more than 200 columns" in response.content.decode()


def test_a_missing_column_and_the_rows_problems_arrive_in_one_pass_grouped_by_row(officer_client) -> None:
    data = b"Name,ODS code\r\nGood Council,509\r\nBad Council,R W?\r\n,AB1\r\n"
    response = _upload(officer_client, data)
    assert response.status_code == 302  # to the preview: the file is read, all of it
    html = officer_client.get(response["Location"]).content.decode()
    summary = html[html.index("There is a problem") : html.index("<h1>")]
    assert "missing the required column “Type of organisation”" in summary
    # The missing column is said once for the file, not again on every row.
    assert summary.count("Type of organisation") == 1
    assert re.search(r'href="#row-3">Row 3: Enter an ODS code [^<;]*</a>', summary)
    assert re.search(r'href="#row-4">Row 4: Enter the name</a>', summary)
    assert "Ods code" not in html and "ods_code" not in html
    assert officer_client.post(response["Location"]).status_code == 400
