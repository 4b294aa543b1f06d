"""An officer opens a linkage, sees the checklist with one cross, records the missing agreement, and (once an
approver has approved it) sees every item ticked and activates the linkage."""

from __future__ import annotations

import pytest

import demo.agreements as demo
from agreements import roles
from agreements.models import Linkage
from tests.browser.conftest import assert_accessible, follow, upload_signed_copy
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _marks(page) -> tuple[int, int]:
    checklist = page.locator("table.app-checklist")
    return checklist.get_by_text("✓").count(), checklist.get_by_text("✗").count()


def test_an_officer_sees_the_missing_agreement_and_the_checklist_turns_green(page, sign_in) -> None:
    demo.load_demo(with_accounts=False)
    UserFactory(username="officer", role=roles.IG_OFFICER)
    UserFactory(username="approver", role=roles.IG_APPROVER)
    linkage = Linkage.objects.get(title=demo.LINKAGE_TITLE)

    sign_in("officer")
    assert_accessible(page)  # the dashboard, with its linkage and assurance sections
    page.goto("/staff/linkages/")
    assert_accessible(page)
    follow(page, page.get_by_role("link", name=linkage.title))
    assert page.locator("h1").inner_text() == linkage.title
    assert _marks(page) == (4, 1)
    dpa_row = page.locator("tr[data-requirement='dpa']")
    assert "Missing: no data processing agreement between them is recorded" in dpa_row.inner_text()
    assert "Leicester City Council (as controller)" in dpa_row.inner_text()
    assert "DSA-LLR-2025-009" in page.locator("tr[data-requirement='dsa']").inner_text()
    assert_accessible(page)

    follow(page, dpa_row.get_by_role("link", name="Record the agreement"))
    assert_accessible(page)
    page.get_by_label("Data processing agreement", exact=True).check()
    page.get_by_label("Reference", exact=True).fill("DPA-LCC-2026-001")
    page.get_by_label("Title", exact=True).fill("Children's social care data processing by Charnwood Health Analytics")
    start = page.get_by_role("group", name="Start date")
    start.get_by_label("Day").fill("1")
    start.get_by_label("Month").fill("9")
    start.get_by_label("Year").fill("2025")
    end = page.get_by_role("group", name="End date")
    end.get_by_label("Day").fill("31")
    end.get_by_label("Month").fill("8")
    end.get_by_label("Year").fill("2030")
    page.get_by_label("Pseudonymised").check()
    page.get_by_label("UK GDPR Article 6 basis").select_option(label="6(1)(e) public task")
    page.get_by_label("Common law duty of confidentiality basis").select_option(
        label="Not confidential (anonymised or aggregate)"
    )
    page.get_by_label("Party 1: organisation").select_option(label="Leicester City Council (509)")
    page.get_by_label("Party 1: role").select_option(label="Controller")
    page.get_by_label("Party 2: organisation").select_option(label="Charnwood Health Analytics Ltd (8JX41)")
    page.get_by_label("Party 2: role").select_option(label="Processor")
    follow(page, page.get_by_role("button", name="Save agreement"))
    assert "DPA-LCC-2026-001" in page.locator("main").inner_text()
    assert_accessible(page)
    upload_signed_copy(page)
    page.get_by_role("link", name="Submit for review").click()
    follow(page, page.get_by_role("button", name="Submit for review"))
    assert_accessible(page)

    # Four eyes: another person approves it.
    page.get_by_role("button", name="Sign out").click()
    sign_in("approver")
    page.goto(f"/staff/linkages/{linkage.pk}/")
    assert _marks(page) == (4, 1), "a draft or an agreement in review does not count"
    assert "DPA-LCC-2026-001 is in review" in page.locator("tr[data-requirement='dpa']").inner_text()
    page.locator("tr[data-requirement='dpa']").get_by_role("link", name="DPA-LCC-2026-001").wait_for(
        state="detached"
    )  # it is named only once it satisfies the requirement
    page.goto("/staff/agreements/?q=DPA-LCC-2026-001")
    page.get_by_role("link", name="DPA-LCC-2026-001").first.click()
    page.get_by_role("link", name="Approve").click()
    follow(page, page.get_by_role("button", name="Approve agreement"))
    assert_accessible(page)
    page.get_by_role("button", name="Sign out").click()

    sign_in("officer")
    page.goto(f"/staff/linkages/{linkage.pk}/")
    assert _marks(page) == (5, 0)
    assert "DPA-LCC-2026-001" in page.locator("tr[data-requirement='dpa']").inner_text()
    assert "ends 31 August 2030" in page.locator("tr[data-requirement='dpa']").inner_text()
    assert_accessible(page)
    follow(page, page.get_by_role("link", name="Activate linkage"))
    assert_accessible(page)
    follow(page, page.get_by_role("button", name="Activate linkage"))
    assert page.locator(".nhsuk-tag", has_text="Active").count() >= 1
    assert_accessible(page)
    linkage.refresh_from_db()
    assert linkage.status == Linkage.Status.ACTIVE
