"""The API's cost over the page it mirrors: a keyset rows page through /api/v1/ with a token,
against the grid page for the same view, at page one and at 80% depth, on PostgreSQL."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import urlencode

from bench.common import LiveApp, Result, alternate
from connections.engines import cursor

ROWS = 1_000_000
DEPTH = 0.8


class TokenClient:
    """One kept-alive HTTP/1.1 connection to the app, sending a personal access token."""

    def __init__(self, app: LiveApp, secret: str) -> None:
        self.port, self.secret = app.port, secret
        self.http: http.client.HTTPConnection | None = None

    def get(self, path: str) -> bytes:
        if self.http is None:
            self.http = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        self.http.request("GET", path, headers={"Authorization": f"Bearer {self.secret}", "Host": "127.0.0.1"})
        response = self.http.getresponse()
        body = response.read()
        if response.will_close:
            self.http.close()
            self.http = None
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}: {body[:500]!r}")
        return body

    def close(self) -> None:
        if self.http is not None:
            self.http.close()


def postgresql(app: LiveApp, server: Any) -> list[Result]:
    import psycopg2

    from accounts.models import Role
    from api import tokens

    db = psycopg2.connect(
        host=server.host, port=server.port, user=server.username, password=server.password, dbname=server.database
    )
    db.autocommit = True
    started = time.monotonic()
    with db.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_api_orders")
        cur.execute(
            "CREATE UNLOGGED TABLE bench_api_orders (id bigint PRIMARY KEY, customer_id int, status text,"
            " amount numeric(12,2), created timestamptz, note text)"
        )
        cur.execute(
            "INSERT INTO bench_api_orders SELECT g, g % 50000, (ARRAY['new','paid','shipped','done'])[1 + g % 4],"
            " (g % 100000) / 100.0, timestamptz '2020-01-01' + g * interval '1 minute', 'note ' || g"
            f" FROM generate_series(1, {ROWS}) g"
        )
        cur.execute("VACUUM ANALYZE bench_api_orders")
    db.close()
    print(f"  loaded {ROWS:,} PostgreSQL rows in {time.monotonic() - started:.0f} s")
    conn = app.connection(server)
    client = TokenClient(app, tokens.issue(app.user, name="bench", ceiling=Role.ADMIN, days=1)[1])
    deep = cursor.encode([int(ROWS * DEPTH)])

    def query(after: str | None = None) -> str:
        return urlencode({"ns": "public", "obj": "bench_api_orders", **({"after": after} if after else {})})

    api_first = f"/api/v1/connections/{conn.pk}/rows?{query()}"
    api_deep = f"/api/v1/connections/{conn.pk}/rows?{query(deep)}"
    page_first = f"/connections/{conn.pk}/browse/?{query()}"
    assert len(json.loads(client.get(api_first))["rows"]) == 100
    times = alternate(
        {
            "api first": lambda: client.get(api_first),
            "api deep": lambda: client.get(api_deep),
            "page first": lambda: app.get(page_first),
        },
        runs=15,
        warmup=3,
    )
    client.close()  # about 60 calls: well inside one token's rate limit
    return [
        Result(
            f"API rows page (token) vs the grid page, PostgreSQL {ROWS:,} rows",
            times["api first"],
            times["page first"],
            "ms",
            "<= 1.2",
        ),
        Result("API rows page at 80% depth vs page one", times["api deep"], times["api first"], "ms", "<= 1.5"),
    ]
