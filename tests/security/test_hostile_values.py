"""The inputs that used to give a 500, each answered with a 4xx that says what is wrong."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from django.test import Client
from django.urls import reverse

from connections.engines import EngineError, cursor
from connections.models import Connection
from tests.fixtures import People
from tests.services import Servers


def b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def client_as(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "token",
    [
        b64({"a": 1}),  # an untagged object
        b64({"$x": "1"}),  # an unknown tag
        b64({"$i": "١٢"}),  # a large-int tag with Unicode digits
        b64({"$b": 5}),  # a tag with the wrong payload type
        b64([1] * 5000),  # too many values
        b64("NaN")[:-1] + "",  # damaged base64
        base64.urlsafe_b64encode(b"[NaN]").decode(),
        base64.urlsafe_b64encode(b"[" * 50_000 + b"]" * 50_000).decode()[:60_000],
        b64([[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]),
    ],
)
def test_hand_made_tokens_are_refused_as_damaged(token: str) -> None:
    with pytest.raises(EngineError, match="damaged|too long") as info:
        cursor.decode(token, shape=cursor.POSITION)
    assert info.value.kind == "config"


def test_a_token_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(EngineError):
        cursor.decode(cursor.encode([1, 2]), shape=cursor.OFFSET)
    with pytest.raises(EngineError):
        cursor.decode(cursor.encode(7), shape=cursor.KEY)
    with pytest.raises(EngineError):
        cursor.decode(cursor.encode([1, 2]), shape=cursor.POSITION, length=3)
    assert cursor.decode(cursor.encode({"id": 2**60}), shape=cursor.KEY) == {"id": 2**60}


@pytest.mark.parametrize(
    "query",
    [
        {"ns": "main", "obj": "t", "after": cursor.encode(5)},  # an offset token on a keyed table
        {"ns": "main", "obj": "t", "after": b64({"a": [1]})},
        {"ns": "main", "obj": "t", "after": cursor.encode(["a", "b", "c"])},
    ],
)
def test_hand_made_page_tokens_answer_400(query: dict[str, str], acme_sqlite: Connection, people: People) -> None:
    response = client_as(people.carol).get(reverse("explorer:browse", args=[acme_sqlite.pk]), query)
    assert response.status_code == 400
    assert "start again from the first page" in response.content.decode() or "no longer fits" in (
        response.content.decode()
    )


def test_hand_made_row_tokens_answer_400(acme_sqlite: Connection, people: People) -> None:
    url = reverse("explorer:record", args=[acme_sqlite.pk])
    for key in (b64([1]), cursor.encode([1]), b64({"$o": {"id": {"$o": {"x": [1]}}}}), "%%%"):
        response = client_as(people.carol).get(url, {"ns": "main", "obj": "t", "key": key})
        assert response.status_code in (400, 404), key


@pytest.mark.parametrize("url_name", ["connections:detail", "explorer:browse", "connections:edit"])
@pytest.mark.parametrize("pk", ["99999999999999999999", "9223372036854775808"])
def test_ids_past_64_bits_are_not_found(url_name: str, pk: str, people: People) -> None:
    path = reverse(url_name, args=[1]).replace("/1/", f"/{pk}/")
    assert client_as(people.alice).get(path).status_code == 404


def test_the_largest_64_bit_id_is_simply_missing(people: People) -> None:
    response = client_as(people.alice).get(reverse("connections:detail", args=[2**63 - 1]))
    assert response.status_code == 404


@pytest.fixture
def pg(servers: Servers, people: People) -> Connection:
    server = servers.postgresql
    db = psycopg2.connect(
        host=server.host, port=server.port, user=server.username, password=server.password, dbname=server.database
    )
    db.autocommit = True
    with db.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS nul CASCADE; CREATE SCHEMA nul")
        cur.execute("CREATE TABLE nul.t (id serial PRIMARY KEY, name text)")
        cur.execute("INSERT INTO nul.t (name) VALUES ('kept')")
    db.close()
    conn = Connection(
        team=people.acme,
        name="pg",
        engine="postgresql",
        host=server.host,
        port=server.port,
        database=server.database,
        username=server.username,
        options={"tls_mode": "disable"},
    )
    conn.set_secret(server.password)
    conn.save()
    return conn


def test_a_nul_byte_in_a_postgresql_filter_answers_400(pg: Connection, people: People) -> None:
    query = {"ns": "nul", "obj": "t", "fc": "name", "fo": "eq", "fv": "a\x00b"}
    response = client_as(people.carol).get(reverse("explorer:browse", args=[pg.pk]), query)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_a_nul_byte_in_a_postgresql_insert_answers_400_and_writes_nothing(pg: Connection, people: People) -> None:
    url = reverse("explorer:record_new", args=[pg.pk]) + "?ns=nul&obj=t"
    response = client_as(people.bob).post(url, {"v:name": "a\x00b"})
    assert response.status_code == 400 and "NUL" in response.content.decode()
    with pg.adapter() as adapter:
        assert adapter._execute("SELECT name FROM nul.t ORDER BY id") == [("kept",)]


@pytest.mark.parametrize("value", ["١٢", "²", "５", "1_0", "99999999999999999999999"])
def test_numbers_with_other_than_ascii_digits_answer_400(value: str, acme_sqlite: Connection, people: People) -> None:
    audit = Client(raise_request_exception=False)
    audit.force_login(people.alice)
    assert audit.get(reverse("audit:list"), {"before": value}).status_code == 400
    export = reverse("explorer:export", args=[acme_sqlite.pk]) + "?ns=main&obj=t"
    response = client_as(people.carol).post(export, {"format": "csv", "max_rows": value})
    assert response.status_code == 400 and "digits 0-9" in response.content.decode()


def test_a_redis_database_number_in_other_digits_is_refused_on_save(people: People, sqlite_root: Path) -> None:
    conn = Connection(team=people.acme, name="r", engine="redis", host="127.0.0.1", database="²")
    with pytest.raises(Exception, match="Redis database is a number"):
        conn.full_clean()
