"""Secrets are encrypted at rest and re-encrypted under a new key by a command."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from audit.models import AuditEvent
from connections.models import Connection
from tests.fixtures import People


def test_the_database_holds_ciphertext_only(people: People) -> None:
    conn = Connection(team=people.acme, name="pg", engine="postgresql", host="127.0.0.1")
    conn.set_secret("pa'ss\"wörd<script>")
    conn.save()
    stored = Connection.objects.values_list("secret_token", flat=True).get(pk=conn.pk)
    assert "wörd" not in stored and stored.startswith("gAAAA")


def test_rotation_moves_every_secret_to_the_new_key(people: People, settings: Any) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.DBDECK_FERNET_KEYS = [old]
    conn = Connection(team=people.acme, name="pg", engine="postgresql", host="127.0.0.1", readonly_username="ro")
    conn.set_secret("first")
    conn.set_readonly_secret("second")
    conn.save()

    settings.DBDECK_FERNET_KEYS = [new, old]
    call_command("rotate_secrets", stdout=open("/dev/null", "w"))

    settings.DBDECK_FERNET_KEYS = [new]  # the old key is gone, and everything still reads
    conn.refresh_from_db()
    params = conn.params()
    assert params.password == "first"
    assert conn.params(read_only=True).password == "second"
    assert AuditEvent.objects.filter(action="secrets.rotate").exists()


def test_a_missing_key_is_a_clear_configuration_error(people: People, settings: Any) -> None:
    conn = Connection(team=people.acme, name="pg", engine="postgresql", host="127.0.0.1")
    conn.set_secret("x")
    conn.save()
    settings.DBDECK_FERNET_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="add the key"):
        conn.params()
    settings.DBDECK_FERNET_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="not a valid Fernet key"):
        conn.params()
