"""Reads of registers and editions. Public reads see published editions only, and never live agreements."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from agreements import selectors as agreement_selectors
from agreements.dates import format_date
from agreements.models import Agreement
from audit.models import AuditEvent
from publishing.models import Edition, EditionFile, Register
from publishing.render import diff_rows

# An edition's snapshot of the register's wording, read only by the pages that show it (its rows are EditionRows).
SNAPSHOT_FIELDS = ("columns", "metadata")


def _published() -> QuerySet[Edition]:
    return Edition.objects.filter(status=Edition.Status.PUBLISHED).select_related("register")


@dataclass(frozen=True)
class RegisterSummary:
    register: Register
    current: Edition | None


def registers_with_current() -> list[RegisterSummary]:
    """Every register with its current edition (or None), in two queries whatever the number of registers."""
    registers = list(Register.objects.order_by("title"))
    current: dict[int, Edition] = {}
    editions = _published().filter(register__in=registers).defer(*SNAPSHOT_FIELDS)
    for edition in editions.order_by("register_id", "-published_at", "-pk"):
        current.setdefault(edition.register_id, edition)
    return [RegisterSummary(register, current.get(register.pk)) for register in registers]


def register_get(*, slug: str) -> Register:
    try:
        return Register.objects.get(slug=slug)
    except Register.DoesNotExist:
        raise Http404("No such register") from None


def edition_current(*, register: Register, summary: bool = False) -> Edition | None:
    """The latest published edition: withdrawing it makes the one before it current again. With summary, without
    its snapshot (for pages that only name it)."""
    editions = _published().filter(register=register)
    if summary:
        editions = editions.defer(*SNAPSHOT_FIELDS)
    return editions.order_by("-published_at", "-pk").first()


def editions_published(*, register: Register) -> QuerySet[Edition]:
    """Every published edition, newest first, with its files and without its snapshot (for the archive)."""
    return (
        _published()
        .filter(register=register)
        .defer(*SNAPSHOT_FIELDS)
        .order_by("-published_at", "-pk")
        .prefetch_related(Prefetch("files", queryset=EditionFile.objects.order_by("format")))
    )


def edition_published_get(*, register: Register, slug: str) -> Edition:
    try:
        return _published().get(register=register, slug=slug)
    except Edition.DoesNotExist:
        raise Http404("No such edition") from None


@dataclass(frozen=True)
class PublicEntry:
    """One agreement's public entry, as an edition froze it, with its dates ready to show."""

    edition: Edition
    fields: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.fields[name]
        except KeyError:
            raise AttributeError(name) from None

    def _date(self, name: str) -> dt.date | None:
        value = self.fields.get(name) or ""
        return dt.date.fromisoformat(value) if value else None

    @property
    def start(self) -> dt.date | None:
        return self._date("start_date")

    @property
    def end(self) -> dt.date | None:
        return self._date("end_date")

    @property
    def review(self) -> dt.date | None:
        return self._date("review_date")


def edition_entry(*, edition: Edition, reference: str) -> PublicEntry:
    """An entry of an edition, from its snapshot (never live data). Unknown references are a 404."""
    fields = edition.entry(reference)
    if fields is None:
        raise Http404("No such entry in this edition")
    return PublicEntry(edition=edition, fields=fields)


def edition_previous(*, edition: Edition) -> Edition | None:
    """The published edition before this one (for a draft or one still rendering: the current edition)."""
    editions = _published().filter(register_id=edition.register_id).exclude(pk=edition.pk)
    if edition.published_at:
        editions = editions.filter(published_at__lt=edition.published_at)
    return editions.order_by("-published_at", "-pk").first()


def edition_changes(*, edition: Edition) -> dict[str, Any]:
    """Rows added, removed and changed since the previous published edition, from the two snapshots."""
    previous = edition_previous(edition=edition)
    key = edition.register.kind.key_column
    labels = {column["key"]: column["label"] for column in edition.columns}
    changes: dict[str, Any] = diff_rows(
        previous.stored_rows(entries="none") if previous else None, edition.stored_rows(entries="none"), key=key
    )
    notes = edition.metadata.get("removal_notes") or {}
    for row in changes["removed"]:
        row["note"] = notes.get(row.get(key), "")
    for change in changes["changed"]:
        change["labelled"] = [(labels.get(name, name), old, new) for name, (old, new) in change["fields"].items()]
    changes["previous"] = previous
    changes["any"] = bool(changes["added"] or changes["removed"] or changes["changed"])
    return changes


def edition_files(*, edition: Edition) -> dict[str, EditionFile]:
    return {stored.format: stored for stored in edition.files.all()}


