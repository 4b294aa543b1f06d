"""The Celery app, wired the standard Django way.

https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
Settings prefixed CELERY_ in register/settings.py configure it. With no CELERY_BROKER_URL, tasks run eagerly
in-process; with one, they go to a real worker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "register.settings")

app = Celery("register")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
