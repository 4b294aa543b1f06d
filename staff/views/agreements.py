"""The IG team's staff area. Views check permissions (staff.permissions), read through selectors, and
write only by calling services. A ValidationError from a service is shown at the field it names."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from agreements import selectors, services, workflow
from agreements.models import Agreement, Amendment, Organisation, Party
from datarequests import selectors as request_selectors
from staff import permissions
from staff.forms.agreements import (
    AgreementFilterForm,
    AgreementForm,
    DocumentForm,
    OrganisationForm,
    OrganisationSearchForm,
    ReasonForm,
    SubLicenceForm,
    SupersedeForm,
)
from staff.permissions import AuthenticatedHttpRequest, StaffMixin
from staff.views import linkages as linkage_views

PAGE_SIZE = 25
ENDING_SOON_DAYS = 90
# How many rows of each list the dashboard shows before linking to the whole list.
DASHBOARD_ROWS = 10

Status = Agreement.Status


def _crumbs(*items: tuple[str, str]) -> list[tuple[str, str]]:
    return [("Staff area", reverse("staff:dashboard")), *items]


def _agreements_crumb() -> tuple[str, str]:
    return ("Agreements", reverse("staff:agreement_list"))


def _organisations_crumb() -> tuple[str, str]:
    return ("Organisations", reverse("staff:organisation_list"))


def _agreement_crumb(agreement: Agreement) -> tuple[str, str]:
    return (agreement.reference, reverse("staff:agreement_detail", args=[agreement.pk]))


def _with_parties(queryset: QuerySet[Agreement]) -> QuerySet[Agreement]:
    return queryset.prefetch_related(Prefetch("parties", queryset=Party.objects.select_related("organisation")))


def _already_created(request: HttpRequest, queryset: QuerySet[Any]) -> Any:
    """The record an earlier click of the same form made, if this POST repeats its one-time creation key.

    The second click of a double-click would otherwise fail validation (a duplicate ODS code or reference),
    so it is answered as the first was, before the form is checked."""
    try:
        key = uuid.UUID(request.POST.get("creation_key", ""))
    except ValueError:
        return None
    return queryset.filter(creation_key=key).first()


def _paginate(request: HttpRequest, queryset: Any) -> tuple[Any, str]:
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


# ---------------------------------------------------------------------------------------------------------
# Dashboard


def _visible_failing(user: Any, visible: QuerySet[Agreement], today: dt.date) -> QuerySet[Agreement]:
    """Sub-licences the next edition would leave out today, of those this person may see."""
    failing = selectors.sub_licences_failing(on=today)
    if permissions.sees_everything(user):
        return failing
    return failing.filter(pk__in=visible.values("pk"))


class DashboardView(StaffMixin, View):
    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        user = request.user
        visible = permissions.visible_agreements(user)
        everything = permissions.sees_everything(user)
        if not everything:
            visible = Agreement.objects.filter(pk__in=visible.values("pk"))

        def among_visible(agreements: QuerySet[Agreement]) -> QuerySet[Agreement]:
            # For someone who sees every agreement, no "id IN (every id)": SQLite builds it anew for each list.
            return agreements if everything else agreements.filter(pk__in=visible.values("pk"))

        counts = dict(visible.order_by().values_list("status").annotate(n=Count("pk")))
        today = timezone.localdate()
        can_approve = user.has_perm(permissions.APPROVE)
        in_review = visible.filter(status=Status.IN_REVIEW).order_by("updated_at")
        ending = among_visible(selectors.agreements_ending(within_days=ENDING_SOON_DAYS, today=today))
        overdue = among_visible(selectors.agreements_review_overdue(today=today))

        def failing() -> tuple[int, list[selectors.DroppedSubLicence]]:
            # One run of the rules' query gives both the first rows and how many there are.
            ids = list(_visible_failing(user, visible, today).values_list("pk", flat=True))
            first = Agreement.objects.filter(pk__in=ids[:DASHBOARD_ROWS])
            return len(ids), selectors.sub_licences_dropped(on=today, among=first)

        # For those who see every agreement, the same answer: found once a day and after each change to the rules'
        # inputs.
        failing_count, failing_rules = (
            selectors.kept_until_inputs_change(f"dashboard:failing:{DASHBOARD_ROWS}", today, failing)
            if everything
            else failing()
        )
        context = {
            "page_title": "Dashboard",
            "breadcrumbs": [("Home", reverse("publishing:home"))],
            "status_counts": [(value, label, counts.get(value, 0)) for value, label in Status.choices],
            "total": sum(counts.values()),
            # Each list shows its first rows and links to all of them, so the page costs the same at any size.
            "ending": _with_parties(ending[:DASHBOARD_ROWS]),
            "ending_count": ending.count(),
            "overdue": _with_parties(overdue[:DASHBOARD_ROWS]),
            "overdue_count": overdue.count(),
            "awaiting_approval": _with_parties(in_review[:DASHBOARD_ROWS]) if can_approve else [],
            "awaiting_count": counts.get(Status.IN_REVIEW, 0),
            "can_approve": can_approve,
            # Nothing slips out unseen: amendments to review, active agreements with no signed copy, and those
            # whose rules fail today (the next edition leaves them out).
            "amendments_waiting": selectors.amendments_awaiting_review().filter(agreement__in=visible)[:DASHBOARD_ROWS]
            if can_approve
            else [],
            "no_signed_copy": _with_parties(among_visible(selectors.agreements_without_signed_copy())[:DASHBOARD_ROWS]),
            "failing_rules": failing_rules,
            "failing_count": failing_count,
            "my_changes": selectors.audit_events_by_actor(user=user)[:10],
            "ending_days": ENDING_SOON_DAYS,
            "today": today,
            "can_add_agreement": user.has_perm(permissions.ADD_AGREEMENT),
            **linkage_views.dashboard_context(user),
            # Data requests nearing or past a working-day target (None: the user does not see every request).
            "requests_attention": request_selectors.requests_needing_attention(user=user)
            if permissions.sees_every_request(user)
            else None,
        }
        return render(request, "staff/dashboard.html", context)


# ---------------------------------------------------------------------------------------------------------
# Organisations


class OrganisationListView(StaffMixin, View):
    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        form = OrganisationSearchForm(request.GET or None)
        organisations = permissions.visible_organisations(request.user).annotate(
            agreement_count=Count("parties__agreement", distinct=True)
        )
        query = ""
        if form.is_bound and form.is_valid():
            query = form.cleaned_data["q"].strip()
        if query:
            organisations = organisations.filter(Q(name__icontains=query) | Q(ods_code__iexact=query.upper()))
        attention = form.is_bound and form.is_valid() and form.cleaned_data["assurance_attention"]
        if attention:
            needing = selectors.partners_needing_assurance(within_days=linkage_views.ASSURANCE_DAYS)
            organisations = organisations.filter(pk__in=needing.values("pk"))
        page, querystring = _paginate(request, organisations.order_by(*form.order_by()))
        return render(
            request,
            "staff/organisations/list.html",
            {
                "page_title": "Organisations",
                "breadcrumbs": _crumbs(),
                "form": form,
                "page": page,
                "querystring": querystring,
                "query": query,
                "attention": attention,
                "assurance_days": linkage_views.ASSURANCE_DAYS,
                "can_add": request.user.has_perm(permissions.ADD_ORGANISATION),
            },
        )


class OrganisationDetailView(StaffMixin, View):
    def get(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        organisation = permissions.organisation_or_404(request.user, pk)
        agreements = _with_parties(
            permissions.visible_agreements(request.user).filter(
                pk__in=Party.objects.filter(organisation=organisation).values("agreement")
            )
        )
        history = organisation.audit_events.select_related("actor")[:50]
        return render(
            request,
            "staff/organisations/detail.html",
            {
                "page_title": organisation.name,
                "breadcrumbs": _crumbs(_organisations_crumb()),
                "organisation": organisation,
                "agreements": agreements,
                "history": history,
                "can_change": request.user.has_perm(permissions.CHANGE_ORGANISATION),
            },
        )


class OrganisationCreateView(StaffMixin, View):
    permission_required = permissions.ADD_ORGANISATION

    def render_form(self, request: HttpRequest, form: OrganisationForm) -> HttpResponse:
        return render(
            request,
            "staff/organisations/form.html",
            {"page_title": "Add an organisation", "breadcrumbs": _crumbs(_organisations_crumb()), "form": form},
        )

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        return self.render_form(request, OrganisationForm())

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        if existing := _already_created(request, permissions.visible_organisations(request.user)):
            return redirect("staff:organisation_detail", pk=existing.pk)
        form = OrganisationForm(request.POST)
        if form.is_valid():
            try:
                organisation = services.organisation_create(
                    actor=request.user, fields=form.model_fields(), creation_key=form.cleaned_data["creation_key"]
                )
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                messages.success(request, f"Organisation {organisation.name} added")
                return redirect("staff:organisation_detail", pk=organisation.pk)
        return self.render_form(request, form)


class OrganisationEditView(StaffMixin, View):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            self.organisation = permissions.organisation_or_404(request.user, kwargs["pk"])
            if not request.user.has_perm(permissions.CHANGE_ORGANISATION):
                return permissions.forbidden(request, "Only the IG team can change an organisation's details.")
        return super().dispatch(request, *args, **kwargs)

    def render_form(self, request: HttpRequest, form: OrganisationForm) -> HttpResponse:
        organisation = self.organisation
        return render(
            request,
            "staff/organisations/form.html",
            {
                "page_title": f"Change {organisation.name}",
                "breadcrumbs": _crumbs(
                    _organisations_crumb(),
                    (organisation.name, reverse("staff:organisation_detail", args=[organisation.pk])),
                ),
                "form": form,
                "organisation": organisation,
            },
        )

    def get(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        return self.render_form(request, OrganisationForm(instance=self.organisation, with_reason=True))

    def post(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        # The form validates a copy, so the page's headings keep the saved name if the form has errors.
        form = OrganisationForm(
            request.POST, instance=Organisation.objects.get(pk=self.organisation.pk), with_reason=True
        )
        if form.is_valid():
            try:
                services.organisation_update(
                    actor=request.user,
                    organisation=self.organisation,
                    fields=form.model_fields(),
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                messages.success(request, f"Organisation {form.cleaned_data['name']} updated")
                return redirect("staff:organisation_detail", pk=self.organisation.pk)
        return self.render_form(request, form)


# ---------------------------------------------------------------------------------------------------------
# Agreements


class AgreementListView(StaffMixin, View):
    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        agreements = permissions.visible_agreements(request.user)
        form = AgreementFilterForm(request.GET or None, visible=agreements)
        filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
        if query := (filters.get("q") or "").strip():
            matching_parties = Party.objects.filter(
                Q(organisation__name__icontains=query) | Q(organisation__ods_code__iexact=query.upper())
            ).values("agreement")
            agreements = agreements.filter(
                Q(reference__icontains=query) | Q(title__icontains=query) | Q(pk__in=matching_parties)
            )
        for name in ("kind", "status", "data_level"):
            if filters.get(name):
                agreements = agreements.filter(**{name: filters[name]})
        if filters.get("organisation"):
            agreements = agreements.filter(
                pk__in=Party.objects.filter(organisation=filters["organisation"]).values("agreement")
            )
        if filters.get("owner"):
            agreements = agreements.filter(owner=filters["owner"])
        if filters.get("review_overdue"):
            agreements = agreements.filter(pk__in=selectors.agreements_review_overdue().values("pk"))
        if filters.get("failing_rules"):
            agreements = agreements.filter(pk__in=selectors.sub_licences_failing().order_by().values("pk"))
        if filters.get("ending_soon"):
            today = timezone.localdate()
            agreements = agreements.filter(
                status=Status.ACTIVE,
                end_date__gte=today,
                end_date__lte=today + dt.timedelta(days=ENDING_SOON_DAYS),
            )
        page, querystring = _paginate(request, _with_parties(agreements.order_by(*form.order_by())))
        return render(
            request,
            "staff/agreements/list.html",
            {
                "page_title": "Agreements",
                "breadcrumbs": _crumbs(),
                "form": form,
                "page": page,
                "querystring": querystring,
                "filtered": any(value for name, value in filters.items() if name != "sort"),
                "can_add": request.user.has_perm(permissions.ADD_AGREEMENT),
            },
        )


class AgreementObjectMixin(StaffMixin):
    """Loads the agreement for the URL's pk, as a 404 when the user may not see it."""

    agreement: Agreement

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            self.agreement = permissions.agreement_or_404(request.user, kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)


