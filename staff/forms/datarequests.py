"""Staff forms for the data-request log. They check what a person typed; the services decide and write.

The transition form is built from the workflow table's row: a date always, a reason where the table asks for
one, a resume date for a hold, and what a clarification is about."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from agreements import roles
from agreements.models import Agreement, Organisation
from datarequests.models import DataRequest, DataSharingGroup, Decision, LineItem
from datarequests.workflow import Transition
from nhsuk.forms import NHSDateField, NHSFormMixin
from staff.forms.agreements import CreationKeyMixin, RecordsChoiceField, _friendly_lengths

ON_HINT = "The day it happened, for example 8 4 2025. It may be earlier than today, never later."


def handlers() -> QuerySet[Any]:
    """The people who can handle requests: the IG team."""
    return (
        get_user_model()
        .objects.filter(
            Q(groups__name__in=[roles.IG_OFFICER, roles.IG_APPROVER]) | Q(is_superuser=True), is_active=True
        )
        .distinct()
        .order_by("username")
    )


class RequestFilterForm(NHSFormMixin, forms.Form):
    q = forms.CharField(label="Search", help_text="Reference or title", required=False, max_length=200)
    status = forms.ChoiceField(
        label="Status", choices=[("", "All statuses"), *DataRequest.Status.choices], required=False
    )
    organisation = forms.ModelChoiceField(
        label="Requesting organisation", queryset=Organisation.objects.none(), required=False,
        empty_label="All organisations",
    )  # fmt: skip

    def __init__(self, *args: Any, organisations: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations  # type: ignore[attr-defined]


class RequestForm(NHSFormMixin, CreationKeyMixin, forms.ModelForm):
    requesters = RecordsChoiceField(
        label="Requesting organisations",
        queryset=Organisation.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        help_text="Every organisation the request is made on behalf of (a consortium is one request).",
        error_messages={"required": "Choose at least one requesting organisation"},
    )
    received_on = NHSDateField(label="Date received", help_text=ON_HINT)

    class Meta:
        model = DataRequest
        fields = ["title", "summary", "responder", "requesters", "channel", "received_on", "raised_at",
                  "contact_name", "contact_email", "handler"]  # fmt: skip
        widgets = {"channel": forms.RadioSelect, "summary": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["handler"].queryset = handlers()  # type: ignore[attr-defined]
        self.fields["responder"].queryset = Organisation.objects.order_by("name")  # type: ignore[attr-defined]
        if self.instance.pk:
            # The date received dates the whole timeline: it is fixed once logged.
            del self.fields["received_on"]
            self.fields["reason"] = forms.CharField(
                label="Why are you changing it? (optional)", required=False, max_length=2000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )  # fmt: skip
        _friendly_lengths(self)

    def model_fields(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data[name] for name in self.Meta.fields if name in self.fields and name != "requesters"
        }


class LineItemForm(NHSFormMixin, forms.ModelForm):
    class Meta:
        model = LineItem
        fields = ["description", "geography", "period", "data_category", "purpose", "article_6_basis",
                  "article_9_condition", "necessity", "dpia_needed"]  # fmt: skip
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "purpose": forms.Textarea(attrs={"rows": 3}),
            "necessity": forms.Textarea(attrs={"rows": 3}),
            "data_category": forms.RadioSelect,
        }
        help_texts = {
            "article_9_condition": "Only for special category data.",
            "article_6_basis": "Needed before personal data can be approved.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _friendly_lengths(self)

    def model_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class TransitionForm(NHSFormMixin, forms.Form):
    on = NHSDateField(label="Date", help_text=ON_HINT)
    topic = forms.CharField(
        label="What is the clarification about?", max_length=200,
        help_text="A word or two, for example rationale or scope. If it is never answered, the request lapses "
        "as “lapsed: rationale queried …, no response”.",
    )  # fmt: skip
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
    resume_on = NHSDateField(label="Resume on", help_text="For example 2 6 2025.")

    def __init__(self, *args: Any, transition: Transition, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("on", dt.date.today())
        reason = self.fields["reason"]
        reason.label = {
            "request_clarification": "What are you asking?",
            "answer_clarification": "What did they answer?",
            "hold": "Why is it on hold?",
        }.get(transition.action, "Reason" if transition.needs_reason else "Note (optional)")
        reason.required = transition.needs_reason
        reason.error_messages["required"] = f"Enter {str(reason.label).lower().rstrip('?')}"
        if not transition.needs_topic:
            del self.fields["topic"]
        if not transition.needs_resume_date:
            del self.fields["resume_on"]
        _friendly_lengths(self)


class DecisionForm(NHSFormMixin, forms.ModelForm):
    decided_on = NHSDateField(label="Date of decision", help_text=ON_HINT)
    public_link = forms.URLField(
        label="Where it is published", required=False, max_length=200, assume_scheme="https",
        help_text="Only for “already publicly available”: the page where it is published.",
    )  # fmt: skip

    class Meta:
        model = Decision
        fields = ["outcome", "rationale", "conditions", "public_link", "referred_to", "decided_on"]
        widgets = {
            "outcome": forms.RadioSelect,
            "rationale": forms.Textarea(attrs={"rows": 4}),
            "conditions": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "conditions": "Only for “approved with conditions”.",
            "referred_to": "Only for “referred elsewhere”.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rationale"].required = False  # the service says when a reason is needed
        self.initial.setdefault("decided_on", dt.date.today())
        _friendly_lengths(self)


class DecisionApproveForm(NHSFormMixin, forms.Form):
    on = NHSDateField(label="Date approved", help_text=ON_HINT)
    reason = forms.CharField(label="Comment (optional)", required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("on", dt.date.today())


class DecisionReturnForm(NHSFormMixin, forms.Form):
    reason = forms.CharField(
        label="Why are you returning it?", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter why you are returning the decision"},
    )  # fmt: skip


class FulfilForm(NHSFormMixin, forms.Form):
    agreements = RecordsChoiceField(
        label="Agreements that cover it", required=False,
        queryset=Agreement.objects.filter(status=Agreement.Status.ACTIVE).order_by("reference"),
        widget=forms.CheckboxSelectMultiple, help_text="The signed agreements it was shared under, if any.",
    )  # fmt: skip
    on = NHSDateField(label="Date shared", help_text=ON_HINT)
    reason = forms.CharField(label="How it was shared (optional)", required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("on", dt.date.today())


class GroupForm(NHSFormMixin, forms.ModelForm):
    terms_of_reference_url = forms.URLField(
        label="Terms of reference link (optional)", required=False, max_length=200, assume_scheme="https"
    )
    members = RecordsChoiceField(
        label="Member organisations", queryset=Organisation.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple, error_messages={"required": "Choose the member organisations"},
    )  # fmt: skip

    class Meta:
        model = DataSharingGroup
        fields = ["name", "chair", "members", "terms_of_reference_url"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["chair"].queryset = Organisation.objects.order_by("name")  # type: ignore[attr-defined]
        _friendly_lengths(self)


class MeetingForm(NHSFormMixin, forms.Form):
    title = forms.CharField(max_length=200)
    held_on = NHSDateField(label="Date", help_text="For example 23 9 2025.")
    group = forms.ModelChoiceField(label="Group (optional)", queryset=DataSharingGroup.objects.all(), required=False)
    attendees = forms.CharField(label="Attendees (optional)", required=False, max_length=5000,
                                widget=forms.Textarea(attrs={"rows": 4}), help_text="One a line.")  # fmt: skip
    organisations = RecordsChoiceField(
        label="Organisations represented (optional)", queryset=Organisation.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple, required=False,
    )  # fmt: skip
    requests_discussed = RecordsChoiceField(
        label="Requests discussed (optional)", queryset=DataRequest.objects.order_by("-received_on"),
        widget=forms.CheckboxSelectMultiple, required=False,
    )  # fmt: skip
    decisions = forms.CharField(label="Decisions taken (optional)", required=False, max_length=5000,
                                widget=forms.Textarea(attrs={"rows": 4}))  # fmt: skip


class MeetingActionForm(NHSFormMixin, forms.Form):
    description = forms.CharField(label="Action", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    owner = forms.CharField(label="Owner", max_length=200, help_text="The person or organisation who will do it.")
    due_on = NHSDateField(label="Due date", help_text="For example 30 9 2025.")


class TimelineForm(NHSFormMixin, forms.Form):
    organisation = forms.ModelChoiceField(
        label="Organisation (optional)", queryset=Organisation.objects.order_by("name"), required=False,
        empty_label="All organisations", help_text="Requests it made or was asked.",
    )  # fmt: skip
    start = NHSDateField(label="From (optional)", required=False, help_text="For example 1 3 2025.")
    end = NHSDateField(label="To (optional)", required=False, help_text="For example 31 10 2025.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The end date must be on or after the start date")
        return data


class ResponseTargetsForm(NHSFormMixin, forms.Form):
    acknowledge_days = forms.IntegerField(
        label="Acknowledge within (working days)", min_value=1, max_value=365,
        widget=forms.NumberInput(attrs={"class": "nhsuk-input--width-3"}),
    )  # fmt: skip
    decide_days = forms.IntegerField(
        label="Decide within (working days)", min_value=1, max_value=365,
        widget=forms.NumberInput(attrs={"class": "nhsuk-input--width-3"}),
    )  # fmt: skip
    lapse_after_days = forms.IntegerField(
        label="Lapse an unanswered clarification after (days)", min_value=1, max_value=365,
        help_text="Calendar days after the clarification was asked.",
        widget=forms.NumberInput(attrs={"class": "nhsuk-input--width-3"}),
    )  # fmt: skip
    reason = forms.CharField(label="Why are you changing them? (optional)", required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
