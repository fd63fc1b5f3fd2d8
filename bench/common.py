"""What the benchmarks share: private servers, a configured Django, a real HTTP server, timing."""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


@dataclass
class Result:
    name: str
    value: float
    reference: float
    unit: str
    target: str

    @property
    def ratio(self) -> float:
        return self.value / self.reference if self.reference else float("inf")

    def line(self) -> str:
        return (
            f"{self.name:<58} {self.value:>10.2f} {self.unit:<3} vs {self.reference:>10.2f} {self.unit:<3}"
            f"  ratio {self.ratio:>6.2f}  (target {self.target})"
        )


def median_ms(fn: Callable[[], Any], runs: int = 15, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def alternate(cases: dict[str, Callable[[], Any]], runs: int = 9, warmup: int = 2) -> dict[str, float]:
    """Median milliseconds of each case, measured round-robin so drift hits every case alike.

    Each round runs every case once, in an order that rotates from round to round, so no
    case always runs first (cold) or right after another case's side effects.
    """
    names = list(cases)
    for _ in range(warmup):
        for name in names:
            cases[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(runs):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            cases[name]()
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def setup_django() -> None:
    """A throwaway metadata database, migrated, so benchmarks never touch var/."""
    os.environ.setdefault("DBDECK_VAR_DIR", tempfile.mkdtemp(prefix="dbdeck-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class LiveApp:
    """The real WSGI app behind a loopback HTTP server, with a logged-in session cookie."""

    def __init__(self) -> None:
        from django.conf import settings
        from django.contrib.auth.models import User
        from django.test import Client

        from accounts.models import Membership, Role, Team
        from config.wsgi import application

        self.team, _ = Team.objects.get_or_create(name="Bench")
        self.user, _ = User.objects.get_or_create(username="bench")
        Membership.objects.get_or_create(user=self.user, team=self.team, defaults={"role": Role.EDITOR})
        client = Client()
        client.force_login(self.user)
        self.cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        self.server: WSGIServer = make_server("127.0.0.1", 0, application, handler_class=_Quiet)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_port

    def connection(self, server: Any, **fields: Any) -> Any:
        from connections.models import Connection

        values = {
            "engine": server.engine,
            "host": server.host,
            "port": server.port,
            "username": server.username,
            "database": server.database,
            "options": {"tls_mode": "disable", **fields.pop("options", {})},
        }
        values.update(fields)
        conn = Connection(team=self.team, name=f"bench {server.engine} {time.time_ns()}", **values)
        conn.set_secret(server.password)
        conn.save()
        return conn

    def get(self, path: str) -> bytes:
        import http.client

        http_conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        http_conn.request("GET", path, headers={"Cookie": self.cookie, "Host": "127.0.0.1"})
        response = http_conn.getresponse()
        body = response.read()
        http_conn.close()
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}: {body[:500]!r}")
        return body

    def stop(self) -> None:
        self.server.shutdown()
