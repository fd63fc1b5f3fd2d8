"""MongoDB's index tools: listIndexes with $indexStats where the server has it, findings, advice, builds.

Key patterns are shown as "field:1" so direction counts in duplicate and prefix findings.
Advice is a heuristic from the query planner's winning plan (a COLLSCAN with a filter).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bson import json_util
from pymongo import errors as mx

from connections.engines.base import EngineError, refuse_nul
from connections.engines.capabilities import IndexTools
from connections.engines.indexfindings import duplicates_and_prefixes, index_name
from connections.engines.mongodb.explain import parse_command
from connections.engines.plantree import MONGO_RANGE, esr
from connections.engines.results import IndexFinding, IndexSuggestion, IndexUsage, Progress

MAX_COLLECTIONS = 200


def _field(pattern: str) -> tuple[str, Any]:
    name, _, direction = pattern.rpartition(":")
    return name, int(direction) if direction.lstrip("-").isdigit() else direction


class MongoDBIndexTools(IndexTools):
    online = True  # createIndexes builds without blocking reads and writes (4.2+)
    hypothetical = False
    notice = ""

    def list_indexes(self, ns: str, obj: str) -> list[IndexUsage]:
        coll = self.adapter._collection(ns, obj)
        specs = list(self.adapter._call(coll.list_indexes))
        stats: dict[str, tuple[int, Any]] | None
        try:
            stats = {
                s["name"]: (int(s.get("accesses", {}).get("ops", 0)), s.get("accesses", {}).get("since"))
                for s in coll.aggregate([{"$indexStats": {}}], maxTimeMS=self.adapter._max_ms)
            }
        except mx.PyMongoError as exc:
            stats = None
            self.notice = f"This server gives no $indexStats ({str(exc).splitlines()[0][:120]}): no use counts."
        try:
            sizes = self.adapter._call(coll.database.command, "collStats", obj).get("indexSizes", {})
        except EngineError:
            sizes = {}
        found = []
        for spec in specs:
            name = str(spec["name"])
            keys = tuple(f"{k}:{v}" for k, v in spec["key"].items())
            used = stats.get(name) if stats is not None else None
            found.append(
                IndexUsage(
                    namespace=ns,
                    table=obj,
                    name=name,
                    columns=keys,
                    definition=json_util.dumps({k: v for k, v in spec.items() if k not in ("v", "ns")}),
                    unique=bool(spec.get("unique")) or name == "_id_",
                    primary=name == "_id_",
                    backs_constraint=name == "_id_" or bool(spec.get("unique")),
                    size_bytes=sizes.get(name),
                    scans=used[0] if used else (0 if stats is not None else None),
                    stats_since=used[1] if used else None,
                )
            )
        return found

    def _drop(self, index: IndexUsage) -> str:
        return json_util.dumps({"dropIndexes": index.table, "index": index.name})

    def findings(self, ns: str) -> list[IndexFinding]:
        refuse_nul(ns)
        db = self.adapter._mongo()[ns]
        names = sorted(self.adapter._call(db.list_collection_names))[:MAX_COLLECTIONS]
        indexes = [i for name in names for i in self.list_indexes(ns, name)]
        found = duplicates_and_prefixes(indexes, self._drop)
        for index in indexes:
            if index.scans == 0 and not index.backs_constraint:
                detail = "no operations used it since the server started"
                found.append(
                    IndexFinding("unused", ns, index.table, index.name, detail, index.size_bytes, self._drop(index))
                )
        return found

    def suggest(self, statement: str) -> list[IndexSuggestion]:
        """Heuristic: equality fields, then sort fields, then range fields of a find's filter."""
        database, command = parse_command(statement, self.adapter.params.database)
        verb = next(iter(command))
        collection = str(command[verb])
        query = command.get("filter") or command.get("query") or {}
        if verb == "aggregate":
            first = (command.get("pipeline") or [{}])[0]
            query = first.get("$match", {}) if isinstance(first, dict) else {}
        equal = [
            k
            for k, v in query.items()
            if not k.startswith("$") and not (isinstance(v, dict) and set(v) & set(MONGO_RANGE))
        ]
        ranged = [k for k in query if not k.startswith("$") and k not in equal]
        sort = [k for k in (command.get("sort") or {})]
        existing = {i.columns[0].rpartition(":")[0] for i in self.list_indexes(database, collection) if i.columns}
        found = []
        for columns in esr(equal, sort, ranged):
            if columns[0] in existing and len(columns) == 1:
                continue
            create = json_util.dumps(
                {
                    "createIndexes": collection,
                    "indexes": [{"key": {c: 1 for c in columns}, "name": index_name(collection, columns, 120)}],
                }
            )
            why = (
                f"Heuristic (not measured): the query filters or sorts on {', '.join(columns)}"
                " (equality, sort, range order)."
            )
            found.append(IndexSuggestion(database, collection, columns, create, "heuristic", reason=why))
        return found

    def create(self, ns: str, obj: str, columns: tuple[str, ...], *, unique: bool = False) -> Iterator[Progress]:
        refuse_nul(ns, obj, *columns)
        if not columns:
            raise EngineError("Choose at least one field for the index.", kind="config")
        keys = [_field(c) if ":" in c else (c, 1) for c in columns]
        name = index_name(obj, tuple(k for k, _ in keys), 120)
        self.adapter._writable()
        yield Progress(f"building {name}")
        coll = self.adapter._collection(ns, obj)
        self.adapter._call(coll.create_index, keys, name=name, unique=unique, maxTimeMS=6 * 3600 * 1000)
        yield Progress("done", 1, 1)

    def drop(self, ns: str, obj: str, name: str) -> Iterator[Progress]:
        refuse_nul(ns, obj, name)
        self.adapter._writable()
        yield Progress(f"dropping {name}")
        self.adapter._call(self.adapter._collection(ns, obj).drop_index, name)
        yield Progress("done", 1, 1)
