import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from agreements import roles
from agreements.models import Agreement, Party
from publishing import pipeline, render, services
from publishing.models import Edition
from publishing.registers import period_of, register_kind
from tests.factories import OrganisationFactory, PurposeFactory, UserFactory
from tests.publishing.factories import (
    SEED_DAY,
    partner,
    publish,
    rows_of,
    seed_sub_licence,
    shared_agreement,
    statutory_return,
    sub_licence,
    sub_licence_register,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def approver():
    return UserFactory(username="approver", role=roles.IG_APPROVER)


@pytest.fixture
def officer():
    return UserFactory(username="officer", role=roles.IG_OFFICER)


def test_publishing_snapshots_the_rows_and_stores_four_files_with_size_and_hash() -> None:
    seed_sub_licence()
    edition = publish()
    assert edition.status == Edition.Status.PUBLISHED
    assert edition.slug == "2025-10-22" and edition.period == "2025/26 Q3"
    assert rows_of(edition) == [
        {
            "reference": "SL/25/1",
            "organisation": "Leicester City Council",
            "data_level": "Pseudonymised",
            "ods_code": "509",
        }
    ]
    files = {stored.format: stored for stored in edition.files.all()}
    assert set(files) == {"html", "pdf", "csv", "json"}
    for stored in files.values():
        data = stored.file.read()
        assert len(data) == stored.size
        assert render.RenderedFile(stored.format, data).sha256 == stored.sha256
    assert files["pdf"].file.name.endswith("sub-licence-release-register-2025-10-22.pdf")


def test_rows_are_active_public_sub_licences_ordered_by_year_then_number() -> None:
    for reference in ("SL/25/10", "SL/24/3", "SL/25/2"):
        sub_licence(reference=reference)
    sub_licence(reference="SL/25/3", is_public=False)
    sub_licence(reference="SL/25/4", status=Agreement.Status.DRAFT)
    sub_licence(reference="SL/25/5", start_date=dt.date(2020, 1, 1), end_date=dt.date(2021, 1, 1))
    edition = publish()
    assert [row["reference"] for row in rows_of(edition)] == ["SL/24/3", "SL/25/2", "SL/25/10"]


def test_rows_read_in_batches_keep_the_order_and_each_row_its_own_partners_and_purposes(monkeypatch) -> None:
    from publishing import registers

    # Created out of table order, some with two partners or purposes and one with none: the snapshot reads the
    # agreements, parties and purposes as three streams merged by key, a few rows at a time.
    for reference in ("SL/25/10", "SL/24/3", "SL/25/2", "SL/23/7", "SL/25/1"):
        agreement = sub_licence(reference=reference, sub_licensee=partner(name=f"Partner of {reference}"))
        if reference in ("SL/24/3", "SL/25/1"):
            second = partner(name=f"Second partner of {reference}")
            agreement.parties.create(organisation=second, role=Party.Role.SUB_LICENSEE)
        if reference != "SL/25/2":
            agreement.purposes.set([PurposeFactory(name=f"Purpose of {reference}"), PurposeFactory()])
    monkeypatch.setattr(registers, "SNAPSHOT_BATCH", 2)
    snapshot = register_kind("sub-licences").snapshot(on=SEED_DAY)
    assert [(row["reference"], row["organisation"]) for row in snapshot.rows] == [
        ("SL/23/7", "Partner of SL/23/7"),
        ("SL/24/3", "Partner of SL/24/3; Second partner of SL/24/3"),
        ("SL/25/1", "Partner of SL/25/1; Second partner of SL/25/1"),
        ("SL/25/2", "Partner of SL/25/2"),
        ("SL/25/10", "Partner of SL/25/10"),
    ]
    for reference, entry in snapshot.entries.items():
        assert all(party["name"].endswith(f"of {reference}") for party in entry["parties"] if "artner" in party["name"])
        assert (f"Purpose of {reference}" in entry["purposes"]) == (reference != "SL/25/2")
        assert len(entry["purposes"]) == (0 if reference == "SL/25/2" else 2)


def test_an_edition_s_rows_are_stored_and_read_back_a_batch_at_a_time_in_table_order(monkeypatch) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from publishing import models

    # Created out of table order: the database gives the rows back in the register's (SL/25/2 before SL/25/10).
    for reference in ("SL/25/10", "SL/24/3", "SL/25/2", "SL/23/7", "SL/25/1"):
        sub_licence(reference=reference)
    monkeypatch.setattr(services, "ROW_BATCH", 2)
    monkeypatch.setattr(models, "ROW_BATCH", 2)
    with CaptureQueriesContext(connection) as queries:
        edition, attempt = services.edition_start(register=sub_licence_register(), on=SEED_DAY, trigger="command")
    # One executemany per batch (recorded as "N times: INSERT ...").
    inserts = [query for query in queries if 'INSERT INTO "publishing_editionrow"' in query["sql"]]
    assert len(inserts) == 3 and edition.row_count == 5
    expected = register_kind("sub-licences").snapshot(on=SEED_DAY)
    stored = edition.stored_rows()
    assert len(stored) == 5 and list(stored) == expected.rows == rows_of(edition)
    assert [row["reference"] for row in expected.rows] == ["SL/23/7", "SL/24/3", "SL/25/1", "SL/25/2", "SL/25/10"]
    # What each reader asks for of the entries: all of them (JSON), whether a row has one (HTML), or nothing (CSV).
    assert [entry for _, entry in stored.pairs()] == [expected.entries[row["reference"]] for row in expected.rows]
    assert [entry for _, entry in stored.reading("keys").pairs()] == [{}] * 5
    assert [entry for _, entry in stored.reading("none").pairs()] == [None] * 5
    assert list(stored.references()) == [row["reference"] for row in expected.rows]
    with pytest.raises(ValueError, match="entries must be one of"):
        stored.reading("some")
    assert edition.entry("SL/25/2") == expected.entries["SL/25/2"] and edition.entry("SL/99/1") is None
    # A snapshot is taken once: the render that follows (and any later attempt) reads the stored rows.
    services.edition_render_here(edition_id=edition.pk, attempt=attempt)
    edition.refresh_from_db()
    assert edition.status == Edition.Status.PUBLISHED and rows_of(edition) == expected.rows


@pytest.mark.parametrize("register", ["sub-licences", "information-sharing"])
def test_a_snapshot_reads_the_same_rows_and_entries_as_the_agreements_themselves_give(register: str) -> None:
    """The snapshot reads records of the public fields, not Agreement instances, which an amendment's preview of
    its effect on an edition uses: both give the same rows and entries, every field filled in."""
    from publishing import registers

    purposes = [PurposeFactory(name="Population health management"), PurposeFactory(name="Commissioning")]
    if register == "sub-licences":
        agreement = seed_sub_licence(summary="Linked data for the city's population health.", review_date=SEED_DAY)
        agreement.purposes.set(purposes)
    else:
        agreement = statutory_return()
        shared_agreement(purposes=purposes, article_9_condition=Agreement.Article9.HEALTH_SOCIAL_CARE)
    kind = register_kind(register)
    snapshot = kind.snapshot(on=SEED_DAY)
    expected = sorted(kind.selection(on=SEED_DAY), key=lambda agreement: agreement.pk)
    assert len(snapshot.rows) == len(expected) >= 1
    for agreement in expected:
        assert {**kind.row(agreement), "reference": agreement.reference} in snapshot.rows
        assert snapshot.entries[agreement.reference] == registers.public_entry(agreement)


def test_a_published_edition_does_not_change_when_the_data_does() -> None:
    agreement = seed_sub_licence()
    edition = publish()
    sha = edition.files.get(format="pdf").sha256
    agreement.parties.update(organisation=OrganisationFactory(name="Someone Else"))
    edition.refresh_from_db()
    assert rows_of(edition)[0]["organisation"] == "Leicester City Council"
    assert edition.files.get(format="pdf").sha256 == sha


def test_the_scheduled_run_publishes_once_per_quarter_however_often_it_runs() -> None:
    seed_sub_licence()
    register = sub_licence_register()
    first = services.edition_publish(register=register, on=SEED_DAY)
    again = services.edition_publish(register=register, on=SEED_DAY + dt.timedelta(days=3))
    assert again.pk == first.pk
    assert Edition.objects.filter(register=register).count() == 1
    assert first.trigger == Edition.Trigger.SCHEDULED and first.published_by_label == "Scheduled"
    next_quarter = services.edition_publish(register=register, on=dt.date(2026, 1, 1))
    assert next_quarter.pk != first.pk and next_quarter.period == "2025/26 Q4"
    assert Edition.objects.filter(register=register, status=Edition.Status.PUBLISHED).count() == 2


def test_a_render_abandoned_by_a_killed_worker_is_completed_by_the_rerun(monkeypatch) -> None:
    seed_sub_licence()
    register = sub_licence_register()
    key, label = period_of(SEED_DAY, register.cadence)
    # What a worker killed mid-render leaves behind: a rendering edition whose lease has run out.
    stale = Edition.objects.create(
        register=register,
        slug="2025-10-22",
        trigger=Edition.Trigger.SCHEDULED,
        last_updated=SEED_DAY,
        period=label,
        scheduled_period=key,
        claimed_until=timezone.now() - dt.timedelta(minutes=1),
    )
    edition = services.edition_publish(register=register, on=SEED_DAY)
    assert edition.pk == stale.pk and edition.status == Edition.Status.PUBLISHED
    assert edition.row_count == 1


def test_a_render_another_worker_is_doing_is_left_alone(monkeypatch) -> None:
    register = sub_licence_register()
    key, label = period_of(SEED_DAY, register.cadence)
    busy = Edition.objects.create(
        register=register,
        slug="2025-10-22",
        trigger=Edition.Trigger.SCHEDULED,
        last_updated=SEED_DAY,
        period=label,
        scheduled_period=key,
        claimed_until=timezone.now() + dt.timedelta(minutes=5),
    )
    monkeypatch.setattr(pipeline, "render_piece", lambda key: pytest.fail("rendered twice"))
    assert services.edition_publish(register=register, on=SEED_DAY).pk == busy.pk
    busy.refresh_from_db()
    assert busy.status == Edition.Status.RENDERING


def test_a_failed_render_leaves_the_previous_edition_current_and_emails_approvers(
    monkeypatch, approver, settings, django_capture_on_commit_callbacks
) -> None:
    settings.IG_TEAM_EMAILS = ["ig-team@example.nhs.uk"]
    seed_sub_licence()
    previous = publish(on=dt.date(2025, 7, 1))

    real = pipeline.render_piece

    def broken(key):
        raise RuntimeError("Pango could not load a font")

    monkeypatch.setattr(pipeline, "render_piece", broken)
    with django_capture_on_commit_callbacks(execute=True):
        failed = services.edition_publish(register=sub_licence_register(), on=SEED_DAY)
    assert failed.status == Edition.Status.FAILED
    assert "Pango could not load a font" in failed.error
    assert not failed.files.exists()
    from publishing import selectors

    assert selectors.edition_current(register=failed.register).pk == previous.pk
    assert len(mail.outbox) == 1
    assert set(mail.outbox[0].to) == {"approver@example.nhs.uk", "ig-team@example.nhs.uk"}
    assert "failed" in mail.outbox[0].subject
    # Once fixed, running the job again completes the same quarter's edition.
    monkeypatch.setattr(pipeline, "render_piece", real)
    retried = services.edition_publish(register=failed.register, on=SEED_DAY)
    assert retried.pk == failed.pk and retried.status == Edition.Status.PUBLISHED


def test_withdrawal_makes_the_previous_edition_current_and_keeps_the_record(approver) -> None:
    from publishing import selectors

    seed_sub_licence()
    first = publish(on=dt.date(2025, 7, 1))
    second = publish(on=SEED_DAY)
    register = first.register
    assert selectors.edition_current(register=register).pk == second.pk
    withdrawn = services.edition_withdraw(actor=approver, edition=second, reason="Wrong partner name")
    assert withdrawn.status == Edition.Status.WITHDRAWN
    assert withdrawn.withdrawn_by == approver and withdrawn.withdrawal_reason == "Wrong partner name"
    assert withdrawn.withdrawn_at is not None and withdrawn.files.count() == 4
    assert selectors.edition_current(register=register).pk == first.pk
    # A second press (a double click, or two approvers at once) finds it withdrawn, as asked: no error, no change.
    again = services.edition_withdraw(actor=UserFactory(role=roles.IG_APPROVER), edition=second, reason="Again")
    assert again.pk == second.pk and again.withdrawal_reason == "Wrong partner name" and again.withdrawn_by == approver
    preview = services.edition_preview(actor=approver, register=register)
    with pytest.raises(ValidationError, match="Only a published edition"):
        services.edition_withdraw(actor=approver, edition=preview, reason="Again")


def test_withdrawal_needs_a_reason_and_an_approver(approver, officer) -> None:
    seed_sub_licence()
    edition = publish()
    with pytest.raises(ValidationError, match="Enter why"):
        services.edition_withdraw(actor=approver, edition=edition, reason="  ")
    with pytest.raises(PermissionDenied):
        services.edition_withdraw(actor=officer, edition=edition, reason="No")
    edition.refresh_from_db()
    assert edition.status == Edition.Status.PUBLISHED


def test_publish_now_is_for_approvers_and_runs_the_task(approver, officer, django_capture_on_commit_callbacks) -> None:
    seed_sub_licence()
    register = sub_licence_register()
    with pytest.raises(PermissionDenied):
        services.edition_request(actor=officer, register=register)
    # Without a broker the task runs in-process as soon as the request is recorded.
    edition = services.edition_request(actor=approver, register=register)
    assert edition.status == Edition.Status.PUBLISHED
    assert edition.trigger == Edition.Trigger.STAFF and edition.published_by_label == "approver"


def test_a_preview_renders_but_is_never_published(officer) -> None:
    from publishing import selectors

    seed_sub_licence()
    preview = services.edition_preview(actor=officer, register=sub_licence_register())
    assert preview.status == Edition.Status.DRAFT and preview.files.count() == 4
    assert selectors.edition_current(register=preview.register) is None
    with pytest.raises(ValidationError, match="never published"):
        services.edition_publish(register=preview.register, edition_id=preview.pk)


def test_register_wording_is_edited_by_the_ig_team_and_reaches_only_the_next_edition(officer) -> None:
    seed_sub_licence()
    first = publish(on=dt.date(2025, 7, 1))
    register = services.register_update(
        actor=officer, register=first.register, fields={"introduction": "  New words.  ", "contact_email": "ig@nhs.net"}
    )
    assert register.introduction == "New words." and register.updated_by == officer
    first.refresh_from_db()
    assert first.metadata["introduction"] != "New words."
    assert publish(on=SEED_DAY).metadata["introduction"] == "New words."
    with pytest.raises(ValidationError):
        services.register_update(actor=officer, register=register, fields={"contact_email": "not an address"})
    with pytest.raises(ValidationError, match="cannot be changed"):
        services.register_update(actor=officer, register=register, fields={"slug": "other"})
    auditor = UserFactory(role=roles.AUDITOR)
    with pytest.raises(PermissionDenied):
        services.register_update(actor=auditor, register=register, fields={"introduction": "x"})


def test_every_sentence_of_the_pdf_that_is_the_ig_teams_own_is_edited_audited_and_frozen_per_edition(
    officer,
) -> None:
    from audit.models import AuditEvent

    seed_sub_licence()
    first = publish(on=dt.date(2025, 7, 1))
    wording = {
        "heading": "Sub Licensing Release Register",
        "table_lead": "Our list of current Sub Licensees is below.",
        "privacy_notice_sentence": "For more, please refer to our Public Privacy Notice",
        "privacy_notice_title": "Privacy-Notice-v1.7.pdf",
        "team_name": "Corporate Governance Team",
        "contact_sentence": "Questions? Contact the {team} at:",
    }
    register = services.register_update(actor=officer, register=first.register, fields=wording)
    event = AuditEvent.objects.filter(action="register_changed").latest("pk")
    assert "Team to contact" in event.changes and "Contact sentence" in event.changes
    second = publish(on=SEED_DAY)
    content = services.edition_content(second)
    assert content.heading == "Sub Licensing Release Register"
    assert content.contact_text == "Questions? Contact the Corporate Governance Team at:"
    assert content.privacy_notice_title == "Privacy-Notice-v1.7.pdf" and content.table_lead == wording["table_lead"]
    # The earlier edition keeps the wording it was published with.
    first.refresh_from_db()
    assert services.edition_content(first).contact_text != content.contact_text
    assert first.metadata["team_name"] != "Corporate Governance Team"
    with pytest.raises(ValidationError) as error:
        services.register_update(
            actor=officer, register=register, fields={"team_name": "", "contact_sentence": "Ask the {team}."}
        )
    assert "team_name" in error.value.message_dict


def test_a_second_edition_on_the_same_day_gets_its_own_permanent_slug() -> None:
    seed_sub_licence()
    assert publish().slug == "2025-10-22"
    assert publish().slug == "2025-10-22-2"


def test_periods_follow_the_financial_year() -> None:
    assert period_of(dt.date(2025, 10, 22), "quarterly") == ("2025-26-Q3", "2025/26 Q3")
    assert period_of(dt.date(2026, 3, 31), "quarterly") == ("2025-26-Q4", "2025/26 Q4")
    assert period_of(dt.date(2025, 4, 1), "quarterly") == ("2025-26-Q1", "2025/26 Q1")
    assert period_of(dt.date(2025, 4, 1), "annually") == ("2025-26", "2025/26")


def test_a_scheduled_edition_that_leaves_rows_out_emails_them_with_why(
    approver, settings, django_capture_on_commit_callbacks
) -> None:
    from agreements.models import Organisation
    from tests.publishing.factories import partner

    settings.IG_TEAM_EMAILS = ["ig-team@example.nhs.uk"]
    lapsing = partner(name="Lapsing Partner", ods_code="LP1")
    seed_sub_licence()
    sub_licence(reference="SL/25/2", sub_licensee=lapsing)
    with django_capture_on_commit_callbacks(execute=True):
        publish(on=dt.date(2025, 7, 1), trigger=Edition.Trigger.SCHEDULED)
    assert mail.outbox == []  # the first edition leaves nothing out
    Organisation.objects.filter(pk=lapsing.pk).update(dspt_status=Organisation.DsptStatus.NOT_MET)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.edition_publish(register=sub_licence_register(), on=SEED_DAY)
    assert second.status == Edition.Status.PUBLISHED and second.trigger == Edition.Trigger.SCHEDULED
    [message] = mail.outbox
    assert set(message.to) == {"approver@example.nhs.uk", "ig-team@example.nhs.uk"}
    assert message.subject == "Sub Licence Release Register: the 2025/26 Q3 edition left out 1 entry"
    reason = second.metadata["removal_notes"]["SL/25/2"]
    assert f"- SL/25/2: {reason}" in message.body
    assert f"/staff/registers/sub-licences/editions/{second.pk}/" in message.body


def test_an_edition_an_approver_confirmed_sends_no_email_about_the_rows_it_left_out(
    approver, settings, django_capture_on_commit_callbacks
) -> None:
    settings.IG_TEAM_EMAILS = ["ig-team@example.nhs.uk"]
    seed_sub_licence()
    dropped = sub_licence(reference="SL/25/2")
    publish(on=dt.date(2025, 7, 1))
    Agreement.objects.filter(pk=dropped.pk).update(status=Agreement.Status.TERMINATED)
    with django_capture_on_commit_callbacks(execute=True):
        publish(trigger=Edition.Trigger.STAFF)
    assert mail.outbox == []
