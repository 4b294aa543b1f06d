"""Signed copies for the demo's agreements. An agreement is submitted and approved only with its signed copy
(agreements.selectors.agreement_readiness), so the demo attaches one: a small, genuine PDF written by WeasyPrint at
load time, saying plainly that it is demo data, through the same service as an upload in the staff area."""

from __future__ import annotations

import datetime as dt
import functools
from html import escape

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from agreements import services
from agreements.models import Agreement, Document

REASON = "Demo data"


@functools.cache
def signed_copy_pdf(reference: str, title: str) -> bytes:
    """A one-page PDF standing for the signed agreement (cached: the demo may be loaded many times in a test run)."""
    from weasyprint import HTML

    html = (
        "<html lang='en'><head><title>Signed copy</title>"
        "<style>@page { size: A4; margin: 2cm } body { font-family: 'Liberation Sans', sans-serif }</style></head>"
        f"<body><h1>{escape(reference)}</h1><p>{escape(title)}</p>"
        "<p>Demo data: this page stands for the signed copy of the agreement.</p></body></html>"
    )
    pdf = HTML(string=html).write_pdf()
    assert pdf is not None
    return pdf


def attach_signed_copy(*, actor: User | None, agreement: Agreement) -> None:
    """Upload the agreement's signed copy unless it has one."""
    if agreement.documents.filter(kind=Document.Kind.SIGNED_COPY).exists():
        return
    filename = f"{agreement.reference.replace('/', '-')}-signed.pdf"
    services.document_add(
        actor=actor,
        agreement=agreement,
        upload=SimpleUploadedFile(
            filename, signed_copy_pdf(agreement.reference, agreement.title), content_type="application/pdf"
        ),
        title=f"Signed copy of {agreement.reference}",
        kind=Document.Kind.SIGNED_COPY,
        reason=REASON,
    )


def submit(*, officer: User | None, agreement: Agreement) -> None:
    """Attach the signed copy, then submit the agreement for review."""
    attach_signed_copy(actor=officer, agreement=agreement)
    services.agreement_submit(actor=officer, agreement=agreement, reason=REASON)


def approve(*, officer: User | None, approver: User | None, agreement: Agreement) -> None:
    """Attach the signed copy, submit, and approve as a second person."""
    submit(officer=officer, agreement=agreement)
    services.agreement_approve(actor=approver, agreement=agreement, reason=REASON)


def in_force_until(day: dt.date, *, years: int = 2) -> dt.date:
    """The demo agreement's end date, or, when the demo is loaded after that day, a date `years` after the load:
    an agreement that has already ended cannot be submitted or approved, and the demo opens with it in force."""
    today = timezone.localdate()
    if day >= today:
        return day
    return today.replace(year=today.year + years, day=min(today.day, 28))
