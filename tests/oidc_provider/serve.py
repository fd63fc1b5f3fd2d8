"""Migrate, seed and serve the test provider: `python -m tests.oidc_provider.serve`.

Seeds a confidential client (id/secret from the environment) allowed to redirect to
OIDC_TEST_REDIRECT_URI, and users: dana (groups dba-admins, analysts), erin (no groups),
both with the password in OIDC_TEST_USER_PASSWORD.
"""

from __future__ import annotations

import os

import django
from django.core.management import call_command


def seed() -> None:
    from django.contrib.auth.models import Group, User
    from oidc_provider.models import Client, ResponseType

    password = os.environ["OIDC_TEST_USER_PASSWORD"]
    dana = User.objects.create_user("dana", email="dana@example.test", password=password)
    User.objects.create_user("erin", email="erin@example.test", password=password)
    for name in ("dba-admins", "analysts"):
        dana.groups.add(Group.objects.create(name=name))
    client = Client.objects.create(
        name="dbdeck",
        client_type="confidential",
        client_id=os.environ["OIDC_TEST_CLIENT_ID"],
        client_secret=os.environ["OIDC_TEST_CLIENT_SECRET"],
        jwt_alg="RS256",
        require_consent=True,
        reuse_consent=False,
    )
    client.redirect_uris = [os.environ["OIDC_TEST_REDIRECT_URI"]]
    client.scope = ["openid", "email", "profile", "groups"]
    client.save()
    client.response_types.add(ResponseType.objects.get(value="code"))


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"
    django.setup()
    call_command("migrate", verbosity=0)
    call_command("creatersakey")
    seed()
    port = os.environ["OIDC_TEST_PROVIDER_PORT"]
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, skip_checks=True)


if __name__ == "__main__":
    main()
