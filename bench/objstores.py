"""Cloud Storage and Azure listings: dbdeck's first page of a 100,000-object prefix against listing them all.

The references list every object with the store's own SDK, in the same run. What each
emulator limits shows in its ratio: gcp-storage-emulator ignores maxResults and sends every
object in one answer, so there a first page costs as much as the whole listing; Azurite
pages as Azure does (at most 5,000 per answer, continuation markers).
"""

from __future__ import annotations

import http.client
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import LiveApp, Result, alternate, median_ms
from connections.engines import open_adapter
from connections.engines.browse import ObjectBrowsing
from tests.cloudstores import Arranger

OBJECTS = 100_000


def _load(store: Arranger, bucket: str, workers: int) -> None:
    started = time.monotonic()
    if store.engine == "azure":
        _put_azure_blobs(store, bucket, workers)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda i: store.put(bucket, f"logs/{i:07d}.log", b"x"), range(OBJECTS)))
    print(f"  uploaded {OBJECTS:,} {store.engine} objects in {time.monotonic() - started:.0f} s", flush=True)


def _put_azure_blobs(store: Arranger, bucket: str, workers: int) -> None:
    """Raw Put Blob under one container SAS, each thread on its own kept-alive connection.

    The SDK signs and runs its whole pipeline per request, which on two cores costs more
    CPU than Azurite spends storing the blob; the blobs it stores are the same.
    """
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    server = store.server
    sas = generate_container_sas(
        server.username,
        bucket,
        account_key=server.password,
        permission=ContainerSasPermissions(create=True, write=True),
        expiry=datetime.now(UTC) + timedelta(hours=2),
    )
    headers = {
        "x-ms-version": store.sdk.api_version,
        "x-ms-blob-type": "BlockBlob",
        "Content-Type": "application/octet-stream",
    }

    def upload(first: int) -> None:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
        try:
            for i in range(first, OBJECTS, workers):
                conn.request("PUT", f"/{server.username}/{bucket}/logs/{i:07d}.log?{sas}", b"x", headers)
                response = conn.getresponse()
                body = response.read()
                if response.status != 201:
                    raise RuntimeError(f"Put Blob answered {response.status}: {body[:500]!r}")
        finally:
            conn.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(upload, range(workers)))


def _sdk_listing(store: Arranger, bucket: str) -> Any:
    if store.engine == "gcs":
        return lambda: sum(1 for _ in store.sdk.list_blobs(bucket, prefix="logs/", delimiter="/"))
    container = store.sdk.get_container_client(bucket)
    return lambda: sum(1 for _ in container.walk_blobs(name_starts_with="logs/", delimiter="/"))


def _prefix(app: LiveApp, server: Any, engine: str, label: str, workers: int, target: str) -> list[Result]:
    store = Arranger(engine, server)
    bucket = store.bucket("bench")
    _load(store, bucket, workers)
    everything = _sdk_listing(store, bucket)
    assert everything() == OBJECTS
    with open_adapter(server.params()) as adapter:
        objects = adapter.get(ObjectBrowsing)
        first = objects.list_objects(bucket, prefix="logs/")
        assert len(first.items) == 1000 and first.next_cursor
        timed = alternate(
            {"first": lambda: objects.list_objects(bucket, prefix="logs/"), "all": everything}, runs=7, warmup=1
        )
    conn = Arranger(engine, server).connection(app.team, name=f"bench {engine} {time.time_ns()}")
    http = median_ms(lambda: app.get(f"/connections/{conn.pk}/browse/?ns={bucket}&prefix=logs/"), runs=7, warmup=1)
    return [
        Result(
            f"{label} prefix of {OBJECTS:,} objects: page over HTTP vs listing them all",
            http,
            timed["all"],
            "ms",
            target,
        ),
        Result(
            f"{label} prefix of {OBJECTS:,} objects: first page vs listing them all",
            timed["first"],
            timed["all"],
            "ms",
            target + " (first page lists 1,000)",
        ),
    ]


def gcs_prefix(app: LiveApp, server: Any) -> list[Result]:
    # One request at a time: the emulator is a single-threaded HTTP server.
    return _prefix(app, server, "gcs", "GCS (gcp-storage-emulator)", 1, "~1: the emulator cannot page")


def azure_prefix(app: LiveApp, server: Any) -> list[Result]:
    return _prefix(app, server, "azure", "Azure (Azurite)", 8, "<< 1")
