"""Django admin, for superusers only. The IG team works in the staff area (/staff/), which checks object
permissions row by row; guardian's admin does not, so it is not a staff surface.

The admin never writes a workflow field (status, reference, who last edited) or an audit row itself: those are
read-only here, and what stays editable is saved through the same services as the staff area, which validate it
and record who changed what in the audit trail. Nothing is deleted here: records are protected by the history
that points at them.
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth.models import User
from django.db import models
from django.http import HttpRequest
from guardian.admin import GuardedModelAdmin

from agreements import services, workflow
from agreements.models import (
    AMENDABLE_FIELDS,
    Agreement,
    Amendment,
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


ADMIN_REASON = "Changed in the Django admin"


class SuperuserOnlyMixin:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_active and request.user.is_superuser


class NoDeleteMixin:
    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyMixin(NoDeleteMixin):
    """What the admin shows and never adds, changes nor deletes: records written only through their services."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def _actor(request: HttpRequest) -> User:
    # The whole admin is for signed-in superusers (admin.site.has_permission above).
    assert isinstance(request.user, User)
    return request.user


def _changed(form: Any, names: set[str] | None = None) -> dict[str, Any]:
    """What the superuser changed, as field values for a service (relations left out unless named)."""
    return {
        name: form.cleaned_data[name]
        for name in form.changed_data
        if name in form.cleaned_data and (names is None or name in names)
    }


def _adopt(obj: models.Model, saved: models.Model) -> None:
    """The admin goes on with the object it built (its redirect needs the id): give it the saved row's state."""
    obj.pk = saved.pk
    obj.__dict__.update({k: v for k, v in saved.__dict__.items() if not k.startswith("_")})


# guardian declares change_form_template as an instance str and django-stubs as a ClassVar, so the bases clash.
@admin.register(Organisation)
class OrganisationAdmin(SuperuserOnlyMixin, NoDeleteMixin, GuardedModelAdmin):  # type: ignore[misc]
    # "Object permissions" on an organisation is where a superuser grants partner-contact rights.
    list_display = ["name", "ods_code", "kind", "dspt_status", "dspt_assessment_year"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_filter = ["kind", "dspt_status"]
    search_fields = ["name", "ods_code"]

    def save_model(self, request: HttpRequest, obj: Organisation, form: Any, change: bool) -> None:
        actor = _actor(request)
        if change:
            saved = services.organisation_update(
                actor=actor, organisation=obj, fields=_changed(form), reason=ADMIN_REASON
            )
        else:
            saved = services.organisation_create(actor=actor, fields=form.cleaned_data, reason=ADMIN_REASON)
        _adopt(obj, saved)


class PartyInline(admin.TabularInline):
    """Who is party to an agreement changes in the staff area, where the rules about parties are checked."""

    model = Party
    extra = 0
    fields = readonly_fields = ("organisation", "role")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class DocumentInline(admin.TabularInline):
    model = Document
    extra = 0
    fields = readonly_fields = ("title", "kind", "filename", "size", "uploaded_by", "uploaded_at")


# The same clash of change_form_template declarations as for OrganisationAdmin.
@admin.register(Agreement)
class AgreementAdmin(SuperuserOnlyMixin, NoDeleteMixin, GuardedModelAdmin):  # type: ignore[misc]
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
    # The workflow's fields move only through its steps (agreements.workflow), in the staff area.
    readonly_fields = ["kind", "reference", "status", "superseded_by", "last_edited_by", "created_at", "updated_at"]
    inlines = [PartyInline, DocumentInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # New agreements start in the staff area, where sub-licence references are allocated.
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Agreement | None = None) -> Any:
        # An approved agreement changes only through an amendment a second person approves (staff area), apart
        # from its trivial fields.
        if obj is not None and obj.status == Agreement.Status.ACTIVE:
            editable = set(workflow.TRIVIAL_FIELDS)
            return [*self.readonly_fields, *(f for f in AMENDABLE_FIELDS if f not in editable), "datasets", "purposes"]
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Agreement, form: Any, change: bool) -> None:
        relations = {"datasets", "purposes"}
        saved = services.agreement_update(
            actor=_actor(request),
            agreement=obj,
            fields={k: v for k, v in _changed(form).items() if k not in relations},
            **{name: form.cleaned_data[name] for name in relations if name in form.changed_data},
            reason=ADMIN_REASON,
        )
        _adopt(obj, saved)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The service has saved the relations (not form.save_m2m); the inlines are read-only, so saving them
        writes nothing, but the admin's change message reads what they did."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


