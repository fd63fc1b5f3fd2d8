"""A canary password goes in and never comes out: not in pages, logs or child argv."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from connections.logging import RedactSecretsFilter
from connections.models import Connection
from tests.connections.test_connection_pages import pg_form
from tests.fixtures import People, client_for
from tests.services import Servers

CANARY = "canary-Zq7'\"<b>-5ecret"


def all_cmdlines() -> list[str]:
    lines = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                lines.append((proc / "cmdline").read_bytes().replace(b"\x00", b" ").decode(errors="replace"))
            except OSError:
                continue
    return lines


@pytest.fixture
def canary_connection(people: People, servers: Servers) -> Connection:
    people.alice.is_superuser = people.alice.is_staff = True
    people.alice.save()
    form = pg_form(servers, people, secret=CANARY, readonly_username="reader", readonly_secret=CANARY + "-ro")
    response = client_for(people.alice).post(reverse("connections:create"), form)
    assert response.status_code == 302
    return Connection.objects.get()


def test_the_canary_never_appears_in_any_page(canary_connection: Connection, people: People) -> None:
    client = client_for(people.alice)
    pk = canary_connection.pk
    urls = [
        reverse("connections:list"),
        reverse("connections:detail", args=[pk]),
        reverse("connections:edit", args=[pk]),
        reverse("connections:delete", args=[pk]),
        reverse("audit:list"),
        reverse("admin:index"),
        reverse("admin:connections_connection_changelist"),
        reverse("admin:connections_connection_change", args=[pk]),
        reverse("admin:audit_auditevent_changelist"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert CANARY.encode() not in response.content, url
        assert b"canary-Zq7" not in response.content, url
    test_response = client.post(reverse("connections:test", args=[pk]), HTTP_HX_REQUEST="true")
    assert b"canary-Zq7" not in test_response.content


def test_the_canary_never_reaches_a_log_record(
    canary_connection: Connection, people: People, caplog: Any, closed_port: int
) -> None:
    client = client_for(people.alice)
    caplog.set_level(logging.DEBUG)
    # A failing check with the canary as the wrong password, and one against a closed port.
    Connection.objects.filter(pk=canary_connection.pk).update(username="nobody")
    client.post(reverse("connections:test", args=[canary_connection.pk]))
    Connection.objects.filter(pk=canary_connection.pk).update(port=closed_port)
    client.post(reverse("connections:test", args=[canary_connection.pk]), HTTP_HX_REQUEST="true")
    client.post(reverse("connections:edit", args=[canary_connection.pk]), {"secret": CANARY, "name": ""})
    for record in caplog.records:
        text = record.getMessage() + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        assert "canary-Zq7" not in text, record
    for event in AuditEvent.objects.all():
        assert "canary-Zq7" not in str(event.detail)


def test_the_canary_never_appears_in_a_child_process_command_line(
    canary_connection: Connection, people: People
) -> None:
    client_for(people.alice).post(reverse("connections:test", args=[canary_connection.pk]))
    assert not [line for line in all_cmdlines() if "canary-Zq7" in line]
    assert not any("canary-Zq7" in value for value in os.environ.values())


def test_the_log_filter_masks_a_secret_a_driver_might_echo(canary_connection: Connection) -> None:
    canary_connection.params()  # decrypting teaches the filter the secret
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "driver said %s", (f"auth failed for {CANARY}",), None)
    RedactSecretsFilter().filter(record)
    assert "canary-Zq7" not in record.getMessage()
    shaped = logging.LogRecord("x", logging.ERROR, __file__, 1, "dsn host=a password=hunter22 user=b", None, None)
    RedactSecretsFilter().filter(shaped)
    assert "hunter22" not in shaped.getMessage()
