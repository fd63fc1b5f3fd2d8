"""In a real browser: run a query in the console and page its result with More, then cancel a long query."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connections.models import Connection
from tests.browser.test_connection_browser import log_in
from tests.explorer.test_console_http import stop_hosts
from tests.fixtures import People
from tests.services import Servers


@pytest.fixture
def console_conn(servers: Servers, people: People, transactional_db: Any, settings: Any) -> Iterator[Connection]:
    settings.DBDECK_CONSOLE_HOST = "thread"
    pg = servers.postgresql
    conn = Connection(
        team=people.acme, name="Orders (PostgreSQL)", engine="postgresql", host=pg.host, port=pg.port,
        database=pg.database, username=pg.username, options={"tls_mode": "disable"},
    )  # fmt: skip
    conn.set_secret(pg.password)
    conn.save()
    yield conn
    stop_hosts()


def type_statement(page: Any, text: str) -> None:
    editor = page.locator(".cm-content")
    editor.wait_for()  # the CodeMirror bundle replaced the textarea
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    editor.fill(text)


def test_run_a_query_page_its_result_and_cancel_a_long_one(
    page: Any, live_server: Any, console_conn: Connection, artifacts: Path
) -> None:
    base = live_server.url
    log_in(page, base, "bob")
    page.goto(f"{base}/connections/{console_conn.pk}/console/")
    type_statement(
        page,
        "SELECT g AS id, 'order ' || g AS label, (g % 7) * 1.5 AS amount, now() - g * interval '1 hour' AS created\n"
        "FROM generate_series(1, 250) g ORDER BY g",
    )
    page.click("#console-run")
    rows = page.locator(".console-result table.grid tbody tr")
    rows.first.wait_for()
    assert rows.count() == 100
    assert page.locator(".console-rows").inner_text() == "rows 1–100"
    page.screenshot(path=str(artifacts / "console.png"), full_page=False)

    page.click("button.console-more")
    page.locator(".console-rows:text-is('rows 101–200')").wait_for()
    assert rows.first.locator("td").nth(1).inner_text() == "101"
    page.click("button.console-more")
    page.locator(".console-rows:text-is('rows 201–250')").wait_for()
    assert rows.count() == 50 and page.locator("button.console-more").count() == 0

    type_statement(page, "SELECT pg_sleep(60)")
    page.click("#console-run")
    page.locator("#console-cancel").wait_for()
    time.sleep(0.3)
    started = time.monotonic()
    page.click("#console-cancel")
    page.locator(".run-status:text-is('Cancelled')").wait_for(timeout=5000)
    assert time.monotonic() - started < 3
    assert "Cancelled" in page.locator(".console-error").inner_text()
