"""Publication that never sticks and never doubles: a dead worker, a broker that is down, a double click, a preview
that must not render inside the request, and retries of what is transient only. The real-worker version of the
dead worker is tests/publishing/test_worker_kill.py."""

from __future__ import annotations

import ast
import datetime as dt
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections
from django.urls import reverse
from django.utils import timezone

from agreements import roles
from publishing import services, tasks
from publishing.models import Edition
from register.celery import app
from tests.conftest import ON_POSTGRES
from tests.factories import UserFactory
from tests.publishing.factories import publish, seed_sub_licence, sub_licence_register

pytestmark = pytest.mark.django_db

PUBLISH_URL = "/staff/registers/sub-licences/publish/"
PREVIEW_URL = "/staff/registers/sub-licences/preview/"


@contextmanager
def broker(url: str) -> Iterator[None]:
    """Tasks go to the broker at `url` instead of running in-process (the app drops its connection pools, as it
    does after a fork, so that the next task sent connects there)."""
    names = ("broker_url", "broker_write_url", "broker_read_url", "task_always_eager")
    previous = {name: app.conf[name] for name in names}
    app.conf.update(broker_url=url, broker_write_url=url, broker_read_url=url, task_always_eager=False)
    app._after_fork()
    try:
        yield
    finally:
        app.conf.update(previous)
        app._after_fork()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def approver(client):
    # The register's row comes from a data migration, which a transactional test before this one may have flushed.
    sub_licence_register()
    user = UserFactory(username="approver", role=roles.IG_APPROVER)
    client.force_login(user)
    return user


def _edition_url(edition: Edition) -> str:
    return reverse("staff:edition", args=[edition.register.slug, edition.pk])


# Broker down -------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("url", [PUBLISH_URL, PREVIEW_URL])
def test_with_the_broker_down_publish_and_preview_say_so_within_seconds_and_leave_no_edition(
    client, approver, url
) -> None:
    sub_licence_register()
    with broker(f"redis://127.0.0.1:{closed_port()}/0"):
        started = time.monotonic()
        response = client.post(url, {"request_key": str(uuid.uuid4())}, follow=True)
        elapsed = time.monotonic() - started
    assert elapsed < 8, elapsed
    assert response.status_code == 200
    # Back to the page whose form was pressed: the register's (Preview), or Before you publish (Publish now).
    expected = "/staff/registers/sub-licences/next/" if url == PUBLISH_URL else "/staff/registers/sub-licences/"
    assert response.redirect_chain[-1][0] == expected
    assert "The task queue is not answering; nothing was published." in response.content.decode()
    # No edition left rendering with no task behind it, and the day's slug is still free.
    assert not Edition.objects.exists()


# Double click ------------------------------------------------------------------------------------------------


def test_two_presses_of_the_same_publish_form_make_one_edition_and_land_on_its_page(client, approver) -> None:
    seed_sub_licence()
    form = {"request_key": str(uuid.uuid4())}
    first = client.post(PUBLISH_URL, form)
    second = client.post(PUBLISH_URL, form)
    edition = Edition.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == _edition_url(edition)
    assert edition.status == Edition.Status.PUBLISHED


def test_publish_now_while_an_edition_renders_lands_on_that_edition(client, approver) -> None:
    seed_sub_licence()
    with broker("memory://"):
        first = client.post(PUBLISH_URL, {"request_key": str(uuid.uuid4())})
        # Another approver, another form, while the first is still with the workers.
        second = client.post(PUBLISH_URL, {"request_key": str(uuid.uuid4())})
    edition = Edition.objects.get()
    assert first["Location"] == second["Location"] == _edition_url(edition)
    assert edition.status == Edition.Status.RENDERING