def readiness_rows(user: Any, agreement: Agreement, *, amendment: Amendment | None = None) -> list[dict[str, Any]]:
    """The readiness checklist (selectors.agreement_readiness) of the agreement, or of the version an amendment
    proposes, with a link to fix each item the user may fix."""
    rows = []
    for item in selectors.agreement_readiness(agreement=agreement, amendment=amendment).items:
        url, text = "", ""
        if item.fix == "edit" and permissions.can_edit_agreement(user, agreement):
            url, text = reverse("staff:agreement_edit", args=[agreement.pk]), "Change the agreement"
        elif item.fix == "document" and amendment is not None:
            if permissions.amendment_actions(user, amendment).get("edit"):
                url = reverse("staff:amendment_document_create", args=[agreement.pk, amendment.pk])
                text = "Add the signed copy to the amendment"
        elif item.fix == "document" and permissions.can_add_document(user, agreement):
            url, text = reverse("staff:document_create", args=[agreement.pk]), "Upload the signed copy"
        elif item.fix == "organisation" and item.fix_id and user.has_perm(permissions.CHANGE_ORGANISATION):
            url, text = reverse("staff:organisation_edit", args=[item.fix_id]), "Update the partner's assurance"
        elif item.fix == "linkages" and user.has_perm("agreements.view_linkage"):
            url = reverse("staff:linkage_detail", args=[item.fix_id]) if item.fix_id else reverse("staff:linkage_list")
            text = "See the linkage" if item.fix_id else "Record the linkage"
        rows.append({"item": item, "url": url, "link_text": text})
    return rows


