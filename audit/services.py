"""Writing to the audit trail. Every service of every domain records its action here, inside its own transaction,
so the record and its audit row are saved together or not at all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone

from audit.context import client_address
from audit.models import AuditEvent

Action = AuditEvent.Action


def audit_record(
    *,
    actor: User | None,
    action: str,
    subject: models.Model | None = None,
    reason: str = "",
    changes: Mapping[str, list[str]] | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """ip_address defaults to the address of the request being served, if any (see audit.context)."""
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        subject_type=ContentType.objects.get_for_model(subject) if subject is not None else None,
        subject_id=subject.pk if subject is not None else None,
        subject_label=str(subject)[:300] if subject is not None else "",
        reason=reason.strip(),
        changes=dict(changes or {}),
        ip_address=ip_address or client_address.get(),
    )


def audit_prune(*, now: dt.datetime | None = None) -> int:
    """Remove the events older than AUDIT_RETENTION_DAYS, the one deletion the trail allows, and record that it
    happened. Run daily by audit.tasks.prune_audit_events. On PostgreSQL the append-only trigger lets a DELETE
    through only inside this transaction (audit.pruning)."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS)
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL audit.pruning = 'on'")
            cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE at < %s", [cutoff])  # noqa: S608
            removed = cursor.rowcount
        if removed:
            audit_record(
                actor=None,
                action=Action.RETENTION_APPLIED,
                changes={"Events removed": ["", str(removed)], "Older than": ["", cutoff.date().isoformat()]},
            )
    return removed
