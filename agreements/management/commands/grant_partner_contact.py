from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from agreements import services
from agreements.models import Organisation, normalise_ods_code


class Command(BaseCommand):
    help = "Make a user a partner contact for an organisation (or, with --revoke, stop them being one)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("ods_code", help="The organisation's ODS code, e.g. 509")
        parser.add_argument("--revoke", action="store_true", help="Remove the rights instead of granting them")
        parser.add_argument("--reason", default="Granted from the command line")

    def handle(self, *args: object, username: str, ods_code: str, revoke: bool, reason: str, **options: object) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"There is no user called {username!r}") from None
        try:
            organisation = Organisation.objects.get(ods_code=normalise_ods_code(ods_code))
        except Organisation.DoesNotExist:
            raise CommandError(f"There is no organisation with ODS code {ods_code!r}") from None
        if revoke:
            services.partner_contact_revoke(actor=None, user=user, organisation=organisation, reason=reason)
            self.stdout.write(self.style.SUCCESS(f"{username} is no longer a partner contact for {organisation}"))
        else:
            services.partner_contact_grant(actor=None, user=user, organisation=organisation, reason=reason)
            self.stdout.write(self.style.SUCCESS(f"{username} is now a partner contact for {organisation}"))
