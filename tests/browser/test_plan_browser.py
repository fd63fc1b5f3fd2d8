"""In a real browser: EXPLAIN ANALYZE a query and see the hot node; take the what-if advice and build the index."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from connections.demo import build_demo_sqlite
from connections.models import Connection
from tests.browser.test_connection_browser import log_in
from tests.explorer.test_explain_pages import pg_connection, pg_run
from tests.fixtures import People
from tests.services import Servers

DOCS = Path(__file__).resolve().parents[2] / "docs"
QUERY = (
    "SELECT c.name, count(*) AS orders FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id"
    " WHERE o.status = 'new' GROUP BY c.name ORDER BY 2 DESC LIMIT 10"
)


def test_explain_analyze_highlights_the_hot_node(
    page: Any, live_server: Any, people: People, servers: Servers, artifacts: Path, transactional_db: Any
) -> None:
    pg_run(
        servers,
        "DROP SCHEMA IF EXISTS shop CASCADE",
        "CREATE SCHEMA shop",
        "CREATE TABLE shop.customers (id int PRIMARY KEY, name text)",
        "INSERT INTO shop.customers SELECT g, 'customer ' || g FROM generate_series(1, 2000) g",
        "CREATE TABLE shop.orders (id int PRIMARY KEY, customer_id int, status text, total int)",
        "INSERT INTO shop.orders SELECT g, g % 2000 + 1, CASE WHEN g % 500 = 0 THEN 'new' ELSE 'done' END, g % 97"
        " FROM generate_series(1, 300000) g",
        # One process: with parallel workers the hot node may be the Gather (waiting for workers to start).
        "ALTER TABLE shop.orders SET (parallel_workers = 0)",
        "ANALYZE shop.customers",
        "ANALYZE shop.orders",
    )
    connection = pg_connection(servers, people, name="Shop (PostgreSQL)")
    base = live_server.url
    log_in(page, base, "bob")
    page.goto(f"{base}/connections/{connection.pk}/explain/?" + urlencode({"statement": QUERY}))
    assert page.input_value("#statement") == QUERY
    page.check("input[name=analyze]")
    page.click("button[type=submit]:text('Explain')")
    page.wait_for_url("**/plans/**")
    hot = page.locator(".plan-node.hot").first
    assert hot.is_visible()
    assert "Seq Scan" in hot.locator(".op").first.inner_text()
    assert page.locator(".badge.hot").count() == 1
    assert "reads 300,000 rows to return 600" in page.locator(".plan-hints").inner_text()
    assert "rolled back" in page.content()
    page.locator("details.plan-raw summary").click()
    assert page.locator("details.plan-raw pre").is_visible()
    page.locator("details.plan-raw summary").click()
    page.set_viewport_size({"width": 1280, "height": 1280})
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(artifacts / "plan.png"), full_page=False)
    DOCS.mkdir(exist_ok=True)
    shutil.copyfile(artifacts / "plan.png", DOCS / "plan.png")

    page.click("a:text('Check with what-if')")
    page.wait_for_url("**/indexes/advice/**")
    assert "Recommended: measured with hypothetical indexes" in page.content()


def test_what_if_advice_on_the_demo_database_builds_the_index_from_the_page(
    page: Any, live_server: Any, people: People, acme_sqlite_dir: Path, transactional_db: Any
) -> None:
    path = acme_sqlite_dir / "demo.sqlite3"
    build_demo_sqlite(path, orders=3_000)
    demo = Connection.objects.create(team=people.acme, name="Demo shop", engine="sqlite", database=str(path))
    base = live_server.url
    log_in(page, base, "bob")
    statement = "SELECT * FROM orders WHERE status = 'shipped'"
    page.goto(f"{base}/connections/{demo.pk}/explain/?" + urlencode({"statement": statement}))
    page.click("button[type=submit]:text('Explain')")
    page.wait_for_url("**/plans/**")
    assert page.locator(".plan-node.big-scan").count() == 1
    page.click("a:text('Check with what-if')")
    page.wait_for_url("**/indexes/advice/**")
    assert "Heuristic advice (not measured)" in page.content()
    row = page.locator("tr.advice", has=page.locator("td.mono:text-is('status')"))
    row.locator("button:text('Create this index')").click()
    page.wait_for_url("**/indexes/jobs/**")
    page.locator(".job-status:text('Done')").wait_for()
    with sqlite3.connect(path) as db:
        names = [r[1] for r in db.execute("PRAGMA index_list(orders)")]
    assert "orders_status_idx" in names
