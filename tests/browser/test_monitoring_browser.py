"""In a real browser: after load on PostgreSQL, the monitoring page draws its charts and lists the
slow queries; one statement opens with its history and its EXPLAIN link leads to the EXPLAIN page."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from monitoring.collect import collect
from monitoring.models import HealthSample
from tests.browser.test_connection_browser import log_in
from tests.fixtures import People
from tests.monitoring.conftest import pg_connect, saved
from tests.services import Servers

DOCS = Path(__file__).resolve().parents[2] / "docs"


def load(servers: Servers) -> None:
    conn = pg_connect(servers)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS mon_orders (id serial PRIMARY KEY, status text, total numeric)")
        cur.execute("INSERT INTO mon_orders (status, total) SELECT 'paid', g FROM generate_series(1, 2000) g")
        for i in range(40):
            cur.execute("SELECT count(*), sum(total) FROM mon_orders WHERE status = %s AND total > %s", ["paid", i])
            cur.execute("UPDATE mon_orders SET total = total + 1 WHERE id = %s", [i + 1])
        cur.execute("SELECT pg_sleep(0.05)")
    conn.close()


def test_the_monitoring_page_draws_charts_lists_slow_queries_and_links_to_explain(
    page: Any, live_server: Any, people: People, servers: Servers, artifacts: Path, transactional_db: Any
) -> None:
    pg = saved(people, servers.postgresql, "Shop database")
    collect(pg.pk)
    load(servers)
    collect(pg.pk)
    load(servers)
    collect(pg.pk)
    # The hour before these ticks, copied from the collected minute so the charts have a line to draw
    # (the ticks may have crossed a minute: the minutes they wrote are kept as they are).
    real = HealthSample.objects.filter(connection=pg).latest("bucket")
    HealthSample.objects.bulk_create(
        [
            HealthSample(
                connection=pg,
                bucket=real.bucket - dt.timedelta(minutes=m),
                ts=real.ts - 60 * m,
                gauges=real.gauges,
                counters={k: v * (1 + 0.3 * ((m * 7) % 11) / 11) for k, v in real.counters.items()},
                seconds=60,
            )
            for m in range(1, 60)
        ],
        ignore_conflicts=True,
    )
    base = live_server.url
    log_in(page, base, "carol")
    page.goto(f"{base}/monitoring/")
    page.click("a:text-is('Shop database')")
    page.wait_for_url(f"**/monitoring/{pg.pk}/")
    page.click("a.button:text-is('1h')")
    page.wait_for_url("**range=1h**")
    page.locator(".mon-plot canvas").first.wait_for()
    assert page.locator(".mon-plot canvas").count() >= 3
    table = page.locator("#statement-table tbody tr")
    assert table.count() >= 2
    assert "mon_orders" in page.locator("#statement-table").inner_text()
    page.screenshot(path=str(artifacts / "monitoring.png"), full_page=True)
    DOCS.mkdir(exist_ok=True)
    shutil.copyfile(artifacts / "monitoring.png", DOCS / "monitoring.png")

    page.fill("#slow-queries input[name=q]", "sum(total)")
    page.click("#slow-queries button[type=submit]")
    page.wait_for_url("**q=sum**")
    assert page.locator("#statement-table tbody tr").count() == 1
    page.locator("#statement-table tbody tr a").first.click()
    page.wait_for_url("**/queries/**")
    assert "$1" in page.locator("#statement-text").inner_text()
    page.locator(".mon-plot canvas").first.wait_for()
    page.click("#explain-link")
    page.wait_for_url(f"**/connections/{pg.pk}/explain/?statement=**")
    assert "mon_orders" in page.url
