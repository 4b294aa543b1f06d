"""Amendments: the only way an approved agreement (active, or approved and waiting to start) changes, apart from
its trivial fields (workflow.TRIVIAL_FIELDS). An amendment is a proposed new version; the live agreement stays as
it is, on staff pages and in every edition, until someone other than the people who wrote the amendment approves
it. Approval applies the whole proposed version in one transaction, with one audit row naming author, approver,
reason and changes.

A request to terminate or supersede an active agreement is an amendment of that kind: a second person approves it.
Who may take which step, from which status, and four eyes, are rows of the table in agreements.workflow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from agreements import selectors, workflow
from agreements.models import (
    AMENDABLE_FIELDS,
    Agreement,
    Amendment,
    Dataset,
    Document,
    Organisation,
    Party,
    Purpose,
    agreement_field,
)
from agreements.services._history import Action, _agreement_relations, _audit, _diff, _snapshot
from agreements.services.agreements import (
    LIVE_CHANGE_REFUSED,
    _set_relations,
    agreement_terminate,
    agreement_update,
    readiness_refusal,
)

Status = Amendment.Status
AgreementStatus = Agreement.Status
CHANGE_AGREEMENT = "agreements.change_agreement"

# The agreement's workflow step that approving a request of each kind takes (workflow.Step.by_request_from).
_ENDINGS: dict[str, workflow.Step] = {
    Amendment.Kind.TERMINATE: workflow.STEPS[workflow.TERMINATE],
    Amendment.Kind.SUPERSEDE: workflow.STEPS[workflow.SUPERSEDE],
}


def _encode(name: str, value: Any) -> Any:
    """A field value as the amendment stores it in JSON."""
    field = agreement_field(name)
    if field.is_relation:
        return value.pk if isinstance(value, models.Model) else value
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _live_version(agreement: Agreement) -> dict[str, Any]:
    attnames = {name: agreement_field(name).attname for name in AMENDABLE_FIELDS}
    return {name: _encode(name, getattr(agreement, attname)) for name, attname in attnames.items()}


def _live_parties(agreement: Agreement) -> list[list[Any]]:
    return sorted([party.organisation_id, party.role] for party in agreement.parties.all())


def _acting_for(actor: User, agreement: Agreement) -> Organisation | None:
    """None for the IG team; for a partner contact, its organisation that is party to the agreement. Anyone else
    may not propose a change to this agreement (workflow.may_change)."""
    if not workflow.may_change(actor, agreement):
        raise PermissionDenied("You can only change your own organisation's agreements")
    if actor.has_perm(CHANGE_AGREEMENT):
        return None
    return selectors.organisations_for_partner(user=actor).filter(parties__agreement=agreement).first()


def _refuse_partner_changes(
    *, partner: Organisation | None, base: Amendment, fields: Mapping[str, Any], parties: list[list[Any]] | None
) -> None:
    if partner is None:
        return
    errors = {
        name: "Only the IG team can change this. Ask them if it needs to change."
        for name, value in fields.items()
        if name not in workflow.PARTNER_EDITABLE_FIELDS
    }
    if parties is not None:
        errors["parties"] = "Only the IG team can change who is party to the agreement. Ask them if it needs to change."
    if errors:
        raise ValidationError(errors)


def _apply_proposal(
    amendment: Amendment,
    *,
    fields: Mapping[str, Any],
    parties: Iterable[tuple[Organisation, str]] | None,
    datasets: Iterable[Dataset] | None,
    purposes: Iterable[Purpose] | None,
    partner: Organisation | None,
) -> None:
    if unknown := set(fields) - set(AMENDABLE_FIELDS):
        raise ValueError(f"These fields cannot be amended: {sorted(unknown)}")
    # Only what differs from the version proposed so far is a change: a value posted as it stands (say the owner,
    # changed live since the amendment began) is not written into the amendment, so approval never puts it back.
    current = selectors.amendment_proposed_version(amendment=amendment)
    encoded = {
        name: encoded_value
        for name, value in fields.items()
        if (encoded_value := _encode(name, value)) != _encode(name, getattr(current, agreement_field(name).attname))
    }
    current_parties = sorted([p.organisation_id, p.role] for p in current.parties.all())
    new_parties = None
    if parties is not None:
        pairs = sorted({(organisation.pk, role) for organisation, role in parties})
        if bad := {role for _, role in pairs if role not in Party.Role.values}:
            raise ValidationError({"parties": f"Unknown party role: {', '.join(sorted(bad))}"})
        new_parties = [[org_id, role] for org_id, role in pairs]
        if new_parties == current_parties:
            new_parties = None
    _refuse_partner_changes(partner=partner, base=amendment, fields=encoded, parties=new_parties)
    amendment.fields = {**amendment.fields, **encoded}
    if new_parties is not None:
        amendment.parties = new_parties
    if datasets is not None and (ids := sorted(d.pk for d in datasets)) != sorted(d.pk for d in current.datasets.all()):
        amendment.datasets = ids
    if purposes is not None and (ids := sorted(p.pk for p in purposes)) != sorted(p.pk for p in current.purposes.all()):
        amendment.purposes = ids
    # The proposed version must be a valid agreement in its own right: the same checks as any save.
    selectors.amendment_proposed_version(amendment=amendment).full_clean()


def _version_snapshot(agreement: Agreement) -> dict[str, str]:
    return _snapshot(
        agreement,
        {
            "Parties": agreement.parties.all(),
            "Datasets": agreement.datasets.all(),
            "Purposes": agreement.purposes.all(),
        },
    )


def amendment_changes(*, amendment: Amendment) -> dict[str, list[str]]:
    """What approving the amendment would change: {field label: [live, proposed]}, as people read them."""
    live = selectors.agreement_with_relations(Agreement.objects.all()).get(pk=amendment.agreement_id)
    return _diff(_version_snapshot(live), _version_snapshot(selectors.amendment_proposed_version(amendment=amendment)))


@transaction.atomic
def amendment_propose(
    *,
    actor: User,
    agreement: Agreement,
    reason: str,
    fields: Mapping[str, Any] | None = None,
    parties: Iterable[tuple[Organisation, str]] | None = None,
    datasets: Iterable[Dataset] | None = None,
    purposes: Iterable[Purpose] | None = None,
    kind: str = Amendment.Kind.CHANGE,
    superseded_by: Agreement | None = None,
) -> Amendment:
    """Start an amendment of an approved agreement, as a draft. Its proposed version starts as the live one, with
    the changes given. The agreement itself does not change. A request to terminate or supersede is submitted at
    once."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    partner = _acting_for(actor, agreement)
    if agreement.status != AgreementStatus.ACTIVE:
        raise ValidationError(
            f"{agreement.reference} is {agreement.get_status_display().lower()}: only an approved agreement is "
            "amended. Change a draft directly."
        )
    if partner is not None and kind != Amendment.Kind.CHANGE:
        raise PermissionDenied("Only the IG team may ask to terminate or supersede an agreement")
    if not reason.strip():
        raise ValidationError({"reason": "Enter why the agreement needs to change"})
    if kind == Amendment.Kind.SUPERSEDE:
        _check_replacement(agreement, superseded_by)
    if open_amendment := selectors.amendment_open(agreement=agreement):
        raise ValidationError(
            f"{agreement.reference} already has an amendment in progress, started by "
            f"{open_amendment.author.get_username()}: change that one, or withdraw it first"
        )
    amendment = Amendment(
        agreement=agreement,
        kind=kind,
        # A request to end the agreement has nothing to draft: it goes straight to a second person.
        status=Status.DRAFT if kind == Amendment.Kind.CHANGE else Status.SUBMITTED,
        author=actor,
        partner=partner,
        reason=reason.strip(),
        superseded_by=superseded_by if kind == Amendment.Kind.SUPERSEDE else None,
        fields=_live_version(agreement),
        parties=_live_parties(agreement),
        datasets=sorted(agreement.datasets.values_list("pk", flat=True)),
        purposes=sorted(agreement.purposes.values_list("pk", flat=True)),
    )
    amendment.base = {
        "fields": dict(amendment.fields),
        "parties": amendment.parties,
        "datasets": amendment.datasets,
        "purposes": amendment.purposes,
    }
    if kind == Amendment.Kind.CHANGE:
        _apply_proposal(
            amendment, fields=fields or {}, parties=parties, datasets=datasets, purposes=purposes, partner=partner
        )
    try:
        with transaction.atomic():
            amendment.save()
    except IntegrityError as error:
        # Another amendment was started at the same moment: the database keeps one open amendment per agreement.
        raise ValidationError(f"{agreement.reference} already has an amendment in progress") from error
    amendment.contributors.add(actor)
    changes = amendment_changes(amendment=amendment)
    if kind == Amendment.Kind.CHANGE and not changes:
        raise ValidationError("The amendment changes nothing: it is the same as the live agreement")
    if kind != Amendment.Kind.CHANGE:
        changes = {"Status": [agreement.get_status_display(), AgreementStatus(_ENDINGS[kind].target).label]}
    if superseded_by is not None and kind == Amendment.Kind.SUPERSEDE:
        changes["Superseded by"] = ["", str(superseded_by)]
    _audit(
        actor=actor,
        action=Action.AMENDMENT_PROPOSED,
        reason=reason,
        agreement=agreement,
        changes={"Amendment": ["", amendment.get_kind_display()], **changes},
    )
    return amendment


