"""Browsing: namespaces, objects, keyset pages of typed cells, one row, Redis keys, S3 listings.

Parameters are the grid's own, parsed by the explorer's forms from the query string, so a
cursor token or filter that works on a page works here and the same refusals answer 400.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal
from urllib.parse import quote

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, Query, Router, Schema

from accounts.models import Role
from api import access
from api.responses import ENGINE, ID, answers, needs
from api.schemas import CountOut, KeyValueOut, Listing, NamespaceList, ObjectMetaOut, RowOut, RowsPage
from audit.record import record
from connections.engines import EngineError, cursor
from connections.engines.base import Adapter
from connections.engines.browse import KeyBrowsing, ObjectBrowsing, ObjectInfo, TableBrowsing
from connections.engines.browse import Listing as EngineListing
from explorer import catalog, cells
from explorer.forms import BucketForm, GridForm, KeyForm, KeyTreeForm, ObjectForm, RowForm, RowKeyForm
from explorer.views.common import engine, require

router = Router(tags=["browse"])


def cell(value: Any) -> dict[str, Any]:
    found = cells.cell(value)
    return {"kind": found.kind, "text": found.text, "cut": found.cut, "length": found.length}


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, dt.datetime) else str(v)))


def _item(info: ObjectInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "kind": info.kind,
        "estimated_rows": info.estimated_rows,
        "size_bytes": info.size_bytes,
        "detail": info.detail,
        "extra": _jsonable(info.extra),
    }


def _listing(listing: EngineListing) -> dict[str, Any]:
    return {
        "items": [_item(i) for i in listing.items],
        "next_cursor": listing.next_cursor,
        "notice": listing.notice,
        "scanned": listing.scanned,
    }


def _browsing(adapter: Adapter) -> TableBrowsing | KeyBrowsing | ObjectBrowsing:
    for capability in (TableBrowsing, KeyBrowsing, ObjectBrowsing):
        if found := adapter.get(capability):
            return found
    raise EngineError(f"{adapter.display_name} has nothing to browse.", "config")


@router.get("/{id:pk}/namespaces", response=answers(NamespaceList, extra=ENGINE), openapi_extra=needs(Role.VIEWER))
def namespaces(request: HttpRequest, pk: ID) -> dict[str, Any]:
    """Schemas, databases or buckets: the first browse level (engines return these whole)."""
    read = access.connection_for(request, pk)
    with engine(read) as adapter:
        found = _browsing(adapter).namespaces()
    return {"items": [{"name": n.name, "detail": n.detail} for n in found], "next_cursor": None}


class NsQuery(Schema):
    ns: str = Field("", description="Schema or database.")


@router.get("/{id:pk}/objects", response=answers(Listing, extra=ENGINE), openapi_extra=needs(Role.VIEWER))
def objects(request: HttpRequest, pk: ID, query: Query[NsQuery]) -> dict[str, Any]:
    """Tables, views and collections of one namespace, with estimated sizes (never COUNT(*))."""
    read = access.connection_for(request, pk)
    grid = GridForm(request.GET).valid()
    with engine(read) as adapter:
        listing = require(adapter, TableBrowsing).objects(grid.cleaned_data["ns"] or "")
    return _listing(listing)


class GridQuery(Schema):
    """The grid's query string (explorer/forms.py GridForm)."""

    ns: str = Field("", description="Schema or database.")
    obj: str = Field(description="Table, view or collection.")
    after: str = Field("", description="next_cursor of the previous page.")
    before: str = Field("", description="prev_cursor of the next page.")
    sort: str = ""
    desc: Literal["", "1"] = ""
    limit: int = Field(100, ge=1, le=500)
    fc: list[str] = Field(default_factory=list, description="Filter columns (repeat; one per filter).")
    fo: list[str] = Field(default_factory=list, description="Filter operators: eq ne lt gt contains startswith …")
    fv: list[str] = Field(default_factory=list, description="Filter values.")
    col: list[str] = Field(default_factory=list, description="Columns to show (repeat); none = all.")
    q: str = Field("", description="MongoDB: Extended JSON filter.")
    proj: str = Field("", description="MongoDB: projection.")
    msort: str = Field("", description="MongoDB: sort document.")


