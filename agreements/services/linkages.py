"""Linkages of non-health data: recording them, activating them once their checklist is ticked, closing them,
and the daily recheck."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from agreements import selectors
from agreements.models import Dataset, Linkage, Organisation, PermittedPurpose
from agreements.services._history import Action, _audit, _created_once, _diff, _only_editable, _snapshot, _validate

LinkageStatus = Linkage.Status
_LINKAGE_SYSTEM_FIELDS = {"id", "status", "creation_key", "created_at", "updated_at"}


def _linkage_relations(linkage: Linkage) -> dict[str, Iterable[models.Model]]:
    return {"Datasets": linkage.datasets.all(), "Purposes": linkage.purposes.all()}


def _check_linkage(linkage: Linkage) -> None:
    """Field validation, then the organisations: an ICB as the ICB, and three different organisations."""
    errors: dict[str, list[str]] = {}
    try:
        _validate(linkage)
    except ValidationError as error:
        errors = error.message_dict
    if linkage.icb_id and "icb" not in errors and linkage.icb.kind != Organisation.Kind.ICB:
        errors["icb"] = [f"{linkage.icb.name} is not an integrated care board: choose the ICB"]
    if linkage.provider_id and linkage.provider_id in {linkage.icb_id, linkage.processor_id}:
        errors.setdefault("provider", []).append(
            "The provider must be a different organisation from the ICB and the data processor"
        )
    if linkage.processor_id and linkage.processor_id == linkage.icb_id:
        errors.setdefault("processor", []).append("The data processor must be a different organisation from the ICB")
    if errors:
        raise ValidationError(errors)


def _set_linkage_relations(
    linkage: Linkage, *, datasets: Iterable[Dataset] | None, purposes: Iterable[PermittedPurpose] | None
) -> None:
    # Purposes of another category are refused here, not only flagged by the checklist: they cannot be chosen.
    if purposes is not None:
        purposes = list(purposes)
        if wrong := [p for p in purposes if p.category != linkage.category]:
            raise ValidationError(
                {
                    "purposes": f"NHS England does not permit this purpose for {linkage.get_category_display()} "
                    f"data: {wrong[0]}"
                }
            )
        linkage.purposes.set(purposes)
    if datasets is not None:
        linkage.datasets.set(datasets)


@transaction.atomic
def linkage_create(
    *,
    actor: User | None,
    fields: Mapping[str, Any],
    datasets: Iterable[Dataset] = (),
    purposes: Iterable[PermittedPurpose] = (),
    reason: str = "",
    creation_key: uuid.UUID | None = None,
) -> Linkage:
    """Record a linkage as a draft. It is activated separately, once its checklist is all ticked. A repeated
    creation_key (a double-clicked submit) returns the first one."""
    return _created_once(
        Linkage,
        creation_key=creation_key,
        create=lambda: _linkage_insert(
            actor=actor, fields=fields, datasets=datasets, purposes=purposes, reason=reason, creation_key=creation_key
        ),
    )


def _linkage_insert(
    *,
    actor: User | None,
    fields: Mapping[str, Any],
    datasets: Iterable[Dataset],
    purposes: Iterable[PermittedPurpose],
    reason: str,
    creation_key: uuid.UUID | None,
) -> Linkage:
    linkage = Linkage(
        status=LinkageStatus.DRAFT, creation_key=creation_key, **_only_editable(fields, _LINKAGE_SYSTEM_FIELDS)
    )
    _check_linkage(linkage)
    linkage.save()
    _set_linkage_relations(linkage, datasets=datasets, purposes=purposes)
    _audit(
        actor=actor,
        action=Action.CREATED,
        reason=reason,
        linkage=linkage,
        changes=_diff({}, _snapshot(linkage, _linkage_relations(linkage))),
    )
    return linkage


@transaction.atomic
def linkage_update(
    *,
    actor: User | None,
    linkage: Linkage,
    fields: Mapping[str, Any],
    datasets: Iterable[Dataset] | None = None,
    purposes: Iterable[PermittedPurpose] | None = None,
    reason: str = "",
) -> Linkage:
    """Change a linkage. An active linkage needs a reason, and must still be permitted after the change."""
    linkage = Linkage.objects.select_for_update().get(pk=linkage.pk)
    if linkage.status == LinkageStatus.CLOSED:
        raise ValidationError("This linkage is closed and can no longer be changed")
    if linkage.status == LinkageStatus.ACTIVE and not reason.strip():
        raise ValidationError({"reason": "Enter why you are changing an active linkage"})
    before = _snapshot(linkage, _linkage_relations(linkage))
    for name, value in _only_editable(fields, _LINKAGE_SYSTEM_FIELDS).items():
        setattr(linkage, name, value)
    _check_linkage(linkage)
    linkage.save()
    _set_linkage_relations(linkage, datasets=datasets, purposes=purposes)
    if linkage.status == LinkageStatus.ACTIVE:
        checklist = selectors.linkage_checklist(linkage=linkage, on=timezone.localdate())
        if not checklist.permitted:
            raise ValidationError([f"{item.requirement}: {item.message}" for item in checklist.failures])
    changes = _diff(before, _snapshot(linkage, _linkage_relations(linkage)))
    if changes:
        _audit(actor=actor, action=Action.UPDATED, reason=reason, linkage=linkage, changes=changes)
    return linkage


@transaction.atomic
def linkage_activate(*, actor: User | None, linkage: Linkage, reason: str = "") -> Linkage:
    """Draft (or not permitted) to active, only when every item on today's checklist is ticked."""
    linkage = Linkage.objects.select_for_update().get(pk=linkage.pk)
    if linkage.status not in {LinkageStatus.DRAFT, LinkageStatus.NOT_PERMITTED}:
        raise ValidationError(
            f"This linkage is {linkage.get_status_display().lower()}; only a draft or a linkage that is not "
            "permitted can be activated"
        )
    checklist = selectors.linkage_checklist(linkage=linkage, on=timezone.localdate())
    if not checklist.permitted:
        raise ValidationError([f"{item.requirement}: {item.message}" for item in checklist.failures])
    before = linkage.get_status_display()
    linkage.status = LinkageStatus.ACTIVE
    linkage.save(update_fields=["status", "updated_at"])
    _audit(
        actor=actor,
        action=Action.ACTIVATED,
        reason=reason,
        linkage=linkage,
        changes={"Status": [before, linkage.get_status_display()]},
    )
    return linkage


