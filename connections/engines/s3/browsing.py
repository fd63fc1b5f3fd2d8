"""Objects of an S3-compatible store: streamed downloads, presigned links, multipart uploads, deletes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from boto3.s3.transfer import TransferConfig

from connections.engines.base import refuse_nul
from connections.engines.browse import Listing, Namespace, ObjectBrowsing, ObjectMeta
from connections.engines.s3.adapter import S3Adapter
from connections.engines.s3.introspection import object_meta

MAX_PRESIGN_SECONDS = 7 * 24 * 3600
CHUNK = 64 * 1024


class S3Objects(ObjectBrowsing):
    adapter: S3Adapter

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

    def open_object(self, bucket: str, key: str) -> tuple[ObjectMeta, Iterator[bytes]]:
        refuse_nul(bucket, key)
        response = self.adapter._call(self.adapter._client().get_object, Bucket=bucket, Key=key)
        meta = object_meta(bucket, key, response)
        body = response["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        return meta, chunks()

    def presign(self, bucket: str, key: str, seconds: int) -> str:
        refuse_nul(bucket, key)
        seconds = max(1, min(int(seconds), MAX_PRESIGN_SECONDS))
        return str(
            self.adapter._call(
                self.adapter._client().generate_presigned_url,
                "get_object",
                Params={"Bucket": bucket, "Key": key},
                ExpiresIn=seconds,
            )
        )

    def put_object(self, bucket: str, key: str, fileobj: BinaryIO, size: int | None, content_type: str) -> None:
        self.adapter._writable()
        refuse_nul(bucket, key)
        # upload_fileobj streams in parts, so a large upload never sits in memory whole.
        self.adapter._call(
            self.adapter._client().upload_fileobj,
            fileobj,
            bucket,
            key,
            ExtraArgs={"ContentType": content_type},
            Config=TransferConfig(multipart_threshold=16 * 1024 * 1024, max_concurrency=2),
        )

    def delete_object(self, bucket: str, key: str) -> None:
        self.adapter._writable()
        refuse_nul(bucket, key)
        self.adapter._call(self.adapter._client().delete_object, Bucket=bucket, Key=key)
