"""Django admin, for superusers only. The IG team works in the staff area (/staff/), which checks object
permissions row by row; guardian's admin does not, so it is not a staff surface."""

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from guardian.admin import GuardedModelAdmin

from agreements.models import (
    Agreement,
    Dataset,
    Document,
    Linkage,
    Organisation,
    Party,
    PermittedPurpose,
    Purpose,
    ReferenceSequence,
    SentReminder,
)


def _superusers_only(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.is_superuser


# The whole admin site, not just these models: staff roles hold model permissions for the staff area, and the
# admin would otherwise honour them.
admin.site.has_permission = _superusers_only  # type: ignore[method-assign]


class SuperuserOnlyMixin:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_active and request.user.is_superuser


# guardian declares change_form_template as an instance str and django-stubs as a ClassVar, so the bases clash.
@admin.register(Organisation)
class OrganisationAdmin(SuperuserOnlyMixin, GuardedModelAdmin):  # type: ignore[misc]
    # "Object permissions" on an organisation is where a superuser grants partner-contact rights.
    list_display = ["name", "ods_code", "kind", "dspt_status", "dspt_assessment_year"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_filter = ["kind", "dspt_status"]
    search_fields = ["name", "ods_code"]


class PartyInline(admin.TabularInline):
    model = Party
    extra = 0
    autocomplete_fields = ["organisation"]


class DocumentInline(admin.TabularInline):
    model = Document
    extra = 0
    fields = readonly_fields = ("title", "kind", "filename", "size", "uploaded_by", "uploaded_at")


# The same clash of change_form_template declarations as for OrganisationAdmin.
@admin.register(Agreement)
class AgreementAdmin(SuperuserOnlyMixin, GuardedModelAdmin):  # type: ignore[misc]
    list_display = [
        "reference",
        "title",
        "kind",
        "status",
        "data_level",
        "start_date",
        "end_date",
        "is_public",
    ]
    list_filter = ["kind", "status", "data_level", "is_public"]
    search_fields = ["reference", "title", "parties__organisation__name"]
    autocomplete_fields = ["parent", "owner", "datasets", "purposes"]
    readonly_fields = ["last_edited_by", "created_at", "updated_at"]
    inlines = [PartyInline, DocumentInline]


@admin.register(Dataset)
class DatasetAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "provider", "category"]
    list_filter = ["category"]
    search_fields = ["name"]


@admin.register(Purpose)
class PurposeAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(ReferenceSequence)
class ReferenceSequenceAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ["prefix", "year", "last_number"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Linkage)
class LinkageAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ["title", "icb", "provider", "processor", "category", "status"]
    list_filter = ["category", "status"]
    search_fields = ["title", "provider__name", "processor__name"]
    autocomplete_fields = ["icb", "provider", "processor", "datasets"]
    filter_horizontal = ["purposes"]


@admin.register(PermittedPurpose)
class PermittedPurposeAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    """NHS England's list, loaded by a data migration: a change to the guidance is a new migration."""

    list_display = ["category", "position", "text"]
    list_filter = ["category"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SentReminder)
class SentReminderAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ["sent_at", "kind", "subject", "threshold", "due_on", "recipients"]
    list_filter = ["kind"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
