"""The data-request pages: who may open what (others' requests are 404s), every workflow action as a page, four
eyes on decisions, the timeline files, the dashboard panel and the agreement page's requests."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from agreements.models import Agreement
from agreements.services import partner_contact_grant
from datarequests import services, workflow
from datarequests.models import DataRequest, Decision, LineItem
from tests.datarequests.factories import add_item, decide, make_request
from tests.factories import AgreementFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def world() -> dict[str, Any]:
    county = OrganisationFactory(name="Leicestershire County Council")
    blaby = OrganisationFactory(name="Blaby District Council")
    elsewhere = OrganisationFactory(name="Elsewhere Council")
    users = {
        "officer": UserFactory(username="officer", role="IG officer"),
        "officer2": UserFactory(username="officer2", role="IG officer"),
        "approver": UserFactory(username="approver", role="IG approver"),
        "approver2": UserFactory(username="approver2", role="IG approver"),
        "auditor": UserFactory(username="auditor", role="Auditor"),
        "partner": UserFactory(username="blaby"),
        "other_partner": UserFactory(username="elsewhere"),
        "nobody": UserFactory(username="nobody"),
    }
    partner_contact_grant(actor=None, user=users["partner"], organisation=blaby)
    partner_contact_grant(actor=None, user=users["other_partner"], organisation=elsewhere)
    request = make_request(users["officer"], county, [blaby], received_on=D(2025, 4, 8))
    return {"county": county, "blaby": blaby, "request": request, **users}


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _detail(request: DataRequest) -> str:
    return reverse("staff:datarequest_detail", args=[request.pk])


EXPECTED_DETAIL = {"officer": 200, "approver": 200, "auditor": 200, "partner": 200, "other_partner": 404, "nobody": 404}


@pytest.mark.parametrize(("role", "status"), EXPECTED_DETAIL.items())
def test_who_sees_a_request(world: dict[str, Any], role: str, status: int) -> None:
    client = _client(world[role])
    assert client.get(_detail(world["request"])).status_code == status
    listed = client.get(reverse("staff:datarequest_list")).content.decode()
    assert (world["request"].reference in listed) is (status == 200)


def test_a_partner_sees_the_status_but_not_the_teams_notes_or_clock(world: dict[str, Any]) -> None:
    page = _client(world["partner"]).get(_detail(world["request"])).content.decode()
    assert "Received" in page and "Clock" not in page and "What happened" not in page
    assert (
        _client(world["partner"]).get(reverse("staff:datarequest_timeline", args=[world["request"].pk])).status_code
        == 403
    )
    assert _client(world["partner"]).get(reverse("staff:datarequest_group_list")).status_code == 403


@pytest.mark.parametrize("role", ["auditor", "partner"])
def test_auditors_and_partners_cannot_log_or_change_requests(world: dict[str, Any], role: str) -> None:
    client = _client(world[role])
    assert client.get(reverse("staff:datarequest_create")).status_code == 403
    assert client.get(reverse("staff:datarequest_edit", args=[world["request"].pk])).status_code == 403
    assert client.get(reverse("staff:datarequest_item_create", args=[world["request"].pk])).status_code == 403
    assert client.post(reverse("staff:datarequest_acknowledge", args=[world["request"].pk]),
                       {"on_day": "9", "on_month": "4", "on_year": "2025"}).status_code == 403  # fmt: skip
    assert DataRequest.objects.get().status == DataRequest.Status.RECEIVED


def test_every_action_of_the_table_has_a_page_that_answers_by_role(world: dict[str, Any]) -> None:
    request = world["request"]
    for transition in workflow.TRANSITIONS:
        url = reverse(f"staff:datarequest_{transition.action}", args=[request.pk])
        assert _client(world["other_partner"]).get(url).status_code == 404
        assert _client(world["auditor"]).get(url).status_code == 403
        officer_status = 200 if workflow.Who.HANDLER in transition.who else 403
        assert _client(world["officer"]).get(url).status_code == officer_status
        partner_status = 200 if workflow.Who.REQUESTER in transition.who else 403
        assert _client(world["partner"]).get(url).status_code == partner_status


def test_the_detail_page_offers_the_tables_actions_for_the_status(world: dict[str, Any]) -> None:
    page = _client(world["officer"]).get(_detail(world["request"])).content.decode()
    for transition in workflow.available(DataRequest.Status.RECEIVED):
        if transition.action != "lapse" or workflow.Who.HANDLER in transition.who:
            assert reverse(f"staff:datarequest_{transition.action}", args=[world["request"].pk]) in page
    assert reverse("staff:datarequest_resume", args=[world["request"].pk]) not in page


def test_a_hold_from_the_page_with_errors_then_done(world: dict[str, Any]) -> None:
    client, request = _client(world["officer"]), world["request"]
    url = reverse("staff:datarequest_hold", args=[request.pk])
    response = client.post(url, {"on_day": "24", "on_month": "4", "on_year": "2025", "reason": "Elections"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "nhsuk-error-summary" in page and "Resume on" in page and "Elections" in page
    response = client.post(url, {"on_day": "24", "on_month": "4", "on_year": "2025", "reason": "Elections",
                                 "resume_on_day": "2", "resume_on_month": "6", "resume_on_year": "2025"})  # fmt: skip
    assert response.status_code == 302
    assert DataRequest.objects.get().status == DataRequest.Status.ON_HOLD


def test_a_partner_answers_a_clarification_in_the_portal(world: dict[str, Any]) -> None:
    request = world["request"]
    services.request_transition(actor=world["officer"], request=request, action="request_clarification",
                                on=D(2025, 4, 17), reason="What exactly?", topic="scope")  # fmt: skip
    page = _client(world["partner"]).get(_detail(request)).content.decode()
    assert "What exactly?" in page and reverse("staff:datarequest_answer_clarification", args=[request.pk]) in page
    response = _client(world["partner"]).post(
        reverse("staff:datarequest_answer_clarification", args=[request.pk]),
        {"on_day": "22", "on_month": "4", "on_year": "2025", "reason": "Ward-level breakdown"},
    )
    assert response.status_code == 302
    assert DataRequest.objects.get().status == DataRequest.Status.RECEIVED


def test_four_eyes_on_a_personal_data_decision_through_the_pages(world: dict[str, Any]) -> None:
    request = world["request"]
    services.request_transition(actor=world["officer"], request=request, action="assess", on=D(2025, 4, 9))
    item = add_item(world["officer"], request, LineItem.Category.PERSONAL, description="Home postcodes")
    response = _client(world["approver"]).post(
        reverse("staff:datarequest_decide_item", args=[request.pk, item.pk]),
        {"outcome": "refused", "rationale": "No lawful basis shown", "decided_on_day": "10",
         "decided_on_month": "4", "decided_on_year": "2025"},
    )  # fmt: skip
    assert response.status_code == 302
    decision = Decision.objects.get()
    assert decision.state == Decision.State.PROPOSED
    approve = reverse("staff:datarequest_decision_approve", args=[request.pk, decision.pk])
    data = {"on_day": "11", "on_month": "4", "on_year": "2025"}
    assert _client(world["officer2"]).get(approve).status_code == 403
    own = _client(world["approver"]).post(approve, data)
    assert own.status_code == 200 and "another IG approver must approve it" in own.content.decode()
    assert _client(world["approver2"]).post(approve, data).status_code == 302
    decision.refresh_from_db()
    assert decision.state == Decision.State.CONFIRMED and decision.approved_by == world["approver2"]


def test_timeline_files_and_the_agreement_lists_the_requests_it_serves(world: dict[str, Any]) -> None:
    officer, request = world["officer"], world["request"]
    services.request_transition(actor=officer, request=request, action="assess", on=D(2025, 4, 9))
    item = add_item(officer, request)
    decide(officer, item, on=D(2025, 4, 10))
    services.request_transition(actor=officer, request=request, action="decide", on=D(2025, 4, 10))
    isa = AgreementFactory(reference="ISA-TEST-1", kind=Agreement.Kind.ISA)
    services.line_item_fulfil(actor=officer, item=item, agreements=[isa], on=D(2025, 4, 14))
    auditor = _client(world["auditor"])
    page = auditor.get(reverse("staff:datarequest_timeline", args=[request.pk])).content.decode()
    assert "Line item fulfilled" in page and "ISA-TEST-1" in page
    pdf = auditor.get(reverse("staff:datarequest_timeline_file", args=[request.pk, "pdf"]))
    assert pdf["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"
    assert reader.metadata.title == f"Timeline of data request {request.reference}"
    csv = auditor.get(reverse("staff:datarequest_timeline_file", args=[request.pk, "csv"]))
    assert csv["Content-Type"].startswith("text/csv") and b"Line item fulfilled" in csv.content
    assert auditor.get(reverse("staff:datarequest_timeline_file", args=[request.pk, "exe"])).status_code == 404
    agreement_page = auditor.get(reverse("staff:agreement_detail", args=[isa.pk])).content.decode()
    assert "Data requests it serves" in agreement_page and request.reference in agreement_page
    whole = auditor.get(reverse("staff:datarequest_timeline_all"), {"organisation": world["blaby"].pk})
    assert request.reference in whole.content.decode()


def test_the_dashboard_lists_requests_past_their_target(world: dict[str, Any]) -> None:
    page = _client(world["officer"]).get(reverse("staff:dashboard")).content.decode()
    assert "Data requests nearing or past a target" in page and world["request"].reference in page
    partner_page = _client(world["partner"]).get(reverse("staff:dashboard")).content.decode()
    assert "nearing or past a target" not in partner_page


def test_log_a_request_with_errors_kept_then_saved(world: dict[str, Any]) -> None:
    client = _client(world["officer"])
    url = reverse("staff:datarequest_create")
    data = {"title": "Ward data", "responder": world["county"].pk, "channel": "email", "contact_name": "A. Person",
            "received_on_day": "31", "received_on_month": "2", "received_on_year": "2025"}  # fmt: skip
    response = client.post(url, data)
    page = response.content.decode()
    assert response.status_code == 200 and "Choose at least one requesting organisation" in page
    assert 'value="Ward data"' in page
    data |= {"requesters": [world["blaby"].pk], "received_on_day": "28"}
    response = client.post(url, data)
    assert response.status_code == 302
    assert DataRequest.objects.filter(title="Ward data", reference="DR/25/2").exists()


def test_the_ig_team_sets_an_organisations_targets_and_changes_a_line_item(world: dict[str, Any]) -> None:
    url = reverse("staff:organisation_response_targets", args=[world["county"].pk])
    assert _client(world["auditor"]).get(url).status_code == 403
    assert _client(world["partner"]).get(url).status_code == 404  # not its organisation
    client = _client(world["officer"])
    bad = client.post(url, {"acknowledge_days": "0", "decide_days": "x", "lapse_after_days": "28"})
    assert bad.status_code == 200 and "nhsuk-error-summary" in bad.content.decode()
    client.post(url, {"acknowledge_days": "3", "decide_days": "15", "lapse_after_days": "21"})
    world["county"].response_targets.refresh_from_db()
    assert world["county"].response_targets.decide_days == 15
    assert "Decision target (15 days)" in client.get(_detail(world["request"])).content.decode()

    item = add_item(world["officer"], world["request"])
    edit = reverse("staff:datarequest_item_edit", args=[world["request"].pk, item.pk])
    assert _client(world["auditor"]).get(edit).status_code == 403
    response = client.post(edit, {"description": "Population by age band and sex", "data_category": "non_personal"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.description == "Population by age band and sex"
