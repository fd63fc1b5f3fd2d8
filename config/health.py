"""/healthz for load balancers and compose: the metadata database and the broker answer."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from kombu import Connection as BrokerConnection


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # report, don't crash: this page exists to say what is down
        return f"error: {type(exc).__name__}"


def _broker() -> str:
    try:
        with BrokerConnection(
            settings.CELERY_BROKER_URL,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            connect_timeout=3,
        ) as broker:
            broker.ensure_connection(max_retries=1, timeout=3)
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "broker": _broker()}
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)
