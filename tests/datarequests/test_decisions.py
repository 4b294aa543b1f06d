"""Decisions on line items: every outcome, what each needs, and four eyes on personal data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError

from datarequests import services
from datarequests.models import DataRequest, Decision, LineItem, RequestEvent
from tests.datarequests.factories import add_item, decide

pytestmark = pytest.mark.django_db
Outcome = Decision.Outcome
D = dt.date


@pytest.fixture
def assessing(officer: Any, request_: DataRequest) -> DataRequest:
    return services.request_transition(actor=officer, request=request_, action="assess", on=D(2025, 4, 9))


EXTRA = {
    Outcome.APPROVED: {},
    Outcome.APPROVED_WITH_CONDITIONS: {"conditions": "MSOA level only; no onward sharing"},
    Outcome.PARTLY_APPROVED: {},
    Outcome.PUBLICLY_AVAILABLE: {"public_link": "https://www.lsr-online.org/"},
    Outcome.REFUSED: {},
    Outcome.REFERRED: {"referred_to": "Leicester City Council"},
}


@pytest.mark.parametrize("outcome", Outcome.values)
def test_every_outcome_on_non_personal_data_is_confirmed_at_once(
    outcome: str, officer: Any, assessing: DataRequest
) -> None:
    item = add_item(officer, assessing)
    decision = decide(officer, item, outcome, on=D(2025, 4, 10), **EXTRA[Outcome(outcome)])
    assert decision.state == Decision.State.CONFIRMED and decision.approved_by is None
    event = RequestEvent.objects.get(kind=RequestEvent.Kind.LINE_ITEM_DECIDED)
    assert event.on == D(2025, 4, 10) and Outcome(outcome).label.lower() in event.note
    assert decision.grants_data is (outcome in {"approved", "approved_conditions", "partly_approved"})


@pytest.mark.parametrize(
    ("outcome", "field"),
    [
        (Outcome.APPROVED_WITH_CONDITIONS, "conditions"),
        (Outcome.PUBLICLY_AVAILABLE, "public_link"),
        (Outcome.REFERRED, "referred_to"),
        (Outcome.REFUSED, "rationale"),
        (Outcome.PARTLY_APPROVED, "rationale"),
    ],
)
def test_each_outcome_asks_for_what_it_needs(outcome: str, field: str, officer: Any, assessing: DataRequest) -> None:
    item = add_item(officer, assessing)
    with pytest.raises(ValidationError) as error:
        services.decision_propose(actor=officer, item=item, outcome=outcome, rationale="", decided_on=D(2025, 4, 10))
    assert field in error.value.message_dict
    assert not Decision.objects.exists()


def test_personal_data_needs_a_second_approver(
    officer: Any, officer2: Any, approver: Any, assessing: DataRequest
) -> None:
    item = add_item(officer, assessing, LineItem.Category.PERSONAL, description="Home postcodes of all employees")
    proposed = decide(officer, item, Outcome.REFUSED, on=D(2025, 4, 10))
    assert proposed.state == Decision.State.PROPOSED
    assert not RequestEvent.objects.filter(kind=RequestEvent.Kind.LINE_ITEM_DECIDED).exists()
    # An officer may not approve; nor may the approver who proposed it.
    with pytest.raises(PermissionDenied):
        services.decision_approve(actor=officer2, decision=proposed, on=D(2025, 4, 11))
    item2 = add_item(officer, assessing, LineItem.Category.SPECIAL, description="Health of employees")
    own = decide(approver, item2, Outcome.REFUSED, on=D(2025, 4, 10))
    with pytest.raises(ValidationError, match="Someone other than"):
        services.decision_approve(actor=approver, decision=own, on=D(2025, 4, 11))
    confirmed = services.decision_approve(actor=approver, decision=proposed, on=D(2025, 4, 11))
    assert confirmed.state == Decision.State.CONFIRMED and confirmed.approved_by == approver
    event = RequestEvent.objects.get(kind=RequestEvent.Kind.LINE_ITEM_DECIDED)
    assert event.on == D(2025, 4, 11) and "Approved by Abel Approver" in event.note


def test_the_database_keeps_four_eyes(officer: Any, approver: Any, assessing: DataRequest) -> None:
    item = add_item(officer, assessing, LineItem.Category.PERSONAL)
    proposed = decide(approver, item, Outcome.APPROVED, on=D(2025, 4, 10))
    with pytest.raises(IntegrityError):
        Decision.objects.filter(pk=proposed.pk).update(approved_by=approver, state=Decision.State.CONFIRMED)


def test_an_approver_returns_a_decision_with_a_reason(officer: Any, approver: Any, assessing: DataRequest) -> None:
    item = add_item(officer, assessing, LineItem.Category.PERSONAL)
    proposed = decide(officer, item, Outcome.APPROVED, on=D(2025, 4, 10))
    with pytest.raises(ValidationError):
        services.decision_return(actor=approver, decision=proposed, reason="")
    returned = services.decision_return(actor=approver, decision=proposed, reason="The necessity is not shown")
    assert returned.state == Decision.State.RETURNED
    again = decide(officer, item, Outcome.REFUSED, on=D(2025, 4, 11))
    assert again.state == Decision.State.PROPOSED


def test_a_new_decision_after_a_reopen_supersedes_the_old(officer: Any, assessing: DataRequest) -> None:
    item = add_item(officer, assessing)
    first = decide(officer, item, Outcome.REFUSED, on=D(2025, 4, 10))
    services.request_transition(actor=officer, request=assessing, action="decide", on=D(2025, 4, 10))
    services.request_transition(actor=officer, request=assessing, action="close", on=D(2025, 4, 11))
    services.request_transition(actor=officer, request=assessing, action="reopen", on=D(2025, 4, 14),
                                reason="New evidence of need")  # fmt: skip
    second = decide(officer, item, Outcome.APPROVED, on=D(2025, 4, 15))
    first.refresh_from_db()
    assert (first.state, second.state) == (Decision.State.SUPERSEDED, Decision.State.CONFIRMED)


def test_approving_personal_data_needs_its_article_6_basis(officer: Any, assessing: DataRequest) -> None:
    item = add_item(officer, assessing, LineItem.Category.PERSONAL, article_6_basis="")
    with pytest.raises(ValidationError) as error:
        decide(officer, item, Outcome.APPROVED, on=D(2025, 4, 10))
    assert "outcome" in error.value.message_dict
    assert decide(officer, item, Outcome.REFUSED, on=D(2025, 4, 10)).state == Decision.State.PROPOSED


def test_decisions_only_while_under_assessment(officer: Any, request_: DataRequest) -> None:
    item = add_item(officer, request_)
    with pytest.raises(ValidationError, match="under assessment"):
        decide(officer, item, on=D(2025, 4, 10))
