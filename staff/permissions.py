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
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render

from agreements import selectors, workflow
from agreements.models import Agreement, Amendment, Organisation
from datarequests import selectors as request_selectors

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


def agreement_actions(user: Any, agreement: Agreement) -> dict[str, bool]:
    """What the detail page offers: the workflow steps the table allows this person now, and editing."""
    steps = workflow.available(user, agreement)
    return {
        "edit": agreement.status in workflow.EDITABLE_STATUSES and can_edit_agreement(user, agreement),
        "add_document": can_add_document(user, agreement),
        **{name: name in steps for name in workflow.STEPS},
    }


def amendment_actions(user: Any, amendment: Amendment) -> dict[str, bool]:
    """What an amendment's review page offers: the steps the workflow table allows this person now, except that
    approving is offered whenever they hold the permission, so that the page can say why four eyes refuses it."""
    steps = workflow.amendment_available(user, amendment)
    return {
        "edit": amendment.status in workflow.AMENDMENT_EDITABLE_STATUSES
        and amendment.kind == Amendment.Kind.CHANGE
        and workflow.may_change(user, amendment.agreement),
        **{name: name in steps for name in workflow.AMENDMENT_STEPS},
        workflow.AMENDMENT_APPROVE: amendment.status == Amendment.Status.SUBMITTED
        and workflow.amendment_may(user, amendment, workflow.AMENDMENT_APPROVE),
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


# ---------------------------------------------------------------------------------------------------------
# The data-request log. Who may take each workflow action is the workflow table's (datarequests.workflow), asked
# through datarequests.services.may; these say who may open which page.

HANDLE_REQUESTS = "datarequests.handle_datarequest"
DECIDE_PERSONAL = "datarequests.decide_personal_datarequest"
VIEW_MEETINGS = "datarequests.view_meeting"


def data_request_or_404(user: Any, pk: int) -> Any:
    """The request, if the user may see it (the IG team and auditors: all; a partner contact: their
    organisations'); otherwise a 404, so that a page never reveals a request exists."""
    request = request_selectors.request_or_none(user=user, pk=pk)
    if request is None:
        raise Http404("No such request")
    return request


def sees_every_request(user: Any) -> bool:
    return request_selectors.sees_every_request(user)
