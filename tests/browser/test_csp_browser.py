"""In a real browser under the strict Content-Security-Policy: every main page and its htmx
interactions run without a single policy violation or console message."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from connections.models import Connection
from explorer.models import Export, ExportStatus
from tests.browser.test_connection_browser import log_in
from tests.fixtures import People

# Playwright injects this through the DevTools protocol, so the policy does not block it.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__reportCsp([e.violatedDirective, e.blockedURI, e.sourceFile + ":" + e.lineNumber].join(" "));
});
"""


class Watch:
    """What the browser complained about, and the policy header of every document it loaded."""

    def __init__(self, page: Any) -> None:
        self.violations: list[str] = []
        self.console: list[str] = []
        self.documents: dict[str, str] = {}
        page.expose_function("__reportCsp", self._violation)
        page.add_init_script(REPORT_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.console.append(f"pageerror: {exc}"))
        page.on("response", self._response)

    def _violation(self, text: str) -> None:
        self.violations.append(text)

    def _console(self, message: Any) -> None:
        # Chromium's own notes come at "verbose" (DOM lint on Django admin's markup) and "info"
        # (autofocus skipped on admin's add form); policy violations and script errors are "error".
        if message.type not in ("verbose", "info"):
            self.console.append(f"{message.type}: {message.text} at {message.location}")

    def _response(self, response: Any) -> None:
        if response.request.resource_type in ("document", "xhr", "fetch") and "/static/" not in response.url:
            key = f"{response.status} {response.request.resource_type} {response.url}"
            self.documents[key] = response.headers.get("content-security-policy", "")

    def assert_clean(self) -> None:
        assert self.violations == []
        assert self.console == []
        assert self.documents, "no page was watched"
        missing = [url for url, csp in self.documents.items() if "default-src 'self'" not in csp]
        assert missing == []
        # Our full pages name their nonce; redirects and htmx fragments render no script tag and
        # Django admin's templates use no nonce, so theirs carry none.
        pages = {
            url: csp for url, csp in self.documents.items() if url.startswith("200 document ") and "/admin/" not in url
        }
        assert pages and all("script-src 'self' 'nonce-" in csp for csp in pages.values()), pages


@pytest.fixture
def shop(people: People, acme_sqlite_dir: Path) -> Connection:
    path = acme_sqlite_dir / "shop.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, note TEXT)")
        db.executemany(
            "INSERT INTO customers (id, name, note) VALUES (?, ?, ?)",
            [(i, f"customer {i}", "<script>alert(1)</script>" if i == 2 else "=1+1") for i in range(1, 31)],
        )
    return Connection.objects.create(team=people.acme, name="Shop", engine="sqlite", database=str(path))


def test_the_main_pages_run_under_the_policy_without_violations(
    page: Any, live_server: Any, people: People, shop: Connection, transactional_db: Any
) -> None:
    watch = Watch(page)
    base = live_server.url
    log_in(page, base, "alice")

    # Connection list, with an htmx "Test" that swaps in the result.
    page.locator(f"#check-{shop.pk} button, #check-{shop.pk} ~ td button").first.click()
    page.locator(f"#check-{shop.pk} .check").wait_for()

    # Connection form: fields the chosen engine does not use are hidden by static JS.
    page.goto(f"{base}/connections/new/")
    page.select_option("#id_engine", "postgresql")
    assert page.is_hidden("#id_region") and page.is_visible("#id_host")
    page.select_option("#id_engine", "sqlite")
    assert page.is_hidden("#id_host")
    assert page.locator("label[for=id_database]").inner_text() == "File path"

    page.goto(f"{base}/teams/")
    page.goto(f"{base}/teams/{people.acme.pk}/")
    assert "carol" in page.content()

    # Explorer: index, grid (with the htmx exact count), record page.
    page.goto(f"{base}/explorer/")
    page.goto(f"{base}/connections/{shop.pk}/browse/?ns=main&obj=customers")
    page.locator("table.grid.data tbody tr").first.wait_for()
    page.click("text=Count exactly")
    page.locator("#exact-count").filter(has_text="30").wait_for()
    page.locator("td.rowlink a").first.click()
    page.wait_for_url("**/browse/row/**")
    assert page.locator("table.grid.record").is_visible()

    # The delete button asks first (a static listener now, not an inline onclick).
    record_url = page.url
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("button.danger[data-confirm]")
    assert asked == ["Delete this row?"]
    assert page.url == record_url and page.locator("table.grid.record").is_visible()

    # Export form, then a status page whose progress polls until the worker is done.
    page.goto(f"{base}/connections/{shop.pk}/browse/export/?ns=main&obj=customers")
    assert page.is_checked("input[name=csv_mode][value=neutralised]")
    export = Export.objects.create(
        connection=shop, user=people.alice, namespace="main", obj="customers", format="csv", max_rows=10
    )
    page.goto(f"{base}/connections/{shop.pk}/exports/{export.pk}/")
    page.locator("#progress").filter(has_text="Queued").wait_for()
    Export.objects.filter(pk=export.pk).update(status=ExportStatus.DONE, rows_written=30, bytes_written=900)
    page.locator("#progress a.button").filter(has_text="Download").wait_for()
    assert "CSV, formulas neutralised (0 cells)" in page.locator("#progress").inner_text()

    page.goto(f"{base}/audit/")
    assert page.locator("h1").inner_text() == "Audit trail"

    # Dark-mode toggle flips the theme with the static script.
    before = page.evaluate("document.documentElement.dataset.theme")
    page.click("#theme-toggle")
    assert page.evaluate("document.documentElement.dataset.theme") != before

    # An error page with a hostile Referer renders under the policy too.
    page.set_extra_http_headers({"Referer": "https://evil.example/"})
    page.goto(f"{base}/connections/999999/")
    page.set_extra_http_headers({})
    assert "evil.example" not in page.content()
    # Chromium reports the 404 status itself; that one line is the page working as meant.
    expected = [m for m in watch.console if "status of 404" in m and "/connections/999999/" in m]
    assert len(expected) == 1
    watch.console.remove(expected[0])

    watch.assert_clean()


def test_the_login_page_runs_under_the_policy_without_violations(
    page: Any, live_server: Any, people: People, transactional_db: Any
) -> None:
    watch = Watch(page)
    log_in(page, live_server.url, "carol")
    watch.assert_clean()


def test_the_django_admin_runs_under_the_policy_without_violations(
    page: Any, live_server: Any, people: People, shop: Connection, transactional_db: Any
) -> None:
    people.alice.is_staff = people.alice.is_superuser = True
    people.alice.save()
    watch = Watch(page)
    base = live_server.url
    log_in(page, base, "alice")
    page.goto(f"{base}/admin/")
    page.goto(f"{base}/admin/auth/user/")
    page.goto(f"{base}/admin/auth/user/{people.bob.pk}/change/")
    page.goto(f"{base}/admin/connections/connection/")
    page.goto(f"{base}/admin/connections/connection/{shop.pk}/change/")
    page.goto(f"{base}/admin/auth/user/add/")
    watch.assert_clean()
