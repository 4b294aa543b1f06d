"""Importing data requests from CSV and XLSX: a preview with row-level errors, all or nothing, and no duplicates."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from agreements.interchange import importers
from agreements.services import spreadsheet_import
from datarequests.models import DataRequest, LineItem
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db
EXAMPLE = Path(__file__).resolve().parents[2] / "static" / "examples" / "data-requests.csv"


@pytest.fixture
def councils() -> None:
    OrganisationFactory(name="Leicestershire County Council", ods_code="E10000018")
    OrganisationFactory(name="Blaby District Council", ods_code="E07000129")
    OrganisationFactory(name="Rutland County Council", ods_code="E06000017")


def test_the_example_file_logs_its_requests_once(councils: None, officer: Any) -> None:
    data = EXAMPLE.read_bytes()
    preview = importers.preview_file(importer="data-requests", data=data, filename="data-requests.csv")
    assert not preview.has_errors and preview.new_count == 3
    result = spreadsheet_import(actor=officer, importer="data-requests", data=data, filename="data-requests.csv")
    assert [r.reference for r in result.created] == ["DR/25/1", "DR/25/2"]
    consortium = DataRequest.objects.get(reference="DR/25/1")
    assert consortium.line_items.count() == 2 and consortium.requesters.count() == 2
    assert LineItem.objects.get(request__reference="DR/25/2").data_category == "personal"
    again = importers.preview_file(importer="data-requests", data=data, filename="data-requests.csv")
    assert again.existing_count == 3 and again.new_count == 0
    assert spreadsheet_import(actor=officer, importer="data-requests", data=data, filename="x.csv").created == []
    assert DataRequest.objects.count() == 2


def _xlsx(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


HEADER = ["Request key", "Title", "Organisation asked", "Requesting organisations", "Channel", "Date received",
          "Named contact", "What is asked for", "Kind of data", "Article 9 condition"]  # fmt: skip


def test_row_errors_are_shown_and_nothing_is_half_saved(councils: None, officer: Any) -> None:
    data = _xlsx([
        HEADER,
        ["a", "Ward data", "E10000018", "E07000129", "Letter", "8/4/2025", "A", "Ward counts", "Non-personal", ""],
        ["a", "Ward data", "E10000018", "E06000017", "Letter", "8/4/2025", "A", "More", "Non-personal", ""],
        ["b", "Health", "E10000018", "X99", "Pigeon", "31/2/2025", "B", "Health records", "Special category", ""],
        ["c", "Fine", "E10000018", "E07000129", "Form", "9/4/2025", "C", "Counts", "Non-personal", ""],
    ])  # fmt: skip
    preview = importers.preview_file(importer="data-requests", data=data, filename="requests.xlsx")
    errors = {(number, column) for number, column, _ in preview.errors}
    assert (3, "Request key") in errors  # same key, different requesters
    assert (4, "Channel") in errors and (4, "Date received") in errors
    assert preview.rows[3].status == "new"
    with pytest.raises(ValidationError, match="Nothing was imported"):
        spreadsheet_import(actor=officer, importer="data-requests", data=data, filename="requests.xlsx")
    assert not DataRequest.objects.exists()


def test_special_category_data_needs_its_article_9_condition(councils: None) -> None:
    data = _xlsx([HEADER, ["a", "T", "E10000018", "E07000129", "Letter", "8/4/2025", "A", "Health", "Special category",
                           ""]])  # fmt: skip
    preview = importers.preview_file(importer="data-requests", data=data, filename="r.xlsx")
    assert [column for _, column, _ in preview.errors] == ["Article 9 condition"]


def test_officers_import_requests_in_the_staff_area(councils: None, officer: Any, auditor: Any) -> None:
    client = Client()
    client.force_login(officer)
    page = client.get(reverse("staff:import")).content.decode()
    assert "Data requests" in page
    with EXAMPLE.open("rb") as upload:
        response = client.post(reverse("staff:import"), {"importer": "data-requests", "file": upload})
    assert response.status_code == 302
    preview = client.get(response["Location"])
    assert "letter-2025-04-08" in preview.content.decode()
    done = client.post(response["Location"])
    assert done.status_code == 302 and DataRequest.objects.count() == 2
    assert "DR/25/1" in client.get(done["Location"]).content.decode()
    viewer = Client()
    viewer.force_login(UserFactory(username="reader", role="Auditor"))
    assert viewer.get(reverse("staff:import")).status_code == 403