@pytest.mark.skipif(not ON_POSTGRES, reason="real concurrency needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_presses_of_publish_now_make_one_edition(approver) -> None:
    from django.test import Client

    seed_sub_licence()
    form = {"request_key": str(uuid.uuid4())}
    barrier = threading.Barrier(2)
    locations: list[str] = []

    def press() -> None:
        client = Client()
        client.force_login(approver)
        barrier.wait()
        try:
            locations.append(client.post(PUBLISH_URL, form)["Location"])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    edition = Edition.objects.get()
    assert locations == [_edition_url(edition)] * 2
    assert edition.status == Edition.Status.PUBLISHED


def test_two_presses_of_withdraw_both_land_on_the_withdrawn_edition(client, approver) -> None:
    seed_sub_licence()
    edition = publish()
    url = reverse("staff:edition_withdraw", args=["sub-licences", edition.pk])
    first = client.post(url, {"reason": "Wrong partner name"})
    second = client.post(url, {"reason": "Wrong partner name"})
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == _edition_url(edition)
    edition.refresh_from_db()
    assert edition.status == Edition.Status.WITHDRAWN and edition.withdrawal_reason == "Wrong partner name"


# Preview -----------------------------------------------------------------------------------------------------


def test_a_preview_is_rendered_by_a_worker_and_its_page_follows_the_progress(client, approver) -> None:
    seed_sub_licence()
    with broker("memory://"):
        response = client.post(PREVIEW_URL, {"request_key": str(uuid.uuid4())})
    preview = Edition.objects.get()
    # Nothing was rendered inside the request: the preview waits for a worker.
    assert preview.status == Edition.Status.RENDERING and not preview.files.exists()
    assert response["Location"] == _edition_url(preview)
    page = client.get(_edition_url(preview)).content.decode()
    assert "The edition is being rendered" in page and "Waiting for a worker" in page
    # What the worker does with the message.
    tasks.publish_edition.apply(kwargs={"edition_id": preview.pk})
    preview.refresh_from_db()
    assert preview.status == Edition.Status.DRAFT and preview.files.count() == 4
    assert preview.slug == f"preview-{preview.pk}"


# Dead workers ------------------------------------------------------------------------------------------------


def test_an_edition_whose_worker_died_is_published_by_the_sweep_exactly_once(settings) -> None:
    seed_sub_licence()
    register = sub_licence_register()
    # A worker claimed the edition and died: nothing renewed its lease.
    edition, attempt = services.edition_start(register=register, on=dt.date(2025, 10, 22))
    assert attempt == 1
    # The redelivered message finds the lease held and leaves the edition alone, as it must while a worker lives.
    assert tasks.publish_edition.apply(kwargs={"edition_id": edition.pk}).get() == edition.pk
    edition.refresh_from_db()
    assert edition.status == Edition.Status.RENDERING
    assert tasks.sweep_publications.apply().get() == []

    Edition.objects.filter(pk=edition.pk).update(claimed_until=timezone.now() - dt.timedelta(seconds=1))
    assert tasks.sweep_publications.apply().get() == [edition.pk]
    edition.refresh_from_db()
    assert edition.status == Edition.Status.PUBLISHED and edition.attempt == 2
    published_at, files = edition.published_at, sorted(edition.files.values_list("pk", flat=True))

    # The dead attempt comes back (its worker was only stuck): it may not publish again.
    services.edition_finish(edition_id=edition.pk, attempt=attempt)
    edition.refresh_from_db()
    assert edition.published_at == published_at
    assert sorted(edition.files.values_list("pk", flat=True)) == files
    assert Edition.objects.count() == 1


def test_the_staff_page_says_what_is_happening_while_an_edition_renders(client, approver) -> None:
    seed_sub_licence()
    edition, _ = services.edition_start(register=sub_licence_register(), on=dt.date(2025, 10, 22))
    Edition.objects.filter(pk=edition.pk).update(parts_done=3, parts_total=9)
    status_url = reverse("staff:edition_status", args=["sub-licences", edition.pk])
    assert "3 of 9 parts rendered." in client.get(_edition_url(edition)).content.decode()
    assert client.get(status_url).json()["progress"] == "3 of 9 parts rendered."
    Edition.objects.filter(pk=edition.pk).update(claimed_until=timezone.now() - dt.timedelta(seconds=1))
    assert "stopped answering" in client.get(status_url).json()["progress"]


def test_the_sweep_runs_from_beat_within_the_recovery_time(settings) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-publications"]
    assert entry["task"] == "publishing.tasks.sweep_publications"
    # Lease plus sweep interval plus the render: within five minutes of a worker being there again.
    assert entry["schedule"] + settings.PUBLISH_LEASE_SECONDS <= 180
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= 300


# Retries -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("error", [IntegrityError("duplicate key value"), ValidationError("not valid")])
def test_errors_that_would_fail_again_are_not_retried(monkeypatch, error) -> None:
    calls = []

    def failing(**kwargs):
        calls.append(kwargs)
        raise error

    monkeypatch.setattr(services, "register_ensure", failing)
    with pytest.raises(type(error)):
        tasks.publish_edition.apply(kwargs={"register": "sub-licences"}).get()
    assert len(calls) == 1


def test_services_do_not_import_tasks() -> None:
    """tasks -> services, never back: services send a task by name."""
    source = Path(services.__file__).read_text()
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    imported |= {
        f"{node.module}.{alias.name}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert not {name for name in imported if name and name.startswith("publishing.tasks")}
