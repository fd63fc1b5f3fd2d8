"""The API's pages in a real browser: the interactive docs and the Tokens page, under the strict policy."""

from __future__ import annotations

import re
from typing import Any

from api.models import AccessToken
from connections.models import Connection
from tests.browser.test_connection_browser import log_in
from tests.browser.test_csp_browser import Watch
from tests.fixtures import People


def test_the_api_docs_render_every_operation_without_a_policy_violation(
    page: Any, live_server: Any, people: People, transactional_db: Any
) -> None:
    watch = Watch(page)
    log_in(page, live_server.url, "carol")
    page.goto(live_server.url + "/api/v1/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/connections/{pk}/rows" in [p.replace("\u200b", "") for p in paths]
    page.locator(".opblock-summary-path", has_text="/api/v1/me").first.click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    page.wait_for_selector(".live-responses-table .response-col_status", timeout=10_000)
    assert "carol" in page.locator(".live-responses-table").inner_text()
    watch.assert_clean()


def test_a_token_made_on_the_tokens_page_is_shown_once_and_works(
    page: Any, live_server: Any, people: People, acme_sqlite: Connection, transactional_db: Any
) -> None:
    watch = Watch(page)
    log_in(page, live_server.url, "carol")
    page.get_by_role("link", name="Tokens").click()
    page.fill("#id_name", "CI <nightly>")
    page.get_by_role("button", name="Make token").click()
    secret = page.locator("#token-secret").inner_text()
    assert re.fullmatch(r"dbd_[A-Za-z0-9_-]{43}", secret)
    assert page.locator("td", has_text="CI <nightly>").count() == 1
    page.reload()
    assert secret not in page.content()
    response = page.request.get(live_server.url + "/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.json()["token"]["name"] == "CI <nightly>"
    page.get_by_role("button", name="Revoke").click()
    assert page.locator("td", has_text="revoked").count() == 1
    assert AccessToken.objects.get().revoked_at is not None
    watch.assert_clean()
