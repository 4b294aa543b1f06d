# Exported so that `@shared_task` binds to this app when Django starts (Celery's Django guide).
from register.celery import app as celery_app

__all__ = ("celery_app",)
