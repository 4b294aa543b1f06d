"""Who may do what in the staff area.

Two layers, always in this order:

1. Can the user see the object at all? The IG team and auditors see everything (global view permissions from
   their role group); a partner contact sees only the agreements on which one of their organisations is a party
   (guardian object permission on the organisation, read through agreements.selectors). An object the user may
   not see is a 404, never a 403, so a page never reveals that it exists.
2. May the user do this to it? Model permissions from the role groups (roles.ROLES): a 403 page that says so.

Partner contacts may change the details of their own organisation's agreements and add documents to them, but
never approve, submit, return or terminate, and never create organisations or agreements.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render

from agreements import selectors
from agreements.models import Agreement, Amendment, Organisation

VIEW_ALL_AGREEMENTS = "agreements.view_agreement"
VIEW_ALL_ORGANISATIONS = "agreements.view_organisation"
ADD_ORGANISATION = "agreements.add_organisation"
CHANGE_ORGANISATION = "agreements.change_organisation"
ADD_AGREEMENT = "agreements.add_agreement"
CHANGE_AGREEMENT = "agreements.change_agreement"
ADD_DOCUMENT = "agreements.add_document"
SUBMIT = "agreements.submit_agreement"
APPROVE = "agreements.approve_agreement"
TERMINATE = "agreements.terminate_agreement"

# The model permission each workflow step needs. Returning to draft is the approver's decision.
TRANSITION_PERMISSIONS = {
    "submit": SUBMIT,
    "approve": APPROVE,
    "return": APPROVE,
    "terminate": TERMINATE,
}


def sees_everything(user: Any) -> bool:
    """The IG team and auditors: every agreement and organisation, drafts included."""
    return user.is_authenticated and (user.is_superuser or user.has_perm(VIEW_ALL_AGREEMENTS))


def visible_agreements(user: Any) -> QuerySet[Agreement]:
    return selectors.agreement_list(user=user)


def visible_organisations(user: Any) -> QuerySet[Organisation]:
    if not user.is_authenticated:
        return Organisation.objects.none()
    if user.is_superuser or user.has_perm(VIEW_ALL_ORGANISATIONS):
        return Organisation.objects.all()
    return selectors.organisations_for_partner(user=user)


def agreement_or_404(user: Any, pk: int) -> Agreement:
    return get_object_or_404(selectors.agreement_with_relations(visible_agreements(user)), pk=pk)


def organisation_or_404(user: Any, pk: int) -> Organisation:
    return get_object_or_404(visible_organisations(user), pk=pk)


def can_edit_agreement(user: Any, agreement: Agreement) -> bool:
    """Call only with an agreement the user can see: a partner may then edit it, as the IG team may."""
    return user.has_perm(CHANGE_AGREEMENT) or not sees_everything(user)


def can_add_document(user: Any, agreement: Agreement) -> bool:
    return user.has_perm(ADD_DOCUMENT) or not sees_everything(user)


def can_transition(user: Any, step: str) -> bool:
    return user.has_perm(TRANSITION_PERMISSIONS[step])


def agreement_actions(user: Any, agreement: Agreement) -> dict[str, bool]:
    """What the detail page offers: each workflow step is shown only when the user may take it now."""
    status = agreement.status
    Status = Agreement.Status
    editable = status in {Status.DRAFT, Status.IN_REVIEW, Status.ACTIVE}
    return {
        "edit": editable and can_edit_agreement(user, agreement),
        "add_document": can_add_document(user, agreement),
        "submit": status == Status.DRAFT and can_transition(user, "submit"),
        "approve": status == Status.IN_REVIEW and can_transition(user, "approve"),
        "return": status == Status.IN_REVIEW and can_transition(user, "return"),
        "terminate": editable and can_transition(user, "terminate"),
    }


def amendment_actions(user: Any, amendment: Amendment) -> dict[str, bool]:
    """What an amendment's review page offers. The services decide the rest (four eyes, the rules), and the page
    shows their refusal in words."""
    Status = Amendment.Status
    editable = amendment.status in {Status.DRAFT, Status.RETURNED}
    return {
        "edit": editable and amendment.kind == Amendment.Kind.CHANGE and can_edit_agreement(user, amendment.agreement),
        "submit": editable and can_edit_agreement(user, amendment.agreement),
        "approve": amendment.status == Status.SUBMITTED and user.has_perm(APPROVE),
        "return": amendment.status == Status.SUBMITTED and user.has_perm(APPROVE),
        "withdraw": amendment.is_open and (amendment.author_id == user.pk or user.has_perm(APPROVE)),
    }


def forbidden(request: HttpRequest, message: str = "") -> HttpResponse:
    """A plain 403 page for something the user can see but may not do."""
    return render(request, "staff/forbidden.html", {"message": message}, status=403)


class AuthenticatedHttpRequest(HttpRequest):
    """What the handlers (get, post) of a StaffMixin view receive: its dispatch has sent anonymous users to the
    sign-in page, so request.user is a signed-in user. For type checking only."""

    user: User


class StaffMixin(LoginRequiredMixin):
    """Every staff view: sign-in first (anonymous users go to the sign-in page), then `permission_required`
    as a model permission, answered with a 403 page."""

    permission_required: str | None = None
    forbidden_message = "You do not have permission to do this. Ask your IG lead if you think you should."

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.permission_required and not request.user.has_perm(self.permission_required):
            return forbidden(request, self.forbidden_message)
        return super().dispatch(request, *args, **kwargs)
