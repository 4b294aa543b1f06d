"""Staff pages for the data-request log: requests and their line items, decisions (four eyes on personal data),
every workflow action from the table, groups and meetings, and the timeline as HTML, PDF and CSV.

Views check who may open a page (staff.permissions), read through selectors and write only through
datarequests.services, whose ValidationError is shown at the field it names and whose PermissionDenied is a 403.
Partner contacts see their own organisations' requests, their status, and may answer a clarification; nothing
here is public."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from agreements.models import Organisation
from datarequests import selectors, services, timeline, workflow
from datarequests.models import DataRequest, DataSharingGroup, Decision, LineItem, Meeting
from staff import permissions
from staff.forms.datarequests import (
    DecisionApproveForm,
    DecisionForm,
    DecisionReturnForm,
    FulfilForm,
    GroupForm,
    LineItemForm,
    MeetingActionForm,
    MeetingForm,
    RequestFilterForm,
    RequestForm,
    ResponseTargetsForm,
    TimelineForm,
    TransitionForm,
)
from staff.permissions import AuthenticatedHttpRequest, StaffMixin
from staff.views.agreements import _already_created, _paginate

Status = DataRequest.Status


def _crumbs(*items: tuple[str, str]) -> list[tuple[str, str]]:
    return [("Staff area", reverse("staff:dashboard")), ("Data requests", reverse("staff:datarequest_list")), *items]


def _request_crumb(request: DataRequest) -> tuple[str, str]:
    return (request.reference, reverse("staff:datarequest_detail", args=[request.pk]))


def _meetings_crumbs(*items: tuple[str, str]) -> list[tuple[str, str]]:
    return _crumbs(("Groups and meetings", reverse("staff:datarequest_group_list")), *items)


# ---------------------------------------------------------------------------------------------------------
# Requests


class RequestListView(StaffMixin, View):
    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        user = request.user
        organisations = (
            Organisation.objects.filter(data_requests_made__isnull=False).distinct().order_by("name")
            if permissions.sees_every_request(user)
            else permissions.visible_organisations(user)
        )
        form = RequestFilterForm(request.GET or None, organisations=organisations)
        filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
        requests = selectors.request_list(
            user=user,
            status=filters.get("status") or "",
            organisation=filters.get("organisation"),
            search=filters.get("q") or "",
        )
        page, querystring = _paginate(request, requests.order_by("-received_on", "-pk"))
        return render(
            request,
            "staff/datarequests/list.html",
            {
                "page_title": "Data requests",
                "breadcrumbs": _crumbs()[:1],
                "form": form,
                "page": page,
                "querystring": querystring,
                "filtered": any(filters.values()),
                "can_add": user.has_perm(permissions.HANDLE_REQUESTS),
                "sees_all": permissions.sees_every_request(user),
            },
        )


class RequestObjectMixin(StaffMixin):
    """Loads the request for the URL's pk, as a 404 when the user may not see it."""

    data_request: DataRequest
    # A model permission the page needs beyond seeing the request (a 403 page when missing).
    needs: str | None = None
    needs_message = "Only the IG team can do this."

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            self.data_request = permissions.data_request_or_404(request.user, kwargs["pk"])
            if self.needs and not request.user.has_perm(self.needs):
                return permissions.forbidden(request, self.needs_message)
        return super().dispatch(request, *args, **kwargs)


