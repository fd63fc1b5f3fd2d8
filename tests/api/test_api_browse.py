"""Browsing through the API on the real servers: the grid's cursors and filters, Redis keys, S3 listings."""

from __future__ import annotations

from typing import Any

from connections.models import Connection
from tests.api.conftest import PG_SCHEMA, PG_TABLE, REDIS_DB, bearer
from tests.fixtures import People

API = "/api/v1"


def test_namespaces_and_objects_list_the_schema_and_its_table(acme_pg: Connection, tokens: dict[str, str]) -> None:
    client = bearer(tokens["carol"])
    names = [n["name"] for n in client.get(f"{API}/connections/{acme_pg.pk}/namespaces").json()["items"]]
    assert PG_SCHEMA in names
    listing = client.get(f"{API}/connections/{acme_pg.pk}/objects", {"ns": PG_SCHEMA}).json()
    assert [(o["name"], o["kind"]) for o in listing["items"]] == [(PG_TABLE, "table")]
    assert listing["items"][0]["estimated_rows"] == 250


def test_rows_page_by_keyset_cursor_through_every_row(acme_pg: Connection, tokens: dict[str, str]) -> None:
    client = bearer(tokens["carol"])
    ids: list[str] = []
    query: dict[str, Any] = {"ns": PG_SCHEMA, "obj": PG_TABLE, "limit": 100}
    while True:
        page = client.get(f"{API}/connections/{acme_pg.pk}/rows", query).json()
        ids += [row[0]["text"] for row in page["rows"]]
        if not page["next_cursor"]:
            break
        query["after"] = page["next_cursor"]
    assert ids == [str(i) for i in range(1, 251)]
    back = client.get(f"{API}/connections/{acme_pg.pk}/rows", {**query, "after": "", "before": page["prev_cursor"]})
    assert back.json()["rows"][-1][0]["text"] == "200"


def test_rows_are_typed_cells_and_hostile_text_stays_inert(acme_pg: Connection, tokens: dict[str, str]) -> None:
    page = bearer(tokens["carol"]).get(
        f"{API}/connections/{acme_pg.pk}/rows", {"ns": PG_SCHEMA, "obj": PG_TABLE, "limit": 1}
    )
    body = page.json()
    assert [c["name"] for c in body["columns"]] == ["id", "name", "data"]
    assert body["columns"][0]["primary_key"] is True
    number, text, binary = body["rows"][0]
    assert number["kind"] == "number" and text == {"kind": "text", "text": "=1+1 <b>'\"`", "cut": False, "length": None}
    assert binary["kind"] == "binary"


def test_filters_work_as_in_the_grid_and_count_is_exact(acme_pg: Connection, tokens: dict[str, str]) -> None:
    client = bearer(tokens["carol"])
    query = {"ns": PG_SCHEMA, "obj": PG_TABLE, "fc": ["id", "name"], "fo": ["lt", "startswith"], "fv": ["20", "item 1"]}
    page = client.get(f"{API}/connections/{acme_pg.pk}/rows", query).json()
    assert [r[0]["text"] for r in page["rows"]] == [str(i) for i in range(10, 20)]
    assert client.get(f"{API}/connections/{acme_pg.pk}/rows/count", query).json() == {"count": 10}


def test_a_row_is_read_by_the_key_token_of_its_page(acme_pg: Connection, tokens: dict[str, str]) -> None:
    client = bearer(tokens["carol"])
    page = client.get(f"{API}/connections/{acme_pg.pk}/rows", {"ns": PG_SCHEMA, "obj": PG_TABLE, "limit": 3}).json()
    row = client.get(f"{API}/connections/{acme_pg.pk}/row", {"ns": PG_SCHEMA, "obj": PG_TABLE, "key": page["keys"][2]})
    assert row.status_code == 200 and row.json()["values"]["name"]["text"] == "item 3"


def test_damaged_cursors_and_unknown_operators_get_the_grids_messages(
    acme_pg: Connection, tokens: dict[str, str]
) -> None:
    client = bearer(tokens["carol"])
    base = {"ns": PG_SCHEMA, "obj": PG_TABLE}
    response = client.get(f"{API}/connections/{acme_pg.pk}/rows", {**base, "after": "not-a-token'\"<"})
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    response = client.get(f"{API}/connections/{acme_pg.pk}/rows", {**base, "fc": "id", "fo": "drop", "fv": "1"})
    assert response.status_code == 400
    assert response.json()["detail"] == "Choose a filter operator from the list for 'id'."
    response = client.get(f"{API}/connections/{acme_pg.pk}/rows", {"ns": PG_SCHEMA, "obj": "missing\x00table"})
    assert response.status_code in (400, 404) and response.json()["detail"]


def test_a_missing_table_answers_404_with_the_engines_message(acme_pg: Connection, tokens: dict[str, str]) -> None:
    response = bearer(tokens["carol"]).get(f"{API}/connections/{acme_pg.pk}/rows", {"ns": PG_SCHEMA, "obj": "nope"})
    assert response.status_code == 404 and "nope" in response.json()["detail"]


