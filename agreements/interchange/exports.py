"""The full register for the IG team and auditors, internal fields included, as CSV and XLSX.

It is the evidence the Data Security and Protection Toolkit asks for (a register of data flows) and a UK GDPR
Article 30 record of processing: every agreement with its parties and their roles, legal bases, dates, DPIA
reference, national data opt-out status, and whether a data sharing agreement or contract is in place and when
it ends. Every text cell goes through spreadsheets.neutralise_formula, so nothing in it runs as a formula.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from agreements import selectors
from agreements.interchange.spreadsheets import csv_bytes, xlsx_bytes
from agreements.models import Agreement, Document, Organisation, Party

Status = Agreement.Status

# Kinds that are themselves the written agreement or contract the DSPT asks about. A statutory return rests on
# the law, not on an agreement; "Other" is whatever the IG team recorded.
CONTRACTUAL_KINDS = {
    Agreement.Kind.DSA,
    Agreement.Kind.DPA,
    Agreement.Kind.ISA,
    Agreement.Kind.PROCESSOR_CONTRACT,
    Agreement.Kind.SUB_LICENCE,
    Agreement.Kind.OTHER,
}


def _people(agreement: Agreement, role: str) -> str:
    return "; ".join(
        f"{party.organisation.name} ({party.organisation.ods_code})"
        for party in agreement.parties.all()
        if party.role == role
    )


def in_place(agreement: Agreement, *, on: dt.date) -> str:
    """Whether a written agreement or contract covers the flow on the day, in words an auditor can check."""
    if agreement.kind == Agreement.Kind.STATUTORY_RETURN:
        return "Not needed: statutory return"
    if agreement.status != Status.ACTIVE:
        return f"No: {agreement.get_status_display().lower()}"
    if agreement.start_date > on:
        return "No: not started"
    if agreement.end_date and agreement.end_date < on:
        return "No: ended"
    parent = agreement.parent
    if parent is not None and (
        parent.status != Status.ACTIVE or (parent.end_date is not None and parent.end_date < on)
    ):
        return f"No: parent agreement {parent.reference} is not in force"
    return "Yes"


def _ends(agreement: Agreement) -> dt.date | None:
    """A sub-licence ends when it does or when its parent agreement does, whichever is first."""
    ends = [d for d in (agreement.end_date, agreement.parent.end_date if agreement.parent else None) if d]
    return min(ends) if ends else None


def _local(value: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(value) if value else None


AgreementColumn = tuple[str, Callable[[Agreement], Any]]


def agreement_columns(*, on: dt.date) -> list[AgreementColumn]:
    role_columns: list[AgreementColumn] = [
        (f"{label}s" if not label.endswith("s") else label, partial(_people, role=role))
        for role, label in Party.Role.choices
    ]
    return [
        ("Reference", lambda a: a.reference),
        ("Type of agreement", lambda a: a.get_kind_display()),
        ("Title", lambda a: a.title),
        ("Public summary", lambda a: a.summary),
        ("Status", lambda a: a.get_status_display()),
        *role_columns,
        ("Parent agreement", lambda a: a.parent.reference if a.parent else ""),
        ("Level of data", lambda a: a.get_data_level_display()),
        ("Datasets", lambda a: "; ".join(d.name for d in a.datasets.all())),
        ("Purposes", lambda a: "; ".join(p.name for p in a.purposes.all())),
        ("Article 6 basis", lambda a: a.get_article_6_basis_display()),
        ("Article 9 condition", lambda a: a.get_article_9_condition_display() if a.article_9_condition else ""),
        ("Common law basis", lambda a: a.get_common_law_basis_display()),
        ("Statutory gateway", lambda a: a.statutory_gateway),
        ("National data opt-out", lambda a: a.get_opt_out_display()),
        ("Why the opt-out is not applied", lambda a: a.opt_out_reason),
        ("Start date", lambda a: a.start_date),
        ("End date", lambda a: a.end_date),
        ("Review date", lambda a: a.review_date),
        ("DPIA reference", lambda a: a.dpia_reference),
        ("DSA or contract in place", lambda a: in_place(a, on=on)),
        ("DSA or contract ends", _ends),
        ("Signed copy held", lambda a: any(d.kind == Document.Kind.SIGNED_COPY for d in a.documents.all())),
        ("Permits sub-licensing", lambda a: a.permits_sub_licensing),
        ("Show on public registers", lambda a: a.is_public),
        ("Owner", lambda a: a.owner.get_username() if a.owner else ""),
        ("Created", lambda a: _local(a.created_at)),
        ("Last changed", lambda a: _local(a.updated_at)),
    ]


ORGANISATION_COLUMNS: list[tuple[str, Callable[[Organisation], Any]]] = [
    ("Name", lambda o: o.name),
    ("ODS code", lambda o: o.ods_code),
    ("Type of organisation", lambda o: o.get_kind_display()),
    ("ICO registration number", lambda o: o.ico_registration_number),
    ("ICO registration expires", lambda o: o.ico_registration_expires),
    ("DSPT status", lambda o: o.get_dspt_status_display()),
    ("DSPT assessment year", lambda o: o.dspt_assessment_year),
    ("Website", lambda o: o.website),
]


def export_agreements() -> QuerySet[Agreement]:
    """Every agreement, every status, with what the columns read loaded in a constant number of queries."""
    return (
        selectors.agreement_with_relations(Agreement.objects.all())
        .select_related("parent")
        .prefetch_related(Prefetch("documents", queryset=Document.objects.only("id", "agreement_id", "kind")))
        .order_by("reference")
    )


def agreement_rows(*, on: dt.date | None = None) -> tuple[list[str], Iterator[list[Any]]]:
    columns = agreement_columns(on=on or timezone.localdate())
    headers = [header for header, _ in columns]
    return headers, ([read(agreement) for _, read in columns] for agreement in export_agreements())


def organisation_rows() -> tuple[list[str], Iterator[list[Any]]]:
    headers = [header for header, _ in ORGANISATION_COLUMNS]
    return headers, ([read(o) for _, read in ORGANISATION_COLUMNS] for o in Organisation.objects.order_by("name"))


def register_csv(*, on: dt.date | None = None) -> bytes:
    headers, rows = agreement_rows(on=on)
    return csv_bytes(headers, rows)


def organisations_csv() -> bytes:
    headers, rows = organisation_rows()
    return csv_bytes(headers, rows)


def register_xlsx(*, on: dt.date | None = None) -> bytes:
    """One workbook: the agreements (the data flows) and the organisations with their assurance."""
    headers, rows = agreement_rows(on=on)
    organisation_headers, organisations = organisation_rows()
    return xlsx_bytes([("Agreements", headers, rows), ("Organisations", organisation_headers, organisations)])


def export_filename(stem: str, extension: str, *, on: dt.date | None = None) -> str:
    return f"{stem}-{(on or timezone.localdate()).isoformat()}.{extension}"
