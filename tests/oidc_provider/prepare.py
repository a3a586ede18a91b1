"""Prepares the test provider's database: its tables, its users and the tracker as a client.

``python -m tests.oidc_provider.prepare CONFIG``, with DJANGO_SETTINGS_MODULE set to
tests.oidc_provider.settings; CONFIG is JSON: ``{"client_id", "client_secret", "redirect_uris":
[...], "users": [{"username", "email", "password"}, ...]}``."""

import json
import sys

import django
from django.core.management import call_command


def prepare(config: dict) -> None:
    django.setup()
    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import User
    from oauth2_provider.models import Application

    for person in config["users"]:
        User.objects.create_user(**person)
    Application.objects.create(
        name="Compliance tracker",
        client_id=config["client_id"],
        client_secret=config["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(config["redirect_uris"]),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,  # no consent page: the company's own directory
    )


if __name__ == "__main__":
    prepare(json.loads(sys.argv[1]))
