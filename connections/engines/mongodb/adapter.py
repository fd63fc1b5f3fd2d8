"""MongoDB through pymongo: check, collections with estimates, documents as Extended JSON."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from bson import json_util
from bson.errors import BSONError
from bson.json_util import JSONMode, JSONOptions
from pymongo import ASCENDING, DESCENDING, MongoClient
from pymongo import errors as mx

from connections.engines import cursor as tokens
from connections.engines.base import (
    VALUE_ERRORS,
    Adapter,
    EngineError,
    ServerInfo,
    first_line,
    read_only_refusal,
    refuse_nul,
    unreachable,
    value_refused,
    wrong_credentials,
)
from connections.engines.browse import (
    DETAIL_CELL_CAP,
    Column,
    Cut,
    Index,
    Listing,
    Namespace,
    ObjectInfo,
    Page,
    PageRequest,
    Record,
    TableBrowsing,
    TableInfo,
)

RELAXED = JSONOptions(json_mode=JSONMode.RELAXED, tz_aware=True)
# Operators that run server-side JavaScript or write: never accepted from the browser.
FORBIDDEN_OPERATORS = {"$where", "$function", "$accumulator", "$out", "$merge"}
MAX_COLLECTIONS = 1000
SIZED_COLLECTIONS = 200
COLUMNS = [Column("_id", "ObjectId/any", nullable=False, primary_key=True), Column("document", "document")]


def to_json(doc: Any, *, indent: int | None = None) -> str:
    return json_util.dumps(doc, json_options=RELAXED, indent=indent, ensure_ascii=False)


def parse_json(text: str, what: str) -> Any:
    try:
        value = json_util.loads(text) if text.strip() else {}
    except (ValueError, TypeError) as exc:
        raise EngineError(f"The {what} is not valid Extended JSON: {first_line(exc, 160)}", kind="config") from None
    if not isinstance(value, dict):
        raise EngineError(f'The {what} must be a JSON object, like {{"field": 1}}.', kind="config")
    _refuse_operators(value, what)
    return value


def _refuse_operators(value: Any, what: str) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in FORBIDDEN_OPERATORS:
                raise EngineError(f"{key} is not allowed in a {what}: it runs code or writes on the server.", "config")
            _refuse_operators(inner, what)
    elif isinstance(value, list):
        for inner in value:
            _refuse_operators(inner, what)


def _id_of(key: dict[str, Any]) -> Any:
    """The _id a row link names; a link naming anything else, or smuggling an operator, is refused."""
    if set(key) != {"_id"}:
        raise EngineError("This link does not name a document; open it from the collection again.", kind="config")
    _refuse_operators(key["_id"], "document link")
    return key["_id"]


class MongoDBAdapter(TableBrowsing, Adapter):
    engine = "mongodb"
    display_name = "MongoDB"
    default_port = 27017
    browse_style = "documents"

    def __init__(self, params: Any) -> None:
        super().__init__(params)
        self._client: MongoClient | None = None

    def _mongo(self) -> MongoClient:
        if self._client is None:
            p = self.params
            refuse_nul(p.username, p.password, p.database)
            kwargs: dict[str, Any] = {
                "host": p.address or p.host,
                "port": p.port or self.default_port,
                "serverSelectionTimeoutMS": int(p.connect_timeout * 1000),
                "connectTimeoutMS": int(p.connect_timeout * 1000),
                "socketTimeoutMS": int((p.statement_timeout + 5) * 1000),
                "appname": "dbdeck",
                "directConnection": bool(p.extra.get("direct_connection", True)),
                "tz_aware": True,
            }
            if p.username:
                kwargs.update(
                    username=p.username,
                    password=p.password,
                    authSource=p.extra.get("auth_source") or p.database or "admin",
                )
            if p.extra.get("replica_set"):
                kwargs["replicaSet"] = p.extra["replica_set"]
                kwargs["directConnection"] = False
            if p.tls_mode in ("require", "verify-full"):
                kwargs.update(tls=True, tlsAllowInvalidCertificates=p.tls_mode != "verify-full")
            self._client = MongoClient(**kwargs)
        return self._client

    @property
    def _max_ms(self) -> int:
        return int(self.params.statement_timeout * 1000)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except mx.PyMongoError as exc:
            raise self._error(exc) from None
        except (BSONError, *VALUE_ERRORS) as exc:
            # bson refuses a value before sending it: InvalidDocument, ints past 64 bits, bad keys.
            raise value_refused("MongoDB", exc) from None

    def _error(self, exc: Exception) -> EngineError:
        if isinstance(exc, mx.OperationFailure):
            message = first_line((exc.details or {}).get("errmsg") or exc)
            if exc.code == 18:
                return wrong_credentials(self.params)
            if exc.code == 13:
                return EngineError(f"Permission denied: {message}", kind="permission")
            if exc.code == 50:
                return EngineError(f"The query ran past the {self.params.statement_timeout:g} s timeout.", "timeout")
            return EngineError(f"MongoDB said: {message}", kind="config")
        if isinstance(exc, mx.ConfigurationError | mx.InvalidName):
            return EngineError(f"That is not valid for MongoDB: {first_line(exc)}", kind="config")
        if isinstance(exc, mx.ServerSelectionTimeoutError | mx.AutoReconnect | mx.NetworkTimeout):
            if "ssl" in str(exc).lower() or "tls" in str(exc).lower():
                return EngineError("The TLS handshake failed: check the TLS setting.", kind="tls")
            return unreachable(self.params)
        return EngineError(f"MongoDB failed: {first_line(exc)}", kind="unknown")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def check(self) -> ServerInfo:
        client = self._mongo()
        build = self._call(client.admin.command, "buildInfo")
        started = time.perf_counter()
        self._call(client.admin.command, "ping")
        latency = (time.perf_counter() - started) * 1000
        return ServerInfo(version=f"MongoDB {build.get('version', '?')}", latency_ms=latency)

    def _writable(self) -> None:
        # MongoDB has no read-only session: viewers' adapters refuse writes before sending them,
        # and a read-only credential (a user with the `read` role) makes the server refuse too.
        if self.params.extra.get("read_only"):
            raise read_only_refusal()

    def _collection(self, ns: str, obj: str) -> Any:
        refuse_nul(ns, obj)
        if not ns or not obj:
            raise EngineError("Choose a database and a collection.", kind="config")
        return self._mongo()[ns][obj]

    # ---- browsing ----------------------------------------------------------------------------
    def namespaces(self) -> list[Namespace]:
        try:
            names = self._call(self._mongo().list_database_names)
        except EngineError as exc:
            if exc.kind != "permission" or not self.params.database:
                raise
            names = [self.params.database]
        return [Namespace(name=n) for n in names]

    def objects(self, ns: str) -> Listing:
        refuse_nul(ns)
        db = self._mongo()[ns]
        names = sorted(self._call(db.list_collection_names))[:MAX_COLLECTIONS]
        items = []
        for i, name in enumerate(names):
            estimate = size = None
            try:
                estimate = db[name].estimated_document_count(maxTimeMS=self._max_ms)
                if i < SIZED_COLLECTIONS:
                    size = db.command("collStats", name, maxTimeMS=self._max_ms).get("size")
            except mx.PyMongoError:
                pass  # a view or a collection we may not stat: show it without numbers
            items.append(ObjectInfo(name=name, kind="collection", estimated_rows=estimate, size_bytes=size))
        return Listing(items=items)

    def describe(self, ns: str, obj: str) -> TableInfo:
        coll = self._collection(ns, obj)
        indexes = self._call(coll.index_information)
        estimate = self._call(coll.estimated_document_count, maxTimeMS=self._max_ms)
        return TableInfo(
            namespace=ns,
            name=obj,
            kind="collection",
            columns=list(COLUMNS),
            key=("_id",),
            key_kind="document",
            indexes=[
                Index(
                    name=n,
                    columns=tuple(k for k, _ in spec["key"]),
                    unique=bool(spec.get("unique")),
                    primary=n == "_id_",
                )
                for n, spec in indexes.items()
            ],
            estimated_rows=estimate,
        )

    def _sort(self, request: PageRequest) -> tuple[str | None, int]:
        spec = parse_json(request.sort_json, "sort") if request.sort_json else {}
        if not spec:
            return None, DESCENDING if request.descending else ASCENDING
        field, direction = next(iter(spec.items()))
        if direction not in (1, -1):
            raise EngineError("A sort direction is 1 or -1.", kind="config")
        return (None if field == "_id" else field), direction

    def _after(self, field: str | None, direction: int, position: list[Any]) -> dict[str, Any]:
        gt = "$gt" if direction == ASCENDING else "$lt"
        if field is None:
            return {"_id": {gt: position[0]}}
        value, last_id = position
        if value is None:  # nulls and missing sort first ascending
            if direction == ASCENDING:
                return {"$or": [{field: {"$ne": None}}, {field: None, "_id": {gt: last_id}}]}
            return {field: None, "_id": {gt: last_id}}
        rest: list[dict[str, Any]] = [{field: {gt: value}}, {field: value, "_id": {gt: last_id}}]
        if direction == DESCENDING:
            rest.append({field: None})
        return {"$or": rest}

    def page(self, ns: str, obj: str, request: PageRequest) -> Page:
        coll = self._collection(ns, obj)
        query = parse_json(request.query, "filter")
        projection = parse_json(request.projection, "projection") if request.projection else None
        field, direction = self._sort(request)
        forward = request.direction != "prev"
        walk = direction if forward else -direction
        conditions = [query] if query else []
        if request.cursor:
            position = tokens.decode(request.cursor, shape=tokens.POSITION, length=2 if field else 1)
            _refuse_operators(position, "page link")
            conditions.append(self._after(field, walk, position))
        where = {"$and": conditions} if len(conditions) > 1 else (conditions[0] if conditions else {})
        order = ([(field, walk)] if field else []) + [("_id", walk)]
        if projection and field and projection.get(field) == 0:
            raise EngineError("The projection hides the sort field.", kind="config")
        found = self._call(
            lambda: list(coll.find(where, projection).sort(order).limit(request.limit + 1).max_time_ms(self._max_ms))
        )
        more = len(found) > request.limit
        docs = found[: request.limit]
        if not forward:
            docs.reverse()

        def position(doc: dict[str, Any]) -> list[Any]:
            return [doc.get(field), doc["_id"]] if field else [doc["_id"]]

        has_next = more if forward else bool(docs)
        has_prev = (request.cursor is not None and bool(docs)) if forward else more
        rows = []
        for doc in docs:
            text = to_json(doc)
            encoded = len(text.encode())
            rows.append(
                [to_json(doc["_id"]), Cut(text[: request.cell_cap], encoded) if encoded > request.cell_cap else text]
            )
        return Page(
            columns=["_id", "document"],
            rows=rows,
            keys=[{"_id": d["_id"]} for d in docs],
            next_cursor=tokens.encode(position(docs[-1])) if has_next and docs else None,
            prev_cursor=tokens.encode(position(docs[0])) if has_prev and docs else None,
        )

    def count_exact(self, ns: str, obj: str, request: PageRequest) -> int:
        coll = self._collection(ns, obj)
        return int(self._call(coll.count_documents, parse_json(request.query, "filter"), maxTimeMS=self._max_ms))

    def record(self, ns: str, obj: str, key: dict[str, Any]) -> Record | None:
        _id_of(key)
        doc = self._call(self._collection(ns, obj).find_one, {"_id": key["_id"]}, max_time_ms=self._max_ms)
        if doc is None:
            return None
        text = to_json(doc, indent=2)
        size = len(text.encode())
        return Record(
            key={"_id": to_json(key["_id"])},
            values={"document": Cut(text[:DETAIL_CELL_CAP], size) if size > DETAIL_CELL_CAP else text},
        )

    def _document(self, values: dict[str, Any]) -> dict[str, Any]:
        text = values.get("document")
        if not isinstance(text, str):
            raise EngineError("Send the document as Extended JSON text.", kind="config")
        doc = parse_json(text, "document")
        return dict(doc)

    def _plain(self, doc: Any) -> Any:
        return json.loads(to_json(doc)) if doc is not None else None

    def update(self, ns: str, obj: str, key: dict[str, Any], values: dict[str, Any]) -> tuple[dict, dict]:
        self._writable()
        _id_of(key)
        coll = self._collection(ns, obj)
        doc = self._document(values)
        if "_id" in doc and doc["_id"] != key["_id"]:
            raise EngineError("The _id of a document cannot change; insert a new document instead.", kind="config")
        doc["_id"] = key["_id"]
        before = self._call(coll.find_one, {"_id": key["_id"]})
        if before is None:
            raise EngineError("That document no longer exists.", kind="database")
        result = self._call(coll.replace_one, {"_id": key["_id"]}, doc)
        if result.matched_count != 1:
            raise EngineError("The document changed or vanished meanwhile; nothing was saved.", kind="database")
        return self._plain(before), self._plain(doc)

    def delete(self, ns: str, obj: str, key: dict[str, Any]) -> dict[str, Any]:
        self._writable()
        _id_of(key)
        coll = self._collection(ns, obj)
        before = self._call(coll.find_one_and_delete, {"_id": key["_id"]})
        if before is None:
            raise EngineError("That document no longer exists.", kind="database")
        return self._plain(before)

    def insert(self, ns: str, obj: str, values: dict[str, Any]) -> dict[str, Any]:
        self._writable()
        result = self._call(self._collection(ns, obj).insert_one, self._document(values))
        return {"_id": result.inserted_id}

    def export(self, ns: str, obj: str, request: PageRequest, max_rows: int) -> Iterator[list[Any]]:
        coll = self._collection(ns, obj)
        query = parse_json(request.query, "filter")
        projection = parse_json(request.projection, "projection") if request.projection else None
        field, direction = self._sort(request)
        order = ([(field, direction)] if field else []) + [("_id", direction)]
        found = coll.find(query, projection).sort(order).limit(max_rows).batch_size(1000)
        try:
            for doc in found:
                yield [to_json(doc["_id"]), to_json(doc)]
        except mx.PyMongoError as exc:
            raise self._error(exc) from None
        except (BSONError, *VALUE_ERRORS) as exc:
            raise value_refused("MongoDB", exc) from None
