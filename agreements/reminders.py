"""Reminders before anything lapses: e-mails to the IG team (settings.IG_TEAM_EMAILS) and each agreement's owner.

- agreements ending within 90, 30 and 7 days;
- reviews overdue;
- linkages about to stop being permitted (30 and 7 days), and linkages that have stopped;
- partner assurance (DSPT, ICO registration) about to lapse (60, 30 and 7 days), or lapsed.

Each reminder is sent once per threshold per subject and date: a SentReminder row, unique on (kind, subject,
threshold, date), is written in the same transaction as the e-mail is handed to the mail server. A failed send rolls
the row back, so a retry sends it; a sent one is committed, so a re-run or a concurrent run skips it. (The one gap
is a crash after the server accepted the e-mail and before the commit: that reminder is sent again. Losing a
reminder would be worse, and the staff dashboard shows the same items, so nobody depends on e-mail alone.)
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from agreements import selectors
from agreements.dates import format_date
from agreements.models import Agreement, Linkage, SentReminder
from audit.models import AuditEvent

logger = logging.getLogger(__name__)

Kind = SentReminder.Kind
AGREEMENT_THRESHOLDS = (7, 30, 90)
LINKAGE_THRESHOLDS = (7, 30)
ASSURANCE_THRESHOLDS = (7, 30, 60)


@dataclass(frozen=True)
class Reminder:
    kind: str
    subject: str
    threshold: int
    due_on: dt.date
    title: str
    body: str
    recipients: tuple[str, ...]


def _threshold(days_left: int, thresholds: tuple[int, ...]) -> int | None:
    """The tightest threshold crossed: 5 days left is the 7-day reminder (the 90 and 30-day ones are past)."""
    return next((t for t in sorted(thresholds) if days_left <= t), None)


# The three helpers below are shared by every reminder of the portal (datarequests.reminders too).


def reminder_link(name: str, *args: object) -> str:
    """An absolute link to a staff page, for an e-mail."""
    return f"{settings.SITE_URL.rstrip('/')}{reverse(name, args=args)}"


def reminder_recipients(owners: list[User | None]) -> tuple[str, ...]:
    """The IG team's addresses and those of the owners, once each, sorted."""
    addresses = {address.strip() for address in settings.IG_TEAM_EMAILS if address.strip()}
    addresses |= {owner.email for owner in owners if owner is not None and owner.email}
    return tuple(sorted(addresses))


def reminder_body(lines: list[str], link: str) -> str:
    """A reminder e-mail's text: its lines, the link to act on, the dashboard, and why the reader gets it."""
    return "\n".join(
        [
            *lines,
            "",
            f"Open it in the staff area: {link}",
            "",
            f"The staff dashboard lists everything that needs attention: {reminder_link('staff:dashboard')}",
            "",
            "You are receiving this because you are in the information governance team or own the agreement.",
        ]
    )


def _in_days(days: int) -> str:
    if days == 0:
        return "today"
    return "tomorrow" if days == 1 else f"in {days} days"


def _agreements_ending(today: dt.date) -> list[Reminder]:
    reminders = []
    for agreement in selectors.agreements_ending(within_days=max(AGREEMENT_THRESHOLDS), today=today).select_related(
        "owner"
    ):
        end_date = agreement.end_date
        assert end_date is not None  # agreements_ending selects on end_date
        days = (end_date - today).days
        threshold = _threshold(days, AGREEMENT_THRESHOLDS)
        if threshold is None:
            continue
        reminders.append(
            Reminder(
                kind=Kind.AGREEMENT_ENDING,
                subject=f"agreement:{agreement.pk}",
                threshold=threshold,
                due_on=end_date,
                title=f"{agreement.reference} ends {_in_days(days)} ({format_date(end_date)})",
                body=reminder_body(
                    [
                        f"{agreement.reference}: {agreement.title}",
                        f"{agreement.get_kind_display()}, ends on {format_date(end_date)}, {_in_days(days)}.",
                        "",
                        "Renew or extend it before then, or record what replaces it. When it ends, anything that "
                        "relies on it (a sub-licence, a linkage) stops being permitted.",
                    ],
                    reminder_link("staff:agreement_detail", agreement.pk),
                ),
                recipients=reminder_recipients([agreement.owner]),
            )
        )
    return reminders


def _reviews_overdue(today: dt.date) -> list[Reminder]:
    reminders = []
    for agreement in selectors.agreements_review_overdue(today=today).select_related("owner"):
        review_date = agreement.review_date
        assert review_date is not None  # agreements_review_overdue selects on review_date
        reminders.append(
            Reminder(
                kind=Kind.REVIEW_OVERDUE,
                subject=f"agreement:{agreement.pk}",
                threshold=0,
                due_on=review_date,
                title=f"{agreement.reference} review overdue since {format_date(review_date)}",
                body=reminder_body(
                    [
                        f"{agreement.reference}: {agreement.title}",
                        f"Its review was due on {format_date(review_date)} and has not been recorded.",
                        "",
                        "Review it, then record the next review date.",
                    ],
                    reminder_link("staff:agreement_detail", agreement.pk),
                ),
                recipients=reminder_recipients([agreement.owner]),
            )
        )
    return reminders


def _owners(agreements: list[Agreement]) -> list[User | None]:
    return [agreement.owner for agreement in agreements]