@transaction.atomic
def linkage_close(*, actor: User | None, linkage: Linkage, reason: str) -> Linkage:
    if not reason.strip():
        raise ValidationError({"reason": "Enter why the linkage is being closed"})
    linkage = Linkage.objects.select_for_update().get(pk=linkage.pk)
    if linkage.status == LinkageStatus.CLOSED:
        raise ValidationError("This linkage is already closed")
    before = linkage.get_status_display()
    linkage.status = LinkageStatus.CLOSED
    linkage.save(update_fields=["status", "updated_at"])
    _audit(
        actor=actor,
        action=Action.CLOSED,
        reason=reason,
        linkage=linkage,
        changes={"Status": [before, linkage.get_status_display()]},
    )
    return linkage


def linkages_recheck(*, today: dt.date | None = None) -> list[int]:
    """Mark active linkages that are no longer permitted (an agreement ended, was terminated…) as not permitted,
    as the system. Returns their ids. Each is its own transaction, and a re-run finds nothing left to do."""
    today = today or timezone.localdate()
    flipped = []
    for pk in Linkage.objects.filter(status=LinkageStatus.ACTIVE).values_list("pk", flat=True):
        with transaction.atomic():
            linkage = Linkage.objects.select_for_update().get(pk=pk)
            if linkage.status != LinkageStatus.ACTIVE:
                continue
            checklist = selectors.linkage_checklist(linkage=linkage, on=today)
            if checklist.permitted:
                continue
            linkage.status = LinkageStatus.NOT_PERMITTED
            linkage.save(update_fields=["status", "updated_at"])
            _audit(
                actor=None,
                action=Action.NOT_PERMITTED,
                reason="; ".join(f"{item.requirement}: {item.message}" for item in checklist.failures),
                linkage=linkage,
                changes={"Status": ["Active", linkage.get_status_display()]},
            )
            flipped.append(linkage.pk)
    return flipped
