"""The browsing contracts the explorer pages are built on, and what they return.

Each engine has one of three capabilities (see `Adapter.get`):

- `TableBrowsing` (PostgreSQL, MySQL, SQLite; MongoDB with `documents`): a record
  grid with keyset pages, filters, exact count on demand, one record by key,
  edits by key, and a streamed export.
- `KeyBrowsing` (Redis): a key tree from bounded SCAN, typed values paged with
  HSCAN / SSCAN / ZSCAN / LRANGE / XRANGE, key edits.
- `ObjectBrowsing` (S3): delimiter listings with continuation tokens, object
  detail, streamed download, presigned URLs, upload and delete.

Rules every method follows: never COUNT(*), KEYS or a full listing on user data;
every statement carries the statement timeout and a `/* dbdeck */` tag;
identifiers are quoted by the driver's quoting tools and values are parameters;
rows are never fetched beyond `limit` (+1 to see whether a next page exists);
values are cut at `cell_cap` bytes in pages and returned as `Cut`.
Cursors are opaque strings made with `connections.engines.cursor.encode`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, ClassVar

from connections.engines.base import Capability

# Filter operators the grid offers; engines compile them to parameterized predicates.
FILTER_OPS = {
    "eq": "=",
    "ne": "≠",
    "lt": "<",
    "gt": ">",
    "contains": "contains",
    "startswith": "starts with",
    "isnull": "is null",
    "notnull": "is not null",
    "in": "in (comma-separated)",
}
DEFAULT_LIMIT = 100
DEFAULT_CELL_CAP = 2_000  # bytes of one value shown in a grid cell
DETAIL_CELL_CAP = 1_000_000  # bytes of one value shown in a detail view


@dataclass(frozen=True)
class Cut:
    """A value shortened to a byte cap; `length` is the full size in bytes (or chars) when known."""

    value: Any
    length: int | None = None


@dataclass(frozen=True)
class Namespace:
    name: str
    detail: str = ""


@dataclass(frozen=True)
class ObjectInfo:
    """A table / view / collection; a Redis key or key-prefix group; an S3 object or prefix."""

    name: str
    kind: str  # "table", "view", "materialized view", "collection", "prefix", "key", "object"
    estimated_rows: int | None = None
    size_bytes: int | None = None
    detail: str = ""  # e.g. Redis type + TTL, S3 storage class
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Listing:
    items: list[ObjectInfo]
    next_cursor: str | None = None  # S3 continuation token, Redis SCAN position ("scan more")
    notice: str = ""
    scanned: int | None = None  # Redis: how many keys this SCAN batch looked at


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    primary_key: bool = False
    default: str | None = None


@dataclass(frozen=True)
class ForeignKey:
    """`namespace.table(columns)` references `ref_namespace.ref_object(ref_columns)`.

    In `TableInfo.foreign_keys` the referencing side is the described table; in
    `TableInfo.referenced_by` the referenced side is.
    """

    name: str
    namespace: str
    table: str
    columns: tuple[str, ...]
    ref_namespace: str
    ref_object: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool = False
    primary: bool = False
    detail: str = ""


@dataclass(frozen=True)
class TableInfo:
    """What `describe()` returns.

    `key` names the columns that identify a row: the primary key, else a
    fallback ("ctid" on PostgreSQL, "rowid" on SQLite, "_id" on MongoDB).
    `key_kind` is "primary", "ctid", "rowid", "document" or "none" (MySQL
    without a key: OFFSET paging with a notice, and no edits).
    """

    namespace: str
    name: str
    kind: str
    columns: list[Column]
    key: tuple[str, ...]
    key_kind: str
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    referenced_by: list[ForeignKey] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    estimated_rows: int | None = None
    size_bytes: int | None = None

    @property
    def editable(self) -> bool:
        return self.kind in ("table", "collection") and self.key_kind != "none"


@dataclass(frozen=True)
class Filter:
    column: str
    op: str  # a key of FILTER_OPS
    value: str = ""


@dataclass(frozen=True)
class PageRequest:
    """One grid page. `sort` None means key order; `cursor` comes from a previous Page.

    MongoDB reads `query` (Extended JSON filter), `projection` and `sort_json`
    instead of `filters` / `columns` / `sort`.
    """

    cursor: str | None = None
    direction: str = "next"  # "next" or "prev" (the cursor is then Page.prev_cursor)
    sort: str | None = None
    descending: bool = False
    filters: tuple[Filter, ...] = ()
    columns: tuple[str, ...] = ()  # empty = all
    limit: int = DEFAULT_LIMIT
    cell_cap: int = DEFAULT_CELL_CAP
    query: str = ""
    projection: str = ""
    sort_json: str = ""


@dataclass(frozen=True)
class Page:
    columns: list[str]
    rows: list[list[Any]]  # values in `columns` order; a value may be a Cut
    keys: list[dict[str, Any]]  # the key of each row, for links to the detail view
    next_cursor: str | None
    prev_cursor: str | None
    notice: str = ""


@dataclass(frozen=True)
class Record:
    """One row or document, whole (values cut at DETAIL_CELL_CAP)."""

    key: dict[str, Any]
    values: dict[str, Any]
    # Per foreign key of this table: the referenced row's key, for a link.
    links: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Per FK in other tables pointing here: estimated count of rows referring to this row.
    referrers: list[tuple[ForeignKey, int | None]] = field(default_factory=list)


@dataclass(frozen=True)
class KeyValue:
    """A Redis value page: `items` are (field/index/score/id, value) pairs or one string value."""

    key: bytes
    type: str
    ttl: int | None  # seconds; None = no expiry
    length: int | None
    memory: int | None
    items: list[tuple[Any, Any]]
    next_cursor: str | None = None
    encoding: str = ""


@dataclass(frozen=True)
class ObjectMeta:
    bucket: str
    key: str
    size: int
    modified: Any
    etag: str
    content_type: str
    storage_class: str
    metadata: dict[str, str] = field(default_factory=dict)
    version: str = ""  # the store's version of this content: a GCS generation, an Azure version id
    details: dict[str, str] = field(default_factory=dict)  # the store's own facts: blob type, generation, ...


@dataclass(frozen=True)
class ObjectVersion:
    """One kept version of an object: a GCS generation, an Azure snapshot or version."""

    version: str
    kind: str  # "generation", "snapshot", "version"
    size: int
    modified: Any
    current: bool = False


class TableBrowsing(Capability):
    """Tables, views and collections: a grid of records addressed by key."""

    noun = "tables or collections"
    # Variants: records are JSON documents filtered by a JSON query (MongoDB) rather than
    # columns with per-column filters; rows can be exported as INSERT statements.
    documents: ClassVar[bool] = False
    exports_sql: ClassVar[bool] = False

    @abstractmethod
    def namespaces(self) -> list[Namespace]: ...

    @abstractmethod
    def objects(self, ns: str) -> Listing: ...

    @abstractmethod
    def describe(self, ns: str, obj: str) -> TableInfo: ...

    def prime(self, info: TableInfo) -> None:
        """Accept a description read earlier (a cache), so this adapter need not read the catalog."""

    @abstractmethod
    def page(self, ns: str, obj: str, request: PageRequest) -> Page: ...

    @abstractmethod
    def count_exact(self, ns: str, obj: str, request: PageRequest) -> int:
        """COUNT(*) with the filters, under the statement timeout; only on explicit request."""

    @abstractmethod
    def record(self, ns: str, obj: str, key: dict[str, Any]) -> Record | None: ...

    @abstractmethod
    def insert(self, ns: str, obj: str, values: dict[str, Any]) -> dict[str, Any]:
        """Insert; return the new row's key."""

    @abstractmethod
    def update(self, ns: str, obj: str, key: dict[str, Any], values: dict[str, Any]) -> tuple[dict, dict]:
        """Update exactly the row with this key; return (before, after). Raises if 0 or >1 rows match."""

    @abstractmethod
    def delete(self, ns: str, obj: str, key: dict[str, Any]) -> dict[str, Any]:
        """Delete exactly the row with this key; return what it held."""

    @abstractmethod
    def export(self, ns: str, obj: str, request: PageRequest, max_rows: int) -> Iterator[list[Any]]:
        """Yield rows (uncut) of every page in order, streaming from a server-side cursor."""

    def insert_statement(self, ns: str, obj: str, columns: list[str], row: list[Any]) -> str:
        """One exported row as an INSERT statement; only where `exports_sql`."""
        raise NotImplementedError


