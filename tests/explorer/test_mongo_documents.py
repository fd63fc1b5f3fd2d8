"""MongoDB collections and documents (SecantusDB over the wire) with hostile names and values."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from bson import ObjectId
from django.urls import reverse
from pymongo import MongoClient

from audit.models import AuditEvent
from connections.engines import EngineError, cursor
from connections.engines.browse import TableBrowsing
from connections.models import Connection
from tests.fixtures import People, client_for
from tests.services import Servers

DBNAME = "dbdeck_explorer"
COLL = "co'll\"ection <script>alert(1)</script> 名"
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def mongo(servers: Servers) -> Any:
    m = servers.mongodb
    client = MongoClient(
        host=m.host,
        port=m.port,
        username=m.username,
        password=m.password,
        authSource=m.extra.get("auth_source", "admin"),
        directConnection=True,
        serverSelectionTimeoutMS=5000,
    )
    db = client[DBNAME]
    db.drop_collection(COLL)
    docs = [
        {
            "_id": i,
            "n": i,
            "name": XSS if i == 3 else f"doc {i:04d}",
            "tags": ["a", "b"],
            "nested": {"k": i},
            "bin": b"\x00\xff" * 3,
        }
        for i in range(1, 251)
    ]
    db[COLL].insert_many(docs)
    db["oids"].drop()
    db["oids"].insert_many([{"v": i} for i in range(30)])
    yield db
    db.drop_collection(COLL)
    client.close()


@pytest.fixture
def conn(servers: Servers, people: People, mongo: Any) -> Connection:
    m = servers.mongodb
    connection = Connection(
        team=people.acme,
        name="docs",
        engine="mongodb",
        host=m.host,
        port=m.port,
        username=m.username,
        database="",
        options={"tls_mode": "disable", "auth_source": m.extra.get("auth_source", "admin")},
    )
    connection.set_secret(m.password)
    connection.save()
    return connection


def grid(client: Any, conn: Connection, **query: Any) -> str:
    response = client.get(
        reverse("explorer:browse", args=[conn.pk]) + "?" + urlencode({"ns": DBNAME, "obj": COLL, **query})
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.content.decode()


def ids(body: str) -> list[Any]:
    return [cursor.decode(t)["_id"] for t in re.findall(r"key=([A-Za-z0-9_\-]+)", body)]


def test_collections_list_with_estimates(conn: Connection, people: People) -> None:
    body = (
        client_for(people.carol)
        .get(reverse("explorer:browse", args=[conn.pk]) + "?" + urlencode({"ns": DBNAME}))
        .content.decode()
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert(1)</script>" not in body
    assert "oids" in body


def test_documents_page_forward_and_back_by_id(conn: Connection, people: People) -> None:
    client = client_for(people.carol)
    body = grid(client, conn)
    first = ids(body)
    assert first[:3] == [1, 2, 3] and len(first) == 100
    nxt = re.search(r'href="(\?[^"]+)" rel="next"', body).group(1).replace("&amp;", "&")
    second = client.get(reverse("explorer:browse", args=[conn.pk]) + nxt).content.decode()
    assert ids(second)[0] == 101
    prv = re.search(r'href="(\?[^"]+)" rel="prev"', second).group(1).replace("&amp;", "&")
    assert ids(client.get(reverse("explorer:browse", args=[conn.pk]) + prv).content.decode()) == first


def test_json_filter_projection_and_sort(conn: Connection, people: People) -> None:
    body = grid(client_for(people.carol), conn, q='{"n": {"$gt": 240}}', msort='{"n": -1}', proj='{"name": 1}')
    assert ids(body) == list(range(250, 240, -1))
    assert "doc 0250" in body and "nested" not in body.split("<tbody>")[1]


def test_dangerous_operators_and_bad_json_are_refused_clearly(conn: Connection, people: People) -> None:
    client = client_for(people.carol)
    for q in ['{"$where": "sleep(1000)"}', '{"n": {"$function": {}}}', "{not json"]:
        response = client.get(
            reverse("explorer:browse", args=[conn.pk]) + "?" + urlencode({"ns": DBNAME, "obj": COLL, "q": q})
        )
        assert response.status_code == 400, q


def test_values_render_inert(conn: Connection, people: People) -> None:
    body = grid(client_for(people.carol), conn)
    assert XSS not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


def test_an_editor_replaces_a_document_as_extended_json(conn: Connection, people: People, mongo: Any) -> None:
    client = client_for(people.bob)
    url = (
        reverse("explorer:record", args=[conn.pk])
        + "?"
        + urlencode({"ns": DBNAME, "obj": COLL, "key": cursor.encode({"_id": 10})})
    )
    page = client.get(url).content.decode()
    assert "doc 0010" in page
    doc = {"_id": 10, "n": 10, "name": "edited <b>", "when": {"$date": "2024-05-01T00:00:00Z"}}
    response = client.post(url, {"key": cursor.encode({"_id": 10}), "document": json.dumps(doc)})
    assert response.status_code == 302, response.content.decode()[:1000]
    stored = mongo[COLL].find_one({"_id": 10})
    assert stored["name"] == "edited <b>" and stored["when"].year == 2024
    event = AuditEvent.objects.get(action="data.update")
    assert "doc 0010" in json.dumps(event.detail["before"])
    bad = client.post(url, {"key": cursor.encode({"_id": 10}), "document": '{"_id": 11}'})
    assert bad.status_code == 400
    assert client.post(url, {"key": cursor.encode({"_id": 10}), "document": "{oops"}).status_code == 400


def test_object_ids_round_trip_through_links(conn: Connection, people: People, mongo: Any) -> None:
    client = client_for(people.carol)
    body = client.get(
        reverse("explorer:browse", args=[conn.pk]) + "?" + urlencode({"ns": DBNAME, "obj": "oids"})
    ).content.decode()
    token = re.search(r"key=([A-Za-z0-9_\-]+)", body).group(1)
    detail = client.get(
        reverse("explorer:record", args=[conn.pk]) + "?" + urlencode({"ns": DBNAME, "obj": "oids", "key": token})
    )
    assert detail.status_code == 200 and "$oid" in detail.content.decode()
    oid = cursor.decode(token)["_id"]
    assert isinstance(oid, ObjectId) and mongo["oids"].count_documents({"_id": oid}) == 1


def test_a_viewer_cannot_write(conn: Connection, people: People, mongo: Any) -> None:
    url = reverse("explorer:record_delete", args=[conn.pk]) + "?" + urlencode({"ns": DBNAME, "obj": COLL})
    assert client_for(people.carol).post(url, {"key": cursor.encode({"_id": 1})}).status_code == 403
    with conn.adapter(read_only=True) as adapter, pytest.raises(EngineError):
        adapter.get(TableBrowsing).delete(DBNAME, COLL, {"_id": 1})
    assert mongo[COLL].count_documents({"_id": 1}) == 1
