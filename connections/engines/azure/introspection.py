"""An Azure listing: containers, virtual folders and blobs by delimiter with continuation markers, properties."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connections.engines.base import EngineError, refuse_nul
from connections.engines.browse import Listing, Namespace, ObjectInfo, ObjectMeta, ObjectVersion

if TYPE_CHECKING:
    from connections.engines.azure.adapter import AzureAdapter

MAX_CONTAINERS = 1000
MAX_NAME_CHARS = 1024


def check_name(container: str, key: str) -> None:
    """Refuse, before sending, a blob name that a URL cannot carry as it is.

    Blob names travel in the URL path with their slashes, so a "." or ".." segment would be
    resolved away on the way and address another blob (with an account SAS, successfully).
    """
    refuse_nul(container, key)
    if any(part in (".", "..") for part in key.split("/")):
        raise EngineError("Azure cannot address a blob whose name has . or .. between slashes.", "config")
    if not key or len(key) > MAX_NAME_CHARS:
        raise EngineError(f"Blob names are 1 to {MAX_NAME_CHARS} characters long.", "config")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def object_meta(container: str, props: Any) -> ObjectMeta:
    """What Azure says about one blob: its properties, tier, type, version and snapshot."""
    settings = props.content_settings
    details = {
        "Blob type": _text(getattr(props.blob_type, "value", props.blob_type)),
        "Created": f"{props.creation_time:%Y-%m-%d %H:%M:%S}" if props.creation_time else "",
        "Tier inferred": "yes" if props.blob_tier_inferred else "",
        "Version id": _text(props.version_id),
        "Snapshot": _text(props.snapshot),
        "Lease": _text(getattr(props.lease, "state", "")),
        "Content MD5": settings.content_md5.hex() if settings and settings.content_md5 else "",
    }
    return ObjectMeta(
        bucket=container,
        key=props.name,
        size=int(props.size or 0),
        modified=props.last_modified,
        etag=_text(props.etag).strip('"'),
        content_type=(settings.content_type if settings else "") or "",
        storage_class=_text(getattr(props.blob_tier, "value", props.blob_tier)) or "—",
        metadata=dict(props.metadata or {}),
        version=_text(props.version_id),
        details={k: v for k, v in details.items() if v},
    )


class AzureIntrospection:
    def __init__(self, adapter: AzureAdapter) -> None:
        self.adapter = adapter

    def namespaces(self) -> list[Namespace]:
        if self.adapter.params.database:
            return [Namespace(name=self.adapter.params.database)]
        service = self.adapter.service()
        pages = self.adapter.call(service.list_containers, results_per_page=MAX_CONTAINERS).by_page()
        page = self.adapter.translated(lambda: list(next(pages, [])))
        return [
            Namespace(name=c.name, detail=f"modified {c.last_modified:%Y-%m-%d}" if c.last_modified else "")
            for c in page[:MAX_CONTAINERS]
        ]

    def list_objects(
        self, container: str, *, prefix: str = "", token: str | None = None, limit: int = 1000, delimiter: str = "/"
    ) -> Listing:
        refuse_nul(container, prefix)
        client = self.adapter.service().get_container_client(container)
        if delimiter:
            listed = self.adapter.call(
                client.walk_blobs, name_starts_with=prefix or None, delimiter=delimiter, results_per_page=limit
            )
        else:
            listed = self.adapter.call(client.list_blobs, name_starts_with=prefix or None, results_per_page=limit)
        pages = listed.by_page(continuation_token=token or None)
        page = self.adapter.translated(lambda: list(next(pages, [])))
        items: list[ObjectInfo] = []
        for entry in page[:limit]:
            if entry.get("prefix") is not None or type(entry).__name__ == "BlobPrefix":
                items.append(ObjectInfo(name=entry.name[len(prefix) :], kind="prefix", extra={"prefix": entry.name}))
                continue
            tier = getattr(entry.blob_tier, "value", entry.blob_tier)
            items.append(
                ObjectInfo(
                    name=entry.name[len(prefix) :] or entry.name,
                    kind="object",
                    size_bytes=entry.size,
                    detail=_text(tier),
                    extra={"key": entry.name, "modified": entry.last_modified, "etag": _text(entry.etag)},
                )
            )
        return Listing(items=items, next_cursor=pages.continuation_token or None)

    def head_object(self, container: str, key: str) -> ObjectMeta:
        check_name(container, key)
        blob = self.adapter.service().get_blob_client(container, key)
        return object_meta(container, self.adapter.call(blob.get_blob_properties))

    def versions(self, container: str, key: str, limit: int) -> list[ObjectVersion]:
        """Snapshots and versions of one blob, newest first, from one listing page of at most `limit`."""
        check_name(container, key)
        client = self.adapter.service().get_container_client(container)
        listed = self.adapter.call(
            client.list_blobs, name_starts_with=key, include=["snapshots", "versions"], results_per_page=limit
        )
        pages = listed.by_page()
        page = self.adapter.translated(lambda: list(next(pages, [])))
        found = []
        for b in page:
            if b.name != key:
                continue
            kind = "snapshot" if b.snapshot else "version" if b.version_id else "blob"
            found.append(
                ObjectVersion(
                    version=_text(b.snapshot or b.version_id),
                    kind=kind,
                    size=int(b.size or 0),
                    modified=b.last_modified,
                    current=not b.snapshot and (b.is_current_version is not False),
                )
            )
        return sorted(found, key=lambda v: (v.current, v.version), reverse=True)[:limit]