class KeyBrowsing(Capability):
    """Keys of a key-value store (Redis): a tree from bounded SCAN, typed values, key edits.

    Keys are bytes; `escape_key` / `unescape_key` turn them into reversible text for links and forms.
    """

    noun = "keys"

    @abstractmethod
    def namespaces(self) -> list[Namespace]: ...

    @staticmethod
    @abstractmethod
    def escape_key(key: bytes) -> str: ...

    @staticmethod
    @abstractmethod
    def unescape_key(text: str) -> bytes: ...

    @abstractmethod
    def scan_keys(
        self,
        db: int,
        *,
        prefix: str = "",
        pattern: str = "",
        type_filter: str = "",
        cursor: str | None = None,
        separator: str = ":",
    ) -> Listing:
        """One bounded SCAN batch grouped by the separator: prefixes with counts, then keys."""

    @abstractmethod
    def key_value(self, db: int, key: bytes, cursor: str | None = None, count: int = 100) -> KeyValue | None: ...

    @abstractmethod
    def set_string(self, db: int, key: bytes, value: str, ttl: int | None = None) -> dict[str, Any]: ...

    @abstractmethod
    def rename_key(self, db: int, key: bytes, new_key: bytes) -> dict[str, Any]: ...

    @abstractmethod
    def expire_key(self, db: int, key: bytes, ttl: int | None) -> dict[str, Any]: ...

    @abstractmethod
    def delete_key(self, db: int, key: bytes) -> dict[str, Any]: ...

    @abstractmethod
    def edit_member(
        self,
        db: int,
        key: bytes,
        action: str,
        *,
        field: str = "",
        value: str = "",
        score: float | None = None,
        index: int | None = None,
    ) -> dict[str, Any]:
        """One change inside a hash, list, set, sorted set or stream; `action` names the command."""


