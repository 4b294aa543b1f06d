"""Django admin for registers and editions, superusers only (as for agreements/admin.py).

Editions are immutable records of what was published: the admin shows them but cannot add, change or delete
them. Publishing and withdrawing happen in the staff area (/staff/registers/), through publishing.services."""

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from agreements.admin import SuperuserOnlyMixin
from publishing.models import Edition, EditionFile, Register


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Register)
class RegisterAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ["title", "slug", "organisation_name", "cadence", "updated_at"]
    readonly_fields = ["slug", "updated_at", "updated_by"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

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
