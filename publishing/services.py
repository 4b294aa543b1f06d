"""Every write to registers and editions: snapshot, render, publish; preview; withdraw; register wording.

The flow (see DESIGN.md): a claim transaction freezes the rows and takes a render lease; rendering happens outside
any transaction and touches nothing public; one short transaction then stores the files and makes the edition
current. The previous edition stays published, in the archive: "current" is simply the latest published edition,
so withdrawing one makes the one before it current again without touching it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst

from agreements import roles
from agreements.dates import format_date
from audit.services import Action, audit_record
from publishing.models import Edition, EditionFile, Register
from publishing.registers import period_of, register_kind
from publishing.render import EditionContent, render_edition

logger = logging.getLogger(__name__)

# How long a worker may render before another run may take the edition over (a worker killed mid-render).
RENDER_LEASE = dt.timedelta(minutes=15)
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
    register, _ = Register.objects.get_or_create(
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
    snapshot = kind.snapshot(on=rows_on)
    edition.rows = snapshot.rows
    edition.entries = snapshot.entries
    edition.row_count = len(edition.rows)
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


def edition_content(edition: Edition) -> EditionContent:
    """The frozen content of an edition, as the renderer takes it."""
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
        rows=edition.rows,
        entries=edition.entries or {},
        # Editions snapshotted before entry pages existed carry neither: no links, and the page size they had.
        link_column=metadata.get("link_column", ""),
        pdf_page_size=metadata.get("pdf_page_size", "A4"),
        # Editions snapshotted before the rest of the wording was editable render with the defaults.
        register_heading=metadata.get("heading", ""),
        team_name=metadata.get("team_name", ""),
        contact_sentence=metadata.get("contact_sentence", ""),
        privacy_notice_sentence=metadata.get("privacy_notice_sentence", ""),
    )


def _claim(edition: Edition, now: dt.datetime, rows_on: dt.date | None = None) -> bool:
    """Take the render lease on a locked edition. False when there is nothing to do or another run holds it."""
    if edition.status == Edition.Status.FAILED:
        # An explicit re-run retries a failed render; the previous error is kept in the log, not here.
        edition.status = Edition.Status.RENDERING
        edition.error = ""
    if edition.status != Edition.Status.RENDERING:
        return False
    if edition.claimed_until and edition.claimed_until > now:
        return False
    edition.claimed_until = now + RENDER_LEASE
    if edition.snapshot_at is None:
        _snapshot(edition, rows_on)
    edition.save()
    return True


def _release(edition_pk: int, claimed_until: dt.datetime | None) -> None:
    """Give the lease back after a transient error, so that the retry can render at once."""
    try:
        Edition.objects.filter(pk=edition_pk, claimed_until=claimed_until).update(claimed_until=None)
    except DatabaseError:
        logger.exception("Could not release the render lease of edition %s", edition_pk)


def _render_and_store(edition: Edition, *, final_status: str) -> Edition:
    """Render outside any transaction, then store the files and set the final status in one transaction."""
    claimed_until = edition.claimed_until
    try:
        try:
            files = render_edition(edition_content(edition))
        except DatabaseError:
            raise
        except Exception as exc:  # Any render error is final for this attempt; it is recorded and reported.
            logger.exception("Rendering edition %s of %s failed", edition.slug, edition.register.slug)
            return _fail(edition, claimed_until=claimed_until, error=f"{type(exc).__name__}: {exc}")

        stem = edition.file_stem
        with transaction.atomic():
            locked = Edition.objects.select_for_update().select_related("register").get(pk=edition.pk)
            if locked.status != Edition.Status.RENDERING or locked.claimed_until != claimed_until:
                # Another run took the edition over after our lease ran out and finished it: keep its result.
                return locked
            locked.files.all().delete()
            for rendered in files.values():
                stored = EditionFile(edition=locked, format=rendered.format, size=rendered.size, sha256=rendered.sha256)
                stored.file.save(f"{stem}.{rendered.format}", ContentFile(rendered.content), save=False)
                stored.save()
            locked.status = final_status
            locked.claimed_until = None
            if final_status == Edition.Status.PUBLISHED:
                locked.published_at = timezone.now()
            locked.save()
            if final_status == Edition.Status.PUBLISHED:
                # The system publishes (a worker); who asked for it is on the edition and its request's row.
                audit_record(actor=None, action=Action.PUBLISHED, subject=locked)
            return locked
    except BaseException:
        _release(edition.pk, claimed_until)
        raise


def _fail(edition: Edition, *, claimed_until: dt.datetime | None, error: str) -> Edition:
    with transaction.atomic():
        locked = Edition.objects.select_for_update().select_related("register").get(pk=edition.pk)
        if locked.status != Edition.Status.RENDERING or locked.claimed_until != claimed_until:
            return locked
        locked.status = Edition.Status.FAILED
        locked.error = error[:5000]
        locked.claimed_until = None
        locked.save()
        audit_record(actor=None, action=Action.PUBLICATION_FAILED, subject=locked, reason=locked.error[:2000])
        if locked.trigger != Edition.Trigger.PREVIEW:
            from publishing import tasks

            tasks.notify_publication_failed.delay_on_commit(edition_id=locked.pk)
    return locked


def edition_publish(
    *,
    register: Register,
    actor: User | None = None,
    edition_id: int | None = None,
    on: dt.date | None = None,
    trigger: str = Edition.Trigger.SCHEDULED,
    rows_on: dt.date | None = None,
) -> Edition:
    """Snapshot, render and publish an edition. Idempotent: safe to run again, concurrently or after a retry.

    With edition_id, it completes an edition requested by "Publish now" (edition_request). Without it, this is
    the scheduled run: at most one edition per register per period, whatever the number of runs.
    `rows_on` takes the rows of another day than the edition's date `on`: the demo's first edition is dated as
    the published seed while showing the demo data as it stands today (its partner's assurance is today's).
    """
    now = timezone.now()
    with transaction.atomic():
        # The register lock serialises claims, so that two runs cannot both create the period's edition.
        locked_register = Register.objects.select_for_update().get(pk=register.pk)
        edition: Edition | None
        if edition_id is not None:
            edition = Edition.objects.select_for_update().get(pk=edition_id, register=locked_register)
        else:
            on = on or timezone.localdate()
            key, _ = period_of(on, locked_register.cadence)
            scheduled = trigger == Edition.Trigger.SCHEDULED
            edition = (
                Edition.objects.select_for_update().filter(register=locked_register, scheduled_period=key).first()
                if scheduled
                else None
            )
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
        claimed = _claim(edition, now, rows_on)
    if not claimed:
        return edition
    return _render_and_store(edition, final_status=Edition.Status.PUBLISHED)


def edition_request(*, actor: User | None, register: Register) -> Edition:
    """ "Publish now": record the request and hand the work to a worker. The page then follows its progress."""
    _require(actor, PUBLISH_PERMISSION, "publish this register")
    from publishing import tasks

    with transaction.atomic():
        locked_register = Register.objects.select_for_update().get(pk=register.pk)
        edition = _new_edition(
            register=locked_register,
            on=timezone.localdate(),
            trigger=Edition.Trigger.STAFF,
            actor=actor,
            status=Edition.Status.RENDERING,
        )
        audit_record(actor=actor, action=Action.PUBLICATION_REQUESTED, subject=edition)
        tasks.publish_edition.delay_on_commit(register_id=locked_register.pk, edition_id=edition.pk)
    return edition


def edition_preview(*, actor: User | None, register: Register, on: dt.date | None = None) -> Edition:
    """Render what would be published today, without publishing it. The result is a draft only staff see."""
    _require(actor, CHANGE_PERMISSION, "preview this register")
    with transaction.atomic():
        locked_register = Register.objects.select_for_update().get(pk=register.pk)
        edition = _new_edition(
            register=locked_register,
            on=on or timezone.localdate(),
            trigger=Edition.Trigger.PREVIEW,
            actor=actor,
            status=Edition.Status.RENDERING,
        )
        # Drafts take slugs too, but theirs are never public; "preview-" keeps them out of the published series.
        edition.slug = f"preview-{edition.pk}"
        _claim(edition, timezone.now())
        audit_record(actor=actor, action=Action.PREVIEW_REQUESTED, subject=edition)
    return _render_and_store(edition, final_status=Edition.Status.DRAFT)


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
    if locked.status != Edition.Status.PUBLISHED:
        raise ValidationError(f"Only a published edition can be withdrawn. This one is {locked.get_status_display()}.")
    locked.status = Edition.Status.WITHDRAWN
    locked.withdrawn_at = timezone.now()
    locked.withdrawn_by = actor
    locked.withdrawal_reason = reason
    locked.save()
    audit_record(actor=actor, action=Action.WITHDRAWN, subject=locked, reason=reason)
    return locked


def edition_failure_notify(*, edition_id: int) -> list[str]:
    """E-mail the approvers and the IG team that an edition failed to render. Returns the addresses written to."""
    edition = Edition.objects.select_related("register").get(pk=edition_id)
    approvers = (
        get_user_model()
        .objects.filter(groups__name=roles.IG_APPROVER, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    recipients = sorted({*approvers, *settings.IG_TEAM_EMAILS})
    if not recipients:
        logger.error("Edition %s failed and there is nobody to tell: set IG_TEAM_EMAILS", edition.pk)
        return []
    link = settings.SITE_URL + reverse("staff:edition", kwargs={"register": edition.register.slug, "pk": edition.pk})
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
