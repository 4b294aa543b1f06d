"""Reminders: what is sent, to whom, with what in it, and never twice."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.mail import EmailMessage

from agreements import reminders, services, tasks
from agreements.models import Agreement, Dataset, Linkage, Organisation, Party, PermittedPurpose, SentReminder
from tests.factories import (
    AgreementFactory,
    DatasetFactory,
    OrganisationFactory,
    PartyFactory,
    SubLicenceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

Kind = SentReminder.Kind
SITE = "https://register.example.nhs.uk"


def _at(day: dt.date) -> time_machine.travel:
    return time_machine.travel(dt.datetime.combine(day, dt.time(7), tzinfo=dt.UTC))


@pytest.fixture(autouse=True)
def _mail_settings(settings) -> None:
    settings.IG_TEAM_EMAILS = ["ig-team@example.nhs.uk"]
    settings.SITE_URL = SITE


@pytest.fixture
def owner():
    return UserFactory(username="owner", email="owner@example.nhs.uk")


def _subjects(mailoutbox) -> list[str]:
    return [message.subject for message in mailoutbox]


def test_an_agreement_ending_gets_one_reminder_per_threshold(mailoutbox, owner) -> None:
    agreement = AgreementFactory(reference="DPA-7", title="Processing", end_date=dt.date(2026, 6, 30), owner=owner)
    days = {95: [], 90: ["90"], 89: [], 31: [], 30: ["30"], 29: [], 8: [], 7: ["7"], 1: [], 0: []}
    for days_left, expected in days.items():
        with _at(agreement.end_date - dt.timedelta(days=days_left)):
            sent = tasks.send_reminders.delay().get()
            assert sent == len(expected), days_left
    assert _subjects(mailoutbox) == [
        "Reminder: DPA-7 ends in 90 days (30 June 2026)",
        "Reminder: DPA-7 ends in 30 days (30 June 2026)",
        "Reminder: DPA-7 ends in 7 days (30 June 2026)",
    ]
    assert list(SentReminder.objects.order_by("threshold").values_list("threshold", flat=True)) == [7, 30, 90]


def test_the_reminder_is_plain_text_to_the_ig_team_and_the_owner_with_a_link(mailoutbox, owner) -> None:
    agreement = AgreementFactory(reference="DPA-7", title="Processing", end_date=dt.date(2026, 6, 30), owner=owner)
    with _at(dt.date(2026, 6, 23)):
        reminders.reminders_send()
    [message] = mailoutbox
    assert sorted(message.to) == ["ig-team@example.nhs.uk", "owner@example.nhs.uk"]
    assert message.from_email == django_settings.DEFAULT_FROM_EMAIL
    assert message.content_subtype == "plain" and not getattr(message, "alternatives", [])
    assert "DPA-7: Processing" in message.body
    assert "ends on 30 June 2026, in 7 days." in message.body
    assert f"{SITE}/staff/agreements/{agreement.pk}/" in message.body
    assert f"{SITE}/staff/" in message.body


def test_a_first_run_close_to_the_end_sends_only_the_tightest_threshold(mailoutbox) -> None:
    AgreementFactory(reference="DSA-3", end_date=dt.date(2026, 6, 30))
    with _at(dt.date(2026, 6, 25)):
        reminders.reminders_send()
        reminders.reminders_send()
    assert _subjects(mailoutbox) == ["Reminder: DSA-3 ends in 5 days (30 June 2026)"]


def test_an_extended_agreement_is_reminded_again_about_its_new_end(mailoutbox) -> None:
    agreement = AgreementFactory(reference="DSA-3", end_date=dt.date(2026, 6, 30))
    with _at(dt.date(2026, 6, 25)):
        reminders.reminders_send()
    Agreement.objects.filter(pk=agreement.pk).update(end_date=dt.date(2026, 7, 2))
    with _at(dt.date(2026, 6, 26)):
        reminders.reminders_send()
    assert len(mailoutbox) == 2 and "2 July 2026" in mailoutbox[1].subject


def test_an_overdue_review_is_reminded_once(mailoutbox) -> None:
    AgreementFactory(reference="ISA-1", review_date=dt.date(2026, 5, 1), end_date=None)
    for day in (dt.date(2026, 5, 1), dt.date(2026, 5, 2), dt.date(2026, 5, 20)):
        with _at(day):
            reminders.reminders_send()
    assert _subjects(mailoutbox) == ["Reminder: ISA-1 review overdue since 1 May 2026"]


def test_a_failed_send_records_nothing_and_the_retry_sends_it(mailoutbox, monkeypatch) -> None:
    AgreementFactory(reference="DSA-3", end_date=dt.date(2026, 6, 30))
    AgreementFactory(reference="DSA-4", end_date=dt.date(2026, 6, 29))
    real_send = EmailMessage.send
    calls = []

    def flaky_send(self, fail_silently=False):
        calls.append(self.subject)
        if len(calls) == 2:
            raise OSError("Connection refused")
        return real_send(self, fail_silently)

    monkeypatch.setattr(EmailMessage, "send", flaky_send)
    with _at(dt.date(2026, 6, 25)):
        with pytest.raises(OSError):
            reminders.reminders_send()
        assert SentReminder.objects.count() == 1  # the first was sent and recorded; the failed one was not
        reminders.reminders_send()  # the retry
        reminders.reminders_send()  # and a re-run
    assert sorted(_subjects(mailoutbox)) == [
        "Reminder: DSA-3 ends in 5 days (30 June 2026)",
        "Reminder: DSA-4 ends in 4 days (29 June 2026)",
    ]
    assert SentReminder.objects.count() == 2


def test_nothing_is_recorded_when_nobody_would_receive_it(mailoutbox, settings) -> None:
    settings.IG_TEAM_EMAILS = []
    AgreementFactory(reference="DSA-3", end_date=dt.date(2026, 6, 30))
    with _at(dt.date(2026, 6, 25)):
        assert reminders.reminders_send() == []
    assert not mailoutbox and not SentReminder.objects.exists()
    settings.IG_TEAM_EMAILS = ["ig-team@example.nhs.uk"]
    with _at(dt.date(2026, 6, 25)):
        assert len(reminders.reminders_send()) == 1


def test_partner_assurance_about_to_lapse_and_lapsed(mailoutbox, owner) -> None:
    with _at(dt.date(2026, 5, 1)):
        partner = OrganisationFactory(name="Rutland County Council", ico_registration_expires=dt.date(2026, 6, 30))
        sub_licence = SubLicenceFactory(reference="SL/26/2", sub_licensee=partner, owner=owner)
        reminders.reminders_send()  # 61 days before 1 July, when it lapses: not yet
    with _at(dt.date(2026, 5, 2)):
        reminders.reminders_send()  # 60 days before
        reminders.reminders_send()
    with _at(dt.date(2026, 7, 2)):
        reminders.reminders_send()  # lapsed
        reminders.reminders_send()
    assert _subjects(mailoutbox) == [
        "Reminder: Rutland County Council: partner assurance lapses on 1 July 2026",
        "Reminder: Rutland County Council: partner assurance has lapsed",
    ]
    assert "SL/26/2" in mailoutbox[1].body and "ICO registration" in mailoutbox[1].body
    assert f"{SITE}/staff/organisations/{partner.pk}/" in mailoutbox[1].body
    assert "owner@example.nhs.uk" in mailoutbox[0].to
    assert sub_licence.pk


def test_linkages_about_to_stop_being_permitted_and_stopped(mailoutbox) -> None:
    icb = OrganisationFactory(kind=Organisation.Kind.ICB)
    provider, processor = OrganisationFactory(), OrganisationFactory(kind=Organisation.Kind.DATA_PROCESSOR)
    Role = Party.Role
    for kind, parties, end in [
        (Agreement.Kind.DPA, [(provider, Role.CONTROLLER), (processor, Role.PROCESSOR)], dt.date(2026, 6, 30)),
        (Agreement.Kind.DSA, [(icb, Role.RECIPIENT), (provider, Role.PROVIDER)], None),
        (Agreement.Kind.PROCESSOR_CONTRACT, [(icb, Role.CONTROLLER), (processor, Role.PROCESSOR)], None),
    ]:
        agreement = AgreementFactory(kind=kind, reference=f"{kind}-1", end_date=end)
        for organisation, role in parties:
            PartyFactory(agreement=agreement, organisation=organisation, role=role)
    linkage = Linkage.objects.create(
        title="Housing linkage",
        icb=icb,
        provider=provider,
        processor=processor,
        category=Dataset.Category.HOUSING,
        status=Linkage.Status.ACTIVE,
    )
    linkage.datasets.set([DatasetFactory(provider=provider, category=Dataset.Category.HOUSING)])
    linkage.purposes.set(PermittedPurpose.objects.filter(category="housing")[:1])
    with _at(dt.date(2026, 6, 10)):
        reminders.reminders_send()
    with _at(dt.date(2026, 7, 1)):
        services.linkages_recheck()
        reminders.reminders_send()
        reminders.reminders_send()
    subjects = _subjects(mailoutbox)
    assert "Reminder: Linkage “Housing linkage” stops being permitted after 30 June 2026" in subjects
    assert "Reminder: Linkage “Housing linkage” is no longer permitted" in subjects
    assert len([s for s in subjects if "Housing linkage" in s]) == 2
    assert f"{SITE}/staff/linkages/{linkage.pk}/" in mailoutbox[-1].body


def test_the_reminders_and_the_recheck_run_daily() -> None:
    schedule = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"agreements.tasks.send_reminders", "agreements.tasks.recheck_linkages"} <= schedule
