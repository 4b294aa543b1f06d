from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AgreementsConfig(AppConfig):
    name = "agreements"
    verbose_name = "Agreements"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from agreements import rule_inputs
        from agreements.roles import roles_sync

        # After every app has migrated (and Django has created its permissions), bring the role groups in line.
        post_migrate.connect(roles_sync, dispatch_uid="agreements.roles_sync")
        # The triggers that count changes to the rules' inputs, made again after every migrate: SQLite drops a
        # table's triggers when a migration rebuilds it.
        post_migrate.connect(rule_inputs.install, sender=self, dispatch_uid="agreements.rule_inputs")