class RequestDetailView(RequestObjectMixin, View):
    def get(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        data_request, user = self.data_request, request.user
        sees_all = permissions.sees_every_request(user)
        items = selectors.line_items_with_decisions(data_request)
        rows = []
        for item in items:
            decisions = list(item.decisions.all())
            confirmed = next((d for d in decisions if d.state == Decision.State.CONFIRMED), None)
            proposed = next((d for d in decisions if d.state == Decision.State.PROPOSED), None)
            rows.append({"item": item, "confirmed": confirmed, "proposed": proposed})
        actions = [t for t in workflow.available(data_request.status) if services.may(user, t.action, data_request)]
        context = {
            "page_title": f"{data_request.reference}: {data_request.title}",
            "breadcrumbs": _crumbs(),
            "data_request": data_request,
            "sees_all": sees_all,
            "rows": rows,
            "actions": actions,
            "can_handle": user.has_perm(permissions.HANDLE_REQUESTS),
            "can_decide_personal": user.has_perm(permissions.DECIDE_PERSONAL),
            "assessing": data_request.status == Status.UNDER_ASSESSMENT,
            "fulfilling": data_request.status in {Status.DECIDED, Status.AGREEMENT_PENDING},
            "editable": data_request.status not in workflow.ENDED_STATUSES,
            "clarification": data_request.events.filter(kind="clarification").last()
            if data_request.status == Status.CLARIFICATION_REQUESTED
            else None,
        }
        if sees_all:
            context |= {
                "clock": selectors.request_clock(data_request),
                "events": data_request.events.select_related("actor", "line_item"),
                "meetings": data_request.discussed_at.all(),
            }
        return render(request, "staff/datarequests/detail.html", context)


class RequestCreateView(StaffMixin, View):
    permission_required = permissions.HANDLE_REQUESTS

    def render_form(self, request: HttpRequest, form: RequestForm) -> HttpResponse:
        return render(
            request,
            "staff/datarequests/form.html",
            {"page_title": "Log a data request", "breadcrumbs": _crumbs(), "form": form},
        )

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        return self.render_form(request, RequestForm())

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        if existing := _already_created(request, selectors.request_list(user=request.user)):
            return redirect("staff:datarequest_detail", pk=existing.pk)
        form = RequestForm(request.POST)
        if form.is_valid():
            try:
                data_request = services.request_create(
                    actor=request.user,
                    fields=form.model_fields(),
                    requesters=form.cleaned_data["requesters"],
                    creation_key=form.cleaned_data["creation_key"],
                )
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                messages.success(request, f"Data request {data_request.reference} logged")
                return redirect("staff:datarequest_detail", pk=data_request.pk)
        return self.render_form(request, form)


class RequestEditView(RequestObjectMixin, View):
    needs = permissions.HANDLE_REQUESTS

    def render_form(self, request: HttpRequest, form: RequestForm) -> HttpResponse:
        return render(
            request,
            "staff/datarequests/form.html",
            {
                "page_title": f"Change {self.data_request.reference}",
                "breadcrumbs": _crumbs(_request_crumb(self.data_request)),
                "form": form,
                "data_request": self.data_request,
                "locked": self.data_request.status in workflow.ENDED_STATUSES,
            },
        )

    def get(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        form = RequestForm(instance=self.data_request, initial={"requesters": self.data_request.requesters.all()})
        return self.render_form(request, form)

    def post(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        form = RequestForm(request.POST, instance=DataRequest.objects.get(pk=self.data_request.pk))
        if form.is_valid():
            try:
                services.request_update(
                    actor=request.user,
                    request=self.data_request,
                    fields=form.model_fields(),
                    requesters=form.cleaned_data["requesters"],
                    reason=form.cleaned_data.get("reason") or "",
                )
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                messages.success(request, f"{self.data_request.reference} updated")
                return redirect("staff:datarequest_detail", pk=self.data_request.pk)
        return self.render_form(request, form)


class RequestTransitionView(RequestObjectMixin, View):
    """Any action of the workflow table. Who may take it is the table's, asked through services.may."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if kwargs["action"] not in workflow.BY_ACTION:
            raise Http404("No such action")
        self.transition = workflow.BY_ACTION[kwargs["action"]]
        if request.user.is_authenticated:
            self.data_request = permissions.data_request_or_404(request.user, kwargs["pk"])
            roles = services.roles_of(request.user, self.data_request)
            if not roles & self.transition.who:
                return permissions.forbidden(request, f"You may not {self.transition.label.lower()} this request.")
        return super(RequestObjectMixin, self).dispatch(request, *args, **kwargs)

    def render_page(self, request: HttpRequest, form: TransitionForm) -> HttpResponse:
        data_request, transition = self.data_request, self.transition
        blocked = ""
        if data_request.status not in transition.sources:
            blocked = (
                f"{data_request.reference} is {data_request.get_status_display().lower()}, so you cannot "
                f"{transition.label.lower()} now."
            )
        return render(
            request,
            "staff/datarequests/transition.html",
            {
                "page_title": f"{transition.label}: {data_request.reference}",
                "breadcrumbs": _crumbs(_request_crumb(data_request)),
                "data_request": data_request,
                "transition": transition,
                "form": form,
                "blocked": blocked,
            },
        )

    def get(self, request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
        return self.render_page(request, TransitionForm(transition=self.transition))

    def post(self, request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
        form = TransitionForm(request.POST, transition=self.transition)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.request_transition(
                    actor=request.user,
                    request=self.data_request,
                    action=action,
                    on=data["on"],
                    reason=data.get("reason") or "",
                    resume_on=data.get("resume_on"),
                    topic=data.get("topic") or "",
                )
            except ValidationError as error:
                form.apply_service_error(error)
            except PermissionDenied as error:
                return permissions.forbidden(request, str(error))
            else:
                messages.success(request, f"{self.data_request.reference}: {self.transition.label.lower()} recorded")
                return redirect("staff:datarequest_detail", pk=self.data_request.pk)
        return self.render_page(request, form)


# ---------------------------------------------------------------------------------------------------------
# Line items and decisions


class LineItemCreateView(RequestObjectMixin, View):
    needs = permissions.HANDLE_REQUESTS

    def render_form(self, request: HttpRequest, form: LineItemForm) -> HttpResponse:
        return render(
            request,
            "staff/datarequests/simple_form.html",
            {
                "page_title": f"Add a line item to {self.data_request.reference}",
                "breadcrumbs": _crumbs(_request_crumb(self.data_request)),
                "caption": f"{self.data_request.reference}: {self.data_request.title}",
                "lede": "One thing asked for, with its own purpose, lawful basis and decision.",
                "form": form,
                "submit_label": "Add line item",
                "cancel_url": reverse("staff:datarequest_detail", args=[self.data_request.pk]),
            },
        )

    def get(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        return self.render_form(request, LineItemForm())

    def post(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        form = LineItemForm(request.POST)
        if form.is_valid():
            try:
                item = services.line_item_add(actor=request.user, request=self.data_request, fields=form.model_fields())
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                messages.success(request, f"Line item {item.position} added")
                return redirect("staff:datarequest_detail", pk=self.data_request.pk)
        return self.render_form(request, form)


class LineItemMixin(RequestObjectMixin):
    item: LineItem

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            self.data_request = permissions.data_request_or_404(request.user, kwargs["pk"])
            self.item = get_object_or_404(self.data_request.line_items, pk=kwargs["item_pk"])
        return super().dispatch(request, *args, **kwargs)

    def page(self, request: HttpRequest, form: Any, title: str, button: str, lede: str = "") -> HttpResponse:
        return render(
            request,
            "staff/datarequests/simple_form.html",
            {
                "page_title": f"{title}: {self.data_request.reference} line item {self.item.position}",
                "breadcrumbs": _crumbs(_request_crumb(self.data_request)),
                "caption": f"Line item {self.item.position}: {self.item.description}",
                "lede": lede,
                "form": form,
                "submit_label": button,
                "cancel_url": reverse("staff:datarequest_detail", args=[self.data_request.pk]),
            },
        )


class LineItemEditView(LineItemMixin, View):
    needs = permissions.HANDLE_REQUESTS

    def get(self, request: AuthenticatedHttpRequest, pk: int, item_pk: int) -> HttpResponse:
        return self.page(request, LineItemForm(instance=self.item), "Change a line item", "Save changes")

    def post(self, request: AuthenticatedHttpRequest, pk: int, item_pk: int) -> HttpResponse:
        form = LineItemForm(request.POST, instance=LineItem.objects.get(pk=self.item.pk))
        if form.is_valid():
            try:
                services.line_item_update(actor=request.user, item=self.item, fields=form.model_fields())
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                messages.success(request, f"Line item {self.item.position} updated")
                return redirect("staff:datarequest_detail", pk=self.data_request.pk)
        return self.page(request, form, "Change a line item", "Save changes")


class DecisionCreateView(LineItemMixin, View):
    needs = permissions.HANDLE_REQUESTS

    def lede(self) -> str:
        if self.item.is_personal:
            return (
                f"This line item is {self.item.get_data_category_display().lower()} data: an IG approver who is "
                "not you must approve the decision before it counts (four eyes)."
            )
        return "The decision is recorded at once: the data is not personal."

    def get(self, request: AuthenticatedHttpRequest, pk: int, item_pk: int) -> HttpResponse:
        return self.page(request, DecisionForm(), "Record a decision", "Record decision", self.lede())

    def post(self, request: AuthenticatedHttpRequest, pk: int, item_pk: int) -> HttpResponse:
        form = DecisionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                decision = services.decision_propose(
                    actor=request.user, item=self.item, outcome=data["outcome"], rationale=data["rationale"],
                    decided_on=data["decided_on"], conditions=data["conditions"], public_link=data["public_link"],
                    referred_to=data["referred_to"],
                )  # fmt: skip
            except ValidationError as error:
                form.apply_service_error(error)
            except PermissionDenied as error:
                return permissions.forbidden(request, str(error))
            else:
                state = "waits for a second approver" if decision.state == Decision.State.PROPOSED else "recorded"
                messages.success(request, f"Decision on line item {self.item.position} {state}")
                return redirect("staff:datarequest_detail", pk=self.data_request.pk)
        return self.page(request, form, "Record a decision", "Record decision", self.lede())


class LineItemFulfilView(LineItemMixin, View):
    needs = permissions.HANDLE_REQUESTS

    def get(self, request: AuthenticatedHttpRequest, pk: int, item_pk: int) -> HttpResponse:
        return self.page(request, FulfilForm(), "Record as fulfilled", "Record as fulfilled")

    def post(self, request: AuthenticatedHttpRequest, pk: int, item_pk: int) -> HttpResponse:
        form = FulfilForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.line_item_fulfil(actor=request.user, item=self.item, agreements=data["agreements"],
                                          on=data["on"], reason=data["reason"])  # fmt: skip
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                messages.success(request, f"Line item {self.item.position} recorded as fulfilled")
                return redirect("staff:datarequest_detail", pk=self.data_request.pk)
        return self.page(request, form, "Record as fulfilled", "Record as fulfilled")


class DecisionStepView(RequestObjectMixin, View):
    """Approve (four eyes) or return a proposed decision on personal data: IG approvers only."""

    needs = permissions.DECIDE_PERSONAL
    needs_message = "Only an IG approver can approve or return a decision on personal data."
    step: str = "approve"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            self.data_request = permissions.data_request_or_404(request.user, kwargs["pk"])
            self.decision = get_object_or_404(
                Decision.objects.select_related("line_item", "proposed_by"),
                line_item__request=self.data_request,
                pk=kwargs["decision_pk"],
            )
        return super().dispatch(request, *args, **kwargs)

    def form(self, data: Any = None) -> DecisionApproveForm | DecisionReturnForm:
        return DecisionApproveForm(data) if self.step == "approve" else DecisionReturnForm(data)

    def render_page(self, request: AuthenticatedHttpRequest, form: Any) -> HttpResponse:
        decision = self.decision
        blocked = ""
        if decision.state != Decision.State.PROPOSED:
            blocked = f"This decision is {decision.get_state_display().lower()}: there is nothing to {self.step}."
        elif self.step == "approve" and decision.proposed_by_id == request.user.pk:
            blocked = "You proposed this decision, so another IG approver must approve it (four eyes)."
        return render(
            request,
            "staff/datarequests/decision_step.html",
            {
                "page_title": f"{'Approve' if self.step == 'approve' else 'Return'} the decision on line item "
                f"{decision.line_item.position}",
                "breadcrumbs": _crumbs(_request_crumb(self.data_request)),
                "data_request": self.data_request,
                "decision": decision,
                "form": form,
                "blocked": blocked,
                "step": self.step,
            },
        )

    def get(self, request: AuthenticatedHttpRequest, pk: int, decision_pk: int) -> HttpResponse:
        return self.render_page(request, self.form())

    def post(self, request: AuthenticatedHttpRequest, pk: int, decision_pk: int) -> HttpResponse:
        form = self.form(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if self.step == "approve":
                    services.decision_approve(actor=request.user, decision=self.decision, on=data["on"],
                                              reason=data["reason"])  # fmt: skip
                else:
                    services.decision_return(actor=request.user, decision=self.decision, reason=data["reason"])
            except ValidationError as error:
                form.apply_service_error(error)
            except PermissionDenied as error:
                return permissions.forbidden(request, str(error))
            else:
                done = "approved" if self.step == "approve" else "returned"
                messages.success(request, f"Decision on line item {self.decision.line_item.position} {done}")
                return redirect("staff:datarequest_detail", pk=self.data_request.pk)
        return self.render_page(request, form)


class DecisionReturnView(DecisionStepView):
    step = "return"


# ---------------------------------------------------------------------------------------------------------
# The timeline


def _timeline_response(built: timeline.Timeline, fmt: str, filename: str) -> HttpResponse:
    if fmt == "pdf":
        content = timeline.render_pdf(built, organisation_name=settings.PORTAL_ORGANISATION_NAME)
        response = HttpResponse(content, content_type="application/pdf")
    elif fmt == "csv":
        response = HttpResponse(timeline.render_csv(built), content_type="text/csv; charset=utf-8")
    else:
        raise Http404("No such format")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


class RequestTimelineView(RequestObjectMixin, View):
    """One request's timeline: the IG team and auditors (the notes are the team's own)."""

    needs = "datarequests.view_requestevent"
    needs_message = "The timeline is for the IG team and auditors."

    def get(self, request: AuthenticatedHttpRequest, pk: int, fmt: str = "html") -> HttpResponse:
        data_request = self.data_request
        built = timeline.build(
            requests=DataRequest.objects.filter(pk=data_request.pk),
            title=f"Timeline of data request {data_request.reference}",
            scope=f"{data_request.title}, from {', '.join(o.name for o in data_request.requesters.all())}",
            today=timezone.localdate(),
        )
        if fmt != "html":
            return _timeline_response(built, fmt, f"{data_request.reference.replace('/', '-')}-timeline")
        return render(
            request,
            "staff/datarequests/timeline.html",
            {
                "page_title": built.title,
                "breadcrumbs": _crumbs(_request_crumb(data_request)),
                "timeline": built,
                "table_html": timeline.render_html(built),
                "pdf_url": reverse("staff:datarequest_timeline_file", args=[data_request.pk, "pdf"]),
                "csv_url": reverse("staff:datarequest_timeline_file", args=[data_request.pk, "csv"]),
            },
        )


class TimelineView(StaffMixin, View):
    """The timeline of every request, or one organisation's, within a date range."""

    permission_required = "datarequests.view_requestevent"

    def get(self, request: AuthenticatedHttpRequest, fmt: str = "html") -> HttpResponse:
        form = TimelineForm(request.GET or None)
        valid = not form.is_bound or form.is_valid()
        data = form.cleaned_data if form.is_bound and valid else {}
        organisation, start, end = data.get("organisation"), data.get("start"), data.get("end")
        requests = selectors.request_list(user=request.user)
        if organisation is not None:
            requests = (requests.filter(requesters=organisation) | requests.filter(responder=organisation)).distinct()
        scope = organisation.name if organisation else "All organisations"
        if start or end:
            scope += f", {start or 'the beginning'} to {end or 'today'}"
        built = timeline.build(
            requests=requests, title="Timeline of data requests", scope=scope, today=timezone.localdate(),
            organisation=organisation, start=start, end=end,
        )  # fmt: skip
        if fmt != "html":
            if not valid:
                raise Http404("Correct the filters first")
            return _timeline_response(built, fmt, "data-requests-timeline")
        query = request.GET.urlencode()
        return render(
            request,
            "staff/datarequests/timeline.html",
            {
                "page_title": built.title,
                "breadcrumbs": _crumbs(),
                "form": form,
                "timeline": built,
                "table_html": timeline.render_html(built) if valid else "",
                "pdf_url": reverse("staff:datarequest_timeline_all_file", args=["pdf"])
                + (f"?{query}" if query else ""),
                "csv_url": reverse("staff:datarequest_timeline_all_file", args=["csv"])
                + (f"?{query}" if query else ""),
                "valid": valid,
            },
        )


# ---------------------------------------------------------------------------------------------------------
# Groups and meetings: the IG team and auditors


class GroupListView(StaffMixin, View):
    permission_required = permissions.VIEW_MEETINGS

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        return render(
            request,
            "staff/datarequests/groups.html",
            {
                "page_title": "Groups and meetings",
                "breadcrumbs": _crumbs(),
                "groups": DataSharingGroup.objects.select_related("chair").prefetch_related("members", "meetings"),
                "meetings": Meeting.objects.select_related("group").order_by("-held_on"),
                "can_add": request.user.has_perm(permissions.HANDLE_REQUESTS),
            },
        )


class GroupDetailView(StaffMixin, View):
    permission_required = permissions.VIEW_MEETINGS

    def get(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        group = get_object_or_404(DataSharingGroup.objects.select_related("chair"), pk=pk)
        return render(
            request,
            "staff/datarequests/group_detail.html",
            {
                "page_title": group.name,
                "breadcrumbs": _meetings_crumbs(),
                "group": group,
                "members": group.members.order_by("name"),
                "meetings": group.meetings.prefetch_related("requests_discussed", "actions"),
                "can_add": request.user.has_perm(permissions.HANDLE_REQUESTS),
            },
        )


class GroupCreateView(StaffMixin, View):
    permission_required = permissions.HANDLE_REQUESTS

    def render_form(self, request: HttpRequest, form: GroupForm) -> HttpResponse:
        return render(
            request,
            "staff/datarequests/simple_form.html",
            {"page_title": "Add a data sharing group", "breadcrumbs": _meetings_crumbs(), "form": form,
             "submit_label": "Add group", "cancel_url": reverse("staff:datarequest_group_list")},
        )  # fmt: skip

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        return self.render_form(request, GroupForm())

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        form = GroupForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                group = services.group_create(actor=request.user, name=data["name"], chair=data["chair"],
                                              members=data["members"],
                                              terms_of_reference_url=data["terms_of_reference_url"])  # fmt: skip
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                messages.success(request, f"Group {group.name} added")
                return redirect("staff:datarequest_group_detail", pk=group.pk)
        return self.render_form(request, form)


class MeetingCreateView(StaffMixin, View):
    permission_required = permissions.HANDLE_REQUESTS

    def render_form(self, request: HttpRequest, form: MeetingForm) -> HttpResponse:
        return render(
            request,
            "staff/datarequests/simple_form.html",
            {"page_title": "Record a meeting", "breadcrumbs": _meetings_crumbs(), "form": form,
             "submit_label": "Record meeting", "cancel_url": reverse("staff:datarequest_group_list")},
        )  # fmt: skip

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        initial = {"group": request.GET.get("group")} if (request.GET.get("group") or "").isdigit() else {}
        return self.render_form(request, MeetingForm(initial=initial))

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        form = MeetingForm(request.POST)
        if form.is_valid():
            try:
                meeting = services.meeting_record(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                messages.success(request, f"Meeting {meeting.title} recorded")
                return redirect("staff:datarequest_meeting_detail", pk=meeting.pk)
        return self.render_form(request, form)


class MeetingDetailView(StaffMixin, View):
    permission_required = permissions.VIEW_MEETINGS

    def get(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        meeting = get_object_or_404(Meeting.objects.select_related("group"), pk=pk)
        return render(
            request,
            "staff/datarequests/meeting_detail.html",
            {
                "page_title": f"{meeting.title}, {meeting.held_on.day} {meeting.held_on:%B %Y}",
                "breadcrumbs": _meetings_crumbs(),
                "meeting": meeting,
                "raised": meeting.requests_raised.all(),
                "can_add": request.user.has_perm(permissions.HANDLE_REQUESTS),
            },
        )


class MeetingActionCreateView(StaffMixin, View):
    permission_required = permissions.HANDLE_REQUESTS

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.meeting = get_object_or_404(Meeting, pk=kwargs["pk"]) if request.user.is_authenticated else None
        return super().dispatch(request, *args, **kwargs)

    def render_form(self, request: HttpRequest, form: MeetingActionForm) -> HttpResponse:
        assert self.meeting is not None
        url = reverse("staff:datarequest_meeting_detail", args=[self.meeting.pk])
        return render(
            request,
            "staff/datarequests/simple_form.html",
            {"page_title": f"Add an action from {self.meeting.title}", "form": form, "submit_label": "Add action",
             "breadcrumbs": _meetings_crumbs((self.meeting.title, url)), "cancel_url": url},
        )  # fmt: skip

    def get(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        return self.render_form(request, MeetingActionForm())

    def post(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        assert self.meeting is not None
        form = MeetingActionForm(request.POST)
        if form.is_valid():
            try:
                services.meeting_action_add(actor=request.user, meeting=self.meeting, **form.cleaned_data)
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                messages.success(request, "Action added")
                return redirect("staff:datarequest_meeting_detail", pk=self.meeting.pk)
        return self.render_form(request, form)


class ResponseTargetsView(StaffMixin, View):
    """The working-day targets an organisation sets itself for the requests it is asked."""

    permission_required = permissions.HANDLE_REQUESTS

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            self.organisation = permissions.organisation_or_404(request.user, kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def render_form(self, request: HttpRequest, form: ResponseTargetsForm) -> HttpResponse:
        url = reverse("staff:organisation_detail", args=[self.organisation.pk])
        return render(
            request,
            "staff/datarequests/simple_form.html",
            {
                "page_title": f"Response targets of {self.organisation.name}",
                "breadcrumbs": [("Staff area", reverse("staff:dashboard")), (self.organisation.name, url)],
                "caption": self.organisation.name,
                "lede": "How quickly this organisation aims to answer the data requests it is asked, counted in "
                "England and Wales working days, with the time waiting on the requester left out.",
                "form": form,
                "submit_label": "Save targets",
                "cancel_url": url,
            },
        )

    def get(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        targets = services.targets_for(self.organisation)
        initial = {name: getattr(targets, name) for name in ("acknowledge_days", "decide_days", "lapse_after_days")}
        return self.render_form(request, ResponseTargetsForm(initial=initial))

    def post(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        form = ResponseTargetsForm(request.POST)
        if form.is_valid():
            try:
                services.response_targets_set(actor=request.user, organisation=self.organisation, **form.cleaned_data)
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                messages.success(request, f"Response targets of {self.organisation.name} saved")
                return redirect("staff:organisation_detail", pk=self.organisation.pk)
        return self.render_form(request, form)
