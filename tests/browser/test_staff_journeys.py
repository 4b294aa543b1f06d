"""The IG team's journeys in a real browser, with axe checking every page visited (WCAG 2.2 AA)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from agreements import roles
from agreements.models import Agreement, Organisation
from demo.agreements import DEMO_PASSWORD, load_demo
from tests.browser.conftest import assert_accessible, follow, upload_signed_copy
from tests.factories import AgreementFactory, OrganisationFactory, PartyFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _current_dspt_year() -> str:
    today = dt.date.today()
    start = today.year if today.month >= 4 else today.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


@pytest.fixture
def team() -> dict[str, Any]:
    icb = OrganisationFactory(name="NHS Leicester, Leicestershire and Rutland ICB", ods_code="QK1", kind="icb")
    # The ICB's NHS England agreement that the sub-licence re-shares data under.
    parent = AgreementFactory(
        reference="DARS-NIC-000001-TEST1",
        title="NHS England data sharing agreement",
        permits_sub_licensing=True,
        start_date=dt.date(2024, 4, 1),
        end_date=dt.date(2031, 3, 31),
    )
    PartyFactory(agreement=parent, organisation=icb)
    return {
        "parent": parent,
        "officer": UserFactory(username="officer", role=roles.IG_OFFICER),
        "approver": UserFactory(username="approver", role=roles.IG_APPROVER),
    }


def _sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()


def _fill_date(page: Any, legend: str, day: str, month: str, year: str) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(day)
    group.get_by_label("Month").fill(month)
    group.get_by_label("Year").fill(year)


def test_officer_creates_and_submits_then_approver_approves(page: Any, sign_in: Any, team: dict[str, Any]) -> None:
    # 1. An officer signs in, creates an organisation and a sub-licence, and submits it for review.
    sign_in("officer")
    expect(page.locator("h1")).to_have_text("Dashboard")
    assert_accessible(page)

    follow(page, page.get_by_role("navigation", name="Menu").get_by_role("link", name="Organisations"))
    assert_accessible(page)
    follow(page, page.get_by_role("link", name="Add an organisation"))
    assert_accessible(page)
    page.get_by_label("Name").fill("Rutland County Council")
    page.get_by_label("ODS code").fill(" 465 ")
    page.get_by_label("Type of organisation").select_option(label="Local authority")
    # Partner assurance, which approval checks: a current DSPT and an ICO registration.
    page.get_by_label("ICO registration number").fill("z1234567")
    page.get_by_label("DSPT status").select_option(label="Standards Met")
    page.get_by_label("DSPT assessment year").fill(_current_dspt_year())
    page.get_by_role("button", name="Add organisation").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("Organisation Rutland County Council added")
    assert_accessible(page)

    follow(page, page.get_by_role("navigation", name="Menu").get_by_role("link", name="Agreements"))
    assert_accessible(page)
    follow(page, page.get_by_role("link", name="New sub-licence"))
    assert_accessible(page)
    page.get_by_label("Sub-licensee").select_option(label="Rutland County Council (465)")
    page.get_by_label("Parent agreement").select_option(label=str(team["parent"]))
    page.get_by_label("Title").fill("Sub-licence of commissioning data to Rutland County Council")
    page.get_by_label("Public summary").fill("Rutland uses pseudonymised data to plan services.")
    _fill_date(page, "Start date", "1", "4", "2026")
    _fill_date(page, "End date", "31", "3", "2028")
    page.get_by_role("radio", name="Pseudonymised").check()
    page.get_by_label("UK GDPR Article 6 basis").select_option(label="6(1)(e) public task")
    page.get_by_label("Common law duty of confidentiality basis").select_option(
        label="Not confidential (anonymised or aggregate)"
    )
    page.get_by_role("button", name="Save sub-licence").click()
    banner = page.locator(".nhsuk-notification-banner")
    expect(banner).to_contain_text(re.compile(r"Sub-licence SL/\d\d/1 created"))
    assert_accessible(page)
    sub_licence = Agreement.objects.get(kind=Agreement.Kind.SUB_LICENCE)
    # Submitting needs the signed copy: the checklist links to its upload.
    upload_signed_copy(page)
    assert_accessible(page)

    follow(page, page.get_by_role("link", name="Submit for review"))
    assert_accessible(page)
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(f"{sub_licence.reference} submitted for review")
    expect(page.locator(".nhsuk-tag").first).to_have_text("In review")
    assert_accessible(page)

    # 2. The same officer cannot approve it: no button, and the page itself refuses.
    expect(page.get_by_role("link", name="Approve")).to_have_count(0)
    response = page.goto(f"/staff/agreements/{sub_licence.pk}/approve/")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("You cannot do this")
    assert_accessible(page)
    _sign_out(page)

    # 3. An approver approves it, and it shows as active with its history.
    sign_in("approver")
    expect(page.locator("main")).to_contain_text(sub_licence.reference)  # awaiting approval on the dashboard
    assert_accessible(page)
    page.get_by_role("link", name=sub_licence.reference).first.click()
    follow(page, page.get_by_role("link", name="Approve"))
    assert_accessible(page)
    page.get_by_label("Comment (optional)").fill("Checked against the DARS agreement")
    page.get_by_role("button", name="Approve agreement").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(f"{sub_licence.reference} approved")
    expect(page.locator(".nhsuk-tag").first).to_have_text("Active")
    history = page.locator(".app-history")
    expect(history).to_contain_text("Approved")
    expect(history).to_contain_text("by approver")
    expect(history).to_contain_text("Checked against the DARS agreement")
    expect(history).to_contain_text("Submitted for review")
    expect(history).to_contain_text("Created")
    assert_accessible(page)


def test_partner_sees_only_their_organisations_agreements(page: Any, sign_in: Any) -> None:
    # 4. The Leicester City Council partner contact sees SL/25/1 and nothing of other organisations.
    load_demo(with_accounts=True)
    sign_in("lcc-partner", DEMO_PASSWORD)
    assert_accessible(page)
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Agreements").click()
    main = page.locator("main")
    expect(main).to_contain_text("SL/25/1")
    lcc = Organisation.objects.get(ods_code="509")
    for agreement in Agreement.objects.exclude(parties__organisation=lcc):
        expect(main).not_to_contain_text(agreement.reference)
    assert_accessible(page)
    page.get_by_role("link", name="SL/25/1").first.click()
    expect(page.locator("h1")).to_contain_text("SL/25/1")
    expect(page.get_by_role("link", name="Approve")).to_have_count(0)
    assert_accessible(page)
    other = Agreement.objects.get(reference="DSA-LLR-2026-002")  # UHL's and the ICB's, in review
    assert page.goto(f"/staff/agreements/{other.pk}/").status == 404


def test_form_errors_show_a_summary_that_moves_focus_to_the_field(
    page: Any, sign_in: Any, team: dict[str, Any]
) -> None:
    # 5. A form submitted with errors shows the error summary, and focus can move to the field.
    sign_in("officer")
    page.goto("/staff/organisations/new/")
    page.get_by_label("Name").fill("<script>alert('x')</script> Trust")
    page.get_by_label("ODS code").fill("Q K1!")
    page.get_by_role("button", name="Add organisation").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Enter an ODS code of 3 to 10 letters and numbers")
    expect(page).to_have_title(re.compile("^Error: "))
    expect(page.get_by_label("Name")).to_have_value("<script>alert('x')</script> Trust")
    assert_accessible(page)
    summary.get_by_role("link", name=re.compile("Enter an ODS code")).click()
    expect(page.get_by_label("ODS code")).to_be_focused()
    # A date field's error link goes to its day box.
    page.goto("/staff/agreements/new-sub-licence/")
    _fill_date(page, "Start date", "31", "2", "2026")
    page.get_by_role("button", name="Save sub-licence").click()
    link = page.locator(".nhsuk-error-summary").get_by_role(
        "link", name="Start date must be a real date, like 31 3 2026"
    )
    link.click()
    expect(page.get_by_role("group", name="Start date").get_by_label("Day")).to_be_focused()
    assert_accessible(page)
    assert not Agreement.objects.filter(kind=Agreement.Kind.SUB_LICENCE).exists()
