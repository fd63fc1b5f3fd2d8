"""S3 backups: a snapshot of buckets or prefixes, every object streamed into the artifact, with a listing.

Parts: `objects/<n>` per object (numbered, so no key ever becomes a path) and `listing.jsonl` with, per
object, its bucket, key, size, ETag and SHA-256 (computed while it streams). Per prefix the manifest
records the object count and a checksum over the sorted (key, size, SHA-256) lines. A restore writes
every object under `<target>/<bucket>/<key>` in the connection's bucket (the sandbox's, for a
restore-test) and stops at the first error; a clean restore-test drops that prefix afterwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from botocore import exceptions as bx

from connections.engines.base import EngineError
from connections.engines.capabilities import Backup, Sink, Source
from connections.engines.results import BackupManifest, BackupScope, ObjectCount, RestoreReport

LISTING = "listing.jsonl"
CHUNK = 1 << 20


def _checksum(lines: list[tuple[str, int, str]]) -> str:
    digest = hashlib.sha256()
    for key, size, sha in sorted(lines):
        digest.update(f"{key}\t{size}\t{sha}\n".encode())
    return digest.hexdigest()


class S3Backup(Backup):
    method = "copy"
    sandbox = "connection"

    def _client(self) -> Any:
        return self.adapter._client()

    def _targets(self, scope: BackupScope) -> list[tuple[str, str]]:
        buckets = list(scope.namespaces) or ([self.adapter.params.database] if self.adapter.params.database else [])
        if not buckets:
            raise EngineError("Name the bucket to back up (the connection's bucket or the plan's scope).", "config")
        prefixes = list(scope.patterns) or [""]
        return [(b, p) for b in buckets for p in prefixes]

    def _list(self, client: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
        token: dict[str, str] = {}
        while True:
            page = client.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1000, **token)
            yield from page.get("Contents", [])
            if not page.get("IsTruncated"):
                return
            token = {"ContinuationToken": page["NextContinuationToken"]}

    def estimate(self, scope: BackupScope) -> int | None:
        return None  # a listing costs a full walk; the progress bar shows bytes without a total

    def dump(self, scope: BackupScope, sink: Sink) -> BackupManifest:
        started = dt.datetime.now(dt.UTC)
        client = self._client()
        objects: list[ObjectCount] = []
        n = 0
        try:
            with tempfile.TemporaryFile() as listing:
                for bucket, prefix in self._targets(scope):
                    lines: list[tuple[str, int, str]] = []
                    for obj in self._list(client, bucket, prefix):
                        n += 1
                        part = f"objects/{n:08d}"
                        digest = hashlib.sha256()
                        body = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"]
                        with sink.part(part) as out:
                            for chunk in body.iter_chunks(CHUNK):
                                digest.update(chunk)
                                out.write(chunk)
                        entry = {"bucket": bucket, "key": obj["Key"], "size": obj["Size"], "etag": obj["ETag"]}
                        entry |= {"sha256": digest.hexdigest(), "part": part}
                        listing.write((json.dumps(entry) + "\n").encode())
                        lines.append((obj["Key"][len(prefix) :], obj["Size"], digest.hexdigest()))
                    objects.append(ObjectCount(f"{bucket}/{prefix}", "prefix", len(lines), _checksum(lines)))
                listing.seek(0)
                with sink.part(LISTING) as out:
                    while chunk := listing.read(CHUNK):
                        out.write(chunk)
        except bx.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise EngineError(f"S3 refused the snapshot: {code}.", kind="database") from None
        except bx.BotoCoreError as exc:
            raise EngineError(f"S3 could not be read: {exc.__class__.__name__}.", kind="unreachable") from None
        return BackupManifest(
            engine="s3",
            server_version=f"S3 at {self.adapter.endpoint_url}",
            method=self.method,
            tool="boto3",
            tool_version=__import__("boto3").__version__,
            scope=scope,
            started_at=started,
            finished_at=dt.datetime.now(dt.UTC),
            objects=objects,
        )

    def _bucket(self) -> str:
        bucket = self.adapter.params.database
        if not bucket:
            raise EngineError(
                "Restoring needs a connection with a bucket: the objects go under a prefix in it.", "config"
            )
        return bucket

    def restore(self, source: Source, manifest: BackupManifest, target: str, *, clean: bool = False) -> RestoreReport:
        started = time.monotonic()
        client = self._client()
        try:
            into = self._bucket()
            with source.part(LISTING) as stream:
                entries = [json.loads(line) for line in stream.read().decode().splitlines() if line.strip()]
            for entry in entries:
                key = f"{target.strip('/')}/{entry['bucket']}/{entry['key']}" if target else entry["key"]
                with source.part(entry["part"]) as body:
                    client.upload_fileobj(body, into, key)
        except (bx.ClientError, bx.BotoCoreError) as exc:
            detail = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, bx.ClientError) else str(exc)
            return RestoreReport(False, target, (time.monotonic() - started) * 1000, error=f"S3 refused: {detail}")
        except EngineError as exc:
            return RestoreReport(False, target, (time.monotonic() - started) * 1000, error=exc.message)
        return RestoreReport(True, target, (time.monotonic() - started) * 1000)

    def _sha(self, client: Any, bucket: str, key: str) -> str:
        digest = hashlib.sha256()
        for chunk in client.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(CHUNK):
            digest.update(chunk)
        return digest.hexdigest()

    def count(self, scope: BackupScope, target: str = "") -> list[ObjectCount]:
        """Counts and checksums per prefix; under `target`, the restored copy (its objects read to hash them)."""
        client = self._client()
        prefixes = list(scope.patterns) or [""]
        if not target:
            out = []
            for bucket, prefix in self._targets(scope):
                lines = [
                    (o["Key"][len(prefix) :], o["Size"], self._sha(client, bucket, o["Key"]))
                    for o in self._list(client, bucket, prefix)
                ]
                out.append(ObjectCount(f"{bucket}/{prefix}", "prefix", len(lines), _checksum(lines)))
            return out
        into, base = self._bucket(), target.strip("/") + "/"
        grouped: dict[tuple[str, str], list[tuple[str, int, str]]] = {}
        for obj in self._list(client, into, base):
            bucket, _, key = obj["Key"][len(base) :].partition("/")
            for prefix in prefixes:
                if key.startswith(prefix):
                    line = (key[len(prefix) :], obj["Size"], self._sha(client, into, obj["Key"]))
                    grouped.setdefault((bucket, prefix), []).append(line)
        return [ObjectCount(f"{b}/{p}", "prefix", len(v), _checksum(v)) for (b, p), v in sorted(grouped.items())]

    def drop_target(self, target: str) -> None:
        client = self._client()
        bucket = self._bucket()
        keys = [{"Key": o["Key"]} for o in self._list(client, bucket, target.strip("/") + "/")]
        for i in range(0, len(keys), 1000):
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys[i : i + 1000], "Quiet": True})
