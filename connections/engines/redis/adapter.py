"""Redis through redis-py: check, a key tree from bounded SCAN, typed values, key edits."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import redis
from redis import exceptions as rx
from redis.backoff import NoBackoff
from redis.retry import Retry

from connections.engines.base import (
    Adapter,
    EngineError,
    ServerInfo,
    first_line,
    read_only_refusal,
    unreachable,
    wrong_credentials,
)
from connections.engines.browse import DETAIL_CELL_CAP, Cut, KeyValue, Listing, Namespace, ObjectInfo

SCAN_COUNT = 1000
SCAN_BUDGET = 10_000  # keys looked at per page, whatever the database size
PAGE_KEYS = 200  # keys shown per page before "scan more"
VALUE_PAGE = 100
MEMBER_CAP = 2_000


def escape_key(key: bytes) -> str:
    """Readable, reversible text for any key: backslash and undecodable or control bytes escaped."""
    out = []
    for char in key.decode("utf-8", "surrogateescape"):
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        else:
            out.append(char)
    return "".join(out)


def unescape_key(text: str) -> bytes:
    out = bytearray()
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and text[i + 1 : i + 2] == "\\":
            out += b"\\"
            i += 2
        elif char == "\\" and text[i + 1 : i + 2] == "x" and len(text) >= i + 4:
            try:
                out.append(int(text[i + 2 : i + 4], 16))
            except ValueError:
                raise EngineError("That key name has a broken \\x escape.", kind="config") from None
            i += 4
        else:
            out += char.encode("utf-8", "surrogateescape")
            i += 1
    return bytes(out)


def _glob_escape(raw: bytes) -> bytes:
    for special in (b"\\", b"*", b"?", b"[", b"]"):
        raw = raw.replace(special, b"\\" + special)
    return raw


def _text(value: Any) -> Any:
    """Stream fields show as JSON, so bytes become text (undecodable bytes escaped)."""
    if isinstance(value, Cut):
        value = value.value
    return escape_key(value) if isinstance(value, bytes) else value


def _cut(value: Any, cap: int) -> Any:
    if isinstance(value, bytes) and len(value) > cap:
        return Cut(value[:cap], len(value))
    return value


INT_CURSOR = re.compile(r"-?[0-9]{1,19}")


def _position(cursor: str | None) -> int:
    """A SCAN cursor or list offset from a link: ASCII digits within 64 bits, else the start."""
    return int(cursor) if cursor and INT_CURSOR.fullmatch(cursor) else 0


class RedisAdapter(Adapter):
    engine = "redis"
    display_name = "Redis"
    default_port = 6379
    uses_database = True
    browse_style = "keys"

    def __init__(self, params: Any) -> None:
        super().__init__(params)
        self._clients: dict[int, redis.Redis] = {}

    escape_key = staticmethod(escape_key)
    unescape_key = staticmethod(unescape_key)

    def _client(self, db: int | None = None) -> redis.Redis:
        p = self.params
        if db is None:
            db = int(p.database or 0)
        if db not in self._clients:
            tls = p.tls_mode in ("require", "verify-full")
            self._clients[db] = redis.Redis(
                host=p.address or p.host,
                port=p.port or self.default_port,
                db=db,
                username=p.username or None,
                password=p.password or None,
                socket_connect_timeout=p.connect_timeout,
                socket_timeout=p.statement_timeout,
                ssl=tls,
                ssl_cert_reqs="required" if p.tls_mode == "verify-full" else "none",
                client_name="dbdeck",
                retry=Retry(NoBackoff(), 0),
                decode_responses=False,
            )
        return self._clients[db]

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except rx.AuthenticationError:
            raise wrong_credentials(self.params) from None
        except rx.ResponseError as exc:
            text = first_line(exc)
            if "WRONGPASS" in text or "NOAUTH" in text or "invalid password" in text.lower():
                raise wrong_credentials(self.params) from None
            if "NOPERM" in text:
                raise EngineError(f"Permission denied by the server's ACL: {text}", kind="permission") from None
            if "DB index is out of range" in text:
                raise EngineError("That database index does not exist on this server.", kind="database") from None
            raise EngineError(f"Redis said: {text}", kind="config") from None
        except rx.TimeoutError:
            raise EngineError(f"Redis did not answer within {self.params.statement_timeout:g} s.", "timeout") from None
        except (rx.DataError, ValueError, OverflowError) as exc:
            # redis-py refuses a value before sending it (wrong type, out of range).
            raise EngineError(f"Redis cannot take that value: {first_line(exc, 160)}", kind="config") from None
        except rx.ConnectionError as exc:
            if "ssl" in str(exc).lower() or "tls" in str(exc).lower():
                raise EngineError("The TLS handshake failed: check the TLS setting.", kind="tls") from None
            raise unreachable(self.params) from None

    def _writable(self) -> None:
        # Redis has no read-only session; for viewers dbdeck itself sends only read commands.
        if self.params.extra.get("read_only"):
            raise read_only_refusal()

    def close(self) -> None:
        for client in self._clients.values():
            try:
                client.close()
            except rx.RedisError:
                pass
        self._clients = {}

    def check(self) -> ServerInfo:
        client = self._client()
        info = self._call(client.info, "server")
        started = time.perf_counter()
        self._call(client.ping)
        latency = (time.perf_counter() - started) * 1000
        name = "Valkey" if "valkey_version" in info else "Redis"
        return ServerInfo(
            version=f"{name} {info.get('valkey_version') or info.get('redis_version')}", latency_ms=latency
        )

    # ---- browsing ---------------------------------------------------------------------------
    def namespaces(self) -> list[Namespace]:
        keyspace = self._call(self._client().info, "keyspace")
        current = int(self.params.database or 0)
        dbs = {current: 0}
        for name, stats in keyspace.items():
            if str(name).startswith("db"):
                dbs[int(str(name)[2:])] = int(stats.get("keys", 0)) if isinstance(stats, dict) else 0
        return [Namespace(name=str(n), detail=f"{count:,} keys") for n, count in sorted(dbs.items())]

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
        client = self._client(db)
        raw_prefix, sep = unescape_key(prefix), separator.encode()
        match = pattern.encode() if pattern else _glob_escape(raw_prefix) + b"*"
        position = _position(cursor)
        groups: dict[bytes, int] = {}
        leaves: list[bytes] = []
        scanned = 0
        while True:
            position, keys = self._call(
                client.scan, cursor=position, match=match, count=SCAN_COUNT, _type=type_filter or None
            )
            scanned += SCAN_COUNT
            for key in keys:
                if not key.startswith(raw_prefix):
                    continue
                rest = key[len(raw_prefix) :]
                head, found, _ = rest.partition(sep)
                if found and head:
                    groups[head] = groups.get(head, 0) + 1
                else:
                    leaves.append(key)
            if position == 0 or scanned >= SCAN_BUDGET or len(leaves) + len(groups) >= PAGE_KEYS:
                break
        items = [
            ObjectInfo(
                name=escape_key(head) + separator,
                kind="prefix",
                estimated_rows=count,
                extra={"prefix": escape_key(raw_prefix + head + sep)},
            )
            for head, count in sorted(groups.items())
        ]
        items.extend(self._key_rows(client, sorted(leaves)[: PAGE_KEYS * 2], raw_prefix))
        return Listing(items=items, next_cursor=str(position) if position else None, scanned=scanned)

    def _key_rows(self, client: redis.Redis, keys: list[bytes], prefix: bytes) -> list[ObjectInfo]:
        if not keys:
            return []
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.type(key)
            pipe.ttl(key)
            pipe.memory_usage(key, samples=5)
        results = self._call(pipe.execute, raise_on_error=False)
        rows = []
        for i, key in enumerate(keys):
            kind, ttl, memory = results[3 * i : 3 * i + 3]
            rows.append(
                ObjectInfo(
                    name=escape_key(key[len(prefix) :]) or escape_key(key),
                    kind="key",
                    size_bytes=memory if isinstance(memory, int) else None,
                    detail=kind.decode() if isinstance(kind, bytes) else "",
                    extra={"key": escape_key(key), "ttl": ttl if isinstance(ttl, int) and ttl >= 0 else None},
                )
            )
        return rows

    def key_value(self, db: int, key: bytes, cursor: str | None = None, count: int = VALUE_PAGE) -> KeyValue | None:
        client = self._client(db)
        kind = self._call(client.type, key).decode()
        if kind == "none":
            return None
        ttl = self._call(client.ttl, key)
        try:
            memory = client.memory_usage(key, samples=5)
        except rx.RedisError:
            memory = None
        try:
            encoding = (client.object("encoding", key) or b"").decode()
        except rx.RedisError:
            encoding = ""
        position = _position(cursor)
        items: list[tuple[Any, Any]] = []
        length: int | None = None
        next_cursor: str | None = None
        if kind == "string":
            length = self._call(client.strlen, key)
            value = self._call(client.getrange, key, 0, DETAIL_CELL_CAP - 1)
            items = [("", Cut(value, length) if length > DETAIL_CELL_CAP else value)]
        elif kind == "hash":
            length = self._call(client.hlen, key)
            position, data = self._call(client.hscan, key, cursor=position, count=count)
            items = [(f, _cut(v, MEMBER_CAP)) for f, v in data.items()]
            next_cursor = str(position) if position else None
        elif kind == "list":
            length = self._call(client.llen, key)
            values = self._call(client.lrange, key, position, position + count - 1)
            items = [(position + i, _cut(v, MEMBER_CAP)) for i, v in enumerate(values)]
            next_cursor = str(position + count) if position + count < length else None
        elif kind == "set":
            length = self._call(client.scard, key)
            position, members = self._call(client.sscan, key, cursor=position, count=count)
            items = [(i, _cut(m, MEMBER_CAP)) for i, m in enumerate(members)]
            next_cursor = str(position) if position else None
        elif kind == "zset":
            length = self._call(client.zcard, key)
            position, members = self._call(client.zscan, key, cursor=position, count=count)
            items = [(score, _cut(m, MEMBER_CAP)) for m, score in members]
            next_cursor = str(position) if position else None
        elif kind == "stream":
            length = self._call(client.xlen, key)
            start = f"({cursor}" if cursor and not INT_CURSOR.fullmatch(cursor) else "-"
            entries = self._call(client.xrange, key, min=start, max="+", count=count)
            items = [
                (eid, {_text(k): _text(_cut(v, MEMBER_CAP)) for k, v in fields.items()}) for eid, fields in entries
            ]
            next_cursor = entries[-1][0].decode() if len(entries) == count else None
        elif kind == "ReJSON-RL":
            value = self._call(client.execute_command, "JSON.GET", key)
            items = [("", _cut(value, DETAIL_CELL_CAP))]
        else:
            items = [("", f"dbdeck does not display {kind} values yet.")]
        return KeyValue(
            key=key,
            type=kind,
            ttl=ttl if ttl >= 0 else None,
            length=length,
            memory=memory,
            items=items,
            next_cursor=next_cursor,
            encoding=encoding,
        )

    # ---- edits ---------------------------------------------------------------------------------
    def _summary(self, client: redis.Redis, key: bytes) -> dict[str, Any]:
        kind = self._call(client.type, key).decode()
        if kind == "string":
            return {"type": kind, "value": self._call(client.getrange, key, 0, 499)}
        return {"type": kind}

    def set_string(self, db: int, key: bytes, value: str, ttl: int | None = None) -> dict[str, Any]:
        self._writable()
        client = self._client(db)
        kind = self._call(client.type, key).decode()
        if kind not in ("string", "none"):
            raise EngineError(f"This key holds a {kind}; setting a string would replace it.", kind="config")
        before = self._call(client.getrange, key, 0, 499) if kind == "string" else None
        if ttl is not None and ttl <= 0:
            raise EngineError("A TTL must be a positive number of seconds.", kind="config")
        self._call(client.set, key, value.encode(), ex=ttl, keepttl=ttl is None and kind == "string")
        return {"before": before, "after": value}

    def rename_key(self, db: int, key: bytes, new_key: bytes) -> dict[str, Any]:
        self._writable()
        if not new_key:
            raise EngineError("Enter the new name.", kind="config")
        client = self._client(db)
        if not self._call(client.exists, key):
            raise EngineError("That key no longer exists.", kind="database")
        if not self._call(client.renamenx, key, new_key):
            raise EngineError("A key with the new name already exists; dbdeck never overwrites it.", kind="config")
        return {"before": escape_key(key), "after": escape_key(new_key)}

    def expire_key(self, db: int, key: bytes, ttl: int | None) -> dict[str, Any]:
        self._writable()
        client = self._client(db)
        before = self._call(client.ttl, key)
        if before == -2:
            raise EngineError("That key no longer exists.", kind="database")
        if ttl is None:
            self._call(client.persist, key)
        elif ttl <= 0:
            raise EngineError("A TTL must be a positive number of seconds; delete the key to remove it.", "config")
        else:
            self._call(client.expire, key, ttl)
        return {"before": None if before < 0 else before, "after": ttl}

    def delete_key(self, db: int, key: bytes) -> dict[str, Any]:
        self._writable()
        client = self._client(db)
        before = self._summary(client, key)
        if before["type"] == "none":
            raise EngineError("That key no longer exists.", kind="database")
        self._call(client.unlink, key)
        return before

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
        self._writable()
        client = self._client(db)
        f, v = field.encode(), value.encode()
        match action:
            case "hset":
                before = self._call(client.hget, key, f)
                self._call(client.hset, key, f, v)
            case "hdel":
                before = self._call(client.hget, key, f)
                self._call(client.hdel, key, f)
            case "lset":
                if index is None:
                    raise EngineError("Enter the index to set.", kind="config")
                before = self._call(client.lindex, key, index)
                self._call(client.lset, key, index, v)
            case "rpush":
                before = None
                self._call(client.rpush, key, v)
            case "lrem":
                before = value
                self._call(client.lrem, key, 1, v)
            case "sadd":
                before = None
                self._call(client.sadd, key, v)
            case "srem":
                before = value
                self._call(client.srem, key, v)
            case "zadd":
                if score is None:
                    raise EngineError("Enter a score.", kind="config")
                before = self._call(client.zscore, key, v)
                self._call(client.zadd, key, {v: score})
            case "zrem":
                before = self._call(client.zscore, key, v)
                self._call(client.zrem, key, v)
            case "xadd":
                try:
                    fields = json.loads(value)
                except ValueError:
                    fields = None
                if not isinstance(fields, dict) or not fields:
                    raise EngineError('Enter the entry as a JSON object, e.g. {"field": "value"}.', kind="config")
                before = None
                self._call(client.xadd, key, {str(k): str(val) for k, val in fields.items()})
            case "xdel":
                before = field
                self._call(client.xdel, key, f)
            case _:
                raise EngineError(f"Unknown change {action!r}.", kind="config")
        return {"change": action, "field": field, "before": before, "after": value}
