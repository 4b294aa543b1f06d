"""Start the test provider: migrate its own database, create its users and the portal's client, then serve.

Run by the `oidc_provider` fixture (tests/conftest.py) as
`python -m tests.oidc_provider.serve PORT`, with OIDC_PROVIDER_DB, OIDC_PROVIDER_KEY and OIDC_PROVIDER_SETUP (JSON:
users, client id and secret, redirect URIs) in the environment.
"""

import json
import os
import sys

import django

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402


def main() -> None:
    port = sys.argv[1]
    setup = json.loads(os.environ["OIDC_PROVIDER_SETUP"])
    call_command("migrate", verbosity=0)
    for user in setup["users"]:
        User.objects.create_user(username=user["username"], email=user["email"], password=user["password"])
    Application.objects.create(
        name="Data sharing register",
        client_id=setup["client_id"],
        client_secret=setup["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(setup["redirect_uris"]),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, use_threading=True, skip_checks=True)


if __name__ == "__main__":
    main()
