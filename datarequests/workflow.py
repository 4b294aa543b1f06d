"""The data-request workflow: one table that the services, the staff pages, the templates and the tests read.

Each row says: from which statuses an action may be taken, the status it leads to, who may take it, whether a
second person must approve (four eyes), and what the person must give (a reason; a resume date). The decision
on each line item has its own small table below, because its four eyes are per line item, not per request.

Who may act:
- HANDLER: the IG team (the `datarequests.handle_datarequest` permission: officers and approvers);
- APPROVER: holds `datarequests.decide_personal_datarequest`;
- REQUESTER: a partner contact of one of the requesting organisations;
- SYSTEM: a scheduled task (no actor).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from datarequests.models import DataRequest, RequestEvent

Status = DataRequest.Status
Kind = RequestEvent.Kind


class Who(StrEnum):
    HANDLER = "handler"
    APPROVER = "approver"
    REQUESTER = "requester"
    SYSTEM = "system"


# The target of a pause's ending: back to where the request was when it paused.
PREVIOUS = "previous"

OPEN_STATUSES = frozenset(
    {
        Status.RECEIVED,
        Status.ACKNOWLEDGED,
        Status.UNDER_ASSESSMENT,
        Status.CLARIFICATION_REQUESTED,
        Status.ON_HOLD,
        Status.DECIDED,
        Status.AGREEMENT_PENDING,
    }
)
# The clock stops while the request waits on the requester.
PAUSED_STATUSES = frozenset({Status.CLARIFICATION_REQUESTED, Status.ON_HOLD})
ENDED_STATUSES = frozenset({Status.CLOSED, Status.WITHDRAWN, Status.LAPSED})
_BEFORE_DECISION = frozenset({Status.RECEIVED, Status.ACKNOWLEDGED, Status.UNDER_ASSESSMENT})


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: frozenset[str]
    target: str
    who: frozenset[Who]
    event: str
    four_eyes: bool = False
    needs_reason: bool = False
    needs_resume_date: bool = False
    needs_topic: bool = False
    # Shown as a secondary (warning) button: it ends or sets back the request.
    destructive: bool = False


TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "acknowledge", "Acknowledge", frozenset({Status.RECEIVED}), Status.ACKNOWLEDGED,
        frozenset({Who.HANDLER}), Kind.ACKNOWLEDGED,
    ),
    Transition(
        "assess", "Start assessment", frozenset({Status.RECEIVED, Status.ACKNOWLEDGED}), Status.UNDER_ASSESSMENT,
        frozenset({Who.HANDLER}), Kind.ASSESSMENT_STARTED,
    ),
    Transition(
        "request_clarification", "Ask for clarification", _BEFORE_DECISION, Status.CLARIFICATION_REQUESTED,
        frozenset({Who.HANDLER}), Kind.CLARIFICATION_REQUESTED, needs_reason=True, needs_topic=True,
    ),
    Transition(
        "answer_clarification", "Record the answer", frozenset({Status.CLARIFICATION_REQUESTED}), PREVIOUS,
        frozenset({Who.HANDLER, Who.REQUESTER}), Kind.CLARIFICATION_ANSWERED, needs_reason=True,
    ),
    Transition(
        "hold", "Put on hold", _BEFORE_DECISION | {Status.CLARIFICATION_REQUESTED}, Status.ON_HOLD,
        frozenset({Who.HANDLER}), Kind.HELD, needs_reason=True, needs_resume_date=True,
    ),
    Transition(
        "resume", "Resume", frozenset({Status.ON_HOLD}), PREVIOUS,
        frozenset({Who.HANDLER}), Kind.RESUMED,
    ),
    Transition(
        "decide", "Record the request as decided", frozenset({Status.UNDER_ASSESSMENT}), Status.DECIDED,
        frozenset({Who.HANDLER}), Kind.DECIDED,
    ),
    Transition(
        "await_agreement", "Wait for an agreement", frozenset({Status.DECIDED}), Status.AGREEMENT_PENDING,
        frozenset({Who.HANDLER}), Kind.AGREEMENT_PENDING,
    ),
    Transition(
        "fulfil", "Mark fulfilled", frozenset({Status.DECIDED, Status.AGREEMENT_PENDING}), Status.FULFILLED,
        frozenset({Who.HANDLER}), Kind.FULFILLED,
    ),
    Transition(
        "close", "Close", frozenset({Status.DECIDED, Status.FULFILLED}), Status.CLOSED,
        frozenset({Who.HANDLER}), Kind.CLOSED,
    ),
    Transition(
        "withdraw", "Record withdrawal", OPEN_STATUSES - {Status.FULFILLED}, Status.WITHDRAWN,
        frozenset({Who.HANDLER, Who.REQUESTER}), Kind.WITHDRAWN, needs_reason=True, destructive=True,
    ),
    Transition(
        "lapse", "Lapse", frozenset({Status.CLARIFICATION_REQUESTED}), Status.LAPSED,
        frozenset({Who.HANDLER, Who.SYSTEM}), Kind.LAPSED, needs_reason=True, destructive=True,
    ),
    Transition(
        "reopen", "Reopen", ENDED_STATUSES, Status.UNDER_ASSESSMENT,
        frozenset({Who.HANDLER}), Kind.REOPENED, needs_reason=True, destructive=True,
    ),
)  # fmt: skip

BY_ACTION = {t.action: t for t in TRANSITIONS}


@dataclass(frozen=True)
class DecisionStep:
    action: str
    label: str
    who: frozenset[Who]
    four_eyes: bool


# A decision on non-personal data is confirmed when it is recorded. On personal or special category data it is
# proposed by a handler and confirmed by an approver who is not the proposer (four eyes), or returned.
DECISION_STEPS: tuple[DecisionStep, ...] = (
    DecisionStep("propose", "Record a decision", frozenset({Who.HANDLER}), four_eyes=False),
    DecisionStep("approve", "Approve the decision", frozenset({Who.APPROVER}), four_eyes=True),
    DecisionStep("return", "Return the decision", frozenset({Who.APPROVER}), four_eyes=False),
)
DECISION_BY_ACTION = {s.action: s for s in DECISION_STEPS}


def available(status: str) -> list[Transition]:
    """The actions the table allows from a status, in the table's order."""
    return [t for t in TRANSITIONS if status in t.sources]