class ObjectBrowsing(Capability):
    """Buckets and objects of an object store (S3, GCS, Azure): listings by prefix, streamed bodies, links, uploads.

    The words a store uses for the same things are variants on the class, so the pages
    never ask which store it is.
    """

    noun = "buckets and objects"
    metadata_prefix: ClassVar[str] = "x-amz-meta-"  # how custom metadata is named on the wire
    storage_class_label: ClassVar[str] = "Storage class"  # "Access tier" on Azure
    link_label: ClassVar[str] = "Presigned link"  # "Signed URL" (GCS), "SAS link" (Azure)
    max_link_seconds: ClassVar[int] = 7 * 24 * 3600  # links live at most this long
    versions_label: ClassVar[str] = ""  # "Generations", "Snapshots and versions": where `versions` lists any

    @abstractmethod
    def namespaces(self) -> list[Namespace]: ...

    @abstractmethod
    def list_objects(
        self, bucket: str, *, prefix: str = "", token: str | None = None, limit: int = 1000, delimiter: str = "/"
    ) -> Listing: ...

    @abstractmethod
    def head_object(self, bucket: str, key: str) -> ObjectMeta: ...

    @abstractmethod
    def open_object(self, bucket: str, key: str) -> tuple[ObjectMeta, Iterator[bytes]]:
        """The object's metadata and its body in chunks; the caller closes the adapter when done."""

    @abstractmethod
    def presign(self, bucket: str, key: str, seconds: int) -> str: ...

    @abstractmethod
    def put_object(self, bucket: str, key: str, fileobj: BinaryIO, size: int | None, content_type: str) -> None: ...

    @abstractmethod
    def delete_object(self, bucket: str, key: str) -> None: ...

    def versions(self, bucket: str, key: str, limit: int = 50) -> list[ObjectVersion]:
        """Kept versions of the object, newest first (at most `limit`); none where the store keeps none."""
        return []
