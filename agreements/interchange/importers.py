"""Bulk import of an existing register from CSV or XLSX: organisations, or agreements and sub-licences.

An importer reads a file into rows and checks every row without writing anything: each cell is parsed, the record
is validated as the model would, and it is matched against the register by its natural key (ODS code for an
organisation; reference for an agreement; for a sub-licence without a reference, its sub-licensee, start date
and title). The preview shows the result of each row; services.spreadsheet_import writes the new rows, all or
nothing, after the officer confirms. Nothing here writes to the database.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, ClassVar

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models

from agreements.interchange.spreadsheets import SpreadsheetError, Table, read_table, table_dumps, table_loads
from agreements.models import (
    SUB_LICENCE_REFERENCE_RE,
    Agreement,
    DataLevel,
    Organisation,
    Party,
    normalise_ods_code,
)

__all__ = [
    "IMPORTERS",
    "ImportPreview",
    "RowResult",
    "SpreadsheetError",
    "preview_file",
    "preview_table",
    "table_read",
]


class CellError(Exception):
    """One cell's value cannot be used; the message says what is wrong, in plain English."""


# ---------------------------------------------------------------------------------------------------------
# Cell parsers: each takes the raw cell (text, or a number or date from Excel) and returns a value or raises.


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # Excel stores 509 as 509.0; an ODS code or reference must not become "509.0".
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


_MONTHS = {
    name.lower(): number
    for number in range(1, 13)
    for name in (dt.date(2000, number, 1).strftime("%B"), dt.date(2000, number, 1).strftime("%b"))
}
_EXCEL_EPOCH = dt.date(1899, 12, 30)
DATE_HINT = "like 22/10/2025 or 2025-10-22"


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _excel_serial(value)
    text = _text(value)
    if not text:
        return None
    if re.fullmatch(r"\d{4,5}(\.0+)?", text):
        return _excel_serial(float(text))
    match = (
        re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+)?", text)
        or re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?: [\d:.]+)?", text)
        or re.fullmatch(r"(\d{1,2}) ([A-Za-z]+) (\d{4})", text)
    )
    if not match:
        raise CellError(f"must be a date {DATE_HINT}")
    try:
        if text[:4].isdigit() and "-" in text[:5]:
            year, month, day = (int(g) for g in match.groups())
        else:
            day, year = int(match[1]), int(match[3])
            month = int(match[2]) if match[2].isdigit() else _MONTHS.get(match[2].lower(), 0)
        return dt.date(year, month, day)
    except ValueError as error:
        raise CellError(f"must be a real date {DATE_HINT}") from error


def _excel_serial(number: float) -> dt.date:
    # Excel counts days from 30 December 1899 (its 1900 leap-year bug included); only sensible years pass.
    if not 1 <= number < 2958466:
        raise CellError(f"must be a date {DATE_HINT}")
    day = _EXCEL_EPOCH + dt.timedelta(days=int(number))
    if not 1990 <= day.year <= 2100:
        raise CellError(f"must be a date {DATE_HINT}")
    return day


_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


