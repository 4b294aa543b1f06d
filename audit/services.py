"""Writing to the audit trail. Every service of every domain records its action here, inside its own transaction,
so the record and its audit row are saved together or not at all."""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import models

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
