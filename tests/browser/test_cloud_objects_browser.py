"""In a real browser: a Cloud Storage bucket and an Azure container, an object, its signed link in place, an upload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_connection_browser import log_in
from tests.cloudstores import Arranger
from tests.fixtures import People
from tests.services import Servers


@pytest.mark.parametrize("engine", ["gcs", "azure"])
def test_browse_open_an_object_make_a_link_and_upload(
    page: Any,
    live_server: Any,
    people: People,
    servers: Servers,
    artifacts: Path,
    transactional_db: Any,
    tmp_path: Path,
    engine: str,
) -> None:
    store = Arranger(engine, getattr(servers, engine))
    bucket = store.bucket("browser")
    store.put(bucket, "reports/2024/<img src=x onerror=alert(1)>.csv", b"a,b\n1,2\n")
    conn = store.connection(people.acme)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    base = live_server.url
    log_in(page, base, "bob")
    page.goto(f"{base}/connections/{conn.pk}/browse/")
    page.click(f"a:text-is('{bucket}')")
    page.click("a:has-text('reports/')")
    page.click("a:has-text('2024/')")
    page.click("a:has-text('.csv')")
    page.wait_for_url("**/browse/object/**")
    assert page.locator("h1").inner_text() == "reports/2024/<img src=x onerror=alert(1)>.csv"
    label = {"gcs": "Signed URL", "azure": "SAS link"}[engine]
    page.click(f"button:text-is('{label}')")
    link = page.locator("#presigned input")
    link.wait_for()
    assert link.input_value().startswith(f"http://{store.server.host}:{store.server.port}/")
    page.screenshot(path=str(artifacts / f"explorer-{engine}-object.png"), full_page=True)

    page.click("a.button:text-is('Back')")
    upload = tmp_path / "from the browser ü.txt"
    upload.write_bytes(b"uploaded in a browser\n")
    page.set_input_files("input[type=file]", str(upload))
    page.click("button:text-is('Upload')")
    page.wait_for_url("**prefix=reports**")
    assert "from the browser ü.txt" in page.content()
    assert store.read(bucket, "reports/2024/from the browser ü.txt") == b"uploaded in a browser\n"
    assert not [e for e in errors if "Content Security Policy" in e], errors
