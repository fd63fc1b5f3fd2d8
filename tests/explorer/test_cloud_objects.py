"""Cloud Storage and Azure Blob Storage through the explorer's object pages, on gcp-storage-emulator and Azurite."""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
import urllib.request
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from connections.models import Connection
from tests.cloudstores import Arranger
from tests.fixtures import People, client_for
from tests.services import Servers

HOSTILE = [
    "名前/ü ñ.txt",
    "%2F",
    "a%2Fb",
    "//lead/x",
    "/one",
    "<script>alert(1)</script>.txt",
    "q'u\"o`te",
    "sp ace/+plus&amp;",
    "a?b#c",
    "L" * 900 + ".txt",
]
# Refused before anything is sent (or, "a/../b" on gcp-storage-emulator, dropped by it), with a 400 saying why.
REFUSED = {"gcs": ["..", "x" * 1100, "a/../b"], "azure": ["..", "a/../b", "../up", "x" * 1100]}


@pytest.fixture(params=["gcs", "azure"])
def store(request: pytest.FixtureRequest, servers: Servers) -> Arranger:
    return Arranger(request.param, getattr(servers, request.param))


@pytest.fixture
def bucket(store: Arranger) -> str:
    name = store.bucket("pages")
    for i in range(5):
        store.put(name, f"logs/2024/{i:03d}.log", f"line {i}\n".encode())
    store.put(name, "root.bin", bytes(range(256)) * 100)
    return name


@pytest.fixture
def conn(store: Arranger, people: People, bucket: str) -> Connection:
    return store.connection(people.acme)


def page(client: Any, name: str, conn: Connection, status: int = 200, **query: Any) -> str:
    response = client.get(reverse(name, args=[conn.pk]) + "?" + urlencode(query))
    assert response.status_code == status, response.content.decode()[:2000]
    return response.content.decode()


def upload(client: Any, conn: Connection, bucket: str, name: str, data: bytes, **extra: str) -> Any:
    file = SimpleUploadedFile("upload.bin", data, content_type="text/plain")
    fields = {"ns": bucket, "prefix": "", "name": name, "file": file, **extra}
    return client.post(reverse("explorer:object_upload", args=[conn.pk]), fields)


def test_buckets_then_prefixes_then_objects(store: Arranger, conn: Connection, bucket: str, people: People) -> None:
    client = client_for(people.carol)
    top = page(client, "explorer:browse", conn)
    assert bucket in top and {"gcs": "Buckets", "azure": "Containers"}[store.engine] in top
    root = page(client, "explorer:browse", conn, ns=bucket)
    assert "logs/" in root and "root.bin" in root
    assert {"gcs": "Storage class", "azure": "Access tier"}[store.engine] in root
    logs = page(client, "explorer:browse", conn, ns=bucket, prefix="logs/2024/")
    assert "000.log" in logs and "004.log" in logs and "root.bin" not in logs