def _boolean(default: bool) -> Callable[[Any], bool]:
    def parse(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        text = _text(value).lower()
        if not text:
            return default
        if text in _YES:
            return True
        if text in _NO:
            return False
        raise CellError("must be Yes or No")

    return parse


def _key(text: str) -> str:
    return " ".join(text.replace("_", " ").lower().split())


def _choice(choices: type[models.TextChoices], *, blank: str | None = None) -> Callable[[Any], str]:
    """A choice by its label or stored value, case-insensitively. Legal bases also by their article alone,
    e.g. "6(1)(e)" or "public task" for "6(1)(e) public task"."""
    lookup: dict[str, str] = {}
    for value, label in choices.choices:
        label = str(label)
        for alias in (value, label):
            lookup[_key(alias)] = value
        head, _, tail = label.partition(" ")
        if head[:1].isdigit() and tail:
            lookup.setdefault(_key(head), value)
            lookup.setdefault(_key(tail), value)
    allowed = ", ".join(str(label) for value, label in choices.choices if value)

    def parse(value: Any) -> str:
        text = _text(value)
        if not text:
            if blank is None:
                return ""
            return blank
        found = lookup.get(_key(text))
        if found is None or (found == "" and blank is None):
            raise CellError(f"“{text}” is not allowed. Use one of: {allowed}")
        return found

    return parse


def _list(value: Any) -> list[str]:
    return [item.strip() for item in re.split(r"[;\n]", _text(value)) if item.strip()]


# ---------------------------------------------------------------------------------------------------------
# Columns, rows and previews


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    parse: Callable[[Any], Any] = _text
    required: bool = False
    aliases: tuple[str, ...] = ()
    hint: str = ""
    # The model field whose validation errors belong to this column.
    field_name: str = ""


@dataclass
class RowResult:
    number: int
    label: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    existing: Organisation | Agreement | None = None
    notes: list[str] = field(default_factory=list)

    NEW: ClassVar[str] = "new"
    EXISTING: ClassVar[str] = "existing"
    ERROR: ClassVar[str] = "error"

    @property
    def status(self) -> str:
        if self.errors:
            return self.ERROR
        return self.EXISTING if self.existing is not None else self.NEW

    def error(self, column: str, message: str) -> None:
        self.errors.append((column, message))


@dataclass
class ImportPreview:
    importer: Importer
    filename: str
    rows: list[RowResult]
    ignored_columns: list[str] = field(default_factory=list)
    # Problems with the file as a whole (a missing column), reported with the rows' in the same pass.
    file_errors: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[tuple[int, str, str]]:
        return [(row.number, column, message) for row in self.rows for column, message in row.errors]

    @property
    def errors_by_row(self) -> list[tuple[int, list[str]]]:
        """Every row's problems together, in row order: one line per row in the error summary."""
        return [(row.number, [message for _, message in row.errors]) for row in self.rows if row.errors]

    @property
    def has_errors(self) -> bool:
        return bool(self.file_errors) or any(row.errors for row in self.rows)

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def new_count(self) -> int:
        return self.count(RowResult.NEW)

    @property
    def existing_count(self) -> int:
        return self.count(RowResult.EXISTING)

    @property
    def error_count(self) -> int:
        return self.count(RowResult.ERROR)

    @property
    def new_rows(self) -> list[RowResult]:
        return [row for row in self.rows if row.status == RowResult.NEW]


def clean_filename(filename: str) -> str:
    """The file's own name, without any folders a browser sent, for the preview and the history reason."""
    name = PurePath((filename or "").replace("\\", "/")).name.strip()
    return (name or "upload")[-100:]


class Importer:
    slug: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    example: ClassVar[str]
    permission: ClassVar[str]
    columns: ClassVar[list[Column]]

    def preview(self, table: Table, *, filename: str) -> ImportPreview:
        by_header = self._match_headers(table.headers)
        missing = [c.header for c in self.columns if c.required and c.key not in by_header.values()]
        # A missing column is reported with the rows' problems, so that one upload shows everything to fix.
        file_errors = (
            [
                f"The file is missing the required column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(f'“{m}”' for m in missing)}. The first row must name the columns, as in the example file"
            ]
            if missing
            else []
        )
        ignored = [h for i, h in enumerate(table.headers) if h and i not in by_header]
        columns = {c.key: c for c in self.columns}
        self.prepare()
        rows = []
        for number, cells in table.rows:
            row = RowResult(number=number)
            for index, key in by_header.items():
                column = columns[key]
                raw = cells[index] if index < len(cells) else None
                try:
                    row.values[key] = column.parse(raw)
                except CellError as error:
                    row.error(column.header, f"{column.header} {error}")
                    row.values[key] = None
            for key, column in columns.items():
                if key not in row.values:
                    row.values[key] = column.parse(None)
                elif column.required and row.values[key] in ("", None) and not _has_error(row, column.header):
                    row.error(column.header, f"Enter the {_in_sentence(column.header)}")
            self.check_row(row)
            # What follows from a missing column is said once, for the file, not again on every row.
            row.errors = [(column, message) for column, message in row.errors if column not in missing]
            rows.append(row)
        self.check_file(rows)
        return ImportPreview(
            importer=self,
            filename=clean_filename(filename),
            rows=rows,
            ignored_columns=ignored,
            file_errors=file_errors,
        )

    def _match_headers(self, headers: list[str]) -> dict[int, str]:
        names = {}
        for column in self.columns:
            for alias in (column.header, column.key, *column.aliases):
                names[_key(alias)] = column.key
        matched: dict[int, str] = {}
        for index, header in enumerate(headers):
            key = names.get(_key(header))
            if key and key not in matched.values():
                matched[index] = key
        return matched

    def _model_errors(
        self, row: RowResult, instance: models.Model, *, exclude: Iterable[str] = (), run_clean: bool = True
    ) -> None:
        """Run the model's own validation and put each error at the column it belongs to."""
        by_field = {c.field_name or c.key: c.header for c in self.columns}
        try:
            instance.clean_fields(exclude=list(exclude))
            if run_clean:
                instance.clean()
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                column = by_field.get(name, "")
                for message in messages:
                    if not _has_error(row, column):
                        # "Enter an ODS code" names its column already; "Enter a valid date" does not.
                        named = not column or column.casefold() in message.casefold()
                        row.error(column, message if named else f"{column}: {message}")

    def prepare(self) -> None:
        """Load what every row is checked against, once per file."""

    def check_row(self, row: RowResult) -> None:
        raise NotImplementedError

    def check_file(self, rows: list[RowResult]) -> None:
        """Checks across rows, such as the same key on two rows."""


def _in_sentence(header: str) -> str:
    """A column's name inside a sentence: "Type of organisation" -> "type of organisation", but "ODS code" keeps
    its capitals."""
    return header if header[:2].isupper() else header[:1].lower() + header[1:]


def _has_error(row: RowResult, column: str) -> bool:
    return any(c == column for c, _ in row.errors)


# ---------------------------------------------------------------------------------------------------------
# Organisations


def _ods(value: Any) -> str:
    return normalise_ods_code(_text(value))


class OrganisationImporter(Importer):
    slug = "organisations"
    title = "Organisations"
    description = "Partner organisations, with their ODS codes. Import these before the agreements that name them."
    example = "examples/organisations.csv"
    permission = "agreements.add_organisation"
    columns = [
        Column("name", "Name", required=True, aliases=("organisation", "organisation name")),
        Column("ods_code", "ODS code", _ods, required=True, aliases=("ods", "organisation code")),
        Column(
            "kind",
            "Type of organisation",
            _choice(Organisation.Kind),
            required=True,
            aliases=("type", "kind", "organisation type"),
            hint=", ".join(str(label) for label in Organisation.Kind.labels),
        ),
        Column("ico_registration_number", "ICO registration number", lambda v: _text(v).upper()),
        Column("ico_registration_expires", "ICO registration expires", _date, hint=f"A date {DATE_HINT}"),
        Column(
            "dspt_status",
            "DSPT status",
            _choice(Organisation.DsptStatus),
            hint=", ".join(str(label) for label in Organisation.DsptStatus.labels),
        ),
        Column("dspt_assessment_year", "DSPT assessment year", hint="Like 2024-25"),
        Column("website", "Website"),
    ]

    def prepare(self) -> None:
        self.existing = {o.ods_code: o for o in Organisation.objects.all()}

    def check_row(self, row: RowResult) -> None:
        values = row.values
        row.label = f"{values['name'] or 'No name'} ({values['ods_code'] or 'no ODS code'})"
        if row.errors:
            return
        existing = self.existing.get(values["ods_code"])
        if existing:
            row.existing = existing
            differences = [
                column.header
                for column in self.columns
                if column.key != "ods_code" and values[column.key] not in ("", None)
                if values[column.key] != getattr(existing, column.key)
            ]
            if differences:
                row.notes.append(
                    f"The register has a different {', '.join(d.lower() for d in differences)}. "
                    "The file does not change it: edit the organisation if the file is right"
                )
            return
        self._model_errors(row, Organisation(**self.fields(row)), exclude=["creation_key"])

    def check_file(self, rows: list[RowResult]) -> None:
        _no_repeats(rows, "ods_code", "ODS code")

    @staticmethod
    def fields(row: RowResult) -> dict[str, Any]:
        # A blank DSPT status leaves the model's default ("Not published").
        return {k: v for k, v in row.values.items() if v is not None and not (k == "dspt_status" and v == "")}


def _no_repeats(rows: list[RowResult], key: str, header: str) -> None:
    first: dict[str, int] = {}
    for row in rows:
        value = row.values.get(key)
        if not value:
            continue
        if value in first:
            row.error(header, f"{header} {value} is also on row {first[value]}: a record can only be imported once")
        else:
            first[value] = row.number


# ---------------------------------------------------------------------------------------------------------
# Agreements and sub-licences

_ROLE = _choice(Party.Role)
PARTIES_HINT = "ODS code and role, separated by semicolons, like “QK1: Provider; 509: Sub-licensee”"


def _parties(value: Any) -> list[tuple[str, str]]:
    parties = []
    for item in _list(value):
        ods, separator, role = item.partition(":")
        if not separator or not ods.strip() or not role.strip():
            raise CellError(f"must list each party as {PARTIES_HINT}; “{item}” is not like that")
        try:
            parties.append((normalise_ods_code(ods), _ROLE(role)))
        except CellError as error:
            raise CellError(f"has a role that {error}") from error
    return parties


class AgreementImporter(Importer):
    slug = "agreements"
    title = "Agreements and sub-licences"
    description = (
        "Data sharing agreements, processing agreements, contracts, statutory returns and sub-licences. "
        "Every party must already be in the register. Imported agreements are drafts: submit them for review "
        "and approval as usual."
    )
    example = "examples/agreements.csv"
    permission = "agreements.add_agreement"
    columns = [
        Column(
            "reference",
            "Reference",
            aliases=("reference number", "ref"),
            hint="Required, except for a new sub-licence: leave it blank and the system allocates SL/YY/N",
        ),
        Column(
            "kind",
            "Type of agreement",
            _choice(Agreement.Kind),
            required=True,
            aliases=("type", "kind", "agreement type"),
            hint=", ".join(str(label) for label in Agreement.Kind.labels),
        ),
        Column("title", "Title", required=True),
        Column("summary", "Public summary", aliases=("summary", "what we share", "purpose")),
        Column("parties", "Parties", _parties, required=True, hint=PARTIES_HINT),
        Column("parent_reference", "Parent agreement", aliases=("parent", "parent reference"), field_name="parent"),
        Column("start_date", "Start date", _date, required=True, hint=f"A date {DATE_HINT}"),
        Column("end_date", "End date", _date),
        Column("review_date", "Review date", _date),
        Column(
            "data_level",
            "Level of data",
            _choice(DataLevel),
            required=True,
            aliases=("level of data shared", "data level"),
            hint=", ".join(str(label) for label in DataLevel.labels),
        ),
        Column(
            "article_6_basis",
            "Article 6 basis",
            _choice(Agreement.Article6),
            required=True,
            aliases=("uk gdpr article 6 basis", "article 6"),
            hint="Like 6(1)(e) or 6(1)(e) public task",
        ),
        Column(
            "article_9_condition",
            "Article 9 condition",
            _choice(Agreement.Article9, blank=""),
            aliases=("uk gdpr article 9 condition", "article 9"),
            hint="Like 9(2)(h); blank when no special category data is shared",
        ),
        Column(
            "common_law_basis",
            "Common law basis",
            _choice(Agreement.CommonLaw),
            required=True,
            aliases=("common law duty of confidentiality basis",),
            hint=", ".join(str(label) for label in Agreement.CommonLaw.labels),
        ),
        Column("statutory_gateway", "Statutory gateway", aliases=("legal gateway",)),
        Column(
            "opt_out",
            "National data opt-out",
            _choice(Agreement.OptOut),
            required=True,
            aliases=("opt-out", "opt out", "national data opt out"),
            hint=", ".join(str(label) for label in Agreement.OptOut.labels),
        ),
        Column(
            "opt_out_reason",
            "Why the opt-out is not applied",
            aliases=("why the national data opt-out is not applied", "opt-out reason"),
        ),
        Column("dpia_reference", "DPIA reference", aliases=("dpia",)),
        Column("purposes", "Purposes", _list, hint="Separated by semicolons; new ones are added"),
        Column("permits_sub_licensing", "Permits sub-licensing", _boolean(False), hint="Yes or No (blank: No)"),
        Column(
            "is_public", "Show on public registers", _boolean(True), aliases=("public",), hint="Yes or No (blank: Yes)"
        ),
    ]
    _RELATION_KEYS = ("parties", "parent_reference", "purposes")

    def prepare(self) -> None:
        self.organisations = {o.ods_code: o for o in Organisation.objects.all()}
        self.by_reference = {a.reference: a for a in Agreement.objects.only("pk", "reference", "title", "kind")}
        self.references = {reference: a.pk for reference, a in self.by_reference.items()}
        self.agreements: dict[str, Agreement] = {}
        # A sub-licence without a reference is found again by who it is to, when it starts and its title.
        self.sub_licences = {
            (party.organisation.ods_code, party.agreement.start_date, party.agreement.title.casefold()): party.agreement
            for party in Party.objects.filter(
                role=Party.Role.SUB_LICENSEE, agreement__kind=Agreement.Kind.SUB_LICENCE
            ).select_related("agreement", "organisation")
        }

    def check_row(self, row: RowResult) -> None:
        values = row.values
        kind = values["kind"]
        reference = values["reference"]
        is_sub_licence = kind == Agreement.Kind.SUB_LICENCE
        row.label = f"{reference or 'New sub-licence' if is_sub_licence else reference or 'No reference'}: " + (
            values["title"] or "no title"
        )
        if reference and reference in self.references:
            # Matched by reference: the register already has it, whatever else the row says.
            row.existing = self.by_reference[reference]
            return
        if not reference and kind and not is_sub_licence:
            row.error("Reference", "Enter the reference (only a new sub-licence can leave it blank)")
        if reference and is_sub_licence and not SUB_LICENCE_REFERENCE_RE.fullmatch(reference):
            row.error("Reference", "Reference of a sub-licence must look like SL/25/1, or be blank to allocate one")
        if reference and kind and not is_sub_licence and SUB_LICENCE_REFERENCE_RE.fullmatch(reference):
            row.error("Reference", "Reference like SL/25/1 is kept for sub-licences")
        parties = values["parties"] or []
        for ods, _role in parties:
            if ods not in self.organisations:
                row.error(
                    "Parties",
                    f"Parties names ODS code {ods}, which is not in the register: import or add the organisation first",
                )
        if is_sub_licence and parties and sum(1 for _, r in parties if r == Party.Role.SUB_LICENSEE) != 1:
            row.error("Parties", "Parties of a sub-licence must include exactly one Sub-licensee")
        if values["opt_out"] == Agreement.OptOut.NOT_APPLIED and not values["opt_out_reason"]:
            row.error("Why the opt-out is not applied", "Enter why the national data opt-out is not applied")
        fields = self.fields(row, parent=None)
        instance = Agreement(**{k: v for k, v in fields.items() if v is not None})
        # A sub-licence's reference was checked above (or is allocated when it is written).
        exclude = ["creation_key", "reference"] if is_sub_licence else ["creation_key"]
        self._model_errors(row, instance, exclude=exclude, run_clean=not _has_error(row, "Start date"))
        if row.errors or not is_sub_licence or reference:
            return
        sub_licensee = next(ods for ods, role in parties if role == Party.Role.SUB_LICENSEE)
        if match := self.sub_licences.get((sub_licensee, values["start_date"], values["title"].casefold())):
            row.existing = match
            row.notes.append(f"Already in the register as {match.reference}")
        else:
            row.notes.append("A reference will be allocated when it is imported")

    def check_file(self, rows: list[RowResult]) -> None:
        _no_repeats(rows, "reference", "Reference")
        in_file = {row.values["reference"]: row for row in rows if row.values.get("reference")}
        for row in rows:
            parent = row.values.get("parent_reference")
            if not parent or row.status == RowResult.EXISTING:
                continue
            if parent == row.values.get("reference"):
                row.error("Parent agreement", "Parent agreement cannot be the agreement itself")
            elif parent not in self.references and parent not in in_file:
                row.error(
                    "Parent agreement",
                    f"Parent agreement {parent} is not in the register or in this file",
                )
            elif parent in in_file and in_file[parent].values.get("parent_reference"):
                row.error(
                    "Parent agreement", f"Parent agreement {parent} is itself under another agreement in this file"
                )

    def fields(self, row: RowResult, *, parent: Agreement | None) -> dict[str, Any]:
        values = {k: v for k, v in row.values.items() if k not in self._RELATION_KEYS}
        if values.get("kind") == Agreement.Kind.SUB_LICENCE:
            values.pop("reference", None)
        if parent is not None:
            values["parent"] = parent
        elif (reference := row.values.get("parent_reference")) in self.references:
            values["parent_id"] = self.references[reference]
        return values

    def parties(self, row: RowResult) -> list[tuple[Organisation, str]]:
        return [(self.organisations[ods], role) for ods, role in row.values["parties"]]

    @staticmethod
    def purposes(row: RowResult) -> list[str]:
        return row.values["purposes"] or []


IMPORTERS: dict[str, type[Importer]] = {i.slug: i for i in (OrganisationImporter, AgreementImporter)}


def import_limits() -> tuple[int, int]:
    """The largest file (bytes) and the most data rows one import takes (settings IMPORT_MAX_MB, IMPORT_MAX_ROWS)."""
    return settings.IMPORT_MAX_MB * 1024 * 1024, settings.IMPORT_MAX_ROWS


def table_read(*, data: bytes, filename: str) -> Table:
    """Read an uploaded file within the import limits. Raises SpreadsheetError when it cannot be used."""
    max_bytes, max_rows = import_limits()
    if len(data) > max_bytes:
        raise SpreadsheetError(f"The selected file must be smaller than {settings.IMPORT_MAX_MB} MB")
    return read_table(data, filename=filename, max_rows=max_rows)


def preview_table(*, importer: str, table: Table, filename: str) -> ImportPreview:
    """Check every row of a file already read. Raises SpreadsheetError when the file as a whole cannot be used."""
    if importer not in IMPORTERS:
        raise SpreadsheetError("Choose what the file contains")
    return IMPORTERS[importer]().preview(table, filename=filename)


def preview_file(*, importer: str, data: bytes, filename: str) -> ImportPreview:
    """Read and check a whole file. Raises SpreadsheetError when the file as a whole cannot be used."""
    if importer not in IMPORTERS:
        raise SpreadsheetError("Choose what the file contains")
    return preview_table(importer=importer, table=table_read(data=data, filename=filename), filename=filename)


# ---------------------------------------------------------------------------------------------------------
# The uploaded file between the preview and the confirmation: kept, as the rows read from it (so it is read
# once, however often it is checked), under MEDIA_ROOT with a random name, and found again only through a signed
# token naming the user, so nobody else can confirm or read it.

_TOKEN_SALT = "agreements.import"  # noqa: S105 - a signing salt, not a secret
PENDING_MAX_AGE = 2 * 3600


@dataclass(frozen=True)
class PendingUpload:
    token: str
    importer: str
    filename: str
    path: str

    def table(self) -> Table:
        with default_storage.open(self.path, "rb") as handle:
            return table_loads(handle.read())

    def discard(self) -> None:
        default_storage.delete(self.path)


def upload_keep(*, table: Table, filename: str, importer: str, user_id: int) -> PendingUpload:
    path = default_storage.save(f"imports/{secrets.token_urlsafe(24)}.json", ContentFile(table_dumps(table)))
    cleaned = clean_filename(filename)
    payload = {"path": path, "filename": cleaned, "importer": importer, "user": user_id}
    token = signing.dumps(payload, salt=_TOKEN_SALT, compress=True)
    return PendingUpload(token=token, importer=importer, filename=cleaned, path=path)


def upload_find(*, token: str, user_id: int) -> PendingUpload | None:
    """The pending upload, or None when the token is forged, expired, someone else's or already used."""
    try:
        payload = signing.loads(token, salt=_TOKEN_SALT, max_age=PENDING_MAX_AGE)
    except signing.BadSignature:
        return None
    if payload.get("user") != user_id or payload.get("importer") not in IMPORTERS:
        return None
    path = str(payload["path"])
    # An upload kept before the rows were kept as JSON (a raw .csv or .xlsx) is treated as expired.
    if not path.startswith("imports/") or not path.endswith(".json") or not default_storage.exists(path):
        return None
    return PendingUpload(token=token, importer=payload["importer"], filename=payload["filename"], path=path)
