"""Every write to the data-request log. Each service is one transaction that leaves an audit row (who recorded
what, when and why) and, for what happened to a request, a dated RequestEvent (the timeline's source).

Who may do what is the workflow table's (datarequests.workflow); the services enforce it, so a page, an import,
the admin or the shell cannot get round it. Dates (`on`) are when something happened, which may be before it was
recorded (a letter logged a week later), never in the future and never before the request's last event.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from agreements import selectors as agreement_selectors
from agreements.models import Agreement, Organisation
from agreements.services import reference_allocate
from audit.models import AuditEvent
from audit.services import audit_record
from datarequests import workflow
from datarequests.models import (
    DATA_REQUEST_PREFIX,
    DataRequest,
    DataSharingGroup,
    Decision,
    LineItem,
    Meeting,
    MeetingAction,
    RequestEvent,
    ResponseTargets,
)
from datarequests.workflow import Who

Status = DataRequest.Status
Kind = RequestEvent.Kind
Outcome = Decision.Outcome
State = Decision.State

HANDLE = "datarequests.handle_datarequest"
DECIDE_PERSONAL = "datarequests.decide_personal_datarequest"

# Statuses in which line items may be added or changed: before the request is decided.
_EDITABLE = {
    Status.RECEIVED,
    Status.ACKNOWLEDGED,
    Status.UNDER_ASSESSMENT,
    Status.CLARIFICATION_REQUESTED,
    Status.ON_HOLD,
}
_REQUEST_FIELDS = {
    "title",
    "summary",
    "responder",
    "channel",
    "received_on",
    "raised_at",
    "contact_name",
    "contact_email",
    "handler",
}
_LINE_ITEM_FIELDS = {
    "description",
    "geography",
    "period",
    "data_category",
    "purpose",
    "article_6_basis",
    "article_9_condition",
    "necessity",
    "dpia_needed",
}


# ---------------------------------------------------------------------------------------------------------
# Who the actor is, for the workflow table


def roles_of(actor: User | None, request: DataRequest | None = None) -> frozenset[Who]:
    """The workflow roles the actor holds, for this request (a partner contact is a requester only for the
    requests of their own organisations)."""
    if actor is None:
        return frozenset({Who.SYSTEM})
    roles = set()
    if actor.has_perm(HANDLE):
        roles.add(Who.HANDLER)
    if actor.has_perm(DECIDE_PERSONAL):
        roles.add(Who.APPROVER)
    if request is not None and request.pk:
        partner_of = agreement_selectors.organisations_for_partner(user=actor)
        if request.requesters.filter(pk__in=partner_of.values("pk")).exists():
            roles.add(Who.REQUESTER)
    return frozenset(roles)


def may(actor: User | None, action: str, request: DataRequest) -> bool:
    """Whether the table lets this actor take this action on this request now."""
    transition = workflow.BY_ACTION[action]
    return request.status in transition.sources and bool(roles_of(actor, request) & transition.who)


def _require_handler(actor: User | None) -> None:
    if Who.HANDLER not in roles_of(actor):
        raise PermissionDenied("Only the IG team can do this")


# ---------------------------------------------------------------------------------------------------------
# Audit and dates


def _audit(
    *,
    actor: User | None,
    action: str,
    reason: str,
    request: DataRequest | None,
    changes: Mapping[str, Any],
    subject: Any = None,
) -> AuditEvent:
    """One row in the audit trail, about the request (or the group, meeting or targets changed)."""
    return audit_record(actor=actor, action=action, subject=subject or request, reason=reason, changes=changes)


def _today() -> dt.date:
    return timezone.localdate()


def _check_on(request: DataRequest, on: dt.date, *, field: str = "on") -> None:
    if on > _today():
        raise ValidationError({field: "The date cannot be in the future"})
    if on < request.received_on:
        raise ValidationError({field: "The date cannot be before the request was received"})
    last = request.events.order_by("-on").values_list("on", flat=True).first()
    if last and on < last:
        raise ValidationError({field: f"The date cannot be before the request's last event ({last:%d/%m/%Y})"})


def _event(
    request: DataRequest,
    *,
    kind: str,
    on: dt.date,
    actor: User | None,
    note: str = "",
    from_status: str = "",
    to_status: str = "",
    line_item: LineItem | None = None,
) -> RequestEvent:
    return RequestEvent.objects.create(
        request=request,
        kind=kind,
        on=on,
        actor=actor,
        note=note.strip(),
        from_status=from_status,
        to_status=to_status,
        line_item=line_item,
    )


def _validate(instance: Any) -> None:
    instance.full_clean()


# ---------------------------------------------------------------------------------------------------------
# Requests


@transaction.atomic
def request_create(
    *,
    actor: User | None,
    fields: Mapping[str, Any],
    requesters: Iterable[Organisation],
    reason: str = "",
    creation_key: uuid.UUID | None = None,
) -> DataRequest:
    """Log a request as received, with the next DR/YY/N reference (YY from the year it was received)."""
    if actor is not None:
        _require_handler(actor)
    if creation_key and (existing := DataRequest.objects.filter(creation_key=creation_key).first()):
        return existing
    unknown = set(fields) - _REQUEST_FIELDS
    if unknown:
        raise ValueError(f"These fields are set by the system, not by callers: {sorted(unknown)}")
    requesters = list(requesters)
    if not requesters:
        raise ValidationError({"requesters": "Choose at least one requesting organisation"})
    request = DataRequest(creation_key=creation_key, reference="pending", **fields)
    _validate(request)
    if request.received_on > _today():
        raise ValidationError({"received_on": "The date received cannot be in the future"})
    if request.responder in requesters:
        raise ValidationError({"requesters": "The organisation asked cannot also be a requester"})
    if request.raised_at and request.raised_at.held_on > request.received_on:
        raise ValidationError({"raised_at": "The meeting is after the date the request was received"})
    request.reference = reference_allocate(prefix=DATA_REQUEST_PREFIX, on=request.received_on)
    request.save()
    request.requesters.set(requesters)
    note = f"By {request.get_channel_display().lower()}"
    if request.raised_at:
        meeting = request.raised_at
        note += f". Raised at: {meeting.title} ({meeting.held_on.day} {meeting.held_on:%B %Y})"
    _event(request, kind=Kind.RECEIVED, on=request.received_on, actor=actor, note=note, to_status=Status.RECEIVED)
    _audit(
        actor=actor,
        action=AuditEvent.Action.CREATED,
        reason=reason,
        request=request,
        changes={"Title": ["", request.title], "Requesting organisations": ["", _names(requesters)]},
    )
    return request


def _names(organisations: Iterable[Organisation]) -> str:
    return ", ".join(sorted(o.name for o in organisations))


@transaction.atomic
def request_update(
    *, actor: User | None, request: DataRequest, fields: Mapping[str, Any], requesters: Iterable[Organisation] | None
    = None, reason: str = ""
) -> DataRequest:  # fmt: skip
    _require_handler(actor)
    request = DataRequest.objects.select_for_update().get(pk=request.pk)
    if request.status in workflow.ENDED_STATUSES:
        raise ValidationError(f"This request is {request.get_status_display().lower()}: reopen it to change it")
    unknown = set(fields) - _REQUEST_FIELDS
    if unknown:
        raise ValueError(f"These fields are set by the system, not by callers: {sorted(unknown)}")
    if "received_on" in fields and fields["received_on"] != request.received_on:
        raise ValidationError({"received_on": "The date received cannot change: it dates the whole timeline"})
    changes: dict[str, list[str]] = {}
    for name, value in fields.items():
        old = getattr(request, name)
        if old != value:
            changes[str(getattr(DataRequest._meta.get_field(name), "verbose_name", name)).capitalize()] = [
                str(old or ""),
                str(value),
            ]
            setattr(request, name, value)
    _validate(request)
    request.save()
    if requesters is not None:
        requesters = list(requesters)
        if not requesters:
            raise ValidationError({"requesters": "Choose at least one requesting organisation"})
        before = _names(request.requesters.all())
        request.requesters.set(requesters)
        if before != _names(requesters):
            changes["Requesting organisations"] = [before, _names(requesters)]
    _audit(actor=actor, action=AuditEvent.Action.UPDATED, reason=reason, request=request, changes=changes)
    return request


@transaction.atomic
def request_transition(
    *,
    actor: User | None,
    request: DataRequest,
    action: str,
    on: dt.date | None = None,
    reason: str = "",
    resume_on: dt.date | None = None,
    topic: str = "",
) -> DataRequest:
    """Take one action of the workflow table. `reason` is the note the timeline shows (required where the table
    says so); `resume_on` is a hold's resume date; `topic` names what a clarification asks about."""
    if action not in workflow.BY_ACTION:
        raise ValueError(f"Unknown action {action!r}")
    transition = workflow.BY_ACTION[action]
    request = DataRequest.objects.select_for_update().get(pk=request.pk)
    if request.status not in transition.sources:
        raise ValidationError(
            f"A request that is {request.get_status_display().lower()} cannot be given the action "
            f"“{transition.label.lower()}”"
        )
    if not roles_of(actor, request) & transition.who:
        raise PermissionDenied(f"You may not {transition.label.lower()} this request")
    on = on or _today()
    _check_on(request, on)
    errors: dict[str, str] = {}
    if transition.needs_reason and not reason.strip():
        errors["reason"] = "Enter the reason" if action != "request_clarification" else "Enter what was asked"
    if transition.needs_topic and not topic.strip():
        errors["topic"] = "Enter what the clarification is about, for example “rationale”"
    if transition.needs_resume_date:
        if resume_on is None:
            errors["resume_on"] = "Enter the date to resume"
        elif resume_on < on:
            errors["resume_on"] = "The resume date must be on or after the date it was put on hold"
        if len(reason.strip()) > 300:
            errors["reason"] = "Enter a reason of up to 300 characters"
    if errors:
        raise ValidationError(errors)
    _check_preconditions(request, action)

    before = request.status
    target = request.resume_status if transition.target == workflow.PREVIOUS else transition.target
    if transition.target == workflow.PREVIOUS and not target:
        raise ValidationError("This request has no status to return to")
    if target in workflow.PAUSED_STATUSES and before not in workflow.PAUSED_STATUSES:
        request.resume_status = before
    elif target not in workflow.PAUSED_STATUSES:
        request.resume_status = ""
    if action == "hold":
        request.hold_reason, request.hold_until = reason.strip(), resume_on
    elif before == Status.ON_HOLD:
        request.hold_reason, request.hold_until = "", None
    if action == "request_clarification":
        request.clarification_topic = topic.strip()
    elif target not in workflow.PAUSED_STATUSES and action != "lapse":
        request.clarification_topic = ""
    request.status = target
    request.save()
    note = reason
    if action == "request_clarification":
        note = f"About the {topic.strip()}: {reason.strip()}"
    if action == "hold" and resume_on:
        note = f"{reason.strip()} (resume on {resume_on.day} {resume_on:%B %Y})"
    _event(request, kind=transition.event, on=on, actor=actor, note=note, from_status=before, to_status=target)
    _audit(
        actor=actor,
        action=AuditEvent.Action.CLOSED if target == Status.CLOSED else AuditEvent.Action.UPDATED,
        reason=reason,
        request=request,
        changes={"Status": [DataRequest.Status(before).label, DataRequest.Status(target).label]},
    )
    return request


