"""Run an adapter's check() and keep the result on the connection."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils import timezone

from connections.engines import EngineError
from connections.models import Connection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str
    version: str = ""
    latency_ms: float | None = None
    kind: str = ""


def probe(connection: Connection, *, read_only: bool = False) -> CheckResult:
    """Check a (possibly unsaved) connection; never raises for a user mistake."""
    try:
        adapter = connection.adapter(read_only=read_only)
    except ValidationError as exc:
        return CheckResult(False, " ".join(exc.messages), kind="config")
    except (ImproperlyConfigured, EngineError) as exc:
        return CheckResult(False, str(exc), kind="config")
    try:
        with adapter:
            info = adapter.check()
    except EngineError as exc:
        return CheckResult(False, exc.message, kind=exc.kind)
    except Exception:  # a driver bug must not become a 500 page with a traceback
        log.exception("check failed unexpectedly for connection %s", connection.pk)
        return CheckResult(False, "The check failed unexpectedly; the server log has details.", kind="unknown")
    message = f"{info.version} · {info.latency_ms:.1f} ms"
    return CheckResult(True, message, version=info.version, latency_ms=info.latency_ms)


def probe_and_store(connection: Connection, *, read_only: bool = False) -> CheckResult:
    result = probe(connection, read_only=read_only)
    connection.last_check_ok = result.ok
    connection.last_check_message = result.message[:500]
    connection.last_check_at = timezone.now()
    Connection.objects.filter(pk=connection.pk).update(
        last_check_ok=connection.last_check_ok,
        last_check_message=connection.last_check_message,
        last_check_at=connection.last_check_at,
    )
    return result
