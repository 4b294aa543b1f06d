import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from agreements.interchange import exports
from agreements.interchange.spreadsheets import csv_bytes, neutralise_formula, xlsx_bytes
from agreements.models import Agreement, Document, Party
from tests.factories import AgreementFactory, OrganisationFactory, SubLicenceFactory, UserFactory

pytestmark = pytest.mark.django_db

EXPECTED_COLUMNS = [
    "Reference",
    "Type of agreement",
    "Title",
    "Public summary",
    "Status",
    "Controllers",
    "Joint controllers",
    "Processors",
    "Sub-processors",
    "Providers",
    "Recipients",
    "Sub-licensees",
    "Parent agreement",
    "Level of data",
    "Datasets",
    "Purposes",
    "Article 6 basis",
    "Article 9 condition",
    "Common law basis",
    "Statutory gateway",
    "National data opt-out",
    "Why the opt-out is not applied",
    "Start date",
    "End date",
    "Review date",
    "DPIA reference",
    "DSA or contract in place",
    "DSA or contract ends",
    "Signed copy held",
    "Permits sub-licensing",
    "Show on public registers",
    "Owner",
    "Created",
    "Last changed",
]

TODAY = dt.date(2026, 1, 10)


@pytest.fixture
def register():
    icb = OrganisationFactory(name="LLR ICB", ods_code="QK1")
    lcc = OrganisationFactory(name="Leicester City Council", ods_code="509")
    parent = AgreementFactory(
        reference="DARS-NIC-1",
        kind=Agreement.Kind.DSA,
        end_date=dt.date(2027, 3, 31),
        dpia_reference="DPIA-1",
    )
    Party.objects.create(agreement=parent, organisation=icb, role=Party.Role.RECIPIENT)
    sub_licence = SubLicenceFactory(reference="SL/25/1", sub_licensee=lcc, parent=parent, end_date=dt.date(2028, 3, 31))
    statutory = AgreementFactory(
        reference="SR-1",
        kind=Agreement.Kind.STATUTORY_RETURN,
        title='=HYPERLINK("http://evil.example","click")',
        summary="+SUM(A1:A9)",
        opt_out=Agreement.OptOut.NOT_APPLIED,
        opt_out_reason="-Statutory: the opt-out does not apply",
        end_date=None,
    )
    draft = AgreementFactory(reference="DPA-1", kind=Agreement.Kind.DPA, status=Agreement.Status.DRAFT)
    return {"parent": parent, "sub_licence": sub_licence, "statutory": statutory, "draft": draft}


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_has_every_agreement_and_column(register) -> None:
    rows = _csv_rows(exports.register_csv(on=TODAY))
    assert list(rows[0].keys()) == EXPECTED_COLUMNS
    by_reference = {row["Reference"]: row for row in rows}
    assert set(by_reference) == {"DARS-NIC-1", "SL/25/1", "SR-1", "DPA-1"}
    sub_licence = by_reference["SL/25/1"]
    assert sub_licence["Sub-licensees"] == "Leicester City Council (509)"
    assert sub_licence["Parent agreement"] == "DARS-NIC-1"
    assert sub_licence["DSA or contract in place"] == "Yes"
    # A sub-licence ends when its parent does, if that is first.
    assert sub_licence["DSA or contract ends"] == "2027-03-31"
    assert sub_licence["Article 6 basis"] == "6(1)(e) public task"
    assert by_reference["DARS-NIC-1"]["Recipients"] == "LLR ICB (QK1)"
    assert by_reference["DARS-NIC-1"]["DPIA reference"] == "DPIA-1"
    assert by_reference["SR-1"]["DSA or contract in place"] == "Not needed: statutory return"
    assert by_reference["SR-1"]["National data opt-out"] == "Not applied"
    assert by_reference["DPA-1"]["DSA or contract in place"] == "No: draft"
    assert by_reference["DPA-1"]["Status"] == "Draft"


def test_signed_copy_and_ended_parent(register) -> None:
    Document.objects.create(
        agreement=register["parent"],
        kind=Document.Kind.SIGNED_COPY,
        title="Signed",
        file="x.pdf",
        filename="x.pdf",
        size=1,
        sha256="0" * 64,
    )
    rows = {row["Reference"]: row for row in _csv_rows(exports.register_csv(on=dt.date(2027, 6, 1)))}
    assert rows["DARS-NIC-1"]["Signed copy held"] == "Yes"
    assert rows["SL/25/1"]["Signed copy held"] == "No"
    assert rows["DARS-NIC-1"]["DSA or contract in place"] == "No: ended"
    assert rows["SL/25/1"]["DSA or contract in place"] == "No: parent agreement DARS-NIC-1 is not in force"


