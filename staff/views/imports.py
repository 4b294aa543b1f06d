"""Bulk import in the staff area: upload a file, see every row checked, then confirm to write it.

The rows read from the uploaded file are kept (agreements.interchange.importers.upload_keep) between the preview
and the confirmation, so the file is read once, and found again only through a signed token for the same user.
Reading and checking are agreements.interchange.importers; writing is services.spreadsheet_import. Nothing is
written until the officer confirms.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from agreements import services
from agreements.interchange import importers
from agreements.models import Agreement, Organisation
from staff.forms.agreements import NHSFormMixin, choice_field
from staff.permissions import AuthenticatedHttpRequest, StaffMixin, forbidden

_DONE_SESSION_KEY = "agreements.import.done"


def _allowed_importers(user: Any) -> list[type[importers.Importer]]:
    return [importer for importer in importers.IMPORTERS.values() if user.has_perm(importer.permission)]


def _crumbs(*items: tuple[str, str]) -> list[tuple[str, str]]:
    return [("Staff area", reverse("staff:dashboard")), *items]


class ImportForm(NHSFormMixin, forms.Form):
    importer = forms.ChoiceField(
        label="What does the file contain?",
        widget=forms.RadioSelect,
        error_messages={"required": "Select what the file contains", "invalid_choice": "Select what the file contains"},
    )
    file = forms.FileField(
        label="Upload a file",
        error_messages={"required": "Select a CSV or Excel (.xlsx) file", "empty": "The selected file is empty"},
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "importer").choices = [(i.slug, i.title) for i in _allowed_importers(user)]
        max_mb, max_rows = importers.import_limits()
        self.fields[
            "file"
        ].help_text = (
            f"A CSV or Excel (.xlsx) file of {max_mb // (1024 * 1024)} MB or less, with at most {max_rows:,} rows."
        )
        self.fields["file"].widget.attrs["accept"] = (
            ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # Form.clean returns cleaned_data
        upload = cleaned.get("file")
        importer = cleaned.get("importer")
        if upload is None or importer is None:
            return cleaned
        max_bytes, _ = importers.import_limits()
        if upload.size > max_bytes:
            self.add_error("file", f"The selected file must be smaller than {max_bytes // (1024 * 1024)} MB")
            return cleaned
        try:
            # Read once here; the preview and the confirmation check the rows kept from this reading.
            table = importers.table_read(data=upload.read(), filename=upload.name or "")
            cleaned["preview"] = importers.preview_table(importer=importer, table=table, filename=upload.name or "")
        except importers.SpreadsheetError as error:
            self.add_error("file", str(error))
            return cleaned
        cleaned["table"] = table
        return cleaned


class ImportMixin(StaffMixin):
    """Every import page is for the IG team: anyone else is refused before an upload or token is looked at."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated and not _allowed_importers(request.user):
            return forbidden(request, "Only the IG team can import records. Ask your IG lead if you need to.")
        return super().dispatch(request, *args, **kwargs)


class ImportStartView(ImportMixin, View):
    """Choose what the file contains and upload it."""

    def _render(self, request: HttpRequest, form: ImportForm, status: int = 200) -> HttpResponse:
        context = {
            "form": form,
            "importers": _allowed_importers(request.user),
            "page_title": "Import records from a spreadsheet",
            "breadcrumbs": _crumbs(),
        }
        return render(request, "staff/import/start.html", context, status=status)

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        return self._render(request, ImportForm(user=request.user))

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        form = ImportForm(request.POST, request.FILES, user=request.user)
        if not form.is_valid():
            return self._render(request, form, status=400)
        upload = form.cleaned_data["file"]
        pending = importers.upload_keep(
            table=form.cleaned_data["table"],
            filename=upload.name or "",
            importer=form.cleaned_data["importer"],
            user_id=request.user.pk,
        )
        return redirect("staff:import_preview", token=pending.token)


class ImportPreviewView(ImportMixin, View):
    """Every row with its result; the officer confirms, or goes back and fixes the file."""

    def _pending(self, request: AuthenticatedHttpRequest, token: str) -> importers.PendingUpload | None:
        pending = importers.upload_find(token=token, user_id=request.user.pk)
        if pending is None or not request.user.has_perm(importers.IMPORTERS[pending.importer].permission):
            return None
        return pending

    def _gone(self, request: HttpRequest) -> HttpResponse:
        messages.info(request, "That upload has expired or has already been imported. Upload the file again.")
        return redirect("staff:import")

    def _render(
        self, request: HttpRequest, pending: importers.PendingUpload, *, error: str = "", status: int = 200
    ) -> HttpResponse:
        try:
            preview = importers.preview_table(
                importer=pending.importer, table=pending.table(), filename=pending.filename
            )
        except importers.SpreadsheetError as problem:
            pending.discard()
            messages.error(request, str(problem))
            return redirect("staff:import")
        context = {
            "preview": preview,
            "columns": preview.importer.columns,
            "token": pending.token,
            "service_error": error,
            "page_title": f"Check {preview.filename} before importing",
            "breadcrumbs": _crumbs(("Import records", reverse("staff:import"))),
        }
        return render(request, "staff/import/preview.html", context, status=status)

    def get(self, request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
        pending = self._pending(request, token)
        if pending is None:
            return self._gone(request)
        return self._render(request, pending)

    def post(self, request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
        pending = self._pending(request, token)
        if pending is None:
            return self._gone(request)
        try:
            result = services.spreadsheet_import(
                actor=request.user, importer=pending.importer, table=pending.table(), filename=pending.filename
            )
        except ValidationError as error:
            return self._render(request, pending, error="; ".join(error.messages), status=400)
        pending.discard()
        request.session[_DONE_SESSION_KEY] = {
            "filename": pending.filename,
            "created": [_summary(record) for record in result.created],
            "unchanged": len(result.unchanged),
        }
        count = len(result.created)
        messages.success(request, f"{count} record{'s' if count != 1 else ''} imported from {pending.filename}")
        return redirect("staff:import_done")


def _summary(record: Organisation | Agreement) -> dict[str, str]:
    if isinstance(record, Organisation):
        return {
            "key": record.ods_code,
            "name": record.name,
            "url": reverse("staff:organisation_detail", args=[record.pk]),
        }
    return {
        "key": record.reference,
        "name": record.title,
        "url": reverse("staff:agreement_detail", args=[record.pk]),
    }


class ImportDoneView(ImportMixin, View):
    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        done = request.session.get(_DONE_SESSION_KEY)
        if not done:
            return redirect("staff:import")
        context = {
            "done": done,
            "page_title": f"Imported {done['filename']}",
            "breadcrumbs": _crumbs(("Import records", reverse("staff:import"))),
        }
        return render(request, "staff/import/done.html", context)
