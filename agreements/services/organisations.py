"""Organisations, and the partner contacts who act for them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

from agreements.models import Organisation
from agreements.services._history import (
    _ORGANISATION_SYSTEM_FIELDS,
    Action,
    _audit,
    _created_once,
    _diff,
    _only_editable,
    _snapshot,
    _validate,
)


def organisation_name_clean(*, name: str, organisation: Organisation | None = None) -> str:
    """An organisation's name, tidied (runs of spaces become one). Names are unique ignoring case; the database
    backs this up (organisation_unique_name_ci) for writes that race. Forms ask here too, so that every problem
    with a form shows at once."""
    name = " ".join((name or "").split())
    duplicate = Organisation.objects.filter(name__iexact=name)
    if organisation is not None and organisation.pk:
        duplicate = duplicate.exclude(pk=organisation.pk)
    if name and duplicate.exists():
        raise ValidationError({"name": f"An organisation called {name} already exists"})
    return name


def _check_name(organisation: Organisation) -> None:
    organisation.name = organisation_name_clean(name=organisation.name, organisation=organisation)


@transaction.atomic
def organisation_create(
    *,
    actor: User | None,
    fields: Mapping[str, Any],
    reason: str = "",
    creation_key: uuid.UUID | None = None,
) -> Organisation:
    """Create an organisation. A repeated creation_key (a double-clicked submit) returns the first one."""
    return _created_once(
        Organisation,
        creation_key=creation_key,
        create=lambda: _organisation_insert(actor=actor, fields=fields, reason=reason, creation_key=creation_key),
    )


def _organisation_insert(
    *, actor: User | None, fields: Mapping[str, Any], reason: str, creation_key: uuid.UUID | None
) -> Organisation:
    organisation = Organisation(creation_key=creation_key, **_only_editable(fields, _ORGANISATION_SYSTEM_FIELDS))
    _check_name(organisation)
    _validate(organisation)
    organisation.save()
    _audit(
        actor=actor,
        action=Action.CREATED,
        reason=reason,
        organisation=organisation,
        changes=_diff({}, _snapshot(organisation)),
    )
    return organisation


@transaction.atomic
def organisation_update(
    *, actor: User | None, organisation: Organisation, fields: Mapping[str, Any], reason: str = ""
) -> Organisation:
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    before = _snapshot(organisation)
    for name, value in _only_editable(fields, _ORGANISATION_SYSTEM_FIELDS).items():
        setattr(organisation, name, value)
    _check_name(organisation)
    _validate(organisation)
    changes = _diff(before, _snapshot(organisation))
    if not changes:
        return organisation
    organisation.save()
    _audit(actor=actor, action=Action.UPDATED, reason=reason, organisation=organisation, changes=changes)
    return organisation


@transaction.atomic
def partner_contact_grant(*, actor: User | None, user: User, organisation: Organisation, reason: str = "") -> None:
    """Let a user see and edit the agreements on which the organisation is a party."""
    assign_perm("agreements.act_for_organisation", user, organisation)
    _audit(
        actor=actor,
        action=Action.ACCESS_GRANTED,
        reason=reason,
        organisation=organisation,
        changes={"Partner contact": ["", user.get_username()]},
    )


@transaction.atomic
def partner_contact_revoke(*, actor: User | None, user: User, organisation: Organisation, reason: str = "") -> None:
    remove_perm("agreements.act_for_organisation", user, organisation)
    _audit(
        actor=actor,
        action=Action.ACCESS_REVOKED,
        reason=reason,
        organisation=organisation,
        changes={"Partner contact": [user.get_username(), ""]},
    )