class AmendmentDocumentInline(ReadOnlyMixin, admin.TabularInline):
    """Documents an amendment adds: attached to the agreement when the amendment is approved."""

    model = Document
    fk_name = "amendment"
    extra = 0
    fields = readonly_fields = ("title", "kind", "filename", "agreement", "uploaded_by", "uploaded_at")


@admin.register(Amendment)
class AmendmentAdmin(SuperuserOnlyMixin, NoDeleteMixin, admin.ModelAdmin):
    """Read-only: an amendment is proposed, changed, submitted and decided in the staff area, through the workflow
    table (agreements.workflow.AMENDMENT_STEPS), where four eyes is checked."""

    list_display = ["agreement", "kind", "status", "author", "partner", "decided_by", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["agreement__reference", "agreement__title", "author__username", "reason"]
    list_select_related = ["agreement", "author", "partner", "decided_by"]
    fields = readonly_fields = (
        "agreement",
        "kind",
        "status",
        "reason",
        "author",
        "contributors",
        "partner",
        "superseded_by",
        "fields",
        "parties",
        "datasets",
        "purposes",
        "base",
        "decided_by",
        "decided_at",
        "decision_reason",
        "created_at",
        "updated_at",
    )
    inlines = [AmendmentDocumentInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Dataset)
class DatasetAdmin(SuperuserOnlyMixin, NoDeleteMixin, admin.ModelAdmin):
    list_display = ["name", "provider", "category"]
    list_filter = ["category"]
    search_fields = ["name"]

    def save_model(self, request: HttpRequest, obj: Dataset, form: Any, change: bool) -> None:
        services.catalogue_save(actor=_actor(request), record=obj, reason=ADMIN_REASON)


@admin.register(Purpose)
class PurposeAdmin(SuperuserOnlyMixin, NoDeleteMixin, admin.ModelAdmin):
    search_fields = ["name"]

    def save_model(self, request: HttpRequest, obj: Purpose, form: Any, change: bool) -> None:
        services.catalogue_save(actor=_actor(request), record=obj, reason=ADMIN_REASON)


@admin.register(ReferenceSequence)
class ReferenceSequenceAdmin(SuperuserOnlyMixin, NoDeleteMixin, admin.ModelAdmin):
    list_display = ["prefix", "year", "last_number"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Sequences are the allocator's (agreements.services.references): numbers are never typed.
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Linkage)
class LinkageAdmin(SuperuserOnlyMixin, NoDeleteMixin, admin.ModelAdmin):
    list_display = ["title", "icb", "provider", "processor", "category", "status"]
    list_filter = ["category", "status"]
    search_fields = ["title", "provider__name", "processor__name"]
    autocomplete_fields = ["icb", "provider", "processor", "datasets"]
    filter_horizontal = ["purposes"]
    readonly_fields = ["status", "created_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Linkage, form: Any, change: bool) -> None:
        relations = {"datasets", "purposes"}
        saved = services.linkage_update(
            actor=_actor(request),
            linkage=obj,
            fields={k: v for k, v in _changed(form).items() if k not in relations},
            **{name: form.cleaned_data[name] for name in relations if name in form.changed_data},
            reason=ADMIN_REASON,
        )
        _adopt(obj, saved)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The service has saved the relations."""


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
