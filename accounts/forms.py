"""Sign-in forms, with NHS.UK markup."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.models import User
from django.core.validators import MaxLengthValidator

from nhsuk.forms import NHSFormMixin

# The longest username or e-mail anyone signs in with. Longer input is refused by the form before it reaches the
# backends, so django-axes never tries to store it (its columns hold 255 characters: PostgreSQL refused more with
# a 500).
USERNAME_MAX_LENGTH = User._meta.get_field("username").max_length or 150

_PASSWORD_ATTRS = {"class": "nhsuk-input nhsuk-u-width-two-thirds"}


class LoginForm(NHSFormMixin, auth_forms.AuthenticationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        # AuthenticationForm sets max_length after the field is built, so no validator enforces it; add one.
        username.validators.append(MaxLengthValidator(USERNAME_MAX_LENGTH))
        username.error_messages["max_length"] = f"Enter a username of {USERNAME_MAX_LENGTH} characters or fewer"
        username.error_messages["required"] = "Enter your username"
        username.widget.attrs.update({"class": "nhsuk-u-width-two-thirds", "spellcheck": "false"})
        self.fields["password"].error_messages["required"] = "Enter your password"
        self.fields["password"].widget.attrs.update(_PASSWORD_ATTRS)


class TokenForm(NHSFormMixin, forms.Form):
    """One code: from an authenticator app (6 digits) or a recovery code."""

    token = forms.CharField(
        label="Security code",
        max_length=32,
        error_messages={"required": "Enter the security code"},
        widget=forms.TextInput(
            attrs={
                "class": "nhsuk-input--width-10",
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "spellcheck": "false",
            }
        ),
    )

    def __init__(self, *args: Any, label: str = "", help_text: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if label:
            self.fields["token"].label = label
        if help_text:
            self.fields["token"].help_text = help_text

    def clean_token(self) -> str:
        return "".join(str(self.cleaned_data["token"]).split())


class PasswordChangeForm(NHSFormMixin, auth_forms.PasswordChangeForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.update(_PASSWORD_ATTRS)


class SetPasswordForm(NHSFormMixin, auth_forms.SetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.update(_PASSWORD_ATTRS)


class PasswordResetForm(NHSFormMixin, auth_forms.PasswordResetForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["maxlength"] = 254
        self.fields["email"].error_messages["required"] = "Enter your e-mail address"
        self.fields["email"].error_messages["invalid"] = (
            "Enter an e-mail address in the right format, like name@nhs.net"
        )


class InvitationAcceptForm(NHSFormMixin, forms.Form):
    username = forms.CharField(
        label="Choose a username",
        max_length=USERNAME_MAX_LENGTH,
        help_text="Letters, digits and @ . + - _ only. You will sign in with it.",
        error_messages={"required": "Choose a username"},
        widget=forms.TextInput(attrs={"autocomplete": "username", "spellcheck": "false"}),
    )
    password1 = forms.CharField(
        label="Choose a password",
        strip=False,
        help_text="At least 8 characters, not a common password, and not only numbers.",
        error_messages={"required": "Choose a password"},
        widget=forms.PasswordInput(attrs={**_PASSWORD_ATTRS, "autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Type the password again",
        strip=False,
        error_messages={"required": "Type the password again"},
        widget=forms.PasswordInput(attrs={**_PASSWORD_ATTRS, "autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password1") and cleaned.get("password2") and cleaned["password1"] != cleaned["password2"]:
            self.add_error("password2", "The two passwords are not the same")
        return cleaned
