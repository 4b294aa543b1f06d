import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from agreements import services
from agreements.interchange.importers import RowResult, SpreadsheetError, preview_file, upload_find, upload_keep
from agreements.interchange.spreadsheets import Table
from agreements.models import Agreement, Organisation, Party, ReferenceSequence
from audit.models import AuditEvent
from tests.factories import AgreementFactory, OrganisationFactory, SubLicenceFactory, UserFactory

pytestmark = pytest.mark.django_db

EXAMPLES = Path(settings.BASE_DIR) / "static" / "examples"
ORG_HEADER = "Name,ODS code,Type of organisation,DSPT status\r\n"


def _csv(text: str) -> bytes:
    return text.encode("utf-8")


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def officer():
    return UserFactory(username="officer", role="IG officer")


def _orgs(text: str, filename: str = "partners.csv"):
    return preview_file(importer="organisations", data=_csv(ORG_HEADER + text), filename=filename)


# --- Organisations -----------------------------------------------------------------------------------------


def test_good_organisation_rows_are_new_and_normalised() -> None:
    preview = _orgs("Leicester City Council, 509 ,Local authority,Standards Met\r\nRutland Trust,rt5,nhs trust,\r\n")
    assert [row.status for row in preview.rows] == [RowResult.NEW, RowResult.NEW]
    assert preview.rows[1].values["ods_code"] == "RT5"
    assert preview.rows[1].values["kind"] == Organisation.Kind.NHS_TRUST
    assert not preview.has_errors


def test_bad_organisation_rows_name_the_row_column_and_problem() -> None:
    preview = _orgs("Good Council,509,Local authority,\r\nBad Code,R W?,Local authority,\r\nNo Kind,AB1,Pharmacy,\r\n")
    assert preview.rows[0].status == RowResult.NEW
    assert preview.errors[0][:2] == (3, "ODS code")
    assert "ODS code of 3 to 10 letters and numbers" in preview.errors[0][2]
    row, column, message = preview.errors[1]
    assert (row, column) == (4, "Type of organisation")
    # The allowed values are listed.
    assert "“Pharmacy” is not allowed" in message
    assert "Integrated care board" in message and "Local authority" in message


def test_missing_required_value_and_repeated_key_in_the_file() -> None:
    preview = _orgs(",509,Local authority,\r\nCouncil,QK1,ICB,\r\nAgain,qk1,ICB,\r\n")
    assert preview.errors == [
        (2, "Name", "Enter the name"),
        (4, "ODS code", "ODS code QK1 is also on row 3: a record can only be imported once"),
    ]


def test_existing_organisation_is_already_in_the_register_and_differences_are_noted() -> None:
    OrganisationFactory(ods_code="509", name="Leicester City Council", kind=Organisation.Kind.LOCAL_AUTHORITY)
    preview = _orgs("Leicester City Council,509,Local authority,\r\nLeicester Council,509 ,Local authority,\r\n")
    assert preview.rows[0].status == RowResult.EXISTING
    assert preview.rows[0].notes == []
    # The second row repeats the key: an error, not a second "already there".
    assert preview.rows[1].status == RowResult.ERROR


def test_existing_organisation_with_other_details_is_not_changed_but_noted() -> None:
    OrganisationFactory(ods_code="509", name="Leicester City Council")
    preview = _orgs("Leicester Council,509,Local authority,\r\n")
    assert preview.rows[0].status == RowResult.EXISTING
    assert "different name" in preview.rows[0].notes[0]


