"""Every write to registers and editions: snapshot, render, publish; preview; withdraw; register wording.

The flow (see DESIGN.md): a claim transaction freezes the rows and takes a render lease; rendering happens outside
any transaction and touches nothing public; one short transaction then stores the files and makes the edition
current. The previous edition stays published, in the archive: "current" is simply the latest published edition,
so withdrawing one makes the one before it current again without touching it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import itertools
import logging
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, cast

import kombu.exceptions
from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst

from agreements import roles
from agreements.dates import format_date
from agreements.models import Agreement
from audit.services import Action, audit_record
from publishing import pages, pdf, pipeline, render, selectors
from publishing.models import ROW_BATCH, Edition, EditionFile, EditionRow, Register
from publishing.registers import period_of, register_kind, sort_bytes
from publishing.render import FORMATS, EditionContent

logger = logging.getLogger(__name__)

# What is worth trying again: a lost or refused connection to the database or the broker. Never an
# IntegrityError or a ValidationError, which would only fail the same way again.
QUEUE_ERRORS = (kombu.exceptions.OperationalError, ConnectionError, TimeoutError)
TRANSIENT_ERRORS = (OperationalError, InterfaceError, *QUEUE_ERRORS)
# From how many agreements, in chunks of rows, edition_publish starts the local pool's server before the snapshot:
# a register shows at most every agreement, and a pool pays off from a few chunks on.
POOL_SERVER_CHUNKS = 2
PUBLISH_PERMISSION = "publishing.publish_edition"
CHANGE_PERMISSION = "publishing.change_register"
REGISTER_EDITABLE_FIELDS = (
    "organisation_name",
    "introduction",
    "heading",
    "table_lead",
    "privacy_notice_sentence",
    "privacy_notice_url",
    "privacy_notice_title",
    "team_name",
    "contact_sentence",
    "contact_email",
)


def _require(actor: User | None, permission: str, action: str) -> None:
    if actor is None or not actor.is_active or not actor.has_perm(permission):
        raise PermissionDenied(f"You do not have permission to {action}.")


# ---------------------------------------------------------------------------------------------------------
# Registers


def register_ensure(*, slug: str) -> Register:
    """The Register row for a kind of register, created with the kind's defaults the first time."""
    kind = register_kind(slug)
    register, created = Register.objects.get_or_create(
        slug=slug,
        defaults={
            "title": kind.title,
            "organisation_name": settings.PORTAL_ORGANISATION_NAME,
            **kind.default_wording,
            "contact_email": settings.REGISTER_CONTACT_EMAIL,
            "privacy_notice_url": settings.REGISTER_PRIVACY_NOTICE_URL,
            "cadence": kind.cadence,
        },
    )
    if created:
        # The home page lists every register, published or not.
        pages.public_pages_changed()
    return register


def register_editable_values(register: Register) -> dict[str, Any]:
    return {name: getattr(register, name) for name in REGISTER_EDITABLE_FIELDS}


@transaction.atomic
def register_update(*, actor: User | None, register: Register, fields: Mapping[str, Any]) -> Register:
    """The wording the IG team may edit. It reaches the public with the next edition, never an existing one."""
    _require(actor, CHANGE_PERMISSION, "change this register")
    unknown = set(fields) - set(REGISTER_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}")
    register = Register.objects.select_for_update().get(pk=register.pk)
    before = register_editable_values(register)
    for name, value in fields.items():
        setattr(register, name, value.strip() if isinstance(value, str) else value)
    register.full_clean()
    register.updated_by = actor
    register.save()
    labels = {name: capfirst(str(getattr(Register._meta.get_field(name), "verbose_name", name))) for name in fields}
    changes = {
        labels[name]: [str(before[name]), str(getattr(register, name))]
        for name in fields
        if before[name] != getattr(register, name)
    }
    if changes:
        audit_record(actor=actor, action=Action.REGISTER_CHANGED, subject=register, changes=changes)
    return register


# ---------------------------------------------------------------------------------------------------------
# Editions


