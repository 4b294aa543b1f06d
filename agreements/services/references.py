"""Reference numbers: sub-licence references (SL/YY/N) allocated from a sequence that only goes up."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db.models import F
from django.db.models.functions import Greatest

from agreements.models import SUB_LICENCE_PREFIX, SUB_LICENCE_REFERENCE_RE, ReferenceSequence


def reference_allocate(*, prefix: str, on: dt.date) -> str:
    """The next reference for the prefix in the year of `on`, e.g. SL/25/1. Call inside a transaction.

    The increment is one UPDATE, so concurrent callers queue on the sequence row (PostgreSQL row lock; SQLite
    database lock) and each reads back its own number. A rolled-back caller consumes nothing, and a number once
    committed is never handed out again, because the sequence only goes up.
    """
    year = on.year
    ReferenceSequence.objects.bulk_create(
        [ReferenceSequence(prefix=prefix, year=year, last_number=0)], ignore_conflicts=True
    )
    sequence = ReferenceSequence.objects.filter(prefix=prefix, year=year)
    sequence.update(last_number=F("last_number") + 1)
    number = sequence.values_list("last_number", flat=True).get()
    return f"{prefix}/{year % 100:02d}/{number}"


def reference_reserve(*, reference: str) -> str:
    """Keep an existing sub-licence reference (from a register being imported) and move the sequence past it,
    so reference_allocate never hands it out again. Call inside a transaction. One UPDATE, like the allocation,
    so it is safe beside concurrent allocations; the reference's uniqueness is the agreement table's."""
    match = SUB_LICENCE_REFERENCE_RE.fullmatch(reference or "")
    if not match or int(match[2]) < 1:
        raise ValidationError({"reference": "A sub-licence reference must look like SL/25/1"})
    year, number = 2000 + int(match[1]), int(match[2])
    ReferenceSequence.objects.bulk_create(
        [ReferenceSequence(prefix=SUB_LICENCE_PREFIX, year=year, last_number=0)], ignore_conflicts=True
    )
    ReferenceSequence.objects.filter(prefix=SUB_LICENCE_PREFIX, year=year).update(
        last_number=Greatest(F("last_number"), number)
    )
    return reference
