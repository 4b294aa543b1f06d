"""The audit log's filters (django-filter): person, organisation, record, action and dates."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from agreements.models import Agreement, Organisation
from audit.models import AuditEvent
from nhsuk.forms import LongSelect, NHSDateField, NHSFormMixin


class AuditFilterForm(NHSFormMixin, forms.Form):
    widths = {"person": "nhsuk-input--width-20", "record": "nhsuk-input--width-20"}


class NHSDateFilter(django_filters.DateFilter):
    field_class = NHSDateField


class AuditEventFilter(django_filters.FilterSet):
    person = django_filters.CharFilter(
        label="Person (username)", method="filter_person", max_length=150, help_text="Who acted, or whose account."
    )
    organisation = django_filters.ModelChoiceFilter(
        label="Organisation",
        queryset=Organisation.objects.order_by("name"),
        method="filter_organisation",
        empty_label="Any organisation",
        widget=LongSelect(label_fields=("name", "ods_code"), label=Organisation.label),
    )
    record = django_filters.CharFilter(
        label="Record", method="filter_record", max_length=300, help_text="A reference such as SL/25/1, or a name."
    )
    action = django_filters.ChoiceFilter(label="Action", choices=AuditEvent.Action.choices, empty_label="Any action")
    start = NHSDateFilter(label="From", field_name="at", lookup_expr="date__gte")
    end = NHSDateFilter(label="To", field_name="at", lookup_expr="date__lte")

    class Meta:
        model = AuditEvent
        fields: list[str] = []
        form = AuditFilterForm

    def filter_person(self, queryset: QuerySet[AuditEvent], name: str, value: str) -> QuerySet[AuditEvent]:
        value = value.strip()
        if not value:
            return queryset
        user_type = ContentType.objects.get_for_model(get_user_model())
        return queryset.filter(
            Q(actor__username__iexact=value) | Q(subject_type=user_type, subject_label__iexact=value)
        )

    def filter_organisation(
        self, queryset: QuerySet[AuditEvent], name: str, value: Organisation | None
    ) -> QuerySet[AuditEvent]:
        """Events about the organisation itself and about the agreements it is a party to."""
        if value is None:
            return queryset
        agreements = Agreement.objects.filter(parties__organisation=value).values("pk")
        return queryset.filter(
            Q(subject_type=ContentType.objects.get_for_model(Organisation), subject_id=value.pk)
            | Q(subject_type=ContentType.objects.get_for_model(Agreement), subject_id__in=agreements)
        )

    def filter_record(self, queryset: QuerySet[AuditEvent], name: str, value: str) -> QuerySet[AuditEvent]:
        value = value.strip()
        return queryset.filter(subject_label__icontains=value) if value else queryset
