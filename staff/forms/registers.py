"""Forms for the registers' staff pages. They parse what was typed; publishing.services decides and writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models

from nhsuk.forms import NHSFormMixin
from publishing.models import Register
from publishing.services import REGISTER_EDITABLE_FIELDS


def _formfield(field: models.Field, **kwargs: Any) -> forms.Field | None:
    # Web addresses typed without a scheme are https, as Django 6 will assume; this also silences its warning.
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class RegisterForm(NHSFormMixin, forms.Form):
    """The wording the IG team may change, with the model's own labels, limits and help text. A plain form (not a
    ModelForm) so that validating it never touches the Register; the service does the writing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = forms.fields_for_model(Register, fields=REGISTER_EDITABLE_FIELDS, formfield_callback=_formfield)
        for name, field in fields.items():
            if field is not None:
                if name == "introduction":
                    field.widget = forms.Textarea(attrs={"rows": 12})
                self.fields[name] = field


class WithdrawForm(NHSFormMixin, forms.Form):
    reason = forms.CharField(
        label="Why are you withdrawing this edition?",
        help_text="Kept for audit. It is not shown to the public.",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        error_messages={"required": "Enter why the edition is being withdrawn"},
    )
