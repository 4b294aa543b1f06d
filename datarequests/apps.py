from django.apps import AppConfig


class DataRequestsConfig(AppConfig):
    # Not "requests": a top-level package of that name would shadow the PyPI `requests` library, which OIDC
    # clients (mozilla-django-oidc) and other dependencies import.
    name = "datarequests"
    label = "datarequests"
    verbose_name = "Data requests"
    default_auto_field = "django.db.models.BigAutoField"
