"""The workflow table (agreements.workflow) walked whole: every status, step and role, through the services, with
the staff page's buttons agreeing. Four eyes is decided only by the table."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from agreements import roles, services, workflow
from agreements.models import Agreement
from audit.models import AuditEvent
from staff.permissions import agreement_actions
from tests.factories import AgreementFactory, UserFactory, signed

pytestmark = pytest.mark.django_db

Status = Agreement.Status
SERVICES = {
    workflow.SUBMIT: services.agreement_submit,
    workflow.RETURN: services.agreement_return,
    workflow.APPROVE: services.agreement_approve,
    workflow.TERMINATE: services.agreement_terminate,
    workflow.SUPERSEDE: services.agreement_supersede,
}
# Who holds each step's permission, from agreements.roles: the table is read against the real role groups.
ROLE_STEPS = {
    # Superseding is only ever a request an approver decides: whoever may submit may ask for it.
    roles.IG_OFFICER: {workflow.SUBMIT, workflow.SUPERSEDE},
    roles.IG_APPROVER: {workflow.SUBMIT, workflow.RETURN, workflow.APPROVE, workflow.TERMINATE, workflow.SUPERSEDE},
    roles.AUDITOR: set(),
    "partner": set(),
}


def _user(role: str) -> Any:
    return UserFactory(role=None if role == "partner" else role)


@pytest.mark.parametrize("role", list(ROLE_STEPS))
@pytest.mark.parametrize("status", list(Status.values))
@pytest.mark.parametrize("step_name", list(SERVICES))
def test_every_status_step_and_role(role: str, status: str, step_name: str) -> None:
    step = workflow.STEPS[step_name]
    actor = _user(role)
    agreement = signed(AgreementFactory(status=status))
    offered = step_name in ROLE_STEPS[role] and status in step.sources
    # From an approved agreement, ending it is a request a second person approves (tests/agreements/
    # test_amendments.py): the page offers it, the step itself is not taken.
    allowed = offered and status not in step.by_request_from
    call = SERVICES[step_name]
    if step_name not in ROLE_STEPS[role]:
        with pytest.raises(PermissionDenied):
            call(actor=actor, agreement=agreement, reason="Because")
    elif offered and not allowed:
        with pytest.raises(ValidationError, match="when another person approves a request"):
            call(actor=actor, agreement=agreement, reason="Because")
    elif not allowed:
        with pytest.raises(ValidationError, match="only an agreement that is"):
            call(actor=actor, agreement=agreement, reason="Because")
    else:
        call(actor=actor, agreement=agreement, reason="Because")
    agreement.refresh_from_db()
    assert agreement.status == (step.target if allowed else status)
    events = AuditEvent.objects.filter(agreement=agreement, action=step.audit_action)
    assert events.count() == (1 if allowed else 0)
    # The page offers exactly the steps the table allows.
    assert agreement_actions(actor, AgreementFactory(status=status))[step_name] is offered


def test_four_eyes_the_last_editor_cannot_approve_but_another_approver_can() -> None:
    first, second = UserFactory(role=roles.IG_APPROVER), UserFactory(role=roles.IG_APPROVER)
    agreement = signed(AgreementFactory(status=Status.DRAFT))
    services.agreement_update(actor=first, agreement=agreement, fields={"title": "Changed by the first approver"})
    agreement = services.agreement_submit(actor=first, agreement=agreement)
    assert workflow.refusal(first, agreement, workflow.APPROVE).startswith("You cannot approve this agreement")
    with pytest.raises(ValidationError, match="last person to edit it"):
        services.agreement_approve(actor=first, agreement=agreement)
    services.agreement_approve(actor=second, agreement=agreement)
    agreement.refresh_from_db()
    assert agreement.status == Status.ACTIVE
    assert workflow.STEPS[workflow.APPROVE].four_eyes
    assert [name for name, step in workflow.STEPS.items() if step.four_eyes] == [workflow.APPROVE]


def test_a_reason_is_required_where_the_table_says_so() -> None:
    approver = UserFactory(role=roles.IG_APPROVER)
    for name, step in workflow.STEPS.items():
        if not step.reason_required or name not in SERVICES:
            continue
        agreement = AgreementFactory(status=next(iter(step.sources)))
        with pytest.raises(ValidationError) as raised:
            SERVICES[name](actor=approver, agreement=agreement, reason="  ")
        assert raised.value.message_dict == {"reason": [step.reason_message]}


def test_the_system_expires_but_no_person_can() -> None:
    assert workflow.STEPS[workflow.EXPIRE].permission is None
    assert not workflow.may(UserFactory(role=roles.IG_APPROVER, is_superuser=True), workflow.EXPIRE)
    assert workflow.may(None, workflow.EXPIRE)