def test_preview_then_import_then_reimport_creates_nothing_twice(officer) -> None:
    data = (EXAMPLES / "organisations.csv").read_bytes()
    result = services.spreadsheet_import(actor=officer, importer="organisations", data=data, filename="orgs.csv")
    assert len(result.created) == 5
    assert Organisation.objects.count() == 5
    events = AuditEvent.objects.filter(action=AuditEvent.Action.CREATED, organisation__isnull=False)
    assert events.count() == 5
    assert {e.reason for e in events} == {"Imported from orgs.csv"}
    assert {e.actor for e in events} == {officer}

    preview = preview_file(importer="organisations", data=data, filename="orgs.csv")
    assert preview.existing_count == 5 and preview.new_count == 0
    again = services.spreadsheet_import(actor=officer, importer="organisations", data=data, filename="orgs.csv")
    assert again.created == [] and len(again.unchanged) == 5
    assert Organisation.objects.count() == 5


def test_import_with_an_error_writes_nothing(officer) -> None:
    data = _csv(ORG_HEADER + "Good Council,509,Local authority,\r\nBad,!!,Local authority,\r\n")
    with pytest.raises(ValidationError, match=re.escape("1 row of partners.csv has errors")):
        services.spreadsheet_import(actor=officer, importer="organisations", data=data, filename="partners.csv")
    assert not Organisation.objects.exists()


def test_xlsx_organisations_with_numbers_and_dates() -> None:
    data = _xlsx(
        [
            ["Name", "ODS code", "Type of organisation", "ICO registration expires"],
            ["Leicester City Council", 509, "Local authority", dt.datetime(2026, 5, 1)],
            [None, None, None, None],
        ]
    )
    preview = preview_file(importer="organisations", data=data, filename="orgs.xlsx")
    assert len(preview.rows) == 1
    assert preview.rows[0].values["ods_code"] == "509"
    assert preview.rows[0].values["ico_registration_expires"] == dt.date(2026, 5, 1)


def test_bom_and_header_aliases_are_understood() -> None:
    data = "\ufefforganisation name,ODS,type\r\nLeicester City Council,509,local_authority\r\n".encode()
    preview = preview_file(importer="organisations", data=data, filename="orgs.csv")
    assert not preview.has_errors
    assert preview.rows[0].values["name"] == "Leicester City Council"


def test_unknown_columns_are_listed_as_ignored() -> None:
    data = _csv("Name,ODS code,Type of organisation,Notes\r\nCouncil,509,Local authority,hello\r\n")
    preview = preview_file(importer="organisations", data=data, filename="orgs.csv")
    assert preview.ignored_columns == ["Notes"]


# --- Dates --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("22/10/2025", dt.date(2025, 10, 22)),
        ("2025-10-22", dt.date(2025, 10, 22)),
        ("22 October 2025", dt.date(2025, 10, 22)),
        ("22 Oct 2025", dt.date(2025, 10, 22)),
        ("45952", dt.date(2025, 10, 22)),
        ("22/10/2025 00:00", dt.date(2025, 10, 22)),
    ],
)
def test_dates_in_the_forms_people_use(cell: str, expected: dt.date) -> None:
    data = _csv(f"Name,ODS code,Type of organisation,ICO registration expires\r\nA,AB1,Other,{cell}\r\n")
    preview = preview_file(importer="organisations", data=data, filename="a.csv")
    assert preview.rows[0].values["ico_registration_expires"] == expected


@pytest.mark.parametrize("cell", ["31/02/2025", "10/22/2025", "next week", "22/10/25"])
def test_bad_dates_are_refused_with_the_format(cell: str) -> None:
    data = _csv(f"Name,ODS code,Type of organisation,ICO registration expires\r\nA,AB1,Other,{cell}\r\n")
    preview = preview_file(importer="organisations", data=data, filename="a.csv")
    (_row, column, message) = preview.errors[0]
    assert column == "ICO registration expires"
    assert "like 22/10/2025 or 2025-10-22" in message


