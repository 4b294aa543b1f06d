"""History: the private helpers every area of the services shares (snapshots, diffs, the audit entry,
validation), and the fields a service sets itself."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.text import capfirst

from agreements.dates import format_date
from agreements.models import Agreement, Linkage, Organisation
from audit.models import AuditEvent
from audit.services import Action, audit_record

__all__ = ["Action"]

# Fields a service sets itself; they never come from a form.
_AGREEMENT_SYSTEM_FIELDS = {
    "id",
    "reference",
    "status",
    "last_edited_by",
    "creation_key",
    "created_at",
    "updated_at",
}
_ORGANISATION_SYSTEM_FIELDS = {"id", "creation_key", "created_at", "updated_at"}


def _display(instance: models.Model, field: models.Field) -> str:
    value = getattr(instance, field.attname)
    if value in (None, ""):
        return ""
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.is_relation:
        return str(getattr(instance, field.name))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.date):
        return format_date(value)
    return str(value)


def _snapshot(instance: models.Model, m2m: Mapping[str, Iterable[models.Model]] | None = None) -> dict[str, str]:
    """What a person would read of the record: field label -> displayed value."""
    values = {
        capfirst(str(field.verbose_name)): _display(instance, field)
        for field in instance._meta.concrete_fields
        if field.editable and field.name not in _AGREEMENT_SYSTEM_FIELDS | _ORGANISATION_SYSTEM_FIELDS
    }
    for name, objects in (m2m or {}).items():
        values[name] = ", ".join(sorted(str(o) for o in objects))
    return values


def _diff(before: Mapping[str, str], after: Mapping[str, str]) -> dict[str, list[str]]:
    return {label: [before.get(label, ""), value] for label, value in after.items() if before.get(label, "") != value}


def _audit(
    *,
    actor: User | None,
    action: str,
    reason: str = "",
    agreement: Agreement | None = None,
    organisation: Organisation | None = None,
    linkage: Linkage | None = None,
    changes: Mapping[str, list[str]] | None = None,
) -> AuditEvent:
    return audit_record(
        actor=actor, action=action, subject=agreement or organisation or linkage, reason=reason, changes=changes
    )


def _agreement_relations(agreement: Agreement) -> dict[str, Iterable[models.Model]]:
    return {
        "Parties": agreement.parties.select_related("organisation"),
        "Datasets": agreement.datasets.all(),
        "Purposes": agreement.purposes.all(),
    }


def _validate(instance: models.Model) -> None:
    """Full model validation, with the error raised before anything is written."""
    instance.full_clean()


def _only_editable(fields: Mapping[str, Any], system: set[str]) -> dict[str, Any]:
    unknown = set(fields) & system
    if unknown:
        raise ValueError(f"These fields are set by the system, not by callers: {sorted(unknown)}")
    return dict(fields)


_Created = TypeVar("_Created", Agreement, Organisation, Linkage)


def _created_once(model: type[_Created], *, creation_key: uuid.UUID | None, create: Callable[[], _Created]) -> _Created:
    """Create a record once per creation key (the one-time key of a form): a repeat returns the first record.

    Two submits of one form can both find no record and both try to create it. The loser then fails on the
    creation key (the model's uniqueness check, or the unique index once the winner commits); its attempt is
    rolled back to a savepoint, taking any reference it allocated with it, and it answers with the winner's
    record. Any other failure is raised as it was."""
    if creation_key is None:
        return create()
    if existing := model._default_manager.filter(creation_key=creation_key).first():
        return existing
    try:
        with transaction.atomic():
            return create()
    except (IntegrityError, ValidationError):
        if existing := model._default_manager.filter(creation_key=creation_key).first():
            return existing
        raise