def _locked(amendment: Amendment) -> Amendment:
    return Amendment.objects.select_for_update().select_related("agreement").get(pk=amendment.pk)


def _require_status(amendment: Amendment, allowed: Iterable[str], doing: str) -> None:
    if amendment.status not in allowed:
        raise ValidationError(
            f"This amendment of {amendment.agreement.reference} is {amendment.get_status_display().lower()}, "
            f"so it cannot be {doing}"
        )


@transaction.atomic
def amendment_update(
    *,
    actor: User,
    amendment: Amendment,
    fields: Mapping[str, Any] | None = None,
    parties: Iterable[tuple[Organisation, str]] | None = None,
    datasets: Iterable[Dataset] | None = None,
    purposes: Iterable[Purpose] | None = None,
    reason: str = "",
) -> Amendment:
    """Change a draft or returned amendment. Whoever changes it joins those who may not approve it."""
    amendment = _locked(amendment)
    partner = _acting_for(actor, amendment.agreement)
    _require_status(amendment, workflow.AMENDMENT_EDITABLE_STATUSES, "changed")
    before = _version_snapshot(selectors.amendment_proposed_version(amendment=amendment))
    _apply_proposal(
        amendment, fields=fields or {}, parties=parties, datasets=datasets, purposes=purposes, partner=partner
    )
    if reason.strip():
        amendment.reason = reason.strip()
    if partner is not None and amendment.partner_id is None:
        amendment.partner = partner
    changes = _diff(before, _version_snapshot(selectors.amendment_proposed_version(amendment=amendment)))
    if not changes and not reason.strip():
        return amendment
    amendment.save()
    amendment.contributors.add(actor)
    _audit(
        actor=actor,
        action=Action.AMENDMENT_UPDATED,
        reason=reason,
        agreement=amendment.agreement,
        changes=changes,
    )
    return amendment