def _check_preconditions(request: DataRequest, action: str) -> None:
    items = list(request.line_items.all())
    live = {d.line_item_id: d for d in Decision.objects.filter(line_item__request=request, state=State.CONFIRMED)}
    if action == "decide":
        if not items:
            raise ValidationError("Add the line items before recording the request as decided")
        undecided = [str(i.position) for i in items if i.pk not in live]
        if undecided:
            raise ValidationError(f"Line items {', '.join(undecided)} have no confirmed decision yet")
    if action == "await_agreement" and not any(d.grants_data for d in live.values()):
        raise ValidationError("No line item was approved: there is nothing to make an agreement for")
    if action == "fulfil":
        waiting = [str(i.position) for i in items if i.pk in live and live[i.pk].grants_data and not i.fulfilled_on]
        if waiting:
            raise ValidationError(f"Line items {', '.join(waiting)} are approved but not yet fulfilled")


@transaction.atomic
def requests_lapse(*, today: dt.date | None = None) -> list[DataRequest]:
    """Lapse every request whose clarification has gone unanswered for longer than its organisation allows.
    The lapse is dated the day the time ran out, so a late run records the same history as a punctual one."""
    today = today or _today()
    lapsed = []
    waiting = DataRequest.objects.filter(status=Status.CLARIFICATION_REQUESTED).select_related("responder")
    for request in waiting:
        asked = request.events.filter(kind=Kind.CLARIFICATION_REQUESTED).order_by("-on", "-pk").first()
        if asked is None:
            continue
        lapse_on = asked.on + dt.timedelta(days=targets_for(request.responder).lapse_after_days)
        if lapse_on > today:
            continue
        topic = request.clarification_topic or "clarification"
        lapsed.append(
            request_transition(
                actor=None,
                request=request,
                action="lapse",
                on=lapse_on,
                reason=f"lapsed: {topic} queried {asked.on:%Y-%m-%d}, no response",
            )
        )
    return lapsed


