"""Redis key tree, typed values and key edits against the real server."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest
import redis
from django.urls import reverse

from audit.models import AuditEvent
from connections.engines import EngineError
from connections.engines.browse import KeyBrowsing
from connections.models import Connection
from tests.fixtures import People, client_for
from tests.services import Servers

DB = 5
BINARY_KEY = b"bin:\xff\x00\\x41 key"
HOSTILE_KEY = "q'u\"o`te]; <script>alert(1)</script> 名:leaf"


@pytest.fixture
def r(servers: Servers) -> Any:
    rs = servers.redis
    client = redis.Redis(host=rs.host, port=rs.port, password=rs.password, db=DB)
    client.flushdb()
    for i in range(300):
        client.set(f"user:{i}:name", f"name {i}")
    # Past 512 fields a hash leaves the compact encoding, so HSCAN really pages it.
    client.hset("user:7:profile", mapping={f"field{i}": f"<b>{i}</b>" for i in range(2000)})
    client.rpush("queue:jobs", *[f"job {i}" for i in range(120)])
    client.sadd("tags", "a", "b", "<script>")
    client.zadd("scores", {"alice": 3.5, "bob": 1, "<x>": 2})
    client.xadd("events", {"kind": "login", "user": "alice"})
    client.set(BINARY_KEY, b"\x00\x01\xfe binary value")
    client.set(HOSTILE_KEY, "<img src=x onerror=alert(1)>", ex=3600)
    client.set("big", "y" * 10_000_000)
    yield client
    client.flushdb()


@pytest.fixture
def conn(servers: Servers, people: People, r: Any) -> Connection:
    rs = servers.redis
    connection = Connection(
        team=people.acme,
        name="cache",
        engine="redis",
        host=rs.host,
        port=rs.port,
        database=str(DB),
        options={"tls_mode": "disable"},
    )
    connection.set_secret(rs.password)
    connection.save()
    return connection


def tree(client: Any, conn: Connection, **query: Any) -> str:
    url = reverse("explorer:browse", args=[conn.pk]) + "?" + urlencode({"ns": DB, **query})
    response = client.get(url)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.content.decode()


def scan_all(client: Any, conn: Connection, **query: Any) -> str:
    body = tree(client, conn, **query)
    pages = [body]
    while match := re.search(r'href="(\?[^"]*scan=[^"]+)">Scan more', body):
        body = client.get(
            reverse("explorer:browse", args=[conn.pk]) + match.group(1).replace("&amp;", "&")
        ).content.decode()
        pages.append(body)
    return "\n".join(pages)


def test_the_tree_groups_keys_by_separator(conn: Connection, people: People) -> None:
    body = scan_all(client_for(people.carol), conn)
    assert "user" in body and "queue" in body and "tags" in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert(1)</script>" not in body


def test_a_prefix_opens_its_keys(conn: Connection, people: People) -> None:
    body = scan_all(client_for(people.carol), conn, prefix="user:7:")
    assert "user:7:name" in body or "name" in body
    assert "profile" in body and "hash" in body


def test_pattern_and_type_filters(conn: Connection, people: People) -> None:
    body = scan_all(client_for(people.carol), conn, pattern="queue:*", type="list")
    rows = body.split("<tbody>")[1].split("</tbody>")[0]
    assert "queue:" in rows and "user" not in rows and "tags" not in rows
    body = scan_all(client_for(people.carol), conn, prefix="queue:", type="list")
    assert "jobs" in body and "list" in body


def test_binary_and_hostile_keys_round_trip_through_urls(conn: Connection, people: People) -> None:
    client = client_for(people.carol)
    body = scan_all(client, conn, prefix="bin:")
    link = re.search(r'href="(/connections/\d+/browse/key/\?[^"]+)"', body).group(1).replace("&amp;", "&")
    detail = client.get(link)
    assert detail.status_code == 200
    assert b"00 01 fe" in detail.content
    with conn.adapter() as adapter:
        keys = adapter.get(KeyBrowsing)
        assert keys.unescape_key(keys.escape_key(BINARY_KEY)) == BINARY_KEY
        assert keys.unescape_key(keys.escape_key(HOSTILE_KEY.encode())) == HOSTILE_KEY.encode()


def test_a_hash_is_paged_with_hscan(conn: Connection, people: People) -> None:
    client = client_for(people.carol)
    url = reverse("explorer:key", args=[conn.pk]) + "?" + urlencode({"ns": DB, "key": "user:7:profile"})
    body = client.get(url).content.decode()
    assert "&lt;b&gt;" in body and body.count("<tr>") < 1000 and "More" in body


def test_every_type_renders(conn: Connection, people: People) -> None:
    client = client_for(people.carol)
    for key, expected in [
        ("queue:jobs", "job 0"),
        ("tags", "&lt;script&gt;"),
        ("scores", "alice"),
        ("events", "login"),
        ("big", "Cut"),
    ]:
        body = client.get(reverse("explorer:key", args=[conn.pk]) + "?" + urlencode({"ns": DB, "key": key}))
        assert body.status_code == 200 and expected in body.content.decode(), key
        assert len(body.content) < 5_000_000


def test_an_editor_sets_renames_expires_and_deletes_with_audit(conn: Connection, people: People, r: Any) -> None:
    client = client_for(people.bob)
    edit = reverse("explorer:key_edit", args=[conn.pk])
    assert client.post(edit, {"ns": DB, "key": "user:1:name", "action": "set", "value": "new <v>"}).status_code == 302
    assert r.get("user:1:name") == b"new <v>"
    client.post(edit, {"ns": DB, "key": "user:1:name", "action": "rename", "new_key": "user:1:renamed"})
    assert r.exists("user:1:renamed") and not r.exists("user:1:name")
    client.post(edit, {"ns": DB, "key": "user:1:renamed", "action": "expire", "ttl": "100"})
    assert 0 < r.ttl("user:1:renamed") <= 100
    client.post(edit, {"ns": DB, "key": "user:7:profile", "action": "hset", "field": "f'x", "value": "v"})
    assert r.hget("user:7:profile", "f'x") == b"v"
    client.post(edit, {"ns": DB, "key": "user:1:renamed", "action": "delete"})
    assert not r.exists("user:1:renamed")
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"data.redis.set", "data.redis.rename", "data.redis.expire", "data.delete"} <= actions


def test_renaming_never_overwrites_an_existing_key(conn: Connection, people: People, r: Any) -> None:
    response = client_for(people.bob).post(
        reverse("explorer:key_edit", args=[conn.pk]),
        {"ns": DB, "key": "user:1:name", "action": "rename", "new_key": "tags"},
    )
    assert response.status_code == 400
    assert r.type("tags") == b"set"


def test_a_viewer_cannot_write_even_by_hand(conn: Connection, people: People, r: Any) -> None:
    response = client_for(people.carol).post(
        reverse("explorer:key_edit", args=[conn.pk]), {"ns": DB, "key": "tags", "action": "delete"}
    )
    assert response.status_code == 403 and r.exists("tags")
    with conn.adapter(read_only=True) as adapter, pytest.raises(EngineError):
        adapter.get(KeyBrowsing).delete_key(DB, b"tags")
    assert r.exists("tags")
