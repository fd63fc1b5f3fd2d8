"""The query console over HTTP against raw psycopg2, and the web worker's memory with a huge result.

A 10,000,000-row UNLOGGED PostgreSQL table (one INSERT ... SELECT over generate_series).
The console runs as `make run` has it: gunicorn for the pages, a Celery worker on the
`console` queue hosting the session. Figures:

- first 1,000 rows of `SELECT * FROM bench_console` through HTTP (POST the run, the answer
  holds the first page) against psycopg2's `fetchmany(1000)` of the same statement on a named
  cursor over an open connection, alternating, medians;
- the gunicorn worker's peak RSS (VmHWM) after paging a 100,000-row result and after paging
  the 10,000,000-row one: flat, since neither the web process nor the host holds more than a page.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.common import LiveApp, Result, alternate

ROWS = int(os.environ.get("DBDECK_BENCH_CONSOLE_ROWS", "10000000"))  # smaller for a dry run
SMALL_ROWS = 100_000
STATEMENT = "SELECT * FROM bench_console"
SMALL_STATEMENT = "SELECT * FROM bench_console_small"
PAGES_FOR_MEMORY = 20


class Browser:
    """One kept-alive HTTP connection with the app's session cookie and a CSRF token, like a browser."""

    def __init__(self, app: LiveApp, conn_pk: int) -> None:
        self.app, self.pk = app, conn_pk
        self.http = http.client.HTTPConnection("127.0.0.1", app.port, timeout=120)
        body, headers = self.request("GET", f"/connections/{conn_pk}/console/")
        cookie = re.search(r"csrftoken=([^;]+)", " ".join(headers.get_all("Set-Cookie") or []))
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if cookie is None or token is None:
            raise RuntimeError("the console page gave no CSRF token")
        self.cookie = f"{app.cookie}; csrftoken={cookie.group(1)}"
        self.token = token.group(1).decode()

    def request(self, method: str, path: str, data: dict[str, str] | None = None) -> tuple[bytes, Any]:
        headers = {"Cookie": getattr(self, "cookie", self.app.cookie), "Host": "127.0.0.1", "HX-Request": "true"}
        payload = None
        if data is not None:
            payload = urlencode(data)
            headers |= {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-CSRFToken": self.token,
            }
        self.http.request(method, path, body=payload, headers=headers)
        response = self.http.getresponse()
        body = response.read()
        if response.status not in (200, 286, 302):
            raise RuntimeError(f"{method} {path} answered {response.status}: {body[:300]!r}")
        return body, response.headers

    def first_page(self, statement: str) -> bytes:
        body, _ = self.request("POST", f"/connections/{self.pk}/console/run/", {"text": statement, "batch": "1000"})
        if b"rows 1\xe2\x80\x931000" not in body:
            raise RuntimeError(f"the console's answer had no first page: {body[:400]!r}")
        return body

    def more(self, body: bytes) -> bytes:
        """The next page, as the More button gets it (polling the run until the button shows, as htmx does)."""
        run = re.search(rb'id="run-(\d+)"', body)
        assert run is not None
        status = f"/connections/{self.pk}/console/runs/{run.group(1).decode()}/"
        for _ in range(200):
            found = re.search(rb'action="(/connections/\d+/console/results/\d+/more/)"', body)
            if found is not None:
                page, _ = self.request("POST", found.group(1).decode(), {})
                return page
            time.sleep(0.01)
            body, _ = self.request("GET", status)
        raise RuntimeError("no More button on the page")


def _load(server: Any) -> Any:
    import psycopg2

    db = psycopg2.connect(
        host=server.host, port=server.port, user=server.username, password=server.password, dbname=server.database
    )
    db.autocommit = True
    started = time.monotonic()
    with db.cursor() as cur:
        for table, rows in (("bench_console", ROWS), ("bench_console_small", SMALL_ROWS)):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
            cur.execute(
                f"CREATE UNLOGGED TABLE {table} (id bigint, customer_id int, status text, amount numeric(12,2),"
                " created timestamptz, note text)"
            )
            cur.execute(
                f"INSERT INTO {table} SELECT g, g % 50000, (ARRAY['new','paid','shipped','done'])[1 + g % 4],"
                " (g % 100000) / 100.0, timestamptz '2020-01-01' + g * interval '1 minute', 'note ' || g"
                f" FROM generate_series(1, {rows}) g"
            )
            cur.execute(f"VACUUM ANALYZE {table}")
    print(f"  loaded {ROWS:,} + {SMALL_ROWS:,} PostgreSQL rows in {time.monotonic() - started:.0f} s", flush=True)
    return db


def _console_worker() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "console", "--pool", "threads",
         "--concurrency", "4", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "DBDECK_LOG_LEVEL": "WARNING"},
    )  # fmt: skip


def _workers_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(app: LiveApp, server: Any) -> list[Result]:
    db = _load(server)
    worker = _console_worker()
    try:
        conn = app.connection(server)
        browser = Browser(app, conn.pk)
        deadline = time.monotonic() + 60
        while True:  # the worker comes up and picks the session from the queue
            try:
                browser.first_page(SMALL_STATEMENT)
                break
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

        def raw() -> None:
            with db.cursor(name="bench_raw") as cur:
                cur.execute("/* dbdeck */ " + STATEMENT)
                rows = cur.fetchmany(1000)
            db.rollback()
            assert len(rows) == 1000

        db.autocommit = False
        medians = alternate({"http": lambda: browser.first_page(STATEMENT), "raw": raw}, runs=9, warmup=2)
        results = [
            Result(
                f"Console first 1,000 of {ROWS:,} rows, HTTP", medians["http"], medians["raw"], "ms", "<= 2x raw fetch"
            )
        ]
        web = _workers_of(app.process.pid)[0]
        for _ in range(3):
            page = browser.first_page(SMALL_STATEMENT)
            for _ in range(PAGES_FOR_MEMORY):
                page = browser.more(page)
        small_peak = _peak_mb(web)
        for _ in range(3):
            page = browser.first_page(STATEMENT)
            for _ in range(PAGES_FOR_MEMORY):
                page = browser.more(page)
        big_peak = _peak_mb(web)
        results.append(
            Result(
                f"Console web worker peak RSS, {ROWS:,} vs {SMALL_ROWS:,} rows",
                big_peak,
                small_peak,
                "MB",
                "flat (<= 1.1x)",
            )
        )
        return results
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        db.close()
