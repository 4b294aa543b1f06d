"""Tasks through a real broker and worker. Runs when CELERY_BROKER_URL names a real Redis (.ci/run's second
pass); tasks otherwise run in-process, which every other test relies on."""

import datetime as dt

import pytest

from agreements.models import Agreement
from agreements.tasks import expire_agreements
from audit.models import AuditEvent
from register.celery import app
from tests.factories import AgreementFactory


def test_tasks_run_in_process_without_a_broker(settings) -> None:
    if settings.CELERY_BROKER_URL != "memory://":
        pytest.skip("a broker is configured")
    assert app.conf.task_always_eager is True


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_task_runs_end_to_end_through_the_broker(celery_worker) -> None:
    assert app.conf.broker_url.startswith("redis://")
    ended = AgreementFactory(
        status=Agreement.Status.ACTIVE, start_date=dt.date(2020, 1, 1), end_date=dt.date(2021, 1, 1)
    )
    expired = expire_agreements.delay().get(timeout=60)
    ended.refresh_from_db()
    # If something else expired it first, its audit trail says so.
    assert expired == [ended.reference], (ended.status, list(AuditEvent.objects.filter(subject_id=ended.pk).values()))
    assert ended.status == Agreement.Status.EXPIRED


def test_each_worker_process_keeps_the_collector_off_what_it_imported() -> None:
    """publishing.pipeline.settle_worker, as a prefork worker process starts (chunks render faster)."""
    import gc
    import weakref

    from celery.signals import worker_process_init

    class Node:
        pass

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    gc.disable()
    try:
        # Garbage (a cycle no one refers to) is collected, not frozen with the rest.
        garbage = Node()
        garbage.itself = garbage  # type: ignore[attr-defined]
        alive = weakref.ref(garbage)
        del garbage
        worker_process_init.send(sender=None)
        assert gc.get_freeze_count() > 0
        assert alive() is None
    finally:
        gc.enable()
        gc.unfreeze()
