"""The audit trail is append-only for the admin and, on PostgreSQL, for the database itself (the application's own
guards are in test_trail.py); only the retention task removes events, and only those past the retention period."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_prune, audit_record
from audit.tasks import prune_audit_events
from tests.conftest import ON_POSTGRES
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
Action = AuditEvent.Action


def _event(**fields: Any) -> AuditEvent:
    return audit_record(actor=None, action=Action.SIGNED_IN, reason="kept", **fields)


def test_the_admin_shows_events_read_only_even_to_a_superuser() -> None:
    event = _event()
    client = Client()
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    url = f"/admin/audit/auditevent/{event.pk}/change/"
    assert client.get(url).status_code == 200
    client.post(url, {"reason": "rewritten"})
    delete = f"/admin/audit/auditevent/{event.pk}/delete/"
    assert client.get(delete).status_code == 403
    client.post(delete, {"post": "yes"})
    assert AuditEvent.objects.get(pk=event.pk).reason == "kept"


@pytest.mark.skipif(not ON_POSTGRES, reason="the trigger is PostgreSQL's; .ci/run's second pass runs this")
def test_postgresql_refuses_update_and_delete_from_any_connection() -> None:
    event = _event()
    table = AuditEvent._meta.db_table
    for sql in (f"UPDATE {table} SET reason = 'rewritten' WHERE id = %s", f"DELETE FROM {table} WHERE id = %s"):  # noqa: S608
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).reason == "kept"


def test_retention_removes_only_events_past_the_period_and_says_so() -> None:
    now = timezone.now()
    with time_machine.travel(now - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS + 1), tick=False):
        old = _event()
    with time_machine.travel(now - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS - 1), tick=False):
        recent = _event()
    with time_machine.travel(now, tick=False):
        assert prune_audit_events.delay().get() == 1
        assert audit_prune() == 0
    assert not AuditEvent.objects.filter(pk=old.pk).exists()
    assert AuditEvent.objects.filter(pk=recent.pk).exists()
    record = AuditEvent.objects.get(action=Action.RETENTION_APPLIED)
    assert record.changes["Events removed"] == ["", "1"]


def test_retention_runs_daily() -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE["prune-audit-events-daily"]
    assert schedule["task"] == "audit.tasks.prune_audit_events"
