import re

import pytest

from agreements import roles
from tests.browser.conftest import assert_accessible, follow
from tests.factories import UserFactory
from tests.publishing.factories import partner, seed_sub_licence, sub_licence_register

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_approver_publishes_and_the_public_opens_register_archive_and_pdf(page, sign_in) -> None:
    from django.utils import timezone

    from agreements import rules

    lcc = partner(
        name="Leicester City Council", ods_code="509", dspt_assessment_year=rules.dspt_year(timezone.localdate())
    )
    seed_sub_licence(sub_licensee=lcc, start_date=timezone.localdate().replace(day=1))
    sub_licence_register()
    UserFactory(username="approver", role=roles.IG_APPROVER)

    sign_in("approver")
    follow(page, page.get_by_role("link", name="Registers", exact=True))
    assert page.locator("h1").inner_text() == "Registers"
    assert_accessible(page)
    follow(page, page.get_by_role("link", name="Sub Licence Release Register"))
    assert_accessible(page)
    follow(page, page.get_by_role("link", name="Check and publish"))
    assert_accessible(page)
    page.get_by_role("button", name="Publish now").click()
    # The edition page follows progress (rendering, then published) and refreshes itself.
    progress = page.locator("#edition-progress")
    progress.get_by_text("Published", exact=True).wait_for(timeout=60_000)
    assert_accessible(page)

    page.context.clear_cookies()
    page.goto("/")
    assert_accessible(page)
    follow(page, page.get_by_role("link", name="Sub Licence Release Register"))
    assert page.locator("h1").inner_text() == "Sub Licence Release Register"
    row = page.locator("table tbody tr").first
    assert row.locator("td").all_inner_texts() == ["SL/25/1", "Leicester City Council", "Pseudonymised", "509"]
    assert_accessible(page)
    pdf_link = page.get_by_role("link", name=re.compile(r"Sub Licence Release Register \(PDF, .+\)"))
    response = page.request.get(pdf_link.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    follow(page, page.get_by_role("link", name="See every published edition of the Sub Licence Release Register"))
    assert "all editions" in page.locator("h1").inner_text()
    assert_accessible(page)