def _take_step(*, actor: User, amendment: Amendment, step_name: str, reason: str) -> Amendment:
    """One row of workflow.AMENDMENT_STEPS: who may, from which status, four eyes, the reason, the audit row."""
    step = workflow.AMENDMENT_STEPS[step_name]
    if step.reason_required and not reason.strip():
        raise ValidationError({"reason": step.reason_message})
    amendment = _locked(amendment)
    if not workflow.amendment_may(actor, amendment, step_name):
        raise PermissionDenied(workflow.amendment_refusal(actor, amendment, step_name))
    if refused := workflow.amendment_refusal(actor, amendment, step_name):
        raise ValidationError(refused)
    if step_name == workflow.AMENDMENT_SUBMIT and amendment.kind == Amendment.Kind.CHANGE:
        proposed = selectors.amendment_proposed_version(amendment=amendment)
        if blocking := readiness_refusal(proposed, amendment=amendment):
            raise ValidationError(blocking)
    amendment.status = step.target
    if step_name != workflow.AMENDMENT_SUBMIT:
        amendment.decided_by, amendment.decided_at, amendment.decision_reason = actor, timezone.now(), reason.strip()
    amendment.save()
    if step_name != workflow.AMENDMENT_APPROVE:
        _audit(actor=actor, action=step.audit_action, reason=reason, agreement=amendment.agreement)
    return amendment


@transaction.atomic
def amendment_submit(*, actor: User, amendment: Amendment, reason: str = "") -> Amendment:
    """Draft or returned to submitted, once the proposed version is ready for review (selectors.agreement_readiness:
    the same rules approval applies)."""
    return _take_step(actor=actor, amendment=amendment, step_name=workflow.AMENDMENT_SUBMIT, reason=reason)


