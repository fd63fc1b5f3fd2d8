"""MongoDB's catalog: databases, collections with estimated counts and sizes, indexes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pymongo import errors as mx

from connections.engines.base import EngineError, refuse_nul
from connections.engines.browse import Column, Index, Listing, Namespace, ObjectInfo, TableInfo

if TYPE_CHECKING:
    from connections.engines.mongodb.adapter import MongoDBAdapter

MAX_COLLECTIONS = 1000
SIZED_COLLECTIONS = 200
COLUMNS = [Column("_id", "ObjectId/any", nullable=False, primary_key=True), Column("document", "document")]


class MongoDBIntrospection:
    def __init__(self, adapter: MongoDBAdapter) -> None:
        self.adapter = adapter

    def namespaces(self) -> list[Namespace]:
        try:
            names = self.adapter._call(self.adapter._mongo().list_database_names)
        except EngineError as exc:
            if exc.kind != "permission" or not self.adapter.params.database:
                raise
            names = [self.adapter.params.database]
        return [Namespace(name=n) for n in names]

    def objects(self, ns: str) -> Listing:
        refuse_nul(ns)
        db = self.adapter._mongo()[ns]
        names = sorted(self.adapter._call(db.list_collection_names))[:MAX_COLLECTIONS]
        items = []
        for i, name in enumerate(names):
            estimate = size = None
            try:
                estimate = db[name].estimated_document_count(maxTimeMS=self.adapter._max_ms)
                if i < SIZED_COLLECTIONS:
                    size = db.command("collStats", name, maxTimeMS=self.adapter._max_ms).get("size")
            except mx.PyMongoError:
                pass  # a view or a collection we may not stat: show it without numbers
            items.append(ObjectInfo(name=name, kind="collection", estimated_rows=estimate, size_bytes=size))
        return Listing(items=items)

    def describe(self, ns: str, obj: str) -> TableInfo:
        coll = self.adapter._collection(ns, obj)
        indexes = self.adapter._call(coll.index_information)
        estimate = self.adapter._call(coll.estimated_document_count, maxTimeMS=self.adapter._max_ms)
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
