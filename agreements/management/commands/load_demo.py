from django.conf import settings
from django.core.management.base import BaseCommand

from agreements.demo import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = (
        "Load the demo register (SL/25/1 to Leicester City Council, from shared/seeds/000_*) and, with DEBUG on, "
        "the demo accounts. Safe to run again: it changes nothing the second time."
    )

    def handle(self, *args: object, **options: object) -> None:
        accounts = load_demo(with_accounts=settings.DEBUG)
        # The demo is the whole published register, its wording included; publishing builds on agreements, so the
        # project-level command calls both rather than agreements.demo importing publishing.
        from publishing.demo import load_demo_wording

        load_demo_wording()
        self.stdout.write(self.style.SUCCESS("Demo register loaded."))
        if not accounts:
            self.stdout.write("DEBUG is off, so no demo accounts were created.")
            return
        self.stdout.write(f"Demo accounts (password: {DEMO_PASSWORD}):")
        for account in accounts:
            self.stdout.write(f"  {account.username:<12} {account.description}")