@transaction.atomic
def amendment_return(*, actor: User, amendment: Amendment, reason: str) -> Amendment:
    """Submitted back to its author, with what needs to change."""
    return _take_step(actor=actor, amendment=amendment, step_name=workflow.AMENDMENT_RETURN, reason=reason)


@transaction.atomic
def amendment_withdraw(*, actor: User, amendment: Amendment, reason: str = "") -> Amendment:
    """The author gives the amendment up (an IG approver may too, so an abandoned one does not block others).
    Nothing is restored, because nothing had changed."""
    return _take_step(actor=actor, amendment=amendment, step_name=workflow.AMENDMENT_WITHDRAW, reason=reason)


@transaction.atomic
def amendment_approve(*, actor: User, amendment: Amendment, reason: str = "") -> Amendment:
    """Apply a submitted amendment to the live agreement, all at once, with one audit row that names the author,
    the approver (the actor), the reason and every change. Refused while the proposed version breaks a rule, and to
    anyone workflow.four_eyes_refusal names."""
    agreement = Agreement.objects.select_for_update().get(pk=amendment.agreement_id)
    locked = _locked(amendment)
    if not workflow.amendment_may(actor, locked, workflow.AMENDMENT_APPROVE):
        raise PermissionDenied(workflow.amendment_refusal(actor, locked, workflow.AMENDMENT_APPROVE))
    if refused := workflow.amendment_refusal(actor, locked, workflow.AMENDMENT_APPROVE):
        raise ValidationError(refused)
    if agreement.status != AgreementStatus.ACTIVE:
        raise ValidationError(
            f"{agreement.reference} is now {agreement.get_status_display().lower()}, so the amendment cannot apply"
        )
    contributors = sorted(u.get_username() for u in locked.contributors.all())
    author = locked.author.get_username()
    summary = f"{locked.get_kind_display()} proposed by {author}"
    if contributors != [author]:
        summary += f", changed by {', '.join(contributors)}"
    summary += f": {locked.reason}"
    if reason.strip():
        summary += f" Approver's comment: {reason.strip()}"
    if locked.kind in _ENDINGS:
        step = _ENDINGS[locked.kind]
        before = agreement.get_status_display()
        agreement.status = step.target
        changes = {"Status": [before, agreement.get_status_display()]}
        if locked.kind == Amendment.Kind.SUPERSEDE:
            # Checked again: the replacement may have ended, or been superseded itself, since the request.
            _check_replacement(agreement, locked.superseded_by)
            agreement.superseded_by = locked.superseded_by
            changes["Superseded by"] = ["", str(locked.superseded_by)]
        agreement.save(update_fields=["status", "superseded_by", "updated_at"])
        _audit(actor=actor, action=step.audit_action, reason=summary, agreement=agreement, changes=changes)
    else:
        proposed = selectors.amendment_proposed_version(amendment=locked)
        if blocking := readiness_refusal(proposed, amendment=locked):
            raise ValidationError(blocking)
        before_snapshot = _snapshot(agreement, _agreement_relations(agreement))
        # The proposed version is the live agreement with what the amendment changed (relative to the version it
        # started from): fields changed live meanwhile (trivial ones, such as the owner) stay as they are now.
        for name in AMENDABLE_FIELDS:
            attname = agreement_field(name).attname
            setattr(agreement, attname, getattr(proposed, attname))
        agreement.full_clean()
        agreement.last_edited_by = locked.author
        agreement.save()
        _set_relations(
            agreement,
            parties=[(party.organisation, party.role) for party in proposed.parties.all()],
            datasets=list(proposed.datasets.all()),
            purposes=list(proposed.purposes.all()),
        )
        changes = _diff(before_snapshot, _snapshot(agreement, _agreement_relations(agreement)))
        # The documents the amendment adds are attached now, in the same transaction as the rest.
        added = list(Document.objects.filter(amendment=locked, agreement__isnull=True).order_by("pk"))
        Document.objects.filter(pk__in=[d.pk for d in added]).update(agreement=agreement)
        if added:
            changes["Documents added"] = ["", "; ".join(f"{d.title} ({d.filename})" for d in added)]
        _audit(actor=actor, action=Action.AMENDMENT_APPROVED, reason=summary, agreement=agreement, changes=changes)
    return _take_step(actor=actor, amendment=locked, step_name=workflow.AMENDMENT_APPROVE, reason=reason)


