"""In a real browser: log in, add a PostgreSQL connection, press Test connection, see the version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.fixtures import PASSWORD, People
from tests.services import Servers


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/connections/")


def test_an_admin_adds_a_postgresql_connection_and_tests_it(
    page: Any, live_server: Any, people: People, servers: Servers, artifacts: Path, transactional_db: Any
) -> None:
    pg = servers.postgresql
    base = live_server.url
    log_in(page, base, "alice")
    page.click("text=Add connection")
    page.select_option("#id_engine", "postgresql")
    assert page.is_hidden("#id_region")  # S3-only fields hide for PostgreSQL
    page.fill("#id_name", "Warehouse <b>pg</b>")
    page.fill("#id_host", pg.host)
    page.fill("#id_port", str(pg.port))
    page.fill("#id_database", pg.database)
    page.fill("#id_username", pg.username)
    page.fill("#id_secret", pg.password)
    page.select_option("#id_tls_mode", "disable")
    page.click("text=Test connection")
    result = page.locator("#test-result .check.ok")
    result.wait_for()
    assert "15." in result.inner_text() and "ms" in result.inner_text()
    page.screenshot(path=str(artifacts / "connection-test.png"), full_page=True)

    page.click("button:text('Save')")
    page.wait_for_url(f"{base}/connections/*/")
    assert page.locator("h1").inner_text().startswith("Warehouse <b>pg</b>")
    page.click("button:text('Test connection')")
    page.locator("#check-result .check.ok").wait_for()
    assert pg.password not in page.content()


def test_dark_mode_toggle_persists(page: Any, live_server: Any, people: People, transactional_db: Any) -> None:
    log_in(page, live_server.url, "carol")
    page.click("#theme-toggle")
    theme = page.evaluate("document.documentElement.dataset.theme")
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == theme
