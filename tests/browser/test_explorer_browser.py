"""In a real browser: browse the demo SQLite table, filter it, page in place and back, open a row."""

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


def test_next_swaps_the_grid_in_place_and_the_url_follows(
    page: Any, live_server: Any, people: People, acme_sqlite_dir: Path, transactional_db: Any
) -> None:
    from playwright.sync_api import expect

    path = acme_sqlite_dir / "demo.sqlite3"
    build_demo_sqlite(path, orders=500)
    demo = Connection.objects.create(team=people.acme, name="Demo shop", engine="sqlite", database=str(path))
    base = live_server.url
    log_in(page, base, "carol")
    grid = f"{base}/connections/{demo.pk}/browse/?ns=main&obj=orders&limit=25"
    page.goto(grid)
    rows = page.locator("table.grid.data tbody tr")
    assert rows.count() == 25
    first_row, first_text = rows.first.inner_text(), rows.first.text_content()
    page.evaluate("window.stillTheSamePage = true")  # a full page load would forget this
    swaps = []
    page.on("request", lambda r: swaps.append(r.url) if r.headers.get("hx-request") == "true" else None)

    with page.expect_response(lambda r: "after=" in r.url) as answer:
        page.click("a[rel=next]")
    assert "<html" not in answer.value.text() and 'id="grid"' in answer.value.text()  # only the partial came back
    page.wait_for_url("**after=**")
    rows.first.wait_for()
    assert rows.first.inner_text() != first_row and rows.count() == 25
    assert page.evaluate("window.stillTheSamePage") is True
    assert swaps and "limit=25" in swaps[0]
    assert page.locator("nav.crumbs").count() == 1  # the partial replaced the grid, not the page inside it

    # Back: htmx keeps no copy of the page in localStorage (historyCacheSize 0), so the browser loads it again.
    page.go_back()
    page.wait_for_function("window.stillTheSamePage === undefined")
    page.wait_for_url(grid)
    expect(rows.first).to_have_text(first_text)
    assert page.evaluate("localStorage.getItem('htmx-history-cache')") is None
