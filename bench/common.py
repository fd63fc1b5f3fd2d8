"""What the benchmarks share: private servers, a configured Django, a real HTTP server, timing."""

from __future__ import annotations

import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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


class LiveApp:
    """The app as `make run` serves it (gunicorn, threads), with a logged-in session cookie.

    The client keeps one HTTP/1.1 connection open, as a browser does, so a page's time is the
    app's, not a TCP handshake's: like for like with a database query on an open connection.
    """

    def __init__(self) -> None:
        from django.conf import settings
        from django.contrib.auth.models import User
        from django.test import Client

        from accounts.models import Membership, Role, Team
        from tests.services import free_port

        self.team, _ = Team.objects.get_or_create(name="Bench")
        self.user, _ = User.objects.get_or_create(username="bench")
        Membership.objects.get_or_create(user=self.user, team=self.team, defaults={"role": Role.EDITOR})
        client = Client()
        client.force_login(self.user)
        self.cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        self.port = free_port()
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.process = subprocess.Popen(
            [
                gunicorn,
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "--keep-alive",
                "30",
                "--log-level",
                "warning",
            ],
            cwd=Path(__file__).resolve().parent.parent,
            env={**os.environ, "DBDECK_LOG_LEVEL": "WARNING"},
        )
        self._http: http.client.HTTPConnection | None = None
        deadline = time.monotonic() + 30
        while True:
            try:
                self.get("/healthz")
                break
            except (OSError, RuntimeError):
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("gunicorn did not come up for the benchmarks") from None
                time.sleep(0.2)

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

    def get(self, path: str, headers: dict[str, str] | None = None) -> bytes:
        for attempt in (1, 2):
            if self._http is None:
                self._http = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                self._http.request("GET", path, headers={"Cookie": self.cookie, "Host": "127.0.0.1", **(headers or {})})
                response = self._http.getresponse()
                body = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                # The server closed a kept-alive connection; open a new one once.
                self._http.close()
                self._http = None
                if attempt == 2:
                    raise
        self._keep_cookies(response)
        if response.will_close:
            self._http.close()
            self._http = None
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}: {body[:500]!r}")
        return body

    def _keep_cookies(self, response: http.client.HTTPResponse) -> None:
        """Send back the CSRF cookie the app sets, as a browser does (without it every page mints one)."""
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            if name.strip() == "csrftoken":
                value = rest.split(";", 1)[0]
                kept = [c for c in self.cookie.split("; ") if not c.startswith("csrftoken=")]
                self.cookie = "; ".join([*kept, f"csrftoken={value}"])

    def stop(self) -> None:
        if self._http is not None:
            self._http.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
