"""Thin Celery tasks: IDs and storage keys in, one service or pipeline call, transient errors retried.

An edition is published as a chord: one task per part (each PDF piece with its segment, and each text format) on
every worker, in parallel, then a second chord for the furniture stamped on the pages (it needs their number), then
one task that joins the PDF and publishes. Every task is idempotent and may run twice (acks late: a worker killed
mid-task leaves its message to another worker); the edition's attempt number decides who may publish, and the
sweep starts again any edition whose worker died (README, "Reliability").
"""

from __future__ import annotations

from celery import chord, shared_task

from publishing import pipeline, services
from publishing.models import Register

RETRY = {"autoretry_for": services.TRANSIENT_ERRORS, "retry_backoff": True, "retry_backoff_max": 300, "max_retries": 8}


@shared_task(ignore_result=True, **RETRY)
def publish_edition(register_id: int | None = None, edition_id: int | None = None, register: str = "") -> int:
    """Publish a register: the scheduled run (by slug, from beat), or an edition asked for by "Publish now",
    "Preview" or the sweep. Starts an attempt and hands its parts to the workers."""
    target = Register.objects.get(pk=register_id) if register_id else None
    if target is None and edition_id is not None:
        target = Register.objects.get(editions__pk=edition_id)
    if target is None:
        target = services.register_ensure(slug=register)
    edition, attempt = services.edition_start(register=target, edition_id=edition_id)
    if attempt is None:
        return edition.pk
    if publish_edition.app.conf.task_always_eager:
        # No broker (make run, the tests): the same parts, in a local process pool.
        return services.edition_render_here(edition_id=edition.pk, attempt=attempt).pk
    missing = services.edition_plan(edition_id=edition.pk, attempt=attempt)
    parts = [render_piece.si(edition.pk, attempt, key, slot) for key, slot in missing]
    parts += [render_format.si(edition.pk, attempt, fmt) for fmt in pipeline.TEXT_FORMATS]
    chord(parts)(finish_edition.si(edition.pk, attempt))
    return edition.pk


@shared_task(**RETRY)
def render_piece(edition_id: int, attempt: int, key: str, slot: int | None = None) -> str:
    """One piece of the PDF and, given its slot, its segment (the furniture has none). Rendered even if its attempt
    was replaced meanwhile: the next attempt uses it."""
    try:
        if slot is None:
            pipeline.render_piece(key)
        else:
            pipeline.render_segment(key, slot)
    except services.TRANSIENT_ERRORS:
        raise
    except Exception as exc:
        services.edition_fail(edition_id=edition_id, attempt=attempt, error=f"{type(exc).__name__}: {exc}")
        return key
    services.edition_progress(edition_id=edition_id, attempt=attempt)
    return key


@shared_task(**RETRY)
def render_format(edition_id: int, attempt: int, fmt: str) -> str:
    if not services.edition_is_current(edition_id=edition_id, attempt=attempt):
        return fmt
    try:
        services.edition_render_format(edition_id=edition_id, attempt=attempt, fmt=fmt)
    except services.TRANSIENT_ERRORS:
        raise
    except Exception as exc:
        services.edition_fail(edition_id=edition_id, attempt=attempt, error=f"{type(exc).__name__}: {exc}")
        return fmt
    services.edition_progress(edition_id=edition_id, attempt=attempt)
    return fmt


@shared_task(ignore_result=True, **RETRY)
def finish_edition(edition_id: int, attempt: int) -> int:
    """Once the pieces are rendered: the furniture for their pages, as a second chord that comes back here, then
    the assembly and publication."""
    if not services.edition_is_current(edition_id=edition_id, attempt=attempt):
        return edition_id
    furniture = services.edition_plan_furniture(edition_id=edition_id, attempt=attempt)
    if furniture:
        chord([render_piece.si(edition_id, attempt, key) for key in furniture])(finish_edition.si(edition_id, attempt))
        return edition_id
    return services.edition_finish(edition_id=edition_id, attempt=attempt).pk


@shared_task(ignore_result=True, **RETRY)
def sweep_publications() -> list[int]:
    """From beat, every PUBLISH_SWEEP_SECONDS: start again every edition whose render lease ran out."""
    stalled = services.editions_stalled()
    for edition_id in stalled:
        publish_edition.delay(edition_id=edition_id)
    return stalled


@shared_task(ignore_result=True, **RETRY)
def prune_pieces() -> int:
    """Daily: the stored PDF pieces that no current edition uses, once they are PUBLISH_PIECES_KEEP_DAYS old."""
    return services.pieces_prune()


@shared_task(autoretry_for=(*services.TRANSIENT_ERRORS, OSError), retry_backoff=True, max_retries=5)
def notify_rows_dropped(edition_id: int) -> list[str]:
    return services.edition_drops_notify(edition_id=edition_id)


@shared_task(autoretry_for=(*services.TRANSIENT_ERRORS, OSError), retry_backoff=True, max_retries=5)
def notify_publication_failed(edition_id: int) -> list[str]:
    return services.edition_failure_notify(edition_id=edition_id)


@shared_task(autoretry_for=(*services.TRANSIENT_ERRORS, OSError), retry_backoff=True, max_retries=5)
def refresh_public_pages() -> dict[str, int] | None:
    """Render the public pages of what is published now (after a publication or a withdrawal)."""
    from publishing import pages

    return pages.public_pages_refresh()
