"""Forms for the Users page. They parse what was typed; accounts.services decides and writes."""

from __future__ import annotations

from django import forms

from accounts.models import Invitation
from agreements.models import Organisation
from nhsuk.forms import NHSFormMixin

ROLE_CHOICES = Invitation.Role.choices


class InvitationForm(NHSFormMixin, forms.Form):
    widths = {"email": "nhsuk-input--width-30"}

    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        error_messages={
            "required": "Enter their e-mail address",
            "invalid": "Enter an e-mail address like name@nhs.net",
        },
    )
    role = forms.ChoiceField(
        label="Role", choices=ROLE_CHOICES, widget=forms.RadioSelect, error_messages={"required": "Choose a role"}
    )
    organisation = forms.ModelChoiceField(
        label="Organisation (for a partner contact)",
        queryset=Organisation.objects.order_by("name"),
        required=False,
        empty_label="Choose the organisation",
        help_text="A partner contact sees and edits only this organisation's agreements.",
    )


class RoleForm(NHSFormMixin, forms.Form):
    role = forms.ChoiceField(
        label="New role",
        choices=[*ROLE_CHOICES, ("", "No role (can sign in, sees nothing)")],
        widget=forms.RadioSelect,
        required=False,
    )
    organisation = forms.ModelChoiceField(
        label="Organisation (for a partner contact)",
        queryset=Organisation.objects.order_by("name"),
        required=False,
        empty_label="Choose the organisation",
    )
    reason = forms.CharField(
        label="Why?", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), error_messages={"required": "Say why"}
    )


class ReasonForm(NHSFormMixin, forms.Form):
    reason = forms.CharField(
        label="Why?", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), error_messages={"required": "Say why"}
    )
