"""Thin Celery tasks: IDs in, one service call, transient errors retried with backoff."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from publishing import services
from publishing.models import Register

# Database hiccups (a dropped connection, a lock timeout, a serialisation failure) are worth retrying; a render
# error is not, and the service records it on the edition instead of raising.
TRANSIENT_ERRORS = (DatabaseError, ConnectionError, TimeoutError)


@shared_task(autoretry_for=TRANSIENT_ERRORS, retry_backoff=True, retry_backoff_max=600, max_retries=8)
def publish_edition(register_id: int | None = None, edition_id: int | None = None, register: str = "") -> int:
    """Publish a register: the scheduled run (by slug, from beat) or a requested edition ("Publish now")."""
    target = Register.objects.get(pk=register_id) if register_id else services.register_ensure(slug=register)
    return services.edition_publish(register=target, edition_id=edition_id).pk


@shared_task(autoretry_for=(*TRANSIENT_ERRORS, OSError), retry_backoff=True, max_retries=5)
def notify_publication_failed(edition_id: int) -> list[str]:
    return services.edition_failure_notify(edition_id=edition_id)


@shared_task(autoretry_for=(*TRANSIENT_ERRORS, OSError), retry_backoff=True, max_retries=5)
def refresh_public_pages() -> dict[str, int] | None:
    """Render the public pages of what is published now (after a publication or a withdrawal)."""
    from publishing import pages

    return pages.public_pages_refresh()
