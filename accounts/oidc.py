"""Single sign-on with OpenID Connect (mozilla-django-oidc), configured by environment alone.

- The endpoints come from the issuer's discovery document, fetched once and cached, and checked to name the
  configured issuer.
- A first sign-on links to an existing, active account by e-mail address, and only when the address's domain is
  one of OIDC_ALLOWED_EMAIL_DOMAINS and the provider has not said it is unverified. Otherwise it is refused with a
  clear message on the sign-in page. No account is ever created here, so nobody gains a role by signing on.
- When the ID token's `amr` claim says the provider did multi-factor authentication, the portal does not ask
  again; otherwise its own second factor follows, as after a password.
"""

from __future__ import annotations

from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpResponse, HttpResponseRedirect
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts.second_factor import IDP_MFA_SESSION_KEY

REFUSAL_SESSION_KEY = "accounts_oidc_refusal"
# RFC 8176 values that mean more than one factor was used.
MFA_AMR_VALUES = {"mfa"}
_DISCOVERY_SETTINGS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
REFUSED = (
    "We could not sign you in with {provider}: {why} Sign in with your username and password, or ask your "
    "information governance lead to invite you."
)


def enabled() -> bool:
    return bool(settings.OIDC_ISSUER_URL)


def discovery() -> dict[str, Any]:
    issuer = settings.OIDC_ISSUER_URL
    key = f"accounts:oidc-discovery:{issuer}"
    document = cache.get(key)
    if document is None:
        response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
        if str(document.get("issuer", "")).rstrip("/") != issuer:
            raise ImproperlyConfigured(f"The discovery document at {issuer} names another issuer")
        cache.set(key, document, 3600)
    return document


def _setting(attr: str, *args: Any) -> Any:
    if attr in _DISCOVERY_SETTINGS and enabled():
        return discovery()[_DISCOVERY_SETTINGS[attr]]
    return import_from_settings(attr, *args)


class PortalOIDCBackend(OIDCAuthenticationBackend):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Django makes every backend for every sign-in, password ones included; the provider's settings (and its
        # discovery document) are read only for an OIDC callback, so a password sign-in never waits on the provider.
        self.UserModel = get_user_model()

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return _setting(attr, *args)

    def authenticate(self, request: Any, **kwargs: Any) -> User | None:
        if not enabled() or request is None or "code" not in request.GET or "state" not in request.GET:
            return None
        super().__init__()
        return super().authenticate(request, **kwargs)

    def get_user(self, user_id: Any) -> User | None:
        """The signed-in user of a session this backend started, unless they have since been deactivated."""
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None

    def _refuse(self, why: str) -> None:
        self.request.session[REFUSAL_SESSION_KEY] = REFUSED.format(provider=settings.OIDC_PROVIDER_NAME, why=why)

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        payload = super().verify_token(token, **kwargs)
        if str(payload.get("iss", "")).rstrip("/") != settings.OIDC_ISSUER_URL:
            self._refuse("the sign-in came from an identity provider this portal does not use.")
            return {}
        self.request.oidc_amr = payload.get("amr") or []
        return payload

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User | None:
        claims = self.get_userinfo(access_token, id_token, payload)
        email = str(claims.get("email") or payload.get("email") or "").strip()
        if not email or "@" not in email:
            self._refuse("your account did not give an e-mail address.")
            return None
        if claims.get("email_verified", payload.get("email_verified")) is False:
            self._refuse("your e-mail address is not verified.")
            return None
        if email.rsplit("@", 1)[1].lower() not in settings.OIDC_ALLOWED_EMAIL_DOMAINS:
            self._refuse(f"addresses at {email.rsplit('@', 1)[1]} cannot sign in to this portal.")
            return None
        users = list(get_user_model().objects.filter(email__iexact=email, is_active=True)[:2])
        if len(users) != 1:
            self._refuse(
                f"no account here has the address {email}."
                if not users
                else f"more than one account has the address {email}."
            )
            return None
        return users[0]


def _unreachable(request: Any) -> HttpResponse:
    request.session[REFUSAL_SESSION_KEY] = REFUSED.format(
        provider=settings.OIDC_PROVIDER_NAME, why="the identity provider did not answer. Try again in a few minutes."
    )
    return HttpResponseRedirect(settings.LOGIN_REDIRECT_URL_FAILURE)


class AuthenticateView(OIDCAuthenticationRequestView):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Settings are read when the view is made, so the provider's discovery document is fetched in get().
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    def get(self, request: Any) -> HttpResponse:
        if not enabled():
            # A 404 rather than a redirect to nowhere.
            raise Http404("Single sign-on is not configured")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = self.get_settings("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except (requests.RequestException, ValueError, ImproperlyConfigured):
            return _unreachable(request)
        self.OIDC_RP_CLIENT_ID = self.get_settings("OIDC_RP_CLIENT_ID")
        return super().get(request)

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return _setting(attr, *args)


class CallbackView(OIDCAuthenticationCallbackView):
    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return _setting(attr, *args)

    def get(self, request: Any) -> HttpResponse:
        try:
            return super().get(request)
        except requests.RequestException:
            # The token or userinfo endpoint did not answer: a message, not a server error.
            return _unreachable(request)

    def login_success(self) -> HttpResponse:
        response = super().login_success()
        amr = set(getattr(self.request, "oidc_amr", []) or [])
        if amr & MFA_AMR_VALUES:
            self.request.session[IDP_MFA_SESSION_KEY] = True
        return response

    def login_failure(self) -> HttpResponse:
        if not self.request.session.get(REFUSAL_SESSION_KEY):
            self.request.session[REFUSAL_SESSION_KEY] = REFUSED.format(
                provider=settings.OIDC_PROVIDER_NAME, why="the identity provider did not confirm who you are."
            )
        return super().login_failure()