def targets_for(organisation: Organisation) -> ResponseTargets:
    """The organisation's targets, or the defaults (unsaved) when it has set none."""
    return ResponseTargets.objects.filter(organisation=organisation).first() or ResponseTargets(
        organisation=organisation
    )


@transaction.atomic
def response_targets_set(
    *, actor: User | None, organisation: Organisation, acknowledge_days: int, decide_days: int,
    lapse_after_days: int, reason: str = ""
) -> ResponseTargets:  # fmt: skip
    _require_handler(actor)
    targets, _ = ResponseTargets.objects.get_or_create(organisation=organisation)
    before = [targets.acknowledge_days, targets.decide_days, targets.lapse_after_days]
    targets.acknowledge_days, targets.decide_days, targets.lapse_after_days = (
        acknowledge_days,
        decide_days,
        lapse_after_days,
    )
    _validate(targets)
    if min(acknowledge_days, decide_days, lapse_after_days) < 1:
        raise ValidationError("Every target must be at least one day")
    targets.save()
    _audit(
        actor=actor,
        action=AuditEvent.Action.UPDATED,
        reason=reason,
        request=None,
        subject=targets,
        changes={f"Response targets of {organisation.name}": [str(before), str([acknowledge_days, decide_days,
                                                                                  lapse_after_days])]},
    )  # fmt: skip
    return targets


