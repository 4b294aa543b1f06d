"""Every write to the register. Each service is one transaction that leaves one AuditEvent.

Services take the acting user (None for the system) and a reason, validate fully before writing, and raise
django.core.exceptions.ValidationError with a plain message when a rule is broken. Views only call them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from agreements import selectors
from agreements.models import (
    SUB_LICENCE_PREFIX,
    SUB_LICENCE_REFERENCE_RE,
    Agreement,
    AuditEvent,
    Dataset,
    Document,
    Linkage,
    Organisation,
    Party,
    PermittedPurpose,
    Purpose,
    ReferenceSequence,
)

Action = AuditEvent.Action
Status = Agreement.Status

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


# ---------------------------------------------------------------------------------------------------------
# History


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
        return f"{value.day} {value:%B %Y}"
    return str(value)


def _snapshot(instance: models.Model, m2m: Mapping[str, Iterable[models.Model]] | None = None) -> dict[str, str]:
    """What a person would read of the record: field label -> displayed value."""
    values = {
        str(field.verbose_name).capitalize(): _display(instance, field)
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
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        reason=reason.strip(),
        agreement=agreement,
        organisation=organisation,
        linkage=linkage,
        changes=dict(changes or {}),
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


# ---------------------------------------------------------------------------------------------------------
# Organisations


@transaction.atomic
def organisation_create(
    *,
    actor: User | None,
    fields: Mapping[str, Any],
    reason: str = "",
    creation_key: uuid.UUID | None = None,
) -> Organisation:
    """Create an organisation. A repeated creation_key (a double-clicked submit) returns the first one."""
    if creation_key and (existing := Organisation.objects.filter(creation_key=creation_key).first()):
        return existing
    organisation = Organisation(creation_key=creation_key, **_only_editable(fields, _ORGANISATION_SYSTEM_FIELDS))
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
    _validate(organisation)
    changes = _diff(before, _snapshot(organisation))
    if not changes:
        return organisation
    organisation.save()
    _audit(actor=actor, action=Action.UPDATED, reason=reason, organisation=organisation, changes=changes)
    return organisation


@transaction.atomic
def partner_contact_grant(*, actor: User | None, user: Any, organisation: Organisation, reason: str = "") -> None:
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
def partner_contact_revoke(*, actor: User | None, user: Any, organisation: Organisation, reason: str = "") -> None:
    remove_perm("agreements.act_for_organisation", user, organisation)
    _audit(
        actor=actor,
        action=Action.ACCESS_REVOKED,
        reason=reason,
        organisation=organisation,
        changes={"Partner contact": [user.get_username(), ""]},
    )


# ---------------------------------------------------------------------------------------------------------
# Reference numbers


def reference_allocate(*, prefix: str, on: dt.date) -> str:
    """The next reference for the prefix in the year of `on`, e.g. SL/25/1. Call inside a transaction.

    The increment is one UPDATE, so concurrent callers queue on the sequence row (PostgreSQL row lock; SQLite
    database lock) and each reads back its own number. A rolled-back caller consumes nothing, and a number once
    committed is never handed out again, because the sequence only goes up.
    """
    year = on.year
    ReferenceSequence.objects.bulk_create(
        [ReferenceSequence(prefix=prefix, year=year, last_number=0)], ignore_conflicts=True
    )
    sequence = ReferenceSequence.objects.filter(prefix=prefix, year=year)
    sequence.update(last_number=F("last_number") + 1)
    number = sequence.values_list("last_number", flat=True).get()
    return f"{prefix}/{year % 100:02d}/{number}"


def reference_reserve(*, reference: str) -> str:
    """Keep an existing sub-licence reference (from a register being imported) and move the sequence past it,
    so reference_allocate never hands it out again. Call inside a transaction. One UPDATE, like the allocation,
    so it is safe beside concurrent allocations; the reference's uniqueness is the agreement table's."""
    match = SUB_LICENCE_REFERENCE_RE.fullmatch(reference or "")
    if not match or int(match[2]) < 1:
        raise ValidationError({"reference": "A sub-licence reference must look like SL/25/1"})
    year, number = 2000 + int(match[1]), int(match[2])
    ReferenceSequence.objects.bulk_create(
        [ReferenceSequence(prefix=SUB_LICENCE_PREFIX, year=year, last_number=0)], ignore_conflicts=True
    )
    ReferenceSequence.objects.filter(prefix=SUB_LICENCE_PREFIX, year=year).update(
        last_number=Greatest(F("last_number"), number)
    )
    return reference


# ---------------------------------------------------------------------------------------------------------
# Agreements


def _only_editable(fields: Mapping[str, Any], system: set[str]) -> dict[str, Any]:
    unknown = set(fields) & system
    if unknown:
        raise ValueError(f"These fields are set by the system, not by callers: {sorted(unknown)}")
    return dict(fields)


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
    imported register already gave it one (`sub_licence_reference`), which is kept and reserved."""
    if creation_key and (existing := Agreement.objects.filter(creation_key=creation_key).first()):
        return existing
    values = _only_editable(fields, _AGREEMENT_SYSTEM_FIELDS - {"reference"})
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
    """Change an agreement's details. A change to an active agreement must say why."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.status in {Status.EXPIRED, Status.TERMINATED, Status.SUPERSEDED}:
        raise ValidationError(
            f"This agreement is {agreement.get_status_display().lower()} and can no longer be changed"
        )
    if agreement.status == Status.ACTIVE and not reason.strip():
        raise ValidationError({"reason": "Enter why you are changing an active agreement"})
    values = _only_editable(fields, _AGREEMENT_SYSTEM_FIELDS)
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


def _transition(
    *, actor: User | None, agreement: Agreement, allowed_from: set[str], to: str, action: str, reason: str
) -> Agreement:
    locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if locked.status not in allowed_from:
        allowed = " or ".join(sorted(Status(s).label.lower() for s in allowed_from))
        raise ValidationError(
            f"{locked.reference} is {locked.get_status_display().lower()}; only an agreement that is {allowed} "
            f"can be {Action(action).label.lower()}"
        )
    before = locked.get_status_display()
    locked.status = to
    locked.save(update_fields=["status", "updated_at"])
    _audit(
        actor=actor,
        action=action,
        reason=reason,
        agreement=locked,
        changes={"Status": [before, locked.get_status_display()]},
    )
    return locked


@transaction.atomic
def agreement_submit(*, actor: User | None, agreement: Agreement, reason: str = "") -> Agreement:
    """Draft to in review."""
    return _transition(
        actor=actor,
        agreement=agreement,
        allowed_from={Status.DRAFT},
        to=Status.IN_REVIEW,
        action=Action.SUBMITTED,
        reason=reason,
    )


@transaction.atomic
def agreement_return(*, actor: User | None, agreement: Agreement, reason: str) -> Agreement:
    """In review back to draft, with what needs to change."""
    if not reason.strip():
        raise ValidationError({"reason": "Enter what needs to change before it can be approved"})
    return _transition(
        actor=actor,
        agreement=agreement,
        allowed_from={Status.IN_REVIEW},
        to=Status.DRAFT,
        action=Action.RETURNED,
        reason=reason,
    )


@transaction.atomic
def agreement_approve(*, actor: User, agreement: Agreement, reason: str = "") -> Agreement:
    """In review to active. Four eyes: the approver must not be whoever last edited the agreement. A sub-licence
    must also keep to its parent agreement and have an assured partner today (agreements.rules), and every rule
    it breaks is listed, each in its own message."""
    locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if locked.last_edited_by_id is not None and locked.last_edited_by_id == actor.pk:
        raise ValidationError(
            "You cannot approve this agreement because you were the last person to edit it. "
            "Another approver must approve it."
        )
    if locked.kind == Agreement.Kind.SUB_LICENCE and locked.status == Status.IN_REVIEW:
        violations = selectors.sub_licence_violations(sub_licence=locked, on=timezone.localdate())
        if violations:
            raise ValidationError(violations.messages)
    return _transition(
        actor=actor,
        agreement=locked,
        allowed_from={Status.IN_REVIEW},
        to=Status.ACTIVE,
        action=Action.APPROVED,
        reason=reason,
    )


@transaction.atomic
def agreement_terminate(*, actor: User | None, agreement: Agreement, reason: str) -> Agreement:
    if not reason.strip():
        raise ValidationError({"reason": "Enter why the agreement is being terminated"})
    return _transition(
        actor=actor,
        agreement=agreement,
        allowed_from={Status.ACTIVE, Status.IN_REVIEW, Status.DRAFT},
        to=Status.TERMINATED,
        action=Action.TERMINATED,
        reason=reason,
    )


@transaction.atomic
def agreement_supersede(*, actor: User | None, agreement: Agreement, reason: str) -> Agreement:
    if not reason.strip():
        raise ValidationError({"reason": "Enter what supersedes this agreement"})
    return _transition(
        actor=actor,
        agreement=agreement,
        allowed_from={Status.ACTIVE},
        to=Status.SUPERSEDED,
        action=Action.SUPERSEDED,
        reason=reason,
    )


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
                allowed_from={Status.ACTIVE},
                to=Status.EXPIRED,
                action=Action.EXPIRED,
                reason=f"End date {agreement.end_date:%d/%m/%Y} has passed",
            )
            expired.append(agreement.reference)
    return expired


# ---------------------------------------------------------------------------------------------------------
# Documents

PDF_MAGIC = b"%PDF-"


@transaction.atomic
def document_add(
    *, actor: User | None, agreement: Agreement, upload: UploadedFile, title: str, kind: str, reason: str = ""
) -> Document:
    """Attach a signed PDF (or an annex) to an agreement."""
    if upload.size is None or upload.size > settings.DOCUMENT_MAX_BYTES:
        limit = settings.DOCUMENT_MAX_BYTES // (1024 * 1024)
        raise ValidationError({"file": f"The file must be smaller than {limit} MB"})
    upload.seek(0)
    if upload.read(len(PDF_MAGIC)) != PDF_MAGIC:
        raise ValidationError({"file": "The file must be a PDF"})
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    document = Document(
        agreement=agreement,
        kind=kind,
        title=title.strip(),
        filename=(upload.name or "document.pdf")[-255:],
        size=upload.size,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
    )
    # The stored name comes from the digest (see document_upload_to), never from the user's file name.
    document.file.save("document.pdf", upload, save=False)
    try:
        _validate(document)
        document.save()
    except Exception:
        document.file.delete(save=False)
        raise
    _audit(
        actor=actor,
        action=Action.DOCUMENT_ADDED,
        reason=reason,
        agreement=agreement,
        changes={"Document": ["", f"{document.title} ({document.filename})"]},
    )
    return document


# ---------------------------------------------------------------------------------------------------------
# Bulk import of an existing register (agreements.importers reads and checks the file)


@dataclass(frozen=True)
class ImportResult:
    created: list[Organisation | Agreement]
    unchanged: list[Organisation | Agreement]
    reason: str


@transaction.atomic
def spreadsheet_import(
    *, actor: User | None, importer: str, data: bytes, filename: str, reason: str = ""
) -> ImportResult:
    """Write the new rows of an import file, all or nothing, each through the ordinary create service, with the
    history reason "Imported from <file name>". Rows already in the register are left as they are, so importing
    the same file again creates nothing. The file is checked again here: the register may have changed since
    the preview, and then nothing is written and the error says what to do."""
    from agreements import importers

    try:
        preview = importers.preview_file(importer=importer, data=data, filename=filename)
    except importers.SpreadsheetError as error:
        raise ValidationError(str(error)) from error
    if preview.has_errors:
        raise ValidationError(
            f"Nothing was imported: {preview.error_count} row{'s' if preview.error_count != 1 else ''} of "
            f"{preview.filename} {'have' if preview.error_count != 1 else 'has'} errors. Check the file again"
        )
    reason = reason.strip() or f"Imported from {preview.filename}"
    created: list[Organisation | Agreement] = []
    try:
        if isinstance(preview.importer, importers.OrganisationImporter):
            for row in preview.new_rows:
                created.append(organisation_create(actor=actor, fields=preview.importer.fields(row), reason=reason))
        elif isinstance(preview.importer, importers.AgreementImporter):
            created = _import_agreements(actor=actor, preview=preview, reason=reason)
    except ValidationError as error:
        raise ValidationError(f"Nothing was imported: {'; '.join(error.messages)}") from error
    except IntegrityError as error:
        # Someone added the same record between the check above and this write (PostgreSQL).
        raise ValidationError(
            "Nothing was imported: the register changed while the file was being imported. Check the file again"
        ) from error
    unchanged = [row.existing for row in preview.rows if row.existing is not None]
    return ImportResult(created=created, unchanged=unchanged, reason=reason)


def _import_agreements(*, actor: User | None, preview: Any, reason: str) -> list[Organisation | Agreement]:
    importer = preview.importer
    # A parent named in the same file is created first, so the rows under it can point to it.
    in_file = {row.values["reference"] for row in preview.new_rows if row.values["reference"]}
    ordered = sorted(preview.new_rows, key=lambda row: row.values.get("parent_reference") in in_file)
    made: dict[str, Agreement] = {}
    created: list[Organisation | Agreement] = []
    for row in ordered:
        purposes = []
        for name in importer.purposes(row):
            purpose = Purpose.objects.filter(name__iexact=name).first() or Purpose.objects.create(name=name[:200])
            purposes.append(purpose)
        fields = importer.fields(row, parent=made.get(row.values.get("parent_reference") or ""))
        try:
            with transaction.atomic():
                agreement = agreement_create(
                    actor=actor,
                    fields=fields,
                    parties=importer.parties(row),
                    purposes=purposes,
                    reason=reason,
                    agreed_on=row.values["start_date"],
                    sub_licence_reference=row.values["reference"]
                    if row.values["kind"] == Agreement.Kind.SUB_LICENCE
                    else "",
                )
        except ValidationError as error:
            raise ValidationError(f"row {row.number}: {'; '.join(error.messages)}") from error
        made[agreement.reference] = agreement
        created.append(agreement)
    return created


# ---------------------------------------------------------------------------------------------------------
# Linkages of non-health data

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
    """Record a linkage as a draft. It is activated separately, once its checklist is all ticked."""
    if creation_key and (existing := Linkage.objects.filter(creation_key=creation_key).first()):
        return existing
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