@router.get("/{id:pk}/rows", response=answers(RowsPage, extra=ENGINE), openapi_extra=needs(Role.VIEWER))
def rows(request: HttpRequest, pk: ID, query: Query[GridQuery]) -> dict[str, Any]:
    """One keyset page of a table or collection, values as typed cells cut at the grid's cap."""
    read = access.connection_for(request, pk)
    grid = GridForm(request.GET, need_object=True).valid()
    ns, obj = grid.cleaned_data["ns"] or "", grid.cleaned_data["obj"]
    with engine(read) as adapter:
        browsing = require(adapter, TableBrowsing)
        info = catalog.describe(read.connection, browsing, ns, obj)
        page = catalog.page(read.connection, browsing, ns, obj, grid.page_request())
    types = {c.name: c for c in info.columns}
    return {
        "columns": [
            {
                "name": name,
                "type": types[name].type if name in types else "",
                "nullable": types[name].nullable if name in types else True,
                "primary_key": types[name].primary_key if name in types else False,
            }
            for name in page.columns
        ],
        "rows": [[cell(v) for v in row] for row in page.rows],
        "keys": cursor.encode_keys(page.keys),
        "next_cursor": page.next_cursor,
        "prev_cursor": page.prev_cursor,
        "notice": page.notice,
        "estimated_rows": info.estimated_rows,
        "key_kind": info.key_kind,
    }


@router.get("/{id:pk}/rows/count", response=answers(CountOut, extra=ENGINE), openapi_extra=needs(Role.VIEWER))
def rows_count(request: HttpRequest, pk: ID, query: Query[GridQuery]) -> dict[str, Any]:
    """The exact count with the filters (COUNT(*) under the statement timeout), only when asked."""
    read = access.connection_for(request, pk)
    grid = GridForm(request.GET, need_object=True).valid()
    ns, obj = grid.cleaned_data["ns"] or "", grid.cleaned_data["obj"]
    preq = grid.page_request()
    with engine(read) as adapter:
        total = require(adapter, TableBrowsing).count_exact(ns, obj, preq)
    record(
        "query.count",
        request=request,
        connection=read.connection,
        target=f"{ns}.{obj}",
        filters=len(preq.filters),
        **access.via(request),
    )
    return {"count": total}


class RowQuery(Schema):
    ns: str = ""
    obj: str
    key: str = Field(description="A row's key token from a rows page.")


@router.get("/{id:pk}/row", response=answers(RowOut, extra=ENGINE), openapi_extra=needs(Role.VIEWER))
def row(request: HttpRequest, pk: ID, query: Query[RowQuery]) -> Any:
    """One row or document, whole (values cut at the detail view's cap)."""
    read = access.connection_for(request, pk)
    target = RowForm(request.GET).valid().cleaned_data
    key = RowKeyForm(request.GET).valid().cleaned_data["key"]
    with engine(read) as adapter:
        found = require(adapter, TableBrowsing).record(target["ns"], target["obj"], key)
    if found is None:
        raise EngineError("That row no longer exists (or its key changed).", "database")
    return {"key": cursor.encode(found.key), "values": {k: cell(v) for k, v in found.values.items()}}


class KeysQuery(Schema):
    ns: str = Field("0", description="Redis database number.")
    prefix: str = ""
    pattern: str = ""
    type: Literal["", "string", "hash", "list", "set", "zset", "stream", "ReJSON-RL"] = ""
    scan: str = Field("", description="next_cursor of the previous batch (a SCAN position).")
    sep: str = Field(":", max_length=8)


@router.get("/{id:pk}/keys", response=answers(Listing, extra=ENGINE), openapi_extra=needs(Role.VIEWER))
def keys(request: HttpRequest, pk: ID, query: Query[KeysQuery]) -> dict[str, Any]:
    """One bounded SCAN batch of Redis keys grouped by the separator (never KEYS)."""
    read = access.connection_for(request, pk)
    scan = KeyTreeForm(request.GET).valid().cleaned_data
    with engine(read) as adapter:
        listing = require(adapter, KeyBrowsing).scan_keys(
            scan["ns"],
            prefix=scan["prefix"],
            pattern=scan["pattern"],
            type_filter=scan["type"],
            cursor=scan["scan"],
            separator=scan["sep"],
        )
    return _listing(listing)


class KeyQuery(Schema):
    ns: str = Field("0", description="Redis database number.")
    key: str = Field(description="The key as escaped text (a listing's extra.key).")
    cursor: str = Field("", description="next_cursor of the previous page of members.")