# ---------------------------------------------------------------------------------------------------------
# Line items


def check_line_item(item: LineItem) -> None:
    """The line item's own rules (an Article 9 condition for special category data only), keyed by field."""
    errors = {}
    if item.data_category == LineItem.Category.SPECIAL and not item.article_9_condition:
        errors["article_9_condition"] = "Special category data needs an Article 9 condition"
    if item.data_category != LineItem.Category.SPECIAL and item.article_9_condition:
        errors["article_9_condition"] = "Only special category data has an Article 9 condition"
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def line_item_add(*, actor: User | None, request: DataRequest, fields: Mapping[str, Any], reason: str = "") -> LineItem:
    _require_handler(actor)
    request = DataRequest.objects.select_for_update().get(pk=request.pk)
    if request.status not in _EDITABLE and request.status != Status.UNDER_ASSESSMENT:
        raise ValidationError(f"Line items cannot be added to a {request.get_status_display().lower()} request")
    unknown = set(fields) - _LINE_ITEM_FIELDS
    if unknown:
        raise ValueError(f"Unknown line item fields: {sorted(unknown)}")
    position = (request.line_items.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    item = LineItem(request=request, position=position, **fields)
    check_line_item(item)
    _validate(item)
    item.save()
    _audit(
        actor=actor,
        action=AuditEvent.Action.UPDATED,
        reason=reason,
        request=request,
        changes={f"Line item {position}": ["", item.description]},
    )
    return item


@transaction.atomic
def line_item_update(*, actor: User | None, item: LineItem, fields: Mapping[str, Any], reason: str = "") -> LineItem:
    _require_handler(actor)
    item = LineItem.objects.select_for_update().select_related("request").get(pk=item.pk)
    if item.request.status not in _EDITABLE:
        raise ValidationError("Line items cannot change once the request is decided: reopen it first")
    if item.decisions.filter(state__in=[State.PROPOSED, State.CONFIRMED]).exists():
        raise ValidationError("This line item has a decision: it cannot change under it")
    unknown = set(fields) - _LINE_ITEM_FIELDS
    if unknown:
        raise ValueError(f"Unknown line item fields: {sorted(unknown)}")
    changes = {}
    for name, value in fields.items():
        old = getattr(item, name)
        if old != value:
            changes[f"Line item {item.position}: {getattr(LineItem._meta.get_field(name), 'verbose_name', name)}"] = [
                str(old),
                str(value),
            ]
            setattr(item, name, value)
    check_line_item(item)
    _validate(item)
    item.save()
    _audit(actor=actor, action=AuditEvent.Action.UPDATED, reason=reason, request=item.request, changes=changes)
    return item


@transaction.atomic
def line_item_fulfil(
    *, actor: User | None, item: LineItem, agreements: Iterable[Agreement], on: dt.date | None = None,
    reason: str = ""
) -> LineItem:  # fmt: skip
    """Record that the data of an approved line item has been provided, under the agreements that cover it."""
    _require_handler(actor)
    item = LineItem.objects.select_for_update().select_related("request").get(pk=item.pk)
    request = item.request
    if request.status not in {Status.DECIDED, Status.AGREEMENT_PENDING}:
        raise ValidationError("Only a decided request's line items can be fulfilled")
    decision = item.decisions.filter(state=State.CONFIRMED).first()
    if decision is None or not decision.grants_data:
        raise ValidationError("Only an approved line item can be fulfilled")
    if item.fulfilled_on:
        raise ValidationError("This line item is already fulfilled")
    agreements = list(agreements)
    not_active = [a.reference for a in agreements if a.status != Agreement.Status.ACTIVE]
    if not_active:
        raise ValidationError({"agreements": f"Only active (signed) agreements can cover it: {', '.join(not_active)}"})
    on = on or _today()
    _check_on(request, on)
    item.fulfilled_on = on
    item.save(update_fields=["fulfilled_on"])
    item.agreements.add(*agreements)
    under = ", ".join(a.reference for a in agreements)
    note = f"Line item {item.position} ({item.description[:80]})" + (f" shared under {under}" if under else "")
    if reason.strip():
        note += f". {reason.strip()}"
    _event(request, kind=Kind.LINE_ITEM_FULFILLED, on=on, actor=actor, note=note, line_item=item)
    _audit(
        actor=actor,
        action=AuditEvent.Action.UPDATED,
        reason=reason,
        request=request,
        changes={f"Line item {item.position}": ["", f"fulfilled under {under or 'no agreement'}"]},
    )
    return item


# ---------------------------------------------------------------------------------------------------------
# Decisions (four eyes on personal data)


def _check_decision(decision: Decision) -> None:
    errors = {}
    if decision.outcome == Outcome.PUBLICLY_AVAILABLE and not decision.public_link:
        errors["public_link"] = "Enter the link where it is published"
    if decision.outcome == Outcome.REFERRED and not decision.referred_to.strip():
        errors["referred_to"] = "Enter who it was referred to"
    if decision.outcome == Outcome.APPROVED_WITH_CONDITIONS and not decision.conditions.strip():
        errors["conditions"] = "Enter the conditions"
    if decision.outcome in {Outcome.REFUSED, Outcome.PARTLY_APPROVED} and not decision.rationale.strip():
        errors["rationale"] = "Enter the reason"
    if errors:
        raise ValidationError(errors)


def _decision_note(decision: Decision) -> str:
    item = decision.line_item
    text = f"Line item {item.position} ({item.description[:80]}): {decision.get_outcome_display().lower()}"
    extra = {
        Outcome.PUBLICLY_AVAILABLE: decision.public_link,
        Outcome.REFERRED: f"to {decision.referred_to}",
        Outcome.APPROVED_WITH_CONDITIONS: decision.conditions,
    }.get(Outcome(decision.outcome), "")
    return f"{text}{' ' + extra if extra else ''}. {decision.rationale}".strip()


@transaction.atomic
def decision_propose(
    *,
    actor: User,
    item: LineItem,
    outcome: str,
    rationale: str,
    decided_on: dt.date | None = None,
    conditions: str = "",
    public_link: str = "",
    referred_to: str = "",
) -> Decision:
    """Record the decision on a line item. On non-personal data it is confirmed at once; on personal or special
    category data it waits for an approver who is not the proposer (decision_approve). A new decision after a
    reopen supersedes the old one, which is kept."""
    item = LineItem.objects.select_for_update().select_related("request").get(pk=item.pk)
    request = item.request
    if Who.HANDLER not in roles_of(actor, request):
        raise PermissionDenied("Only the IG team can record a decision")
    if request.status != Status.UNDER_ASSESSMENT:
        raise ValidationError("Decisions are recorded while the request is under assessment")
    if item.decisions.filter(state=State.PROPOSED).exists():
        raise ValidationError("This line item already has a decision waiting for approval")
    decided_on = decided_on or _today()
    _check_on(request, decided_on, field="decided_on")
    decision = Decision(
        line_item=item,
        outcome=outcome,
        rationale=rationale.strip(),
        conditions=conditions.strip(),
        public_link=public_link.strip(),
        referred_to=referred_to.strip(),
        decided_on=decided_on,
        proposed_by=actor,
        state=State.PROPOSED if item.is_personal else State.CONFIRMED,
    )
    _check_decision(decision)
    if item.is_personal and decision.grants_data and not item.article_6_basis:
        raise ValidationError({"outcome": "Record the line item's Article 6 basis before approving personal data"})
    if not item.is_personal:
        item.decisions.filter(state=State.CONFIRMED).update(state=State.SUPERSEDED)
    _validate(decision)
    decision.save()
    if decision.state == State.CONFIRMED:
        _event(
            request, kind=Kind.LINE_ITEM_DECIDED, on=decided_on, actor=actor, note=_decision_note(decision),
            line_item=item,
        )  # fmt: skip
    _audit(
        actor=actor,
        action=AuditEvent.Action.UPDATED if decision.state == State.CONFIRMED else AuditEvent.Action.SUBMITTED,
        reason=decision.rationale,
        request=request,
        changes={f"Line item {item.position} decision": ["", f"{decision.get_outcome_display()} "
                                                             f"({decision.get_state_display().lower()})"]},
    )  # fmt: skip
    return decision


@transaction.atomic
def decision_approve(*, actor: User, decision: Decision, on: dt.date | None = None, reason: str = "") -> Decision:
    """The second pair of eyes on a decision about personal data: an approver who did not propose it."""
    decision = Decision.objects.select_for_update().select_related("line_item__request").get(pk=decision.pk)
    request = decision.line_item.request
    if Who.APPROVER not in roles_of(actor, request):
        raise PermissionDenied("Only an IG approver can approve a decision on personal data")
    if decision.state != State.PROPOSED:
        raise ValidationError("Only a proposed decision can be approved")
    if actor.pk == decision.proposed_by_id:
        raise ValidationError("Someone other than the person who proposed the decision must approve it")
    on = on or _today()
    _check_on(request, on)
    if on < decision.decided_on:
        raise ValidationError({"on": "The approval cannot be before the decision"})
    decision.line_item.decisions.filter(state=State.CONFIRMED).update(state=State.SUPERSEDED)
    decision.state = State.CONFIRMED
    decision.approved_by = actor
    decision.approved_at = timezone.now()
    decision.save()
    who = actor.get_full_name() or actor.get_username()
    _event(
        request, kind=Kind.LINE_ITEM_DECIDED, on=on, actor=actor,
        note=f"{_decision_note(decision)} Approved by {who} (second approver).", line_item=decision.line_item,
    )  # fmt: skip
    _audit(
        actor=actor,
        action=AuditEvent.Action.APPROVED,
        reason=reason,
        request=request,
        changes={f"Line item {decision.line_item.position} decision": ["Proposed", decision.get_outcome_display()]},
    )
    return decision


@transaction.atomic
def decision_return(*, actor: User, decision: Decision, reason: str) -> Decision:
    decision = Decision.objects.select_for_update().select_related("line_item__request").get(pk=decision.pk)
    request = decision.line_item.request
    if Who.APPROVER not in roles_of(actor, request):
        raise PermissionDenied("Only an IG approver can return a decision")
    if decision.state != State.PROPOSED:
        raise ValidationError("Only a proposed decision can be returned")
    if not reason.strip():
        raise ValidationError({"reason": "Enter why the decision is returned"})
    decision.state = State.RETURNED
    decision.save(update_fields=["state"])
    _audit(
        actor=actor,
        action=AuditEvent.Action.RETURNED,
        reason=reason,
        request=request,
        changes={f"Line item {decision.line_item.position} decision": ["Proposed", "Returned"]},
    )
    return decision


# ---------------------------------------------------------------------------------------------------------
# Groups and meetings


@transaction.atomic
def group_create(
    *, actor: User | None, name: str, chair: Organisation, members: Iterable[Organisation],
    terms_of_reference_url: str = "", reason: str = ""
) -> DataSharingGroup:  # fmt: skip
    _require_handler(actor)
    members = list(members)
    group = DataSharingGroup(name=name.strip(), chair=chair, terms_of_reference_url=terms_of_reference_url.strip())
    _validate(group)
    if chair not in members:
        raise ValidationError({"chair": "The chair organisation must be one of the members"})
    group.save()
    group.members.set(members)
    _audit(
        actor=actor,
        action=AuditEvent.Action.CREATED,
        reason=reason,
        request=None,
        subject=group,
        changes={"Data sharing group": ["", group.name], "Members": ["", _names(members)]},
    )
    return group


@transaction.atomic
def meeting_record(
    *,
    actor: User | None,
    title: str,
    held_on: dt.date,
    group: DataSharingGroup | None = None,
    attendees: str = "",
    organisations: Iterable[Organisation] = (),
    requests_discussed: Iterable[DataRequest] = (),
    decisions: str = "",
    reason: str = "",
) -> Meeting:
    _require_handler(actor)
    meeting = Meeting(title=title.strip(), held_on=held_on, group=group, attendees=attendees.strip(),
                      decisions=decisions.strip())  # fmt: skip
    _validate(meeting)
    if held_on > _today():
        raise ValidationError({"held_on": "Record a meeting once it has taken place"})
    discussed = list(requests_discussed)
    early = [r.reference for r in discussed if r.received_on > held_on]
    if early:
        raise ValidationError({"requests_discussed": f"Received after the meeting: {', '.join(early)}"})
    meeting.save()
    meeting.organisations.set(list(organisations))
    meeting.requests_discussed.set(discussed)
    _audit(
        actor=actor,
        action=AuditEvent.Action.CREATED,
        reason=reason,
        request=None,
        subject=meeting,
        changes={"Meeting": ["", str(meeting)], "Requests discussed": ["", ", ".join(r.reference for r in discussed)]},
    )
    return meeting


@transaction.atomic
def meeting_action_add(
    *, actor: User | None, meeting: Meeting, description: str, owner: str, due_on: dt.date
) -> MeetingAction:
    _require_handler(actor)
    action = MeetingAction(meeting=meeting, description=description.strip(), owner=owner.strip(), due_on=due_on)
    _validate(action)
    if due_on < meeting.held_on:
        raise ValidationError({"due_on": "The due date cannot be before the meeting"})
    action.save()
    _audit(
        actor=actor,
        action=AuditEvent.Action.UPDATED,
        reason="",
        request=None,
        subject=meeting,
        changes={f"Action from {meeting}": ["", f"{action.description} ({action.owner}, due {due_on:%Y-%m-%d})"]},
    )
    return action
