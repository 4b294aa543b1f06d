"""Staff pages for publishing: the registers, their editions, preview, "Publish now" and withdrawal."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from publishing import selectors, services
from publishing.forms import RegisterForm, WithdrawForm
from publishing.views import serve_edition_file

View = Callable[..., HttpResponseBase]


def staff_permission(permission: str) -> Callable[[View], View]:
    """Signed out: to the sign-in page. Signed in without the permission: 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


def _edition_url(edition: Any) -> str:
    return reverse("publishing:staff_edition", kwargs={"register": edition.register.slug, "pk": edition.pk})


@require_GET
@staff_permission("publishing.view_register")
def register_list(request: HttpRequest) -> HttpResponse:
    return render(request, "publishing/staff/register_list.html", {"registers": selectors.registers_with_current()})


@require_GET
@staff_permission("publishing.view_register")
def register_detail(request: HttpRequest, register: str) -> HttpResponse:
    register_obj = selectors.register_get(slug=register)
    context = {
        "register": register_obj,
        "current": selectors.edition_current(register=register_obj),
        "editions": selectors.editions_for_staff(register=register_obj),
        "can_publish": request.user.has_perm(services.PUBLISH_PERMISSION),
        "can_change": request.user.has_perm(services.CHANGE_PERMISSION),
    }
    return render(request, "publishing/staff/register_detail.html", context)


@require_http_methods(["GET", "POST"])
@staff_permission("publishing.change_register")
def register_edit(request: HttpRequest, register: str) -> HttpResponse:
    register_obj = selectors.register_get(slug=register)
    form = RegisterForm(request.POST or None, instance=register_obj)
    if request.method == "POST" and form.is_valid():
        try:
            services.register_update(actor=request.user, register=register_obj, fields=form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Register details saved. They appear in the next edition.")
            return redirect("publishing:staff_register", register=register_obj.slug)
    # The form's instance holds what was typed; show the saved title in the page heading.
    register_obj.refresh_from_db()
    return render(request, "publishing/staff/register_edit.html", {"register": register_obj, "form": form})


@require_POST
@staff_permission("publishing.change_register")
def register_preview(request: HttpRequest, register: str) -> HttpResponse:
    register_obj = selectors.register_get(slug=register)
    edition = services.edition_preview(actor=request.user, register=register_obj)
    return redirect(_edition_url(edition))


@require_POST
@staff_permission("publishing.publish_edition")
def register_publish(request: HttpRequest, register: str) -> HttpResponse:
    register_obj = selectors.register_get(slug=register)
    edition = services.edition_request(actor=request.user, register=register_obj)
    return redirect(_edition_url(edition))


@require_GET
@staff_permission("publishing.view_edition")
def edition_detail(request: HttpRequest, register: str, pk: int) -> HttpResponse:
    register_obj = selectors.register_get(slug=register)
    edition = selectors.edition_for_staff(register=register_obj, pk=pk)
    return _edition_page(request, edition, WithdrawForm())


def _edition_page(request: HttpRequest, edition: Any, form: WithdrawForm, status: int = 200) -> HttpResponse:
    context = {
        "register": edition.register,
        "edition": edition,
        "files": selectors.edition_files(edition=edition),
        "table_html": selectors.edition_html(edition=edition),
        "changes": selectors.edition_changes(edition=edition) if edition.snapshot_at else None,
        "can_publish": request.user.has_perm(services.PUBLISH_PERMISSION),
        "form": form,
    }
    return render(request, "publishing/staff/edition_detail.html", context, status=status)


@require_GET
@staff_permission("publishing.view_edition")
def edition_status(request: HttpRequest, register: str, pk: int) -> JsonResponse:
    """Polled by the edition page while it renders."""
    register_obj = selectors.register_get(slug=register)
    edition = selectors.edition_for_staff(register=register_obj, pk=pk)
    return JsonResponse({"status": edition.status, "label": edition.get_status_display()})


@require_GET
@staff_permission("publishing.view_edition")
def edition_entry(request: HttpRequest, register: str, pk: int, reference: str) -> HttpResponse:
    """An entry of any edition, previews included, as the public would see it: where the staff edition page's
    table links to (its links are relative to the page showing it)."""
    register_obj = selectors.register_get(slug=register)
    edition = selectors.edition_for_staff(register=register_obj, pk=pk)
    entry = selectors.edition_entry(edition=edition, reference=reference)
    context = {"register": register_obj, "edition": edition, "entry": entry, "staff_edition_url": _edition_url(edition)}
    response = render(request, "publishing/entry.html", context)
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_GET
@staff_permission("publishing.view_edition")
def edition_file(request: HttpRequest, register: str, pk: int, fmt: str) -> HttpResponseBase:
    """Any edition's files, drafts included, for staff only and never cached."""
    register_obj = selectors.register_get(slug=register)
    edition = selectors.edition_for_staff(register=register_obj, pk=pk)
    return serve_edition_file(request, edition, fmt, max_age=0, public=False)


@require_POST
@staff_permission("publishing.publish_edition")
def edition_withdraw(request: HttpRequest, register: str, pk: int) -> HttpResponse:
    register_obj = selectors.register_get(slug=register)
    edition = selectors.edition_for_staff(register=register_obj, pk=pk)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.edition_withdraw(actor=request.user, edition=edition, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_error("reason" if hasattr(error, "error_dict") else None, error)
        else:
            messages.success(request, f"The {edition.slug} edition was withdrawn. It is no longer public.")
            return redirect(_edition_url(edition))
    return _edition_page(request, edition, form, status=400)
