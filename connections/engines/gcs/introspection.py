"""A Cloud Storage listing: buckets, prefixes and objects by delimiter, capped per page by dbdeck, generations.

A page holds at most `limit` entries even when the server sends more (gcp-storage-emulator
ignores maxResults and answers with every object): dbdeck keeps the first `limit` in name
order and continues after the last one, so a page never grows with the prefix beyond what
the server itself sends.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

from connections.engines import cursor
from connections.engines.base import EngineError, refuse_nul
from connections.engines.browse import Listing, Namespace, ObjectInfo, ObjectMeta, ObjectVersion

if TYPE_CHECKING:
    from connections.engines.gcs.adapter import GCSAdapter

MAX_BUCKETS = 1000
MAX_NAME_BYTES = 1024


def check_name(bucket: str, key: str) -> None:
    """Refuse, before sending, an object name Cloud Storage never takes."""
    refuse_nul(bucket, key)
    if key in (".", "..") or "\r" in key or "\n" in key:
        raise EngineError("Cloud Storage object names cannot be . or .. nor hold a line break.", "config")
    if len(key.encode()) > MAX_NAME_BYTES:
        raise EngineError(f"Cloud Storage object names are at most {MAX_NAME_BYTES} bytes (UTF-8).", "config")


def object_meta(bucket: str, blob: Any) -> ObjectMeta:
    """What Cloud Storage says about one object (generation included)."""
    details = {
        "Generation": str(blob.generation or ""),
        "Metageneration": str(blob.metageneration or ""),
        "CRC32C": blob.crc32c or "",
        "MD5": blob.md5_hash or "",
    }
    return ObjectMeta(
        bucket=bucket,
        key=blob.name,
        size=int(blob.size or 0),
        modified=blob.updated,
        etag=str(blob.etag or blob.md5_hash or ""),
        content_type=blob.content_type or "",
        storage_class=blob.storage_class or "STANDARD",
        metadata=dict(blob.metadata or {}),
        version=str(blob.generation or ""),
        details={k: v for k, v in details.items() if v},
    )


def _token(token: str | None) -> dict[str, Any]:
    return cursor.decode(token, shape=cursor.KEY) if token else {}


def _entry(name: str, o: Any, prefix: str) -> ObjectInfo:
    """A listing row: a common prefix (o is None) or an object."""
    if o is None:
        return ObjectInfo(name=name[len(prefix) :], kind="prefix", extra={"prefix": name})
    return ObjectInfo(
        name=name[len(prefix) :] or name,
        kind="object",
        size_bytes=o.size,
        detail=o.storage_class or "STANDARD",
        extra={"key": name, "modified": o.updated, "etag": o.etag or "", "version": str(o.generation)},
    )


class GCSIntrospection:
    def __init__(self, adapter: GCSAdapter) -> None:
        self.adapter = adapter

    def namespaces(self) -> list[Namespace]:
        if self.adapter.params.database:
            return [Namespace(name=self.adapter.params.database)]
        client = self.adapter.client()
        buckets = self.adapter.call(client.list_buckets, max_results=MAX_BUCKETS, page_size=MAX_BUCKETS)
        page = self.adapter.translated(lambda: list(next(iter(buckets.pages), [])))
        return [
            Namespace(
                name=b.name,
                detail=" · ".join(
                    x for x in (f"created {b.time_created:%Y-%m-%d}" if b.time_created else "", b.location or "") if x
                ),
            )
            for b in page[:MAX_BUCKETS]
        ]

    def list_objects(
        self, bucket: str, *, prefix: str = "", token: str | None = None, limit: int = 1000, delimiter: str = "/"
    ) -> Listing:
        refuse_nul(bucket, prefix)
        state = _token(token)
        after = state.get("after")
        if after is not None and not isinstance(after, str):
            raise EngineError("That page link is damaged; open the folder again.", "config")
        kwargs: dict[str, Any] = {"prefix": prefix or None, "delimiter": delimiter or None, "max_results": limit}
        if isinstance(state.get("page"), str):
            kwargs["page_token"] = state["page"]
        if after:
            kwargs["start_offset"] = after  # honoured by Cloud Storage; an emulator that ignores it is skipped below
        client = self.adapter.client()
        blobs = self.adapter.call(client.list_blobs, bucket, **kwargs)

        def first_page() -> tuple[list[Any], list[str], str | None]:
            page = next(iter(blobs.pages), None)
            if page is None:
                return [], [], None
            return list(page), sorted(page.prefixes), blobs.next_page_token

        objects, prefixes, server_next = self.adapter.translated(first_page)
        # The emulator answers a whole prefix at once: keep the first `limit` + 1 names before
        # building any entry, so a 100,000-object answer costs one pass, not 100,000 entries and a sort.
        pool: list[tuple[str, Any]] = [(p, None) for p in prefixes if not after or p > after]
        pool.extend((o.name, o) for o in objects if not after or o.name > after)
        kept = heapq.nsmallest(limit + 1, pool, key=lambda e: e[0])
        entries = [_entry(name, o, prefix) for name, o in kept[:limit]]
        if len(kept) > limit:
            return Listing(items=entries, next_cursor=cursor.encode({"after": kept[limit - 1][0]}))
        return Listing(items=entries, next_cursor=cursor.encode({"page": server_next}) if server_next else None)

    def head_object(self, bucket: str, key: str) -> ObjectMeta:
        check_name(bucket, key)
        client = self.adapter.client()
        blob = self.adapter.call(client.bucket(bucket).get_blob, key)
        if blob is None:
            raise EngineError("No such bucket or object (it may have been deleted).", "database")
        return object_meta(bucket, blob)

    def versions(self, bucket: str, key: str, limit: int) -> list[ObjectVersion]:
        """The object's generations, newest first, where the bucket keeps them (one page of at most `limit`)."""
        refuse_nul(bucket, key)
        client = self.adapter.client()
        blobs = self.adapter.call(client.list_blobs, bucket, prefix=key, versions=True, max_results=limit)
        page = self.adapter.translated(lambda: list(next(iter(blobs.pages), [])))
        found = [b for b in page if b.name == key][:limit]
        live = max((int(b.generation or 0) for b in found if b.time_deleted is None), default=None)
        return sorted(
            (
                ObjectVersion(
                    version=str(b.generation),
                    kind="generation",
                    size=int(b.size or 0),
                    modified=b.updated,
                    current=b.time_deleted is None and int(b.generation or 0) == live,
                )
                for b in found
            ),
            key=lambda v: int(v.version or 0),
            reverse=True,
        )
