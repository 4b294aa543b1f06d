"""Documents: signed PDFs and annexes attached to an agreement."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from agreements.models import Agreement, Document
from agreements.services._history import Action, _audit, _validate

PDF_MAGIC = b"%PDF-"


@transaction.atomic
def document_add(
    *, actor: User | None, agreement: Agreement, upload: UploadedFile, title: str, kind: str, reason: str = ""
) -> Document:
    """Attach a signed PDF (or an annex) to an agreement."""
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
        agreement=agreement,
        kind=kind,
        title=title.strip(),
        filename=(upload.name or "document.pdf")[-255:],
        size=upload.size,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
    )
    # The stored name comes from the digest (see document_upload_to), never from the user's file name.
    document.file.save("document.pdf", upload, save=False)
    try:
        _validate(document)
        document.save()
    except Exception:
        document.file.delete(save=False)
        raise
    _audit(
        actor=actor,
        action=Action.DOCUMENT_ADDED,
        reason=reason,
        agreement=agreement,
        changes={"Document": ["", f"{document.title} ({document.filename})"]},
    )
    return document


def document_open(*, actor: User, document: Document) -> File:
    """The signed document's file, opened for download; who downloaded it is recorded. Raises FileNotFoundError
    when the stored file is missing (nothing is recorded then)."""
    handle = document.file.open("rb")
    _audit(
        actor=actor,
        action=Action.DOCUMENT_DOWNLOADED,
        agreement=document.agreement,
        changes={"Document": ["", f"{document.title} ({document.filename})"]},
    )
    return handle
