from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from demo.accounts import DEMO_TOTP_SECRET, demo_totp_enrol
from demo.agreements import DEMO_PASSWORD, load_demo
from demo.datarequests import load_demo_requests
from demo.publishing import load_demo_wording


class Command(BaseCommand):
    help = (
        "Load the demo register (SL/25/1 to Leicester City Council, from shared/seeds/000_*) and, with DEBUG on, "
        "the demo accounts. Safe to run again: it changes nothing the second time."
    )

    def handle(self, *args: object, **options: object) -> None:
        accounts = load_demo(with_accounts=settings.DEVELOPMENT)
        load_demo_wording()
        load_demo_requests()
        self.stdout.write(self.style.SUCCESS("Demo register loaded."))
        if not accounts:
            self.stdout.write("DEBUG is off, so no demo accounts were created.")
            return
        # The second factor every demo account shares.
        demo_totp_enrol(get_user_model().objects.filter(username__in=[a.username for a in accounts]))
        self.stdout.write(f"Demo accounts (password: {DEMO_PASSWORD}):")
        for account in accounts:
            self.stdout.write(f"  {account.username:<12} {account.description}")
        self.stdout.write(
            f"Second factor: add the secret {DEMO_TOTP_SECRET} to any authenticator app "
            "(or run: python manage.py demo_totp)."
        )
