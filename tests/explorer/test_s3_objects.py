"""S3 buckets, prefixes and objects on moto's real HTTP server."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from connections.engines import EngineError
from connections.engines.browse import ObjectBrowsing
from connections.models import Connection
from tests.fixtures import People, client_for

BUCKET = "dbdeck-explorer"
HOSTILE = "dir one/q'u\"o`te <img src=x onerror=alert(1)> 名.txt"


@pytest.fixture
def s3(s3_client: Any) -> Any:
    client = s3_client
    client.create_bucket(Bucket=BUCKET)
    for i in range(30):
        client.put_object(Bucket=BUCKET, Key=f"logs/2024/{i:03d}.log", Body=f"line {i}\n".encode())
    client.put_object(Bucket=BUCKET, Key=HOSTILE, Body=b"<img src=x onerror=alert(1)>")
    client.put_object(Bucket=BUCKET, Key="root.bin", Body=bytes(range(256)) * 100)
    yield client
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for obj in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def conn(acme_s3: Connection, s3: Any) -> Connection:
    return acme_s3


def browse(client: Any, conn: Connection, **query: Any) -> str:
    response = client.get(reverse("explorer:browse", args=[conn.pk]) + "?" + urlencode(query))
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.content.decode()


def test_buckets_then_prefixes_then_objects(conn: Connection, people: People) -> None:
    client = client_for(people.carol)
    assert BUCKET in browse(client, conn)
    root = browse(client, conn, ns=BUCKET)
    assert "logs/" in root and "dir one/" in root and "root.bin" in root
    logs = browse(client, conn, ns=BUCKET, prefix="logs/2024/")
    assert "000.log" in logs and "029.log" in logs


def test_hostile_object_names_render_inert_and_open(conn: Connection, people: People) -> None:
    client = client_for(people.carol)
    body = browse(client, conn, ns=BUCKET, prefix="dir one/")
    assert "&lt;img src=x onerror=alert(1)&gt;" in body and "<img src=x" not in body
    link = re.search(r'href="(/connections/\d+/browse/object/\?[^"]+)"', body).group(1).replace("&amp;", "&")
    detail = client.get(link)
    assert detail.status_code == 200 and b"Download" in detail.content


def test_download_streams_the_object(conn: Connection, people: People) -> None:
    response = client_for(people.carol).get(
        reverse("explorer:object_download", args=[conn.pk]) + "?" + urlencode({"ns": BUCKET, "key": "root.bin"})
    )
    assert response.status_code == 200 and response.streaming
    assert b"".join(response.streaming_content) == bytes(range(256)) * 100
    assert AuditEvent.objects.filter(action="data.download").exists()


def test_a_presigned_url_works_and_its_expiry_is_capped(conn: Connection, people: People) -> None:
    response = client_for(people.carol).post(
        reverse("explorer:object_presign", args=[conn.pk]),
        {"ns": BUCKET, "key": "logs/2024/003.log", "expires": "99999999"},
        HTTP_HX_REQUEST="true",
    )
    url = re.search(r'value="([^"]+)"', response.content.decode()).group(1).replace("&amp;", "&")
    # moto's IAM enforcement cannot check query-string signatures, so the URL is checked by its parts.
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    assert parts.path == f"/{BUCKET}/logs/2024/003.log"
    assert query["X-Amz-Expires"] == "604800" and query["X-Amz-Signature"]
    assert query["X-Amz-Credential"].startswith(conn.username + "/")


def test_an_editor_uploads_and_deletes_with_audit(conn: Connection, people: People, s3: Any) -> None:
    client = client_for(people.bob)
    upload = SimpleUploadedFile("ré<port>.csv", b"a,b\n1,2\n", content_type="text/csv")
    response = client.post(
        reverse("explorer:object_upload", args=[conn.pk]), {"ns": BUCKET, "prefix": "up/", "file": upload}
    )
    assert response.status_code == 302
    assert s3.get_object(Bucket=BUCKET, Key="up/ré<port>.csv")["Body"].read() == b"a,b\n1,2\n"
    client.post(reverse("explorer:object_delete", args=[conn.pk]), {"ns": BUCKET, "key": "up/ré<port>.csv"})
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="up/")
    assert {"data.upload", "data.delete"} <= set(AuditEvent.objects.values_list("action", flat=True))


def test_a_viewer_cannot_upload_or_delete(conn: Connection, people: People, s3: Any) -> None:
    client = client_for(people.carol)
    response = client.post(reverse("explorer:object_delete", args=[conn.pk]), {"ns": BUCKET, "key": "root.bin"})
    assert response.status_code == 403
    with conn.adapter(read_only=True) as adapter, pytest.raises(EngineError):
        adapter.get(ObjectBrowsing).delete_object(BUCKET, "root.bin")
    assert s3.head_object(Bucket=BUCKET, Key="root.bin")["ContentLength"] == 25600


def test_listing_pages_with_continuation_tokens(conn: Connection, people: People) -> None:
    with conn.adapter() as adapter:
        store = adapter.get(ObjectBrowsing)
        first = store.list_objects(BUCKET, prefix="logs/2024/", limit=10)
        assert len(first.items) == 10 and first.next_cursor
        second = store.list_objects(BUCKET, prefix="logs/2024/", token=first.next_cursor, limit=10)
        assert {o.name for o in first.items}.isdisjoint({o.name for o in second.items})
