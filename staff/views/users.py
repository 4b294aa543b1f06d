"""The Users page for the IG lead: invite staff and partner contacts, change roles, deactivate, reset a second
factor, lift a lockout. Every change is made (and audited) by accounts.services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from accounts import services
from accounts.models import Invitation
from accounts.second_factor import has_second_factor
from staff.forms.users import InvitationForm, ReasonForm, RoleForm
from staff.permissions import AuthenticatedHttpRequest, StaffMixin, forbidden


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error)


def _crumbs(*extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [("Staff area", reverse("staff:dashboard")), *extra]


class UsersMixin(StaffMixin):
    permission_required = services.MANAGE_USERS
    forbidden_message = "Only the IG lead can manage users."


class UserListView(UsersMixin, View):
    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        rows = services.user_summaries(get_user_model().objects.order_by("-is_active", "username"))
        invitations = Invitation.objects.filter(accepted_at__isnull=True).select_related("organisation")
        max_age = dt.timedelta(seconds=settings.INVITATION_MAX_AGE)
        return render(
            request,
            "staff/users/list.html",
            {
                "page_title": "Users",
                "breadcrumbs": _crumbs(),
                "rows": rows,
                "invitations": [(i, timezone.now() - i.sent_at > max_age) for i in invitations],
            },
        )


class InvitationCreateView(UsersMixin, View):
    def _render(self, request: AuthenticatedHttpRequest, form: InvitationForm) -> HttpResponse:
        return render(
            request,
            "staff/users/invite.html",
            {
                "page_title": "Invite someone",
                "breadcrumbs": _crumbs(("Users", reverse("staff:users"))),
                "form": form,
                "invitation_days": settings.INVITATION_MAX_AGE // (24 * 3600),
            },
            status=400 if form.errors else 200,
        )

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        return self._render(request, InvitationForm())

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        form = InvitationForm(request.POST)
        if form.is_valid():
            try:
                invitation = services.invitation_send(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, f"Invitation sent to {invitation.email}.")
                return redirect("staff:users")
        return self._render(request, form)


class InvitationResendView(UsersMixin, View):
    def post(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        invitation = get_object_or_404(Invitation, pk=pk, accepted_at__isnull=True)
        services.invitation_resend(actor=request.user, invitation=invitation)
        messages.success(request, f"Invitation sent again to {invitation.email}. The earlier link no longer works.")
        return redirect("staff:users")


class UserDetailView(UsersMixin, View):
    """One account, with a form for each change; each form posts back here with its `action`."""

    def _render(self, request: AuthenticatedHttpRequest, user: User, **forms_: Any) -> HttpResponse:
        role, organisations = services.user_role(user)
        context = {
            "page_title": user.get_username(),
            "breadcrumbs": _crumbs(("Users", reverse("staff:users"))),
            "subject": user,
            "role": services.role_label(role, organisations),
            "second_factor": has_second_factor(user),
            "locked_out": services.user_locked_out(user),
            "is_self": user.pk == request.user.pk,
            "role_form": forms_.get("role_form") or RoleForm(initial={"role": role}, prefix="role"),
            "active_form": forms_.get("active_form") or ReasonForm(prefix="active"),
            "reset_form": forms_.get("reset_form") or ReasonForm(prefix="reset"),
            "form": next((f for f in forms_.values() if f.errors), None),
        }
        return render(request, "staff/users/detail.html", context, status=400 if context["form"] else 200)

    def _user(self, pk: int) -> User:
        return get_object_or_404(get_user_model(), pk=pk)

    def get(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        return self._render(request, self._user(pk))

    def post(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        user = self._user(pk)
        action = request.POST.get("action", "")
        actor = request.user
        name = user.get_username()
        if action == "role":
            form: forms.Form = RoleForm(request.POST, prefix="role")
            call: Callable[[], Any] = lambda: services.user_role_change(actor=actor, user=user, **form.cleaned_data)  # noqa: E731
            done, key = f"{name}'s role has been changed.", "role_form"
        elif action in ("deactivate", "reactivate"):
            form = ReasonForm(request.POST, prefix="active")
            call = lambda: services.user_active_set(  # noqa: E731
                actor=actor, user=user, active=action == "reactivate", reason=form.cleaned_data["reason"]
            )
            done, key = f"{name} has been {action}d.", "active_form"
        elif action == "reset_second_factor":
            form = ReasonForm(request.POST, prefix="reset")
            call = lambda: services.user_devices_reset(actor=actor, user=user, reason=form.cleaned_data["reason"])  # noqa: E731
            done, key = f"{name} will set up a new second factor at their next sign-in.", "reset_form"
        elif action == "unlock":
            form = forms.Form(request.POST)
            call = lambda: services.user_lockout_clear(actor=actor, user=user)  # noqa: E731
            done, key = f"{name} can sign in again.", "unlock_form"
        else:
            return forbidden(request, "That is not something this page does.")
        if form.is_valid():
            try:
                call()
            except PermissionDenied:
                return forbidden(request, "Only a superuser can change a superuser's account.")
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, done)
                return redirect("staff:user", pk=user.pk)
        return self._render(request, user, **{key: form})
