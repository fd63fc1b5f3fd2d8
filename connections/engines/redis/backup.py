"""Redis backups: an RDB snapshot through the replication protocol (SYNC) where the server allows it, else a
logical stream of DUMP payloads with their TTLs from SCAN (managed services often refuse SYNC). The manifest's
method says which ("rdb" or "dump-scan"), and its notes why.

Logical stream, one record per key: key length (4 bytes) | key | payload length (4) | DUMP payload |
PTTL (8, signed; -1 for none). Restores use RESTORE (REPLACE only with clean), stopping at the first error.
An RDB is restored by loading it into a private, socket-only redis-server in a temp folder and moving its keys
the same way, so any server (and any db index) can take it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import Any, BinaryIO

import redis

from connections.engines.base import EngineError, first_line
from connections.engines.capabilities import Backup, Sink, Source
from connections.engines.results import BackupManifest, BackupScope, ObjectCount, RestoreReport

LOGICAL = "keys.dump"
RDB = "dump.rdb"
BATCH = 500


def _resp(*parts: bytes) -> bytes:
    out = b"*%d\r\n" % len(parts)
    for p in parts:
        out += b"$%d\r\n%s\r\n" % (len(p), p)
    return out


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        piece = stream.read(n - len(data))
        if not piece:
            raise EngineError("The key stream is truncated.", kind="database")
        data += piece
    return bytes(data)


class RedisBackup(Backup):
    try_sync = True  # tests turn it off to take the logical path on a server that allows SYNC

    def _client(self, db: int | None = None) -> redis.Redis:
        p = self.adapter.params
        return redis.Redis(
            host=p.address or p.host,
            port=p.port or 6379,
            db=int(p.database or 0) if db is None else db,
            username=p.username or None,
            password=p.password or None,
            socket_connect_timeout=p.connect_timeout,
            socket_timeout=max(60.0, p.statement_timeout),
            ssl=p.tls_mode in ("require", "verify-full"),
            client_name="dbdeck-backup",
        )

    def _db(self, target: str = "") -> int:
        try:
            return int(target or self.adapter.params.database or 0)
        except ValueError:
            raise EngineError("A Redis target is a database index (0-15).", kind="config") from None

    # ---- RDB through SYNC ----------------------------------------------------------------
    def _sync(self, out: Any) -> None:
        p = self.adapter.params
        sock = socket.create_connection((p.address or p.host, p.port or 6379), timeout=max(60.0, p.statement_timeout))
        try:
            if p.password:
                auth = [p.username.encode(), p.password.encode()] if p.username else [p.password.encode()]
                sock.sendall(_resp(b"AUTH", *auth))
                line = _readline(sock)
                if not line.startswith(b"+"):
                    raise _Refused("AUTH failed for SYNC")
            sock.sendall(_resp(b"SYNC"))
            line = _readline(sock)
            while line == b"":  # keepalive newlines while the server writes the snapshot
                line = _readline(sock)
            if line.startswith(b"-"):
                raise _Refused(line[1:].decode(errors="replace"))
            if not line.startswith(b"$") or line.startswith(b"$EOF:"):
                raise _Refused("the server streams diskless EOF-marked snapshots")
            left = int(line[1:])
            while left:
                data = sock.recv(min(1 << 20, left))
                if not data:
                    raise EngineError("The server closed the SYNC stream mid-snapshot.", kind="unreachable")
                out.write(data)
                left -= len(data)
        finally:
            sock.close()

    # ---- logical DUMP + PTTL stream ---------------------------------------------------------
    def _keys(self, client: redis.Redis, scope: BackupScope) -> Iterator[bytes]:
        patterns = scope.patterns or ("*",)
        seen: set[bytes] = set()
        for pattern in patterns:
            for key in client.scan_iter(match=pattern, count=1000):
                if len(patterns) > 1:
                    if key in seen:
                        continue
                    seen.add(key)
                yield key

    def _write_logical(self, client: redis.Redis, keys: Iterator[bytes], out: Any) -> int:
        n = 0
        batch: list[bytes] = []

        def flush() -> None:
            pipe = client.pipeline(transaction=False)
            for k in batch:
                pipe.dump(k)
                pipe.pttl(k)
            answers = pipe.execute()
            for k, payload, ttl in zip(batch, answers[::2], answers[1::2], strict=True):
                if payload is None:  # expired or deleted since SCAN saw it
                    continue
                out.write(struct.pack(">I", len(k)) + k + struct.pack(">I", len(payload)) + payload)
                out.write(struct.pack(">q", ttl if ttl and ttl > 0 else -1))
            batch.clear()

        for key in keys:
            batch.append(key)
            n += 1
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
        return n

    def _counts(self, client: redis.Redis, scope: BackupScope, db: int) -> list[ObjectCount]:
        if scope.patterns:
            return [
                ObjectCount(f"db{db}:{p}", "key pattern", sum(1 for _ in client.scan_iter(match=p, count=1000)))
                for p in scope.patterns
            ]
        return [ObjectCount(f"db{db}", "keyspace", int(client.dbsize()))]

    def dump(self, scope: BackupScope, sink: Sink) -> BackupManifest:
        started = dt.datetime.now(dt.UTC)
        client = self._client()
        try:
            info = client.info("server")
            version = str(info.get("redis_version", ""))
            notes: dict[str, str] = {}
            if self.try_sync and scope.everything:
                keyspace = client.info("keyspace")
                objects = [
                    ObjectCount(f"db{name[2:]}", "keyspace", int(v.get("keys", 0)))
                    for name, v in keyspace.items()
                    if name.startswith("db")
                ]
                try:
                    with sink.part(RDB) as out:
                        self._sync(out)
                    return self._manifest(version, "rdb", scope, started, objects, {"via": "SYNC"})
                except _Refused as exc:
                    notes["fallback"] = f"SYNC refused ({exc}): logical DUMP stream from SCAN"
                except OSError as exc:
                    notes["fallback"] = f"SYNC failed ({exc.__class__.__name__}): logical DUMP stream from SCAN"
            elif not scope.everything:
                notes["reason"] = "key patterns chosen: logical DUMP stream"
            db = self._db()
            with sink.part(LOGICAL) as out:
                self._write_logical(client, self._keys(client, scope), out)
            objects = self._counts(client, scope, db)
            return self._manifest(version, "dump-scan", scope, started, objects, {**notes, "db": str(db)})
        except redis.RedisError as exc:
            raise EngineError(f"Redis said: {first_line(exc)}", kind="database") from None
        finally:
            client.close()

    def _manifest(
        self, version: str, method: str, scope: BackupScope, started: dt.datetime, objects: list, notes: dict
    ) -> BackupManifest:
        return BackupManifest(
            engine="redis",
            server_version=f"Redis {version}",
            method=method,
            tool="redis-py (SYNC)" if method == "rdb" else "redis-py (SCAN + DUMP)",
            tool_version=redis.__version__,
            scope=scope,
            started_at=started,
            finished_at=dt.datetime.now(dt.UTC),
            objects=objects,
            notes=notes,
        )

    # ---- restore -------------------------------------------------------------------------
    def _restore_records(self, client: redis.Redis, stream: BinaryIO, clean: bool) -> int:
        n = 0
        pipe = client.pipeline(transaction=False)
        pending = 0
        while True:
            head = stream.read(4)
            if not head:
                break
            key = _read_exact(stream, struct.unpack(">I", _read_exact_prefix(head, stream))[0])
            payload = _read_exact(stream, struct.unpack(">I", _read_exact(stream, 4))[0])
            (ttl,) = struct.unpack(">q", _read_exact(stream, 8))
            pipe.restore(key, max(0, ttl), payload, replace=clean)
            pending += 1
            n += 1
            if pending >= BATCH:
                pipe.execute(raise_on_error=True)
                pending = 0
        if pending:
            pipe.execute(raise_on_error=True)
        return n

    def restore(self, source: Source, manifest: BackupManifest, target: str, *, clean: bool = False) -> RestoreReport:
        started = time.monotonic()
        try:
            if manifest.method == "rdb":
                with source.part(RDB) as stream, _loaded(stream) as loaded:
                    for obj in manifest.objects:
                        db = int(obj.name[2:])
                        src = redis.Redis(unix_socket_path=loaded, db=db)
                        dst = self._client(db)
                        try:
                            buffer = _Pipe()
                            self._write_logical(src, src.scan_iter(count=1000), buffer)
                            buffer.seek(0)
                            self._restore_records(dst, buffer, clean)  # type: ignore[arg-type]
                        finally:
                            src.close()
                            dst.close()
            else:
                client = self._client(self._db(target))
                try:
                    with source.part(LOGICAL) as stream:
                        self._restore_records(client, stream, clean)
                finally:
                    client.close()
        except (redis.RedisError, EngineError) as exc:
            message = exc.message if isinstance(exc, EngineError) else f"Redis said: {first_line(exc)}"
            return RestoreReport(False, target, (time.monotonic() - started) * 1000, error=message)
        return RestoreReport(True, target, (time.monotonic() - started) * 1000)

    def count(self, scope: BackupScope, target: str = "") -> list[ObjectCount]:
        if scope.everything and not target:
            client = self._client()
            try:
                return [
                    ObjectCount(f"db{name[2:]}", "keyspace", int(v.get("keys", 0)))
                    for name, v in client.info("keyspace").items()
                    if name.startswith("db")
                ]
            finally:
                client.close()
        db = self._db(target)
        client = self._client(db)
        try:
            if scope.everything:  # every db the server holds, so an RDB's keyspaces compare too
                return [
                    ObjectCount(f"db{name[2:]}", "keyspace", int(v.get("keys", 0)))
                    for name, v in client.info("keyspace").items()
                    if name.startswith("db")
                ]
            return self._counts(client, scope, db)
        finally:
            client.close()


class _Refused(Exception):
    pass


class _Pipe:
    """A temp file used as a buffer between a loaded RDB and the target (one db at a time)."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()

    def write(self, data: bytes) -> None:
        self.file.write(data)

    def seek(self, n: int) -> None:
        self.file.seek(n)

    def read(self, n: int = -1) -> bytes:
        return self.file.read(n)


