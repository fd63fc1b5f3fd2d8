"""In a real browser: browse the demo SQLite table, filter it, page forward and back, open a row."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from connections.demo import build_demo_sqlite
from connections.models import Connection
from tests.browser.test_connection_browser import log_in
from tests.fixtures import People


def test_browse_filter_page_and_open_a_row_of_the_demo_database(
    page: Any, live_server: Any, people: People, acme_sqlite_dir: Path, artifacts: Path, transactional_db: Any
) -> None:
    path = acme_sqlite_dir / "demo.sqlite3"
    build_demo_sqlite(path, orders=5_000)
    demo = Connection.objects.create(team=people.acme, name="Demo shop", engine="sqlite", database=str(path))
    base = live_server.url
    log_in(page, base, "carol")
    page.goto(f"{base}/connections/{demo.pk}/browse/?ns=main")
    orders_row = page.locator("table.grid tbody tr", has=page.locator("a:text-is('orders')"))
    rows_cell, size_cell = orders_row.locator("td.num").all()
    assert rows_cell.inner_text() == "5,000" and re.fullmatch(r"[0-9.,]+ (kB|MB)", size_cell.inner_text())
    for cell in (rows_cell, size_cell):
        assert cell.evaluate("td => getComputedStyle(td).textAlign") == "right"
    page.click("a:text-is('orders')")
    page.locator("table.grid.data tbody tr").first.wait_for()
    assert page.locator("table.grid.data tbody tr").count() == 100
    first_page_first_row = page.locator("table.grid.data tbody tr").first.inner_text()

    page.click("a[rel=next]")
    page.wait_for_url("**after=**")
    assert page.locator("table.grid.data tbody tr").first.inner_text() != first_page_first_row
    page.click("a[rel=prev]")
    page.wait_for_url("**before=**")
    assert page.locator("table.grid.data tbody tr").first.inner_text() == first_page_first_row

    page.select_option("#filters select[name=fc]", "status")
    page.select_option("#filters select[name=fo]", "eq")
    page.fill("#filters input[name=fv]", "shipped")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**fv=shipped**")
    statuses = page.locator("table.grid.data tbody tr td:nth-child(4)").all_inner_texts()
    assert statuses and all(s == "shipped" for s in statuses)
    page.screenshot(path=str(artifacts / "explorer-grid.png"), full_page=False)

    page.locator("td.rowlink a").first.click()
    page.wait_for_url("**/browse/row/**")
    assert page.locator("table.grid.record").is_visible()
    assert "shipped" in page.content()
    page.screenshot(path=str(artifacts / "explorer-row.png"), full_page=True)
