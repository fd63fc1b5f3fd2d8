"""Alert delivery (config/notify.py) against a real HTTP server on 127.0.0.1 and Django's locmem mail."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core import mail

from config.notify import Alert, deliver, send_webhook


class Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append({"body": json.loads(body), "type": self.headers["Content-Type"], "path": self.path})
        self.send_response(Hook.status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[str]:
    Hook.received, Hook.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/backups"
    server.shutdown()
    server.server_close()


ALERT = Alert(
    subject="Backup failed: nightly on <shop>",
    text="pg_dump failed: connection lost",
    url="http://dbdeck.example/backups/runs/7/",
    kind="backup.failed",
    fields={"plan": "nightly", "run": "7"},
)


def test_a_webhook_alert_posts_slack_compatible_json_to_a_real_local_server(hook: str, settings: Any) -> None:
    [sent] = deliver(ALERT, webhook=hook)
    assert sent.ok and sent.channel == "webhook"
    [got] = Hook.received
    assert got["type"] == "application/json" and got["path"] == "/hooks/backups"
    assert got["body"]["text"].startswith("Backup failed: nightly on <shop>\npg_dump failed")
    assert got["body"]["kind"] == "backup.failed" and got["body"]["fields"] == {"plan": "nightly", "run": "7"}
    assert got["body"]["url"] == ALERT.url


def test_a_webhook_answering_500_is_reported_not_raised(hook: str) -> None:
    Hook.status = 500
    [sent] = deliver(ALERT, webhook=hook)
    assert not sent.ok and "HTTP 500" in sent.error


def test_the_metadata_address_and_odd_schemes_are_refused_before_any_request() -> None:
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        "http://user:pw@127.0.0.1/",
        "gopher://x",
    ):
        sent = send_webhook(ALERT, url)
        assert not sent.ok and sent.error, url


def test_an_unreachable_webhook_says_so(closed_port: int) -> None:
    sent = send_webhook(ALERT, f"http://127.0.0.1:{closed_port}/")
    assert not sent.ok and "could not be reached" in sent.error


def test_an_email_alert_goes_through_djangos_mail_settings(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    [sent] = deliver(ALERT, emails=["dba@example.com", "oncall@example.com"])
    assert sent.ok
    [message] = mail.outbox
    assert message.subject == "[dbdeck] Backup failed: nightly on <shop>"
    assert message.to == ["dba@example.com", "oncall@example.com"] and ALERT.url in message.body


def test_a_failing_mail_server_is_reported_not_raised(settings: Any, closed_port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 2
    [sent] = deliver(ALERT, emails=["dba@example.com"])
    assert not sent.ok and "could not be sent" in sent.error
