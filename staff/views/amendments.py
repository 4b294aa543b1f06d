"""Amendments to approved agreements: the review page (live beside proposed, the rules on the proposed version,
what the next edition would show) and its steps. Proposing and changing an amendment is the agreement's own edit
page (staff.views.agreements.AgreementEditView), through services.agreement_change."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from agreements import selectors, services, workflow
from agreements.models import Agreement, Amendment
from publishing.registers import edition_effects
from staff import permissions
from staff.forms.agreements import DocumentForm, ReasonForm
from staff.permissions import AuthenticatedHttpRequest, StaffMixin
from staff.views.agreements import readiness_rows

TITLES: dict[str, str] = {
    Amendment.Kind.CHANGE: "Amendment of {ref}",
    Amendment.Kind.TERMINATE: "Request to terminate {ref}",
    Amendment.Kind.SUPERSEDE: "Request to supersede {ref}",
}

# Each step: its service and its wording. Who may, from which status and whether a reason is required are the
# workflow table's (agreements.workflow.AMENDMENT_STEPS).
STEPS: dict[str, dict[str, Any]] = {
    "submit": {
        "service": services.amendment_submit,
        "label": "Anything the approver should know",
        "button": "Submit for review",
        "done": "Amendment of {ref} submitted for review",
    },
    "approve": {
        "service": services.amendment_approve,
        "label": "Comment",
        "button": "Approve amendment",
        "done": "Amendment of {ref} approved: the agreement now reads as proposed",
    },
    "return": {
        "service": services.amendment_return,
        "label": "What needs to change before it can be approved?",
        "button": "Return amendment",
        "secondary": True,
        "done": "Amendment of {ref} returned",
    },
    "withdraw": {
        "service": services.amendment_withdraw,
        "label": "Why are you withdrawing it?",
        "button": "Withdraw amendment",
        "warning": True,
        "done": "Amendment of {ref} withdrawn. The agreement is unchanged.",
    },
}


def _form(step: str, data: Any = None) -> ReasonForm:
    definition, row = STEPS[step], workflow.AMENDMENT_STEPS[step]
    return ReasonForm(
        data,
        label=definition["label"],
        required=row.reason_required,
        required_message=row.reason_message,
        hint="Kept in the agreement's history.",
        prefix=step,
    )


class AmendmentView(StaffMixin, View):
    """The review page. Its step forms post to AmendmentStepView, which shows this page again on an error."""

    agreement: Agreement
    amendment: Amendment

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            self.agreement = permissions.agreement_or_404(request.user, kwargs["pk"])
            self.amendment = get_object_or_404(
                Amendment.objects.select_related("author", "partner", "decided_by"),
                agreement=self.agreement,
                pk=kwargs["amendment_pk"],
            )
        return super().dispatch(request, *args, **kwargs)

    def render_page(
        self, request: AuthenticatedHttpRequest, forms: dict[str, ReasonForm] | None = None, *, refused: str = ""
    ) -> HttpResponse:
        agreement, amendment = self.agreement, self.amendment
        actions = permissions.amendment_actions(request.user, amendment)
        forms = {
            step: (forms or {}).get(step) or _form(step)
            for step, allowed in actions.items()
            if allowed and step in STEPS
        }
        approval_refusal = (
            workflow.amendment_refusal(request.user, amendment, workflow.AMENDMENT_APPROVE)
            if amendment.status == Amendment.Status.SUBMITTED
            and workflow.amendment_may(request.user, amendment, workflow.AMENDMENT_APPROVE)
            else ""
        )
        today = timezone.localdate()
        proposed = selectors.amendment_proposed_version(amendment=amendment)
        is_change = amendment.kind == Amendment.Kind.CHANGE
        readiness = readiness_rows(request.user, proposed, amendment=amendment) if is_change else []
        return render(
            request,
            "staff/agreements/amendment.html",
            {
                "page_title": TITLES[amendment.kind].format(ref=agreement.reference),
                "breadcrumbs": [
                    ("Staff area", reverse("staff:dashboard")),
                    ("Agreements", reverse("staff:agreement_list")),
                    (agreement.reference, reverse("staff:agreement_detail", args=[agreement.pk])),
                ],
                "agreement": agreement,
                "amendment": amendment,
                "is_change": is_change,
                "comparison": services.amendment_comparison(amendment=amendment) if is_change else [],
                "documents": agreement.documents.all(),
                "live_violations": selectors.violations_of(agreement=agreement, on=today).messages,
                "proposed_violations": selectors.violations_of(agreement=proposed, on=today).messages
                if is_change
                else [],
                "readiness": readiness,
                # A submission or approval the readiness checklist refused: its failing items, with their links.
                "unready": [row for row in readiness if not row["item"].ok] if refused else [],
                "refused_doing": {"submit": "submitted", "approve": "approved"}.get(refused, ""),
                "added_documents": amendment.documents.all(),
                "linkage_effects": selectors.linkage_effects(proposed=proposed, on=today) if is_change else [],
                "effects": edition_effects(live=agreement, proposed=proposed, on=today) if is_change else [],
                "step_forms": [
                    {
                        "form": form,
                        "definition": STEPS[step],
                        "url": reverse(f"staff:amendment_{step}", args=[agreement.pk, amendment.pk]),
                    }
                    for step, form in forms.items()
                    # Approving is offered only to someone the four-eyes rule lets approve.
                    if not (step == "approve" and approval_refusal)
                ],
                "approval_refusal": approval_refusal,
                "can_edit": actions.get("edit", False),
                "error_form": next((form for form in forms.values() if form.is_bound and form.errors), None),
                "history": selectors.audit_events_for_agreement(agreement=agreement),
            },
        )

    def get(self, request: AuthenticatedHttpRequest, pk: int, amendment_pk: int) -> HttpResponse:
        return self.render_page(request)


class AmendmentStepView(AmendmentView):
    def post(self, request: AuthenticatedHttpRequest, pk: int, amendment_pk: int, step: str) -> HttpResponse:
        if step not in STEPS:
            raise Http404("No such step")
        if not permissions.amendment_actions(request.user, self.amendment).get(step):
            return permissions.forbidden(request, "You cannot do this to this amendment now.")
        form = _form(step, request.POST)
        if form.is_valid():
            try:
                STEPS[step]["service"](actor=request.user, amendment=self.amendment, reason=form.cleaned_data["reason"])
            except PermissionDenied as error:
                return permissions.forbidden(request, str(error))
            except ValidationError as error:
                if step in {"submit", "approve"} and self._refused_by_readiness(error):
                    return self.render_page(request, refused=step)
                form.apply_service_error(error)
            else:
                messages.success(request, STEPS[step]["done"].format(ref=self.agreement.reference))
                return redirect("staff:agreement_detail", pk=self.agreement.pk)
        return self.render_page(request, {step: form})

    def _refused_by_readiness(self, error: ValidationError) -> bool:
        if self.amendment.kind != Amendment.Kind.CHANGE:
            return False
        proposed = selectors.amendment_proposed_version(amendment=self.amendment)
        unready = selectors.agreement_readiness(agreement=proposed, amendment=self.amendment).messages
        return bool(unready) and set(error.messages) <= set(unready)

    def get(self, request: AuthenticatedHttpRequest, pk: int, amendment_pk: int, step: str = "") -> HttpResponse:
        return redirect("staff:amendment", pk=pk, amendment_pk=amendment_pk)


class AmendmentDocumentUploadView(AmendmentView):
    """Add a document (a new signed copy, an annex) to an amendment in progress: services.amendment_document_add."""

    def _refusal(self, request: AuthenticatedHttpRequest) -> HttpResponse | None:
        if not permissions.amendment_actions(request.user, self.amendment)["edit"]:
            return permissions.forbidden(request, "You cannot add a document to this amendment now.")
        return None

    def render_form(self, request: AuthenticatedHttpRequest, form: DocumentForm) -> HttpResponse:
        agreement = self.agreement
        return render(
            request,
            "staff/agreements/document_form.html",
            {
                "page_title": f"Add a document to the amendment of {agreement.reference}",
                "breadcrumbs": [
                    ("Staff area", reverse("staff:dashboard")),
                    ("Agreements", reverse("staff:agreement_list")),
                    (agreement.reference, reverse("staff:agreement_detail", args=[agreement.pk])),
                    (
                        TITLES[self.amendment.kind].format(ref=agreement.reference),
                        reverse("staff:amendment", args=[agreement.pk, self.amendment.pk]),
                    ),
                ],
                "agreement": agreement,
                "amendment": self.amendment,
                "form": form,
            },
        )

    def get(self, request: AuthenticatedHttpRequest, pk: int, amendment_pk: int) -> HttpResponse:
        return self._refusal(request) or self.render_form(request, DocumentForm())

    def post(self, request: AuthenticatedHttpRequest, pk: int, amendment_pk: int) -> HttpResponse:
        if refused := self._refusal(request):
            return refused
        form = DocumentForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                document = services.amendment_document_add(
                    actor=request.user,
                    amendment=self.amendment,
                    upload=form.cleaned_data["file"],
                    title=form.cleaned_data["title"],
                    kind=form.cleaned_data["kind"],
                )
            except PermissionDenied as error:
                return permissions.forbidden(request, str(error))
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                messages.success(
                    request,
                    f"Document {document.title} added to the amendment. It is attached to "
                    f"{self.agreement.reference} when the amendment is approved.",
                )
                return redirect("staff:amendment", pk=self.agreement.pk, amendment_pk=self.amendment.pk)
        return self.render_form(request, form)
