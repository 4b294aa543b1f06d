import re

import pytest

from tests.browser.conftest import assert_accessible, follow
from tests.publishing.factories import information_sharing_register, publish, statutory_return, sub_licence_register

pytestmark = pytest.mark.django_db(transaction=True)

OPT_OUT = "No \u2014 a legal requirement (statutory return); the national data opt-out does not apply"


def test_the_public_opens_the_information_sharing_register_an_entry_and_the_pdf(page) -> None:
    # A transactional test starts from an empty database: the registers are made again, as the migrations do.
    sub_licence_register()
    statutory_return()
    publish(information_sharing_register())

    page.goto("/")
    assert_accessible(page)
    follow(page, page.get_by_role("link", name="Information Sharing Register"))
    assert page.locator("h1").inner_text() == "Information Sharing Register"
    assert page.get_by_role("heading", name="Organisations we share data with").is_visible()
    headers = page.locator("table thead th").all_inner_texts()
    assert headers == [
        "Organisation",
        "What we share",
        "Level of data",
        "Legal basis",
        "Type of agreement",
        "Does the national data opt-out apply?",
        "Review date",
    ]
    row = page.locator("table tbody tr").first
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == "Leicester City Council; NHS England" and cells[4] == "Statutory return"
    assert cells[5] == OPT_OUT and cells[6] == "22 October 2025"
    assert_accessible(page)

    follow(page, row.get_by_role("link", name="Leicester City Council; NHS England"))
    assert page.url.endswith("/registers/information-sharing/entries/SR-LCC-ASC-CLD/")
    assert page.locator("h1").inner_text() == "Statutory return SR-LCC-ASC-CLD"
    assert page.get_by_text(OPT_OUT).is_visible()
    assert page.get_by_text("NHS England (ODS code X24): Recipient").is_visible()
    assert_accessible(page)

    follow(page, page.get_by_role("link", name="See the whole register"))
    assert page.locator("h1").inner_text() == "Information Sharing Register"
    pdf_link = page.get_by_role("link", name=re.compile(r"Information Sharing Register \(PDF, .+\)"))
    response = page.request.get(pdf_link.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert 'filename="information-sharing-register-2025-10-22.pdf"' in response.headers["content-disposition"]
    assert response.body().startswith(b"%PDF")
