"""Thin Celery tasks: IDs in, one service call, transient errors retried."""

from celery import shared_task
from django.db import OperationalError

from agreements import services


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def expire_agreements() -> list[str]:
    """Daily: active agreements past their end date become expired. Idempotent."""
    return services.agreements_expire()
