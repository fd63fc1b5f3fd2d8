"""Backup stores on Google Cloud Storage and Azure Blob Storage, through a saved connection of that engine.

Both write each artifact file whole or not at all, with at most two parts in memory:

- Cloud Storage: a resumable upload in 8 MiB chunks (retried by the library); the object exists
  only once the last chunk is sent, and on any error the upload session is cancelled.
- Azure: 8 MiB blocks staged one at a time (on the part writer's sender thread) and committed as a
  block list at the end; on any error nothing is committed, so no blob appears (Azure drops
  uncommitted blocks after a week).

The connection's adapter translates driver errors into the same words the object pages show;
here they become StoreError. Credentials stay the connection's: the adapter reads them at use.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from backups.destinations import S3_PART, PartWriter, PrefixStore, StoreError, Writer
from connections.engines import EngineError

CHUNK = S3_PART  # Cloud Storage needs a multiple of 256 KiB; 8 MiB is one


@contextlib.contextmanager
def _as_store_errors() -> Iterator[None]:
    try:
        yield
    except EngineError as exc:
        raise StoreError(exc.message) from None


class _Guarded:
    """A file object whose driver errors come out as StoreError in the adapter's words."""

    def __init__(self, fh: Any, translated: Callable[..., Any]) -> None:
        self.fh, self.translated = fh, translated

    def read(self, size: int = -1) -> bytes:
        with _as_store_errors():
            return self.translated(self.fh.read, size)

    def write(self, data: bytes) -> None:
        with _as_store_errors():
            self.translated(self.fh.write, data)


class GCSStore(PrefixStore):
    """An object prefix in a Cloud Storage bucket; `adapter` is the connection's GCSAdapter.

    Requests are retried by the library (backoff on 429, 5xx and dropped connections) for at
    most RETRY_CONNECT_TIMEOUTS connect timeouts, then the run fails in words.
    """

    scheme = "gs"
    RETRY_CONNECT_TIMEOUTS = 12

    def __init__(self, adapter: Any, bucket: str, prefix: str) -> None:
        super().__init__(bucket, prefix)
        self.adapter = adapter
        from google.cloud.storage.retry import DEFAULT_RETRY

        self.deadline = self.RETRY_CONNECT_TIMEOUTS * adapter.params.connect_timeout
        self.options = {"timeout": adapter.timeout, "retry": DEFAULT_RETRY.with_timeout(self.deadline)}

    def translated(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        from google.api_core.exceptions import RetryError

        try:
            return self.adapter.translated(fn, *args, **kwargs)
        except RetryError:
            raise StoreError(
                f"Cloud Storage could not be reached or kept failing for {self.deadline:g} s of retries; "
                "the upload was cancelled."
            ) from None
        except EngineError as exc:
            raise StoreError(exc.message) from None

    def _blob(self, name: str) -> Any:
        with _as_store_errors():
            return self.adapter.client().bucket(self.bucket).blob(self.key(name), chunk_size=CHUNK)

    @contextlib.contextmanager
    def writer(self, name: str) -> Iterator[Writer]:
        fh = self._blob(name).open("wb", ignore_flush=True, content_type="application/octet-stream", **self.options)
        try:
            yield _Guarded(fh, self.translated)
            self.translated(fh.close)
        except BaseException:
            _cancel(fh)
            raise

    @contextlib.contextmanager
    def reader(self, name: str) -> Iterator[BinaryIO]:
        blob = self._blob(name)
        self.translated(blob.reload, **self.options)  # a missing part fails here, in words
        fh = blob.open("rb", **self.options)
        try:
            yield _Guarded(fh, self.translated)  # type: ignore[misc]
        finally:
            fh.close()

    def put_bytes(self, name: str, data: bytes) -> None:
        self.translated(self._blob(name).upload_from_string, data, **self.options)

    def get_bytes(self, name: str) -> bytes:
        with self.reader(name) as fh:
            return fh.read()

    def remove(self) -> None:
        with _as_store_errors():
            bucket = self.adapter.client().bucket(self.bucket)
        blobs = self.translated(lambda: list(bucket.list_blobs(prefix=self.prefix + "/", **self.options)))
        for blob in blobs:
            self.translated(blob.delete, **self.options)


def _cancel(fh: Any) -> None:
    """Cancel a resumable upload (best effort: an expired session is gone already)."""
    try:
        fh.terminate()
    except Exception:  # noqa: BLE001 - the object was never finalized either way
        fh._buffer.close()


class AzureStore(PrefixStore):
    """A blob-name prefix in an Azure container; `adapter` is the connection's AzureAdapter."""

    scheme = "azure"

    def __init__(self, adapter: Any, container: str, prefix: str) -> None:
        super().__init__(container, prefix)
        self.adapter = adapter

    def _blob(self, name: str) -> Any:
        with _as_store_errors():
            return self.adapter.service().get_blob_client(self.bucket, self.key(name))

    @contextlib.contextmanager
    def writer(self, name: str) -> Iterator[Writer]:
        out = _BlockWriter(self._blob(name), self.adapter.translated)
        try:
            with _as_store_errors():
                yield out
                out.commit()
        finally:
            out.close()  # staged blocks nobody commits are dropped by the service

    @contextlib.contextmanager
    def reader(self, name: str) -> Iterator[BinaryIO]:
        blob = self._blob(name)
        with _as_store_errors():
            download = self.adapter.translated(blob.download_blob, max_concurrency=1)
        yield _Guarded(download, self.adapter.translated)  # type: ignore[misc]

    def put_bytes(self, name: str, data: bytes) -> None:
        blob = self._blob(name)
        with _as_store_errors():
            self.adapter.translated(blob.upload_blob, data, overwrite=True)

    def get_bytes(self, name: str) -> bytes:
        with self.reader(name) as fh:
            return fh.read()

    def remove(self) -> None:
        with _as_store_errors():
            container = self.adapter.service().get_container_client(self.bucket)
            names = self.adapter.translated(
                lambda: [b.name for b in container.list_blobs(name_starts_with=self.prefix + "/")]
            )
            for blob_name in names:
                self.adapter.translated(container.delete_blob, blob_name, delete_snapshots="include")


class _BlockWriter(PartWriter):
    def __init__(self, blob: Any, translated: Callable[..., Any]) -> None:
        super().__init__()
        self.blob, self.translated = blob, translated
        self.blocks: list[str] = []

    def _send(self, data: bytearray) -> None:
        # Block ids must all have the same length within a blob; the SDK takes bytes (not a bytearray).
        block_id = base64.b64encode(f"dbdeck-{len(self.blocks):08d}".encode()).decode()
        self.translated(self.blob.stage_block, block_id, bytes(data), length=len(data))
        self.blocks.append(block_id)

    def commit(self) -> None:
        self.finish()
        self.translated(self.blob.commit_block_list, self.blocks)
