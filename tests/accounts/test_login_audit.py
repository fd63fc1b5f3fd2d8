"""Logins, failed logins and logouts each leave one audit row; passwords never do."""

from __future__ import annotations

import json

from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from tests.fixtures import PASSWORD, People


def test_a_successful_login_is_audited_as_login_ok(people: People) -> None:
    Client().post(reverse("login"), {"username": "bob", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    event = AuditEvent.objects.get(action="login.ok")
    assert event.actor == people.bob
    assert event.ip == "10.1.2.3"
    assert event.detail["method"] == "password"


def test_a_failed_login_is_audited_with_the_username_and_without_the_password(people: People) -> None:
    Client().post(reverse("login"), {"username": "bob", "password": "hunter2-secret"})
    event = AuditEvent.objects.get(action="login.failed")
    assert event.target == "bob"
    assert event.actor is None
    assert "hunter2-secret" not in json.dumps(event.detail) + event.target


def test_a_hostile_attempted_username_is_cut_to_a_sane_length(people: People) -> None:
    Client().post(reverse("login"), {"username": "<script>" + "x" * 5000, "password": "p"})
    event = AuditEvent.objects.get(action="login.failed")
    assert len(event.target) <= 150
    assert event.target.startswith("<script>")


def test_a_logout_is_audited(people: People) -> None:
    client = Client()
    client.post(reverse("login"), {"username": "carol", "password": PASSWORD})
    client.post(reverse("logout"))
    event = AuditEvent.objects.get(action="logout")
    assert event.actor == people.carol
    assert event.detail["reason"] == "user"


def test_an_admin_site_login_is_audited_as_via_admin(people: People) -> None:
    people.alice.is_staff = True
    people.alice.save()
    Client().post(reverse("admin:login"), {"username": "alice", "password": PASSWORD})
    assert AuditEvent.objects.get(action="login.ok").detail["via"] == "admin"
