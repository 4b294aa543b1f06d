"""Sign-in pages: password, second factor (authenticator app, security key, recovery code), enrolment, the
account's security page, and password reset and change."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import oidc, services
from accounts.forms import (
    InvitationAcceptForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
    TokenForm,
)
from accounts.middleware import IDLE_SIGNED_OUT_SESSION_KEY
from accounts.second_factor import (
    has_recovery_codes,
    has_second_factor,
    second_factor_passed,
    totp_devices,
    totp_pending,
    totp_qr_svg,
    totp_secret,
    webauthn_devices,
)
from audit.services import Action, audit_record

NEW_RECOVERY_CODES_SESSION_KEY = "accounts_new_recovery_codes"


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _step(name: str, request: HttpRequest) -> str:
    """The address of another sign-in step, carrying where the user was going."""
    return f"{reverse(name)}?{urlencode({'next': _next_url(request)})}"


class LoginView(auth_views.LoginView):
    """The first step: a password (or single sign-on). The second step follows, asked for by
    SecondFactorRequiredMiddleware before any staff page."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["signed_out_idle"] = self.request.session.pop(IDLE_SIGNED_OUT_SESSION_KEY, False)
        context["idle_minutes"] = settings.SESSION_IDLE_TIMEOUT // 60
        context["oidc_enabled"] = oidc.enabled()
        context["oidc_provider_name"] = settings.OIDC_PROVIDER_NAME
        context["oidc_refusal"] = self.request.session.pop(oidc.REFUSAL_SESSION_KEY, "")
        return context


