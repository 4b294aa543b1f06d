"""Import data requests from CSV or XLSX, like agreements: every row checked first (agreements.interchange
.importers does the reading, the preview and the row-level errors), then written all or nothing by
agreements.services.spreadsheet_import after the officer confirms.

One row per line item; the rows that share a request key are one request (its request columns must agree). A
request already logged (same organisation asked, date received and title) is left as it is, so importing the
same file again creates nothing. The importer registers itself with the agreements importers when the app is
ready (DataRequestsConfig.ready), because agreements cannot import this app."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from agreements.interchange.importers import (
    DATE_HINT,
    Column,
    Importer,
    ImportPreview,
    RowResult,
    _boolean,
    _choice,
    _date,
    _list,
    _ods,
)
from agreements.models import Agreement, Organisation, normalise_ods_code
from datarequests import services
from datarequests.models import DataRequest, LineItem

REQUEST_COLUMNS = ("title", "responder", "requesters", "channel", "received_on", "contact_name", "contact_email")
ITEM_FIELDS = ("description", "geography", "period", "data_category", "purpose", "article_6_basis",
               "article_9_condition", "necessity", "dpia_needed")  # fmt: skip


def _ods_list(value: Any) -> list[str]:
    return [normalise_ods_code(code) for code in _list(value)]


class DataRequestImporter(Importer):
    slug = "data-requests"
    title = "Data requests"
    description = (
        "Data requests already received, one row for each thing asked for. Rows with the same request key are one "
        "request. Import the organisations first."
    )
    example = "examples/data-requests.csv"
    permission = "datarequests.handle_datarequest"
    columns = [
        Column("key", "Request key", required=True, aliases=("request",),
               hint="Any text; rows with the same key are one request"),
        Column("title", "Title", required=True),
        Column("responder", "Organisation asked", _ods, required=True, hint="Its ODS code"),
        Column("requesters", "Requesting organisations", _ods_list, required=True,
               hint="ODS codes, separated by semicolons"),
        Column("channel", "Channel", _choice(DataRequest.Channel), required=True,
               hint=", ".join(str(label) for label in DataRequest.Channel.labels)),
        Column("received_on", "Date received", _date, required=True, hint=f"A date {DATE_HINT}"),
        Column("contact_name", "Named contact", required=True),
        Column("contact_email", "Contact e-mail"),
        Column("description", "What is asked for", required=True),
        Column("geography", "Geography", hint="For example MSOA or district"),
        Column("period", "Period"),
        Column("data_category", "Kind of data", _choice(LineItem.Category), required=True,
               hint=", ".join(str(label) for label in LineItem.Category.labels)),
        Column("purpose", "Purpose"),
        Column("article_6_basis", "Article 6 basis", _choice(Agreement.Article6, blank=""),
               hint="For example 6(1)(e) public task"),
        Column("article_9_condition", "Article 9 condition", _choice(Agreement.Article9, blank=""),
               hint="Only for special category data"),
        Column("necessity", "Necessity"),
        Column("dpia_needed", "DPIA needed", _boolean(False), hint="Yes or No"),
    ]  # fmt: skip

    def prepare(self) -> None:
        self.organisations = {o.ods_code: o for o in Organisation.objects.all()}
        self.logged = {
            (r.responder_id, r.received_on, r.title.strip().lower()): r
            for r in DataRequest.objects.only("pk", "responder_id", "received_on", "title", "reference")
        }

    def check_row(self, row: RowResult) -> None:
        values = row.values
        row.label = f"{values['key'] or 'No key'}: {values['description'] or 'nothing asked'}"[:200]
        codes = [values["responder"], *(values["requesters"] or [])]
        unknown = [code for code in codes if code and code not in self.organisations]
        if unknown:
            row.error("Organisation asked" if values["responder"] in unknown else "Requesting organisations",
                      f"No organisation has the ODS code {', '.join(unknown)}: import or add it first")  # fmt: skip
        if values["responder"] and values["responder"] in (values["requesters"] or []):
            row.error("Requesting organisations", "The organisation asked cannot also be a requester")
        if row.errors:
            return
        item = LineItem(position=1, **{name: values[name] for name in ITEM_FIELDS})
        try:
            services.check_line_item(item)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                header = next((c.header for c in self.columns if c.key == name), "")
                for message in messages:
                    row.error(header, message)
        self._model_errors(row, item, exclude=["request", "position"])
        responder = self.organisations[values["responder"]]
        row.existing = self.logged.get((responder.pk, values["received_on"], values["title"].strip().lower()))
        if row.existing is not None:
            row.notes.append(f"Already logged as {row.existing.reference}")

    def check_file(self, rows: list[RowResult]) -> None:
        first: dict[str, RowResult] = {}
        for row in rows:
            key = row.values["key"]
            if not key or row.errors:
                continue
            if key not in first:
                first[key] = row
                continue
            differing = [c.header for c in self.columns if c.key in REQUEST_COLUMNS
                         if row.values[c.key] != first[key].values[c.key]]  # fmt: skip
            if differing:
                row.error("Request key", f"Row {first[key].number} has the same request key but a different "
                          f"{', '.join(d.lower() for d in differing)}")  # fmt: skip

    def write(self, *, actor: User | None, preview: ImportPreview, reason: str) -> list[DataRequest]:
        """Log each new request with its line items, through the ordinary services (inside the import's one
        transaction, so a failure writes nothing)."""
        groups: dict[str, list[RowResult]] = defaultdict(list)
        for row in preview.new_rows:
            groups[row.values["key"]].append(row)
        created = []
        for rows in groups.values():
            values = rows[0].values
            request = services.request_create(
                actor=actor,
                fields={
                    "title": values["title"],
                    "responder": self.organisations[values["responder"]],
                    "channel": values["channel"],
                    "received_on": values["received_on"],
                    "contact_name": values["contact_name"],
                    "contact_email": values["contact_email"],
                },
                requesters=[self.organisations[code] for code in values["requesters"]],
                reason=reason,
            )
            for row in rows:
                services.line_item_add(
                    actor=actor, request=request, fields={n: row.values[n] for n in ITEM_FIELDS}, reason=reason
                )
            created.append(request)
        return created