def test_redis_keys_scan_in_batches_and_values_come_typed(acme_redis: Connection, tokens: dict[str, str]) -> None:
    client = bearer(tokens["carol"])
    seen: set[str] = set()
    scan = ""
    while True:
        listing = client.get(f"{API}/connections/{acme_redis.pk}/keys", {"ns": REDIS_DB, "scan": scan}).json()
        seen |= {i["name"] for i in listing["items"]}
        scan = listing["next_cursor"] or ""
        if not scan:
            break
    assert {"user:", "profile"} <= seen
    value = client.get(f"{API}/connections/{acme_redis.pk}/key", {"ns": REDIS_DB, "key": "profile"}).json()
    assert value["type"] == "hash"
    assert sorted((a["text"], b["text"]) for a, b in value["items"]) == [("a", "<b>1</b>"), ("b", "2")]
    missing = client.get(f"{API}/connections/{acme_redis.pk}/key", {"ns": REDIS_DB, "key": "gone"})
    assert missing.status_code == 404 and missing.json()["detail"] == "That key does not exist (it may have expired)."


def test_s3_listings_continue_by_token_and_objects_download(
    acme_s3: Connection, bucket: str, tokens: dict[str, str]
) -> None:
    client = bearer(tokens["carol"])
    buckets = [n["name"] for n in client.get(f"{API}/connections/{acme_s3.pk}/namespaces").json()["items"]]
    assert bucket in buckets
    top = client.get(f"{API}/connections/{acme_s3.pk}/bucket", {"ns": bucket}).json()
    assert {(i["name"], i["kind"]) for i in top["items"]} == {("reports/", "prefix"), ("top <x>.bin", "object")}
    inner = client.get(f"{API}/connections/{acme_s3.pk}/bucket", {"ns": bucket, "prefix": "reports/"}).json()
    assert len(inner["items"]) == 5
    meta = client.get(f"{API}/connections/{acme_s3.pk}/bucket/object", {"ns": bucket, "key": "top <x>.bin"}).json()
    assert meta["size"] == 2
    body = client.get(f"{API}/connections/{acme_s3.pk}/bucket/object/download", {"ns": bucket, "key": "top <x>.bin"})
    assert body.status_code == 200 and b"".join(body.streaming_content) == b"\x00\xff"


def test_a_page_meant_for_another_engine_family_explains_itself(
    acme_sqlite: Connection, people: People, tokens: dict[str, str]
) -> None:
    response = bearer(tokens["carol"]).get(f"{API}/connections/{acme_sqlite.pk}/keys", {"ns": "0"})
    assert response.status_code == 400
    assert response.json()["detail"] == "SQLite has no keys; open it from its own browse page."


def test_an_unreachable_server_answers_502_with_what_to_check(
    people: People, tokens: dict[str, str], closed_port: int
) -> None:
    gone = Connection.objects.create(
        team=people.acme, name="gone", engine="postgresql", host="127.0.0.1", port=closed_port,
        options={"tls_mode": "disable", "connect_timeout": 1},
    )  # fmt: skip
    client = bearer(tokens["carol"])
    response = client.get(f"{API}/connections/{gone.pk}/rows", {"ns": "public", "obj": "t"})
    assert response.status_code == 502 and response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"].startswith(f"Could not reach 127.0.0.1:{closed_port} within 1 s.")
    check = client.post(f"{API}/connections/{gone.pk}/test").json()
    assert check["ok"] is False and check["kind"] == "unreachable"


def test_a_wrong_password_is_the_engines_message(acme_pg: Connection, tokens: dict[str, str]) -> None:
    acme_pg.set_secret("wrong ' \" password")
    acme_pg.save()
    response = bearer(tokens["carol"]).post(f"{API}/connections/{acme_pg.pk}/test").json()
    assert response["ok"] is False and response["message"].startswith("Wrong username or password")


def test_oversized_and_hostile_parameters_get_clear_refusals(acme_pg: Connection, tokens: dict[str, str]) -> None:
    client = bearer(tokens["carol"])
    url = f"{API}/connections/{acme_pg.pk}/rows"
    huge = client.get(url, {"ns": PG_SCHEMA, "obj": "x" * 20_000})
    assert huge.status_code == 400 and "longer than 10,000 characters" in huge.json()["detail"]
    hostile = "ta'b\"le`]; <script>alert(1)</script> 表"
    missing = client.get(url, {"ns": PG_SCHEMA, "obj": hostile})
    assert missing.status_code == 404 and "<script>alert(1)</script> 表" in missing.json()["detail"]
    assert missing["Content-Type"] == "application/problem+json"
    bad_limit = client.get(url, {"ns": PG_SCHEMA, "obj": PG_TABLE, "limit": "١٢"})
    assert bad_limit.status_code == 400
