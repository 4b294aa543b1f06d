"""The workflow table, walked whole: every status x every action x every role, through the service."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from datarequests import services, workflow
from datarequests.models import DataRequest, Decision, LineItem, RequestEvent
from datarequests.workflow import Who
from tests.datarequests.factories import add_item, decide, make_request

pytestmark = pytest.mark.django_db

Status = DataRequest.Status
ROLES = ["officer", "approver", "auditor", "partner", "other_partner", "system"]
ROLE_WHO = {
    "officer": {Who.HANDLER},
    "approver": {Who.HANDLER, Who.APPROVER},
    "auditor": set(),
    "partner": {Who.REQUESTER},
    "other_partner": set(),
    "system": {Who.SYSTEM},
}


def _in_status(officer: Any, county: Any, districts: list[Any], status: str) -> DataRequest:
    """A request put straight into `status` (arranged, not walked), with a line item that is decided, approved
    and fulfilled, so every precondition of the table's actions holds."""
    request = make_request(officer, county, districts)
    item = add_item(officer, request)
    LineItem.objects.filter(pk=item.pk).update(fulfilled_on=dt.date(2025, 4, 8))
    Decision.objects.create(
        line_item=item, outcome=Decision.Outcome.APPROVED, rationale="Needed", decided_on=dt.date(2025, 4, 8),
        state=Decision.State.CONFIRMED, proposed_by=officer,
    )  # fmt: skip
    paused = status in workflow.PAUSED_STATUSES
    DataRequest.objects.filter(pk=request.pk).update(
        status=status,
        resume_status=Status.UNDER_ASSESSMENT if paused else "",
        hold_reason="Until after the elections" if status == Status.ON_HOLD else "",
        hold_until=dt.date(2025, 5, 2) if status == Status.ON_HOLD else None,
    )
    return DataRequest.objects.get(pk=request.pk)


@pytest.mark.parametrize("action", [t.action for t in workflow.TRANSITIONS])
@pytest.mark.parametrize("status", Status.values)
def test_every_status_action_and_role(
    status: str, action: str, request: pytest.FixtureRequest, officer: Any, county: Any, districts: list[Any]
) -> None:
    transition = workflow.BY_ACTION[action]
    for role in ROLES:
        actor = None if role == "system" else request.getfixturevalue(role)
        data_request = _in_status(officer, county, districts, status)
        allowed = status in transition.sources and bool(ROLE_WHO[role] & transition.who)
        assert services.may(actor, action, data_request) is allowed, role
        kwargs = {
            "actor": actor, "request": data_request, "action": action, "on": dt.date(2025, 4, 10),
            "reason": "Recorded in the test", "resume_on": dt.date(2025, 5, 2), "topic": "rationale",
        }  # fmt: skip
        if allowed:
            done = services.request_transition(**kwargs)
            expected = Status.UNDER_ASSESSMENT if transition.target == workflow.PREVIOUS else transition.target
            assert done.status == expected, role
            event = done.events.order_by("-pk").first()
            assert event is not None and event.kind == transition.event and event.on == dt.date(2025, 4, 10)
            assert event.from_status == status and event.to_status == expected
        elif status not in transition.sources:
            with pytest.raises(ValidationError):
                services.request_transition(**kwargs)
        else:
            with pytest.raises(PermissionDenied):
                services.request_transition(**kwargs)
            assert DataRequest.objects.get(pk=data_request.pk).status == status


def test_a_transition_leaves_one_audit_row_with_the_reason(officer: Any, request_: DataRequest) -> None:
    before = AuditEvent.objects.count()
    services.request_transition(actor=officer, request=request_, action="acknowledge", on=dt.date(2025, 4, 9),
                                reason="Letter of acknowledgement sent")  # fmt: skip
    event = AuditEvent.objects.order_by("-pk").first()
    assert AuditEvent.objects.count() == before + 1
    assert event is not None and event.actor == officer and event.reason == "Letter of acknowledgement sent"
    assert event.subject == request_ and event.subject_label.startswith(request_.reference)
    assert event.changes["Status"] == ["Received", "Acknowledged"]


