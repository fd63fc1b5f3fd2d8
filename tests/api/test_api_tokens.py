"""Personal access tokens: made on the Tokens page and shown once, stored hashed, limited, revocable, rate-limited."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role
from api.models import AccessToken
from audit.models import AuditEvent
from connections.models import Connection
from tests.api.conftest import bearer, token_for
from tests.fixtures import People, client_for

API = "/api/v1"


def test_the_tokens_page_shows_a_new_secret_once_and_keeps_only_its_hash(people: People) -> None:
    client = client_for(people.bob)
    response = client.post(reverse("tokens"), {"name": "ci <deploy>", "ceiling": "editor", "days": "30"}, follow=True)
    assert response.redirect_chain == [(reverse("tokens"), 302)]
    assert "new_token" not in str(dict(client.session))
    secret = re.search(r"dbd_[A-Za-z0-9_-]{43}", response.content.decode()).group(0)
    token = AccessToken.objects.get(user=people.bob)
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(AccessToken.objects.values().get())
    assert "ci &lt;deploy&gt;" in response.content.decode()
    again = client.get(reverse("tokens")).content.decode()
    assert secret not in again and token.hint in again
    assert AuditEvent.objects.filter(action="token.create", actor=people.bob, target="ci <deploy>").exists()
    assert bearer(secret).get(f"{API}/me").json()["token"]["ceiling"] == "editor"


def test_a_token_never_exceeds_its_ceiling(acme_sqlite: Connection, people: People) -> None:
    viewer_token = token_for(people.alice, ceiling="viewer")
    response = bearer(viewer_token).delete(f"{API}/connections/{acme_sqlite.pk}")
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "This needs the admin role on Acme shop. This token is limited to the viewer role."
    )
    listed = bearer(viewer_token).get(f"{API}/connections").json()["items"]
    assert [c["role"] for c in listed] == ["viewer"]
    assert Connection.objects.filter(pk=acme_sqlite.pk).exists()


def test_a_token_loses_rights_the_moment_its_owner_does(acme_sqlite: Connection, people: People) -> None:
    secret = token_for(people.bob, ceiling="admin")
    url = f"{API}/connections/{acme_sqlite.pk}"
    assert bearer(secret).get(url).json()["role"] == "editor"
    Membership.objects.filter(user=people.bob).update(role=Role.VIEWER)
    assert bearer(secret).get(url).json()["role"] == "viewer"
    Membership.objects.filter(user=people.bob).delete()
    assert bearer(secret).get(url).status_code == 404
    people.bob.is_active = False
    people.bob.save()
    assert bearer(secret).get(f"{API}/me").status_code == 401


def test_a_team_scoped_token_sees_only_that_team(acme_sqlite: Connection, people: People) -> None:
    globex_conn = Connection.objects.create(
        team=people.globex, name="Globex db", engine="sqlite", database=acme_sqlite.database
    )
    Membership.objects.create(user=people.alice, team=people.globex, role=Role.ADMIN)
    secret = token_for(people.alice, team=people.globex)
    assert bearer(secret).get(f"{API}/connections/{acme_sqlite.pk}").status_code == 404
    assert [c["name"] for c in bearer(secret).get(f"{API}/connections").json()["items"]] == ["Globex db"]
    assert bearer(secret).get(f"{API}/connections/{globex_conn.pk}").status_code == 200


def test_revoked_expired_and_made_up_tokens_answer_401(people: People) -> None:
    secret = token_for(people.carol)
    token = AccessToken.objects.get(user=people.carol)
    client = client_for(people.carol)
    assert client.post(reverse("token_revoke", args=[token.pk])).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="token.revoke", actor=people.carol).exists()
    expired = token_for(people.carol)
    AccessToken.objects.filter(revoked_at=None).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    for bad in (secret, expired, "dbd_" + "x" * 43, "not a token", "dbd_'\"<script>\x00", "dbd_" + "a" * 5000):
        response = bearer(bad).get(f"{API}/me")
        assert response.status_code == 401, bad
        assert response["Content-Type"] == "application/problem+json"
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_nobody_revokes_another_persons_token(people: People) -> None:
    token_for(people.alice)
    token = AccessToken.objects.get(user=people.alice)
    for who in (people.bob, people.charlie):
        assert client_for(who).post(reverse("token_revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_last_use_is_recorded(people: People) -> None:
    secret = token_for(people.carol)
    bearer(secret).get(f"{API}/me")
    token = AccessToken.objects.get(user=people.carol)
    assert token.last_used_at is not None and token.last_used_ip == "127.0.0.1"


def test_past_the_rate_limit_the_api_answers_429_with_retry_after(people: People, settings) -> None:
    settings.DBDECK_API_RATE_LIMIT = 3
    settings.DBDECK_API_RATE_WINDOW = 3600
    secret, other = token_for(people.carol), token_for(people.bob)
    statuses = [bearer(secret).get(f"{API}/me").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = bearer(secret).get(f"{API}/me")
    assert limited["Content-Type"] == "application/problem+json"
    assert 1 <= int(limited["Retry-After"]) <= 3600
    assert bearer(other).get(f"{API}/me").status_code == 200


def test_the_session_works_for_the_browser_and_writes_need_the_csrf_token(
    acme_sqlite: Connection, people: People
) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(people.carol)
    assert client.get(f"{API}/connections").json()["items"][0]["name"] == "Acme shop"
    refused = client.post(f"{API}/connections/{acme_sqlite.pk}/test")
    assert refused.status_code == 403 and refused["Content-Type"] == "application/problem+json"
    client.get(reverse("tokens"))
    csrf = client.cookies["csrftoken"].value
    assert client.post(f"{API}/connections/{acme_sqlite.pk}/test", HTTP_X_CSRFTOKEN=csrf).status_code == 200
