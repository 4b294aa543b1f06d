from django.conf import settings
from django.core.management.base import BaseCommand

from demo.agreements import DEMO_PASSWORD, load_demo
from demo.publishing import load_demo_wording


class Command(BaseCommand):
    help = (
        "Load the demo register (SL/25/1 to Leicester City Council, from shared/seeds/000_*) and, with DEBUG on, "
        "the demo accounts. Safe to run again: it changes nothing the second time."
    )

    def handle(self, *args: object, **options: object) -> None:
        accounts = load_demo(with_accounts=settings.DEVELOPMENT)
        load_demo_wording()
        self.stdout.write(self.style.SUCCESS("Demo register loaded."))
        if not accounts:
            self.stdout.write("DEBUG is off, so no demo accounts were created.")
            return
        self.stdout.write(f"Demo accounts (password: {DEMO_PASSWORD}):")
        for account in accounts:
            self.stdout.write(f"  {account.username:<12} {account.description}")