def amendment_comparison(*, amendment: Amendment) -> list[tuple[str, str, str, bool]]:
    """Every field of the live agreement beside the proposed version, as people read them:
    (label, live, proposed, changed)."""
    live = _version_snapshot(selectors.agreement_with_relations(Agreement.objects.all()).get(pk=amendment.agreement_id))
    proposed = _version_snapshot(selectors.amendment_proposed_version(amendment=amendment))
    return [(label, live.get(label, ""), value, live.get(label, "") != value) for label, value in proposed.items()]


def _check_replacement(agreement: Agreement, replacement: Agreement | None) -> None:
    """A superseded agreement names its replacement: one of selectors.supersede_candidates."""
    if replacement is None:
        raise ValidationError({"superseded_by": "Choose the agreement that replaces this one"})
    if not selectors.supersede_candidates(agreement=agreement).filter(pk=replacement.pk).exists():
        raise ValidationError(
            {
                "superseded_by": f"{replacement.reference} cannot replace {agreement.reference}: the replacing "
                f"agreement must be another {agreement.get_kind_display().lower()} that is approved or active"
            }
        )


def agreement_supersede_request(
    *, actor: User, agreement: Agreement, superseded_by: Agreement | None, reason: str
) -> Amendment:
    """Ask for an active agreement to be superseded by another, approved one of the same kind. Like a request to
    terminate, it is an amendment that a second person approves (workflow.four_eyes_refusal); approving it marks
    the agreement superseded and records which agreement replaces it."""
    if not workflow.may(actor, workflow.SUPERSEDE):
        raise PermissionDenied(workflow.refusal(actor, agreement, workflow.SUPERSEDE))
    if refused := workflow.refusal(actor, agreement, workflow.SUPERSEDE):
        raise ValidationError(refused)
    if not reason.strip():
        raise ValidationError({"reason": workflow.STEPS[workflow.SUPERSEDE].reason_message})
    return amendment_propose(
        actor=actor, agreement=agreement, reason=reason, kind=Amendment.Kind.SUPERSEDE, superseded_by=superseded_by
    )


def agreement_terminate_or_request(*, actor: User, agreement: Agreement, reason: str) -> Agreement | Amendment:
    """What "Terminate" means, decided here: a draft or an agreement in review ends at once; an approved one gets
    a termination request that a second person approves."""
    if agreement.status == AgreementStatus.ACTIVE:
        if not reason.strip():
            raise ValidationError({"reason": "Enter why the agreement is being terminated"})
        return amendment_propose(actor=actor, agreement=agreement, reason=reason, kind=Amendment.Kind.TERMINATE)
    return agreement_terminate(actor=actor, agreement=agreement, reason=reason)


def agreement_change(
    *,
    actor: User,
    agreement: Agreement,
    fields: Mapping[str, Any],
    parties: Iterable[tuple[Organisation, str]] | None = None,
    datasets: Iterable[Dataset] | None = None,
    purposes: Iterable[Purpose] | None = None,
    reason: str = "",
) -> Agreement | Amendment:
    """What "Save changes" on an agreement means, decided here: a draft or an agreement in review changes directly;
    an approved one changes directly only in its trivial fields, and otherwise through its amendment (the open one,
    or a new one). Returns the agreement or the amendment that was written."""
    relations: dict[str, Any] = {"parties": parties, "datasets": datasets, "purposes": purposes}
    if agreement.status != AgreementStatus.ACTIVE:
        return agreement_update(actor=actor, agreement=agreement, fields=fields, reason=reason, **relations)
    if open_amendment := selectors.amendment_open(agreement=agreement):
        return amendment_update(actor=actor, amendment=open_amendment, fields=fields, reason=reason, **relations)
    try:
        with transaction.atomic():
            return agreement_update(actor=actor, agreement=agreement, fields=fields, reason=reason, **relations)
    except ValidationError as error:
        if getattr(error, "code", None) != LIVE_CHANGE_REFUSED:
            raise
    return amendment_propose(actor=actor, agreement=agreement, fields=fields, reason=reason, **relations)