def locked_out(
    request: HttpRequest, credentials: dict[str, Any] | None = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """django-axes' lockout response (AXES_LOCKOUT_CALLABLE): how long the lock lasts, and whom to ask."""
    minutes = round(float(settings.AXES_COOLOFF_TIME) * 60)
    return render(request, "registration/locked_out.html", {"lockout_minutes": minutes}, status=429)


class _SecondStepView(LoginRequiredMixin, View):
    """A signed-in user who has not yet passed a second factor in this session."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated and second_factor_passed(request):
            return HttpResponseRedirect(_next_url(request))
        return super().dispatch(request, *args, **kwargs)


class VerifyView(_SecondStepView):
    """The second step for a user with an authenticator app or security key."""

    template_name = "accounts/verify.html"
    recovery = False

    def _devices(self, user: User) -> list[Any]:
        if self.recovery:
            return list(StaticDevice.objects.devices_for_user(user, confirmed=True))
        return totp_devices(user)

    def _form(self, data: Any = None) -> TokenForm:
        if self.recovery:
            return TokenForm(data, label="Recovery code", help_text="One of the codes you saved when you set up.")
        return TokenForm(data, label="Security code", help_text="The 6-digit code from your authenticator app.")

    def _render(self, request: HttpRequest, form: TokenForm) -> HttpResponse:
        user = request.user
        assert isinstance(user, User)
        if not has_second_factor(user):
            return redirect(_step("accounts:setup", request))
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "recovery": self.recovery,
                "has_totp": bool(totp_devices(user)),
                "has_webauthn": bool(webauthn_devices(user)),
                "has_recovery_codes": has_recovery_codes(user),
                "next": _next_url(request),
                "page_title": "Enter a recovery code" if self.recovery else "Confirm it is you",
            },
            status=400 if form.errors else 200,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, self._form())

    def post(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        assert isinstance(user, User)
        form = self._form(request.POST)
        if form.is_valid():
            token = form.cleaned_data["token"]
            waits = []
            for device in self._devices(user):
                # django-otp slows guessing down: after each wrong code a device refuses any code for a while.
                allowed, refusal = device.verify_is_allowed()
                if not allowed:
                    locked_until = (refusal or {}).get("locked_until")
                    waits.append((locked_until - timezone.now()).total_seconds() if locked_until else 1)
                elif device.verify_token(token):
                    django_otp.login(request, device)
                    return HttpResponseRedirect(_next_url(request))
            audit_record(actor=user, action=Action.MFA_FAILED, subject=user)
            if waits and len(waits) == len(self._devices(user)):
                seconds = max(1, math.ceil(min(waits)))
                form.add_error(
                    "token", f"Too many wrong codes. Wait {seconds} second{pluralize(seconds)}, then try again."
                )
            else:
                form.add_error(
                    "token",
                    "The code is not right, or has been used. Try again."
                    if not self.recovery
                    else "That recovery code is not right, or has been used already.",
                )
        return self._render(request, form)


class SetupView(_SecondStepView):
    """First sign-in without a device: add an authenticator app (or a security key), then save recovery codes."""

    def _render(self, request: HttpRequest, form: TokenForm) -> HttpResponse:
        user = request.user
        assert isinstance(user, User)
        device = totp_pending(user)
        return render(
            request,
            "accounts/setup.html",
            {
                "form": form,
                "qr_svg": totp_qr_svg(device),
                "secret": totp_secret(device),
                "next": _next_url(request),
                "page_title": "Set up a second way to sign in",
            },
            status=400 if form.errors else 200,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        if has_second_factor(request.user):
            return redirect(_step("accounts:verify", request))
        return self._render(request, TokenForm(help_text="The 6-digit code your app shows after you add the account."))

    def post(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        assert isinstance(user, User)
        if has_second_factor(user):
            return redirect(_step("accounts:verify", request))
        form = TokenForm(request.POST)
        if form.is_valid():
            device = totp_pending(user)
            try:
                codes = services.totp_confirm(actor=user, device=device, token=form.cleaned_data["token"])
            except ValidationError as error:
                form.add_error(None, error)
            else:
                django_otp.login(request, device)
                request.session[NEW_RECOVERY_CODES_SESSION_KEY] = codes
                return redirect(_step("accounts:recovery_codes", request))
        return self._render(request, form)


class RecoveryCodesView(LoginRequiredMixin, View):
    """Shows newly made recovery codes, once. After a security key is registered at set-up (django-otp-webauthn's
    script does that), the set-up page posts here to make the first set."""

    def post(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        assert isinstance(user, User)
        if not second_factor_passed(request):
            return redirect(_step("accounts:setup", request))
        if not has_recovery_codes(user):
            request.session[NEW_RECOVERY_CODES_SESSION_KEY] = services.recovery_codes_regenerate(actor=user)
        return redirect(_step("accounts:recovery_codes", request))

    def get(self, request: HttpRequest) -> HttpResponse:
        codes = request.session.pop(NEW_RECOVERY_CODES_SESSION_KEY, None)
        return render(
            request,
            "accounts/recovery_codes.html",
            {"codes": codes, "next": _next_url(request), "page_title": "Save your recovery codes"},
        )


class SecurityView(LoginRequiredMixin, View):
    """The user's own sign-in settings: devices, recovery codes, password."""

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        assert isinstance(user, User)
        return render(
            request,
            "accounts/security.html",
            {
                "totp_devices": totp_devices(user),
                "webauthn_devices": webauthn_devices(user),
                "recovery_codes_left": sum(d.token_set.count() for d in StaticDevice.objects.filter(user=user)),
                "page_title": "Your sign-in and security",
            },
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        assert isinstance(user, User)
        codes = services.recovery_codes_regenerate(actor=user)
        request.session[NEW_RECOVERY_CODES_SESSION_KEY] = codes
        messages.success(request, "You have new recovery codes. The old ones no longer work.")
        return redirect(f"{reverse('accounts:recovery_codes')}?{urlencode({'next': reverse('accounts:security')})}")


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = PasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:security")
    extra_context = {"page_title": "Change your password"}

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.password_changed(user=form.user, how="Changed by its owner")
        messages.success(self.request, "Your password has been changed.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """The same answer whether or not the address has an account: nobody learns who has one."""

    form_class = PasswordResetForm
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")
    extra_context = {"page_title": "Reset your password"}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = SetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    extra_context = {"page_title": "Choose a new password"}

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.password_changed(user=form.user, how="Reset by e-mail link")
        return response


class InvitationAcceptView(View):
    """The link in an invitation e-mail: choose a username and password, and the account exists with the role the
    IG lead chose. The second factor is set up at the first sign-in."""

    def _render(
        self, request: HttpRequest, form: InvitationAcceptForm | None, error: str = "", **context: Any
    ) -> HttpResponse:
        return render(
            request,
            "accounts/invitation_accept.html",
            {"form": form, "error": error, "page_title": "Accept your invitation", **context},
            status=400 if error or (form and form.errors) else 200,
        )

    def get(self, request: HttpRequest, pk: int, key: str) -> HttpResponse:
        try:
            invitation = services.invitation_check(pk=pk, key=key)
        except ValidationError as error:
            return self._render(request, None, error=error.messages[0])
        return self._render(request, InvitationAcceptForm(), invitation=invitation)

    def post(self, request: HttpRequest, pk: int, key: str) -> HttpResponse:
        try:
            invitation = services.invitation_check(pk=pk, key=key)
        except ValidationError as error:
            return self._render(request, None, error=error.messages[0])
        form = InvitationAcceptForm(request.POST)
        if form.is_valid():
            try:
                services.invitation_accept(
                    pk=pk, key=key, username=form.cleaned_data["username"], password=form.cleaned_data["password1"]
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, messages_ in error.message_dict.items():
                        form.add_error(
                            field if field in form.fields else "password1" if field == "password" else None, messages_
                        )
                else:
                    form.add_error("password1", error)
            else:
                messages.success(request, "Your account is ready. Sign in to set up your second factor.")
                return redirect("login")
        return self._render(request, form, invitation=invitation)
