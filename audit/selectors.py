"""Reading the audit trail."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from audit.models import AuditEvent


def audit_events_for(*, subject: models.Model) -> QuerySet[AuditEvent]:
    """One record's history, newest first."""
    return AuditEvent.objects.filter(
        subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk
    ).select_related("actor")


def audit_events_by_actor(*, user: User) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(actor=user).select_related("subject_type").prefetch_related("subject")
