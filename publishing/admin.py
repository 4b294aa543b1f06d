"""Django admin for registers and editions, superusers only (as for agreements/admin.py).

Editions are immutable records of what was published: the admin shows them but cannot add, change or delete
them. Publishing and withdrawing happen in the staff area (/staff/registers/), through publishing.services."""

from typing import Any

from django.contrib import admin
from django.db import models
from django.forms import ModelForm
from django.http import HttpRequest

from agreements.admin import ReadOnlyMixin, SuperuserOnlyMixin, _actor
from publishing import services
from publishing.models import Edition, EditionFile, Register


@admin.register(Register)
class RegisterAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ["title", "slug", "organisation_name", "cadence", "updated_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Only the wording the IG team may change is editable, and it is saved as the staff area saves it.
        editable = set(services.REGISTER_EDITABLE_FIELDS)
        return [f.name for f in Register._meta.fields if f.name not in editable]

    def save_model(self, request: HttpRequest, obj: Register, form: ModelForm, change: bool) -> None:
        services.register_update(
            actor=_actor(request),
            register=obj,
            fields={name: form.cleaned_data[name] for name in form.changed_data},
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A register exists because its kind is defined in publishing/registers.py; a data migration creates it.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class EditionFileInline(ReadOnlyMixin, admin.TabularInline):
    model = EditionFile
    fields = readonly_fields = ("format", "file", "size", "sha256")
    extra = 0


@admin.register(Edition)
class EditionAdmin(SuperuserOnlyMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["register", "slug", "status", "period", "row_count", "trigger", "published_at"]
    list_filter = ["register", "status", "trigger"]
    date_hierarchy = "published_at"
    inlines = [EditionFileInline]
