"""Lapse: a clarification left unanswered for the organisation's number of days ends the request, dated the day
the time ran out, in the words of seed 003's last request."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from datarequests import services, tasks
from datarequests.models import DataRequest, RequestEvent
from tests.datarequests.factories import make_request

pytestmark = pytest.mark.django_db
D = dt.date


def test_an_unanswered_clarification_lapses_once(officer: Any, county: Any, districts: list[Any]) -> None:
    services.response_targets_set(
        actor=officer, organisation=county, acknowledge_days=5, decide_days=20, lapse_after_days=28
    )
    request = make_request(officer, county, districts, received_on=D(2025, 9, 29),
                           title="Home postcodes of all County Council employees")  # fmt: skip
    services.request_transition(
        actor=officer, request=request, action="request_clarification", on=D(2025, 10, 1),
        reason="What is the rationale, given the GDPR?", topic="rationale",
    )  # fmt: skip
    assert services.requests_lapse(today=D(2025, 10, 28)) == []
    [lapsed] = services.requests_lapse(today=D(2025, 11, 30))
    assert lapsed.status == DataRequest.Status.LAPSED
    event = RequestEvent.objects.get(request=request, kind=RequestEvent.Kind.LAPSED)
    assert event.on == D(2025, 10, 29) and event.actor is None
    assert event.note == "lapsed: rationale queried 2025-10-01, no response"
    # Run again (or by the daily task): nothing more happens.
    assert tasks.lapse_requests.delay().get() == []
    assert RequestEvent.objects.filter(kind=RequestEvent.Kind.LAPSED).count() == 1


def test_an_answered_clarification_does_not_lapse(officer: Any, county: Any, districts: list[Any]) -> None:
    request = make_request(officer, county, districts, received_on=D(2025, 9, 29))
    services.request_transition(actor=officer, request=request, action="request_clarification", on=D(2025, 10, 1),
                                reason="Why?", topic="rationale")  # fmt: skip
    services.request_transition(actor=officer, request=request, action="answer_clarification", on=D(2025, 10, 3),
                                reason="Because")  # fmt: skip
    assert services.requests_lapse(today=D(2026, 1, 1)) == []
