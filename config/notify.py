"""Alert delivery shared by backups and monitoring: email through Django's mail settings and a
JSON webhook (Slack-compatible `{"text": ...}`), each with a timeout and the host policy.

Callers build an `Alert` and call `deliver(alert, emails=..., webhook=...)`; it returns one
`Delivery` per channel tried and never raises for a channel that fails, so a broken webhook
never stops a backup or a collector.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail

log = logging.getLogger(__name__)

WEBHOOK_TIMEOUT = 10.0


@dataclass(frozen=True)
class Alert:
    """What happened, in words, and where to look."""

    subject: str  # "Backup failed: nightly on shop-db"
    text: str  # the error in words, what to do next
    url: str = ""  # absolute link to the run, the connection or the alert
    kind: str = ""  # "backup.failed", "restore_test.failed", "schedule.missed", "monitor.threshold", ...
    fields: dict[str, str] = field(default_factory=dict)  # extra facts, also sent in the webhook body


@dataclass(frozen=True)
class Delivery:
    channel: str  # "email" or "webhook"
    ok: bool
    error: str = ""


class WebhookRefused(ValueError):
    """The webhook address is not an http(s) URL on an allowed host."""


def check_webhook_url(url: str) -> str:
    """Refuse anything but http(s) to a host the connection policy allows (no metadata endpoints)."""
    from connections.policy import check_host  # the policy lives with connections; imported late

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused("The webhook must be an http:// or https:// address with a host name.")
    if "\x00" in url or parts.username or parts.password:
        raise WebhookRefused("The webhook address may not contain NUL or a user name and password.")
    try:
        check_host(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except ValidationError as exc:  # the policy's own message says which rule refused
        raise WebhookRefused(" ".join(exc.messages)) from exc
    return url


def _body(alert: Alert) -> bytes:
    text = f"{alert.subject}\n{alert.text}" + (f"\n{alert.url}" if alert.url else "")
    payload = {"text": text, "subject": alert.subject, "kind": alert.kind, "url": alert.url, **{"fields": alert.fields}}
    return json.dumps(payload).encode()


def send_webhook(alert: Alert, url: str) -> Delivery:
    try:
        check_webhook_url(url)
        req = urllib.request.Request(  # noqa: S310 - scheme checked above
            url, data=_body(alert), headers={"Content-Type": "application/json", "User-Agent": "dbdeck"}, method="POST"
        )
        with urllib.request.urlopen(req, timeout=WEBHOOK_TIMEOUT) as resp:  # noqa: S310
            resp.read(1024)
        return Delivery("webhook", True)
    except WebhookRefused as exc:
        return Delivery("webhook", False, str(exc))
    except urllib.error.HTTPError as exc:
        return Delivery("webhook", False, f"The webhook answered HTTP {exc.code}.")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        log.warning("webhook delivery failed: %s", reason)
        return Delivery("webhook", False, f"The webhook could not be reached ({reason}).")


def send_email(alert: Alert, emails: list[str]) -> Delivery:
    body = alert.text + (f"\n\n{alert.url}" if alert.url else "")
    try:
        send_mail(f"[dbdeck] {alert.subject}", body, settings.DEFAULT_FROM_EMAIL, emails, fail_silently=False)
        return Delivery("email", True)
    except Exception as exc:  # SMTP errors come in many shapes; the alert must not take the task down
        log.warning("email delivery failed: %s", exc)
        return Delivery("email", False, f"The email could not be sent ({exc.__class__.__name__}).")


def deliver(alert: Alert, *, emails: list[str] | None = None, webhook: str = "") -> list[Delivery]:
    out: list[Delivery] = []
    if emails:
        out.append(send_email(alert, list(emails)))
    if webhook:
        out.append(send_webhook(alert, webhook))
    return out