def _linkages(today: dt.date) -> list[Reminder]:
    reminders = []
    for state in selectors.linkages_lapsing(within_days=max(LINKAGE_THRESHOLDS), on=today):
        until = state.checklist.permitted_until
        assert until is not None  # linkages_lapsing returns only linkages permitted until a date
        days = (until - today).days
        threshold = _threshold(days, LINKAGE_THRESHOLDS)
        assert threshold is not None  # that date is within the widest threshold
        ending = [item for item in state.checklist.items if item.ends_on == until]
        agreements = [item.agreement for item in ending if item.agreement]
        reminders.append(
            Reminder(
                kind=Kind.LINKAGE_LAPSING,
                subject=f"linkage:{state.linkage.pk}",
                threshold=threshold,
                due_on=until,
                title=f"Linkage “{state.linkage.title}” stops being permitted after {format_date(until)}",
                body=reminder_body(
                    [
                        f"Linkage: {state.linkage.title}",
                        f"It is permitted until {format_date(until)}, {_in_days(days)}, because "
                        + ", ".join(f"{a.reference} ends then" for a in agreements)
                        + ".",
                        "",
                        "Renew the agreement, or stop the linkage before then.",
                    ],
                    reminder_link("staff:linkage_detail", state.linkage.pk),
                ),
                recipients=reminder_recipients(_owners(agreements)),
            )
        )
    stopped = (
        Linkage.objects.filter(status=Linkage.Status.NOT_PERMITTED)
        .annotate(
            stopped_at=Max("audit_events__at", filter=Q(audit_events__action=AuditEvent.Action.NOT_PERMITTED)),
        )
        .filter(stopped_at__isnull=False)
    )
    for linkage in stopped:
        stopped_on = timezone.localdate(linkage.stopped_at)
        reminders.append(
            Reminder(
                kind=Kind.LINKAGE_NOT_PERMITTED,
                subject=f"linkage:{linkage.pk}",
                threshold=0,
                due_on=stopped_on,
                title=f"Linkage “{linkage.title}” is no longer permitted",
                body=reminder_body(
                    [
                        f"Linkage: {linkage.title}",
                        f"It stopped being permitted on {format_date(stopped_on)}. Linking must stop until every "
                        "item on its checklist is ticked again.",
                    ],
                    reminder_link("staff:linkage_detail", linkage.pk),
                ),
                recipients=reminder_recipients([]),
            )
        )
    return reminders


def _assurance(today: dt.date) -> list[Reminder]:
    reminders = []
    for partner in selectors.partners_assurance_attention(within_days=max(ASSURANCE_THRESHOLDS), on=today):
        organisation = partner.organisation
        references = ", ".join(a.reference for a in partner.sub_licences)
        if partner.lapsed:
            # No date to key on for a missing ICO number or an unmet DSPT: the record's state is the key, so the
            # team hears once, and again only after the record changes and is still not assured.
            due_on, threshold = timezone.localdate(organisation.updated_at), 0
            title = f"{organisation.name}: partner assurance has lapsed"
            lines = [
                f"{organisation.name} ({organisation.ods_code}) is not assured today:",
                *[f"- {violation.message}" for violation in partner.violations],
                "",
                f"Its sub-licences ({references}) cannot be approved or published until this is put right.",
            ]
        else:
            due_on = partner.lapses_on
            days = (due_on - today).days
            threshold_crossed = _threshold(days, ASSURANCE_THRESHOLDS)
            assert threshold_crossed is not None  # lapses_on is within the widest threshold
            threshold = threshold_crossed
            title = f"{organisation.name}: partner assurance lapses on {format_date(due_on)}"
            lines = [
                f"{organisation.name} ({organisation.ods_code}) stops being assured on {format_date(due_on)}, "
                f"{_in_days(days)}: its DSPT status or ICO registration runs out.",
                "",
                "Ask the partner for its new DSPT assessment or ICO registration, and record it. Until then its "
                f"sub-licences ({references}) will be dropped from the published register.",
            ]
        reminders.append(
            Reminder(
                kind=Kind.ASSURANCE_LAPSING,
                subject=f"organisation:{organisation.pk}",
                threshold=threshold,
                due_on=due_on,
                title=title,
                body=reminder_body(lines, reminder_link("staff:organisation_detail", organisation.pk)),
                recipients=reminder_recipients(_owners(partner.sub_licences)),
            )
        )
    return reminders


def reminders_due(*, today: dt.date | None = None) -> list[Reminder]:
    """Every reminder that applies today, sent or not: the register's own, then those of the apps listed in
    settings.REMINDER_SOURCES (the data-request log), which build on this module and so cannot be imported by it."""
    today = today or timezone.localdate()
    others = [reminder for source in settings.REMINDER_SOURCES for reminder in import_string(source)(today=today)]
    return [*_agreements_ending(today), *_reviews_overdue(today), *_linkages(today), *_assurance(today), *others]


def reminders_send(*, today: dt.date | None = None) -> list[SentReminder]:
    """Send the reminders due today that have not been sent. Safe to re-run and to retry: see the module."""
    sent = []
    for reminder in reminders_due(today=today):
        if not reminder.recipients:
            # Nothing recorded, so it is sent once someone is configured to receive it.
            logger.warning("No one to send the reminder to (set IG_TEAM_EMAILS): %s", reminder.title)
            continue
        with transaction.atomic():
            row, created = SentReminder.objects.get_or_create(
                kind=reminder.kind,
                subject=reminder.subject,
                threshold=reminder.threshold,
                due_on=reminder.due_on,
                defaults={"recipients": ", ".join(reminder.recipients)},
            )
            if not created:
                continue
            EmailMessage(
                subject=f"Reminder: {reminder.title}",
                body=reminder.body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=list(reminder.recipients),
            ).send()
            sent.append(row)
    return sent
