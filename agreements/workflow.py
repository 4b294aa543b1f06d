"""The agreement workflow: one table says who may do what in which state, and whether a second person must.

Services enforce it (agreements.services.agreements), the staff pages show only the buttons it allows and ask it
why a step is refused, and tests walk every row of it against every role. Four eyes is decided here only, in
`four_eyes_refusal`. Nothing else in the project compares an approver with an editor.

The acting user is None for the system: data loading, imports and the scheduled jobs (expiry). The system may take
any step; people need the step's permission from their role (agreements.roles).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User

from agreements.models import Agreement
from audit.models import AuditEvent

Status = Agreement.Status
Action = AuditEvent.Action


@dataclass(frozen=True)
class Step:
    """One row of the workflow table."""

    name: str
    sources: frozenset[str]
    target: str
    # The model permission a person needs; None for a step only the system takes.
    permission: str | None
    # A second person: whoever takes the step must not be whoever last changed the agreement.
    four_eyes: bool
    reason_required: bool
    audit_action: str
    # What a refusal for a missing reason says, next to the field.
    reason_message: str = ""

    @property
    def label(self) -> str:
        return AuditEvent.Action(self.audit_action).label.lower()


SUBMIT = "submit"
RETURN = "return"
APPROVE = "approve"
TERMINATE = "terminate"
SUPERSEDE = "supersede"
EXPIRE = "expire"

STEPS: dict[str, Step] = {
    step.name: step
    for step in [
        Step(
            SUBMIT,
            frozenset({Status.DRAFT}),
            Status.IN_REVIEW,
            "agreements.submit_agreement",
            four_eyes=False,
            reason_required=False,
            audit_action=Action.SUBMITTED,
        ),
        Step(
            RETURN,
            frozenset({Status.IN_REVIEW}),
            Status.DRAFT,
            "agreements.approve_agreement",
            four_eyes=False,
            reason_required=True,
            audit_action=Action.RETURNED,
            reason_message="Enter what needs to change before it can be approved",
        ),
        Step(
            APPROVE,
            frozenset({Status.IN_REVIEW}),
            Status.ACTIVE,
            "agreements.approve_agreement",
            four_eyes=True,
            reason_required=False,
            audit_action=Action.APPROVED,
        ),
        Step(
            TERMINATE,
            frozenset({Status.DRAFT, Status.IN_REVIEW, Status.ACTIVE}),
            Status.TERMINATED,
            "agreements.terminate_agreement",
            four_eyes=False,
            reason_required=True,
            audit_action=Action.TERMINATED,
            reason_message="Enter why the agreement is being terminated",
        ),
        Step(
            SUPERSEDE,
            frozenset({Status.ACTIVE}),
            Status.SUPERSEDED,
            "agreements.terminate_agreement",
            four_eyes=False,
            reason_required=True,
            audit_action=Action.SUPERSEDED,
            reason_message="Enter what supersedes this agreement",
        ),
        Step(
            EXPIRE,
            frozenset({Status.ACTIVE}),
            Status.EXPIRED,
            None,
            four_eyes=False,
            reason_required=False,
            audit_action=Action.EXPIRED,
        ),
    ]
}

# The statuses in which an agreement's details can still be changed.
EDITABLE_STATUSES = frozenset({Status.DRAFT, Status.IN_REVIEW, Status.ACTIVE})

# The fields a partner contact may change on its own organisation's agreements (datasets and purposes are the
# relations). Parties, owner, parent, kind, reference, status, publication and sub-licensing are the IG team's.
PARTNER_EDITABLE_FIELDS = frozenset(
    {
        "datasets",
        "purposes",
        "title",
        "summary",
        "start_date",
        "end_date",
        "review_date",
        "data_level",
        "article_6_basis",
        "article_9_condition",
        "common_law_basis",
        "statutory_gateway",
        "opt_out",
        "opt_out_reason",
        "dpia_reference",
    }
)

Actor = User | AnonymousUser | None


def four_eyes_refusal(actor: Actor, agreement: Agreement) -> str:
    """Why this person may not take a four-eyes step on this agreement ("" when they may)."""
    if actor is None:
        return ""
    if agreement.last_edited_by_id is not None and agreement.last_edited_by_id == actor.pk:
        return (
            "You cannot approve this agreement because you were the last person to edit it. "
            "Another approver must approve it."
        )
    return ""


def may(actor: Actor, step_name: str) -> bool:
    """Whether the person's role allows the step at all, whatever the agreement's state."""
    step = STEPS[step_name]
    if actor is None:
        return True
    return step.permission is not None and actor.is_active and actor.has_perm(step.permission)


def refusal(actor: Actor, agreement: Agreement, step_name: str) -> str:
    """Why the step cannot be taken now, in plain English ("" when it can)."""
    step = STEPS[step_name]
    if not may(actor, step_name):
        return f"You do not have permission to {_verb(step)}. Ask an IG approver."
    if agreement.status not in step.sources:
        allowed = " or ".join(sorted(Status(s).label.lower() for s in step.sources))
        return (
            f"{agreement.reference} is {agreement.get_status_display().lower()}; only an agreement that is "
            f"{allowed} can be {step.label}"
        )
    if step.four_eyes:
        return four_eyes_refusal(actor, agreement)
    return ""


def available(actor: Actor, agreement: Agreement) -> list[str]:
    """The steps this person can take on this agreement now: the buttons its page shows."""
    return [name for name, step in STEPS.items() if step.permission and not refusal(actor, agreement, name)]


def _verb(step: Step) -> str:
    return {
        SUBMIT: "submit it for review",
        RETURN: "return it to draft",
        APPROVE: "approve it",
        TERMINATE: "terminate it",
        SUPERSEDE: "mark it superseded",
        EXPIRE: "expire it",
    }[step.name]
