"""Response headers: a strict Content-Security-Policy, no-store on data, and error pages that
link back only to this site."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from connections.engines import cursor
from connections.models import Connection
from tests.fixtures import People, client_for

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
BUCKET = "dbdeck-headers"
EVIL = "https://evil.example/steal"


def directives(response: Any) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    parts = [p.strip().split() for p in header.split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


@pytest.fixture
def shop(people: People, acme_sqlite_dir: Path) -> Connection:
    path = acme_sqlite_dir / "shop.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO t (id, name) VALUES (1, 'secret customer')")
    return Connection.objects.create(team=people.acme, name="shop", engine="sqlite", database=str(path))


@pytest.fixture
def s3_conn(s3_client: Any, acme_s3: Connection) -> Iterator[Connection]:
    s3_client.create_bucket(Bucket=BUCKET)
    s3_client.put_object(Bucket=BUCKET, Key="payroll.csv", Body=b"name,salary\n")
    yield acme_s3
    s3_client.delete_object(Bucket=BUCKET, Key="payroll.csv")
    s3_client.delete_bucket(Bucket=BUCKET)


# Content-Security-Policy


def test_every_page_carries_a_strict_content_security_policy(people: People, shop: Connection) -> None:
    response = client_for(people.alice).get(reverse("connections:list"))
    csp = directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"][0] == "'self'" and re.fullmatch(r"'nonce-[A-Za-z0-9+/=]+'", csp["script-src"][1])
    assert csp["style-src"][0] == "'self'" and csp["style-src"][1].startswith("'nonce-")
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    header = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header


def test_the_nonce_is_new_on_every_request_and_matches_the_page(people: People) -> None:
    client = client_for(people.alice)
    first, second = client.get(reverse("connections:list")), client.get(reverse("connections:list"))
    nonce = directives(first)["script-src"][1][len("'nonce-") : -1]
    assert nonce != directives(second)["script-src"][1][len("'nonce-") : -1]
    assert f'nonce="{nonce}"' in first.content.decode()


def test_the_login_page_has_the_policy_too() -> None:
    response = Client().get(reverse("login"))
    assert directives(response)["script-src"][0] == "'self'"


def test_htmx_is_configured_to_need_neither_eval_nor_an_injected_style(people: People) -> None:
    body = client_for(people.alice).get(reverse("connections:list")).content.decode()
    config = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", body)
    assert config is not None
    assert '"includeIndicatorStyles": false' in config.group(1)
    assert '"allowEval": false' in config.group(1)
    css = (Path(__file__).resolve().parents[1] / "static" / "css" / "dbdeck.css").read_text()
    assert ".htmx-request .htmx-indicator" in css


@pytest.mark.parametrize("path", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")))
def test_no_template_holds_inline_script_style_or_handlers(path: str) -> None:
    text = re.sub(r"{#.*?#}", "", (TEMPLATES / path).read_text())  # comments never reach the browser
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert "<style" not in text, "inline <style>"
    assert not re.search(r"\sstyle=", text), "style attribute"
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler"
    assert "hx-on" not in text, "hx-on needs eval"
    assert "javascript:" not in text, "javascript: URLs are inline script"
    assert not re.search(r"\|\s*safe\b", text), "|safe on data"


# Cache-Control: no-store


def assert_no_store(response: Any) -> None:
    assert response.status_code == 200, response.content[:500]
    assert "no-store" in response.headers.get("Cache-Control", ""), response.headers.get("Cache-Control")


def test_the_grid_is_not_stored_by_any_cache(people: People, shop: Connection) -> None:
    url = reverse("explorer:browse", args=[shop.pk]) + "?" + urlencode({"ns": "main", "obj": "t"})
    assert_no_store(client_for(people.carol).get(url))


def test_the_record_page_is_not_stored_by_any_cache(people: People, shop: Connection) -> None:
    query = urlencode({"ns": "main", "obj": "t", "key": cursor.encode({"id": 1})})
    response = client_for(people.carol).get(reverse("explorer:record", args=[shop.pk]) + "?" + query)
    assert b"secret customer" in response.content
    assert_no_store(response)


def test_the_audit_page_is_not_stored_by_any_cache(people: People) -> None:
    assert_no_store(client_for(people.alice).get(reverse("audit:list")))


def test_an_export_download_is_not_stored_by_any_cache(
    people: People, shop: Connection, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(people.carol)
    start = reverse("explorer:export", args=[shop.pk]) + "?" + urlencode({"ns": "main", "obj": "t"})
    with django_capture_on_commit_callbacks(execute=True):
        location = client.post(start, {"format": "csv", "max_rows": "10"})["Location"]
    assert_no_store(client.get(location))
    download = client.get(location + "download/")
    assert b"secret customer" in b"".join(download.streaming_content)
    assert_no_store(download)


def test_an_object_download_is_not_stored_by_any_cache(people: People, s3_conn: Connection) -> None:
    url = reverse("explorer:object_download", args=[s3_conn.pk]) + "?" + urlencode({"ns": BUCKET, "key": "payroll.csv"})
    response = client_for(people.carol).get(url)
    assert b"".join(response.streaming_content) == b"name,salary\n"
    assert_no_store(response)


def test_static_files_keep_their_cache_lifetime(people: People) -> None:
    response = client_for(people.alice).get("/static/css/dbdeck.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


# Error pages link back only to this site


def test_a_404_links_back_to_a_same_origin_referrer(people: People) -> None:
    here = "http://testserver/connections/?page=2"
    body = client_for(people.alice).get("/connections/999999/", HTTP_REFERER=here).content.decode()
    assert '<a href="http://testserver/connections/?page=2">Back</a>' in body


def test_a_404_ignores_a_referrer_on_another_site(people: People) -> None:
    response = client_for(people.alice).get("/connections/999999/", HTTP_REFERER=EVIL)
    body = response.content.decode()
    assert response.status_code == 404
    assert "evil.example" not in body and ">Back<" not in body
    assert '<a href="/">Home</a>' in body


def test_a_404_ignores_a_javascript_referrer(people: People) -> None:
    body = client_for(people.alice).get("/connections/999999/", HTTP_REFERER="javascript:alert(1)").content.decode()
    assert "javascript:" not in body and ">Back<" not in body
    assert '<a href="/">Home</a>' in body


def test_a_referrer_with_another_scheme_is_not_same_origin(people: People) -> None:
    body = client_for(people.alice).get("/connections/999999/", HTTP_REFERER="https://testserver/x").content.decode()
    assert "https://testserver/x" not in body and '<a href="/">Home</a>' in body


def test_a_403_links_back_only_to_this_site(people: People, shop: Connection) -> None:
    url = reverse("connections:edit", args=[shop.pk])
    evil = client_for(people.carol).get(url, HTTP_REFERER=EVIL)
    assert evil.status_code == 403 and "evil.example" not in evil.content.decode()
    same = client_for(people.carol).get(url, HTTP_REFERER="http://testserver/connections/")
    assert '<a href="http://testserver/connections/">Back</a>' in same.content.decode()


def test_the_explorer_error_page_links_back_only_to_this_site(people: People, shop: Connection) -> None:
    url = reverse("explorer:export", args=[shop.pk])  # no table chosen: an explorer error page
    evil = client_for(people.carol).get(url, HTTP_REFERER=EVIL)
    assert evil.status_code >= 400 and "evil.example" not in evil.content.decode()
    js = client_for(people.carol).get(url, HTTP_REFERER="javascript:alert(1)")
    assert "javascript:" not in js.content.decode()
    same = client_for(people.carol).get(url, HTTP_REFERER="http://testserver/explorer/")
    assert '<a href="http://testserver/explorer/">Back</a>' in same.content.decode()


def test_the_500_page_links_home_without_a_request(people: People) -> None:
    from django.template import loader

    body = loader.get_template("500.html").render()
    assert '<a href="/">Home</a>' in body and ">Back<" not in body


def test_a_csrf_failure_renders_our_page_without_inline_styles(people: People) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.alice)
    response = client.post(reverse("connections:create"), {}, HTTP_REFERER="http://testserver/connections/new/")
    body = response.content.decode()
    assert response.status_code == 403 and "This form has expired" in body
    assert "<style" not in body and '<a href="http://testserver/connections/new/">Back</a>' in body
