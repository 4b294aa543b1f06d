"""Thin Celery tasks: IDs in, one service call, transient errors retried."""

from celery import shared_task
from django.db import OperationalError

from agreements import reminders, rule_inputs, services


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def expire_agreements() -> list[str]:
    """Daily: active agreements past their end date become expired. Idempotent."""
    return services.agreements_expire()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def recheck_linkages() -> list[int]:
    """Daily: active linkages that are no longer permitted (an agreement ended) are marked so. Idempotent."""
    return services.linkages_recheck()


# SMTP failures (OSError covers smtplib's errors and refused connections) are retried: reminders already sent are
# recorded, so a retry sends only the rest.
@shared_task(autoretry_for=(OperationalError, OSError), retry_backoff=True, max_retries=5)
def send_reminders() -> int:
    """Daily: e-mail the IG team and owners about what is about to lapse. Sends each reminder once."""
    return len(reminders.reminders_send())


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def compact_rule_inputs() -> int:
    """Daily: fold the day's counted changes to the rules' inputs into one row (the version stays as it is)."""
    return rule_inputs.compact()