@router.get("/{id:pk}/key", response=answers(KeyValueOut, extra=ENGINE), openapi_extra=needs(Role.VIEWER))
def key(request: HttpRequest, pk: ID, query: Query[KeyQuery]) -> Any:
    """A Redis value, its members paged by cursor (HSCAN / SSCAN / ZSCAN / LRANGE / XRANGE)."""
    read = access.connection_for(request, pk)
    form = KeyForm(request.GET).valid().cleaned_data
    with engine(read) as adapter:
        store = require(adapter, KeyBrowsing)
        value = store.key_value(form["ns"], store.unescape_key(form["key"]), cursor=form["cursor"])
        if value is None:
            raise EngineError("That key does not exist (it may have expired).", "database")
        escaped = store.escape_key(value.key)
    return {
        "key": escaped,
        "type": value.type,
        "ttl": value.ttl,
        "length": value.length,
        "memory": value.memory,
        "encoding": value.encoding,
        "items": [[cell(a), cell(b)] for a, b in value.items],
        "next_cursor": value.next_cursor,
    }


class BucketQuery(Schema):
    ns: str = Field(description="Bucket.")
    prefix: str = ""
    token: str = Field("", description="next_cursor of the previous listing (a continuation token).")


@router.get("/{id:pk}/bucket", response=answers(Listing, extra=ENGINE), openapi_extra=needs(Role.VIEWER))
def bucket(request: HttpRequest, pk: ID, query: Query[BucketQuery]) -> dict[str, Any]:
    """One delimiter listing of a bucket by prefix, continued by token."""
    read = access.connection_for(request, pk)
    form = BucketForm(request.GET).valid().cleaned_data
    if not form["ns"]:
        raise EngineError("Choose a bucket first (the namespaces endpoint lists them).", "config")
    with engine(read) as adapter:
        listing = require(adapter, ObjectBrowsing).list_objects(
            form["ns"], prefix=form["prefix"], token=form["token"] or None
        )
    return _listing(listing)


class ObjectQuery(Schema):
    ns: str = Field(description="Bucket.")
    key: str = Field(description="Object key.")


@router.get("/{id:pk}/bucket/object", response=answers(ObjectMetaOut, extra=ENGINE), openapi_extra=needs(Role.VIEWER))
def bucket_object(request: HttpRequest, pk: ID, query: Query[ObjectQuery]) -> dict[str, Any]:
    read = access.connection_for(request, pk)
    form = ObjectForm(request.GET).valid().cleaned_data
    with engine(read) as adapter:
        meta = require(adapter, ObjectBrowsing).head_object(form["ns"], form["key"])
    return {
        "bucket": meta.bucket,
        "key": meta.key,
        "size": meta.size,
        "modified": meta.modified if isinstance(meta.modified, dt.datetime) else None,
        "etag": meta.etag,
        "content_type": meta.content_type,
        "storage_class": meta.storage_class,
        "metadata": {str(k): str(v) for k, v in (meta.metadata or {}).items()},
    }


@router.get(
    "/{id:pk}/bucket/object/download",
    response=answers(bytes, extra=ENGINE),
    openapi_extra={
        **needs(Role.VIEWER),
        "responses": {200: {"description": "The object's body.", "content": {"application/octet-stream": {}}}},
    },
)
def bucket_object_download(request: HttpRequest, pk: ID, query: Query[ObjectQuery]) -> Any:
    """The object's body, streamed."""
    read = access.connection_for(request, pk)
    form = ObjectForm(request.GET).valid().cleaned_data
    adapter = read.connection.adapter(read_only=not read.can_write)
    try:
        meta, chunks = require(adapter, ObjectBrowsing).open_object(form["ns"], form["key"])
    except Exception:
        adapter.close()
        raise

    def stream() -> Any:
        try:
            yield from chunks
        finally:
            adapter.close()

    record(
        "data.download",
        request=request,
        connection=read.connection,
        target=f"{meta.bucket}/{meta.key}",
        size=meta.size,
        **access.via(request),
    )
    response = StreamingHttpResponse(stream(), content_type="application/octet-stream")
    response["Content-Length"] = str(meta.size)
    filename = meta.key.rsplit("/", 1)[-1] or "object"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
    return response