# --- Bad files ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "empty.csv", "The selected file is empty"),
        (b"%PDF-1.7\n...", "register.pdf", "must be a CSV or an Excel (.xlsx) file"),
        (b"%PDF-1.7\x00\x00binary", "register.csv", "must be a CSV or an Excel (.xlsx) file"),
        (b"Name,ODS code\r\n", "headers-only.csv", "header row but no rows of data"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "old.xlsx", "old Excel (.xls)"),
        (b"Name,ODS code\r\nA,B\r\n", "fake.xlsx", "not a real Excel (.xlsx) file"),
        (b"PK\x03\x04notreallyazip", "register.xlsx", "not a real Excel (.xlsx) file"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(data: bytes, filename: str, message: str) -> None:
    with pytest.raises(SpreadsheetError, match=re.escape(message)):
        preview_file(importer="organisations", data=data, filename=filename)


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    with pytest.raises(SpreadsheetError, match="not an Excel workbook"):
        preview_file(importer="organisations", data=buffer.getvalue(), filename="letter.xlsx")


def test_too_large_and_too_many_rows(settings) -> None:
    settings.IMPORT_MAX_MB = 1
    big = _csv(ORG_HEADER + "A,AB1,Other,\r\n" * 80_000)
    with pytest.raises(SpreadsheetError, match="smaller than 1 MB"):
        preview_file(importer="organisations", data=big, filename="big.csv")
    settings.IMPORT_MAX_ROWS = 3
    with pytest.raises(SpreadsheetError, match=re.escape("more than 3 rows of data. One import can take at most 3")):
        _orgs("A,AB1,Other,\r\n" * 4)


def test_windows_1252_csv_is_read() -> None:
    data = (ORG_HEADER + "Caf\u00e9 Trust,AB1,Other,\r\n").encode("cp1252")
    preview = preview_file(importer="organisations", data=data, filename="a.csv")
    assert preview.rows[0].values["name"] == "Caf\u00e9 Trust"


# --- Agreements and sub-licences ---------------------------------------------------------------------------


@pytest.fixture
def partners():
    return {
        ods: OrganisationFactory(ods_code=ods, name=name)
        for ods, name in [
            ("QK1", "LLR ICB"),
            ("509", "Leicester City Council"),
            ("X24", "NHS England"),
            ("RT5", "Leicestershire Partnership NHS Trust"),
        ]
    }


def _example_agreements() -> bytes:
    return (EXAMPLES / "agreements.csv").read_bytes()


def test_example_agreements_import_with_kept_and_allocated_references(officer, partners) -> None:
    preview = preview_file(importer="agreements", data=_example_agreements(), filename="register.csv")
    assert preview.errors == []
    assert preview.new_count == 4
    result = services.spreadsheet_import(
        actor=officer, importer="agreements", data=_example_agreements(), filename="register.csv"
    )
    references = sorted(a.reference for a in result.created)
    # SL/25/1 is kept as it was; the sub-licence without one gets the next number for its start year (2026).
    assert references == ["DARS-NIC-655409-Q1L8R", "SL/25/1", "SL/26/1", "SR-LCC-ASC-CLD"]
    sub_licence = Agreement.objects.get(reference="SL/25/1")
    assert sub_licence.parent.reference == "DARS-NIC-655409-Q1L8R"
    assert sub_licence.status == Agreement.Status.DRAFT
    assert set(sub_licence.parties.values_list("organisation__ods_code", "role")) == {
        ("509", Party.Role.SUB_LICENSEE),
        ("QK1", Party.Role.PROVIDER),
    }
    statutory = Agreement.objects.get(reference="SR-LCC-ASC-CLD")
    assert statutory.kind == Agreement.Kind.STATUTORY_RETURN
    assert statutory.opt_out == Agreement.OptOut.NOT_APPLIED
    assert statutory.article_6_basis == Agreement.Article6.LEGAL_OBLIGATION
    assert statutory.purposes.get().name == "Planning and improving local services"
    assert set(AuditEvent.objects.filter(agreement__isnull=False).values_list("reason", flat=True)) == {
        "Imported from register.csv"
    }


def test_a_kept_sub_licence_reference_is_never_issued_again(officer, partners) -> None:
    services.spreadsheet_import(actor=officer, importer="agreements", data=_example_agreements(), filename="r.csv")
    assert ReferenceSequence.objects.get(prefix="SL", year=2025).last_number == 1
    next_one = services.sub_licence_create(
        actor=officer,
        sub_licensee=partners["RT5"],
        agreed_on=dt.date(2025, 12, 1),
        fields={
            "title": "Another",
            "start_date": dt.date(2025, 12, 1),
            "data_level": "pseudonymised",
            "article_6_basis": Agreement.Article6.PUBLIC_TASK,
            "common_law_basis": Agreement.CommonLaw.NOT_CONFIDENTIAL,
        },
    )
    assert next_one.reference == "SL/25/2"


def test_reserving_a_lower_number_never_moves_the_sequence_back(officer) -> None:
    ReferenceSequence.objects.create(prefix="SL", year=2025, last_number=7)
    assert services.reference_reserve(reference="SL/25/3") == "SL/25/3"
    assert ReferenceSequence.objects.get(prefix="SL", year=2025).last_number == 7
    with pytest.raises(ValidationError):
        services.reference_reserve(reference="DSA-1")


def test_reimporting_agreements_creates_no_duplicates(officer, partners) -> None:
    services.spreadsheet_import(actor=officer, importer="agreements", data=_example_agreements(), filename="r.csv")
    count = Agreement.objects.count()
    preview = preview_file(importer="agreements", data=_example_agreements(), filename="r.csv")
    assert preview.existing_count == 4 and preview.new_count == 0
    # The sub-licence that had no reference is found by its sub-licensee, start date and title.
    assert "Already in the register as SL/26/1" in preview.rows[2].notes
    result = services.spreadsheet_import(
        actor=officer, importer="agreements", data=_example_agreements(), filename="r.csv"
    )
    assert result.created == []
    assert Agreement.objects.count() == count


def test_existing_reference_is_already_in_the_register(partners) -> None:
    AgreementFactory(reference="DARS-NIC-655409-Q1L8R")
    SubLicenceFactory(reference="SL/25/1")
    preview = preview_file(importer="agreements", data=_example_agreements(), filename="r.csv")
    assert [row.status for row in preview.rows] == ["existing", "existing", "new", "new"]


AGREEMENT_HEADER = (
    "Reference,Type of agreement,Title,Parties,Start date,End date,Level of data,Article 6 basis,"
    "Common law basis,National data opt-out,Parent agreement\r\n"
)


def _agreements(text: str):
    return preview_file(importer="agreements", data=_csv(AGREEMENT_HEADER + text), filename="a.csv")


def test_bad_agreement_rows(partners) -> None:
    preview = _agreements(
        # 2: unknown level of data
        "DSA-1,DSA,Title,QK1: Controller,01/04/2025,,Secret,6(1)(e),Not confidential,Applied,\r\n"
        # 3: party not in the register, and a role that does not exist
        "DSA-2,Data sharing agreement,Title,ZZZ9: Controller,01/04/2025,,Aggregate,6(1)(e),"
        "Not confidential (anonymised or aggregate),Applied,\r\n"
        "DSA-3,Data sharing agreement,Title,QK1: Boss,01/04/2025,,Aggregate,6(1)(e),"
        "Not confidential (anonymised or aggregate),Applied,\r\n"
        # 5: end before start
        "DSA-4,Data sharing agreement,Title,QK1: Controller,01/04/2025,01/04/2024,Aggregate,6(1)(e),"
        "Not confidential (anonymised or aggregate),Applied,\r\n"
        # 6: a non-sub-licence without a reference; 7: an SL reference on a DSA
        ",Data sharing agreement,Title,QK1: Controller,01/04/2025,,Aggregate,6(1)(e),"
        "Not confidential (anonymised or aggregate),Applied,\r\n"
        "SL/25/9,Data sharing agreement,Title,QK1: Controller,01/04/2025,,Aggregate,6(1)(e),"
        "Not confidential (anonymised or aggregate),Applied,\r\n"
        # 8: sub-licence without a sub-licensee; 9: unknown parent
        ",Sub-licence,Title,QK1: Provider,01/04/2025,,Aggregate,6(1)(e),"
        "Not confidential (anonymised or aggregate),Applied,\r\n"
        ",Sub-licence,Title,509: Sub-licensee,01/04/2025,,Aggregate,6(1)(e),"
        "Not confidential (anonymised or aggregate),Applied,DARS-NOPE\r\n"
    )
    errors = {row: (column, message) for row, column, message in preview.errors}
    assert errors[2][0] == "Level of data"
    assert "Use one of: Identifiable, Pseudonymised, Anonymised, Aggregate" in errors[2][1]
    assert errors[3] == (
        "Parties",
        "Parties names ODS code ZZZ9, which is not in the register: import or add the organisation first",
    )
    assert errors[4][0] == "Parties" and "Sub-licensee" in errors[4][1]
    assert errors[5][0] == "End date" and "same as or after the start date" in errors[5][1]
    assert errors[6][0] == "Reference"
    assert errors[7] == ("Reference", "Reference like SL/25/1 is kept for sub-licences")
    assert errors[8] == ("Parties", "Parties of a sub-licence must include exactly one Sub-licensee")
    assert errors[9] == ("Parent agreement", "Parent agreement DARS-NOPE is not in the register or in this file")
    assert preview.new_count == 0


def test_opt_out_not_applied_needs_a_reason(partners) -> None:
    preview = _agreements(
        "SR-1,Statutory return,Title,509: Provider,01/04/2025,,Identifiable,6(1)(c),"
        "Legal requirement or statutory gateway,Not applied,\r\n"
    )
    assert preview.errors == [
        (2, "Why the opt-out is not applied", "Enter why the national data opt-out is not applied")
    ]


def test_the_register_changing_after_the_preview_writes_nothing(officer, partners) -> None:
    data = _csv(
        AGREEMENT_HEADER + "DSA-1,Data sharing agreement,One,QK1: Controller,01/04/2025,,Aggregate,6(1)(e),"
        "Not confidential (anonymised or aggregate),Applied,\r\n"
        "DSA-2,Data sharing agreement,Two,RT5: Controller,01/04/2025,,Aggregate,6(1)(e),"
        "Not confidential (anonymised or aggregate),Applied,\r\n"
    )
    assert preview_file(importer="agreements", data=data, filename="a.csv").new_count == 2
    partners["RT5"].parties.all().delete()
    Organisation.objects.filter(ods_code="RT5").delete()
    with pytest.raises(ValidationError, match="Nothing was imported"):
        services.spreadsheet_import(actor=officer, importer="agreements", data=data, filename="a.csv")
    assert not Agreement.objects.exists()


# --- The file kept between preview and confirmation --------------------------------------------------------


def test_pending_upload_is_only_found_by_its_owner(officer) -> None:
    table = Table(headers=["Name", "Signed"], rows=[(2, ["Leeds", dt.datetime(2025, 10, 22, 9, 30), 1.5, None])])
    pending = upload_keep(table=table, filename="C:\\Users\\me\\orgs.csv", importer="organisations", user_id=1)
    assert pending.filename == "orgs.csv"
    found = upload_find(token=pending.token, user_id=1)
    assert found is not None and found.table() == table
    assert upload_find(token=pending.token, user_id=2) is None
    assert upload_find(token=pending.token + "x", user_id=1) is None
    found.discard()
    assert upload_find(token=pending.token, user_id=1) is None


def test_a_missing_required_column_is_a_file_error_reported_with_the_rows() -> None:
    preview = preview_file(importer="organisations", data=b"Name,ODS code\r\nA,AB1\r\nB,\r\n", filename="p.csv")
    assert preview.has_errors
    assert preview.file_errors == [
        "The file is missing the required column “Type of organisation”. "
        "The first row must name the columns, as in the example file"
    ]
    assert preview.errors_by_row == [(3, ["Enter the ODS code"])]