class AgreementDetailView(AgreementObjectMixin, View):
    def get(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        agreement = self.agreement
        return render(
            request,
            "staff/agreements/detail.html",
            {
                "page_title": f"{agreement.reference}: {agreement.title}",
                "breadcrumbs": _crumbs(_agreements_crumb()),
                "agreement": agreement,
                "documents": agreement.documents.select_related("uploaded_by"),
                "history": selectors.audit_events_for_agreement(agreement=agreement),
                "actions": permissions.agreement_actions(request.user, agreement),
                # Said only to someone who could otherwise approve it now.
                "four_eyes_blocked": workflow.refusal(request.user, agreement, workflow.APPROVE)
                if workflow.may(request.user, workflow.APPROVE) and agreement.status == Agreement.Status.IN_REVIEW
                else "",
                "open_amendment": selectors.amendment_open(agreement=agreement),
                "readiness": readiness_rows(request.user, agreement)
                if agreement.status in {Status.DRAFT, Status.IN_REVIEW, Status.ACTIVE}
                else [],
                "amendments": selectors.amendments_for_agreement(agreement=agreement),
                # Who can approve it, so that a team with one approver sees it is stuck, and why.
                "approvers": selectors.approvers_besides(agreement=agreement)
                if agreement.status == Agreement.Status.IN_REVIEW
                else None,
                "requests_served": request_selectors.requests_serving(agreement=agreement, user=request.user),
            },
        )


def _agreement_relations(form: AgreementForm) -> dict[str, Any]:
    return {
        "parties": form.parties(),
        "datasets": form.cleaned_data["datasets"],
        "purposes": form.cleaned_data["purposes"],
    }


class AgreementCreateView(StaffMixin, View):
    permission_required = permissions.ADD_AGREEMENT
    form_class: type[AgreementForm] = AgreementForm
    page_title = "Add an agreement"

    def render_form(self, request: HttpRequest, form: AgreementForm) -> HttpResponse:
        return render(
            request,
            "staff/agreements/form.html",
            {
                "page_title": self.page_title,
                "breadcrumbs": _crumbs(_agreements_crumb()),
                "form": form,
                "is_sub_licence": isinstance(form, SubLicenceForm),
                "submit_label": "Save sub-licence" if isinstance(form, SubLicenceForm) else "Save agreement",
            },
        )

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        return self.render_form(request, self.form_class(user=request.user))

    def create(self, request: AuthenticatedHttpRequest, form: AgreementForm) -> Agreement:
        return services.agreement_create(
            actor=request.user,
            fields=form.model_fields(),
            creation_key=form.cleaned_data["creation_key"],
            **_agreement_relations(form),
        )

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        if existing := _already_created(request, permissions.visible_agreements(request.user)):
            return redirect("staff:agreement_detail", pk=existing.pk)
        form = self.form_class(request.POST, user=request.user)
        if form.is_valid():
            try:
                agreement = self.create(request, form)
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                messages.success(request, f"{agreement.get_kind_display()} {agreement.reference} created")
                return redirect("staff:agreement_detail", pk=agreement.pk)
        return self.render_form(request, form)


class SubLicenceCreateView(AgreementCreateView):
    form_class = SubLicenceForm
    page_title = "New sub-licence"

    def create(self, request: AuthenticatedHttpRequest, form: AgreementForm) -> Agreement:
        relations = _agreement_relations(form)
        return services.sub_licence_create(
            actor=request.user,
            sub_licensee=form.cleaned_data["sub_licensee"],
            licensor=form.cleaned_data["licensor"],
            fields=form.model_fields(),
            datasets=relations["datasets"],
            purposes=relations["purposes"],
            creation_key=form.cleaned_data["creation_key"],
        )


class AgreementEditView(AgreementObjectMixin, View):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            self.agreement = permissions.agreement_or_404(request.user, kwargs["pk"])
            if not permissions.can_edit_agreement(request.user, self.agreement):
                return permissions.forbidden(request, "You can read this agreement but not change it.")
        return super(AgreementObjectMixin, self).dispatch(request, *args, **kwargs)

    def editing(self) -> Agreement:
        """What the form starts from: for an approved agreement with an amendment in progress, the proposed version
        (its changes are what the page edits); otherwise the agreement as it is."""
        if self.amendment:
            return selectors.amendment_proposed_version(amendment=self.amendment)
        return Agreement.objects.get(pk=self.agreement.pk)

    @property
    def amendment(self) -> Amendment | None:
        if self.agreement.status != Status.ACTIVE:
            return None
        return selectors.amendment_open(agreement=self.agreement)

    def render_form(self, request: HttpRequest, form: AgreementForm | None) -> HttpResponse:
        agreement = self.agreement
        amendment = self.amendment
        return render(
            request,
            "staff/agreements/form.html",
            {
                "amendment": amendment,
                "amendment_locked": amendment is not None
                and not permissions.amendment_actions(request.user, amendment)["edit"],
                "page_title": f"Change {agreement.reference}",
                "breadcrumbs": _crumbs(_agreements_crumb(), _agreement_crumb(agreement)),
                "form": form,
                "agreement": agreement,
                "is_sub_licence": agreement.kind == Agreement.Kind.SUB_LICENCE,
                "submit_label": "Save changes",
                "locked": agreement.status not in {Status.DRAFT, Status.IN_REVIEW, Status.ACTIVE},
            },
        )

    def get(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        return self.render_form(request, AgreementForm(instance=self.editing(), user=request.user))

    def post(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        form = AgreementForm(request.POST, instance=self.editing(), user=request.user)
        if form.is_valid():
            try:
                written = services.agreement_change(
                    actor=request.user,
                    agreement=self.agreement,
                    fields=form.model_fields(),
                    reason=form.cleaned_data.get("reason") or "",
                    **_agreement_relations(form),
                )
            except PermissionDenied as error:
                return permissions.forbidden(request, str(error))
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                ref = self.agreement.reference
                if isinstance(written, Amendment):
                    messages.success(
                        request, f"Amendment of {ref} saved. {ref} does not change until another person approves it."
                    )
                    return redirect("staff:amendment", pk=self.agreement.pk, amendment_pk=written.pk)
                messages.success(request, f"{ref} updated")
                return redirect("staff:agreement_detail", pk=self.agreement.pk)
        return self.render_form(request, form)


# What each workflow step's page says, and the service that takes it. Who may take it, from which statuses and
# whether a second person must, is the domain's table (agreements.workflow), never decided here.
SERVICES: dict[str, Any] = {
    workflow.SUBMIT: services.agreement_submit,
    workflow.APPROVE: services.agreement_approve,
    workflow.RETURN: services.agreement_return,
    workflow.TERMINATE: services.agreement_terminate_or_request,
}
PAGES: dict[str, dict[str, Any]] = {
    workflow.SUBMIT: {
        "title": "Submit {ref} for review",
        "label": "Anything the approver should know",
        "button": "Submit for review",
        "done": "{ref} submitted for review",
        "doing": "submitted",
        "lede": "An IG approver will check it. Once submitted, it cannot be approved by the last person to edit it.",
    },
    workflow.APPROVE: {
        "title": "Approve {ref}",
        "label": "Comment",
        "button": "Approve agreement",
        "done": "{ref} approved. It is now active.",
        "doing": "approved",
        "lede": "Approving makes the agreement active. Check every detail below first.",
    },
    workflow.RETURN: {
        "title": "Return {ref} to draft",
        "label": "What needs to change before it can be approved?",
        "button": "Return to draft",
        "done": "{ref} returned to draft",
        "lede": "The agreement goes back to draft so that it can be changed and submitted again.",
    },
    workflow.TERMINATE: {
        "title": "Terminate {ref}",
        "label": "Why is the agreement being terminated?",
        "button": "Terminate agreement",
        "warning": True,
        "done": "{ref} terminated",
        "lede": "Terminating a draft ends it now. An approved agreement ends only when another approver approves "
        "your request. It cannot be undone, and the reason is kept in its history.",
    },
}


class AgreementTransitionView(AgreementObjectMixin, View):
    step: str

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.step = kwargs["step"]
        if self.step not in PAGES:
            raise Http404("No such step")
        if request.user.is_authenticated:
            self.agreement = permissions.agreement_or_404(request.user, kwargs["pk"])
            if not workflow.may(request.user, self.step):
                return permissions.forbidden(request, workflow.refusal(request.user, self.agreement, self.step))
        return super(AgreementObjectMixin, self).dispatch(request, *args, **kwargs)

    def form(self, data: Any = None) -> ReasonForm:
        step = workflow.STEPS[self.step]
        return ReasonForm(
            data,
            label=PAGES[self.step]["label"],
            required=step.reason_required,
            required_message=step.reason_message,
            hint="Kept in the agreement's history.",
        )

    def render_page(self, request: HttpRequest, form: ReasonForm, *, refused: bool = False) -> HttpResponse:
        page = PAGES[self.step]
        agreement = self.agreement
        # Submitting and approving ask the readiness checklist (the service refuses while an item fails): the page
        # lists the failing items, each with its link to fix it; after a refused post, as the error summary.
        unready = (
            [row for row in readiness_rows(request.user, agreement) if not row["item"].ok]
            if self.step in {workflow.SUBMIT, workflow.APPROVE}
            else []
        )
        return render(
            request,
            "staff/agreements/transition.html",
            {
                "page_title": page["title"].format(ref=agreement.reference),
                "breadcrumbs": _crumbs(_agreements_crumb(), _agreement_crumb(agreement)),
                "agreement": agreement,
                "step": page,
                "step_name": self.step,
                "form": form,
                "blocked": workflow.refusal(request.user, agreement, self.step),
                "unready": unready,
                "refused": refused and bool(unready),
            },
        )

    def _unready_messages(self) -> set[str]:
        loaded = selectors.agreement_with_relations(Agreement.objects.all()).get(pk=self.agreement.pk)
        return set(selectors.agreement_readiness(agreement=loaded).messages)

    def get(self, request: AuthenticatedHttpRequest, pk: int, step: str) -> HttpResponse:
        return self.render_page(request, self.form())

    def post(self, request: AuthenticatedHttpRequest, pk: int, step: str) -> HttpResponse:
        form = self.form(request.POST)
        if form.is_valid():
            try:
                written = SERVICES[self.step](
                    actor=request.user, agreement=self.agreement, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                if self.step in {workflow.SUBMIT, workflow.APPROVE} and set(error.messages) <= self._unready_messages():
                    # The readiness checklist refused it: listed with its links, not as bare sentences.
                    return self.render_page(request, form, refused=True)
                form.apply_service_error(error)
            else:
                if isinstance(written, Amendment):
                    messages.success(
                        request,
                        f"Request to terminate {self.agreement.reference} sent: another approver must approve it",
                    )
                    return redirect("staff:amendment", pk=self.agreement.pk, amendment_pk=written.pk)
                messages.success(request, PAGES[self.step]["done"].format(ref=self.agreement.reference))
                return redirect("staff:agreement_detail", pk=self.agreement.pk)
        return self.render_page(request, form)


class SupersedeView(AgreementObjectMixin, View):
    """Ask for an active agreement to be superseded, naming the agreement that replaces it: a request that a second
    person approves on the amendment page (services.agreement_supersede_request)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            self.agreement = permissions.agreement_or_404(request.user, kwargs["pk"])
            if not workflow.may(request.user, workflow.SUPERSEDE):
                return permissions.forbidden(
                    request, workflow.refusal(request.user, self.agreement, workflow.SUPERSEDE)
                )
        return super(AgreementObjectMixin, self).dispatch(request, *args, **kwargs)

    def render_page(self, request: HttpRequest, form: SupersedeForm) -> HttpResponse:
        agreement = self.agreement
        return render(
            request,
            "staff/agreements/supersede.html",
            {
                "page_title": f"Supersede {agreement.reference}",
                "breadcrumbs": _crumbs(_agreements_crumb(), _agreement_crumb(agreement)),
                "agreement": agreement,
                "form": form,
                "blocked": workflow.refusal(request.user, agreement, workflow.SUPERSEDE),
                "open_amendment": selectors.amendment_open(agreement=agreement),
            },
        )

    def get(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        return self.render_page(request, SupersedeForm(agreement=self.agreement))

    def post(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        form = SupersedeForm(request.POST, agreement=self.agreement)
        if form.is_valid():
            try:
                amendment = services.agreement_supersede_request(
                    actor=request.user,
                    agreement=self.agreement,
                    superseded_by=form.cleaned_data["superseded_by"],
                    reason=form.cleaned_data["reason"],
                )
            except PermissionDenied as error:
                return permissions.forbidden(request, str(error))
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                messages.success(
                    request,
                    f"Request to supersede {self.agreement.reference} sent: another approver must approve it",
                )
                return redirect("staff:amendment", pk=self.agreement.pk, amendment_pk=amendment.pk)
        return self.render_page(request, form)


# ---------------------------------------------------------------------------------------------------------
# Documents


class DocumentUploadView(AgreementObjectMixin, View):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            self.agreement = permissions.agreement_or_404(request.user, kwargs["pk"])
            if not permissions.can_add_document(request.user, self.agreement):
                return permissions.forbidden(request, "You can read this agreement's documents but not add to them.")
        return super(AgreementObjectMixin, self).dispatch(request, *args, **kwargs)

    def render_form(self, request: HttpRequest, form: DocumentForm) -> HttpResponse:
        agreement = self.agreement
        return render(
            request,
            "staff/agreements/document_form.html",
            {
                "page_title": f"Add a document to {agreement.reference}",
                "breadcrumbs": _crumbs(_agreements_crumb(), _agreement_crumb(agreement)),
                "agreement": agreement,
                "form": form,
            },
        )

    def get(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        return self.render_form(request, DocumentForm())

    def post(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        form = DocumentForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                document = services.document_add(
                    actor=request.user,
                    agreement=self.agreement,
                    upload=form.cleaned_data["file"],
                    title=form.cleaned_data["title"],
                    kind=form.cleaned_data["kind"],
                )
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                messages.success(request, f"Document {document.title} added to {self.agreement.reference}")
                return redirect("staff:agreement_detail", pk=self.agreement.pk)
        return self.render_form(request, form)


class DocumentDownloadView(AgreementObjectMixin, View):
    def get(self, request: AuthenticatedHttpRequest, pk: int, document_pk: int) -> HttpResponseBase:
        document = get_object_or_404(
            selectors.documents_of_agreement_and_amendments(agreement=self.agreement), pk=document_pk
        )
        try:
            handle = services.document_open(actor=request.user, document=document)
        except FileNotFoundError as error:
            raise Http404("The file is missing") from error
        return FileResponse(handle, as_attachment=True, filename=document.filename, content_type="application/pdf")
