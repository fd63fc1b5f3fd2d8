"""Single sign-on against a real OpenID provider (django-oidc-provider) running in its own process.

The test plays the browser: dbdeck's SSO button, the provider's login form and consent page,
then the redirect back to dbdeck, whose backend fetches tokens over real HTTP.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, OidcIdentity, Role
from audit.models import AuditEvent
from tests.fixtures import People
from tests.services import Process, _wait, free_port

CLIENT_ID = "dbdeck-test"
CLIENT_SECRET = "provider-test-secret"
USER_PASSWORD = "provider user password"
TEAM_MAP = "dba-admins=Acme:admin,analysts=Acme:viewer,analysts=Reports:editor"


@dataclass
class Provider:
    url: str

    @property
    def issuer(self) -> str:
        return f"{self.url}/openid"


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[Provider]:
    port = free_port()
    state = Path(tempfile.mkdtemp(prefix="dbdeck-oidc-"))
    env = {
        **os.environ,
        "OIDC_TEST_PROVIDER_DIR": str(state),
        "OIDC_TEST_PROVIDER_PORT": str(port),
        "OIDC_TEST_USER_PASSWORD": USER_PASSWORD,
        "OIDC_TEST_CLIENT_ID": CLIENT_ID,
        "OIDC_TEST_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_TEST_REDIRECT_URI": "http://testserver/oidc/callback/",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    root = Path(__file__).resolve().parents[2]
    process = Process(
        "oidc-provider", [sys.executable, "-m", "tests.oidc_provider.serve"], state / "log", env=env, cwd=root
    )
    provider = Provider(url=f"http://127.0.0.1:{port}")
    try:
        _wait(
            process,
            lambda: requests.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=2).raise_for_status(),
            "the test OpenID provider",
        )
        yield provider
    finally:
        process.stop()


@pytest.fixture
def sso(oidc_provider: Provider, settings: Any) -> Provider:
    settings.DBDECK_OIDC_ISSUER = oidc_provider.issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.DBDECK_OIDC_TEAM_MAP = TEAM_MAP
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "accounts.oidc_backend.TeamMappingOIDCBackend",
    ]
    return oidc_provider


class _Inputs(HTMLParser):
    """The hidden inputs of the first form on a page: what a browser would post back."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("type") == "hidden" and values.get("name"):
            self.fields[values["name"] or ""] = values.get("value") or ""


def hidden_inputs(html: str) -> dict[str, str]:
    parser = _Inputs()
    parser.feed(html)
    return parser.fields


def sso_login(provider: Provider, username: str, dbdeck: Client | None = None) -> tuple[Client, Any]:
    """Drive the whole authorization-code flow; returns dbdeck's client and its callback response."""
    dbdeck = dbdeck or Client()
    browser = requests.Session()
    start = dbdeck.get(reverse("oidc_authentication_init"))
    assert start.status_code == 302 and start["Location"].startswith(provider.issuer + "/authorize")
    to_login = browser.get(start["Location"], allow_redirects=False, timeout=10)
    login_url = urljoin(provider.url, to_login.headers["Location"])
    form = browser.get(login_url, timeout=10)
    fields = {**hidden_inputs(form.text), "username": username, "password": USER_PASSWORD}
    signed_in = browser.post(login_url, data=fields, allow_redirects=False, timeout=10)
    assert signed_in.status_code == 302, signed_in.text[:500]
    consent = browser.get(urljoin(provider.url, signed_in.headers["Location"]), timeout=10)
    assert "Request for Permission" in consent.text
    allowed = browser.post(
        f"{provider.issuer}/authorize",
        data={**hidden_inputs(consent.text), "allow": "Authorize"},
        allow_redirects=False,
        timeout=10,
    )
    back = urlsplit(allowed.headers["Location"])
    assert back.netloc == "testserver" and back.path == reverse("oidc_authentication_callback")
    return dbdeck, dbdeck.get(f"{back.path}?{back.query}")


def test_sso_login_creates_the_user_with_the_mapped_memberships(people: People, sso: Provider) -> None:
    dbdeck, response = sso_login(sso, "dana")
    assert response.status_code == 302
    assert response["Location"] == reverse("connections:list")
    user = User.objects.get(oidc_identities__issuer=sso.issuer)
    assert user.username == "dana"
    assert user.email == "dana@example.test"
    roles = dict(Membership.objects.filter(user=user).values_list("team__name", "role"))
    assert roles == {"Acme": Role.ADMIN, "Reports": Role.EDITOR}  # highest role wins within a team
    assert dbdeck.get(reverse("connections:list")).status_code == 200
    assert AuditEvent.objects.filter(action="login.ok", actor=user, detail__method="sso").exists()


def test_a_user_with_no_mapped_group_gets_no_teams(people: People, sso: Provider) -> None:
    _, response = sso_login(sso, "erin")
    assert response.status_code == 302
    user = User.objects.get(username="erin")
    assert not Membership.objects.filter(user=user).exists()


def test_memberships_follow_the_groups_on_every_login(people: People, sso: Provider, settings: Any) -> None:
    sso_login(sso, "dana")
    user = User.objects.get(username="dana")
    settings.DBDECK_OIDC_TEAM_MAP = "analysts=Acme:viewer,dba-admins=Ops:admin,nobody=Reports:viewer"
    sso_login(sso, "dana")
    roles = dict(Membership.objects.filter(user=user).values_list("team__name", "role"))
    assert roles == {"Acme": Role.VIEWER, "Ops": Role.ADMIN}
    assert OidcIdentity.objects.filter(user=user).count() == 1
    assert AuditEvent.objects.filter(action="member.role", target="dana", detail__via="sso").exists()


def test_an_sso_user_never_takes_over_a_local_account_of_the_same_name(people: People, sso: Provider) -> None:
    local = User.objects.create_user("dana", password="local password")
    sso_login(sso, "dana")
    sso_user = User.objects.get(oidc_identities__issuer=sso.issuer)
    assert sso_user != local
    assert sso_user.username.startswith("dana-")


def test_an_sso_session_is_not_sent_to_enrolment_when_two_factor_is_required(
    people: People, sso: Provider, settings: Any
) -> None:
    settings.DBDECK_REQUIRE_2FA = "all"
    dbdeck, _ = sso_login(sso, "dana")
    assert dbdeck.get(reverse("connections:list")).status_code == 200


def test_the_login_page_offers_sso_only_when_configured(people: People, sso: Provider, settings: Any) -> None:
    assert "single sign-on" in Client().get(reverse("login")).content.decode()
    settings.DBDECK_OIDC_ISSUER = ""
    assert "single sign-on" not in Client().get(reverse("login")).content.decode()
    assert Client().get(reverse("oidc_authentication_init")).status_code == 404


def test_without_configuration_nothing_of_mozilla_django_oidc_is_imported() -> None:
    import subprocess

    code = (
        "import django, sys; django.setup(); from django.test import Client; "
        "Client().get('/login/'); print(any(m.startswith('mozilla_django_oidc') for m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBDECK_OIDC")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr[-2000:]


def test_a_team_map_entry_that_does_not_parse_is_a_configuration_error() -> None:
    from django.core.exceptions import ImproperlyConfigured

    from accounts.oidc_teams import parse_team_map

    assert parse_team_map("a=Acme:admin, b = Team: with colon:viewer") == {
        "a": [("Acme", Role.ADMIN)],
        "b": [("Team: with colon", Role.VIEWER)],
    }
    with pytest.raises(ImproperlyConfigured, match="group=Team:role"):
        parse_team_map("a=Acme:owner")