@pytest.mark.parametrize("name", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_names_upload_list_inert_open_download_and_delete(
    store: Arranger, conn: Connection, bucket: str, people: People, name: str
) -> None:
    editor = client_for(people.bob)
    data = b"<img src=x onerror=alert(1)>" + name.encode()
    assert upload(editor, conn, bucket, name, data).status_code == 302
    assert store.read(bucket, name) == data
    parent = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
    listing = page(editor, "explorer:browse", conn, ns=bucket, prefix=parent)
    assert "<script>alert(1)" not in listing and "<img src=x" not in listing
    link = re.findall(r'href="(/connections/\d+/browse/object/\?[^"]+)"', listing)
    keys = [urllib.parse.parse_qs(urllib.parse.urlsplit(u.replace("&amp;", "&")).query)["key"][0] for u in link]
    assert name in keys
    detail = page(editor, "explorer:object", conn, ns=bucket, key=name)
    assert "Download" in detail and "<script>alert(1)" not in detail
    download = editor.get(
        reverse("explorer:object_download", args=[conn.pk]) + "?" + urlencode({"ns": bucket, "key": name})
    )
    assert download.status_code == 200 and b"".join(download.streaming_content) == data
    deleted = editor.post(reverse("explorer:object_delete", args=[conn.pk]), {"ns": bucket, "key": name})
    assert deleted.status_code == 302 and store.read(bucket, name) is None


def test_names_a_store_cannot_take_answer_400_and_lose_nothing(
    store: Arranger, conn: Connection, bucket: str, people: People
) -> None:
    editor = client_for(people.bob)
    before = store.keys(bucket)
    for name in REFUSED[store.engine]:
        response = upload(editor, conn, bucket, name, b"x")
        assert response.status_code == 400, name
        assert "name" in response.content.decode() or "connection" in response.content.decode()
    assert store.keys(bucket) == before
    assert store.read(bucket, "root.bin") == bytes(range(256)) * 100


def test_download_streams_the_object_and_is_audited(conn: Connection, bucket: str, people: People) -> None:
    response = client_for(people.carol).get(
        reverse("explorer:object_download", args=[conn.pk]) + "?" + urlencode({"ns": bucket, "key": "root.bin"})
    )
    assert response.status_code == 200 and response.streaming
    assert b"".join(response.streaming_content) == bytes(range(256)) * 100
    assert AuditEvent.objects.filter(action="data.download", target=f"{bucket}/root.bin").exists()


def test_a_signed_link_downloads_from_the_store_and_its_expiry_is_capped_at_seven_days(
    store: Arranger, conn: Connection, bucket: str, people: People
) -> None:
    response = client_for(people.carol).post(
        reverse("explorer:object_presign", args=[conn.pk]),
        {"ns": bucket, "key": "logs/2024/003.log", "expires": "99999999"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    url = re.search(r'value="([^"]+)"', response.content.decode()).group(1).replace("&amp;", "&")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    if store.engine == "gcs":
        assert query["X-Goog-Expires"] == "604800" and query["X-Goog-Signature"]
    else:
        start, expiry = (dt.datetime.fromisoformat(query[k].replace("Z", "+00:00")) for k in ("st", "se"))
        assert expiry - start == dt.timedelta(days=7, minutes=5) and query["sp"] == "r" and query["sig"]
    assert url.startswith(f"http://{store.server.host}:{store.server.port}/")
    with urllib.request.urlopen(url, timeout=5) as fetched:  # noqa: S310  (the emulator on loopback)
        assert fetched.read() == b"line 3\n"


def test_an_editor_replaces_and_deletes_with_before_and_after_in_the_audit(
    store: Arranger, conn: Connection, bucket: str, people: People
) -> None:
    editor = client_for(people.bob)
    assert upload(editor, conn, bucket, "logs/2024/001.log", b"replaced, longer\n").status_code == 302
    assert store.read(bucket, "logs/2024/001.log") == b"replaced, longer\n"
    event = AuditEvent.objects.get(action="data.upload", target=f"{bucket}/logs/2024/001.log")
    assert event.detail["before"]["size"] == len(b"line 1\n") and event.detail["after"]["size"] == 17
    assert event.detail["before"]["etag"] != event.detail["after"]["etag"]
    editor.post(reverse("explorer:object_delete", args=[conn.pk]), {"ns": bucket, "key": "logs/2024/001.log"})
    assert store.read(bucket, "logs/2024/001.log") is None
    deleted = AuditEvent.objects.get(action="data.delete", target=f"{bucket}/logs/2024/001.log")
    assert deleted.detail["before"]["size"] == 17 and deleted.detail["after"] is None


def test_a_new_object_has_no_before(store: Arranger, conn: Connection, bucket: str, people: People) -> None:
    assert upload(client_for(people.bob), conn, bucket, "new/one.txt", b"1").status_code == 302
    event = AuditEvent.objects.get(action="data.upload", target=f"{bucket}/new/one.txt")
    assert event.detail["before"] is None and event.detail["after"]["size"] == 1


def test_a_viewer_cannot_upload_or_delete(store: Arranger, conn: Connection, bucket: str, people: People) -> None:
    viewer = client_for(people.carol)
    assert (
        viewer.post(reverse("explorer:object_delete", args=[conn.pk]), {"ns": bucket, "key": "root.bin"}).status_code
        == 403
    )
    assert upload(viewer, conn, bucket, "nope.txt", b"x").status_code == 403
    assert store.read(bucket, "root.bin") == bytes(range(256)) * 100 and store.read(bucket, "nope.txt") is None


def test_production_deletes_need_the_connection_name_typed(
    store: Arranger, conn: Connection, bucket: str, people: People
) -> None:
    conn.production = True
    conn.save()
    editor = client_for(people.bob)
    url = reverse("explorer:object_delete", args=[conn.pk])
    assert editor.post(url, {"ns": bucket, "key": "root.bin"}).status_code == 400
    assert editor.post(url, {"ns": bucket, "key": "root.bin", "confirm": "nope"}).status_code == 400
    assert store.read(bucket, "root.bin") is not None
    assert editor.post(url, {"ns": bucket, "key": "root.bin", "confirm": conn.name}).status_code == 302
    assert store.read(bucket, "root.bin") is None


def test_another_team_gets_404(conn: Connection, bucket: str, people: People) -> None:
    page(client_for(people.charlie), "explorer:object", conn, status=404, ns=bucket, key="root.bin")


def test_the_detail_page_speaks_the_stores_words(
    store: Arranger, conn: Connection, bucket: str, people: People
) -> None:
    if store.engine == "gcs":
        blob = store.sdk.bucket(bucket).blob("meta.txt")
        blob.metadata = {"colour": "<b>blue</b>"}
        blob.upload_from_string(b"m", content_type="text/plain")
    else:
        store.sdk.get_blob_client(bucket, "meta.txt").upload_blob(b"m", metadata={"colour": "<b>blue</b>"})
    body = page(client_for(people.carol), "explorer:object", conn, ns=bucket, key="meta.txt")
    assert "&lt;b&gt;blue&lt;/b&gt;" in body and "<b>blue" not in body
    if store.engine == "gcs":
        assert "x-goog-meta-colour" in body and "Generation" in body and "Signed URL" in body
    else:
        assert "x-ms-meta-colour" in body and "BlockBlob" in body and "Access tier" in body and "SAS link" in body


def test_generations_and_snapshots_are_listed_on_the_detail_page(
    store: Arranger, conn: Connection, bucket: str, people: People
) -> None:
    if store.engine == "gcs":
        # gcp-storage-emulator keeps no old generations: the live one is listed, as current.
        generation = str(store.sdk.bucket(bucket).get_blob("root.bin").generation)
        body = page(client_for(people.carol), "explorer:object", conn, ns=bucket, key="root.bin")
        assert "Generations" in body and generation in body and "current" in body
    else:
        snapshot = store.sdk.get_blob_client(bucket, "root.bin").create_snapshot()["snapshot"]
        body = page(client_for(people.carol), "explorer:object", conn, ns=bucket, key="root.bin")
        assert "Snapshots and versions" in body and snapshot in body and "snapshot" in body