def test_csv_neutralises_formulas(register) -> None:
    row = next(r for r in _csv_rows(exports.register_csv(on=TODAY)) if r["Reference"] == "SR-1")
    assert row["Title"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["Public summary"] == "'+SUM(A1:A9)"
    assert row["Why the opt-out is not applied"] == "'-Statutory: the opt-out does not apply"


def test_xlsx_has_both_sheets_real_dates_and_no_formulas(register) -> None:
    workbook = load_workbook(io.BytesIO(exports.register_xlsx(on=TODAY)))
    assert workbook.sheetnames == ["Agreements", "Organisations"]
    sheet = workbook["Agreements"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == EXPECTED_COLUMNS
    by_reference = {row[0]: dict(zip(EXPECTED_COLUMNS, row, strict=True)) for row in rows[1:]}
    assert by_reference["SL/25/1"]["Start date"] == dt.datetime(2025, 4, 1)
    statutory = by_reference["SR-1"]
    assert statutory["Title"].startswith("'=")
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
    organisations = list(workbook["Organisations"].iter_rows(values_only=True))
    assert organisations[0][:2] == ("Name", "ODS code")
    assert {r[1] for r in organisations[1:]} >= {"QK1", "509"}


def test_export_is_a_constant_number_of_queries(register, django_assert_max_num_queries) -> None:
    for n in range(20):
        SubLicenceFactory(reference=f"SL/24/{n + 1}")
    with django_assert_max_num_queries(10):
        exports.register_csv(on=TODAY)


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise_formula(value: str) -> None:
    assert neutralise_formula(value) == "'" + value
    assert csv_bytes(["h"], [[value]]).decode("utf-8-sig").splitlines()[1].strip('"').startswith("'")


@pytest.mark.parametrize("value", ["Leicester", "", "SL/25/1", "a=b", 5, None, dt.date(2025, 1, 1)])
def test_safe_values_are_left_alone(value) -> None:
    assert neutralise_formula(value) == value


def test_xlsx_is_ready_to_read_frozen_filterable_sized_with_dates_as_dates(register) -> None:
    sheet = load_workbook(io.BytesIO(exports.register_xlsx(on=TODAY)))["Agreements"]
    assert sheet.freeze_panes == "A2"
    headers = [cell.value for cell in sheet[1]]
    last_column = sheet.cell(row=1, column=len(headers)).column_letter
    assert sheet.auto_filter.ref == f"A1:{last_column}{sheet.max_row}"
    widths = {letter: dimension.width for letter, dimension in sheet.column_dimensions.items()}
    title_column = sheet.cell(row=1, column=headers.index("Title") + 1).column_letter
    assert widths[title_column] > len("Title") + 2  # sized to the titles under it, not the header
    assert all(10 <= width <= 60 for width in widths.values())
    start = sheet.cell(row=2, column=headers.index("Start date") + 1)
    assert start.is_date and start.number_format == "yyyy-mm-dd"


def test_xlsx_widths_are_capped_and_come_from_a_bounded_sample() -> None:
    rows = ([f"row {n}", "x" * 500] for n in range(1000))
    sheet = load_workbook(io.BytesIO(xlsx_bytes([("S", ["Name", "Long"], rows)])))["S"]
    assert sheet.column_dimensions["B"].width == 60 and sheet.max_row == 1001
    assert sheet.auto_filter.ref == "A1:B1001"


def test_xlsx_headers_are_neutralised_too() -> None:
    workbook = load_workbook(io.BytesIO(xlsx_bytes([("S", ["=cmd"], [["=2*3"]])])))
    assert [c.value for c in workbook["S"][1]] == ["'=cmd"]
    assert workbook["S"]["A2"].value == "'=2*3"


def test_download_views_send_files(client, register) -> None:
    client.force_login(UserFactory(username="auditor", role="Auditor"))
    response = client.get(reverse("staff:export_register_csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="data-sharing-register-')
    assert response["Cache-Control"] == "private, no-store"
    assert b"SL/25/1" in response.content
    response = client.get(reverse("staff:export_register_xlsx"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert load_workbook(io.BytesIO(response.content)).sheetnames == ["Agreements", "Organisations"]
    response = client.get(reverse("staff:export_organisations_csv"))
    assert b"Leicester City Council" in response.content
    page = client.get(reverse("staff:export")).content.decode()
    assert "DSA or contract in place" in page
