from celery import shared_task
from django.db import OperationalError

from audit.services import audit_prune


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def prune_audit_events() -> int:
    """Daily: events past the retention period (AUDIT_RETENTION_DAYS) are removed. Idempotent."""
    return audit_prune()
