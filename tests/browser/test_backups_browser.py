"""In a real browser: a plan on the demo database, Run now, the progress, a restore-test, the badge turns green."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.test_connection_browser import log_in
from tests.fixtures import People, team_sqlite_dir

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_an_admin_plans_a_backup_of_the_demo_runs_it_restore_tests_it_and_sees_green(
    page: Any,
    live_server: Any,
    people: People,
    sqlite_root: Path,
    artifacts: Path,
    transactional_db: Any,
    settings: Any,
) -> None:
    from backups.models import Destination
    from connections.demo import build_demo_sqlite
    from connections.models import Connection

    settings.DBDECK_BACKUP_ROOT = sqlite_root.parent / "backups"
    demo = team_sqlite_dir(sqlite_root, people.acme) / "demo-shop.sqlite3"
    build_demo_sqlite(demo, orders=20_000)
    connection = Connection.objects.create(
        team=people.acme, name="Demo shop (SQLite)", engine="sqlite", database=str(demo)
    )
    Destination.objects.create(team=people.acme, name="Local folder", kind="local")
    base = live_server.url
    log_in(page, base, "alice")
    assert "backup-" not in page.locator(f"tr:has-text('{connection.name}')").inner_html()

    page.goto(f"{base}/backups/")
    page.click("text=New plan")
    page.select_option("#id_connection", str(connection.pk))
    page.fill("#id_name", "Demo nightly")
    page.fill("#id_cron", "0 2 * * *")
    page.fill("#id_timezone", "Europe/Paris")
    page.select_option("#id_destination", label="Local folder")
    page.fill("#id_verify", "SELECT count(*) > 0 FROM orders => 1")
    page.click("button:text('Save plan')")
    page.wait_for_url(f"{base}/backups/plans/*/")
    assert page.locator("dd .mono").count() >= 5  # the next five run times

    page.click("#run-now")
    page.wait_for_url(f"{base}/backups/runs/*/")
    page.locator("#run-status:text('Succeeded')").wait_for()
    assert page.locator("progress.backup").get_attribute("value") == "100"
    assert "manifest.json" in page.content()

    page.click("text=Demo nightly")
    page.click("#restore-test-now")
    page.wait_for_url(f"{base}/backups/restore-tests/*/")
    page.locator("#test-status:text('Succeeded')").wait_for()
    assert page.locator("td.check.fail").count() == 0 and page.locator("td.check.ok").count() >= 3

    page.goto(f"{base}/connections/{connection.pk}/")
    badge = page.locator(".badge.backup-green")
    badge.wait_for()
    assert "restore verified" in badge.inner_text() and "RTO" in badge.inner_text()
    page.goto(f"{base}/connections/")
    assert page.locator(f"tr:has-text('{connection.name}') .badge.backup-green").count() == 1
    page.goto(f"{base}/backups/")
    page.click("text=Demo nightly")
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "backups.png"), full_page=True)
    page.screenshot(path=str(artifacts / "backups.png"), full_page=True)
