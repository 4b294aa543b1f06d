"""Documents: signed PDFs and annexes attached to an agreement."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from agreements import workflow
from agreements.models import Agreement, Amendment, Document
from agreements.services._history import Action, _audit, _validate

PDF_MAGIC = b"%PDF-"


def _stored(
    *, actor: User | None, upload: UploadedFile, title: str, kind: str, **owner: Agreement | Amendment
) -> Document:
    """The uploaded PDF, checked and stored, as a document of `owner` (agreement= or amendment=)."""
    if upload.size is None or upload.size > settings.DOCUMENT_MAX_BYTES:
        limit = settings.DOCUMENT_MAX_BYTES // (1024 * 1024)
        raise ValidationError({"file": f"The file must be smaller than {limit} MB"})
    upload.seek(0)
    if upload.read(len(PDF_MAGIC)) != PDF_MAGIC:
        raise ValidationError({"file": "The file must be a PDF"})
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    document = Document(
        kind=kind,
        title=title.strip(),
        filename=(upload.name or "document.pdf")[-255:],
        size=upload.size,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
        **owner,
    )
    # The stored name comes from the digest (see document_upload_to), never from the user's file name.
    document.file.save("document.pdf", upload, save=False)
    try:
        _validate(document)
        document.save()
    except Exception:
        document.file.delete(save=False)
        raise
    return document


@transaction.atomic
def document_add(
    *, actor: User | None, agreement: Agreement, upload: UploadedFile, title: str, kind: str, reason: str = ""
) -> Document:
    """Attach a signed PDF (or an annex) to an agreement."""
    document = _stored(actor=actor, upload=upload, title=title, kind=kind, agreement=agreement)
    _audit(
        actor=actor,
        action=Action.DOCUMENT_ADDED,
        reason=reason,
        agreement=agreement,
        changes={"Document": ["", f"{document.title} ({document.filename})"]},
    )
    return document


@transaction.atomic
def amendment_document_add(
    *, actor: User, amendment: Amendment, upload: UploadedFile, title: str, kind: str, reason: str = ""
) -> Document:
    """Add a document (a new signed copy, an annex) to an amendment in draft or returned. It is not attached to the
    live agreement: approving the amendment attaches it, with the rest of the amendment. Whoever adds it joins
    those who may not approve the amendment."""
    amendment = Amendment.objects.select_for_update().select_related("agreement").get(pk=amendment.pk)
    if not workflow.may_change(actor, amendment.agreement):
        raise PermissionDenied("You can only change your own organisation's agreements")
    if amendment.kind != Amendment.Kind.CHANGE or amendment.status not in workflow.AMENDMENT_EDITABLE_STATUSES:
        raise ValidationError(
            f"This {amendment.get_kind_display().lower()} of {amendment.agreement.reference} is "
            f"{amendment.get_status_display().lower()}, so no document can be added to it: only an amendment in "
            "draft or returned is changed"
        )
    document = _stored(actor=actor, upload=upload, title=title, kind=kind, amendment=amendment)
    amendment.save(update_fields=["updated_at"])
    amendment.contributors.add(actor)
    _audit(
        actor=actor,
        action=Action.AMENDMENT_UPDATED,
        reason=reason,
        agreement=amendment.agreement,
        changes={"Document added to the amendment": ["", f"{document.title} ({document.filename})"]},
    )
    return document


def document_agreement(document: Document) -> Agreement:
    """The agreement a document is about: its own, or, while its amendment is open, the amended one."""
    if document.agreement is not None:
        return document.agreement
    assert document.amendment is not None  # the database's document_of_agreement_or_amendment constraint
    return document.amendment.agreement


def document_open(*, actor: User, document: Document) -> File:
    """The signed document's file, opened for download; who downloaded it is recorded. Raises FileNotFoundError
    when the stored file is missing (nothing is recorded then)."""
    handle = document.file.open("rb")
    _audit(
        actor=actor,
        action=Action.DOCUMENT_DOWNLOADED,
        agreement=document_agreement(document),
        changes={"Document": ["", f"{document.title} ({document.filename})"]},
    )
    return handle
