"""Bulk import of an existing register (agreements.interchange.importers reads and checks the file)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from agreements.interchange.spreadsheets import Table
from agreements.models import Agreement, Organisation, Purpose
from agreements.services.agreements import agreement_create
from agreements.services.organisations import organisation_create


@dataclass(frozen=True)
class ImportResult:
    created: list[Organisation | Agreement]
    unchanged: list[Organisation | Agreement]
    reason: str


@transaction.atomic
def spreadsheet_import(
    *,
    actor: User | None,
    importer: str,
    filename: str,
    data: bytes | None = None,
    table: Table | None = None,
    reason: str = "",
) -> ImportResult:
    """Write the new rows of an import file (its bytes, or the `table` already read from it), all or nothing,
    each through the ordinary create service, with the history reason "Imported from <file name>". Rows already
    in the register are left as they are, so importing the same file again creates nothing. The rows are checked
    again here: the register may have changed since the preview, and then nothing is written and the error says
    what to do."""
    from agreements.interchange import importers

    try:
        if table is None:
            if data is None:
                raise ValueError("spreadsheet_import needs the file's data or the table read from it")
            table = importers.table_read(data=data, filename=filename)
        preview = importers.preview_table(importer=importer, table=table, filename=filename)
    except importers.SpreadsheetError as error:
        raise ValidationError(str(error)) from error
    if preview.has_errors:
        raise ValidationError(
            f"Nothing was imported: {preview.error_count} row{'s' if preview.error_count != 1 else ''} of "
            f"{preview.filename} {'have' if preview.error_count != 1 else 'has'} errors. Check the file again"
        )
    reason = reason.strip() or f"Imported from {preview.filename}"
    created: list[Organisation | Agreement] = []
    try:
        if isinstance(preview.importer, importers.OrganisationImporter):
            for row in preview.new_rows:
                created.append(organisation_create(actor=actor, fields=preview.importer.fields(row), reason=reason))
        elif isinstance(preview.importer, importers.AgreementImporter):
            created = _import_agreements(actor=actor, preview=preview, reason=reason)
    except ValidationError as error:
        raise ValidationError(f"Nothing was imported: {'; '.join(error.messages)}") from error
    except IntegrityError as error:
        # Someone added the same record between the check above and this write (PostgreSQL).
        raise ValidationError(
            "Nothing was imported: the register changed while the file was being imported. Check the file again"
        ) from error
    unchanged = [row.existing for row in preview.rows if row.existing is not None]
    return ImportResult(created=created, unchanged=unchanged, reason=reason)


def _import_agreements(*, actor: User | None, preview: Any, reason: str) -> list[Organisation | Agreement]:
    importer = preview.importer
    # A parent named in the same file is created first, so the rows under it can point to it.
    in_file = {row.values["reference"] for row in preview.new_rows if row.values["reference"]}
    ordered = sorted(preview.new_rows, key=lambda row: row.values.get("parent_reference") in in_file)
    made: dict[str, Agreement] = {}
    created: list[Organisation | Agreement] = []
    for row in ordered:
        purposes = []
        for name in importer.purposes(row):
            purpose = Purpose.objects.filter(name__iexact=name).first() or Purpose.objects.create(name=name[:200])
            purposes.append(purpose)
        fields = importer.fields(row, parent=made.get(row.values.get("parent_reference") or ""))
        try:
            with transaction.atomic():
                agreement = agreement_create(
                    actor=actor,
                    fields=fields,
                    parties=importer.parties(row),
                    purposes=purposes,
                    reason=reason,
                    agreed_on=row.values["start_date"],
                    sub_licence_reference=row.values["reference"]
                    if row.values["kind"] == Agreement.Kind.SUB_LICENCE
                    else "",
                )
        except ValidationError as error:
            raise ValidationError(f"row {row.number}: {'; '.join(error.messages)}") from error
        made[agreement.reference] = agreement
        created.append(agreement)
    return created
