from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.accounts import DEMO_TOTP_SECRET, demo_totp_code


class Command(BaseCommand):
    help = "Print the demo accounts' current second-factor code (DEBUG=true only: the demo accounts exist only then)."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEVELOPMENT:
            raise CommandError("There are no demo accounts with DEBUG off.")
        self.stdout.write(demo_totp_code())
        self.stderr.write(f"(from the demo secret {DEMO_TOTP_SECRET}; a new code every 30 seconds)")
