"""Agreements: creating and changing them, and the steps of their life (submit, return, approve, terminate,
supersede, expire)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from agreements import selectors, workflow
from agreements.dates import format_date
from agreements.models import (
    SUB_LICENCE_PREFIX,
    SUB_LICENCE_REFERENCE_RE,
    Agreement,
    Amendment,
    Dataset,
    Organisation,
    Party,
    Purpose,
    agreement_field,
)
from agreements.services._history import (
    _AGREEMENT_SYSTEM_FIELDS,
    Action,
    _agreement_relations,
    _audit,
    _created_once,
    _diff,
    _only_editable,
    _snapshot,
    _validate,
)
from agreements.services.references import reference_allocate, reference_reserve

Status = Agreement.Status
# The code of the error agreement_update raises for a change to an approved agreement that needs an amendment.
LIVE_CHANGE_REFUSED = "amendment_needed"
LICENSOR_MESSAGE = "The licensor and the sub-licensee must be different organisations"


def _set_relations(
    agreement: Agreement,
    *,
    parties: Iterable[tuple[Organisation, str]] | None,
    datasets: Iterable[Dataset] | None,
    purposes: Iterable[Purpose] | None,
) -> None:
    if parties is not None:
        wanted = {(organisation.pk, role) for organisation, role in parties}
        valid_roles = set(Party.Role.values)
        if bad := {role for _, role in wanted if role not in valid_roles}:
            raise ValidationError({"parties": f"Unknown party role: {', '.join(sorted(bad))}"})
        if agreement.kind == Agreement.Kind.SUB_LICENCE:
            licensees = {org for org, role in wanted if role == Party.Role.SUB_LICENSEE}
            if licensees & {org for org, role in wanted if role == Party.Role.PROVIDER}:
                raise ValidationError({"parties": LICENSOR_MESSAGE})
        existing = {(p.organisation_id, p.role): p for p in agreement.parties.all()}
        for key, party in existing.items():
            if key not in wanted:
                party.delete()
        Party.objects.bulk_create(
            [Party(agreement=agreement, organisation_id=org_id, role=role) for org_id, role in wanted - set(existing)]
        )
    if datasets is not None:
        agreement.datasets.set(datasets)
    if purposes is not None:
        agreement.purposes.set(purposes)


def _check_reference(agreement: Agreement) -> None:
    is_sl = bool(SUB_LICENCE_REFERENCE_RE.fullmatch(agreement.reference or ""))
    if agreement.kind != Agreement.Kind.SUB_LICENCE and is_sl:
        raise ValidationError({"reference": "References like SL/25/1 are kept for sub-licences"})


@transaction.atomic
def agreement_create(
    *,
    actor: User | None,
    fields: Mapping[str, Any],
    parties: Iterable[tuple[Organisation, str]] = (),
    datasets: Iterable[Dataset] = (),
    purposes: Iterable[Purpose] = (),
    reason: str = "",
    creation_key: uuid.UUID | None = None,
    agreed_on: dt.date | None = None,
    sub_licence_reference: str = "",
) -> Agreement:
    """Create an agreement as a draft. A sub-licence's reference is allocated here, from the year of
    `agreed_on` (today in Europe/London unless given, e.g. when loading an existing register), unless an
    imported register already gave it one (`sub_licence_reference`), which is kept and reserved. A repeated
    creation_key (a double-clicked submit, even two at once) returns the first agreement."""
    return _created_once(
        Agreement,
        creation_key=creation_key,
        create=lambda: _agreement_insert(
            actor=actor,
            fields=fields,
            parties=parties,
            datasets=datasets,
            purposes=purposes,
            reason=reason,
            creation_key=creation_key,
            agreed_on=agreed_on,
            sub_licence_reference=sub_licence_reference,
        ),
    )


def _agreement_insert(
    *,
    actor: User | None,
    fields: Mapping[str, Any],
    parties: Iterable[tuple[Organisation, str]],
    datasets: Iterable[Dataset],
    purposes: Iterable[Purpose],
    reason: str,
    creation_key: uuid.UUID | None,
    agreed_on: dt.date | None,
    sub_licence_reference: str,
) -> Agreement:
    values = _only_editable(fields, _AGREEMENT_SYSTEM_FIELDS - {"reference"})
    if actor is not None and not actor.has_perm("agreements.add_agreement"):
        raise PermissionDenied("Only the IG team can record new agreements")
    if values.get("kind") == Agreement.Kind.SUB_LICENCE and "reference" in values:
        raise ValueError("Sub-licence references are allocated by the system: use sub_licence_create")
    agreement = Agreement(status=Status.DRAFT, last_edited_by=actor, creation_key=creation_key, **values)
    if agreement.kind == Agreement.Kind.SUB_LICENCE and sub_licence_reference:
        agreement.reference = reference_reserve(reference=sub_licence_reference)
    elif agreement.kind == Agreement.Kind.SUB_LICENCE:
        agreement.reference = reference_allocate(prefix=SUB_LICENCE_PREFIX, on=agreed_on or timezone.localdate())
    _check_reference(agreement)
    _validate(agreement)
    try:
        with transaction.atomic():
            agreement.save()
    except IntegrityError as error:
        raise ValidationError({"reference": "An agreement with this reference already exists"}) from error
    _set_relations(agreement, parties=parties, datasets=datasets, purposes=purposes)
    agreement.owner_id = agreement.owner_id or (actor.pk if actor else None)
    agreement.save(update_fields=["owner"])
    _audit(
        actor=actor,
        action=Action.CREATED,
        reason=reason,
        agreement=agreement,
        changes=_diff({}, _snapshot(agreement, _agreement_relations(agreement))),
    )
    return agreement


def sub_licence_create(
    *,
    actor: User | None,
    sub_licensee: Organisation,
    fields: Mapping[str, Any],
    licensor: Organisation | None = None,
    datasets: Iterable[Dataset] = (),
    purposes: Iterable[Purpose] = (),
    reason: str = "",
    creation_key: uuid.UUID | None = None,
    agreed_on: dt.date | None = None,
) -> Agreement:
    """Create a draft sub-licence with the next SL/YY/N reference (YY from today's date in Europe/London)."""
    if licensor and licensor.pk == sub_licensee.pk:
        raise ValidationError({"licensor": LICENSOR_MESSAGE})
    parties = [(sub_licensee, Party.Role.SUB_LICENSEE)]
    if licensor:
        parties.append((licensor, Party.Role.PROVIDER))
    return agreement_create(
        actor=actor,
        fields={**fields, "kind": Agreement.Kind.SUB_LICENCE},
        parties=parties,
        datasets=datasets,
        purposes=purposes,
        reason=reason,
        creation_key=creation_key,
        agreed_on=agreed_on,
    )


@transaction.atomic
def agreement_update(
    *,
    actor: User | None,
    agreement: Agreement,
    fields: Mapping[str, Any],
    parties: Iterable[tuple[Organisation, str]] | None = None,
    datasets: Iterable[Dataset] | None = None,
    purposes: Iterable[Purpose] | None = None,
    reason: str = "",
) -> Agreement:
    """Change an agreement's details. An approved (active) agreement changes here only in its TRIVIAL_FIELDS, with
    a reason; anything else is an amendment (services.amendment_propose) that a second person approves."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.status in {Status.EXPIRED, Status.TERMINATED, Status.SUPERSEDED}:
        raise ValidationError(
            f"This agreement is {agreement.get_status_display().lower()} and can no longer be changed"
        )
    values = _only_editable(fields, _AGREEMENT_SYSTEM_FIELDS)
    _check_partner_change(actor, agreement, values, parties=parties, datasets=datasets, purposes=purposes)
    if agreement.status == Status.ACTIVE and not reason.strip():
        raise ValidationError({"reason": "Enter why you are changing an active agreement"})
    if agreement.status == Status.ACTIVE:
        _refuse_live_change(agreement, values=values, parties=parties, datasets=datasets, purposes=purposes)
    if "kind" in values and (values["kind"] == Agreement.Kind.SUB_LICENCE) != (
        agreement.kind == Agreement.Kind.SUB_LICENCE
    ):
        raise ValidationError({"kind": "A sub-licence cannot become another kind of agreement, or the reverse"})
    before = _snapshot(agreement, _agreement_relations(agreement))
    for name, value in values.items():
        setattr(agreement, name, value)
    _check_reference(agreement)
    _validate(agreement)
    agreement.save()
    _set_relations(agreement, parties=parties, datasets=datasets, purposes=purposes)
    changes = _diff(before, _snapshot(agreement, _agreement_relations(agreement)))
    if not changes:
        return agreement
    agreement.last_edited_by = actor
    agreement.save(update_fields=["last_edited_by", "updated_at"])
    _audit(actor=actor, action=Action.UPDATED, reason=reason, agreement=agreement, changes=changes)
    return agreement


def _changed(
    agreement: Agreement,
    values: Mapping[str, Any],
    *,
    parties: Iterable[tuple[Organisation, str]] | None,
    datasets: Iterable[Dataset] | None,
    purposes: Iterable[Purpose] | None,
) -> set[str]:
    """The names of what an edit changes on the agreement as it stands: its fields, "parties", "datasets",
    "purposes". Foreign keys compare by id (the caller may pass the object or the id)."""
    changed = {
        name
        for name, value in values.items()
        if getattr(value, "pk", value) != getattr(agreement, agreement_field(name).attname)
    }
    if parties is not None and {(o.pk, r) for o, r in parties} != {
        (p.organisation_id, p.role) for p in agreement.parties.all()
    }:
        changed.add("parties")
    if datasets is not None and {d.pk for d in datasets} != set(agreement.datasets.values_list("pk", flat=True)):
        changed.add("datasets")
    if purposes is not None and {p.pk for p in purposes} != set(agreement.purposes.values_list("pk", flat=True)):
        changed.add("purposes")
    return changed


def _refuse_live_change(
    agreement: Agreement,
    *,
    values: Mapping[str, Any],
    parties: Iterable[tuple[Organisation, str]] | None,
    datasets: Iterable[Dataset] | None,
    purposes: Iterable[Purpose] | None,
) -> None:
    """An approved agreement is what was approved: only its trivial fields (workflow.TRIVIAL_FIELDS) change
    without a second person."""
    changed = sorted(
        _changed(agreement, values, parties=parties, datasets=datasets, purposes=purposes) - workflow.TRIVIAL_FIELDS
    )
    if changed:
        raise ValidationError(
            f"{agreement.reference} is approved, so a change to its "
            f"{', '.join(str(agreement_field(n).verbose_name) for n in changed)} is an amendment that "
            "another person must approve: propose an amendment instead",
            code=LIVE_CHANGE_REFUSED,
        )


def _check_partner_change(
    actor: User | None,
    agreement: Agreement,
    values: Mapping[str, Any],
    *,
    parties: Iterable[tuple[Organisation, str]] | None,
    datasets: Iterable[Dataset] | None,
    purposes: Iterable[Purpose] | None,
) -> None:
    """The IG team may change any detail; a partner contact only its own organisation's agreements, and only the
    fields the domain lets partners change (agreements.workflow.PARTNER_EDITABLE_FIELDS). Only a field whose value
    changes is refused: an IG-only field posted as it stands is not."""
    if actor is None or actor.has_perm("agreements.change_agreement"):
        return
    own = selectors.organisations_for_partner(user=actor).filter(parties__agreement=agreement)
    if not own.exists():
        raise PermissionDenied("You can only change your own organisation's agreements")
    # Only a change is refused: a form that posts an IG-only field as it stands asks nothing of it.
    changed = _changed(agreement, values, parties=parties, datasets=datasets, purposes=purposes)
    if refused := sorted(changed - workflow.PARTNER_EDITABLE_FIELDS):
        raise ValidationError(
            {name: "Only the IG team can change this. Ask them if it needs to change." for name in refused}
        )


def _transition(*, actor: User | None, agreement: Agreement, step_name: str, reason: str) -> Agreement:
    """Take one step of the workflow table (agreements.workflow): who may, from which status, four eyes."""
    step = workflow.STEPS[step_name]
    if step.reason_required and not reason.strip():
        raise ValidationError({"reason": step.reason_message})
    locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if not workflow.may(actor, step_name):
        raise PermissionDenied(workflow.refusal(actor, locked, step_name))
    if refused := workflow.refusal(actor, locked, step_name):
        raise ValidationError(refused)
    if locked.status in step.by_request_from:
        raise ValidationError(
            f"{locked.reference} is approved, so it can only be {step.label} when another person approves a request "
            "to do so"
        )
    if step_name in {workflow.SUBMIT, workflow.APPROVE} and (blocking := readiness_refusal(locked)):
        raise ValidationError(blocking)
    before = locked.get_status_display()
    locked.status = step.target
    locked.save(update_fields=["status", "updated_at"])
    _audit(
        actor=actor,
        action=step.audit_action,
        reason=reason,
        agreement=locked,
        changes={"Status": [before, locked.get_status_display()]},
    )
    return locked


def readiness_refusal(agreement: Agreement, *, amendment: Amendment | None = None) -> list[str]:
    """What stops the agreement (or the version an amendment proposes, already loaded) going to review or being
    approved: every failing item of its readiness checklist (selectors.agreement_readiness), each a plain sentence.
    The one place submission and approval ask, for agreements and amendments alike."""
    if amendment is None:
        agreement = selectors.agreement_with_relations(Agreement.objects.all()).get(pk=agreement.pk)
    return selectors.agreement_readiness(agreement=agreement, amendment=amendment).messages


@transaction.atomic
def agreement_submit(*, actor: User | None, agreement: Agreement, reason: str = "") -> Agreement:
    """Draft to in review, once every blocking item of its readiness checklist holds (selectors.agreement_readiness:
    the rules approval applies, checked early)."""
    return _transition(actor=actor, agreement=agreement, step_name=workflow.SUBMIT, reason=reason)


@transaction.atomic
def agreement_return(*, actor: User | None, agreement: Agreement, reason: str) -> Agreement:
    """In review back to draft, with what needs to change."""
    return _transition(actor=actor, agreement=agreement, step_name=workflow.RETURN, reason=reason)


@transaction.atomic
def agreement_approve(*, actor: User | None, agreement: Agreement, reason: str = "") -> Agreement:
    """In review to active, by a second person (agreements.workflow.four_eyes_refusal). A sub-licence must also
    keep to its parent agreement and have an assured partner today (agreements.rules), and every rule it breaks
    is listed, each in its own message."""
    return _transition(actor=actor, agreement=agreement, step_name=workflow.APPROVE, reason=reason)


@transaction.atomic
def agreement_terminate(*, actor: User | None, agreement: Agreement, reason: str) -> Agreement:
    return _transition(actor=actor, agreement=agreement, step_name=workflow.TERMINATE, reason=reason)


@transaction.atomic
def agreement_supersede(*, actor: User | None, agreement: Agreement, reason: str) -> Agreement:
    return _transition(actor=actor, agreement=agreement, step_name=workflow.SUPERSEDE, reason=reason)


def agreements_expire(*, today: dt.date | None = None) -> list[str]:
    """Mark active agreements whose end date has passed as expired, as the system. Safe to run again.

    Returns the references it expired. Each agreement is its own transaction, so one failure does not hold
    back the others, and a re-run finds nothing left to do.
    """
    today = today or timezone.localdate()
    expired = []
    due = Agreement.objects.filter(status=Status.ACTIVE, end_date__lt=today).values_list("pk", flat=True)
    for pk in due:
        with transaction.atomic():
            agreement = Agreement.objects.select_for_update().get(pk=pk)
            if agreement.status != Status.ACTIVE:
                continue
            _transition(
                actor=None,
                agreement=agreement,
                step_name=workflow.EXPIRE,
                reason=f"End date {format_date(agreement.end_date)} has passed",
            )
            expired.append(agreement.reference)
    return expired
