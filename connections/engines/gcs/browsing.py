"""Objects of Cloud Storage: streamed downloads, V4 signed URLs, resumable uploads, deletes, generations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import BinaryIO

from connections.engines.base import EngineError
from connections.engines.browse import Listing, Namespace, ObjectBrowsing, ObjectMeta, ObjectVersion
from connections.engines.gcs.adapter import GCSAdapter
from connections.engines.gcs.introspection import check_name

MAX_SIGNED_SECONDS = 7 * 24 * 3600  # V4 signatures live at most seven days
CHUNK = 64 * 1024
READ_CHUNK = 1024 * 1024  # one ranged GET per MiB read
UPLOAD_CHUNK = 8 * 1024 * 1024  # resumable upload chunks (a multiple of 256 KiB)
GOOGLE_ENDPOINT = "https://storage.googleapis.com"


class GCSObjects(ObjectBrowsing):
    adapter: GCSAdapter
    metadata_prefix = "x-goog-meta-"
    link_label = "Signed URL"
    max_link_seconds = MAX_SIGNED_SECONDS
    versions_label = "Generations"

    def namespaces(self) -> list[Namespace]:
        return self.adapter.introspection.namespaces()

    def list_objects(
        self, bucket: str, *, prefix: str = "", token: str | None = None, limit: int = 1000, delimiter: str = "/"
    ) -> Listing:
        return self.adapter.introspection.list_objects(
            bucket, prefix=prefix, token=token, limit=limit, delimiter=delimiter
        )

    def head_object(self, bucket: str, key: str) -> ObjectMeta:
        return self.adapter.introspection.head_object(bucket, key)

    def versions(self, bucket: str, key: str, limit: int = 50) -> list[ObjectVersion]:
        return self.adapter.introspection.versions(bucket, key, limit)

    def open_object(self, bucket: str, key: str) -> tuple[ObjectMeta, Iterator[bytes]]:
        meta = self.head_object(bucket, key)
        blob = self.adapter.client().bucket(bucket).blob(key, generation=int(meta.version) if meta.version else None)
        reader = self.adapter.translated(
            blob.open, "rb", chunk_size=READ_CHUNK, timeout=self.adapter.timeout, retry=None
        )

        def chunks() -> Iterator[bytes]:
            try:
                while data := self.adapter.translated(reader.read, CHUNK):
                    yield data
            finally:
                reader.close()

        return meta, chunks()

    def presign(self, bucket: str, key: str, seconds: int) -> str:
        check_name(bucket, key)
        seconds = max(1, min(int(seconds), MAX_SIGNED_SECONDS))
        credentials = self.adapter.key_credentials()
        if credentials is None:
            raise EngineError(
                "Signed URLs are signed with a service-account key, and this connection has none: save a key "
                "(with an emulator, any key made for it signs; requests stay anonymous).",
                "config",
            )
        endpoint = self.adapter.endpoint_url
        if self.adapter.params.host == "storage.googleapis.com":
            endpoint = GOOGLE_ENDPOINT
        blob = self.adapter.client().bucket(bucket).blob(key)
        return str(
            self.adapter.translated(
                blob.generate_signed_url,
                version="v4",
                expiration=dt.timedelta(seconds=seconds),
                method="GET",
                credentials=credentials,
                api_access_endpoint=endpoint,
            )
        )

    def put_object(self, bucket: str, key: str, fileobj: BinaryIO, size: int | None, content_type: str) -> None:
        self.adapter.writable()
        check_name(bucket, key)
        # Past 8 MiB (or of unknown size) the library uploads resumably, one chunk in memory at a time.
        blob = self.adapter.client().bucket(bucket).blob(key, chunk_size=UPLOAD_CHUNK)
        self.adapter.call(blob.upload_from_file, fileobj, size=size, content_type=content_type, rewind=False)

    def delete_object(self, bucket: str, key: str) -> None:
        self.adapter.writable()
        check_name(bucket, key)
        self.adapter.call(self.adapter.client().bucket(bucket).delete_blob, key)