def test_reference_allocated_from_the_year_received(officer: Any, county: Any, districts: list[Any]) -> None:
    first = make_request(officer, county, districts)
    second = make_request(officer, county, districts, received_on=dt.date(2025, 9, 30))
    next_year = make_request(officer, county, districts, received_on=dt.date(2026, 1, 5))
    assert [first.reference, second.reference, next_year.reference] == ["DR/25/1", "DR/25/2", "DR/26/1"]


def test_a_request_needs_requesters_and_cannot_be_dated_in_the_future(officer: Any, county: Any) -> None:
    with pytest.raises(ValidationError) as error:
        make_request(officer, county, [])
    assert "requesters" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        make_request(officer, county, [county])
    assert "requesters" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        make_request(officer, county, [county], received_on=dt.date.today() + dt.timedelta(days=2))
    assert not DataRequest.objects.exists()


def test_only_the_ig_team_logs_requests(auditor: Any, partner: Any, county: Any, districts: list[Any]) -> None:
    for user in (auditor, partner):
        with pytest.raises(PermissionDenied):
            make_request(user, county, districts)
    assert not DataRequest.objects.exists()


def test_dates_cannot_go_back_before_the_last_event(officer: Any, request_: DataRequest) -> None:
    services.request_transition(actor=officer, request=request_, action="acknowledge", on=dt.date(2025, 4, 14))
    with pytest.raises(ValidationError) as error:
        services.request_transition(actor=officer, request=request_, action="assess", on=dt.date(2025, 4, 10))
    assert "on" in error.value.message_dict
    assert DataRequest.objects.get(pk=request_.pk).status == Status.ACKNOWLEDGED


def test_hold_needs_reason_and_resume_date_and_resume_returns_to_where_it_was(
    officer: Any, request_: DataRequest
) -> None:
    services.request_transition(actor=officer, request=request_, action="assess", on=dt.date(2025, 4, 9))
    with pytest.raises(ValidationError) as error:
        services.request_transition(actor=officer, request=request_, action="hold", on=dt.date(2025, 4, 22))
    assert set(error.value.message_dict) == {"reason", "resume_on"}
    held = services.request_transition(
        actor=officer, request=request_, action="hold", on=dt.date(2025, 4, 22),
        reason="Requesters content to wait until after the elections", resume_on=dt.date(2025, 5, 2),
    )  # fmt: skip
    assert (held.status, held.hold_until, held.resume_status) == (
        Status.ON_HOLD,
        dt.date(2025, 5, 2),
        "under_assessment",
    )
    resumed = services.request_transition(actor=officer, request=held, action="resume", on=dt.date(2025, 6, 5))
    assert (resumed.status, resumed.hold_reason, resumed.hold_until) == (Status.UNDER_ASSESSMENT, "", None)


def test_a_partner_answers_a_clarification_on_their_own_request_only(
    officer: Any, partner: Any, other_partner: Any, request_: DataRequest
) -> None:
    services.request_transition(
        actor=officer, request=request_, action="request_clarification", on=dt.date(2025, 4, 17),
        reason="Which categories exactly?", topic="scope",
    )  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.request_transition(actor=other_partner, request=request_, action="answer_clarification",
                                    reason="Everything", on=dt.date(2025, 4, 20))  # fmt: skip
    answered = services.request_transition(
        actor=partner, request=request_, action="answer_clarification", reason="A further breakdown by ward",
        on=dt.date(2025, 4, 22),
    )  # fmt: skip
    assert answered.status == Status.RECEIVED
    assert answered.events.last().actor == partner  # type: ignore[union-attr]


