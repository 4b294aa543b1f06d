"""The publishing job: the beat schedule, the thin task, and a real worker through Redis when one is configured."""

import datetime as dt
import time

import pytest
from celery.exceptions import Retry
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from agreements import rules
from publishing import pipeline, services, tasks
from publishing.models import Edition
from register.celery import app
from tests.publishing import pdf_structure
from tests.publishing.factories import SEED_DAY, partner, rows_of, seed_sub_licence, sub_licence_register


def test_beat_publishes_quarterly_at_six_in_the_morning_london_time() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["publish-sub-licence-register-quarterly"]
    assert entry["task"] == "publishing.tasks.publish_edition"
    assert entry["kwargs"] == {"register": "sub-licences"}
    schedule = entry["schedule"]
    assert schedule.hour == {6} and schedule.minute == {0}
    assert schedule.day_of_month == {1} and schedule.month_of_year == {1, 4, 7, 10}
    assert settings.CELERY_TIMEZONE == "Europe/London"


@pytest.mark.django_db
def test_the_task_is_thin_and_idempotent() -> None:
    seed_sub_licence()
    first = tasks.publish_edition.delay(register="sub-licences").get()
    second = tasks.publish_edition.delay(register="sub-licences").get()
    assert first == second
    assert Edition.objects.filter(status=Edition.Status.PUBLISHED).count() == 1


@pytest.mark.django_db
def test_transient_database_errors_are_retried(monkeypatch) -> None:
    seed_sub_licence()
    calls = []
    real = services.edition_start

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("could not connect to server")
        return real(**kwargs)

    monkeypatch.setattr(services, "edition_start", flaky)
    # In-process, Celery reports the retry it schedules; a worker would run it after the backoff.
    with pytest.raises(Retry):
        tasks.publish_edition.apply(kwargs={"register": "sub-licences"}).get()
    assert not Edition.objects.filter(status=Edition.Status.PUBLISHED).exists()
    assert tasks.publish_edition.apply(kwargs={"register": "sub-licences"}).get()
    assert len(calls) == 2
    assert Edition.objects.filter(status=Edition.Status.PUBLISHED).count() == 1


@pytest.mark.django_db
def test_the_chord_s_piece_tasks_build_the_segments_that_its_finish_joins(settings) -> None:
    # The parts a worker runs, one by one: each piece's task builds its segment, the finish only joins them.
    settings.PUBLISH_CHUNK_ROWS = 1
    seed_sub_licence()
    seed_sub_licence(reference="SL/25/2")
    edition, attempt = services.edition_start(register=sub_licence_register(), on=SEED_DAY)
    missing = services.edition_plan(edition_id=edition.pk, attempt=attempt)
    assert [slot for _, slot in missing] == [0, 1, 2]
    for key, slot in missing:
        tasks.render_piece.apply(args=(edition.pk, attempt, key, slot)).get()
    for fmt in pipeline.TEXT_FORMATS:
        tasks.render_format.apply(args=(edition.pk, attempt, fmt)).get()
    assert pipeline.missing_segments([key for key, _ in missing]) == []
    tasks.finish_edition.apply(args=(edition.pk, attempt)).get()
    edition.refresh_from_db()
    assert edition.status == Edition.Status.PUBLISHED, edition.error
    data = edition.files.get(format="pdf").file.read()
    assert pdf_structure.check(data).body_rows == 2


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_publishes_through_redis(celery_worker) -> None:
    assert app.conf.broker_url.startswith("redis://")
    # The worker publishes for today, so the partner's DSPT assessment must be today's.
    lcc = partner(
        name="Leicester City Council", ods_code="509", dspt_assessment_year=rules.dspt_year(timezone.localdate())
    )
    seed_sub_licence(start_date=dt.date(2024, 4, 1), sub_licensee=lcc)
    register = sub_licence_register()
    # The task hands the edition's parts to the worker as a chord and returns; the edition says when it is done.
    tasks.publish_edition.delay(register_id=register.pk)
    deadline = time.monotonic() + 120
    while not Edition.objects.filter(status=Edition.Status.PUBLISHED).exists():
        assert time.monotonic() < deadline, list(Edition.objects.values("status", "parts_done", "parts_total", "error"))
        time.sleep(0.2)
    edition = Edition.objects.get()
    assert [row["reference"] for row in rows_of(edition)] == ["SL/25/1"]
    assert edition.files.count() == 4 and edition.parts_done == edition.parts_total
    # Again, as a retry or a second beat would: nothing changes.
    assert tasks.publish_edition.apply(kwargs={"register_id": register.pk}).get() == edition.pk
    assert Edition.objects.count() == 1