def _allocate_slug(register: Register, on: dt.date) -> str:
    """The last-updated date; -2, -3 for a second or third edition that day. Caller holds the register lock."""
    base = on.isoformat()
    taken = set(Edition.objects.filter(register=register, slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _new_edition(
    *, register: Register, on: dt.date, trigger: str, actor: User | None, status: str, scheduled_period: str = ""
) -> Edition:
    _, label = period_of(on, register.cadence)
    return Edition.objects.create(
        register=register,
        slug=_allocate_slug(register, on),
        status=status,
        trigger=trigger,
        last_updated=on,
        period=label,
        scheduled_period=scheduled_period,
        requested_by=actor,
    )


def _snapshot(edition: Edition, rows_on: dt.date | None = None) -> None:
    """Freeze the rows and the register's wording into the edition (the register row is locked by the caller).
    The rows are those of the edition's date unless `rows_on` names another day."""
    register = edition.register
    kind = register.kind
    rows_on = rows_on or edition.last_updated
    # Streamed to the database a batch at a time, each row with the bytes of its sort key: the database gives them
    # back in table order, and this process never holds the whole register.
    EditionRow.objects.filter(edition=edition).delete()
    records = kind.records(on=rows_on)
    count = 0
    while batch := list(itertools.islice(records, ROW_BATCH)):
        _insert_rows(
            {
                "edition": edition.pk,
                "sort_key": sort_bytes(sort_key),
                "reference": row["reference"],
                "row": row,
                "entry": entry,
            }
            for sort_key, row, entry in batch
        )
        count += len(batch)
    edition.row_count = count
    edition.columns = [{"key": column.key, "label": column.label} for column in kind.columns]
    edition.metadata = {
        "title": register.title,
        "document_title": kind.document_title,
        "organisation_name": register.organisation_name,
        "introduction": register.introduction,
        "heading": register.heading,
        "table_lead": register.table_lead,
        "privacy_notice_sentence": register.privacy_notice_sentence,
        "team_name": register.team_name,
        "contact_sentence": register.contact_sentence,
        "link_column": kind.link_column,
        "pdf_page_size": kind.pdf_page_size,
        "contact_email": register.contact_email,
        "privacy_notice_url": register.privacy_notice_url,
        "privacy_notice_title": register.privacy_notice_title,
        "removal_notes": kind.removal_notes(on=rows_on),
    }
    edition.snapshot_at = timezone.now()


def _insert_rows(rows: Iterable[dict[str, Any]]) -> None:
    """Insert EditionRows, each given as {field name: value} for every field but the id: what bulk_create does, in
    one executemany, without its model instance and compiler work per value (more than half of a 10,000-row
    snapshot's time). Each value is prepared for the database by its field, as bulk_create would (JSON, bytes, SQL
    NULL for None). A field added to the model and not given here is a KeyError, not a silently missing value."""
    fields = [field for field in EditionRow._meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(cast(str, field.column)) for field in fields)
    sql = (
        f"INSERT INTO {quote(EditionRow._meta.db_table)} ({columns}) "  # noqa: S608 - names from the model
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            sql, [[field.get_db_prep_save(row[field.name], connection) for field in fields] for row in rows]
        )


def edition_content(edition: Edition, *, with_entries: bool = True) -> EditionContent:
    """The frozen content of an edition, as the renderer takes it (without its entries for the PDF alone)."""
    metadata = edition.metadata
    return EditionContent(
        register_slug=edition.register.slug,
        register_title=metadata["title"],
        document_title=metadata["document_title"],
        edition_slug=edition.slug,
        period=edition.period,
        last_updated=edition.last_updated,
        organisation_name=metadata["organisation_name"],
        introduction=metadata["introduction"],
        table_lead=metadata["table_lead"],
        contact_email=metadata["contact_email"],
        privacy_notice_url=metadata["privacy_notice_url"],
        privacy_notice_title=metadata["privacy_notice_title"],
        columns=edition.columns,
        rows=edition.stored_rows(entries="all" if with_entries else "none"),
        # Editions snapshotted before entry pages existed carry neither: no links, and the page size they had.
        link_column=metadata.get("link_column", ""),
        pdf_page_size=metadata.get("pdf_page_size", "A4"),
        # Editions snapshotted before the rest of the wording was editable render with the defaults.
        register_heading=metadata.get("heading", ""),
        team_name=metadata.get("team_name", ""),
        contact_sentence=metadata.get("contact_sentence", ""),
        privacy_notice_sentence=metadata.get("privacy_notice_sentence", ""),
    )


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.PUBLISH_LEASE_SECONDS)


def _claim(edition: Edition, now: dt.datetime, rows_on: dt.date | None = None) -> int | None:
    """Start a new attempt on a locked edition: its number, or None when there is nothing to do or a live run
    holds the lease. Only the latest attempt may publish (edition_finish), so a run whose worker died and comes
    back later can never publish a second time."""
    if edition.status == Edition.Status.FAILED:
        # An explicit re-run retries a failed render; the previous error is kept in the log, not here.
        edition.status = Edition.Status.RENDERING
        edition.error = ""
    if edition.status != Edition.Status.RENDERING:
        return None
    if edition.claimed_until and edition.claimed_until > now:
        return None
    edition.attempt += 1
    edition.claimed_until = now + _lease()
    edition.parts_done = 0
    if edition.snapshot_at is None:
        _snapshot(edition, rows_on)
    edition.save()
    return edition.attempt


def edition_start(
    *,
    register: Register,
    actor: User | None = None,
    edition_id: int | None = None,
    on: dt.date | None = None,
    trigger: str = Edition.Trigger.SCHEDULED,
    rows_on: dt.date | None = None,
) -> tuple[Edition, int | None]:
    """Snapshot an edition if needed and take its render lease: (edition, attempt), attempt None when there is
    nothing to do. With edition_id, an edition asked for by "Publish now" or "Preview"; without it, the scheduled
    run, at most one edition per register per period, whatever the number of runs."""
    now = timezone.now()
    with transaction.atomic():
        # The register lock serialises claims, so that two runs cannot both create the period's edition.
        locked_register = Register.objects.select_for_update().get(pk=register.pk)
        # Editions without their snapshot: an attempt after the first saves its state, not every row again.
        editions = Edition.objects.select_for_update().defer(*selectors.SNAPSHOT_FIELDS)
        edition: Edition | None
        if edition_id is not None:
            edition = editions.get(pk=edition_id, register=locked_register)
        else:
            on = on or timezone.localdate()
            key, _ = period_of(on, locked_register.cadence)
            scheduled = trigger == Edition.Trigger.SCHEDULED
            edition = editions.filter(register=locked_register, scheduled_period=key).first() if scheduled else None
            if edition is None:
                edition = _new_edition(
                    register=locked_register,
                    on=on,
                    trigger=trigger,
                    actor=actor,
                    status=Edition.Status.RENDERING,
                    scheduled_period=key if scheduled else "",
                )
        if edition.status == Edition.Status.DRAFT:
            raise ValidationError("A preview is never published. Use Publish now to publish a new edition.")
        attempt = _claim(edition, now, rows_on)
    return edition, attempt


def edition_publish(
    *,
    register: Register,
    actor: User | None = None,
    edition_id: int | None = None,
    on: dt.date | None = None,
    trigger: str = Edition.Trigger.SCHEDULED,
    rows_on: dt.date | None = None,
) -> Edition:
    """Snapshot, render and publish an edition here and now (the command line, `make run`, no broker), its parts
    in a local process pool. Idempotent: safe to run again, concurrently or after a retry. `rows_on` takes the rows
    of another day than the edition's date `on`: the demo's first edition is dated as the published seed while
    showing the demo data as it stands today (its partner's assurance is today's)."""
    if Agreement.objects.count() > POOL_SERVER_CHUNKS * settings.PUBLISH_CHUNK_ROWS:
        # The edition may be large enough to render in a local pool: its server starts while the snapshot is taken.
        pipeline.start_pool_server()
    edition, attempt = edition_start(
        register=register, actor=actor, edition_id=edition_id, on=on, trigger=trigger, rows_on=rows_on
    )
    if attempt is None:
        return edition
    edition_id = edition.pk
    # As snapshotted, the edition holds every row and entry, which rendering reads again from the database: it is
    # not kept alive beside them for the whole render.
    del edition
    return edition_render_here(edition_id=edition_id, attempt=attempt)


def _attempt(edition_id: int, attempt: int) -> QuerySet[Edition]:
    return Edition.objects.filter(pk=edition_id, attempt=attempt, status=Edition.Status.RENDERING)


def edition_plan(*, edition_id: int, attempt: int) -> list[tuple[str, int]]:
    """Store the specs of the edition's PDF pieces; returns (key, slot) of those whose segment is not built yet
    (every piece and segment that an earlier edition or attempt made is re-used). Sets the attempt's progress."""
    edition = Edition.objects.select_related("register").get(pk=edition_id)
    return _plan(edition_id, attempt, edition_content(edition, with_entries=False))[1]


def _plan(edition_id: int, attempt: int, content: EditionContent) -> tuple[list[str], list[tuple[str, int]]]:
    """edition_plan of the content given: the keys of every piece, in order, and (key, slot) of those to build."""
    keys = pipeline.prepare(content, chunk_rows=settings.PUBLISH_CHUNK_ROWS)
    missing = pipeline.missing_segments(keys)
    # The parts: every PDF piece, each text format, and the assembly.
    total = len(keys) + len(pipeline.TEXT_FORMATS) + 1
    _attempt(edition_id, attempt).update(parts_total=total, parts_done=len(keys) - len(missing))
    return keys, missing


def edition_plan_furniture(*, edition_id: int, attempt: int) -> list[str]:
    """Once every piece is rendered: store the specs of the furniture stamped on the assembled pages (it needs the
    number of pages) and return the keys of those not rendered yet, counted as parts of the attempt. Nothing when
    the attempt is no longer current."""
    edition = Edition.objects.select_related("register").get(pk=edition_id)
    content = edition_content(edition, with_entries=False)
    keys = pipeline.prepare(content, chunk_rows=settings.PUBLISH_CHUNK_ROWS)
    return _plan_furniture(edition_id, attempt, content, keys)


def _plan_furniture(edition_id: int, attempt: int, content: EditionContent, keys: list[str]) -> list[str]:
    """edition_plan_furniture of the content given, whose pieces' keys are `keys`."""
    missing = [key for key in pipeline.prepare_furniture(content, keys) if not pipeline.piece_ready(key)]
    if not _attempt(edition_id, attempt).update(parts_total=F("parts_total") + len(missing)):
        return []
    return missing


def edition_progress(*, edition_id: int, attempt: int, parts: int = 1) -> bool:
    """A part of the attempt is done: count it and renew the lease. False when the attempt is no longer current."""
    return bool(
        _attempt(edition_id, attempt).update(
            parts_done=F("parts_done") + parts, claimed_until=timezone.now() + _lease()
        )
    )


def edition_is_current(*, edition_id: int, attempt: int) -> bool:
    return _attempt(edition_id, attempt).exists()


def edition_render_format(*, edition_id: int, attempt: int, fmt: str) -> None:
    """Write one text format of the attempt to its work file (a part that a worker does)."""
    edition = Edition.objects.select_related("register").get(pk=edition_id)
    content = render.for_writer(edition_content(edition), fmt)
    pipeline.write_format(content, fmt, pipeline.work_name(edition_id, attempt, fmt))


def edition_render_here(*, edition_id: int, attempt: int) -> Edition:
    """Every part of the attempt in a local process pool, then the assembly and publication."""
    edition = Edition.objects.select_related("register").get(pk=edition_id)
    try:
        # The edition as loaded here serves every step: it is not read again from the database for each.
        content = edition_content(edition)
        keys, missing = _plan(edition_id, attempt, content)
        pieces: list[pipeline.Job] = [(pipeline.render_segment, part) for part in missing]
        # The text formats are written here while the pool renders the pieces: they stream the edition's rows from
        # the database, a batch at a time.
        text: list[pipeline.Job] = [
            (
                pipeline.write_format,
                (render.for_writer(content, fmt), fmt, pipeline.work_name(edition_id, attempt, fmt)),
            )
            for fmt in pipeline.TEXT_FORMATS
        ]

        def done() -> None:
            edition_progress(edition_id=edition_id, attempt=attempt)

        # A pool pays off from two chunks of rows on (the front matter is a piece too), or when the text formats
        # alone take as long as a chunk: a republish of a large register, where one chunk changed.
        large = len(content.rows) > 4 * settings.PUBLISH_CHUNK_ROWS
        pipeline.run_local(pieces, here=text, on_done=done, parallel=len(missing) > 2 or large)
        furniture = _plan_furniture(edition_id, attempt, content, keys)
        pipeline.run_local(
            [(pipeline.render_piece, (key,)) for key in furniture], on_done=done, parallel=len(furniture) > 2
        )
        # The join streams the segments (its memory is flat in the rows), and for a large edition runs in a process
        # of its own, whose memory is returned when it ends. It reads neither the entries nor the rows (the pieces'
        # keys carry them).
        pdf_content = dataclasses.replace(content, entries={}, rows=[])
        assembly = (pipeline.assemble_pdf, (pdf_content, keys, pipeline.work_name(edition_id, attempt, "pdf")))
        pipeline.run_local([assembly], on_done=lambda: None, isolated=len(keys) > 3)
    except TRANSIENT_ERRORS:
        _release(edition_id, attempt)
        raise
    except Exception as exc:  # Any render error is final for this attempt; it is recorded and reported.
        logger.exception("Rendering edition %s of %s failed", edition.slug, edition.register.slug)
        return edition_fail(edition_id=edition_id, attempt=attempt, error=f"{type(exc).__name__}: {exc}")
    return edition_finish(edition_id=edition_id, attempt=attempt, assembled=True)


def _release(edition_id: int, attempt: int) -> None:
    """Give the lease back after a transient error, so that the retry can render at once."""
    try:
        _attempt(edition_id, attempt).update(claimed_until=None)
    except DatabaseError:
        logger.exception("Could not release the render lease of edition %s", edition_id)


def edition_finish(*, edition_id: int, attempt: int, assembled: bool = False) -> Edition:
    """Assemble the attempt's PDF (unless the caller just did, `assembled`), then store every file and make the
    edition public (or a draft, for a preview) in one transaction, if the attempt is still the current one: exactly
    once, whatever the number of runs that get here. Nothing is public before that transaction commits."""
    edition = Edition.objects.select_related("register").get(pk=edition_id)
    if not edition_progress(edition_id=edition_id, attempt=attempt, parts=0):
        return edition
    try:
        if not assembled:
            # Its entries are not read: the PDF has none, and they are as large as the register.
            content = edition_content(edition, with_entries=False)
            keys = pipeline.prepare(content, chunk_rows=settings.PUBLISH_CHUNK_ROWS)
            pipeline.assemble_pdf(content, keys, pipeline.work_name(edition_id, attempt, "pdf"))
    except TRANSIENT_ERRORS:
        _release(edition_id, attempt)
        raise
    except Exception as exc:
        logger.exception("Assembling edition %s of %s failed", edition.slug, edition.register.slug)
        return edition_fail(edition_id=edition_id, attempt=attempt, error=f"{type(exc).__name__}: {exc}")

    stem = edition.file_stem
    with transaction.atomic():
        # Without its snapshot: saving the edition would otherwise encode every row and entry again.
        locked = (
            Edition.objects.select_for_update()
            .select_related("register")
            .defer(*selectors.SNAPSHOT_FIELDS)
            .get(pk=edition_id)
        )
        if locked.status != Edition.Status.RENDERING or locked.attempt != attempt:
            # A later attempt took the edition over after our lease ran out: it publishes, not us.
            return locked
        locked.files.all().delete()
        for fmt in FORMATS:
            name = pipeline.work_name(edition_id, attempt, fmt)
            with default_storage.open(name, "rb") as handle:
                digest = hashlib.sha256()
                for block in iter(lambda: handle.read(1024 * 1024), b""):
                    digest.update(block)
                size = handle.tell()
                handle.seek(0)
                stored = EditionFile(edition=locked, format=fmt, size=size, sha256=digest.hexdigest())
                stored.file.save(f"{stem}.{fmt}", File(handle), save=False)
            stored.save()
        preview = locked.trigger == Edition.Trigger.PREVIEW
        locked.status = Edition.Status.DRAFT if preview else Edition.Status.PUBLISHED
        locked.claimed_until = None
        locked.parts_done = locked.parts_total
        if not preview:
            locked.published_at = timezone.now()
            pages.public_pages_changed()
        locked.save()
        if not preview:
            # The system publishes (a worker); who asked for it is on the edition and its request's row.
            audit_record(actor=None, action=Action.PUBLISHED, subject=locked)
        if locked.trigger == Edition.Trigger.SCHEDULED:
            # "Publish now" asked its approver to confirm the rows it drops; a scheduled run tells them instead.
            transaction.on_commit(lambda: _notify(edition_id, "publishing.tasks.notify_rows_dropped"))
        transaction.on_commit(lambda: pipeline.discard_work(edition_id))
    return locked


def pieces_prune(*, now: dt.datetime | None = None) -> int:
    """Delete the stored PDF pieces that no current or rendering edition uses and that are older than
    PUBLISH_PIECES_KEEP_DAYS: the next edition of each register re-uses those of its current one."""
    now = now or timezone.now()
    keep: set[str] = set()
    editions = Edition.objects.filter(status=Edition.Status.RENDERING, snapshot_at__isnull=False)
    current = [selectors.edition_current(register=register) for register in Register.objects.all()]
    for edition in [*editions.select_related("register"), *[e for e in current if e is not None]]:
        content = edition_content(edition, with_entries=False)
        keys = [pdf.piece_key(spec) for spec in pdf.plan(content, chunk_rows=settings.PUBLISH_CHUNK_ROWS)]
        keep.update(keys)
        if all(pipeline.piece_ready(key) for key in keys):
            total = sum(pipeline.piece_pages(key) for key in keys)
            keep.update(pdf.piece_key(spec) for spec in pdf.furniture_specs(content, total=total))
    return pipeline.prune_pieces(keep=keep, before=now - dt.timedelta(days=settings.PUBLISH_PIECES_KEEP_DAYS))


def edition_fail(*, edition_id: int, attempt: int, error: str) -> Edition:
    """Record that the attempt failed, tell the approvers (not for a preview), and keep the current edition."""
    with transaction.atomic():
        # Without its snapshot: saving the edition would otherwise encode every row and entry again.
        locked = (
            Edition.objects.select_for_update()
            .select_related("register")
            .defer(*selectors.SNAPSHOT_FIELDS)
            .get(pk=edition_id)
        )
        if locked.status != Edition.Status.RENDERING or locked.attempt != attempt:
            return locked
        locked.status = Edition.Status.FAILED
        locked.error = error[:5000]
        locked.claimed_until = None
        locked.save()
        audit_record(actor=None, action=Action.PUBLICATION_FAILED, subject=locked, reason=locked.error[:2000])
        if locked.trigger != Edition.Trigger.PREVIEW:
            transaction.on_commit(lambda: _notify_failure(edition_id))
        transaction.on_commit(lambda: pipeline.discard_work(edition_id))
    return locked


def editions_stalled(*, now: dt.datetime | None = None) -> list[int]:
    """Editions being rendered whose lease ran out (their worker died) or that never got one (their task was
    lost): what the sweep starts again."""
    now = now or timezone.now()
    return list(
        Edition.objects.filter(status=Edition.Status.RENDERING)
        .filter(Q(claimed_until__lt=now) | Q(claimed_until__isnull=True, requested_at__lt=now - _lease()))
        .values_list("pk", flat=True)
    )


class QueueUnavailable(ValidationError):
    """The task queue did not take the work: nothing was started."""


QUEUE_DOWN_MESSAGE = "The task queue is not answering; nothing was published. Try again in a few minutes."


def _enqueue(task: str, **kwargs: Any) -> None:
    """Send a task by name: the tasks module imports this one, never the other way round. Fails fast (settings:
    CELERY_BROKER_CONNECTION_TIMEOUT and the publish retry policy) when the broker does not answer."""
    _task(task).apply_async(kwargs=kwargs)


@functools.cache
def _task(name: str) -> Any:
    # Celery's autodiscovery (register/celery.py) imports every app's tasks module; a web process has not run it.
    current_app.loader.import_default_modules()
    return current_app.tasks[name]


def _notify(edition_id: int, task: str) -> None:
    try:
        _enqueue(task, edition_id=edition_id)
    except QUEUE_ERRORS:
        logger.exception("The task queue did not take %s for edition %s", task, edition_id)


def _notify_failure(edition_id: int) -> None:
    _notify(edition_id, "publishing.tasks.notify_publication_failed")


def _request(
    *, actor: User | None, register: Register, trigger: str, request_key: uuid.UUID | None, on: dt.date | None = None
) -> Edition:
    """Record a request for an edition and hand it to a worker. A second press of the same form, or a request
    while another edition of the register is being rendered, gets that edition: two presses make one edition."""
    with transaction.atomic():
        locked_register = Register.objects.select_for_update().get(pk=register.pk)
        existing = None
        if request_key is not None:
            existing = Edition.objects.filter(request_key=request_key, register=locked_register).first()
        if existing is None:
            in_flight = Edition.objects.filter(register=locked_register, status=Edition.Status.RENDERING)
            preview = trigger == Edition.Trigger.PREVIEW
            in_flight = (
                in_flight.filter(trigger=Edition.Trigger.PREVIEW)
                if preview
                else in_flight.exclude(trigger=Edition.Trigger.PREVIEW)
            )
            existing = in_flight.order_by("-pk").first()
        if existing is not None:
            stalled = existing.status == Edition.Status.RENDERING and existing.pk in editions_stalled()
            if not stalled:
                return existing
            edition = existing
        else:
            edition = _new_edition(
                register=locked_register,
                on=on or timezone.localdate(),
                trigger=trigger,
                actor=actor,
                status=Edition.Status.RENDERING,
            )
            if trigger == Edition.Trigger.PREVIEW:
                # Drafts take slugs too, but theirs are never public; "preview-" keeps them out of the series.
                edition.slug = f"preview-{edition.pk}"
            edition.request_key = request_key
            edition.save()
            action = Action.PREVIEW_REQUESTED if trigger == Edition.Trigger.PREVIEW else Action.PUBLICATION_REQUESTED
            audit_record(actor=actor, action=action, subject=edition)
        created = existing is None
    try:
        _enqueue("publishing.tasks.publish_edition", edition_id=edition.pk)
    except QUEUE_ERRORS as error:
        logger.error("The task queue refused edition %s: %s", edition.pk, error)
        if created:
            # Nothing was started: the edition goes, and its slug with it, as if the button was never pressed.
            Edition.objects.filter(pk=edition.pk, status=Edition.Status.RENDERING, attempt=0).delete()
        raise QueueUnavailable(QUEUE_DOWN_MESSAGE) from error
    edition.refresh_from_db()
    return edition


def edition_request(*, actor: User | None, register: Register, request_key: uuid.UUID | None = None) -> Edition:
    """ "Publish now": record the request and hand the work to a worker. The page then follows its progress."""
    _require(actor, PUBLISH_PERMISSION, "publish this register")
    return _request(actor=actor, register=register, trigger=Edition.Trigger.STAFF, request_key=request_key)


def edition_preview(
    *, actor: User | None, register: Register, request_key: uuid.UUID | None = None, on: dt.date | None = None
) -> Edition:
    """Render what would be published today, without publishing it: a draft only staff see, rendered by a worker
    like a publication (never inside the request), its page following the progress."""
    _require(actor, CHANGE_PERMISSION, "preview this register")
    return _request(actor=actor, register=register, trigger=Edition.Trigger.PREVIEW, request_key=request_key, on=on)


def edition_preview_content(*, register: Register, on: dt.date | None = None) -> EditionContent:
    """What an edition would hold today, without saving anything (the command line's --preview)."""
    on = on or timezone.localdate()
    edition = Edition(register=register, slug="preview", last_updated=on, period=period_of(on, register.cadence)[1])
    _snapshot(edition, rows_on=timezone.localdate())
    return edition_content(edition)


@transaction.atomic
def edition_withdraw(*, actor: User | None, edition: Edition, reason: str) -> Edition:
    """Take a published edition off the public pages; the record stays for audit, with who, when and why."""
    _require(actor, PUBLISH_PERMISSION, "withdraw this edition")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Enter why the edition is being withdrawn"})
    locked = Edition.objects.select_for_update().get(pk=edition.pk)
    if locked.status == Edition.Status.WITHDRAWN:
        # A second press of the same button (or two people at once): the edition is already what was asked for.
        return locked
    if locked.status != Edition.Status.PUBLISHED:
        raise ValidationError(f"Only a published edition can be withdrawn. This one is {locked.get_status_display()}.")
    locked.status = Edition.Status.WITHDRAWN
    locked.withdrawn_at = timezone.now()
    locked.withdrawn_by = actor
    locked.withdrawal_reason = reason
    locked.save()
    audit_record(actor=actor, action=Action.WITHDRAWN, subject=locked, reason=reason)
    pages.public_pages_changed()
    return locked


def _publication_recipients() -> list[str]:
    """Who hears about what a publication did: the active approvers and IG_TEAM_EMAILS."""
    approvers = (
        get_user_model()
        .objects.filter(groups__name=roles.IG_APPROVER, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    return sorted({*approvers, *settings.IG_TEAM_EMAILS})


def _staff_link(edition: Edition) -> str:
    return settings.SITE_URL + reverse("staff:edition", kwargs={"register": edition.register.slug, "pk": edition.pk})


def edition_drops_notify(*, edition_id: int) -> list[str]:
    """After a scheduled publication, which nobody confirmed: e-mail the approvers and the IG team every row the
    edition left out that the previous one had, with why, so that nothing leaves the register unseen. Nothing when
    it left none out. Returns the addresses written to."""
    edition = Edition.objects.select_related("register").get(pk=edition_id)
    removed = selectors.edition_changes(edition=edition)["removed"]
    if not removed:
        return []
    recipients = _publication_recipients()
    if not recipients:
        logger.error("Edition %s left rows out and there is nobody to tell: set IG_TEAM_EMAILS", edition.pk)
        return []
    key = edition.register.kind.key_column
    lines = [f"- {row.get(key, '')}: {row['note'] or 'no longer active, public and in its dates'}" for row in removed]
    count = f"{len(removed)} {'entry' if len(removed) == 1 else 'entries'}"
    send_mail(
        subject=f"{edition.register.title}: the {edition.period} edition left out {count}",
        message=(
            f"The scheduled {edition.register.title} edition of {format_date(edition.last_updated)} "
            f"({edition.period}) is published. It no longer lists {count} that the previous edition listed:\n\n"
            + "\n".join(lines)
            + f"\n\nIf an entry should still be listed, put right what its reason says, then publish again: "
            f"{_staff_link(edition)}\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )
    return recipients


def edition_failure_notify(*, edition_id: int) -> list[str]:
    """E-mail the approvers and the IG team that an edition failed to render. Returns the addresses written to."""
    edition = Edition.objects.select_related("register").get(pk=edition_id)
    recipients = _publication_recipients()
    if not recipients:
        logger.error("Edition %s failed and there is nobody to tell: set IG_TEAM_EMAILS", edition.pk)
        return []
    link = _staff_link(edition)
    send_mail(
        subject=f"{edition.register.title}: the {edition.period} edition failed to publish",
        message=(
            f"The {edition.register.title} edition of {format_date(edition.last_updated)} ({edition.period}) could not "
            f"be rendered, so it was not published. The current edition is unchanged.\n\n"
            f"Error: {edition.error}\n\nSee the edition and publish again: {link}\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )
    return recipients