def _read_exact_prefix(head: bytes, stream: BinaryIO) -> bytes:
    return head if len(head) == 4 else head + _read_exact(stream, 4 - len(head))


def _readline(sock: socket.socket) -> bytes:
    data = bytearray()
    while not data.endswith(b"\r\n") and not data == b"\n":
        ch = sock.recv(1)
        if not ch:
            raise EngineError("The server closed the connection during SYNC.", kind="unreachable")
        data += ch
        if data == b"\n":
            return b""
    return bytes(data[:-2])


@contextlib.contextmanager
def _loaded(stream: BinaryIO) -> Iterator[str]:
    """A private, socket-only redis-server in a temp folder with the RDB loaded; yields its socket path."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(binary):
        raise EngineError("Restoring an RDB needs redis-server: install the Debian package redis-server.", "config")
    folder = tempfile.mkdtemp(prefix="dbdeck-rdb-")
    os.chmod(folder, 0o700)
    try:
        with open(os.path.join(folder, "dump.rdb"), "wb") as fh:
            shutil.copyfileobj(stream, fh, 1 << 20)
        sock = os.path.join(folder, "redis.sock")
        argv = [binary, "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700", "--dir", folder]
        argv += ["--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no", "--databases", "16"]
        with open(os.path.join(folder, "log"), "wb") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    said = open(os.path.join(folder, "log"), errors="replace").read()[-500:]  # noqa: SIM115
                    raise EngineError(f"redis-server could not load the RDB: {said}", kind="database")
                try:
                    client = redis.Redis(unix_socket_path=sock)
                    if client.info("persistence").get("loading") == 0:
                        client.close()
                        break
                except redis.RedisError:
                    pass
                if time.monotonic() > deadline:
                    raise EngineError("redis-server did not load the RDB within 60 s.", kind="timeout")
                time.sleep(0.1)
            yield sock
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
