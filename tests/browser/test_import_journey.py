"""An IG officer imports a CSV with one bad row, sees what is wrong, fixes it, imports again and sees the rows."""

import pytest

from agreements.models import Organisation
from audit.models import AuditEvent
from tests.browser.conftest import assert_accessible
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = "Name,ODS code,Type of organisation,DSPT status\r\n"
GOOD = "Leicestershire Partnership NHS Trust,rt5,NHS trust,Standards Met\r\n"
BAD = HEADER + GOOD + "Rutland County Council,R U?,Local authority,\r\n"
FIXED = HEADER + GOOD + "Rutland County Council,857,Local authority,\r\n"


def _upload(page, content: str) -> None:
    page.get_by_label("Organisations", exact=True).check()
    page.get_by_label("Upload a file").set_input_files(
        {"name": "partners.csv", "mimeType": "text/csv", "buffer": content.encode()}
    )
    page.get_by_role("button", name="Upload and check the file").click()
    page.wait_for_load_state()


def test_import_a_csv_with_a_bad_row_fix_it_and_see_the_rows(page, sign_in) -> None:
    UserFactory(username="officer", role="IG officer")
    sign_in("officer")

    page.goto("/staff/import/")
    assert page.locator("h1").inner_text() == "Import records from a spreadsheet"
    assert page.get_by_role("link", name="Download the example organisations file (CSV)").get_attribute("href") == (
        "/static/examples/organisations.csv"
    )
    assert_accessible(page)

    _upload(page, BAD)
    summary = page.locator(".nhsuk-error-summary")
    assert "Row 3: Enter an ODS code" in summary.inner_text()
    assert "Enter an ODS code of 3 to 10 letters and numbers" in summary.inner_text()
    assert page.locator("#row-2").get_by_text("Will be added").is_visible()
    assert page.locator("#row-3").get_by_text("Error").first.is_visible()
    assert page.get_by_role("button", name="Import").count() == 0
    assert_accessible(page)
    assert not Organisation.objects.exists()

    page.get_by_role("link", name="Upload a corrected file").click()
    _upload(page, FIXED)
    assert page.locator(".nhsuk-error-summary").count() == 0
    assert_accessible(page)
    page.get_by_role("button", name="Import 2 records").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Imported partners.csv"
    assert page.get_by_role("link", name="RT5").is_visible()
    assert page.get_by_role("link", name="857").is_visible()
    assert_accessible(page)

    page.goto("/staff/organisations/")
    table = page.locator("table")
    assert "Leicestershire Partnership NHS Trust" in table.inner_text()
    assert "Rutland County Council" in table.inner_text()
    assert_accessible(page)
    assert set(AuditEvent.objects.values_list("reason", flat=True)) == {"Imported from partners.csv"}

    # The same file again: both rows are already there, and nothing is duplicated.
    page.goto("/staff/import/")
    _upload(page, FIXED)
    assert page.locator(".nhsuk-tag", has_text="Already in the register").count() == 2
    assert_accessible(page)
    assert Organisation.objects.count() == 2
