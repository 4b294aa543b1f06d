"""Forms for linkages of non-health data. They check what was typed; the services apply the rules."""

from __future__ import annotations

from typing import Any

from django import forms

from agreements.models import LINKABLE_CATEGORIES, Dataset, Linkage, Organisation, PermittedPurpose
from staff.forms.agreements import (
    CreationKeyMixin,
    NHSFormMixin,
    ReasonForm,
    RecordsChoiceField,
    _friendly_lengths,
    model_choice_field,
)

__all__ = ["LinkageForm", "ReasonForm"]


class PurposeChoiceField(RecordsChoiceField):
    def label_from_instance(self, obj: PermittedPurpose) -> str:
        return f"{obj.get_category_display()}: {obj}"


class DatasetChoiceField(RecordsChoiceField):
    def label_from_instance(self, obj: Dataset) -> str:
        held_by = f", held by {obj.provider.name}" if obj.provider_id and obj.provider else ""
        return f"{obj.name} ({obj.get_category_display()}{held_by})"


class LinkageForm(NHSFormMixin, CreationKeyMixin, forms.ModelForm):
    datasets = DatasetChoiceField(
        label="Datasets",
        queryset=Dataset.objects.filter(category__in=LINKABLE_CATEGORIES).select_related("provider"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="The provider's datasets that will be linked. Select all that apply.",
    )
    purposes = PurposeChoiceField(
        label="Purposes",
        queryset=PermittedPurpose.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Only the purposes NHS England permits for the category can be chosen. Select all that apply.",
    )
    reason = forms.CharField(
        label="Why are you making this change?",
        help_text="Kept in the linkage's history. Needed for an active linkage.",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )

    class Meta:
        model = Linkage
        fields = ["title", "icb", "provider", "processor", "category", "datasets", "purposes", "justification"]
        widgets = {"category": forms.RadioSelect, "justification": forms.Textarea(attrs={"rows": 5})}
        labels = {"title": "Name of the linkage", "justification": "Justification"}
        help_texts = {
            "title": "For example, Children's social care linked to commissioning data",
            "icb": "The integrated care board linking the data.",
            "processor": "The organisation that links the data on the ICB's behalf.",
            "justification": "Why the linkage is needed and what it will be used for, in plain English.",
        }

    def __init__(self, *args: Any, with_reason: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_reason:
            del self.fields["reason"]
        if self.instance.pk:
            del self.fields["creation_key"]
        model_choice_field(self, "icb").queryset = Organisation.objects.filter(kind=Organisation.Kind.ICB)
        messages = {
            "title": "Enter a name for the linkage",
            "icb": "Select the ICB",
            "provider": "Select the provider organisation",
            "processor": "Select the data processor",
            "category": "Select the category of data",
            "justification": "Enter why the linkage is needed",
        }
        for name, message in messages.items():
            self.fields[name].error_messages["required"] = message
            self.fields[name].error_messages["invalid_choice"] = message
        _friendly_lengths(self)

    def model_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name not in {"datasets", "purposes"}}
