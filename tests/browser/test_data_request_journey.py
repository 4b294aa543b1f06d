"""Seed 003's consortium request, in a real browser: logged on receipt, clarified, held until after the elections,
assessed, decided, a line item fulfilled under a signed ISA, and the timeline exported as a tagged PDF whose text
holds every event in date order. axe checks every page visited (WCAG 2.2 AA)."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pdfplumber
import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from agreements import roles
from agreements.models import Agreement
from datarequests.models import DataRequest, LineItem
from tests.browser.conftest import assert_accessible, follow
from tests.factories import AgreementFactory, OrganisationFactory, PartyFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

DISTRICTS = ["Blaby District Council", "Charnwood Borough Council", "Harborough District Council",
             "Hinckley and Bosworth Borough Council", "Melton Borough Council",
             "North West Leicestershire District Council", "Oadby and Wigston Borough Council",
             "Rutland County Council"]  # fmt: skip


@pytest.fixture
def councils() -> dict[str, Any]:
    county = OrganisationFactory(name="Leicestershire County Council", ods_code="E10000018")
    requesters = [OrganisationFactory(name=name, ods_code=f"E0{index:07d}") for index, name in enumerate(DISTRICTS)]
    isa = AgreementFactory(
        reference="ISA-LLR-DSG-2025", kind=Agreement.Kind.ISA, title="Data sharing group ISA",
        start_date=dt.date(2025, 8, 29), data_level="aggregate",
    )  # fmt: skip
    for organisation in [county, *requesters]:
        PartyFactory(agreement=isa, organisation=organisation)
    UserFactory(username="officer", first_name="Olive", last_name="Officer", role=roles.IG_OFFICER)
    return {"county": county, "requesters": requesters, "isa": isa}


def _date(page: Any, legend: str, value: dt.date) -> None:
    group = page.get_by_role("group", name=legend, exact=True)
    group.get_by_label("Day").fill(str(value.day))
    group.get_by_label("Month").fill(str(value.month))
    group.get_by_label("Year").fill(str(value.year))


def _act(page: Any, button: str, on: dt.date, **fields: str) -> None:
    """Take a workflow action from the request page: its button, then its form."""
    follow(page, page.get_by_role("link", name=button, exact=True))
    assert_accessible(page)
    _date(page, "Date", on)
    for label, value in fields.items():
        if label == "resume_on":
            _date(page, "Resume on", dt.date.fromisoformat(value))
        else:
            page.get_by_label(label).fill(value)
    page.get_by_role("button", name=button).click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("recorded")
    assert_accessible(page)


def test_the_consortium_request_from_receipt_to_a_fulfilled_line_item_and_its_timeline(
    page: Any, sign_in: Any, councils: dict[str, Any]
) -> None:
    sign_in("officer")
    follow(page, page.get_by_role("link", name="All data requests"))
    assert_accessible(page)
    follow(page, page.get_by_role("link", name="Log a data request"))
    assert_accessible(page)
    page.get_by_label("Title").fill("Information in 12 categories for each district area")
    page.get_by_label("Organisation asked").select_option(label=str(councils["county"]))
    for organisation in councils["requesters"]:
        page.get_by_label(str(organisation)).check()
    page.get_by_label("Letter").check()
    _date(page, "Date received", dt.date(2025, 4, 8))
    page.get_by_label("Named contact").fill("Chief Executive, Blaby District Council")
    page.get_by_role("button", name="Log request").click()
    expect(page.locator("h1")).to_contain_text("DR/25/1: Information in 12 categories")
    assert_accessible(page)

    page.get_by_role("link", name="Add a line item").click()
    page.get_by_label("What is asked for").fill("Population by age band for each district area")
    page.get_by_label("Geography").fill("MSOA")
    page.get_by_label("Non-personal").check()
    follow(page, page.get_by_role("button", name="Add line item"))
    assert_accessible(page)

    _act(page, "Ask for clarification", dt.date(2025, 4, 17), **{
        "What is the clarification about?": "scope", "What are you asking?": "Which categories exactly?"})  # fmt: skip
    _act(page, "Record the answer", dt.date(2025, 4, 24), **{"What did they answer?": "A further breakdown"})
    _act(page, "Put on hold", dt.date(2025, 4, 24), **{
        "Why is it on hold?": "Content to wait until after the elections", "resume_on": "2025-06-02"})  # fmt: skip
    _act(page, "Resume", dt.date(2025, 6, 5))
    _act(page, "Start assessment", dt.date(2025, 7, 4))

    follow(page, page.get_by_role("link", name="Record a decision on line item 1"))
    assert_accessible(page)
    page.get_by_label("Approved with conditions").check()
    page.get_by_label("Why", exact=True).fill("Needed to compare reorganisation options")
    page.get_by_label("Conditions", exact=True).fill("MSOA level only")
    _date(page, "Date of decision", dt.date(2025, 7, 25))
    follow(page, page.get_by_role("button", name="Record decision"))
    assert_accessible(page)
    _act(page, "Record the request as decided", dt.date(2025, 7, 25))

    follow(page, page.get_by_role("link", name="Record as fulfilled (line item 1)"))
    assert_accessible(page)
    page.get_by_label(re.compile("ISA-LLR-DSG-2025")).check()
    _date(page, "Date shared", dt.date(2025, 9, 10))
    page.get_by_role("button", name="Record as fulfilled").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("fulfilled")
    _act(page, "Mark fulfilled", dt.date(2025, 9, 10))
    expect(page.locator(".nhsuk-tag").first).to_have_text("Fulfilled")

    item = LineItem.objects.get()
    assert item.fulfilled_on == dt.date(2025, 9, 10) and list(item.agreements.all()) == [councils["isa"]]
    page.goto(f"/staff/agreements/{councils['isa'].pk}/")
    expect(page.get_by_role("heading", name="Data requests it serves")).to_be_visible()
    page.get_by_role("link", name="DR/25/1").click()

    follow(page, page.get_by_role("link", name="Timeline", exact=True))
    assert_accessible(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Download the timeline as PDF")).click()
    pdf = download_info.value.path().read_bytes()
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.trailer["/Root"]["/Lang"] == "en-GB" and "/StructTreeRoot" in reader.trailer["/Root"]
    assert reader.metadata.title == "Timeline of data request DR/25/1"
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        rows = [[" ".join((c or "").split()) for c in row] for p in document.pages for t in p.extract_tables()
                for row in t]  # fmt: skip
    # The header row repeats at the top of every page.
    events = [(row[0], row[3]) for row in rows if row[0] != "Date"]
    assert events == [
        ("8 April 2025", "Received"),
        ("17 April 2025", "Clarification asked"),
        ("24 April 2025", "Clarification answered"),
        ("24 April 2025", "Put on hold"),
        ("5 June 2025", "Resumed"),
        ("4 July 2025", "Assessment started"),
        ("25 July 2025", "Line item decided"),
        ("25 July 2025", "Decided"),
        ("29 August 2025", "Agreement in force"),
        ("10 September 2025", "Line item fulfilled"),
        ("10 September 2025", "Fulfilled"),
    ]
    assert DataRequest.objects.get().status == DataRequest.Status.FULFILLED
