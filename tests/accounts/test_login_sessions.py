"""Idle sessions end; DBDECK_HTTPS makes cookies Secure, redirects to HTTPS and sends HSTS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from accounts.sessions import LAST_SEEN_KEY
from audit.models import AuditEvent
from config.https import https_settings
from tests.fixtures import PASSWORD, People, client_for


def _age_session(client: Client, seconds: int) -> None:
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - seconds
    session.save()


def test_an_idle_session_is_logged_out_after_the_idle_period(people: People, settings: Any) -> None:
    settings.DBDECK_SESSION_IDLE_MINUTES = 60
    client = client_for(people.bob)
    assert client.get(reverse("connections:list")).status_code == 200
    _age_session(client, 61 * 60)
    response = client.get(reverse("connections:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.get(action="logout").detail["reason"] == "idle"


def test_a_session_used_within_the_idle_period_stays_and_is_refreshed(people: People, settings: Any) -> None:
    settings.DBDECK_SESSION_IDLE_MINUTES = 60
    client = client_for(people.bob)
    _age_session(client, 59 * 60)
    assert client.get(reverse("connections:list")).status_code == 200
    assert int(time.time()) - client.session[LAST_SEEN_KEY] < 5


def test_requests_within_a_minute_do_not_rewrite_the_session(people: People) -> None:
    client = client_for(people.bob)
    _age_session(client, 10)
    stamped = client.session[LAST_SEEN_KEY]
    assert client.get(reverse("connections:list")).status_code == 200
    assert client.session[LAST_SEEN_KEY] == stamped


def test_the_session_cookie_lives_as_long_as_the_idle_period() -> None:
    assert django_settings.SESSION_COOKIE_AGE == django_settings.DBDECK_SESSION_IDLE_MINUTES * 60


def test_with_https_on_cookies_are_secure_and_hsts_is_sent(people: People, settings: Any) -> None:
    for name, value in https_settings(True).items():
        setattr(settings, name, value)
    client = Client()
    response = client.post(reverse("login"), {"username": "bob", "password": PASSWORD}, secure=True)
    assert response.status_code == 302
    assert response.cookies["sessionid"]["secure"] is True
    assert response.cookies["sessionid"]["httponly"] is True
    page = Client().get(reverse("login"), secure=True)
    assert page.cookies["csrftoken"]["secure"] is True
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_with_https_on_plain_http_is_redirected_except_the_health_probe(people: People, settings: Any) -> None:
    for name, value in https_settings(True).items():
        setattr(settings, name, value)
    response = Client().get(reverse("login"))
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    assert Client().get(reverse("healthz")).status_code in (200, 503)


def _settings_under(env: dict[str, str]) -> dict[str, Any]:
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ('SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
        "'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_PROXY_SSL_HEADER')}))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("DBDECK_HTTPS", "DJANGO_SECURE_COOKIES")}
    full = {**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    out = subprocess.run(
        [sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_dbdeck_https_turns_on_every_https_setting() -> None:
    values = _settings_under({"DBDECK_HTTPS": "1", "DBDECK_PROXY_SSL_HEADER": "X-Forwarded-Proto"})
    assert values == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }


def test_the_old_django_secure_cookies_name_still_works() -> None:
    values = _settings_under({"DJANGO_SECURE_COOKIES": "1"})
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31536000


def test_https_is_off_by_default() -> None:
    values = _settings_under({})
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
