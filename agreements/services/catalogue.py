"""The catalogue the agreements refer to: datasets and purposes. Saved here, with an audit row, whoever edits
them (the admin included)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from agreements.models import Dataset, Purpose
from agreements.services._history import Action, _diff, _snapshot, _validate
from audit.services import audit_record


@transaction.atomic
def catalogue_save(*, actor: User | None, record: Dataset | Purpose, reason: str = "") -> Dataset | Purpose:
    """Create or change a dataset or purpose, validated, with one audit row saying what changed."""
    before = _snapshot(type(record).objects.select_for_update().get(pk=record.pk)) if record.pk else {}
    _validate(record)
    record.save()
    changes = _diff(before, _snapshot(record))
    if changes:
        action = Action.UPDATED if before else Action.CREATED
        audit_record(actor=actor, action=action, subject=record, reason=reason, changes=changes)
    return record
