"""The working-day clocks: England and Wales bank holidays (Easter 2025, the early May bank holiday), pauses
while the requester is asked to clarify, and the targets each organisation sets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from datarequests import clocks, selectors, services
from datarequests.models import DataRequest
from tests.datarequests.factories import make_request

pytestmark = pytest.mark.django_db
D = dt.date


def test_working_days_skip_weekends_and_bank_holidays() -> None:
    # Good Friday 18 April and Easter Monday 21 April 2025 are bank holidays in England and Wales.
    assert not clocks.is_working_day(D(2025, 4, 18))
    assert not clocks.is_working_day(D(2025, 4, 21))
    assert not clocks.is_working_day(D(2025, 5, 5))
    assert clocks.is_working_day(D(2025, 4, 22))
    # Thursday 17 April to Tuesday 22 April: only the Tuesday counts.
    assert clocks.working_days_between(D(2025, 4, 17), D(2025, 4, 22)) == 1
    assert clocks.working_days_between(D(2025, 4, 22), D(2025, 4, 17)) == 0


def test_targets_fall_due_on_working_days_after_easter() -> None:
    # Received Tuesday 8 April 2025: 5 working days is 15 April; 20 is 9 May (Easter and 5 May skipped).
    assert clocks.due_date(D(2025, 4, 8), 5, []) == D(2025, 4, 15)
    assert clocks.due_date(D(2025, 4, 8), 20, []) == D(2025, 5, 9)


def _walk_with_clarification(officer: Any, county: Any, districts: list[Any]) -> DataRequest:
    request = make_request(officer, county, districts, received_on=D(2025, 4, 8))
    services.request_transition(actor=officer, request=request, action="acknowledge", on=D(2025, 4, 9))
    services.request_transition(
        actor=officer, request=request, action="request_clarification", on=D(2025, 4, 16),
        reason="Some categories are not clear: what exactly is wanted?", topic="scope",
    )  # fmt: skip
    services.request_transition(actor=officer, request=request, action="answer_clarification", on=D(2025, 4, 24),
                                reason="A further breakdown of the information")  # fmt: skip
    return DataRequest.objects.get(pk=request.pk)


def test_the_clock_stops_while_the_requester_is_asked_to_clarify(
    officer: Any, county: Any, districts: list[Any]
) -> None:
    request = _walk_with_clarification(officer, county, districts)
    clock = selectors.request_clock(request, today=D(2025, 5, 20))
    # 27 working days from 8 April to 20 May; 4 of them (17, 22, 23, 24 April) waiting on the requester.
    assert (clock.days_open, clock.days_waiting_on_requester, clock.days_waiting_on_us) == (27, 4, 23)
    assert clock.acknowledge.met_on == D(2025, 4, 9) and not clock.acknowledge.missed
    # The decision target moves by the 4 paused working days: 9 May becomes 15 May, and it is missed by 20 May.
    assert clock.decide.due_on == D(2025, 5, 15)
    assert clock.decide.used == 23 and clock.decide.missed and clock.target_missed


def test_while_paused_the_due_date_is_unknown_and_the_clock_does_not_run(
    officer: Any, county: Any, districts: list[Any]
) -> None:
    request = make_request(officer, county, districts, received_on=D(2025, 4, 8))
    services.request_transition(
        actor=officer, request=request, action="hold", on=D(2025, 4, 9),
        reason="Content to wait until after the elections", resume_on=D(2025, 6, 2),
    )  # fmt: skip
    clock = selectors.request_clock(DataRequest.objects.get(pk=request.pk), today=D(2025, 6, 30))
    assert clock.paused and clock.decide.due_on is None
    assert clock.days_waiting_on_us == 1 and clock.decide.used == 1
    # An unacknowledged request on hold is not waiting on the team, so the dashboard does not list it.
    assert selectors.requests_needing_attention(user=officer, today=D(2025, 6, 30)) == []


def test_targets_are_set_per_organisation(officer: Any, county: Any, districts: list[Any]) -> None:
    services.response_targets_set(
        actor=officer, organisation=county, acknowledge_days=2, decide_days=10, lapse_after_days=14
    )
    request = make_request(officer, county, districts, received_on=D(2025, 4, 8))
    clock = selectors.request_clock(request, today=D(2025, 4, 11))
    assert clock.acknowledge.due_on == D(2025, 4, 10) and clock.acknowledge.missed
    assert clock.decide.days == 10


def test_the_dashboard_lists_requests_nearing_or_past_a_target(
    officer: Any, auditor: Any, partner: Any, other_partner: Any, county: Any, districts: list[Any]
) -> None:
    late = make_request(officer, county, districts, received_on=D(2025, 4, 8))
    nearing = make_request(officer, county, districts, received_on=D(2025, 4, 22))
    make_request(officer, county, districts, received_on=D(2025, 4, 24))  # 1 working day old on 25 April
    attention = selectors.requests_needing_attention(user=officer, today=D(2025, 4, 25))
    assert [(a.request, a.target.name, a.past) for a in attention] == [
        (late, "Acknowledgement", True),
        (nearing, "Acknowledgement", False),
    ]
    assert len(selectors.requests_needing_attention(user=auditor, today=D(2025, 4, 25))) == 2
    # A partner sees their own organisation's requests only; a partner of another organisation sees none.
    assert len(selectors.requests_needing_attention(user=partner, today=D(2025, 4, 25))) == 2
    assert selectors.requests_needing_attention(user=other_partner, today=D(2025, 4, 25)) == []


def test_an_ended_request_keeps_its_clock_at_the_end(officer: Any, county: Any, districts: list[Any]) -> None:
    request = make_request(officer, county, districts, received_on=D(2025, 4, 8))
    services.request_transition(actor=officer, request=request, action="withdraw", on=D(2025, 4, 10),
                                reason="No longer needed")  # fmt: skip
    clock = selectors.request_clock(DataRequest.objects.get(pk=request.pk), today=D(2025, 12, 1))
    assert clock.until == D(2025, 4, 10) and clock.days_open == 2
