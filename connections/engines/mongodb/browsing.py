"""MongoDB's documents: keyset pages by _id (and a sort field), Extended JSON in and out, edits by _id."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from bson import json_util
from bson.json_util import JSONMode, JSONOptions
from pymongo import ASCENDING, DESCENDING

from connections.engines import cursor as tokens
from connections.engines.base import EngineError, first_line
from connections.engines.browse import (
    DETAIL_CELL_CAP,
    Cut,
    Listing,
    Namespace,
    Page,
    PageRequest,
    Record,
    TableBrowsing,
    TableInfo,
)
from connections.engines.mongodb.adapter import MongoDBAdapter

RELAXED = JSONOptions(json_mode=JSONMode.RELAXED, tz_aware=True)
# Operators that run server-side JavaScript or write: never accepted from the browser.
FORBIDDEN_OPERATORS = {"$where", "$function", "$accumulator", "$out", "$merge"}


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


class MongoDBBrowsing(TableBrowsing):
    documents = True
    adapter: MongoDBAdapter

    def namespaces(self) -> list[Namespace]:
        return self.adapter.introspection.namespaces()

    def objects(self, ns: str) -> Listing:
        return self.adapter.introspection.objects(ns)

    def describe(self, ns: str, obj: str) -> TableInfo:
        return self.adapter.introspection.describe(ns, obj)

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
        coll = self.adapter._collection(ns, obj)
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
        found = self.adapter._call(
            lambda: list(
                coll.find(where, projection).sort(order).limit(request.limit + 1).max_time_ms(self.adapter._max_ms)
            )
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
        coll = self.adapter._collection(ns, obj)
        return int(
            self.adapter._call(
                coll.count_documents, parse_json(request.query, "filter"), maxTimeMS=self.adapter._max_ms
            )
        )

    def record(self, ns: str, obj: str, key: dict[str, Any]) -> Record | None:
        _id_of(key)
        doc = self.adapter._call(
            self.adapter._collection(ns, obj).find_one, {"_id": key["_id"]}, max_time_ms=self.adapter._max_ms
        )
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
        self.adapter._writable()
        _id_of(key)
        coll = self.adapter._collection(ns, obj)
        doc = self._document(values)
        if "_id" in doc and doc["_id"] != key["_id"]:
            raise EngineError("The _id of a document cannot change; insert a new document instead.", kind="config")
        doc["_id"] = key["_id"]
        before = self.adapter._call(coll.find_one, {"_id": key["_id"]})
        if before is None:
            raise EngineError("That document no longer exists.", kind="database")
        result = self.adapter._call(coll.replace_one, {"_id": key["_id"]}, doc)
        if result.matched_count != 1:
            raise EngineError("The document changed or vanished meanwhile; nothing was saved.", kind="database")
        return self._plain(before), self._plain(doc)

    def delete(self, ns: str, obj: str, key: dict[str, Any]) -> dict[str, Any]:
        self.adapter._writable()
        _id_of(key)
        coll = self.adapter._collection(ns, obj)
        before = self.adapter._call(coll.find_one_and_delete, {"_id": key["_id"]})
        if before is None:
            raise EngineError("That document no longer exists.", kind="database")
        return self._plain(before)

    def insert(self, ns: str, obj: str, values: dict[str, Any]) -> dict[str, Any]:
        self.adapter._writable()
        result = self.adapter._call(self.adapter._collection(ns, obj).insert_one, self._document(values))
        return {"_id": result.inserted_id}

    def export(self, ns: str, obj: str, request: PageRequest, max_rows: int) -> Iterator[list[Any]]:
        coll = self.adapter._collection(ns, obj)
        query = parse_json(request.query, "filter")
        projection = parse_json(request.projection, "projection") if request.projection else None
        field, direction = self._sort(request)
        order = ([(field, direction)] if field else []) + [("_id", direction)]
        found = coll.find(query, projection).sort(order).limit(max_rows).batch_size(1000)
        with self.adapter.driver_errors():
            for doc in found:
                yield [to_json(doc["_id"]), to_json(doc)]
