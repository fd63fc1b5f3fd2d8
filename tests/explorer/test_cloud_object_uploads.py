"""50 MB into Cloud Storage and Azure and back, in chunks: memory stays flat whatever the size."""

from __future__ import annotations

import hashlib
import io
import shutil
import tracemalloc
from pathlib import Path

import pytest

from connections.engines import open_adapter
from connections.engines.browse import ObjectBrowsing
from tests.cloudstores import Arranger
from tests.services import Servers

MB = 1024 * 1024


class Generated(io.RawIOBase):
    """`size` bytes of a repeating pattern, made as they are read (never whole in memory)."""

    def __init__(self, size: int) -> None:
        self.size, self.position = size, 0
        self.pattern = bytes(range(251)) * 1024

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = min(len(buffer), self.size - self.position)
        offset = self.position % 251
        chunk = (self.pattern[offset:] + self.pattern)[:count]
        while len(chunk) < count:
            chunk += self.pattern[: count - len(chunk)]
        buffer[:count] = chunk
        self.position += count
        return count


def expected_digest(size: int) -> str:
    digest, source = hashlib.sha256(), Generated(size)
    while data := source.read(MB):
        digest.update(data)
    return digest.hexdigest()


def round_trip(store: Arranger, bucket: str, size: int, folder: Path) -> tuple[int, int, str]:
    """Upload and download `size` bytes through the engine; (upload peak, download peak, sha256 read back).

    The upload reads a file on disk, as the upload view reads Django's temporary upload file.
    """
    key = f"big/{size}.bin"
    path = folder / f"{size}.bin"
    with path.open("wb") as out:
        shutil.copyfileobj(io.BufferedReader(Generated(size), MB), out, MB)
    with open_adapter(store.server.params()) as adapter, path.open("rb") as source:
        objects = adapter.get(ObjectBrowsing)
        objects.namespaces()  # the client is made outside the measurement
        tracemalloc.start()
        try:
            objects.put_object(bucket, key, source, size, "application/octet-stream")
            _, upload_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            meta, chunks = objects.open_object(bucket, key)
            digest = hashlib.sha256()
            for chunk in chunks:
                digest.update(chunk)
            _, download_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert meta.size == size
    return upload_peak, download_peak, digest.hexdigest()


@pytest.mark.parametrize("engine", ["gcs", "azure"])
def test_a_50_mb_upload_and_download_keep_memory_flat(servers: Servers, engine: str, tmp_path: Path) -> None:
    store = Arranger(engine, getattr(servers, engine))
    bucket = store.bucket("big")
    small_up, small_down, small_digest = round_trip(store, bucket, 10 * MB, tmp_path)
    big_up, big_down, big_digest = round_trip(store, bucket, 50 * MB, tmp_path)
    assert small_digest == expected_digest(10 * MB) and big_digest == expected_digest(50 * MB)
    # Five times the data, about the same memory: one chunk or block at a time.
    assert big_up < small_up * 1.5 + MB and big_down < small_down * 1.5 + MB, (small_down / MB, big_down / MB)
    assert big_up < 24 * MB, big_up / MB  # GCS: one 8 MiB resumable chunk; Azure: one 4 MiB block
    # GCS reads 1 MiB ranges. Azure reads 4 MiB ranges, and azure-core's requests transport peaks
    # near 40 MiB while it reads one (traced at http.client's socket reads), whatever the blob's size.
    assert big_down < (12 if engine == "gcs" else 64) * MB, big_down / MB
