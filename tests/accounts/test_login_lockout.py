"""Repeated failed logins lock the username and the address (django-axes), on both login pages."""

from __future__ import annotations

from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from tests.fixtures import PASSWORD, People


def _login(client: Client, username: str, password: str, address: str = "10.0.0.1", url: str = "") -> int:
    response = client.post(url or reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)
    return response.status_code


def _fail_five_times(username: str = "alice", address: str = "10.0.0.1", url: str = "") -> None:
    client = Client()
    for _ in range(5):
        _login(client, username, "wrong password", address, url)


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_five_bad_passwords_lock_alice_out_even_with_the_right_password(people: People) -> None:
    _fail_five_times()
    client = Client()
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429
    assert "Login paused" in response.content.decode()
    assert "dbdeck_unlock" in response.content.decode()
    assert not _logged_in(client)


def test_four_bad_passwords_do_not_lock(people: People) -> None:
    client = Client()
    for _ in range(4):
        _login(client, "alice", "wrong password")
    assert _login(client, "alice", PASSWORD) == 302
    assert _logged_in(client)


def test_a_locked_username_is_locked_from_another_address_too(people: People) -> None:
    _fail_five_times(address="10.0.0.1")
    client = Client()
    assert _login(client, "alice", PASSWORD, address="10.9.9.9") == 429
    assert not _logged_in(client)


def test_an_address_guessing_many_usernames_is_locked_for_everyone(people: People) -> None:
    client = Client()
    for name in ("alice", "bob", "carol", "nobody", "root"):
        _login(client, name, "wrong password", address="10.6.6.6")
    assert _login(client, "bob", PASSWORD, address="10.6.6.6") == 429
    assert _login(Client(), "bob", PASSWORD, address="10.0.0.2") == 302


def test_failures_on_the_admin_login_count_too(people: People) -> None:
    _fail_five_times(url=reverse("admin:login"))
    assert _login(Client(), "alice", PASSWORD) == 429


def test_the_lockout_is_written_to_the_audit_trail(people: People) -> None:
    _fail_five_times()
    event = AuditEvent.objects.filter(action="login.locked").first()
    assert event is not None
    assert event.target == "alice"
    assert event.ip == "10.0.0.1"


def test_unlocking_lets_alice_in_and_is_audited(people: People) -> None:
    _fail_five_times()
    call_command("dbdeck_unlock", "alice")
    client = Client()
    assert _login(client, "alice", PASSWORD, address="10.9.9.9") == 302
    assert _logged_in(client)
    assert AuditEvent.objects.filter(action="login.unlocked", target="alice").exists()


def test_the_cool_off_comes_from_the_setting(people: People, settings: object) -> None:
    settings.AXES_COOLOFF_TIME = 0.5  # type: ignore[attr-defined]
    _fail_five_times()
    response = Client().post(reverse("login"), {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert "0:30:00" in response.content.decode()
