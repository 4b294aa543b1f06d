from django.apps import AppConfig


class DataRequestsConfig(AppConfig):
    # Not "requests": a top-level package of that name would shadow the PyPI `requests` library, which OIDC
    # clients (mozilla-django-oidc) and other dependencies import.
    name = "datarequests"
    label = "datarequests"
    verbose_name = "Data requests"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from agreements.interchange.importers import IMPORTERS
        from datarequests.importers import DataRequestImporter

        # The staff import pages offer every importer in this registry; agreements cannot import this app.
        IMPORTERS[DataRequestImporter.slug] = DataRequestImporter
