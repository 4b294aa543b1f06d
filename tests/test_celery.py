"""Tasks through a real broker and worker. Runs when CELERY_BROKER_URL names a real Redis (.ci/run's second
pass); tasks otherwise run in-process, which every other test relies on."""

import datetime as dt

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connections

from agreements.models import Agreement
from agreements.tasks import expire_agreements
from register.celery import app
from tests.factories import AgreementFactory


def _close_worker_connections(**kwargs: object) -> None:
    # The worker thread opened its own database connection; close it so the test database can be dropped.
    connections.close_all()


@pytest.fixture
def celery_worker():
    app.conf.task_always_eager = False
    task_postrun.connect(_close_worker_connections)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
            yield worker
    finally:
        task_postrun.disconnect(_close_worker_connections)


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
    result = expire_agreements.delay()
    assert result.get(timeout=60) == [ended.reference]
    ended.refresh_from_db()
    assert ended.status == Agreement.Status.EXPIRED
