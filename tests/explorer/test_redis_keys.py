"""Redis key tree, typed values and key edits against the real server."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
import redis
from django.urls import reverse

from audit.models import AuditEvent
from connections.engines import EngineError
from connections.engines.browse import KeyBrowsing
from connections.models import Connection
from tests import htmltree
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


@dataclass
class Tree:
    """What the key tree shows over every scan batch of one listing."""

    groups: dict[str, int] = field(default_factory=dict)  # "user:" -> keys under it, summed over batches
    opens: dict[str, str] = field(default_factory=dict)  # group -> the prefix its link opens
    leaves: dict[str, str] = field(default_factory=dict)  # name shown -> type shown
    keys: dict[str, str] = field(default_factory=dict)  # name shown -> the key its link opens
    batches: int = 0


def tree(client: Any, conn: Connection, **query: Any) -> str:
    url = reverse("explorer:browse", args=[conn.pk]) + "?" + urlencode({"ns": DB, **query})
    response = client.get(url)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.content.decode()


def scan_all(client: Any, conn: Connection, **query: Any) -> Tree:
    """Follow "Scan more" to the end, reading the rows of each batch."""
    seen = Tree()
    body = tree(client, conn, **query)
    while True:
        assert "<script>alert(1)</script>" not in body
        page = htmltree.parse(body)
        seen.batches += 1
        for row in page.find("table", "grid").find("tbody").find_all("tr"):
            links = row.find_all("a")
            if not links:
                continue  # the "no keys in this batch" row
            cells = row.find_all("td")
            name = links[0].text()
            if "group" in row.classes:
                assert name.startswith("📁 ")
                name = name.removeprefix("📁 ")
                count = re.fullmatch(r"(\d+) keys? in this scan", cells[1].text())
                assert count, cells[1].text()
                seen.groups[name] = seen.groups.get(name, 0) + int(count.group(1))
                seen.opens[name] = links[0].query()["prefix"][0]
            else:
                assert name not in seen.leaves, f"{name!r} listed twice"
                seen.leaves[name] = cells[1].text()
                seen.keys[name] = links[0].query()["key"][0]
        more = [a for a in page.find("nav", "pager").find_all("a") if a.text().startswith("Scan more")]
        if not more:
            return seen
        body = tree(client, conn, **{k: v[0] for k, v in more[0].query().items()})


def test_the_tree_groups_keys_by_separator(conn: Connection, people: People) -> None:
    seen = scan_all(client_for(people.carol), conn)
    hostile_group = HOSTILE_KEY.split(":")[0] + ":"
    # Every key with a separator is folded into its first segment; the counts add up to the keys under it.
    assert seen.groups == {"user:": 301, "queue:": 1, "bin:": 1, hostile_group: 1}
    assert seen.opens == {name: name for name in seen.groups}
    # Keys without a separator are rows of their own, with their type.
    assert seen.leaves == {"tags": "set", "scores": "zset", "events": "stream", "big": "string"}
    assert seen.keys == {name: name for name in seen.leaves}


def test_a_prefix_opens_its_keys(conn: Connection, people: People) -> None:
    client = client_for(people.carol)
    seen = scan_all(client, conn, prefix="user:7:")
    assert seen.groups == {}
    assert seen.leaves == {"name": "string", "profile": "hash"}
    assert seen.keys == {"name": "user:7:name", "profile": "user:7:profile"}
    # One level up, each user is a group of its own; user 7 holds two keys.
    users = scan_all(client, conn, prefix="user:")
    assert users.groups == {f"{i}:": 2 if i == 7 else 1 for i in range(300)}
    assert users.opens == {f"{i}:": f"user:{i}:" for i in range(300)}
    assert users.leaves == {}


def test_pattern_and_type_filters(conn: Connection, people: People) -> None:
    client = client_for(people.carol)
    lists = scan_all(client, conn, pattern="queue:*", type="list")
    assert (lists.groups, lists.leaves) == ({"queue:": 1}, {})
    sets = scan_all(client, conn, type="set")
    assert (sets.groups, sets.leaves) == ({}, {"tags": "set"})
    jobs = scan_all(client, conn, prefix="queue:", type="list")
    assert (jobs.groups, jobs.leaves, jobs.keys) == ({}, {"jobs": "list"}, {"jobs": "queue:jobs"})
    strings = scan_all(client, conn, pattern="user:1*:name", type="string")
    assert strings.groups == {"user:": 111}  # user:1, user:10-19, user:100-199


def test_binary_and_hostile_keys_round_trip_through_urls(conn: Connection, people: People) -> None:
    client = client_for(people.carol)
    binary = scan_all(client, conn, prefix="bin:")
    assert binary.leaves == {"\\xff\\x00\\\\x41 key": "string"}
    [escaped] = binary.keys.values()
    detail = client.get(reverse("explorer:key", args=[conn.pk]) + "?" + urlencode({"ns": DB, "key": escaped}))
    assert detail.status_code == 200
    assert b"00 01 fe" in detail.content
    hostile = scan_all(client, conn, prefix=HOSTILE_KEY.split(":")[0] + ":")
    assert hostile.keys == {"leaf": HOSTILE_KEY}
    detail = client.get(reverse("explorer:key", args=[conn.pk]) + "?" + urlencode({"ns": DB, "key": HOSTILE_KEY}))
    assert detail.status_code == 200 and b"&lt;img src=x onerror=alert(1)&gt;" in detail.content
    with conn.adapter() as adapter:
        keys = adapter.get(KeyBrowsing)
        assert keys.unescape_key(escaped) == BINARY_KEY
        assert keys.unescape_key(keys.escape_key(BINARY_KEY)) == BINARY_KEY
        assert keys.unescape_key(keys.escape_key(HOSTILE_KEY.encode())) == HOSTILE_KEY.encode()


def test_a_hash_is_paged_with_hscan(conn: Connection, people: People) -> None:
    client = client_for(people.carol)
    url = reverse("explorer:key", args=[conn.pk]) + "?" + urlencode({"ns": DB, "key": "user:7:profile"})
    fields: dict[str, str] = {}
    pages = []
    while url:
        page = htmltree.parse(client.get(url).content)
        rows = [row.find_all("td") for row in page.find("table", "grid").find("tbody").find_all("tr")]
        pages.append(len(rows))
        fields.update((field.text(), value.text()) for field, value in rows)
        more = [a for a in page.find_all("a") if a.text() == "More ›"]
        url = reverse("explorer:key", args=[conn.pk]) + more[0].attrs["href"] if more else ""
    assert len(pages) > 1 and max(pages) < 1000  # HSCAN's count is a hint, so pages vary in size
    assert fields == {f"field{i}": f"<b>{i}</b>" for i in range(2000)}  # HSCAN may repeat a field, never lose one


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
