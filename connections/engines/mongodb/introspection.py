"""MongoDB's catalog: databases, collections with estimated counts and sizes, indexes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.engines.base import EngineError, refuse_nul
from connections.engines.browse import Column, Index, Listing, Namespace, ObjectInfo, TableInfo
from connections.engines.partitions import MAX_PARTITIONS, Partitioning
from connections.engines.results import Partition, PartitionInfo

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
        from pymongo import errors as mx

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


class MongoDBPartitioning(Partitioning):
    """The shard key and chunk ranges, where the server reports sharding in its config database."""

    def partitions(self, ns: str, obj: str) -> PartitionInfo:
        from pymongo import errors as mx

        coll = self.adapter._collection(ns, obj)
        config = self.adapter._mongo()["config"]
        try:
            entry = config["collections"].find_one({"_id": coll.full_name}, max_time_ms=self.adapter._max_ms)
        except mx.PyMongoError as exc:
            message = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
            return PartitionInfo(notice=f"This server reports no sharding information ({message}).")
        if not entry or not entry.get("key"):
            return PartitionInfo(
                notice="This server reports no shard key for this collection (config.collections has no entry): "
                "it is not sharded, or the server (SecantusDB, a standalone mongod) does not shard."
            )
        key = ", ".join(f"{k}: {v}" for k, v in entry["key"].items())
        chunks = []
        try:
            query = {"uuid": entry["uuid"]} if "uuid" in entry else {"ns": coll.full_name}
            for chunk in config["chunks"].find(query, max_time_ms=self.adapter._max_ms).limit(MAX_PARTITIONS):
                chunks.append(
                    Partition(
                        name=str(chunk.get("_id")),
                        namespace=str(chunk.get("shard", "")),
                        bounds=f"{chunk.get('min')} → {chunk.get('max')}",
                    )
                )
        except mx.PyMongoError:
            pass  # the key is still worth showing
        return PartitionInfo(key=key, partitions=chunks, notice="Chunks are listed with the shard that holds them.")
