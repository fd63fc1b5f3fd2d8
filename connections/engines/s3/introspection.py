"""An object store's listing: buckets, keys and prefixes by delimiter with continuation tokens, object heads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connections.engines.base import refuse_nul
from connections.engines.browse import Listing, Namespace, ObjectInfo, ObjectMeta

if TYPE_CHECKING:
    from connections.engines.s3.adapter import S3Adapter


def object_meta(bucket: str, key: str, response: dict[str, Any]) -> ObjectMeta:
    """What HEAD and GET answer about an object."""
    return ObjectMeta(
        bucket=bucket,
        key=key,
        size=int(response.get("ContentLength", 0)),
        modified=response.get("LastModified"),
        etag=str(response.get("ETag", "")).strip('"'),
        content_type=response.get("ContentType", ""),
        storage_class=response.get("StorageClass", "STANDARD"),
        metadata=dict(response.get("Metadata", {})),
    )


class S3Introspection:
    def __init__(self, adapter: S3Adapter) -> None:
        self.adapter = adapter

    def namespaces(self) -> list[Namespace]:
        if self.adapter.params.database:
            return [Namespace(name=self.adapter.params.database)]
        buckets = self.adapter._call(self.adapter._client().list_buckets).get("Buckets", [])
        return [Namespace(name=b["Name"], detail=f"created {b['CreationDate']:%Y-%m-%d}") for b in buckets]

    def list_objects(
        self, bucket: str, *, prefix: str = "", token: str | None = None, limit: int = 1000, delimiter: str = "/"
    ) -> Listing:
        refuse_nul(bucket, prefix)
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "Delimiter": delimiter, "MaxKeys": limit}
        if token:
            kwargs["ContinuationToken"] = token
        response = self.adapter._call(self.adapter._client().list_objects_v2, **kwargs)
        items = [
            ObjectInfo(name=p["Prefix"][len(prefix) :], kind="prefix", extra={"prefix": p["Prefix"]})
            for p in response.get("CommonPrefixes", [])
        ]
        items.extend(
            ObjectInfo(
                name=o["Key"][len(prefix) :] or o["Key"],
                kind="object",
                size_bytes=o.get("Size"),
                detail=o.get("StorageClass", "STANDARD"),
                extra={"key": o["Key"], "modified": o.get("LastModified"), "etag": o.get("ETag", "")},
            )
            for o in response.get("Contents", [])
        )
        return Listing(items=items, next_cursor=response.get("NextContinuationToken"))

    def head_object(self, bucket: str, key: str) -> ObjectMeta:
        refuse_nul(bucket, key)
        head = self.adapter._call(self.adapter._client().head_object, Bucket=bucket, Key=key)
        return object_meta(bucket, key, head)
