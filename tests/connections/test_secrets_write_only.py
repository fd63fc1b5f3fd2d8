"""A canary password goes in and never comes out: not in pages, logs or child argv."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import psycopg2
import pytest
from django.urls import reverse
from psycopg2 import sql

from audit.models import AuditEvent
from connections.logging import RedactSecretsFilter
from connections.models import Connection
from tests.connections.test_connection_pages import pg_form
from tests.fixtures import People, client_for
from tests.procwatch import ProcessWatcher, Sighting
from tests.services import Servers

CANARY = "canary-Zq7'\"<b>-5ecret"
CANARY_USER = "dbdeck_canary"
CANARY_TABLE = "canary_orders"


def scram_verifier(password: str) -> str:
    """What PostgreSQL stores for a SCRAM-SHA-256 password, so the plain canary never travels in SQL text."""
    salt, iterations = secrets.token_bytes(16), 4096
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server = hmac.digest(salted, b"Server Key", "sha256")
    b64 = base64.b64encode
    return f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}${b64(stored).decode()}:{b64(server).decode()}"


@pytest.fixture
def canary_roles(servers: Servers) -> Iterator[None]:
    """PostgreSQL users whose real passwords are the canaries, and a table they may read."""
    pg = servers.postgresql
    db = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=pg.database)
    db.autocommit = True
    roles = {CANARY_USER: CANARY, CANARY_USER + "_ro": CANARY + "-ro"}

    def drop() -> None:
        with db.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ANY(%s)", (list(roles),)
            )
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(CANARY_TABLE)))
            for role in roles:
                cur.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))

    drop()
    with db.cursor() as cur:
        for role, password in roles.items():
            cur.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(scram_verifier(password))
                )
            )
        cur.execute(sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, item text)").format(sql.Identifier(CANARY_TABLE)))
        cur.execute(
            sql.SQL("INSERT INTO {} SELECT g, 'canary item ' || g FROM generate_series(1, 3) g").format(
                sql.Identifier(CANARY_TABLE)
            )
        )
        for role in roles:
            cur.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(sql.Identifier(CANARY_TABLE), sql.Identifier(role)))
    yield
    drop()
    db.close()


@pytest.fixture
def canary_connection(people: People, servers: Servers, canary_roles: None) -> Connection:
    people.alice.is_superuser = people.alice.is_staff = True
    people.alice.save()
    form = pg_form(
        servers,
        people,
        username=CANARY_USER,
        secret=CANARY,
        readonly_username=CANARY_USER + "_ro",
        readonly_secret=CANARY + "-ro",
    )
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
    canary_connection: Connection,
    people: People,
    process_watcher: ProcessWatcher,
    django_capture_on_commit_callbacks: Any,
    closed_port: int,
) -> None:
    pk = canary_connection.pk
    sweeps = process_watcher.sweeps
    # The canaries really log in: a check as an editor (main credential) and as a viewer (read-only one).
    for who in (people.alice, people.carol):
        client_for(who).post(reverse("connections:test", args=[pk]))
        canary_connection.refresh_from_db()
        assert canary_connection.last_check_ok, canary_connection.last_check_message
    # An export reads the table through the canary's session.
    client = client_for(people.alice)
    start = reverse("explorer:export", args=[pk]) + "?" + urlencode({"ns": "public", "obj": CANARY_TABLE})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(start, {"format": "csv", "max_rows": "100"})
    assert response.status_code == 302
    data = b"".join(client.get(response["Location"] + "download/").streaming_content)
    assert b"canary item 3" in data
    # And a failing check, against a closed port.
    Connection.objects.filter(pk=pk).update(port=closed_port)
    client.post(reverse("connections:test", args=[pk]))
    process_watcher.wait_for_sweeps()
    assert process_watcher.sweeps > sweeps + 2  # it was looking the whole time
    assert process_watcher.argv_containing("canary-Zq7") == []
    assert not any("canary-Zq7" in value for value in os.environ.values())


# The watcher itself: each of these fails if it stops seeing what it is there to see.


def wait_for_sighting(watcher: ProcessWatcher, marker: str, seconds: float = 10) -> list[Sighting]:
    deadline = time.monotonic() + seconds
    while not (seen := watcher.argv_containing(marker) + watcher.environ_containing(marker)):
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)
    watcher.wait_for_sweeps()
    return watcher.argv_containing(marker) + watcher.environ_containing(marker) if seen else []


def test_the_watcher_sees_a_marker_in_a_childs_argv(process_watcher: ProcessWatcher) -> None:
    marker = "argv-marker-" + secrets.token_hex(6)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(2)", marker])
    try:
        seen = wait_for_sighting(process_watcher, marker)
    finally:
        child.kill()
        child.wait()
    sources = {(s.source, s.pid) for s in process_watcher.argv_containing(marker)}
    assert seen and sources == {("subprocess.Popen", 0), ("proc", child.pid)}


def test_the_watcher_sees_a_grandchild_that_no_hook_in_this_process_hears(process_watcher: ProcessWatcher) -> None:
    marker = "grandchild-marker-" + secrets.token_hex(6)
    # The child reverses its argument, so the marker itself is only ever in the grandchild's argv.
    spawn = (
        "import subprocess, sys;"
        " subprocess.run([sys.executable, '-c', 'import time; time.sleep(1)', sys.argv[1][::-1]])"
    )
    child = subprocess.Popen([sys.executable, "-c", spawn, marker[::-1]])
    try:
        seen = wait_for_sighting(process_watcher, marker)
    finally:
        child.wait(timeout=30)
    assert seen and {s.source for s in seen} == {"proc"} and child.pid not in {s.pid for s in seen}


def test_the_watcher_hears_a_child_too_short_lived_to_sample(process_watcher: ProcessWatcher) -> None:
    marker = "short-marker-" + secrets.token_hex(6)
    subprocess.run(["true", marker], check=True)
    assert "subprocess.Popen" in {s.source for s in process_watcher.argv_containing(marker)}


def test_the_watcher_tells_the_environment_from_argv(process_watcher: ProcessWatcher) -> None:
    marker = "env-marker-" + secrets.token_hex(6)
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(2)"], env={**os.environ, "DBDECK_WATCH_MARKER": marker}
    )
    try:
        seen = wait_for_sighting(process_watcher, marker)
    finally:
        child.kill()
        child.wait()
    assert seen and process_watcher.argv_containing(marker) == []
    assert {s.source for s in process_watcher.environ_containing(marker)} == {"subprocess.Popen", "proc"}


def test_the_log_filter_masks_a_secret_a_driver_might_echo(canary_connection: Connection) -> None:
    canary_connection.params()  # decrypting teaches the filter the secret
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "driver said %s", (f"auth failed for {CANARY}",), None)
    RedactSecretsFilter().filter(record)
    assert "canary-Zq7" not in record.getMessage()
    shaped = logging.LogRecord("x", logging.ERROR, __file__, 1, "dsn host=a password=hunter22 user=b", None, None)
    RedactSecretsFilter().filter(shaped)
    assert "hunter22" not in shaped.getMessage()
