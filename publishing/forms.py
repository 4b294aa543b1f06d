from django import forms

from publishing.models import Register
from publishing.services import REGISTER_EDITABLE_FIELDS


class RegisterForm(forms.ModelForm):
    class Meta:
        model = Register
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
