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

from agreements import selectors
from agreements.models import Agreement, Amendment
from audit.models import AuditEvent

Status = Agreement.Status
Action = AuditEvent.Action
PARTNER_PERMISSION = "agreements.act_for_organisation"


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
    # From these statuses the step is not taken at once: it is a request (an Amendment of the step's kind) that a
    # second person approves, and approving it takes the step.
    by_request_from: frozenset[str] = frozenset()

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
            by_request_from=frozenset({Status.ACTIVE}),
        ),
        # Only ever a request (by_request_from is all its sources), which an approver decides: whoever may submit
        # an agreement for review may ask for it, naming the agreement that replaces it.
        Step(
            SUPERSEDE,
            frozenset({Status.ACTIVE}),
            Status.SUPERSEDED,
            "agreements.submit_agreement",
            four_eyes=False,
            reason_required=True,
            audit_action=Action.SUPERSEDED,
            reason_message="Enter why this agreement is being superseded",
            by_request_from=frozenset({Status.ACTIVE}),
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


# Changes to an active agreement that need no second person: only who in the IG team looks after it. It is not
# published and no rule reads it. Everything else (every date, the review date included as the Information Sharing
# Register publishes it; level of data, datasets, parties, purposes, parent, legal basis...) is an amendment.
TRIVIAL_FIELDS = frozenset({"owner"})

# The audit actions that change an agreement's details: whoever took one since the last approval is an editor.
_EDITS = (Action.CREATED, Action.UPDATED)


def four_eyes_refusal(actor: Actor, subject: Agreement | Amendment) -> str:
    """Why this person may not take a four-eyes step on this agreement or amendment ("" when they may): the one
    place an approver is compared with the people who wrote what is approved.

    An agreement: not whoever changed it since it was last approved (its audit trail), the last editor first.
    An amendment: not its author, not anyone who changed it, and for a partner's amendment nobody acting for
    that partner."""
    if actor is None:
        return ""
    if isinstance(subject, Amendment):
        return _amendment_four_eyes(actor, subject)
    agreement = subject
    if agreement.last_edited_by_id is not None and agreement.last_edited_by_id == actor.pk:
        return (
            "You cannot approve this agreement because you were the last person to edit it. "
            "Another approver must approve it."
        )
    events = AuditEvent.objects.filter(agreement=agreement)
    last_approval = events.filter(action__in=[Action.APPROVED, Action.AMENDMENT_APPROVED]).order_by("-at").first()
    if last_approval:
        events = events.filter(at__gt=last_approval.at)
    if events.filter(action__in=_EDITS, actor_id=actor.pk).exists():
        return (
            "You cannot approve this agreement because you changed it since it was last approved. "
            "Another approver must approve it."
        )
    return ""


def _amendment_four_eyes(actor: User | AnonymousUser, amendment: Amendment) -> str:
    if actor.pk is None:
        return "Sign in as an IG approver to approve an amendment."
    if amendment.author_id == actor.pk:
        return "You cannot approve this amendment because you proposed it. Another approver must approve it."
    if amendment.contributors.filter(pk=actor.pk).exists():
        return "You cannot approve this amendment because you changed it. Another approver must approve it."
    if amendment.partner is not None and actor.has_perm(PARTNER_PERMISSION, amendment.partner):
        return (
            f"You cannot approve this amendment because you act for {amendment.partner.name}, whose contact "
            "proposed it. Another approver must approve it."
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
        SUPERSEDE: "ask for it to be superseded",
        EXPIRE: "expire it",
    }[step.name]


# ---------------------------------------------------------------------------------------------------------
# Amendments: the same kind of table for the proposed new version of an approved agreement (or a request to end
# it). An amendment starts as a draft (services.amendment_propose; a request to end it starts submitted).

AmendmentStatus = Amendment.Status
AMENDMENT_SUBMIT = "submit"
AMENDMENT_RETURN = "return"
AMENDMENT_APPROVE = "approve"
AMENDMENT_WITHDRAW = "withdraw"
# Who may take a step whose `permission` is None, by their relation to the amendment rather than a role.
EDITOR = "the IG team, or a partner contact of a party to the agreement"
AUTHOR_OR_APPROVER = "its author, or an IG approver"

AMENDMENT_STEPS: dict[str, Step] = {
    step.name: step
    for step in [
        Step(
            AMENDMENT_SUBMIT,
            frozenset({AmendmentStatus.DRAFT, AmendmentStatus.RETURNED}),
            AmendmentStatus.SUBMITTED,
            None,
            four_eyes=False,
            reason_required=False,
            audit_action=Action.AMENDMENT_SUBMITTED,
        ),
        Step(
            AMENDMENT_RETURN,
            frozenset({AmendmentStatus.SUBMITTED}),
            AmendmentStatus.RETURNED,
            "agreements.approve_agreement",
            four_eyes=False,
            reason_required=True,
            audit_action=Action.AMENDMENT_RETURNED,
            reason_message="Enter what needs to change before it can be approved",
        ),
        Step(
            AMENDMENT_APPROVE,
            frozenset({AmendmentStatus.SUBMITTED}),
            AmendmentStatus.APPROVED,
            "agreements.approve_agreement",
            four_eyes=True,
            reason_required=False,
            audit_action=Action.AMENDMENT_APPROVED,
        ),
        Step(
            AMENDMENT_WITHDRAW,
            frozenset({AmendmentStatus.DRAFT, AmendmentStatus.SUBMITTED, AmendmentStatus.RETURNED}),
            AmendmentStatus.WITHDRAWN,
            None,
            four_eyes=False,
            reason_required=False,
            audit_action=Action.AMENDMENT_WITHDRAWN,
        ),
    ]
}
AMENDMENT_WHO = {AMENDMENT_SUBMIT: EDITOR, AMENDMENT_WITHDRAW: AUTHOR_OR_APPROVER}
# The statuses in which an amendment's proposed version can still be changed.
AMENDMENT_EDITABLE_STATUSES = frozenset({AmendmentStatus.DRAFT, AmendmentStatus.RETURNED})


def may_change(actor: Actor, agreement: Agreement) -> bool:
    """The IG team, or a partner contact of one of the agreement's parties."""
    if actor is None:
        return True
    if not actor.is_active:
        return False
    if actor.has_perm("agreements.change_agreement"):
        return True
    return selectors.organisations_for_partner(user=actor).filter(parties__agreement=agreement).exists()


def amendment_may(actor: Actor, amendment: Amendment, step_name: str) -> bool:
    """Whether the person may take the step on this amendment at all, whatever its state."""
    step = AMENDMENT_STEPS[step_name]
    if actor is None:
        return True
    if step.permission is not None:
        return actor.is_active and actor.has_perm(step.permission)
    if AMENDMENT_WHO[step_name] == EDITOR:
        return may_change(actor, amendment.agreement)
    return actor.is_active and (amendment.author_id == actor.pk or actor.has_perm("agreements.approve_agreement"))


def amendment_refusal(actor: Actor, amendment: Amendment, step_name: str) -> str:
    """Why the step cannot be taken on the amendment now, in plain English ("" when it can)."""
    step = AMENDMENT_STEPS[step_name]
    if not amendment_may(actor, amendment, step_name):
        who = AMENDMENT_WHO.get(step_name, "an IG approver")
        return f"Only {who} can {step_name} this amendment."
    if amendment.status not in step.sources:
        return (
            f"This amendment of {amendment.agreement.reference} is {amendment.get_status_display().lower()}, "
            f"so it cannot be {step.label.removeprefix('amendment ')}"
        )
    if step.four_eyes:
        return four_eyes_refusal(actor, amendment)
    return ""


def amendment_available(actor: Actor, amendment: Amendment) -> list[str]:
    """The steps this person can take on this amendment now: the buttons its page shows."""
    return [name for name in AMENDMENT_STEPS if not amendment_refusal(actor, amendment, name)]
