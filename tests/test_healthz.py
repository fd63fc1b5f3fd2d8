from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.test import Client


def test_healthz_reports_database_and_broker(db: Any) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_answers_503_when_the_broker_is_down(db: Any, settings: Any, closed_port: int) -> None:
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port}/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")


def test_healthz_works_against_a_real_redis_broker(db: Any, settings: Any, servers: Any) -> None:
    redis = servers.redis
    settings.CELERY_BROKER_URL = f"redis://:{quote(redis.password, safe='')}@{redis.host}:{redis.port}/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    assert Client().get("/healthz").status_code == 200
