"""Staff pages for linkages of non-health data and NHS England's permitted purposes. Linkages are the IG team's
(and auditors') business only: partner contacts hold no linkage permission, so these pages are 403 for them."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from agreements import rules, selectors, services
from agreements.models import LINKABLE_CATEGORIES, Agreement, Dataset, Linkage, PermittedPurpose
from staff import permissions
from staff.forms.linkages import LinkageForm, ReasonForm
from staff.permissions import AuthenticatedHttpRequest, StaffMixin

VIEW_LINKAGE = "agreements.view_linkage"
ADD_LINKAGE = "agreements.add_linkage"
CHANGE_LINKAGE = "agreements.change_linkage"
ACTIVATE_LINKAGE = "agreements.activate_linkage"
ASSURANCE_DAYS = 60
# Partners the dashboard lists before linking to all of them.
ASSURANCE_ROWS = 10
LINKAGE_WARNING_DAYS = 30

# What to do when a checklist item fails: record the agreement of the kind it needs.
_MISSING_KIND = {requirement.code: requirement.kind for requirement in rules.LINKAGE_AGREEMENTS}


def _crumbs(*items: tuple[str, str]) -> list[tuple[str, str]]:
    return [("Staff area", reverse("staff:dashboard")), ("Linkages", reverse("staff:linkage_list")), *items]


def dashboard_context(user: Any) -> dict[str, Any]:
    """The dashboard's sections on linkages and partner assurance, for those who see the whole register. The rules'
    answers are the same for everyone who sees them: found once a day and after each change to their inputs."""
    if not (permissions.sees_everything(user) and user.has_perm(VIEW_LINKAGE)):
        return {"show_rules": False}
    today = timezone.localdate()
    return {
        "show_rules": True,
        "linkage_warning_days": LINKAGE_WARNING_DAYS,
        "assurance_days": ASSURANCE_DAYS,
        **selectors.kept_until_inputs_change(
            f"dashboard:linkages:{LINKAGE_WARNING_DAYS}:{ASSURANCE_DAYS}:{ASSURANCE_ROWS}", today, lambda: _rules(today)
        ),
    }


def _rules(today: dt.date) -> dict[str, Any]:
    not_permitted, lapsing = selectors.linkages_attention(within_days=LINKAGE_WARNING_DAYS, on=today)
    return {
        "linkages_not_permitted": not_permitted,
        "linkages_lapsing": lapsing,
        "partners_assurance": selectors.partners_assurance_attention(
            within_days=ASSURANCE_DAYS, on=today, first=ASSURANCE_ROWS
        ),
        "partners_assurance_count": selectors.partners_needing_assurance(within_days=ASSURANCE_DAYS, on=today).count(),
    }


class LinkageListView(StaffMixin, View):
    permission_required = VIEW_LINKAGE

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        today = timezone.localdate()
        rows = [(state.linkage, state.checklist) for state in selectors.linkage_states(on=today)]
        return render(
            request,
            "staff/linkages/list.html",
            {
                "page_title": "Linkages of non-health data",
                "breadcrumbs": [("Staff area", reverse("staff:dashboard"))],
                "rows": rows,
                "today": today,
                "can_add": request.user.has_perm(ADD_LINKAGE),
            },
        )


class LinkageDetailView(StaffMixin, View):
    permission_required = VIEW_LINKAGE

    def get(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        linkage = get_object_or_404(selectors.linkage_list(), pk=pk)
        today = timezone.localdate()
        checklist = selectors.linkage_checklist(linkage=linkage, on=today)
        can_add_agreement = request.user.has_perm(permissions.ADD_AGREEMENT)
        items = [
            (item, _MISSING_KIND.get(item.code) if not item.ok and can_add_agreement else None)
            for item in checklist.items
        ]
        user = request.user
        open_linkage = linkage.status != Linkage.Status.CLOSED
        return render(
            request,
            "staff/linkages/detail.html",
            {
                "page_title": linkage.title,
                "breadcrumbs": _crumbs(),
                "linkage": linkage,
                "checklist": checklist,
                "items": items,
                "datasets": linkage.datasets.select_related("provider"),
                "purposes": linkage.purposes.all(),
                "history": linkage.audit_events.select_related("actor")[:50],
                "can_change": open_linkage and user.has_perm(CHANGE_LINKAGE),
                "can_activate": linkage.status in {Linkage.Status.DRAFT, Linkage.Status.NOT_PERMITTED}
                and user.has_perm(ACTIVATE_LINKAGE),
                "can_close": open_linkage and user.has_perm(CHANGE_LINKAGE),
            },
        )


def _relations(form: LinkageForm) -> dict[str, Any]:
    return {"datasets": form.cleaned_data["datasets"], "purposes": form.cleaned_data["purposes"]}


class LinkageCreateView(StaffMixin, View):
    permission_required = ADD_LINKAGE

    def render_form(self, request: HttpRequest, form: LinkageForm) -> HttpResponse:
        return render(
            request,
            "staff/linkages/form.html",
            {"page_title": "Record a linkage", "breadcrumbs": _crumbs(), "form": form},
        )

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        return self.render_form(request, LinkageForm())

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        form = LinkageForm(request.POST)
        if form.is_valid():
            try:
                linkage = services.linkage_create(
                    actor=request.user,
                    fields=form.model_fields(),
                    creation_key=form.cleaned_data["creation_key"],
                    **_relations(form),
                )
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                messages.success(request, f"Linkage “{linkage.title}” recorded as a draft")
                return redirect("staff:linkage_detail", pk=linkage.pk)
        return self.render_form(request, form)


class LinkageEditView(StaffMixin, View):
    permission_required = CHANGE_LINKAGE

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # Signed-in users only, so an anonymous visitor is sent to sign in whether or not the linkage exists.
        if request.user.is_authenticated:
            self.linkage = get_object_or_404(Linkage, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def render_form(self, request: HttpRequest, form: LinkageForm) -> HttpResponse:
        linkage = self.linkage
        return render(
            request,
            "staff/linkages/form.html",
            {
                "page_title": f"Change {linkage.title}",
                "breadcrumbs": _crumbs((linkage.title, reverse("staff:linkage_detail", args=[linkage.pk]))),
                "form": form,
                "linkage": linkage,
            },
        )

    def get(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        return self.render_form(request, LinkageForm(instance=self.linkage, with_reason=True))

    def post(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        form = LinkageForm(request.POST, instance=Linkage.objects.get(pk=pk), with_reason=True)
        if form.is_valid():
            try:
                services.linkage_update(
                    actor=request.user,
                    linkage=self.linkage,
                    fields=form.model_fields(),
                    reason=form.cleaned_data["reason"],
                    **_relations(form),
                )
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                messages.success(request, "Linkage updated")
                return redirect("staff:linkage_detail", pk=pk)
        return self.render_form(request, form)


class _Step(TypedDict):
    permission: str
    title: str
    button: str
    label: str
    required: bool
    hint: str
    done: str


_STEPS: dict[str, _Step] = {
    "activate": {
        "permission": ACTIVATE_LINKAGE,
        "title": "Activate the linkage",
        "button": "Activate linkage",
        "label": "Why are you activating it?",
        "required": False,
        "hint": "For example, the IG board's decision. Kept in the linkage's history.",
        "done": "Linkage activated",
    },
    "close": {
        "permission": CHANGE_LINKAGE,
        "title": "Close the linkage",
        "button": "Close linkage",
        "label": "Why is the linkage being closed?",
        "required": True,
        "hint": "Kept in the linkage's history. A closed linkage cannot be changed or activated again.",
        "done": "Linkage closed",
    },
}


class LinkageTransitionView(StaffMixin, View):
    step: _Step

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.step = _STEPS[kwargs["step"]]
        self.permission_required = self.step["permission"]
        if request.user.is_authenticated:
            self.linkage = get_object_or_404(Linkage, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def form(self, data: Any = None) -> ReasonForm:
        step = self.step
        return ReasonForm(
            data,
            label=step["label"],
            required=step["required"],
            hint=step["hint"],
            required_message="Enter why the linkage is being closed",
        )

    def render_page(self, request: HttpRequest, form: ReasonForm) -> HttpResponse:
        linkage = self.linkage
        return render(
            request,
            "staff/linkages/transition.html",
            {
                "page_title": self.step["title"],
                "breadcrumbs": _crumbs((linkage.title, reverse("staff:linkage_detail", args=[linkage.pk]))),
                "linkage": linkage,
                "step": self.step,
                "form": form,
            },
        )

    def get(self, request: AuthenticatedHttpRequest, pk: int, step: str) -> HttpResponse:
        return self.render_page(request, self.form())

    def post(self, request: AuthenticatedHttpRequest, pk: int, step: str) -> HttpResponse:
        form = self.form(request.POST)
        if form.is_valid():
            service = services.linkage_activate if step == "activate" else services.linkage_close
            try:
                service(actor=request.user, linkage=self.linkage, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                messages.success(request, self.step["done"])
                return redirect("staff:linkage_detail", pk=pk)
        return self.render_page(request, form)


class PermittedPurposeListView(StaffMixin, View):
    """NHS England's reference data: which non-health data may be linked, for what, under which agreements."""

    permission_required = "agreements.view_permittedpurpose"

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        purposes = list(PermittedPurpose.objects.all())
        categories = [
            (Dataset.Category(category).label, [p for p in purposes if p.category == category])
            for category in LINKABLE_CATEGORIES
        ]
        return render(
            request,
            "staff/linkages/purposes.html",
            {
                "page_title": "Supported non-health data linkages",
                "breadcrumbs": _crumbs(),
                "categories": categories,
                "requirements": [
                    (requirement, Agreement.Kind(requirement.kind).label) for requirement in rules.LINKAGE_AGREEMENTS
                ],
            },
        )