def edition_file(*, edition: Edition, format: str) -> EditionFile:
    try:
        return edition.files.get(format=format)
    except EditionFile.DoesNotExist:
        raise Http404("No such file") from None


def edition_html(*, edition: Edition) -> str:
    """The stored HTML fragment, exactly as rendered (its cells were escaped when it was rendered)."""
    stored = edition_files(edition=edition).get("html")
    if stored is None:
        return ""
    with stored.file.open("rb") as handle:
        return handle.read().decode()


def editions_for_staff(*, register: Register) -> QuerySet[Edition]:
    """Every edition, drafts, failures and withdrawals included, newest first."""
    return (
        Edition.objects.filter(register=register)
        .select_related("requested_by", "withdrawn_by", "register")
        .defer(*SNAPSHOT_FIELDS)
        .order_by("-requested_at", "-pk")
    )


def edition_for_staff(*, register: Register, pk: int) -> Edition:
    try:
        return Edition.objects.select_related("register", "requested_by", "withdrawn_by").get(register=register, pk=pk)
    except Edition.DoesNotExist:
        raise Http404("No such edition") from None


@dataclass(frozen=True)
class NextEdition:
    """What publishing now would do, against the current edition: for the IG team to check before publishing."""

    not_started: list[str]
    dropped: list[tuple[str, str]]
    changed: list[tuple[str, str, list[tuple[str, str, str]]]]
    added: list[str]


def next_edition(*, register: Register, on: dt.date | None = None) -> NextEdition:
    """Approved agreements that start later ("starts on 1 January 2026: appears in the first edition after that
    date"), and every row the next edition would drop, change or add against the current one, with the reason."""
    on = on or timezone.localdate()
    kind = register.kind
    kinds = (
        [Agreement.Kind.SUB_LICENCE] if kind.slug == "sub-licences" else agreement_selectors.INFORMATION_SHARING_KINDS
    )
    not_started = [
        f"{agreement.reference} starts on {format_date(agreement.start_date)}: appears in the first edition after "
        "that date"
        for agreement in agreement_selectors.agreements_approved_not_started(kinds=kinds, on=on)
    ]
    # The rows alone, of the next edition and of the current one: their entries are as large again and not read.
    current = _published().filter(register=register).order_by("-published_at", "-pk").first()
    rows = kind.snapshot(on=on, with_entries=False).rows
    key = kind.key_column
    before = {row[key]: row for row in (current.stored_rows(entries="none") if current else [])}
    after = {row[key]: row for row in rows}
    labels = {column.key: column.label for column in kind.columns}
    leaving = [reference for reference in before if reference not in after]
    agreements = {a.reference: a for a in Agreement.objects.filter(reference__in=leaving)}
    amended = set(
        AuditEvent.objects.filter(
            action=AuditEvent.Action.AMENDMENT_APPROVED,
            agreement__reference__in=list(before),
            at__gt=current.snapshot_at if current and current.snapshot_at else dt.datetime.min.replace(tzinfo=dt.UTC),
        ).values_list("agreement__reference", flat=True)
    )
    dropped = [
        (
            reference,
            agreement_selectors.agreement_leaving_reason(agreement=agreements[reference], on=on)
            if reference in agreements
            else "the agreement is no longer recorded",
        )
        for reference in leaving
    ]
    changed = []
    for reference, row in after.items():
        old = before.get(reference)
        if old is None or old == row:
            continue
        fields = [
            (labels.get(name, name), old.get(name, ""), value) for name, value in row.items() if old.get(name) != value
        ]
        changed.append((reference, "amended" if reference in amended else "changed", fields))
    added = [reference for reference in after if reference not in before]
    return NextEdition(not_started=not_started, dropped=dropped, changed=changed, added=added)


def edition_progress_text(*, edition: Edition, now: dt.datetime | None = None) -> str:
    """What the staff edition page says while an edition renders."""
    from django.utils import timezone

    if edition.status != Edition.Status.RENDERING:
        return ""
    now = now or timezone.now()
    if edition.attempt == 0:
        return "Waiting for a worker to start rendering."
    parts = f"{edition.parts_done} of {edition.parts_total} parts rendered" if edition.parts_total else "Starting"
    if edition.claimed_until is not None and edition.claimed_until < now:
        return (
            f"{parts}. The worker rendering it stopped answering: it will be started again by the next free "
            "worker within a few minutes, keeping the parts already rendered."
        )
    again = f" (attempt {edition.attempt}: an earlier worker stopped)" if edition.attempt > 1 else ""
    return f"{parts}{again}."
