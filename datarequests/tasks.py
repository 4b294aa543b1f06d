"""Thin Celery tasks: one service call, transient errors retried."""

from celery import shared_task
from django.db import OperationalError

from datarequests import services


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def lapse_requests() -> list[str]:
    """Daily: requests whose clarification went unanswered too long lapse. Idempotent: a lapsed request is no
    longer waiting, so a re-run finds nothing."""
    return [request.reference for request in services.requests_lapse()]
