"""Reminders about requests nearing or past a target go through the existing reminder engine, once per threshold."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail

from agreements import reminders
from agreements.models import SentReminder
from tests.datarequests.factories import make_request

pytestmark = pytest.mark.django_db
D = dt.date


def test_a_request_nearing_then_past_its_target_is_reminded_once_each(
    settings: Any, officer: Any, county: Any, districts: list[Any]
) -> None:
    settings.IG_TEAM_EMAILS = ["ig@example.nhs.uk"]
    request = make_request(officer, county, districts, received_on=D(2025, 4, 8), handler=officer)
    # Due 15 April (5 working days). On 11 April 2 working days are left: the "nearing" reminder.
    reminders.reminders_send(today=D(2025, 4, 11))
    reminders.reminders_send(today=D(2025, 4, 15))  # the due day: still "nearing"
    [nearing] = mail.outbox
    assert request.reference in nearing.subject and "due on 15 April 2025" in nearing.subject
    assert set(nearing.to) == {"ig@example.nhs.uk", officer.email}
    assert f"/staff/requests/{request.pk}/" in nearing.body
    # Past the target: one more, the "missed" one, and no more after that.
    reminders.reminders_send(today=D(2025, 4, 16))
    reminders.reminders_send(today=D(2025, 4, 17))
    assert len(mail.outbox) == 2 and "was due on 15 April 2025" in mail.outbox[1].subject
    assert set(SentReminder.objects.values_list("kind", "threshold")) == {
        (SentReminder.Kind.REQUEST_ACKNOWLEDGEMENT, 3),
        (SentReminder.Kind.REQUEST_ACKNOWLEDGEMENT, 0),
    }
