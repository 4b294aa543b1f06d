from typing import Any

from django import forms
from django.db import models

from publishing.models import Register
from publishing.services import REGISTER_EDITABLE_FIELDS


def _formfield(field: models.Field, **kwargs: Any) -> forms.Field | None:
    # Web addresses typed without a scheme are https, as Django 6 will assume; this also silences its warning.
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class RegisterForm(forms.ModelForm):
    class Meta:
        model = Register
        formfield_callback = _formfield
        fields = REGISTER_EDITABLE_FIELDS
        widgets = {"introduction": forms.Textarea(attrs={"rows": 12})}


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why are you withdrawing this edition?",
        help_text="Kept for audit. It is not shown to the public.",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        error_messages={"required": "Enter why the edition is being withdrawn"},
    )
