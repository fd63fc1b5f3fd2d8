"""Blobs of Azure Blob Storage: streamed downloads, SAS links, block uploads, deletes, snapshots and versions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import BinaryIO

from azure.storage.blob import BlobSasPermissions, ContentSettings, generate_blob_sas

from connections.engines.azure.adapter import AzureAdapter
from connections.engines.azure.introspection import check_name, object_meta
from connections.engines.base import EngineError
from connections.engines.browse import Listing, Namespace, ObjectBrowsing, ObjectMeta, ObjectVersion

MAX_SAS_SECONDS = 7 * 24 * 3600  # dbdeck's cap: Azure allows longer, a shared link should not live that long
CLOCK_SKEW = dt.timedelta(minutes=5)


class AzureObjects(ObjectBrowsing):
    adapter: AzureAdapter
    metadata_prefix = "x-ms-meta-"
    storage_class_label = "Access tier"
    link_label = "SAS link"
    max_link_seconds = MAX_SAS_SECONDS
    versions_label = "Snapshots and versions"

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
        check_name(bucket, key)
        blob = self.adapter.service().get_blob_client(bucket, key)
        # One chunk (4 MiB) at a time; later chunks are read with If-Match on the first one's ETag.
        downloader = self.adapter.call(blob.download_blob, max_concurrency=1)
        meta = object_meta(bucket, downloader.properties)
        chunks = downloader.chunks()

        def stream() -> Iterator[bytes]:
            while True:
                data = self.adapter.translated(next, chunks, b"")
                if not data:
                    return
                yield data

        return meta, stream()

    def presign(self, bucket: str, key: str, seconds: int) -> str:
        check_name(bucket, key)
        seconds = max(1, min(int(seconds), MAX_SAS_SECONDS))
        if self.adapter.sas:
            raise EngineError(
                "SAS links are signed with the account key, and this connection uses a SAS token (which dbdeck "
                "never hands out): save the account key to make links.",
                "config",
            )
        now = dt.datetime.now(dt.UTC)
        token = generate_blob_sas(
            account_name=self.adapter.params.username,
            container_name=bucket,
            blob_name=key,
            account_key=self.adapter.account_key(),
            permission=BlobSasPermissions(read=True),
            start=now - CLOCK_SKEW,
            expiry=now + dt.timedelta(seconds=seconds),
        )
        return f"{self.adapter.service().get_blob_client(bucket, key).url}?{token}"

    def put_object(self, bucket: str, key: str, fileobj: BinaryIO, size: int | None, content_type: str) -> None:
        self.adapter.writable()
        check_name(bucket, key)
        blob = self.adapter.service().get_blob_client(bucket, key)
        # Past 4 MiB the library stages 4 MiB blocks one at a time and commits the block list.
        self.adapter.call(
            blob.upload_blob,
            fileobj,
            length=size,
            overwrite=True,
            max_concurrency=1,
            content_settings=ContentSettings(content_type=content_type),
        )

    def delete_object(self, bucket: str, key: str) -> None:
        self.adapter.writable()
        check_name(bucket, key)
        blob = self.adapter.service().get_blob_client(bucket, key)
        self.adapter.call(blob.delete_blob, delete_snapshots="include")
