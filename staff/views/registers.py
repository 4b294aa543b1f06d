"""Staff pages for publishing: the registers, their editions, preview, "Publish now" and withdrawal."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views import View

from publishing import selectors, services
from publishing.models import Edition, Register
from publishing.views import serve_edition_file
from staff.forms.registers import RegisterForm, WithdrawForm
from staff.permissions import AuthenticatedHttpRequest, StaffMixin


def _edition_url(edition: Edition) -> str:
    return reverse("staff:edition", kwargs={"register": edition.register.slug, "pk": edition.pk})


def _crumbs(register: Register | None = None) -> list[tuple[str, str]]:
    crumbs = [("Staff area", reverse("staff:dashboard")), ("Registers", reverse("staff:registers"))]
    if register:
        crumbs.append((register.title, reverse("staff:register", kwargs={"register": register.slug})))
    return crumbs


class RegisterMixin(StaffMixin):
    """A register, looked up from the URL once the permission check has passed."""

    register: Register

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if "register" in kwargs and request.user.is_authenticated:
            self.register = selectors.register_get(slug=kwargs["register"])
        return super().dispatch(request, *args, **kwargs)


class EditionMixin(RegisterMixin):
    """An edition of the register, drafts and previews included: staff only."""

    permission_required = "publishing.view_edition"
    edition: Edition

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated and request.user.has_perm(self.permission_required or ""):
            register = selectors.register_get(slug=kwargs["register"])
            self.edition = selectors.edition_for_staff(register=register, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def edition_page(self, request: HttpRequest, form: WithdrawForm, status: int = 200) -> HttpResponse:
        edition = self.edition
        context = {
            "page_title": f"{edition.register.title}: edition {edition.slug}",
            "register": edition.register,
            "edition": edition,
            "breadcrumbs": _crumbs(edition.register),
            "files": selectors.edition_files(edition=edition),
            "table_html": selectors.edition_html(edition=edition),
            "changes": selectors.edition_changes(edition=edition) if edition.snapshot_at else None,
            "can_publish": request.user.has_perm(services.PUBLISH_PERMISSION),
            "progress": selectors.edition_progress_text(edition=edition),
            "form": form,
        }
        return render(request, "staff/registers/edition_detail.html", context, status=status)


class RegisterListView(StaffMixin, View):
    permission_required = "publishing.view_register"

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        context = {
            "page_title": "Registers",
            "registers": selectors.registers_with_current(),
            "breadcrumbs": _crumbs()[:1],
        }
        return render(request, "staff/registers/register_list.html", context)


class RegisterDetailView(RegisterMixin, View):
    permission_required = "publishing.view_register"

    def get(self, request: AuthenticatedHttpRequest, register: str) -> HttpResponse:
        context = {
            "page_title": self.register.title,
            "register": self.register,
            "breadcrumbs": _crumbs(),
            "current": selectors.edition_current(register=self.register, summary=True),
            "editions": selectors.editions_for_staff(register=self.register),
            "can_publish": request.user.has_perm(services.PUBLISH_PERMISSION),
            "can_change": request.user.has_perm(services.CHANGE_PERMISSION),
            # One key per form shown: a second press of the same form lands on the edition the first one made.
            "preview_key": uuid.uuid4(),
        }
        return render(request, "staff/registers/register_detail.html", context)


class RegisterNextEditionView(RegisterMixin, View):
    """What publishing today would drop, change and add, and "Publish now" below it. A page of its own: it compares
    every row of the next edition with the current one, work that grows with the register (the register's page,
    which lists its editions, does not)."""

    permission_required = "publishing.view_register"

    def get(self, request: AuthenticatedHttpRequest, register: str) -> HttpResponse:
        context = {
            "page_title": f"Before you publish the {self.register.title}",
            "register": self.register,
            "breadcrumbs": _crumbs(self.register),
            "current": selectors.edition_current(register=self.register, summary=True),
            "can_publish": request.user.has_perm(services.PUBLISH_PERMISSION),
            "next_edition": selectors.next_edition(register=self.register),
            "publish_key": uuid.uuid4(),
        }
        return render(request, "staff/registers/register_next.html", context)


class RegisterEditView(RegisterMixin, View):
    permission_required = "publishing.change_register"

    def render_form(self, request: HttpRequest, form: RegisterForm) -> HttpResponse:
        context = {
            "page_title": f"Change the {self.register.title}",
            "register": self.register,
            "form": form,
            "breadcrumbs": _crumbs(self.register),
        }
        return render(request, "staff/registers/register_edit.html", context)

    def get(self, request: AuthenticatedHttpRequest, register: str) -> HttpResponse:
        return self.render_form(request, RegisterForm(initial=services.register_editable_values(self.register)))

    def post(self, request: AuthenticatedHttpRequest, register: str) -> HttpResponse:
        form = RegisterForm(request.POST)
        if form.is_valid():
            try:
                services.register_update(actor=request.user, register=self.register, fields=form.cleaned_data)
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                messages.success(request, "Register details saved. They appear in the next edition.")
                return redirect("staff:register", register=self.register.slug)
        return self.render_form(request, form)


class _RequestEditionView(RegisterMixin, View):
    """Preview and Publish now: the edition is rendered by a worker and its page follows the progress."""

    service: Callable[..., Edition]
    # The page whose form posts here, where a refusal returns.
    form_page: str

    def post(self, request: AuthenticatedHttpRequest, register: str) -> HttpResponse:
        if not self.may_start(request):
            return redirect(self.form_page, register=self.register.slug)
        try:
            key = uuid.UUID(request.POST.get("request_key", ""))
        except ValueError:
            key = None
        try:
            edition = type(self).service(actor=request.user, register=self.register, request_key=key)
        except ValidationError as error:
            # The task queue is not answering: nothing was started.
            for message in error.messages:
                messages.error(request, message)
            return redirect(self.form_page, register=self.register.slug)
        return redirect(_edition_url(edition))

    def may_start(self, request: AuthenticatedHttpRequest) -> bool:
        return True


class RegisterPreviewView(_RequestEditionView):
    permission_required = "publishing.change_register"
    service = services.edition_preview
    form_page = "staff:register"


class RegisterPublishView(_RequestEditionView):
    permission_required = "publishing.publish_edition"
    service = services.edition_request
    form_page = "staff:register_next"

    def may_start(self, request: AuthenticatedHttpRequest) -> bool:
        # Nothing leaves the public register unseen: dropping rows needs the publisher to say they checked them.
        dropped = selectors.next_edition(register=self.register).dropped
        if dropped and request.POST.get("confirm_drops") != "yes":
            messages.error(
                request,
                f"This edition would drop {len(dropped)} row{'s' if len(dropped) != 1 else ''}. Check them below, "
                "then confirm that you have before publishing.",
            )
            return False
        return True


class EditionDetailView(EditionMixin, View):
    def get(self, request: AuthenticatedHttpRequest, register: str, pk: int) -> HttpResponse:
        return self.edition_page(request, WithdrawForm())


class EditionStatusView(EditionMixin, View):
    """Polled by the edition page while it renders."""

    def get(self, request: AuthenticatedHttpRequest, register: str, pk: int) -> JsonResponse:
        edition = self.edition
        progress = selectors.edition_progress_text(edition=edition)
        return JsonResponse({"status": edition.status, "label": edition.get_status_display(), "progress": progress})


class EditionEntryView(EditionMixin, View):
    """An entry of any edition, previews included, as the public would see it: where the staff edition page's
    table links to (its links are relative to the page showing it)."""

    def get(self, request: AuthenticatedHttpRequest, register: str, pk: int, reference: str) -> HttpResponse:
        edition = self.edition
        entry = selectors.edition_entry(edition=edition, reference=reference)
        context = {
            "register": edition.register,
            "edition": edition,
            "entry": entry,
            "staff_edition_url": _edition_url(edition),
        }
        response = render(request, "publishing/entry.html", context)
        patch_cache_control(response, private=True, no_store=True)
        return response


class EditionFileView(EditionMixin, View):
    """Any edition's files, drafts included, for staff only and never cached."""

    def get(self, request: AuthenticatedHttpRequest, register: str, pk: int, fmt: str) -> HttpResponseBase:
        return serve_edition_file(request, self.edition, fmt, max_age=0, public=False)


class EditionWithdrawView(EditionMixin, View):
    permission_required = "publishing.publish_edition"

    def post(self, request: AuthenticatedHttpRequest, register: str, pk: int) -> HttpResponse:
        form = WithdrawForm(request.POST)
        if form.is_valid():
            try:
                services.edition_withdraw(actor=request.user, edition=self.edition, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                form.apply_service_error(error)
            else:
                messages.success(request, f"The {self.edition.slug} edition was withdrawn. It is no longer public.")
                return redirect(_edition_url(self.edition))
        return self.edition_page(request, form, status=400)