def test_decide_needs_a_confirmed_decision_on_every_line_item(
    officer: Any, approver: Any, request_: DataRequest
) -> None:
    services.request_transition(actor=officer, request=request_, action="assess", on=dt.date(2025, 4, 9))
    with pytest.raises(ValidationError, match="line items"):
        services.request_transition(actor=officer, request=request_, action="decide", on=dt.date(2025, 4, 9))
    public = add_item(officer, request_)
    personal = add_item(officer, request_, LineItem.Category.PERSONAL, description="Staff home postcodes")
    decide(officer, public, Decision.Outcome.PUBLICLY_AVAILABLE, on=dt.date(2025, 4, 10),
           public_link="https://www.lsr-online.org/")  # fmt: skip
    proposed = decide(officer, personal, Decision.Outcome.REFUSED, on=dt.date(2025, 4, 10))
    with pytest.raises(ValidationError, match="2 have no confirmed decision"):
        services.request_transition(actor=officer, request=request_, action="decide", on=dt.date(2025, 4, 10))
    services.decision_approve(actor=approver, decision=proposed, on=dt.date(2025, 4, 11))
    decided = services.request_transition(actor=officer, request=request_, action="decide", on=dt.date(2025, 4, 11))
    assert decided.status == Status.DECIDED
    # Nothing was approved, so there is nothing to wait an agreement for, and nothing to fulfil.
    with pytest.raises(ValidationError, match="nothing to make an agreement for"):
        services.request_transition(actor=officer, request=decided, action="await_agreement", on=dt.date(2025, 4, 11))
    closed = services.request_transition(actor=officer, request=decided, action="close", on=dt.date(2025, 4, 14))
    assert closed.status == Status.CLOSED


def test_fulfil_needs_every_approved_line_item_fulfilled_under_an_active_agreement(
    officer: Any, request_: DataRequest
) -> None:
    from agreements.models import Agreement
    from tests.factories import AgreementFactory

    services.request_transition(actor=officer, request=request_, action="assess", on=dt.date(2025, 7, 1))
    item = add_item(officer, request_)
    decide(officer, item, on=dt.date(2025, 7, 14))
    services.request_transition(actor=officer, request=request_, action="decide", on=dt.date(2025, 7, 14))
    pending = services.request_transition(actor=officer, request=request_, action="await_agreement",
                                          on=dt.date(2025, 7, 14))  # fmt: skip
    with pytest.raises(ValidationError, match="not yet fulfilled"):
        services.request_transition(actor=officer, request=pending, action="fulfil", on=dt.date(2025, 9, 1))
    draft = AgreementFactory(status=Agreement.Status.DRAFT, reference="ISA-DRAFT")
    with pytest.raises(ValidationError) as error:
        services.line_item_fulfil(actor=officer, item=item, agreements=[draft], on=dt.date(2025, 9, 1))
    assert "agreements" in error.value.message_dict
    isa = AgreementFactory(reference="ISA-LLR-1", kind=Agreement.Kind.ISA)
    services.line_item_fulfil(actor=officer, item=item, agreements=[isa], on=dt.date(2025, 9, 1))
    fulfilled = services.request_transition(actor=officer, request=pending, action="fulfil", on=dt.date(2025, 9, 2))
    assert fulfilled.status == Status.FULFILLED
    assert list(isa.line_items_served.all()) == [item]
    assert RequestEvent.objects.filter(kind=RequestEvent.Kind.LINE_ITEM_FULFILLED, note__contains="ISA-LLR-1").exists()


def test_reopen_needs_a_reason_and_goes_back_to_assessment(officer: Any, request_: DataRequest) -> None:
    services.request_transition(actor=officer, request=request_, action="withdraw", on=dt.date(2025, 4, 9),
                                reason="Withdrawn by letter")  # fmt: skip
    with pytest.raises(ValidationError) as error:
        services.request_transition(actor=officer, request=request_, action="reopen", on=dt.date(2025, 4, 10))
    assert "reason" in error.value.message_dict
    reopened = services.request_transition(actor=officer, request=request_, action="reopen", on=dt.date(2025, 4, 10),
                                           reason="The districts wrote again")  # fmt: skip
    assert reopened.status == Status.UNDER_ASSESSMENT
    assert reopened.events.last().note == "The districts wrote again"  # type: ignore[union-attr]


def test_line_items_keep_article_9_to_special_category_data(officer: Any, request_: DataRequest) -> None:
    with pytest.raises(ValidationError) as error:
        add_item(officer, request_, LineItem.Category.SPECIAL, article_9_condition="")
    assert "article_9_condition" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        add_item(officer, request_, LineItem.Category.PERSONAL, article_9_condition="9_2_g")
    assert "article_9_condition" in error.value.message_dict
    assert not request_.line_items.exists()
