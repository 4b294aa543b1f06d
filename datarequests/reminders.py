"""Reminders about data requests nearing or past a working-day target, for the existing reminder engine
(agreements.reminders, which sends each once per threshold). Listed in settings.REMINDER_SOURCES."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User

from agreements.dates import format_date
from agreements.models import SentReminder
from agreements.reminders import Reminder, reminder_body, reminder_link, reminder_recipients
from datarequests import selectors


def reminders_due(*, today: dt.date) -> list[Reminder]:
    reminders = []
    for attention in selectors.requests_needing_attention(user=None, today=today):
        request, target = attention.request, attention.target
        if target.due_on is None:
            continue
        # Two reminders per target: "nearing" (due within NEARING_WORKING_DAYS working days, the due day included,
        # threshold 3) and "missed" (threshold 0), each once for its due date.
        threshold = 0 if target.missed else selectors.NEARING_WORKING_DAYS
        kind = (
            SentReminder.Kind.REQUEST_ACKNOWLEDGEMENT
            if target.name == "Acknowledgement"
            else SentReminder.Kind.REQUEST_DECISION
        )
        when = (
            f"was due on {format_date(target.due_on)}"
            if target.remaining < 0
            else f"is due on {format_date(target.due_on)}"
        )
        handler: User | None = request.handler
        reminders.append(
            Reminder(
                kind=kind,
                subject=f"datarequest:{request.pk}",
                threshold=threshold,
                due_on=target.due_on,
                title=f"{request.reference}: {target.name.lower()} {when}",
                body=reminder_body(
                    [
                        f"{request.reference}: {request.title}",
                        f"Received on {format_date(request.received_on)}. The {target.name.lower()} target of "
                        f"{target.days} working days {when} ({target.used} working days on the clock so far).",
                    ],
                    reminder_link("staff:datarequest_detail", request.pk),
                ),
                recipients=reminder_recipients([handler]),
            )
        )
    return reminders
