"""MongoDB backups in mongodump's directory layout, written by dbdeck (no mongodump on these machines).

Per collection: `<db>/<collection>.bson`, the raw BSON documents one after another exactly as the
server sent them (RawBSONDocument, never decoded), and `<db>/<collection>.metadata.json` with the
collection's options and indexes in mongodump's shape, so `mongorestore` reads the artifact and so
does dbdeck. The restore inserts documents in ordered batches (stopping at the first error), then
builds the indexes. Collection names travel inside part names, which the store checks: a name with
`/` or `..` is percent-encoded, as mongodump does.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any
from urllib.parse import quote

from bson import json_util
from bson.raw_bson import RawBSONDocument
from pymongo import errors as mx

from connections.engines.base import EngineError, first_line
from connections.engines.capabilities import Backup, Sink, Source
from connections.engines.results import BackupManifest, BackupScope, ObjectCount, RestoreReport

SYSTEM_DBS = ("admin", "local", "config")
BATCH = 1000
INDEX_OPTIONS = ("unique", "sparse", "expireAfterSeconds", "partialFilterExpression")


def _part_name(name: str) -> str:
    return quote(name, safe=" -_$#@!+=,;~()[]{}'") or "%00"


class MongoDBBackup(Backup):
    method = "mongodump-layout"
    sandbox = "connection"

    def _client(self) -> Any:
        return self.adapter._mongo()

    def _databases(self, scope: BackupScope) -> list[str]:
        if scope.namespaces:
            return list(scope.namespaces)
        if self.adapter.params.database:
            return [self.adapter.params.database]
        return [d for d in self._client().list_database_names() if d not in SYSTEM_DBS]

    def _collections(self, db: str, scope: BackupScope) -> list[dict[str, Any]]:
        found = [c for c in self._client()[db].list_collections() if c.get("type", "collection") == "collection"]
        found = [c for c in found if not c["name"].startswith("system.")]
        if scope.objects:
            wanted = {o.partition(".")[2] for o in scope.objects if o.partition(".")[0] == db}
            found = [c for c in found if c["name"] in wanted]
        return sorted(found, key=lambda c: c["name"])

    def estimate(self, scope: BackupScope) -> int | None:
        try:
            return sum(int(self._client()[db].command("dbStats").get("dataSize", 0)) for db in self._databases(scope))
        except mx.PyMongoError:
            return None

    def dump(self, scope: BackupScope, sink: Sink) -> BackupManifest:
        started = dt.datetime.now(dt.UTC)
        client = self._client()
        objects: list[ObjectCount] = []
        try:
            version = str(client.server_info().get("version", ""))
            for db in self._databases(scope):
                for info in self._collections(db, scope):
                    name = info["name"]
                    coll = (
                        client[db]
                        .get_collection(name)
                        .with_options(
                            codec_options=client[db].codec_options.with_options(document_class=RawBSONDocument)
                        )
                    )
                    count = 0
                    with sink.part(f"{db}/{_part_name(name)}.bson") as out:
                        for doc in coll.find({}, batch_size=BATCH, no_cursor_timeout=False).sort("_id", 1):
                            out.write(doc.raw)
                            count += 1
                    indexes = [dict(ix) for ix in client[db][name].list_indexes()]
                    meta = {
                        "options": info.get("options", {}),
                        "indexes": indexes,
                        "uuid": "",
                        "collectionName": name,
                        "type": "collection",
                    }
                    with sink.part(f"{db}/{_part_name(name)}.metadata.json") as out:
                        out.write(json_util.dumps(meta, json_options=json_util.CANONICAL_JSON_OPTIONS).encode())
                    objects.append(ObjectCount(f"{db}.{name}", "collection", count))
        except mx.PyMongoError as exc:
            raise EngineError(f"MongoDB said: {first_line(exc)}", kind="database") from None
        return BackupManifest(
            engine="mongodb",
            server_version=f"MongoDB {version}",
            method=self.method,
            tool="pymongo (raw BSON)",
            tool_version=__import__("pymongo").version,
            scope=scope,
            started_at=started,
            finished_at=dt.datetime.now(dt.UTC),
            objects=objects,
        )

    def drop_target(self, target: str) -> None:
        try:
            self._client().drop_database(target)
        except mx.PyMongoError:
            pass

    def restore(self, source: Source, manifest: BackupManifest, target: str, *, clean: bool = False) -> RestoreReport:
        started = time.monotonic()
        client = self._client()
        dbs = sorted({o.name.partition(".")[0] for o in manifest.objects})
        try:
            for obj in manifest.objects:
                db, _, name = obj.name.partition(".")
                into = client[target if target and len(dbs) == 1 else db]
                base = f"{db}/{_part_name(name)}"
                with source.part(f"{base}.metadata.json") as stream:
                    meta = json_util.loads(stream.read().decode())
                if clean:
                    into.drop_collection(name)
                options = {k: v for k, v in (meta.get("options") or {}).items() if k in ("capped", "size", "max")}
                into.create_collection(name, **options)
                coll = into[name]
                with source.part(f"{base}.bson") as stream:
                    batch: list[RawBSONDocument] = []
                    while head := stream.read(4):
                        size = int.from_bytes(head, "little")
                        body = stream.read(size - 4)
                        if len(body) != size - 4:
                            raise EngineError(f"The BSON stream of {obj.name} is truncated.", kind="database")
                        batch.append(RawBSONDocument(head + body))
                        if len(batch) >= BATCH:
                            coll.insert_many(batch, ordered=True)
                            batch = []
                    if batch:
                        coll.insert_many(batch, ordered=True)
                for ix in meta.get("indexes") or []:
                    if ix.get("name") == "_id_":
                        continue
                    keys = list(ix["key"].items())
                    extra = {k: v for k, v in ix.items() if k in INDEX_OPTIONS}
                    coll.create_index(keys, name=ix["name"], **extra)
        except (mx.PyMongoError, EngineError) as exc:
            message = exc.message if isinstance(exc, EngineError) else f"MongoDB said: {first_line(exc)}"
            return RestoreReport(False, target, (time.monotonic() - started) * 1000, error=message)
        return RestoreReport(True, target, (time.monotonic() - started) * 1000)

    def count(self, scope: BackupScope, target: str = "") -> list[ObjectCount]:
        client = self._client()
        try:
            if target:
                return [
                    ObjectCount(f"{target}.{n}", "collection", int(client[target][n].count_documents({})))
                    for n in sorted(client[target].list_collection_names())
                    if not n.startswith("system.")
                ]
            return [
                ObjectCount(f"{db}.{c['name']}", "collection", int(client[db][c["name"]].count_documents({})))
                for db in self._databases(scope)
                for c in self._collections(db, scope)
            ]
        except mx.PyMongoError as exc:
            raise EngineError(f"MongoDB said: {first_line(exc)}", kind="database") from None
