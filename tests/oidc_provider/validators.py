from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator


class Validator(OAuth2Validator):
    """Claims as an NHS identity provider gives them. The test users' names say what the provider asserts:
    `*-mfa` users did multi-factor authentication (amr), `unverified-*` users have an unverified address."""

    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "amr": "openid"}

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        return {
            "email": user.email,
            "email_verified": not user.username.startswith("unverified-"),
            "amr": ["pwd", "mfa"] if user.username.endswith("-mfa") else ["pwd"],
        }
