"""50 logged-in users clicking through the demo with no think time, against the app as
`make run` starts it (scripts/run-embedded.sh: gunicorn, Celery worker and beat).

Each user loops: connection list -> navigator -> a grid (sorted by an indexed column or
filtered) -> Next twice -> a record. Latency per page type; a static file under the same
load is the reference. The load generator is asyncio on raw sockets (HTTP/1.1 keep-alive),
so it costs little of the machine it shares with the server.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode, urljoin

from bench.common import Result

ROOT = Path(__file__).resolve().parent.parent
USERS = int(os.environ.get("DBDECK_LOAD_USERS", "50"))
SECONDS = float(os.environ.get("DBDECK_LOAD_SECONDS", "120"))
STATIC_SECONDS = 20.0
STATIC_PATH = "/static/css/dbdeck.css"
NEXT = re.compile(r'href="([^"]+)"[^>]*rel="next"')
RECORD = re.compile(r'href="([^"]*/browse/row/\?[^"]*key=[^"]+)"')

# What users open: sorts on indexed columns, filters people type, in key order otherwise.
GRIDS = [
    ("orders", {}),
    ("orders", {"sort": "ordered_at"}),
    ("orders", {"sort": "ordered_at", "desc": "1"}),
    ("orders", {"sort": "customer_id"}),
    ("orders", {"fc": "status", "fo": "eq", "fv": "paid"}),
    ("orders", {"fc": "customer_id", "fo": "eq", "fv": "42"}),
    ("customers", {}),
    ("customers", {"sort": "email"}),
    ("customers", {"fc": "country", "fo": "eq", "fv": "DE"}),
    ("order_items", {}),
    ("order_items", {"sort": "product_id"}),
    ("products", {"sort": "sku"}),
    ("reviews", {"sort": "product_id"}),
    ("event_log", {}),
]

SETUP_USERS = """
import json
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from connections.management.commands.bootstrap_demo import DEMO_TEAM
from accounts.models import Membership, Role, Team
from connections.models import Connection
team = Team.objects.get(name=DEMO_TEAM)
conn = Connection.objects.filter(team=team, engine="sqlite").first()
cookies = []
for i in range(%d):
    user, _ = User.objects.get_or_create(username=f"load{i}")
    role = Role.VIEWER if i %% 2 else Role.EDITOR
    Membership.objects.get_or_create(user=user, team=team, defaults={"role": role})
    client = Client()
    client.force_login(user)
    cookies.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
