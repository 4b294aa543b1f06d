"""Full exports of the register for the IG team and auditors (the global view permission). Partner contacts see
only their own agreements, so they get a 403: the export is the whole register."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from agreements.interchange import exports
from agreements.interchange.spreadsheets import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE
from audit.services import Action, audit_record
from staff.permissions import VIEW_ALL_AGREEMENTS, AuthenticatedHttpRequest, StaffMixin

FORMATS = {
    "register.csv": ("data-sharing-register", "csv", CSV_CONTENT_TYPE, exports.register_csv),
    "register.xlsx": ("data-sharing-register", "xlsx", XLSX_CONTENT_TYPE, exports.register_xlsx),
    "organisations.csv": ("organisations", "csv", CSV_CONTENT_TYPE, exports.organisations_csv),
}


class ExportMixin(StaffMixin):
    permission_required = VIEW_ALL_AGREEMENTS
    forbidden_message = "Only the IG team and auditors can export the whole register."


class ExportIndexView(ExportMixin, View):
    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        context = {
            "columns": [header for header, _ in exports.agreement_columns(on=timezone.localdate())],
            "organisation_columns": [header for header, _ in exports.ORGANISATION_COLUMNS],
            "page_title": "Export the register",
            "breadcrumbs": [("Staff area", reverse("staff:dashboard"))],
        }
        return render(request, "staff/export/index.html", context)


class ExportFileView(ExportMixin, View):
    def get(self, request: AuthenticatedHttpRequest, name: str) -> HttpResponse:
        stem, extension, content_type, build = FORMATS[name]
        response = HttpResponse(build(), content_type=content_type)
        audit_record(actor=request.user, action=Action.EXPORTED, changes={"File": ["", name]})
        response["Content-Disposition"] = f'attachment; filename="{exports.export_filename(stem, extension)}"'
        # Internal fields: never kept by a shared cache or the browser's back button.
        response["Cache-Control"] = "private, no-store"
        return response
