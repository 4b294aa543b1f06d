"""A partner's amendment from proposal to approval to the next edition, in a real browser, axe on every page."""

import pytest
from django.utils import timezone

from agreements import roles, rules, services
from agreements.models import Agreement
from tests.browser.conftest import assert_accessible, follow
from tests.factories import ParentAgreementFactory, UserFactory, signed
from tests.publishing.factories import partner, seed_sub_licence, sub_licence_register

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_partners_amendment_reaches_the_register_only_once_another_person_approves_it(page, sign_in) -> None:
    lcc = partner(
        name="Leicester City Council", ods_code="509", dspt_assessment_year=rules.dspt_year(timezone.localdate())
    )
    # Approved with its signed copy, as the readiness checklist requires of it and of its amendments.
    sub_licence = signed(
        seed_sub_licence(
            sub_licensee=lcc, start_date=timezone.localdate().replace(day=1), parent=ParentAgreementFactory()
        )
    )
    sub_licence_register()
    contact = UserFactory(username="council-contact")
    services.partner_contact_grant(actor=None, user=contact, organisation=lcc)
    UserFactory(username="approver", role=roles.IG_APPROVER)

    sign_in("council-contact")
    page.goto(f"/staff/agreements/{sub_licence.pk}/")
    assert_accessible(page)
    follow(page, page.get_by_role("link", name="Propose a change"))
    assert_accessible(page)
    page.get_by_label("Anonymised").check()
    page.get_by_label("Why are you making this change?").fill("The council needs anonymised data only")
    follow(page, page.get_by_role("button", name="Save changes"))
    assert page.locator("h1").inner_text() == "Amendment of SL/25/1"
    assert_accessible(page)
    follow(page, page.get_by_role("button", name="Submit for review"))
    assert "An amendment is in progress" in page.content()
    sub_licence.refresh_from_db()
    assert sub_licence.data_level == "pseudonymised"

    page.context.clear_cookies()
    sign_in("approver")
    follow(page, page.get_by_role("link", name="Change of SL/25/1"))
    assert "This amendment would change SL/25/1 in the Sub Licence Release Register" in page.content()
    assert_accessible(page)
    follow(page, page.get_by_role("button", name="Approve amendment"))
    assert "the agreement now reads as proposed" in page.content()
    assert Agreement.objects.get(pk=sub_licence.pk).data_level == "anonymised"

    page.goto("/staff/registers/sub-licences/next/")
    # Never published before: the first edition adds the row, as approved.
    assert page.get_by_role("heading", name="Rows the next edition adds").is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Publish now").click()
    page.locator("#edition-progress").get_by_text("Published", exact=True).wait_for(timeout=60_000)

    page.context.clear_cookies()
    page.goto("/registers/sub-licences/")
    row = page.locator("table tbody tr").first
    assert row.locator("td").all_inner_texts() == ["SL/25/1", "Leicester City Council", "Anonymised", "509"]
    assert_accessible(page)