print("LOAD-SETUP " + json.dumps({"connection": conn.pk, "cookies": cookies, "name": settings.SESSION_COOKIE_NAME}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Client:
    """One user's keep-alive HTTP/1.1 connection."""

    def __init__(self, port: int, cookie: str) -> None:
        self.port, self.cookie, self.session = port, cookie, cookie
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {self.cookie}\r\nAccept: text/html\r\n\r\n"
        self.writer.write(request.encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        for line in lines[1:]:  # send back the CSRF cookie the app sets, as a browser does
            name, _, value = line.partition(":")
            if name.lower() == "set-cookie" and value.strip().startswith("csrftoken="):
                self.cookie = f"{self.session}; {value.strip().split(';', 1)[0]}"
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(chunk[:-2])
            body = b"".join(parts)
        else:
            body = await self.reader.read()
        if headers.get("connection", "").lower() == "close" or "content-length" not in headers and not body:
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


Samples = dict[str, list[float]]


async def _user(port: int, cookie: str, pk: int, seed: int, deadline: float, samples: Samples, errors: list) -> None:
    rng = random.Random(seed)
    client = Client(port, cookie)

    async def hit(kind: str, path: str) -> bytes:
        started = time.perf_counter()
        try:
            status, body = await client.get(path)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            errors.append((kind, path, repr(exc)))
            await client.close()
            return b""
        samples[kind].append((time.perf_counter() - started) * 1000)
        if status >= 400:
            errors.append((kind, path, status))
        return body

    browse = f"/connections/{pk}/browse/"
    while time.monotonic() < deadline:
        await hit("connection list", "/connections/")
        await hit("navigator", f"{browse}?ns=main")
        table, extra = rng.choice(GRIDS)
        body = await hit("grid", f"{browse}?{urlencode({'ns': 'main', 'obj': table, **extra})}")
        for _ in range(2):
            found = NEXT.search(body.decode("utf-8", "replace"))
            if not found or time.monotonic() >= deadline:
                break
            body = await hit("next page", urljoin(browse, html.unescape(found.group(1))))
        found = RECORD.search(body.decode("utf-8", "replace"))
        if found and time.monotonic() < deadline:
            await hit("record", urljoin(browse, html.unescape(found.group(1))))
    await client.close()


async def _static_user(port: int, cookie: str, deadline: float, samples: Samples, errors: list) -> None:
    client = Client(port, cookie)
    while time.monotonic() < deadline:
        started = time.perf_counter()
        status, _ = await client.get(STATIC_PATH)
        samples["static file"].append((time.perf_counter() - started) * 1000)
        if status != 200:
            errors.append(("static", STATIC_PATH, status))
    await client.close()


async def _drive(port: int, cookies: list[str], pk: int, seconds: float, static: bool) -> tuple[Samples, list, float]:
    samples: Samples = defaultdict(list)
    errors: list = []
    started = time.monotonic()
    deadline = started + seconds
    if static:
        jobs = [_static_user(port, c, deadline, samples, errors) for c in cookies]
    else:
        jobs = [_user(port, c, pk, i, deadline, samples, errors) for i, c in enumerate(cookies)]
    await asyncio.gather(*jobs)
    return samples, errors, time.monotonic() - started


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def _descendants(root: int) -> list[int]:
    """Every process below `root` (the run script gives its children sessions of their own)."""
    parents: dict[int, list[int]] = defaultdict(list)
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents[ppid].append(int(proc.name))
    found, todo = [], [root]
    while todo:
        children = parents.get(todo.pop(), [])
        found.extend(children)
        todo.extend(children)
    return found


def _rss_mb(root: int, field: str = "VmHWM") -> float:
    """The largest VmHWM (peak) or VmRSS among the gunicorn processes started by the run script."""
    peak = 0
    for pid in _descendants(root):
        proc = Path("/proc") / str(pid)
        try:
            if b"gunicorn" not in (proc / "cmdline").read_bytes():
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith(field + ":"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak / 1024


def _cpu_seconds(root: int) -> float:
    """User + system CPU time of the gunicorn processes below `root` so far (a noisy machine cannot inflate it)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in _descendants(root):
        proc = Path("/proc") / str(pid)
        try:
            if b"gunicorn" not in (proc / "cmdline").read_bytes():
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total / tick


def _wait_for(url: str, proc: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app stopped while starting (exit {proc.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback server
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the app did not answer {url} within {seconds:.0f} s")


def run() -> list[Result]:
    port = _free_port()
    var = tempfile.mkdtemp(prefix="dbdeck-load-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_SETTINGS", "DBDECK_"))}
    env.update({"DBDECK_VAR_DIR": var, "DBDECK_PORT": str(port), "DBDECK_HOST": "127.0.0.1"})
    log_path = Path(var) / "run.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            ["bash", "scripts/run-embedded.sh"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for(f"http://127.0.0.1:{port}/login/", proc, 300)
        setup = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", SETUP_USERS % USERS],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        line = next(x for x in setup.stdout.splitlines() if x.startswith("LOAD-SETUP "))
        info = json.loads(line.removeprefix("LOAD-SETUP "))
        cookies = [f"{info['name']}={c}" for c in info["cookies"]]
        asyncio.run(_drive(port, cookies[:5], info["connection"], 10, static=False))  # warm caches and pools
        settled = _rss_mb(proc.pid, "VmRSS")
        cpu_before = _cpu_seconds(proc.pid)
        samples, errors, elapsed = asyncio.run(_drive(port, cookies, info["connection"], SECONDS, static=False))
        cpu = _cpu_seconds(proc.pid) - cpu_before
        static, static_errors, static_elapsed = asyncio.run(_drive(port, cookies, 0, STATIC_SECONDS, static=True))
        peak = _rss_mb(proc.pid)
    finally:
        children = _descendants(proc.pid)
        proc.send_signal(signal.SIGINT)  # the script stops its children and exits
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            for pid in [proc.pid, *children]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            proc.wait()
    every = [v for values in samples.values() for v in values]
    ref = static["static file"]
    cpu_ms = cpu * 1000 / max(len(every), 1)
    print(f"  {len(every):,} requests in {elapsed:.0f} s by {USERS} users; errors: {len(errors)}")
    print(f"  web workers' CPU: {cpu:.1f} s, {cpu_ms:.2f} ms per request")
    for kind in [*samples, "static file"]:
        values = samples.get(kind) or ref
        print(
            f"    {kind:<16} n={len(values):>6,}  p50 {_pct(values, 50):7.1f} ms  p95 {_pct(values, 95):7.1f} ms"
            f"  p99 {_pct(values, 99):7.1f} ms"
        )
    for error in errors[:5] + static_errors[:5]:
        print(f"    error: {error}")
    results = [
        Result("Load, 50 users: p95 of every page vs a static file", _pct(every, 95), _pct(ref, 95), "ms", "< 300"),
        Result("Load, 50 users: p50 of every page vs a static file", _pct(every, 50), _pct(ref, 50), "ms", "info"),
        Result("Load, 50 users: p99 of every page vs a static file", _pct(every, 99), _pct(ref, 99), "ms", "info"),
        Result(
            "Load, 50 users: requests/s vs a static file",
            len(every) / elapsed,
            len(ref) / static_elapsed,
            "r/s",
            "info",
        ),
        Result("Load, 50 users: errors (count) vs requests", float(len(errors)), float(len(every)), "n", "0 errors"),
        Result("Load, 50 users: web worker peak RSS vs RSS after warm-up", peak, settled, "MB", "info"),
        Result("Load, 50 users: web workers' CPU per request vs p50 latency", cpu_ms, _pct(every, 50), "ms", "info"),
    ]
    for kind, values in samples.items():
        results.append(Result(f"Load: {kind} p95 vs static p95", _pct(values, 95), _pct(ref, 95), "ms", "< 300"))
    return results
