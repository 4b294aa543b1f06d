"""The Celery app, wired the standard Django way.

https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
Settings prefixed CELERY_ in register/settings.py configure it. With no CELERY_BROKER_URL, tasks run eagerly
in-process; with one, they go to a real worker.
"""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "register.settings")

app = Celery("register")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _settle_worker_process(**_: object) -> None:
    """Each worker process, once forked with the app loaded: see publishing.pipeline.settle_worker."""
    from publishing.pipeline import settle_worker

    settle_worker()
